//! Market memory: idempotent upserts, kept history, "latest as of" and range reads, run
//! bookkeeping and source health.

use clones_kernel::{DomainError, PageRequest};

use chrono::Duration;
use clones_ingest::{
    Batch, BookSnapshot, Candle, FundingRate, IngestError, IngestService, InstrumentFilter,
    MarketData, NewInstrument, NewPredictionMarket, Resolution, RunStatus,
};
use clones_market::{InstrumentKey, InstrumentKind, Timeframe};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::{env, t0};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn btc() -> InstrumentKey {
    InstrumentKey::parse("hyperliquid:perp:BTC").unwrap()
}

fn bar(minutes: i64, open: &str, close: &str) -> Candle {
    let (o, c) = (d(open), d(close));
    Candle {
        open_time: t0() + Duration::minutes(minutes),
        open: o,
        high: o.max(c) + Decimal::ONE,
        low: o.min(c) - Decimal::ONE,
        close: c,
        volume: d("1.5"),
        trades: Some(3),
    }
}

fn sample() -> Batch {
    let mut batch = Batch::default();
    batch.instruments.push(NewInstrument::bare(btc()));
    for (i, (open, close)) in [("100", "101"), ("101", "99"), ("99", "102")]
        .iter()
        .enumerate()
    {
        let minutes = i64::try_from(i).unwrap();
        batch
            .candles
            .push((btc(), Timeframe::M1, bar(minutes, open, close)));
        batch
            .mids
            .push((btc(), t0() + Duration::minutes(minutes + 1), d(close)));
    }
    batch.books.push((
        btc(),
        BookSnapshot {
            observed_at: t0(),
            bids: vec![(d("100.5"), d("2")), (d("100.0"), d("3"))],
            asks: vec![(d("101.0"), d("1")), (d("101.5"), d("4"))],
        },
    ));
    batch.funding.push((
        btc(),
        FundingRate {
            time: t0(),
            rate: d("0.0000125"),
            premium: Some(d("-0.0001")),
        },
    ));
    batch
}

