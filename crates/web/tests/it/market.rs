//! Market memory and ingestion routes: percent-encoded instrument keys, as-of reads, ranges,
//! and who may read ingestion runs and health.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Duration, TimeZone, Utc};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_ingest::{
    Batch, BookSnapshot, Candle, DefiMetric, IngestService, NewInstrument, NewPredictionMarket,
    PgIngestService,
};
use clones_market::{InstrumentKey, Timeframe};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::{TestApp, spawn, token};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

async fn seed(app: &TestApp) -> PgIngestService {
    let service = PgIngestService::new(app.db.db().clone(), Arc::new(app.clock.clone()));
    let spot = InstrumentKey::parse("hyperliquid:spot:PURR/USDC").unwrap();
    let btc = InstrumentKey::parse("replay:perp:BTC").unwrap();
    let yes = InstrumentKey::parse("polymarket:outcome:1111").unwrap();
    let mut batch = Batch::default();
    batch.instruments.push(NewInstrument::bare(spot.clone()));
    batch.instruments.push(NewInstrument::bare(btc.clone()));
    batch.markets.push(NewPredictionMarket {
        market_id: "501".into(),
        venue: "polymarket".into(),
        condition_id: None,
        question: "Will it rain?".into(),
        slug: Some("rain".into()),
        end_date: Some(t0() + Duration::days(2)),
        active: true,
        closed: false,
        resolved_outcome: None,
        metadata: json!({}),
    });
    let mut outcome = NewInstrument::bare(yes.clone());
    outcome.market = Some(("501".into(), "Yes".into()));
    batch.instruments.push(outcome);
    for minute in 0..3 {
        let price = Decimal::from(100 + minute);
        batch.candles.push((
            btc.clone(),
            Timeframe::M1,
            Candle {
                open_time: t0() + Duration::minutes(minute),
                open: price,
                high: price + Decimal::ONE,
                low: price - Decimal::ONE,
                close: price,
                volume: d("2.5"),
                trades: None,
            },
        ));
        batch.mids.push((
            spot.clone(),
            t0() + Duration::minutes(minute),
            d("0.25") + Decimal::from(minute),
        ));
    }
    batch.books.push((
        spot.clone(),
        BookSnapshot {
            observed_at: t0(),
            bids: vec![(d("0.24"), d("10"))],
            asks: vec![(d("0.26"), d("5"))],
        },
    ));
    batch.outcome_prices.push((yes, t0(), d("0.42")));
    batch.defi.push(DefiMetric {
        subject: "protocol:aave".into(),
        metric: "tvl".into(),
        time: t0(),
        value: d("12345678901.23"),
    });
    service
        .store_batch("test", "seed", t0(), 1, batch)
        .await
        .unwrap();
    service
        .record_failure("hyperliquid", "allMids", t0(), 5, "transport: down")
        .await
        .unwrap();
    service
}

