//! Bounded loopback load test of the API with a valid access token.
//!
//! Starts the real app (real PostgreSQL database, real sign-in with a generated key) on
//! 127.0.0.1:0. With `LOAD_TOOL=builtin` (the default) it sends a fixed number of
//! `GET /api/v1/me` requests from a fixed number of keep-alive connections and reports
//! throughput and latency percentiles. With `LOAD_TOOL=wrk` it gives the user three clones and
//! runs the external load generator `wrk` (closed loop: each connection sends its next request
//! when the answer arrives) against `GET /api/v1/me` and the row-level-security list
//! `GET /api/v1/clone/clones`, for `LOAD_SECONDS` each, and reports what wrk measured with the
//! CPU time this process (the server), the database cluster and wrk each used. Run it with
//! `scripts/load-me` (which provides the PostgreSQL cluster). Knobs: `LOAD_REQUESTS` (default
//! 20000), `LOAD_CONCURRENCY` (32), `LOAD_SERVER_WORKERS` (2), `LOAD_TOOL`, `LOAD_SECONDS`
//! (10), `LOAD_WRK_THREADS` (1).

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

/// CPU seconds (user + system) a process and, with `children_of`, its direct children used.
fn cpu_seconds(pid: u32, with_children: bool) -> f64 {
    let ticks: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0);
    // Fields after the command name (which may contain spaces): state is field 3, ppid 4,
    // utime 14, stime 15.
    let read = |pid: &str| -> Option<(u32, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ppid = fields.get(1)?.parse().ok()?;
        let used = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((ppid, used / ticks))
    };
    let mut total = read(&pid.to_string())
        .map(|(_, used)| used)
        .unwrap_or_default();
    if with_children {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some((ppid, used)) = read(&name)
                && ppid == pid
            {
                total += used;
            }
        }
    }
    total
}

/// The PostgreSQL cluster's postmaster, whose children are its backends.
fn cluster_pid(db: &TestDb) -> u32 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        setting: String,
    }
    let mut conn = db.owner_connection().unwrap();
    let dir: Setting = diesel::sql_query("SELECT current_setting('data_directory') AS setting")
        .get_result(&mut conn)
        .unwrap();
    let pid = std::fs::read_to_string(format!("{}/postmaster.pid", dir.setting)).unwrap();
    pid.lines().next().unwrap().trim().parse().unwrap()
}

/// Runs wrk against `url` and prints its figures with the CPU each side used.
fn wrk(url: &str, token: &str, connections: usize, threads: usize, seconds: usize, cluster: u32) {
    let server = std::process::id();
    let (server_before, db_before) = (cpu_seconds(server, false), cpu_seconds(cluster, true));
    let started = Instant::now();
    // The shell's `times` reports the CPU its children (wrk) used.
    let script = format!(
        "wrk -t{threads} -c{connections} -d{seconds}s --latency -H 'Authorization: Bearer {token}' '{url}' && times"
    );
    let output = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "wrk failed: {output:?}");
    let (server_used, db_used) = (
        cpu_seconds(server, false) - server_before,
        cpu_seconds(cluster, true) - db_before,
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let pick = |label: &str| {
        lines
            .iter()
            .find(|line| line.trim_start().starts_with(label))
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let seconds_of = |text: &str| -> f64 {
        let (minutes, rest) = text.split_once('m').unwrap_or(("0", text));
        minutes.parse::<f64>().unwrap_or(0.0)
            + rest.trim_end_matches('s').parse::<f64>().unwrap_or(0.0)
    };
    let wrk_used = lines
        .last()
        .map(|line| line.split_whitespace().map(seconds_of).sum::<f64>())
        .unwrap_or_default();
    println!(
        "GET {url}: wrk {threads} thread(s), {connections} connections, {seconds} s, closed loop"
    );
    println!(
        "  {} | {} | latency {} / {} / {} / {} (p50/p75/p90/p99) | errors: {}",
        pick("Requests/sec:"),
        pick("Transfer/sec:"),
        pick("50%").replace("50% ", ""),
        pick("75%").replace("75% ", ""),
        pick("90%").replace("90% ", ""),
        pick("99%").replace("99% ", ""),
        if text.contains("Non-2xx") {
            pick("Non-2xx")
        } else {
            "none".to_string()
        },
    );
    println!(
        "  CPU over {wall:.1} s wall (2 cores = 200 %): server {:.0} %, database {:.0} %, wrk {:.0} %",
        100.0 * server_used / wall,
        100.0 * db_used / wall,
        100.0 * wrk_used / wall,
    );
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
    if std::env::var("LOAD_TOOL").is_ok_and(|tool| tool == "wrk") {
        let owner: uuid::Uuid = signed_in["userId"].as_str().unwrap().parse().unwrap();
        for i in 0..3 {
            db.db()
                .tenant_transaction(owner, move |conn| {
                    clones_clone_service::provisioning::create_paid_clone(
                        conn,
                        &clones_clone_service::provisioning::PaidClone {
                            clone_id: uuid::Uuid::new_v4(),
                            owner_user_id: owner,
                            purchase_id: uuid::Uuid::new_v4(),
                            display_name: format!("Load {i}"),
                        },
                        chrono::Utc::now(),
                    )
                })
                .await
                .unwrap();
        }
        let seconds = env_number("LOAD_SECONDS", 10).clamp(1, 600);
        let threads = env_number("LOAD_WRK_THREADS", 1).clamp(1, 64);
        let cluster = cluster_pid(&db);
        for path in ["/api/v1/me", "/api/v1/clone/clones"] {
            wrk(
                &format!("{base}{path}"),
                &token,
                concurrency,
                threads,
                seconds,
                cluster,
            );
        }
        println!("({server_workers} server workers)");
        handle.stop(true).await;
        return;
    }

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
