//! Marketplace routes over HTTP: an upload answers 201 at `pending_review` and a bad graph 400
//! naming its nodes; others do not see it until it is reviewed; only administrators review, and
//! a refused transition is 409.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use serde_json::json;

use crate::clones::member;
use crate::support::spawn;

fn graph() -> serde_json::Value {
    json!({
        "version": 1,
        "nodes": [
            { "id": "close", "kind": "price", "params": { "asset": "BTC", "timeframe": "1d", "field": "close" } },
            { "id": "rsi", "kind": "rsi", "params": { "period": 14 } },
            { "id": "low", "kind": "crosses_above", "params": { "threshold": "30" } },
            { "id": "buy", "kind": "open_long", "params": { "asset": "BTC", "size": { "percent_equity": "50" } } }
        ],
        "edges": [
            { "from": "close", "to": "rsi", "input": "source" },
            { "from": "rsi", "to": "low", "input": "left" },
            { "from": "low", "to": "buy", "input": "when" }
        ]
    })
}

#[tokio::test]
async fn uploads_reads_and_reviews_answer_as_documented() {
    let app = spawn().await;
    let creator = member(&app, &PrivateKeySigner::random()).await;
    let other = member(&app, &PrivateKeySigner::random()).await;
    let admin_signer = PrivateKeySigner::random();
    let admin = member(&app, &admin_signer).await;
    PgAccessAdmin::new(app.db.db().clone(), Arc::new(app.clock.clone()))
        .grant_admin(&admin_signer.address().to_string(), "test")
        .await
        .unwrap();

    let made = app
        .post(
            "/api/v1/marketplace/strategies",
            &json!({"name": "rsi dip", "description": "buys oversold bounces", "graph": graph()}),
            Some(&creator.token),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["status"], "pending_review");
    assert_eq!(made.body["uploaderId"], creator.id.to_string());
    let id = made.body["id"].as_str().unwrap().to_string();

    let mut broken = graph();
    broken["nodes"][1]["params"]["period"] = json!(0);
    let refused = app
        .post(
            "/api/v1/marketplace/strategies",
            &json!({"name": "broken", "graph": broken}),
            Some(&creator.token),
        )
        .await;
    refused.assert_problem(400, "invalid_strategy_graph");
    assert!(
        refused.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|problem| problem["node"] == "rsi")
    );

    let path = format!("/api/v1/marketplace/strategies/{id}");
    assert_eq!(app.get(&path, Some(&creator.token)).await.status, 200);
    app.get(&path, Some(&other.token))
        .await
        .assert_problem(404, "strategy_not_found");
    let mine = app
        .get(
            "/api/v1/marketplace/strategies?mine=true&status=pending_review",
            Some(&creator.token),
        )
        .await;
    assert_eq!(
        mine.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        mine.body
    );
    assert_eq!(
        app.get("/api/v1/marketplace/strategies", Some(&other.token))
            .await
            .body["items"],
        json!([])
    );

    let review = format!("/api/v1/admin/marketplace/strategies/{id}/review");
    app.post(
        &review,
        &json!({"action": "reject", "reason": "no"}),
        Some(&creator.token),
    )
    .await
    .assert_problem(403, "admin_required");
    let rejected = app
        .post(
            &review,
            &json!({"action": "reject", "reason": "copied"}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.body["status"], "rejected");
    app.post(
        &review,
        &json!({"action": "discard", "reason": "again"}),
        Some(&admin.token),
    )
    .await
    .assert_problem(409, "invalid_strategy_transition");
}