#[tokio::test]
async fn market_reads_need_a_user_and_take_encoded_keys() {
    let app = spawn().await;
    seed(&app).await;
    app.get("/api/v1/assets", None)
        .await
        .assert_problem(401, "invalid_access_token");
    let user = token(
        &app.sign_in(&PrivateKeySigner::random()).await,
        "accessToken",
    );
    let bearer = Some(user.as_str());

    let all = app.get("/api/v1/assets", bearer).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let outcomes = app
        .get("/api/v1/assets?venue=polymarket&kind=outcome", bearer)
        .await;
    assert_eq!(outcomes.body["items"][0]["key"], "polymarket:outcome:1111");
    assert_eq!(outcomes.body["items"][0]["outcome"]["marketId"], "501");
    assert_eq!(outcomes.body["items"][0]["outcome"]["resolution"], "open");
    app.get("/api/v1/assets?kind=future", bearer)
        .await
        .assert_problem(400, "invalid_query");

    // `/` in a key must be %2F; `:` may be raw or %3A.
    let spot = app
        .get("/api/v1/assets/hyperliquid%3Aspot%3APURR%2FUSDC", bearer)
        .await;
    assert_eq!(spot.status, 200, "{}", spot.body);
    assert_eq!(spot.body["symbol"], "PURR/USDC");
    let mid = app
        .get("/api/v1/assets/hyperliquid:spot:PURR%2FUSDC/mid", bearer)
        .await;
    assert_eq!(mid.status, 200, "{}", mid.body);
    assert_eq!(mid.body["price"], "2.25");
    let earlier = app
        .get(
            "/api/v1/assets/hyperliquid:spot:PURR%2FUSDC/mid?asOf=2026-11-20T12:01:30Z",
            bearer,
        )
        .await;
    assert_eq!(earlier.body["price"], "1.25");
    assert_eq!(earlier.body["observedAt"], "2026-11-20T12:01:00Z");
    app.get(
        "/api/v1/assets/hyperliquid:spot:PURR%2FUSDC/mid?asOf=2026-11-19T00:00:00Z",
        bearer,
    )
    .await
    .assert_problem(404, "no_market_data");
    let outcome_mid = app
        .get("/api/v1/assets/polymarket:outcome:1111/mid", bearer)
        .await;
    assert_eq!(outcome_mid.body["price"], "0.42");

    let book = app
        .get("/api/v1/assets/hyperliquid:spot:PURR%2FUSDC/book", bearer)
        .await;
    assert_eq!(book.status, 200, "{}", book.body);
    assert_eq!(book.body["bids"], json!([["0.24", "10"]]));
    assert_eq!(book.body["asks"], json!([["0.26", "5"]]));

    let candles = app
        .get(
            "/api/v1/assets/replay:perp:BTC/candles?timeframe=1m&from=2026-11-20T12:01:00Z&to=2026-11-20T13:00:00Z",
            bearer,
        )
        .await;
    assert_eq!(candles.status, 200, "{}", candles.body);
    let items = candles.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["openTime"], "2026-11-20T12:01:00Z");
    assert_eq!(items[0]["close"], "101");
    app.get("/api/v1/assets/replay:perp:BTC/candles?timeframe=2d&from=2026-11-20T12:01:00Z&to=2026-11-20T13:00:00Z", bearer)
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/assets/BTC/mid", bearer)
        .await
        .assert_problem(400, "invalid_input");
    app.get("/api/v1/assets/replay:perp:NOPE", bearer)
        .await
        .assert_problem(404, "instrument_not_found");

    let markets = app
        .get("/api/v1/polymarket/markets?closed=false", bearer)
        .await;
    assert_eq!(markets.status, 200, "{}", markets.body);
    assert_eq!(
        markets.body["items"][0]["outcomes"][0]["instrumentKey"],
        "polymarket:outcome:1111"
    );
    let metrics = app
        .get("/api/v1/defillama/metrics?subject=protocol:aave", bearer)
        .await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert_eq!(metrics.body["items"][0]["value"], "12345678901.23");

    // Market lists page like every other list: one limit policy, cursors of their own shape.
    let first = app.get("/api/v1/assets?limit=2", bearer).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_string();
    let rest = app
        .get(&format!("/api/v1/assets?limit=2&cursor={cursor}"), bearer)
        .await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert!(rest.body["nextCursor"].is_null());
    assert!(first.body["items"][1]["key"].as_str() < rest.body["items"][0]["key"].as_str());
    let bars = app
        .get(
            "/api/v1/assets/replay:perp:BTC/candles?timeframe=1m&from=2026-11-20T12:00:00Z&to=2026-11-20T13:00:00Z&limit=2",
            bearer,
        )
        .await;
    assert_eq!(bars.body["items"].as_array().unwrap().len(), 2);
    let bar_cursor = bars.body["nextCursor"].as_str().unwrap().to_string();
    let last_bar = app
        .get(
            &format!("/api/v1/assets/replay:perp:BTC/candles?timeframe=1m&from=2026-11-20T12:00:00Z&to=2026-11-20T13:00:00Z&limit=2&cursor={bar_cursor}"),
            bearer,
        )
        .await;
    assert_eq!(
        last_bar.body["items"][0]["openTime"],
        "2026-11-20T12:02:00Z"
    );
    for path in [
        "/api/v1/assets?limit=1000".to_string(),
        "/api/v1/polymarket/markets?limit=0".to_string(),
        "/api/v1/defillama/metrics?limit=501".to_string(),
        // An asset cursor is not a market cursor.
        format!("/api/v1/polymarket/markets?cursor={cursor}"),
        "/api/v1/defillama/metrics?cursor=garbage".to_string(),
    ] {
        app.get(&path, bearer)
            .await
            .assert_problem(400, "invalid_page");
    }
}

#[tokio::test]
async fn ingestion_runs_and_health_are_for_operators() {
    let app = spawn().await;
    seed(&app).await;
    let access = PgAccessAdmin::new(app.db.db().clone(), Arc::new(app.clock.clone()));
    let signer = PrivateKeySigner::random();
    let user = token(&app.sign_in(&signer).await, "accessToken");
    for path in ["/api/v1/ingestion/runs", "/api/v1/ingestion/health"] {
        app.get(path, None)
            .await
            .assert_problem(401, "invalid_access_token");
        app.get(path, Some(&user))
            .await
            .assert_problem(403, "admin_required");
    }
    let other = access
        .mint_service_token("other", &["prop:write".into()], None)
        .await
        .unwrap();
    app.get("/api/v1/ingestion/health", Some(&other.token))
        .await
        .assert_problem(403, "missing_scope");
    app.get("/api/v1/ingestion/health", Some("cst_unknown"))
        .await
        .assert_problem(401, "invalid_service_token");

    let reader = access
        .mint_service_token("ops", &["health:read".into()], None)
        .await
        .unwrap();
    let health = app
        .get("/api/v1/ingestion/health", Some(&reader.token))
        .await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.body["healthy"], false);
    let channels = health.body["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    let failing = channels
        .iter()
        .find(|c| c["source"] == "hyperliquid")
        .unwrap();
    assert_eq!(failing["consecutiveFailures"], 1);
    assert_eq!(failing["lastError"], "transport: down");

    assert!(
        access
            .grant_admin(&signer.address().to_string(), "test")
            .await
            .unwrap()
    );
    let runs = app
        .get("/api/v1/ingestion/runs?source=test", Some(&user))
        .await;
    assert_eq!(runs.status, 200, "{}", runs.body);
    let items = runs.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "succeeded");
    assert_eq!(items[0]["channel"], "seed");
    let all = app
        .get("/api/v1/ingestion/runs?limit=10", Some(&reader.token))
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
}
