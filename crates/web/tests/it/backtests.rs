//! Backtest routes over HTTP: a job is queued (202), refused with stable codes (400, 404, 429
//! with Retry-After), run by the worker's service, read with its metrics and artifacts (each
//! served as its media type), and a preview answers the whole report. Another user's clone
//! is 404.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Duration, Utc};
use clones_ingest::{Batch, Candle, NewInstrument};
use clones_kernel::Clock;
use clones_market::{InstrumentKey, Timeframe};
use clones_wiring::{ServiceSettings, Services};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::clones::{member, paid_clone};
use crate::support::{TestApp, spawn_with};

/// The worker's services over the app's database and clock.
fn worker(app: &TestApp) -> Services {
    Services::new(
        app.db.db().clone(),
        Arc::new(app.clock.clone()),
        ServiceSettings::default(),
    )
}

/// 300 hourly BTC bars ending at the last full hour: waves the default strategy trades.
async fn seed(app: &TestApp) -> DateTime<Utc> {
    let now = app.clock.now();
    let first = DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(3600), 0)
        .unwrap()
        - Duration::hours(300);
    let key = InstrumentKey::perp("replay", "BTC").unwrap();
    let mut batch = Batch {
        instruments: vec![NewInstrument::bare(key.clone())],
        ..Batch::default()
    };
    let mut previous = Decimal::from(1000);
    for i in 0..300i64 {
        let wave = (i as f64 / 40.0 * std::f64::consts::TAU).sin() * 100.0;
        let close = Decimal::from(1000 + wave.round() as i64);
        batch.candles.push((
            key.clone(),
            Timeframe::H1,
            Candle {
                open_time: first + Duration::hours(i),
                open: previous,
                high: close.max(previous),
                low: close.min(previous),
                close,
                volume: Decimal::ONE,
                trades: None,
            },
        ));
        previous = close;
    }
    let run = worker(app)
        .ingest
        .store_batch("test", "seed", now, 1, batch)
        .await
        .unwrap();
    assert!(run.error.is_none(), "{:?}", run.error);
    first
}

#[tokio::test]
async fn a_backtest_is_queued_run_and_read_with_its_artifacts() {
    let app = spawn_with(&["--backtest-max-open-jobs", "1"]).await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    let first = seed(&app).await;
    let base = format!("/api/v1/clone/clones/{clone}/decision-backtests");
    let body = json!({
        "from": first + Duration::hours(40),
        "to": first + Duration::hours(300),
        "commission": "0.001",
        "walkForward": {"folds": 3, "inSampleRatio": 0.7},
    });

    let invalid = app
        .post(
            &base,
            &json!({"from": first, "to": first - Duration::hours(1)}),
            Some(&alice.token),
        )
        .await;
    invalid.assert_problem(400, "invalid_backtest_request");
    assert_eq!(invalid.body["errors"][0]["code"], "empty_range");
    app.post(&base, &json!({"bogus": 1}), Some(&alice.token))
        .await
        .assert_problem(400, "invalid_body");
    app.post(&base, &body, Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");

    let queued = app.post(&base, &body, Some(&alice.token)).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    assert_eq!(queued.body["status"], "queued");
    assert!(queued.body["progress"]["barsTotal"].as_u64().unwrap() > 0);
    let id = queued.body["id"].as_str().unwrap().to_string();
    // One open job at a time here: the second is refused and told when to retry.
    let full = app.post(&base, &body, Some(&alice.token)).await;
    full.assert_problem(429, "backtest_queue_full");
    assert_eq!(full.headers["retry-after"], "30");

    let report = worker(&app).backtests.work(1).await.unwrap();
    assert_eq!(report.succeeded, 1);
    let read = app.get(&format!("{base}/{id}"), Some(&alice.token)).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["job"]["status"], "succeeded");
    assert!(read.body["metrics"]["sharpe"].is_number(), "{}", read.body);
    assert_eq!(
        read.body["walkForwardReport"]["folds"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(read.body["artifacts"].as_array().unwrap().len(), 5);
    app.get(&format!("{base}/{id}"), Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");

    let listed = app
        .get(&format!("{base}?limit=10"), Some(&alice.token))
        .await;
    assert_eq!(listed.body["items"][0]["id"], Value::String(id.clone()));
    assert!(listed.body["items"][0]["summary"]["resultHash"].is_string());

    for (kind, media) in [
        ("chart_svg", "image/svg+xml"),
        ("trades_csv", "text/csv; charset=utf-8"),
        ("equity", "application/json"),
    ] {
        let response = app
            .client
            .get(app.url(&format!("{base}/{id}/artifacts/{kind}")))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{kind}");
        assert_eq!(response.headers()["content-type"], media);
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    app.get(&format!("{base}/{id}/artifacts/nope"), Some(&alice.token))
        .await
        .assert_problem(404, "backtest_artifact_not_found");
    app.post(
        &format!("{base}/{id}/cancel"),
        &Value::Null,
        Some(&alice.token),
    )
    .await
    .assert_problem(409, "backtest_job_finished");

    let preview = app
        .post(
            &format!("/api/v1/clone/clones/{clone}/decision-backtest-preview"),
            &json!({"from": first + Duration::hours(40), "to": first + Duration::hours(300), "commission": "0.001"}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(
        preview.body["report"]["resultHash"], read.body["job"]["summary"]["resultHash"],
        "a preview with the same settings gives the job's hash"
    );
}
