//! Liveness, readiness, the OpenAPI document and the service-token-guarded worker health.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_runtime::{HeartbeatService, PgHeartbeatService};
use diesel::RunQueryDsl;

use crate::support::spawn;

#[tokio::test]
async fn healthz_and_readyz() {
    let app = spawn().await;
    let live = app.get("/healthz", None).await;
    assert_eq!((live.status, &live.body["status"]), (200, &"ok".into()));
    let ready = app.get("/readyz", None).await;
    assert_eq!(
        (ready.status, &ready.body["status"]),
        (200, &"ready".into())
    );

    // Forget the newest migration: the schema no longer matches this build.
    let mut owner = app.db.owner_connection().unwrap();
    diesel::sql_query(
        "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)",
    )
    .execute(&mut owner)
    .unwrap();
    app.get("/readyz", None)
        .await
        .assert_problem(503, "migrations_pending");
}

#[tokio::test]
async fn openapi_document_covers_every_route_with_schemas_and_auth() {
    let app = spawn().await;
    let reply = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(reply.status, 200);
    let document = &reply.body;
    assert_eq!(document["openapi"], "3.1.0");
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "GET /healthz",
        "GET /readyz",
        "GET /api/v1/openapi.json",
        "GET /api/v1/internal/health/workers",
        "GET /api/v1/me",
        "GET /api/v1/me/security-events",
        "POST /api/v1/auth/challenge",
        "POST /api/v1/auth/verify",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/auth/logout",
        "POST /api/v1/auth/logout-all",
        "POST /api/v1/auth/wallets/challenge",
        "POST /api/v1/auth/wallets",
        "GET /api/v1/admin/service-tokens",
        "POST /api/v1/admin/service-tokens",
        "DELETE /api/v1/admin/service-tokens/{id}",
        "GET /api/v1/clone/clones",
        "GET /api/v1/clone/clones/{id}",
        "PATCH /api/v1/clone/clones/{id}",
        "GET /api/v1/clone/clones/{id}/strategy/draft",
        "PUT /api/v1/clone/clones/{id}/strategy/draft",
        "POST /api/v1/clone/clones/{id}/strategy/publish",
        "POST /api/v1/clone/clones/{id}/decision-backtests",
        "GET /api/v1/clone/clones/{id}/decision-backtests",
        "GET /api/v1/clone/clones/{id}/decision-backtests/{jobId}",
        "POST /api/v1/clone/clones/{id}/decision-backtests/{jobId}/cancel",
        "GET /api/v1/clone/clones/{id}/decision-backtests/{jobId}/artifacts",
        "GET /api/v1/clone/clones/{id}/decision-backtests/{jobId}/artifacts/{kind}",
        "POST /api/v1/clone/clones/{id}/decision-backtest-preview",
        "GET /api/v1/clone/clones/{id}/deployment",
        "GET /api/v1/clone/clones/{id}/performance",
        "GET /api/v1/clone/clones/{id}/deployment/history",
        "POST /api/v1/clone/clones/{id}/deployment/initiate",
        "POST /api/v1/clone/clones/{id}/deployment/pool",
        "POST /api/v1/clone/clones/{id}/deployment/cancel",
        "POST /api/v1/clone/clones/{id}/deployment/retry",
        "POST /api/v1/clone/clones/{id}/deployment/transactions",
        "POST /api/v1/clone/clones/{id}/deployment/deactivate",
        "POST /api/v1/clone/clones/{id}/deployment/archive",
        "GET /api/v1/copy-trade/targets",
        "POST /api/v1/copy-trade/targets",
        "GET /api/v1/marketplace/strategies",
        "POST /api/v1/marketplace/strategies",
        "GET /api/v1/marketplace/strategies/{id}",
        "POST /api/v1/marketplace/strategies/{id}/adopt",
        "GET /api/v1/marketplace/royalties",
        "POST /api/v1/admin/marketplace/strategies/{id}/review",
        "PATCH /api/v1/copy-trade/targets/{id}",
        "DELETE /api/v1/copy-trade/targets/{id}",
        "GET /api/v1/copy-trade/grant",
        "PUT /api/v1/copy-trade/grant",
        "PUT /api/v1/copy-trade/kill-switch",
        "GET /api/v1/copy-trade/fills",
        "GET /api/v1/copy-trade/decisions",
        "GET /api/v1/copy-trade/sync-health",
        "POST /api/v1/copy-trade/clob-account",
        "GET /api/v1/copy-trade/clob-account",
        "GET /api/v1/clone/clones/{id}/strategy/versions",
        "GET /api/v1/clone/clones/{id}/entitlement",
        "GET /api/v1/clone/clones/{id}/trade-universe",
        "GET /api/v1/clones/{id}/decision-runs",
        "GET /api/v1/clones/{id}/decision-runs/{runId}",
        "POST /api/v1/clones/{id}/decision-dry-run",
        "GET /api/v1/lifecycle/rule-sets",
        "POST /api/v1/lifecycle/clones/{id}/audition-quote",
        "POST /api/v1/lifecycle/clones/{id}/auditions",
        "GET /api/v1/lifecycle/clones/{id}/auditions",
        "GET /api/v1/lifecycle/auditions/{id}",
        "POST /api/v1/lifecycle/auditions/{id}/retry",
        "GET /api/v1/lifecycle/clones/{id}/promotion",
        "GET /api/v1/lifecycle/clones/{id}/arena",
        "GET /api/v1/lifecycle/clones/{id}/state",
        "POST /api/v1/admin/lifecycle/auditions/{id}/void",
        "POST /api/v1/admin/lifecycle/auditions/{id}/refund-authorization",
        "GET /api/v1/admin/lifecycle/refund-authorizations",
        "PUT /api/v1/clone/clones/{id}/trade-universe",
        "GET /api/v1/clone/clones/{id}/public-profile",
        "PUT /api/v1/clone/clones/{id}/public-profile",
        "GET /api/v1/public/clones/{id}/profile",
        "POST /api/v1/public/clones/{id}/report",
        "GET /api/v1/admin/moderation/reports",
        "POST /api/v1/admin/moderation/reports/{id}/resolve",
        "POST /api/v1/admin/moderation/clones/{id}/retire",
        "POST /api/v1/admin/moderation/clones/{id}/reinstate",
        "GET /api/v1/admin/moderation/clones/{id}/history",
        "POST /api/v1/economy/quotes",
        "POST /api/v1/economy/deposits",
        "GET /api/v1/economy/deposits/{id}",
        "GET /api/v1/economy/purchases",
        "GET /api/v1/economy/creator-plan",
        "GET /api/v1/assets",
        "GET /api/v1/assets/{key}",
        "GET /api/v1/assets/{key}/candles",
        "GET /api/v1/assets/{key}/mid",
        "GET /api/v1/assets/{key}/book",
        "GET /api/v1/ingestion/runs",
        "GET /api/v1/ingestion/health",
        "GET /api/v1/polymarket/markets",
        "GET /api/v1/defillama/metrics",
        "GET /api/v1/prop/accounts",
        "GET /api/v1/prop/accounts/{id}",
        "GET /api/v1/prop/accounts/{id}/positions",
        "GET /api/v1/prop/accounts/{id}/orders",
        "GET /api/v1/prop/accounts/{id}/fills",
        "GET /api/v1/prop/accounts/{id}/ledger",
        "GET /api/v1/prop/accounts/{id}/equity",
        "POST /api/v1/admin/prop/accounts/{id}/halt",
        "POST /api/v1/admin/prop/accounts/{id}/resume",
        "POST /api/v1/admin/prop/accounts/{id}/adjustments",
        "GET /api/v1/admin/prop/audit",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(operations, expected);
    assert_eq!(
        document["paths"]["/api/v1/me"]["get"]["security"][0]["user_bearer"],
        serde_json::json!([])
    );
    assert_eq!(
        document["paths"]["/api/v1/internal/health/workers"]["get"]["security"][0]["service_bearer"],
        serde_json::json!([])
    );
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Problem",
        "ChallengeBody",
        "Challenge",
        "SignedIn",
        "TokenPair",
        "Me",
        "WorkersHealth",
        "CloneView",
        "DraftView",
        "VersionView",
        "EffectiveEntitlement",
        "ProfileView",
        "ReportPage",
        "SignedQuote",
        "DepositOutcome",
        "PurchaseView",
        "Instrument",
        "Candle",
        "BookSnapshot",
        "IngestionRun",
        "SourceHealth",
        "PredictionMarket",
        "DefiMetric",
        "AccountView",
        "RiskLimits",
        "PositionView",
        "OrderView",
        "FillView",
        "LedgerEventView",
        "EquityPoint",
        "AuditEntry",
        "PropReason",
        "PropAdjustment",
    ] {
        assert!(schemas.contains_key(schema), "missing schema {schema}");
    }
    // Every paged answer (one with `nextCursor`) documents `limit` and `cursor`.
    let mut paged = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let reference = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default();
        let name = reference.trim_start_matches("#/components/schemas/");
        if schemas
            .get(name)
            .is_none_or(|schema| schema["properties"].get("nextCursor").is_none())
        {
            continue;
        }
        let params: Vec<&str> = get["parameters"]
            .as_array()
            .map(|params| {
                params
                    .iter()
                    .filter(|param| param["in"] == "query")
                    .filter_map(|param| param["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            params.contains(&"limit") && params.contains(&"cursor"),
            "{path} answers a page but documents {params:?}"
        );
        paged.push(path.as_str());
    }
    assert!(
        paged.contains(&"/api/v1/lifecycle/clones/{id}/auditions"),
        "{paged:?}"
    );
    assert!(
        paged.contains(&"/api/v1/prop/accounts/{id}/orders"),
        "{paged:?}"
    );
    // The document served is the one `clonectl openapi` prints.
    assert_eq!(
        serde_json::to_value(clones_web::openapi::document()).unwrap(),
        *document
    );
}

#[tokio::test]
async fn worker_health_needs_a_live_service_token_with_the_scope() {
    let app = spawn().await;
    let clock = Arc::new(app.clock.clone());
    let access = PgAccessAdmin::new(app.db.db().clone(), clock.clone());
    let reader = access
        .mint_service_token("ops", &["health:read".into()], None)
        .await
        .unwrap();
    let other = access
        .mint_service_token("other", &["prop:write".into()], None)
        .await
        .unwrap();
    let heartbeats = PgHeartbeatService::new(app.db.db().clone(), clock);
    heartbeats
        .cycle_started("demo-worker", "instance-1", Duration::from_secs(60))
        .await
        .unwrap();
    heartbeats
        .cycle_finished(
            "demo-worker",
            Duration::from_millis(12),
            3,
            Some("boom".into()),
        )
        .await
        .unwrap();

    let path = "/api/v1/internal/health/workers";
    app.get(path, None)
        .await
        .assert_problem(401, "invalid_service_token");
    app.get(path, Some("cst_unknown"))
        .await
        .assert_problem(401, "invalid_service_token");
    app.get(path, Some(&other.token))
        .await
        .assert_problem(403, "missing_scope");
    let health = app.get(path, Some(&reader.token)).await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.body["healthy"], false);
    let worker = &health.body["workers"][0];
    assert_eq!(worker["worker"], "demo-worker");
    assert_eq!(worker["status"], "failed");
    assert_eq!(worker["consecutiveErrors"], 1);
    assert_eq!(worker["lastError"], "boom");
    assert_eq!(worker["stale"], false);

    app.clock.advance(chrono::Duration::minutes(4));
    let stale = app.get(path, Some(&reader.token)).await;
    assert_eq!(stale.body["workers"][0]["stale"], true);

    assert!(
        access
            .revoke_service_token(reader.identity.id)
            .await
            .unwrap()
    );
    app.get(path, Some(&reader.token))
        .await
        .assert_problem(401, "invalid_service_token");
}
