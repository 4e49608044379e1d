//! The OpenAI-compatible adapter against a stub on 127.0.0.1: what is sent, and what is
//! recorded for good, malformed, slow and failing answers.

use std::time::Duration;

use clones_ai_decision::{Adapter, Assignment, RunDetail, RunStatus};
use clones_clone_service::{ClonePatch, CloneService, Tier};

use crate::support::*;

const GOOD: &str = r#"{"actions":[{"task":"strategy","asset":"BTC","kind":"open_long","size":{"unit":"notional","amount":"1000"},"rationale":"momentum turned up"}]}"#;

/// A clone on Pro whose model is `gpt-4o-mini`, with the default strategy and an account.
async fn llm_assignment(fx: &Fixture) -> Assignment {
    let owner = fx.user().await;
    let clone_id = fx.clone(owner).await;
    fx.grant(clone_id, Tier::Pro).await;
    fx.clones
        .update_clone(
            owner,
            clone_id,
            ClonePatch {
                display_name: None,
                model: Some("gpt-4o-mini".into()),
            },
        )
        .await
        .unwrap();
    let account_id = fx.account(owner, clone_id).await;
    assignment(owner, clone_id, account_id)
}

async fn decide_with(stub: &Stub) -> (Fixture, Assignment, RunDetail) {
    let fx = fixture().await;
    fx.seed_market().await;
    let assignment = llm_assignment(&fx).await;
    let service = fx.service(Some(llm(&stub.url)));
    let outcome = service.decide(&assignment).await.unwrap();
    (fx, assignment, outcome.detail)
}

#[tokio::test]
async fn a_good_answer_is_validated_sized_executed_and_costed() {
    let stub = stub(|_, _| Reply::completion(GOOD)).await;
    let (fx, assignment, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::Decided);
    assert_eq!(detail.run.adapter, Adapter::Openai);
    assert_eq!(detail.run.model, "gpt-4o-mini");
    assert_eq!(detail.actions.len(), 1);
    let action = &detail.actions[0];
    assert_eq!(action.source, "strategy");
    assert_eq!(action.size, d("2"));
    assert_eq!(action.rationale.as_deref(), Some("momentum turned up"));
    assert!(action.execution.is_some());
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        1
    );

    let artifact = detail.artifact.unwrap();
    assert_eq!(artifact.prompt_tokens, Some(100));
    assert_eq!(artifact.completion_tokens, Some(20));
    // (100 × 0.15 + 20 × 0.6) / 1000.
    assert_eq!(artifact.cost, Some(d("0.027")));
    assert_eq!(artifact.raw_output.as_deref(), Some(GOOD));

    assert_eq!(stub.hits(), 1);
    let request = stub.requests.lock().unwrap()[0].clone();
    assert_eq!(request.target, "/v1/chat/completions");
    assert!(
        request
            .head
            .to_ascii_lowercase()
            .contains("authorization: bearer sk-test")
    );
    let body = request.json();
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(
        schema["properties"]["actions"]["items"]["properties"]["asset"]["enum"][0],
        "BTC"
    );
    let user: serde_json::Value =
        serde_json::from_str(body["messages"][1]["content"].as_str().unwrap()).unwrap();
    // The rule model's signal travels with the prompt.
    assert_eq!(user["strategySignals"][0]["node"], "enter_long");
    assert_eq!(
        artifact.prompt_hash,
        clones_ai_decision::model::sha256_hex(request.body.as_bytes())
    );
}

