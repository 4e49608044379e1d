//! Query strings and bodies: a control character in any query parameter is `400
//! invalid_query`, and a NUL in a JSON string `400 invalid_body`, never a 500, on every
//! operation the OpenAPI document gives query parameters; and the document lists the errors
//! the extractors answer.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use serde_json::Value;

use crate::support::{TestApp, spawn, token};

/// An admin's access token (admin routes check the role before reading the query).
async fn admin_token(app: &TestApp) -> String {
    let signer = PrivateKeySigner::random();
    let signed_in = app.sign_in(&signer).await;
    PgAccessAdmin::new(app.db.db().clone(), Arc::new(app.clock.clone()))
        .grant_admin(&signer.address().to_string(), "test")
        .await
        .unwrap();
    token(&signed_in, "accessToken")
}

#[tokio::test]
async fn nul_bytes_in_free_text_filters_are_invalid_queries() {
    let app = spawn().await;
    let admin = admin_token(&app).await;
    for path in [
        "/api/v1/assets?venue=%00",
        "/api/v1/assets?venue=hyper%01liquid",
        "/api/v1/defillama/metrics?subject=%00",
        "/api/v1/defillama/metrics?metric=%00",
        "/api/v1/defillama/metrics?metric=tvl%0A",
        "/api/v1/ingestion/runs?source=%00",
        "/api/v1/ingestion/runs?%00=1",
    ] {
        let reply = app.get(path, Some(&admin)).await;
        reply.assert_problem(400, "invalid_query");
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{path}: {}",
            reply.body
        );
    }
    // Ordinary text still filters.
    for path in [
        "/api/v1/assets?venue=hyperliquid",
        "/api/v1/defillama/metrics?subject=protocol%3Aaave&metric=tvl",
        "/api/v1/ingestion/runs?source=replay",
    ] {
        assert_eq!(app.get(path, Some(&admin)).await.status, 200, "{path}");
    }
}

/// Every (path, parameter) of the document's query parameters, with path parameters filled.
fn query_parameters(document: &Value) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "query" {
                    let concrete = path
                        .replace("{key}", "replay%3Aperp%3ABTC-USD")
                        .replace("{id}", "00000000-0000-0000-0000-000000000000")
                        .replace("{runId}", "00000000-0000-0000-0000-000000000000");
                    found.push((
                        method.to_uppercase(),
                        concrete,
                        parameter["name"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn every_documented_query_parameter_refuses_control_characters() {
    let app = spawn().await;
    let admin = admin_token(&app).await;
    let document = app.get("/api/v1/openapi.json", None).await.body;
    let parameters = query_parameters(&document);
    // Every list route with filters or paging is among them.
    for list in [
        "/api/v1/assets",
        "/api/v1/ingestion/runs",
        "/api/v1/defillama/metrics",
        "/api/v1/polymarket/markets",
        "/api/v1/me/security-events",
        "/api/v1/admin/moderation/reports",
        "/api/v1/admin/prop/audit",
        "/api/v1/admin/lifecycle/refund-authorizations",
    ] {
        assert!(
            parameters.iter().any(|(_, path, _)| path == list),
            "{list} has no query parameters in the document"
        );
    }
    for (method, path, name) in &parameters {
        assert_eq!(method, "GET", "{path}");
        let reply = app.get(&format!("{path}?{name}=a%00b"), Some(&admin)).await;
        assert!(
            reply.status == 400 && reply.code() == "invalid_query",
            "{path}?{name}: {} {}",
            reply.status,
            reply.body
        );
    }
}

#[tokio::test]
async fn the_document_lists_the_extractors_errors_and_problem_shape() {
    let app = spawn().await;
    let document = app.get("/api/v1/openapi.json", None).await.body;
    let problem = "#/components/schemas/Problem";
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            if operation.get("requestBody").is_some() {
                assert_eq!(
                    responses["415"]["content"]["application/problem+json"]["schema"]["$ref"],
                    problem,
                    "{method} {path}"
                );
            }
            let has_query = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|parameter| parameter["in"] == "query");
            if has_query {
                assert!(responses.get("400").is_some(), "{method} {path}");
            }
        }
    }
    let schemas = &document["components"]["schemas"];
    // Field problems are one array shape, as `invalid_strategy_graph` sends them.
    let errors = &schemas["Problem"]["properties"]["errors"];
    assert_eq!(
        errors["type"],
        serde_json::json!(["array", "null"]),
        "{errors}"
    );
    assert_eq!(errors["items"]["$ref"], "#/components/schemas/FieldProblem");
    // Decision runs and ingestion runs each document their own statuses.
    let decision = schemas["DecisionRunStatus"]["enum"].to_string();
    assert!(
        decision.contains("decided") && decision.contains("skipped"),
        "{decision}"
    );
    let ingestion = schemas["IngestionRunStatus"]["enum"].to_string();
    assert!(ingestion.contains("succeeded"), "{ingestion}");
    assert!(schemas.get("RunStatus").is_none());
}

#[tokio::test]
async fn nul_escapes_in_json_bodies_are_not_internal_errors() {
    let app = spawn().await;
    let admin = admin_token(&app).await;
    let reply = app
        .post(
            "/api/v1/admin/service-tokens",
            &serde_json::json!({ "name": "a\u{0}b", "scopes": ["health:read"] }),
            Some(&admin),
        )
        .await;
    reply.assert_problem(400, "invalid_body");
    assert!(reply.body["detail"].as_str().unwrap().contains("NUL"));
    // Other escaped controls are text, as before.
    let reply = app
        .post(
            "/api/v1/admin/service-tokens",
            &serde_json::json!({ "name": "line\none", "scopes": ["health:read"] }),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}