#[tokio::test]
async fn upserts_are_idempotent_and_history_is_kept() {
    let env = env().await;
    let first = env
        .service
        .store_batch("test", "sample", t0(), 5, sample())
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Succeeded);
    assert_eq!(first.rows, 9);
    let before = env.market_rows();
    // The same observations again: nothing new; only the instrument and the (possibly
    // forming) candles are refreshed.
    let again = env
        .service
        .store_batch("test", "sample", t0(), 5, sample())
        .await
        .unwrap();
    assert_eq!(again.rows, 4);
    assert_eq!(env.market_rows(), before);
    assert_eq!(env.count("market_mids"), 3);

    // A different price for an already-stored time does not overwrite history.
    let mut rewrite = Batch::default();
    rewrite
        .mids
        .push((btc(), t0() + Duration::minutes(1), d("555")));
    env.service
        .store_batch("test", "rewrite", t0(), 1, rewrite)
        .await
        .unwrap();
    let (price, at) = env
        .service
        .latest_mid("hyperliquid:perp:BTC", t0() + Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((price, at), (d("101"), t0() + Duration::minutes(1)));

    // A forming candle is revised when fetched again.
    let mut revised = Batch::default();
    revised
        .candles
        .push((btc(), Timeframe::M1, bar(2, "99", "110")));
    env.service
        .store_batch("test", "revise", t0(), 1, revised)
        .await
        .unwrap();
    let bars = env
        .service
        .candles(
            "hyperliquid:perp:BTC",
            Timeframe::M1,
            t0(),
            t0() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(bars.len(), 3);
    assert_eq!(bars[2].close, d("110"));
    assert_eq!(env.count("market_candles"), 3);
    assert_eq!(env.count("ingestion_runs"), 4);
}

#[tokio::test]
async fn latest_as_of_and_ranges() {
    let env = env().await;
    env.service
        .store_batch("test", "sample", t0(), 5, sample())
        .await
        .unwrap();
    let key = "hyperliquid:perp:BTC";
    let svc = &env.service;
    assert_eq!(svc.latest_mid(key, t0()).await.unwrap(), None);
    assert_eq!(
        svc.latest_mid(key, t0() + Duration::seconds(150))
            .await
            .unwrap(),
        Some((d("99"), t0() + Duration::minutes(2)))
    );
    assert_eq!(
        svc.latest_mid(key, t0() + Duration::days(1)).await.unwrap(),
        Some((d("102"), t0() + Duration::minutes(3)))
    );
    // [from, to): the bar opening at `to` is excluded; ascending order.
    let bars = svc
        .candles(
            key,
            Timeframe::M1,
            t0() + Duration::minutes(1),
            t0() + Duration::minutes(2),
        )
        .await
        .unwrap();
    assert_eq!(bars.len(), 1);
    assert_eq!(bars[0].open_time, t0() + Duration::minutes(1));
    let all = svc
        .candles(
            key,
            Timeframe::M1,
            t0() - Duration::days(1),
            t0() + Duration::days(1),
        )
        .await
        .unwrap();
    assert!(all.windows(2).all(|w| w[0].open_time < w[1].open_time));
    assert!(
        svc.candles(
            key,
            Timeframe::H1,
            t0() - Duration::days(1),
            t0() + Duration::days(1)
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert!(
        svc.candles(key, Timeframe::M1, t0() + Duration::days(1), t0())
            .await
            .unwrap()
            .is_empty()
    );

    let book = svc.latest_book(key, t0()).await.unwrap().unwrap();
    assert_eq!(book.bids[0], (d("100.5"), d("2")));
    assert_eq!(book.asks[0], (d("101.0"), d("1")));
    assert_eq!(
        svc.latest_book(key, t0() - Duration::seconds(1))
            .await
            .unwrap(),
        None
    );
    let funding = svc.latest_funding(key, t0()).await.unwrap().unwrap();
    assert_eq!(funding.rate, d("0.0000125"));
    assert_eq!(funding.premium, Some(d("-0.0001")));

    let instrument = svc.instrument(key).await.unwrap().unwrap();
    assert_eq!(instrument.kind, InstrumentKind::Perp);
    assert_eq!(instrument.symbol, "BTC");
    assert!(instrument.active);
    assert_eq!(svc.instrument("hyperliquid:perp:NOPE").await.unwrap(), None);
    assert_eq!(
        svc.latest_mid("hyperliquid:perp:NOPE", t0()).await.unwrap(),
        None
    );
    let malformed = svc.latest_mid("BTC", t0()).await.unwrap_err();
    assert!(matches!(malformed, IngestError::InvalidInput(_)));
    assert_eq!(malformed.code(), "invalid_input");
}

#[tokio::test]
async fn outcome_instruments_carry_market_and_resolution() {
    let env = env().await;
    let yes = InstrumentKey::parse("polymarket:outcome:1111").unwrap();
    let no = InstrumentKey::parse("polymarket:outcome:2222").unwrap();
    let market = |resolved: Option<&str>| NewPredictionMarket {
        market_id: "m1".into(),
        venue: "polymarket".into(),
        condition_id: Some("0xabc".into()),
        question: "Will it rain?".into(),
        slug: Some("will-it-rain".into()),
        end_date: Some(t0() + Duration::days(3)),
        active: resolved.is_none(),
        closed: resolved.is_some(),
        resolved_outcome: resolved.map(str::to_string),
        metadata: json!({}),
    };
    let outcome = |key: &InstrumentKey, name: &str| {
        let mut instrument = NewInstrument::bare(key.clone());
        instrument.market = Some(("m1".into(), name.into()));
        instrument.tick_size = Some(d("0.01"));
        instrument
    };
    let mut batch = Batch::default();
    batch.markets.push(market(None));
    batch.instruments.push(outcome(&yes, "Yes"));
    batch.instruments.push(outcome(&no, "No"));
    batch.outcome_prices.push((yes.clone(), t0(), d("0.62")));
    env.service
        .store_batch("polymarket", "gamma-markets", t0(), 1, batch)
        .await
        .unwrap();
    let open = env
        .service
        .instrument(&yes.to_string())
        .await
        .unwrap()
        .unwrap();
    let info = open.outcome.unwrap();
    assert_eq!(
        (
            info.market_id.as_str(),
            info.outcome.as_str(),
            info.resolution
        ),
        ("m1", "Yes", Resolution::Open)
    );
    assert_eq!(info.resolved_payout, None);
    assert_eq!(open.tick_size, Some(d("0.01")));
    assert_eq!(
        env.service
            .outcome_price(&yes.to_string(), t0())
            .await
            .unwrap(),
        Some((d("0.62"), t0()))
    );

    let mut resolved = Batch::default();
    resolved.markets.push(market(Some("No")));
    env.service
        .store_batch("polymarket", "gamma-markets", t0(), 1, resolved)
        .await
        .unwrap();
    let yes_view = env
        .service
        .instrument(&yes.to_string())
        .await
        .unwrap()
        .unwrap();
    let no_view = env
        .service
        .instrument(&no.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        yes_view.outcome.as_ref().unwrap().resolution,
        Resolution::Resolved
    );
    assert_eq!(
        yes_view.outcome.unwrap().resolved_payout,
        Some(Decimal::ZERO)
    );
    assert_eq!(no_view.outcome.unwrap().resolved_payout, Some(Decimal::ONE));

    let markets = env
        .service
        .prediction_markets(None, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(markets.len(), 1);
    assert_eq!(markets[0].outcomes.len(), 2);
    assert_eq!(markets[0].resolved_outcome.as_deref(), Some("No"));
    let outcomes = env
        .service
        .instruments(
            InstrumentFilter {
                venue: Some("polymarket".into()),
                kind: Some(InstrumentKind::Outcome),
                active_only: false,
            },
            PageRequest::first(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(outcomes.len(), 2);
    let perps = env
        .service
        .instruments(
            InstrumentFilter {
                kind: Some(InstrumentKind::Perp),
                ..InstrumentFilter::default()
            },
            PageRequest::first(),
        )
        .await
        .unwrap()
        .items;
    assert!(perps.is_empty());
}

#[tokio::test]
async fn an_invalid_batch_stores_nothing_and_health_counts_failures() {
    let env = env().await;
    let mut bad = sample();
    // A bar whose high is below its close invalidates the whole batch.
    bad.candles[1].2.high = Decimal::ONE;
    let run = env
        .service
        .store_batch("test", "sample", t0(), 3, bad)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.rows, 0);
    assert!(
        run.error.as_deref().unwrap().contains("high/low"),
        "{run:?}"
    );
    assert_eq!(env.market_rows(), 0);

    // A batch that breaks a database rule (outcome price for an unknown instrument) rolls
    // back whole, too.
    let mut orphan = sample();
    orphan.outcome_prices.push((
        InstrumentKey::parse("polymarket:outcome:999").unwrap(),
        t0(),
        d("0.5"),
    ));
    env.clock.advance(Duration::seconds(10));
    let run = env
        .service
        .store_batch("test", "sample", t0() + Duration::seconds(10), 3, orphan)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.as_deref().unwrap().starts_with("store_failed"));
    assert_eq!(env.market_rows(), 0);

    let health = env.service.source_health().await.unwrap();
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].consecutive_failures, 2);
    assert_eq!(health[0].last_success_at, None);
    assert_eq!(health[0].last_status, RunStatus::Failed);

    env.clock.advance(Duration::seconds(10));
    env.service
        .store_batch("test", "sample", t0() + Duration::seconds(20), 3, sample())
        .await
        .unwrap();
    env.service
        .record_failure("other", "x", t0() + Duration::seconds(20), 1, "boom")
        .await
        .unwrap();
    let health = env.service.source_health().await.unwrap();
    assert_eq!(health.len(), 2);
    let sample_health = health.iter().find(|h| h.source == "test").unwrap();
    assert_eq!(sample_health.consecutive_failures, 0);
    assert_eq!(sample_health.last_status, RunStatus::Succeeded);
    assert_eq!(sample_health.last_rows, 9);
    assert!(sample_health.last_success_at.is_some());
    assert!(
        sample_health.last_error.is_some(),
        "the last error stays visible"
    );
    let other = health.iter().find(|h| h.source == "other").unwrap();
    assert_eq!(other.last_error.as_deref(), Some("boom"));

    let ten = PageRequest::new(Some(10), None).unwrap();
    let runs = env.service.runs(None, ten).await.unwrap().items;
    assert_eq!(runs.len(), 4);
    assert!(runs.windows(2).all(|w| w[0].started_at >= w[1].started_at));
    let other = env.service.runs(Some("other"), ten).await.unwrap();
    assert_eq!(other.items.len(), 1);
}

#[tokio::test]
async fn runs_sharing_a_start_are_paged_through_exactly_once() {
    let env = env().await;
    let mut recorded = Vec::new();
    for channel in ["a", "b", "c", "d", "e"] {
        let run = env
            .service
            .record_failure("tied", channel, t0(), 1, "boom")
            .await
            .unwrap();
        recorded.push(run.id);
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let request = PageRequest::new(Some(2), cursor).unwrap();
        let page = env.service.runs(Some("tied"), request).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|run| run.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    recorded.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, recorded, "newest first by (start, id), each run once");
}