#[tokio::test]
async fn malformed_output_is_recorded_and_executes_nothing() {
    let stub = stub(|_, _| Reply::completion("I think you should buy BTC")).await;
    let (fx, assignment, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::InvalidOutput);
    assert_eq!(detail.run.reason_code.as_deref(), Some("invalid_json"));
    assert!(detail.actions.is_empty());
    assert_eq!(
        detail.artifact.unwrap().raw_output.as_deref(),
        Some("I think you should buy BTC")
    );
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn an_unknown_asset_or_an_oversized_order_is_invalid_output() {
    let stub = stub(|_, _| {
        Reply::completion(
            r#"{"actions":[{"task":"strategy","asset":"DOGE","kind":"open_long","size":{"unit":"notional","amount":"10"},"rationale":null}]}"#,
        )
    })
    .await;
    let (_, _, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.reason_code.as_deref(), Some("unknown_asset"));

    // 200 % of equity is above the bound.
    let stub2 = super::support::stub(|_, _| {
        Reply::completion(
            r#"{"actions":[{"task":"strategy","asset":"BTC","kind":"open_long","size":{"unit":"percent_equity","amount":"200"},"rationale":null}]}"#,
        )
    })
    .await;
    let (fx, assignment, detail) = decide_with(&stub2).await;
    assert_eq!(detail.run.status, RunStatus::InvalidOutput);
    assert_eq!(
        detail.run.reason_code.as_deref(),
        Some("size_out_of_bounds")
    );
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn a_slow_model_times_out_after_bounded_retries() {
    let stub = stub(|_, _| Reply::completion(GOOD).slow(Duration::from_secs(2))).await;
    let (fx, assignment, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::ModelError);
    assert_eq!(detail.run.reason_code.as_deref(), Some("model_timeout"));
    assert!(detail.actions.is_empty());
    // One attempt and two retries.
    assert_eq!(stub.hits(), 3);
    let artifact = detail.artifact.unwrap();
    assert!(artifact.raw_output.is_none());
    assert!(artifact.latency_ms >= 1200, "{}", artifact.latency_ms);
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_an_answer_arrives() {
    let stub = stub(|_, n| {
        if n < 2 {
            Reply::status(503)
        } else {
            Reply::completion(GOOD)
        }
    })
    .await;
    let (fx, assignment, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::Decided);
    assert_eq!(stub.hits(), 3);
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_as_long_as_the_endpoint_asks() {
    let stub = stub(|_, n| {
        if n == 0 {
            Reply::status(429).retry_after(1)
        } else {
            Reply::completion(GOOD)
        }
    })
    .await;
    let (_, _, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::Decided);
    assert_eq!(stub.hits(), 2);
    // The configured backoff is 10 ms; the endpoint asked for a second.
    let latency = detail.artifact.unwrap().latency_ms;
    assert!(latency >= 950, "waited only {latency} ms");
}

#[tokio::test]
async fn persistent_server_errors_are_a_model_error() {
    let stub = stub(|_, _| Reply::status(500)).await;
    let (fx, assignment, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::ModelError);
    assert_eq!(detail.run.reason_code.as_deref(), Some("model_http_error"));
    assert!(detail.run.reason_detail.unwrap().contains("HTTP 500"));
    assert_eq!(stub.hits(), 3);
    assert_eq!(
        detail.artifact.unwrap().raw_output.as_deref(),
        Some("{\"error\":\"stub\"}")
    );
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let stub = stub(|_, _| Reply::status(400)).await;
    let (_, _, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.reason_code.as_deref(), Some("model_http_error"));
    assert_eq!(stub.hits(), 1);
}

#[tokio::test]
async fn a_rule_model_clone_asks_the_model_named_by_its_instruction() {
    let stub = stub(|_, _| {
        Reply::completion(
            r#"{"actions":[{"task":"ask","asset":"BTC","kind":"open_long","size":{"unit":"percent_equity","amount":"1"},"rationale":"dip"}]}"#,
        )
    })
    .await;
    let fx = fixture().await;
    fx.seed_market().await;
    let owner = fx.user().await;
    let graph = serde_json::json!({
        "version": 1,
        "nodes": [
            {"id": "p", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
            {"id": "ask", "kind": "llm_instruction", "params": {
                "model": "gpt-4o-mini",
                "guidance": "Buy dips.",
                "allowed_actions": ["open_long", "close"],
                "assets": ["BTC"]
            }}
        ],
        "edges": [{"from": "p", "to": "ask", "input": "context"}]
    });
    let clone_id = fx.clone_with(owner, Tier::Pro, graph).await;
    let account_id = fx.account(owner, clone_id).await;
    let service = fx.service(Some(llm(&stub.url)));
    let detail = service
        .decide(&assignment(owner, clone_id, account_id))
        .await
        .unwrap()
        .detail;
    assert_eq!(detail.run.status, RunStatus::Decided);
    assert_eq!(detail.run.model, "gpt-4o-mini");
    assert_eq!(detail.actions[0].source, "ask");
    // 1 % of 100 000 at 500.
    assert_eq!(detail.actions[0].size, d("2"));
    let body = stub.requests.lock().unwrap()[0].json();
    let user: serde_json::Value =
        serde_json::from_str(body["messages"][1]["content"].as_str().unwrap()).unwrap();
    assert_eq!(user["tasks"][0]["id"], "ask");
    assert_eq!(user["tasks"][0]["guidance"], "Buy dips.");
    assert_eq!(user["tasks"][0]["context"][0]["label"], "p");
    assert_eq!(user["tasks"][0]["context"][0]["value"], "500");
}

#[tokio::test]
async fn proposals_on_one_asset_are_sized_from_the_position_the_earlier_ones_leave() {
    // Two targets of the same position: the second finds it reached and orders nothing; an
    // open after them adds to where the targets left the position, not to the start.
    const TWICE: &str = r#"{"actions":[
        {"task":"strategy","asset":"BTC","kind":"target_position","size":{"unit":"notional","amount":"1000"},"rationale":"hold"},
        {"task":"strategy","asset":"BTC","kind":"target_position","size":{"unit":"notional","amount":"1000"},"rationale":"still hold"},
        {"task":"strategy","asset":"BTC","kind":"close","size":null,"rationale":"then flat"}
    ]}"#;
    let stub = stub(|_, _| Reply::completion(TWICE)).await;
    let (fx, assignment, detail) = decide_with(&stub).await;
    assert_eq!(detail.run.status, RunStatus::Decided, "{detail:?}");
    let planned: Vec<(String, String)> = detail
        .actions
        .iter()
        .map(|action| {
            (
                format!("{:?}", action.side),
                action.size.normalize().to_string(),
            )
        })
        .collect();
    // Buy 2 to reach the target, nothing for the repeat, sell the 2 to close.
    assert_eq!(
        planned,
        [
            ("Buy".to_string(), "2".to_string()),
            ("Sell".to_string(), "2".to_string())
        ]
    );
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        2
    );
}
