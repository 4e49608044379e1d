//! The API's metrics: requests are counted and timed by route template on the separate
//! metrics listener, read back with the strict text-format parser; the public listener has no
//! `/metrics`.

use clones_runtime::prometheus::exposition::{self, Family, Scrape};
use serde_json::json;

use crate::support::spawn_with;

async fn scrape(client: &reqwest::Client, address: std::net::SocketAddr) -> Scrape {
    let response = client
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    exposition::parse(&body)
        .map_err(|error| format!("{error}\n{body}"))
        .unwrap()
}

fn family<'a>(scrape: &'a Scrape, name: &str, kind: &str) -> &'a Family {
    let family = scrape
        .get(name)
        .ok_or_else(|| format!("no {name} in {:?}", scrape.keys()))
        .unwrap();
    assert_eq!(family.kind, kind, "{name}");
    assert!(family.help.is_some(), "{name} has no HELP");
    family
}

#[tokio::test]
async fn requests_are_counted_by_route_template_on_the_metrics_listener() {
    // The recorder first, as the binary does, so the app's help texts reach it.
    clones_runtime::prometheus::handle();
    let app = spawn_with(&[
        "--auth-rate-limit-burst",
        "1",
        "--auth-rate-limit-per-minute",
        "1",
    ])
    .await;
    let address =
        clones_runtime::prometheus::serve(([127, 0, 0, 1], 0).into(), app.db.db().clone())
            .await
            .unwrap();

    assert_eq!(app.get("/healthz", None).await.status, 200);
    assert_eq!(app.get("/healthz", None).await.status, 200);
    assert_eq!(app.get("/readyz", None).await.status, 200);
    let id = uuid::Uuid::new_v4();
    let path = format!("/api/v1/clone/clones/{id}");
    assert_eq!(app.get(&path, None).await.status, 401);
    app.get("/no/such/route", None)
        .await
        .assert_problem(404, "route_not_found");
    // Not on the public listener.
    app.get("/metrics", None)
        .await
        .assert_problem(404, "route_not_found");
    let body = json!({ "address": "0x0000000000000000000000000000000000000001", "chainId": 31337 });
    assert_eq!(
        app.post("/api/v1/auth/challenge", &body, None).await.status,
        200
    );
    app.post("/api/v1/auth/challenge", &body, None)
        .await
        .assert_problem(429, "rate_limited");

    // nextest runs each test in its own process, so the counts below are this test's alone.
    let scrape = scrape(&app.client, address).await;
    let requests = family(&scrape, "http_requests_total", "counter");
    let count = |method: &str, route: &str, status: &str| {
        requests.value(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(count("GET", "/healthz", "2xx"), Some(2.0));
    assert_eq!(count("GET", "/readyz", "2xx"), Some(1.0));
    assert_eq!(count("GET", "/api/v1/clone/clones/{id}", "4xx"), Some(1.0));
    assert_eq!(count("GET", "unmatched", "4xx"), Some(2.0));
    assert_eq!(count("POST", "/api/v1/auth/challenge", "2xx"), Some(1.0));
    assert_eq!(count("POST", "/api/v1/auth/challenge", "4xx"), Some(1.0));
    // Raw paths never become labels.
    for sample in &requests.samples {
        let route = sample.label("route").unwrap();
        assert!(
            !route.contains(&id.to_string()) && !route.contains("no/such"),
            "{route}"
        );
    }

    let latency = family(&scrape, "http_request_duration_seconds", "histogram");
    let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "2xx")];
    assert_eq!(
        latency.value("http_request_duration_seconds_count", &healthz),
        Some(2.0)
    );
    let buckets: Vec<_> = latency
        .samples_named("http_request_duration_seconds_bucket", &healthz)
        .collect();
    assert!(buckets.len() > 5, "latency buckets: {buckets:?}");
    assert_eq!(buckets.last().unwrap().label("le"), Some("+Inf"));

    let limited = family(&scrape, "http_rate_limited_total", "counter");
    assert_eq!(
        limited.value("http_rate_limited_total", &[("limiter", "auth")]),
        Some(1.0)
    );

    // The pool: readiness checked a connection out, and the scrape refreshed the gauges.
    let waits = family(&scrape, "db_pool_wait_seconds", "histogram");
    assert!(waits.value("db_pool_wait_seconds_count", &[]).unwrap() >= 1.0);
    let pool = family(&scrape, "db_pool_connections", "gauge");
    assert!(
        pool.value("db_pool_connections", &[("state", "idle")])
            .unwrap()
            >= 1.0
    );
    assert!(
        pool.value("db_pool_connections", &[("state", "in_use")])
            .is_some()
    );
    family(&scrape, "db_pool_max_connections", "gauge");

    for family in scrape.values() {
        assert_ne!(family.kind, "untyped", "{}", family.name);
        if family.kind == "counter" {
            assert!(family.name.ends_with("_total"), "{}", family.name);
        }
    }
}

#[test]
fn the_metrics_listener_is_off_unless_configured() {
    assert_eq!(crate::support::settings(&[]).metrics.metrics_addr, None);
    let on = crate::support::settings(&["--metrics-addr", "127.0.0.1:9464"]);
    assert_eq!(on.metrics.metrics_addr, Some(([127, 0, 0, 1], 9464).into()));
}
