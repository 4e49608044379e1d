//! A worker's metrics listener: cycles run under `run_worker`, then a scrape over TCP, read
//! with the strict text-format parser.

use std::time::{SystemTime, UNIX_EPOCH};

use clones_runtime::prometheus::exposition::{self, Scrape};
use clones_runtime::{Shutdown, run_worker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{options, scripted, setup};

/// The body of `GET /metrics`, after checking the status line and content type.
pub async fn scrape(address: std::net::SocketAddr) -> Scrape {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    exposition::parse(body)
        .map_err(|error| format!("{error}\n{body}"))
        .unwrap()
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn a_worker_exports_its_cycles_on_the_metrics_listener() {
    let (db, _clock, heartbeats) = setup().await;
    let address = clones_runtime::prometheus::serve(([127, 0, 0, 1], 0).into(), db.db().clone())
        .await
        .unwrap();
    assert_ne!(address.port(), 0);
    let mut worker = options(true);
    worker.name = "metrics-test-worker".into();
    let cycle = scripted(vec![2]);
    let before = now_secs();
    for _ in 0..2 {
        let (_sender, shutdown) = Shutdown::new();
        run_worker(&worker, &cycle, heartbeats.clone(), shutdown).await;
    }
    let after = now_secs();
    let scrape = scrape(address).await;

    let me = [("worker", "metrics-test-worker")];
    let succeeded = [("worker", "metrics-test-worker"), ("outcome", "success")];
    let failed = [("worker", "metrics-test-worker"), ("outcome", "failure")];
    let family = |name: &str, kind: &str| {
        let family = scrape
            .get(name)
            .ok_or_else(|| format!("no {name} in {:?}", scrape.keys()))
            .unwrap();
        assert_eq!(family.kind, kind, "{name}");
        assert!(family.help.is_some(), "{name} has no HELP");
        family
    };

    let duration = family("worker_cycle_duration_seconds", "histogram");
    for outcome in [&succeeded, &failed] {
        assert_eq!(
            duration.value("worker_cycle_duration_seconds_count", outcome),
            Some(1.0)
        );
    }
    let cycles = family("worker_cycles_total", "counter");
    assert_eq!(cycles.value("worker_cycles_total", &succeeded), Some(1.0));
    assert_eq!(cycles.value("worker_cycles_total", &failed), Some(1.0));
    let errors = family("worker_cycle_errors_total", "counter");
    assert_eq!(errors.value("worker_cycle_errors_total", &me), Some(1.0));
    let items = family("worker_cycle_items", "histogram");
    assert_eq!(items.value("worker_cycle_items_count", &me), Some(1.0));
    assert_eq!(items.value("worker_cycle_items_sum", &me), Some(2.0));
    let total = family("worker_items_total", "counter");
    assert_eq!(total.value("worker_items_total", &me), Some(2.0));
    let last = family("worker_last_success_timestamp_seconds", "gauge")
        .value("worker_last_success_timestamp_seconds", &me)
        .unwrap();
    assert!(
        (before..=after).contains(&last),
        "{before} <= {last} <= {after}"
    );
    let streak = family("worker_consecutive_errors", "gauge");
    assert_eq!(streak.value("worker_consecutive_errors", &me), Some(1.0));
    let interval = family("worker_interval_seconds", "gauge");
    assert_eq!(interval.value("worker_interval_seconds", &me), Some(0.01));

    // The pool: gauges refreshed by the scrape, and the checkouts the heartbeats made.
    let pool = family("db_pool_connections", "gauge");
    let in_use = pool.value("db_pool_connections", &[("state", "in_use")]);
    let idle = pool.value("db_pool_connections", &[("state", "idle")]);
    assert!(in_use.is_some() && idle.unwrap() >= 1.0, "{pool:?}");
    let max = family("db_pool_max_connections", "gauge")
        .value("db_pool_max_connections", &[])
        .unwrap();
    assert!(max >= 1.0);
    let waits = family("db_pool_wait_seconds", "histogram")
        .value("db_pool_wait_seconds_count", &[])
        .unwrap();
    assert!(waits >= 4.0, "two cycles write four heartbeats: {waits}");

    // Conventions: counters end in `_total`, and nothing is left untyped.
    for family in scrape.values() {
        assert_ne!(family.kind, "untyped", "{}", family.name);
        if family.kind == "counter" {
            assert!(family.name.ends_with("_total"), "{}", family.name);
        }
    }
}
