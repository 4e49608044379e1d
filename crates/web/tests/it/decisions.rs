//! Decision routes over HTTP: dry runs record a run and execute nothing, runs are listed and
//! read by their owner only, and bad paging is refused.

use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;

use crate::clones::{member, paid_clone};
use crate::support::spawn;

#[tokio::test]
async fn dry_runs_are_recorded_and_readable_by_their_owner_only() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    let base = format!("/api/v1/clones/{clone}");

    // Without a published strategy the run is recorded as skipped, with its reason.
    let skipped = app
        .post(
            &format!("{base}/decision-dry-run"),
            &Value::Null,
            Some(&alice.token),
        )
        .await;
    assert_eq!(skipped.status, 201, "{}", skipped.body);
    assert_eq!(skipped.body["run"]["context"], "dry_run");
    assert_eq!(skipped.body["run"]["status"], "skipped");
    assert_eq!(skipped.body["actions"], serde_json::json!([]));

    // Published, but market memory is empty: the strategy waits for data and proposes nothing.
    let published = app
        .post(
            &format!("/api/v1/clone/clones/{clone}/strategy/publish"),
            &Value::Null,
            Some(&alice.token),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    app.clock.advance(chrono::Duration::seconds(1));
    let idle = app
        .post(
            &format!("{base}/decision-dry-run"),
            &Value::Null,
            Some(&alice.token),
        )
        .await;
    assert_eq!(idle.status, 201, "{}", idle.body);
    assert_eq!(idle.body["run"]["status"], "idle");
    assert!(
        idle.body["artifact"]["inputPacket"].is_object(),
        "{}",
        idle.body
    );

    let listed = app
        .get(&format!("{base}/decision-runs?limit=1"), Some(&alice.token))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], idle.body["run"]["id"]);
    let cursor = listed.body["nextCursor"].as_str().unwrap().to_string();
    let older = app
        .get(
            &format!("{base}/decision-runs?limit=1&cursor={cursor}"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(older.status, 200, "{}", older.body);
    assert_eq!(older.body["items"][0]["id"], skipped.body["run"]["id"]);

    let run_id = idle.body["run"]["id"].as_str().unwrap();
    let read = app
        .get(
            &format!("{base}/decision-runs/{run_id}"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, idle.body);

    // Someone else's clone and run are not found; so is a run of another clone.
    app.get(&format!("{base}/decision-runs"), Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");
    app.get(&format!("{base}/decision-runs/{run_id}"), Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");
    app.post(
        &format!("{base}/decision-dry-run"),
        &Value::Null,
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "clone_not_found");
    let other = paid_clone(&app, alice.id).await;
    app.get(
        &format!("/api/v1/clones/{other}/decision-runs/{run_id}"),
        Some(&alice.token),
    )
    .await
    .assert_problem(404, "decision_run_not_found");

    // Bad paging changes nothing and says why.
    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("cursor=not-a-cursor", "invalid_page"),
        ("page=2", "invalid_query"),
    ] {
        app.get(&format!("{base}/decision-runs?{query}"), Some(&alice.token))
            .await
            .assert_problem(400, code);
    }
    app.get(&format!("{base}/decision-runs"), None)
        .await
        .assert_problem(401, "invalid_access_token");
}

#[tokio::test]
async fn unusable_language_model_settings_stop_the_api_at_start() {
    clones_runtime::install_tls_provider();
    let db = tokio::task::spawn_blocking(clones_test_db::TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = std::sync::Arc::new(clones_kernel::FixedClock::at(chrono::Utc::now()));
    for extra in [
        [
            "--llm-base-url",
            "http://127.0.0.1:9/v1",
            "--llm-prices",
            "gpt=cheap",
        ],
        [
            "--llm-base-url",
            "http://127.0.0.1:9/v1",
            "--llm-timeout-ms",
            "0",
        ],
    ] {
        let settings = crate::support::settings(&extra);
        let error = clones_web::AppState::new(&settings, db.db().clone(), clock.clone())
            .err()
            .unwrap();
        assert!(
            error.to_string().starts_with("invalid setting llm"),
            "{error}"
        );
    }
    // A well-formed endpoint is accepted (it is only called by dry runs that need it).
    let settings = crate::support::settings(&[
        "--llm-base-url",
        "http://127.0.0.1:9/v1",
        "--llm-prices",
        "gpt-4o-mini=0.15/0.6",
    ]);
    assert!(clones_web::AppState::new(&settings, db.db().clone(), clock).is_ok());
}

#[tokio::test]
async fn dry_runs_are_limited_per_user() {
    let app = crate::support::spawn_with(&[
        "--dry-run-rate-limit-burst",
        "2",
        "--dry-run-rate-limit-per-minute",
        "1",
    ])
    .await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let alices = paid_clone(&app, alice.id).await;
    let bobs = paid_clone(&app, bob.id).await;
    let dry_run = |clone| format!("/api/v1/clones/{clone}/decision-dry-run");
    for _ in 0..2 {
        let reply = app
            .post(&dry_run(alices), &Value::Null, Some(&alice.token))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let refused = app
        .post(&dry_run(alices), &Value::Null, Some(&alice.token))
        .await;
    refused.assert_problem(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    // The refusal recorded nothing, and another user has a budget of their own.
    let listed = app
        .get(
            &format!("/api/v1/clones/{alices}/decision-runs"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let reply = app
        .post(&dry_run(bobs), &Value::Null, Some(&bob.token))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}
