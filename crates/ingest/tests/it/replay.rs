//! The offline replay source: file loading and the seeded generator.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use clones_ingest::sources::replay::{
    Generator, GeneratorConfig, ReplayConfig, ReplaySource, aggregate, load_dir, parse_csv,
    parse_json,
};
use clones_ingest::{IngestService, Ingestor, MarketData, RunStatus};
use clones_kernel::PageRequest;
use clones_market::Timeframe;
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::{env, t0};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn config(seed: u64) -> GeneratorConfig {
    GeneratorConfig {
        seed,
        symbols: vec!["BTC".into(), "ETH".into()],
        anchor: t0() - Duration::days(3),
        backfill: Duration::hours(6),
        timeframes: vec![Timeframe::M1, Timeframe::M5, Timeframe::H1, Timeframe::D1],
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clones-replay-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_generator_is_deterministic_and_consistent() {
    let from = t0() - Duration::hours(2);
    let a = Generator::new(config(7)).minutes("BTC", from, t0());
    let b = Generator::new(config(7)).minutes("BTC", from, t0());
    let other_seed = Generator::new(config(8)).minutes("BTC", from, t0());
    assert_eq!(a.len(), 120);
    assert_eq!(a, b);
    assert_ne!(a, other_seed);
    // Generating in two steps (through the checkpoint) gives the same path as in one.
    let stepwise = Generator::new(config(7));
    let mut joined = stepwise.minutes("BTC", from, from + Duration::minutes(50));
    joined.extend(stepwise.minutes("BTC", from + Duration::minutes(50), t0()));
    assert_eq!(joined, a);
    for pair in a.windows(2) {
        assert_eq!(
            pair[1].open, pair[0].close,
            "each bar opens at the last close"
        );
        assert_eq!(pair[1].open_time - pair[0].open_time, Duration::minutes(1));
    }
    for bar in &a {
        assert_eq!(bar.problem(), None, "{bar:?}");
        assert!(bar.volume > Decimal::ZERO);
        assert_eq!(bar.close.scale(), 1, "BTC prices carry one decimal");
    }
    // Plausible: BTC stays within a few percent over two hours.
    let first = a[0].open;
    assert!(
        a.iter()
            .all(|bar| (bar.close - first).abs() < first / Decimal::from(10))
    );

    let hours = aggregate(&a, Timeframe::H1);
    assert_eq!(hours.len(), 2);
    assert_eq!(hours[0].open, a[0].open);
    assert_eq!(hours[0].close, a[59].close);
    assert_eq!(hours[0].high, a[..60].iter().map(|b| b.high).max().unwrap());
    assert_eq!(
        hours[1].volume,
        a[60..].iter().map(|b| b.volume).sum::<Decimal>()
    );
}

#[test]
fn volatility_clusters() {
    // Over a long path, large moves follow large moves more often than chance: the absolute
    // returns are positively autocorrelated.
    let bars = Generator::new(config(11)).minutes("ETH", t0() - Duration::days(3), t0());
    let returns: Vec<f64> = bars
        .iter()
        .map(|b| {
            let (o, c) = (
                f64::try_from(b.open).unwrap(),
                f64::try_from(b.close).unwrap(),
            );
            (c / o).ln().abs()
        })
        .collect();
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let (mut cov, mut var) = (0.0, 0.0);
    for w in returns.windows(2) {
        cov += (w[0] - mean) * (w[1] - mean);
        var += (w[0] - mean) * (w[0] - mean);
    }
    assert!(cov / var > 0.02, "autocorrelation {}", cov / var);
}

#[test]
fn csv_and_json_files_load() {
    let csv = "time,open,high,low,close,volume\n\
               2026-11-20T00:00:00Z,100,110,95,105,10.5\n\
               1763600400,105,106,100,101,3\n";
    let bars = parse_csv(csv).unwrap();
    assert_eq!(bars.len(), 2);
    assert_eq!(
        bars[1].open_time,
        Utc.timestamp_opt(1_763_600_400, 0).unwrap()
    );
    assert_eq!(bars[0].volume, d("10.5"));
    let json = json!([
        { "t": 1_763_600_400_000i64, "o": "1.5", "h": "1.7", "l": "1.4", "c": "1.6", "v": 1000 },
        { "time": "2026-11-21", "open": 1.6, "high": 1.8, "low": 1.5, "close": 1.7, "volume": "5" }
    ]);
    let bars = parse_json(&json).unwrap();
    assert_eq!(
        bars[0].open_time,
        Utc.timestamp_opt(1_763_600_400, 0).unwrap()
    );
    assert_eq!(bars[1].high, d("1.8"));
    assert!(parse_csv("time,open,high,low,close\n2026-11-20,1,2,1,1\n").is_err());
    assert!(parse_csv("time,open,high,low,close,volume\n2026-11-20,1,0.5,1,1,1\n").is_err());
    assert!(parse_json(&json!({ "t": 1 })).is_err());

    let dir = scratch_dir();
    std::fs::write(dir.join("BTC_1h.csv"), csv).unwrap();
    std::fs::write(dir.join("SOL_1d.json"), json.to_string()).unwrap();
    std::fs::write(dir.join("README.txt"), "ignored").unwrap();
    let files = load_dir(&dir).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        (files[0].symbol.as_str(), files[0].timeframe),
        ("BTC", Timeframe::H1)
    );
    std::fs::write(dir.join("ETH_7x.csv"), csv).unwrap();
    assert!(
        load_dir(&dir).is_err(),
        "an unknown timeframe fails the directory"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn replay_files_are_stored_whole_or_not_at_all() {
    let env = env().await;
    let dir = scratch_dir();
    std::fs::write(
        dir.join("BTC_1h.csv"),
        "time,open,high,low,close,volume\n2026-11-20T10:00:00Z,100,110,95,105,10\n2026-11-20T11:00:00Z,105,106,100,101,3\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ETH_1h.csv"),
        "time,open,high,low,close,volume\n2026-11-20T10:00:00Z,1,2,x,1,1\n",
    )
    .unwrap();
    let source = Arc::new(ReplaySource::new(ReplayConfig {
        dir: Some(dir.clone()),
        generator: None,
    }));
    let ingestor = Ingestor::new(
        env.service.clone(),
        Arc::new(env.clock.clone()),
        vec![source],
    );
    let outcome = ingestor.run_once().await;
    assert_eq!(outcome.failed(), 1);
    assert!(
        outcome.runs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("ETH_1h.csv")
    );
    assert_eq!(env.market_rows(), 0);

    std::fs::remove_file(dir.join("ETH_1h.csv")).unwrap();
    let outcome = ingestor.run_once().await;
    assert_eq!(outcome.succeeded(), 1, "{:?}", outcome.runs);
    let bars = env
        .service
        .candles(
            "replay:perp:BTC",
            Timeframe::H1,
            t0() - Duration::days(1),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(bars.len(), 2);
    // Each bar's close is the mid at its end.
    assert_eq!(
        env.service
            .latest_mid("replay:perp:BTC", t0())
            .await
            .unwrap(),
        Some((d("101"), t0()))
    );
    // Loaded once: the next cycle writes nothing.
    assert_eq!(ingestor.run_once().await.rows(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_generator_feeds_market_memory_cycle_after_cycle() {
    let env = env().await;
    let source = Arc::new(ReplaySource::new(ReplayConfig {
        dir: None,
        generator: Some(config(42)),
    }));
    let ingestor = Ingestor::new(
        env.service.clone(),
        Arc::new(env.clock.clone()),
        vec![source],
    );
    let first = ingestor.run_once().await;
    assert_eq!(first.runs.len(), 1);
    assert_eq!(
        first.runs[0].status,
        RunStatus::Succeeded,
        "{:?}",
        first.runs
    );
    let key = "replay:perp:BTC";
    let svc = &env.service;
    let minutes = svc
        .candles(key, Timeframe::M1, t0() - Duration::days(1), t0())
        .await
        .unwrap();
    assert_eq!(minutes.len(), 360, "six hours of backfill");
    let hours = svc
        .candles(key, Timeframe::H1, t0() - Duration::days(1), t0())
        .await
        .unwrap();
    assert_eq!(hours.len(), 6);
    assert_eq!(hours[5].close, minutes[359].close);
    let (mid, at) = svc.latest_mid(key, t0()).await.unwrap().unwrap();
    assert_eq!((mid, at), (minutes[359].close, t0()));
    let book = svc.latest_book(key, t0()).await.unwrap().unwrap();
    assert_eq!(book.bids.len(), 10);
    assert!(book.bids[0].0 < mid && mid < book.asks[0].0);
    assert_eq!(book.problem(), None);
    let instrument = svc.instrument(key).await.unwrap().unwrap();
    assert_eq!(instrument.tick_size, Some(d("0.1")));

    // Five minutes later: only the new minutes are written, continuing the same path.
    env.clock.advance(Duration::minutes(5));
    let second = ingestor.run_once().await;
    assert_eq!(second.succeeded(), 1);
    let all = svc
        .candles(
            key,
            Timeframe::M1,
            t0() - Duration::days(1),
            t0() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 365);
    let expected = Generator::new(config(42)).minutes(
        "BTC",
        t0() - Duration::hours(6),
        t0() + Duration::minutes(5),
    );
    assert_eq!(all, expected);
    assert_eq!(
        svc.latest_mid(key, t0() + Duration::minutes(5))
            .await
            .unwrap()
            .unwrap()
            .0,
        expected[364].close
    );
    let runs = svc
        .runs(Some("replay"), PageRequest::new(Some(10), None).unwrap())
        .await
        .unwrap()
        .items;
    assert_eq!(runs.len(), 2);
}
