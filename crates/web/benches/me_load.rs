//! Bounded loopback load test of `GET /api/v1/me` with a valid access token.
//!
//! Starts the real app (real PostgreSQL database, real sign-in with a generated key) on
//! 127.0.0.1:0, then sends a fixed number of requests from a fixed number of keep-alive
//! connections and reports throughput and latency percentiles. Run it with `scripts/load-me`
//! (which provides the PostgreSQL cluster). Knobs: `LOAD_REQUESTS` (default 20000),
//! `LOAD_CONCURRENCY` (32), `LOAD_SERVER_WORKERS` (2).

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use clap::Parser;
use clones_test_db::TestDb;
use clones_web::AppState;
use clones_web::settings::ApiSettings;
use serde_json::{Value, json};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    clones_runtime::install_tls_provider();
    let requests = env_number("LOAD_REQUESTS", 20_000).clamp(1, 1_000_000);
    let concurrency = env_number("LOAD_CONCURRENCY", 32).clamp(1, 512);
    let server_workers = env_number("LOAD_SERVER_WORKERS", 2).clamp(1, 64);

    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let settings = ApiSettings::try_parse_from([
        "api",
        "--database-url",
        db.app_url(),
        "--jwt-signing-keys",
        "bench:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ",
    ])
    .unwrap();
    let state = AppState::new(
        &settings,
        db.db().clone(),
        Arc::new(clones_kernel::SystemClock),
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (server, handle) = clones_web::serve(state, listener, server_workers).unwrap();
    tokio::spawn(server);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let signer = PrivateKeySigner::random();
    let challenge: Value = client
        .post(format!("{base}/api/v1/auth/challenge"))
        .json(&json!({ "address": signer.address().to_string(), "chainId": 31337 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = challenge["message"].as_str().unwrap();
    let signature = signer.sign_message_sync(message.as_bytes()).unwrap();
    let signed_in: Value = client
        .post(format!("{base}/api/v1/auth/verify"))
        .json(&json!({ "message": message, "signature": format!("0x{}", hex::encode(signature.as_bytes())) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = Arc::new(signed_in["accessToken"].as_str().unwrap().to_string());
    let url = Arc::new(format!("{base}/api/v1/me"));

    let run = |count: usize| {
        let per_task = count.div_ceil(concurrency);
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(per_task);
                    for _ in 0..per_task {
                        let started = Instant::now();
                        let response = client
                            .get(url.as_str())
                            .bearer_auth(token.as_str())
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(response.status(), 200);
                        response.bytes().await.unwrap();
                        latencies.push(started.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        async move {
            let mut all = Vec::with_capacity(per_task * concurrency);
            for task in tasks {
                all.extend(task.await.unwrap());
            }
            all
        }
    };

    run(concurrency * 20).await;
    let started = Instant::now();
    let mut latencies = run(requests).await;
    let elapsed = started.elapsed();
    latencies.sort();
    let throughput = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "GET /api/v1/me: {} requests, {concurrency} connections, {server_workers} server workers, {:.2} s",
        latencies.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "throughput {throughput:.0} req/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    handle.stop(true).await;
}
