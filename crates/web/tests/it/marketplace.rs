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
