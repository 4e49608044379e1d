//! Bad input never becomes a 500, and every error is problem+json with a request id.

use diesel::RunQueryDsl;
use serde_json::json;

use crate::support::{Reply, spawn, spawn_with};

async fn raw_post(
    app: &crate::support::TestApp,
    path: &str,
    content_type: &str,
    body: String,
) -> Reply {
    let response = app
        .client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or_default();
    Reply {
        status,
        body,
        headers,
    }
}

#[tokio::test]
async fn malformed_bodies_get_clear_client_errors() {
    let app = spawn().await;
    let path = "/api/v1/auth/challenge";
    raw_post(&app, path, "application/json", "{not json".into())
        .await
        .assert_problem(400, "malformed_json");
    raw_post(
        &app,
        path,
        "application/json",
        r#"{"address": 12, "chainId": 1}"#.into(),
    )
    .await
    .assert_problem(400, "invalid_body");
    raw_post(
        &app,
        path,
        "application/json",
        r#"{"address": "0x00", "chainId": -1}"#.into(),
    )
    .await
    .assert_problem(400, "invalid_body");
    let unknown = raw_post(
        &app,
        path,
        "application/json",
        r#"{"address": "0x00", "chainId": 1, "admin": true}"#.into(),
    )
    .await;
    unknown.assert_problem(400, "invalid_body");
    assert!(
        unknown.body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field `admin`")
    );
    raw_post(&app, path, "application/json", r#"{"chainId": 1}"#.into())
        .await
        .assert_problem(400, "invalid_body");
    raw_post(&app, path, "text/plain", "hello".into())
        .await
        .assert_problem(415, "unsupported_media_type");
    let huge = json!({ "address": "x".repeat(70_000), "chainId": 1 }).to_string();
    raw_post(&app, path, "application/json", huge)
        .await
        .assert_problem(413, "payload_too_large");
    let query = app.get("/api/v1/me/security-events?limit=lots", None).await;
    // Authentication is checked first; with a bad token the query never matters.
    query.assert_problem(401, "invalid_access_token");
}

#[tokio::test]
async fn unknown_routes_are_problem_404_and_request_ids_round_trip() {
    let app = spawn().await;
    app.get("/api/v1/nope", None)
        .await
        .assert_problem(404, "route_not_found");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok());
}

#[tokio::test]
async fn internal_errors_hide_their_details() {
    let app = spawn().await;
    let signed_in = app
        .sign_in(&alloy::signers::local::PrivateKeySigner::random())
        .await;
    let access = signed_in["accessToken"].as_str().unwrap().to_string();
    let mut owner = app.db.owner_connection().unwrap();
    diesel::sql_query("ALTER TABLE user_roles RENAME TO user_roles_gone")
        .execute(&mut owner)
        .unwrap();
    let reply = app.get("/api/v1/me", Some(&access)).await;
    reply.assert_problem(500, "internal");
    assert_eq!(reply.body["detail"], "an internal error occurred");
    assert!(!reply.body.to_string().contains("user_roles"));
}

#[tokio::test]
async fn auth_routes_are_rate_limited_per_ip_with_retry_after() {
    let app = spawn_with(&[
        "--auth-rate-limit-burst",
        "3",
        "--auth-rate-limit-per-minute",
        "6",
    ])
    .await;
    let body = json!({ "address": "0x0000000000000000000000000000000000000001", "chainId": 31337 });
    for _ in 0..3 {
        assert_eq!(
            app.post("/api/v1/auth/challenge", &body, None).await.status,
            200
        );
    }
    let limited = app.post("/api/v1/auth/challenge", &body, None).await;
    limited.assert_problem(429, "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "retry-after {retry_after}");
    // Routes outside /auth are not limited.
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_with(&["--cors-allowed-origins", "https://app.example"]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(refused.status().is_client_error());
}

#[tokio::test]
async fn forwarded_client_addresses_count_only_from_trusted_proxies() {
    let body = json!({ "address": "0x0000000000000000000000000000000000000001", "chainId": 31337 });
    let from = |app: &crate::support::TestApp, client: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/challenge"))
            .header("x-forwarded-for", client)
            .json(&body)
            .send()
    };
    let limits = [
        "--auth-rate-limit-burst",
        "1",
        "--auth-rate-limit-per-minute",
        "1",
    ];

    let mut untrusted_flags = limits.to_vec();
    untrusted_flags.extend(["--trusted-proxies", "10.0.0.0/8"]);
    let untrusted = spawn_with(&untrusted_flags).await;
    assert_eq!(from(&untrusted, "203.0.113.1").await.unwrap().status(), 200);
    // The peer (127.0.0.1) is no trusted proxy: a made-up header does not buy a fresh budget.
    assert_eq!(from(&untrusted, "203.0.113.2").await.unwrap().status(), 429);

    let mut trusted_flags = limits.to_vec();
    trusted_flags.extend(["--trusted-proxies", "10.0.0.0/8,127.0.0.1"]);
    let trusted = spawn_with(&trusted_flags).await;
    assert_eq!(from(&trusted, "203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(from(&trusted, "203.0.113.2").await.unwrap().status(), 200);
    // The rightmost untrusted hop counts, whatever the client wrote before it.
    assert_eq!(
        from(&trusted, "198.51.100.9, 203.0.113.1")
            .await
            .unwrap()
            .status(),
        429
    );
    assert_eq!(
        from(&trusted, "203.0.113.3, 10.1.2.3")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        from(&trusted, "203.0.113.3, 10.9.9.9")
            .await
            .unwrap()
            .status(),
        429
    );
}

#[test]
fn settings_refuse_long_lived_access_tokens_and_bad_keys() {
    let parse = |extra: &[&str]| crate::support::settings(extra).auth.to_settings();
    assert!(parse(&[]).is_ok());
    assert!(parse(&["--access-token-ttl-secs", "86400"]).is_err());
    assert!(parse(&["--access-token-ttl-secs", "0"]).is_err());
    let error = parse(&["--jwt-signing-keys", "k1:c2hvcnQ"])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("JWT_SIGNING_KEYS") && !error.contains("c2hvcnQ"),
        "{error}"
    );
    assert!(parse(&["--chain-rpc-urls", "not-a-pair"]).is_err());
    let proxies = |value: &str| {
        clap::Parser::try_parse_from([
            "api",
            "--database-url",
            "x",
            "--jwt-signing-keys",
            "k",
            "--trusted-proxies",
            value,
        ])
        .map(|settings: clones_web::settings::ApiSettings| settings.http.trusted_proxies.len())
    };
    assert_eq!(proxies("10.0.0.0/8,::1").unwrap(), 2);
    assert!(proxies("10.0.0.0/40").is_err());
}