#[tokio::test]
async fn adoption_the_royalty_statement_and_the_score_order_answer_as_documented() {
    use diesel::RunQueryDsl;
    let app = spawn().await;
    let creator = member(&app, &PrivateKeySigner::random()).await;
    let adopter = member(&app, &PrivateKeySigner::random()).await;
    let clone_id = crate::clones::paid_clone(&app, adopter.id).await;
    let strangers = crate::clones::paid_clone(&app, creator.id).await;
    let mut ids = Vec::new();
    for (name, period) in [("low", 10), ("high", 12), ("unscored", 16)] {
        let mut made_graph = graph();
        made_graph["nodes"][1]["params"]["period"] = json!(period);
        let made = app
            .post(
                "/api/v1/marketplace/strategies",
                &json!({"name": name, "graph": made_graph}),
                Some(&creator.token),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        ids.push(made.body["id"].as_str().unwrap().to_string());
    }
    let adopt = |id: &str| format!("/api/v1/marketplace/strategies/{id}/adopt");

    // Still pending review: the creator's own clone cannot adopt it yet.
    app.post(
        &adopt(&ids[1]),
        &json!({"cloneId": strangers}),
        Some(&creator.token),
    )
    .await
    .assert_problem(409, "strategy_not_proposable");
    // The pipeline's promotions take many backtests; the test sets the outcome.
    let mut owner = app.db.owner_connection().unwrap();
    for (id, status, score) in [
        (&ids[0], "experiment", "0.5"),
        (&ids[1], "proposable", "1.5"),
        (&ids[2], "experiment", "NULL"),
    ] {
        diesel::sql_query(format!(
            "UPDATE user_strategies SET status = '{status}', score = {score} WHERE id = '{id}'"
        ))
        .execute(&mut owner)
        .unwrap();
    }
    app.post(
        &adopt(&ids[0]),
        &json!({"cloneId": clone_id}),
        Some(&adopter.token),
    )
    .await
    .assert_problem(409, "strategy_not_proposable");
    app.post(
        &adopt(&ids[1]),
        &json!({"cloneId": strangers}),
        Some(&adopter.token),
    )
    .await
    .assert_problem(404, "clone_not_found");
    app.post(
        &adopt(&uuid::Uuid::new_v4().to_string()),
        &json!({"cloneId": clone_id}),
        Some(&adopter.token),
    )
    .await
    .assert_problem(404, "strategy_not_found");
    app.post(
        &adopt(&ids[1]),
        &json!({"cloneId": clone_id, "x": 1}),
        Some(&adopter.token),
    )
    .await
    .assert_problem(400, "invalid_body");
    let adopted = app
        .post(
            &adopt(&ids[1]),
            &json!({"cloneId": clone_id}),
            Some(&adopter.token),
        )
        .await;
    assert_eq!(adopted.status, 200, "{}", adopted.body);
    assert_eq!(adopted.body["marketplaceStrategyId"], ids[1].as_str());
    assert_eq!(adopted.body["isDefault"], false);
    let draft = app
        .get(
            &format!("/api/v1/clone/clones/{clone_id}/strategy/draft"),
            Some(&adopter.token),
        )
        .await;
    assert_eq!(draft.body["marketplaceStrategyId"], ids[1].as_str());
    let published = app
        .post(
            &format!("/api/v1/clone/clones/{clone_id}/strategy/publish"),
            &json!({}),
            Some(&adopter.token),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    assert_eq!(published.body["marketplaceStrategyId"], ids[1].as_str());

    // Highest score first, unscored last, two at a time.
    let first = app
        .get(
            "/api/v1/marketplace/strategies?sort=score&limit=2",
            Some(&adopter.token),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let names = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first.body), ["high", "low"]);
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/marketplace/strategies?sort=score&limit=2&cursor={cursor}"),
            Some(&adopter.token),
        )
        .await;
    assert_eq!(names(&rest.body), ["unscored"]);
    assert!(rest.body["nextCursor"].is_null());
    app.get(
        "/api/v1/marketplace/strategies?sort=best",
        Some(&adopter.token),
    )
    .await
    .assert_problem(400, "invalid_query");

    // Nothing booked yet: an empty statement; the route needs a token and a valid page.
    let statement = app
        .get("/api/v1/marketplace/royalties", Some(&creator.token))
        .await;
    assert_eq!(statement.status, 200, "{}", statement.body);
    assert_eq!(
        statement.body,
        json!({"items": [], "nextCursor": null, "totals": []})
    );
    assert_eq!(
        app.get("/api/v1/marketplace/royalties", None).await.status,
        401
    );
    app.get(
        "/api/v1/marketplace/royalties?cursor=garbage",
        Some(&creator.token),
    )
    .await
    .assert_problem(400, "invalid_page");
    let plan = app
        .get("/api/v1/economy/creator-plan", Some(&creator.token))
        .await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(
        plan.body,
        json!({"plan": "starter", "feePercent": "7.00", "purchaseId": null, "since": null})
    );
}

/// A clone's performance: its owner reads each audition and Arena account's returns gross and
/// net of fees and royalties; another user gets 404 and no token 401.
#[tokio::test]
async fn a_clone_owner_reads_its_returns_gross_and_net() {
    use clones_prop_engine::{AccountContext, OpenAccount};
    use clones_wiring::{ServiceSettings, Services};

    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let clone = crate::clones::paid_clone(&app, alice.id).await;
    let path = format!("/api/v1/clone/clones/{clone}/performance");

    let empty = app.get(&path, Some(&alice.token)).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body["cloneId"], clone.to_string());
    assert_eq!(empty.body["accounts"], json!([]));

    let services = Services::new(
        app.db.db().clone(),
        Arc::new(app.clock.clone()),
        ServiceSettings::default(),
    );
    let account = services
        .prop
        .open_account(
            alice.id,
            OpenAccount {
                account_id: None,
                clone_id: Some(clone),
                context: AccountContext::Arena,
                quote_currency: "USDC".into(),
                starting_balance: "100000".parse().unwrap(),
                limits: None,
            },
        )
        .await
        .unwrap();
    let read = app.get(&path, Some(&alice.token)).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let returns = &read.body["accounts"][0];
    assert_eq!(returns["accountId"], account.id.to_string());
    assert_eq!(returns["context"], "arena");
    assert_eq!(returns["feesPaid"], "0");
    assert_eq!(returns["royaltiesPaid"], "0");
    assert_eq!(returns["grossReturn"], "0");
    assert_eq!(returns["netReturn"], "0");

    app.get(&path, Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");
    assert_eq!(app.get(&path, None).await.status, 401);
}
