//! Copy-trade routes over HTTP: targets are added, listed, changed and removed by their owner
//! only; the grant and kill switch; the ledger, decisions and sync health answer as documented.

use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::clones::member;
use crate::support::{spawn, spawn_with};

#[tokio::test]
async fn targets_grant_and_kill_switch_belong_to_their_owner() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let target = json!({
        "wallet": "0x56687BF447DB6FFA42FFE2204A05EDAA20F55839",
        "label": "whale",
        "maxUsdcPerTrade": "25",
        "sizing": {"mode": "proportional", "ratio": "0.5"},
    });
    let added = app
        .post("/api/v1/copy-trade/targets", &target, Some(&alice.token))
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.body["wallet"],
        "0x56687bf447db6ffa42ffe2204a05edaa20f55839"
    );
    assert!(added.body["targetId"].is_string());
    let id = added.body["id"].as_str().unwrap().to_string();
    app.post("/api/v1/copy-trade/targets", &target, Some(&alice.token))
        .await
        .assert_problem(409, "copy_target_exists");
    app.post(
        "/api/v1/copy-trade/targets",
        &json!({"wallet": "0x12", "maxUsdcPerTrade": "25", "sizing": {"mode": "fixed", "usdc": "5"}}),
        Some(&alice.token),
    )
    .await
    .assert_problem(400, "invalid_input");
    app.post(
        "/api/v1/copy-trade/targets",
        &json!({"wallet": "0x56687bf447db6ffa42ffe2204a05edaa20f55839", "maxUsdcPerTrade": "1000", "sizing": {"mode": "fixed", "usdc": "5"}}),
        Some(&bob.token),
    )
    .await
    .assert_problem(400, "invalid_input");

    let listed = app
        .get("/api/v1/copy-trade/targets", Some(&alice.token))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let others = app
        .get("/api/v1/copy-trade/targets", Some(&bob.token))
        .await;
    assert_eq!(others.body["items"], json!([]));

    let paused = app
        .client
        .patch(app.url(&format!("/api/v1/copy-trade/targets/{id}")))
        .bearer_auth(&alice.token)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);
    let paused: Value = paused.json().await.unwrap();
    assert_eq!(paused["active"], false);
    app.delete(
        &format!("/api/v1/copy-trade/targets/{id}"),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "copy_target_not_found");

    app.get("/api/v1/copy-trade/grant", Some(&alice.token))
        .await
        .assert_problem(404, "copy_grant_not_found");
    let kill = app
        .client
        .put(app.url("/api/v1/copy-trade/kill-switch"))
        .bearer_auth(&alice.token)
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(kill.status(), 404);
    let grant = app
        .client
        .put(app.url("/api/v1/copy-trade/grant"))
        .bearer_auth(&alice.token)
        .json(&json!({"perOrderUsdcCap": "50", "dailyUsdcCap": "500", "hourlyFillsCap": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 200);
    let grant: Value = grant.json().await.unwrap();
    assert_eq!(grant["executor"], "paper");
    assert!(grant["paperAccountId"].is_string());
    assert_eq!(grant["killSwitch"], false);
    let kill = app
        .client
        .put(app.url("/api/v1/copy-trade/kill-switch"))
        .bearer_auth(&alice.token)
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    let kill: Value = kill.json().await.unwrap();
    assert_eq!(kill["killSwitch"], true);

    for path in ["fills", "decisions"] {
        let page = app
            .get(
                &format!("/api/v1/copy-trade/{path}?limit=10"),
                Some(&alice.token),
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["items"], json!([]));
    }
    let health = app
        .get("/api/v1/copy-trade/sync-health", Some(&alice.token))
        .await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["openOrders"], 0);
    assert_eq!(health.body["oldestUnconfirmedSecs"], Value::Null);
    assert_eq!(health.body["positions"], Value::Null);

    let removed = app
        .delete(
            &format!("/api/v1/copy-trade/targets/{id}"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(removed.status, 204);
}

#[tokio::test]
async fn a_clob_wallet_is_created_once_and_read_by_its_owner_only() {
    // A CLOB nobody listens on: the wallet is created, its credentials wait for first use.
    let app = spawn_with(&[
        "--secrets-master-key",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "--secrets-salt",
        "c2FsdHNhbHRzYWx0c2FsdA==",
        "--clob-url",
        "http://127.0.0.1:9",
        "--clob-timeout-ms",
        "300",
    ])
    .await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    app.get("/api/v1/copy-trade/clob-account", Some(&alice.token))
        .await
        .assert_problem(404, "copy_clob_account_not_found");
    let created = app
        .post(
            "/api/v1/copy-trade/clob-account",
            &json!({}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let address = created.body["address"].as_str().unwrap().to_string();
    assert!(
        address.starts_with("0x") && address.len() == 42,
        "{address}"
    );
    assert_eq!(created.body["credentialsReady"], false);
    assert!(created.body["createdAt"].is_string());
    let fields: Vec<&String> = created.body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["address", "createdAt", "credentialsReady"]);

    let again = app
        .post(
            "/api/v1/copy-trade/clob-account",
            &json!({}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, created.body);
    let read = app
        .get("/api/v1/copy-trade/clob-account", Some(&alice.token))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);

    app.get("/api/v1/copy-trade/clob-account", Some(&bob.token))
        .await
        .assert_problem(404, "copy_clob_account_not_found");
    app.get("/api/v1/copy-trade/clob-account", None)
        .await
        .assert_problem(401, "invalid_access_token");
}

#[tokio::test]
async fn creating_a_clob_wallet_without_a_keyring_is_unavailable() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    app.post(
        "/api/v1/copy-trade/clob-account",
        &json!({}),
        Some(&alice.token),
    )
    .await
    .assert_problem(503, "secrets_not_configured");
    app.get("/api/v1/copy-trade/clob-account", Some(&alice.token))
        .await
        .assert_problem(404, "copy_clob_account_not_found");
}
