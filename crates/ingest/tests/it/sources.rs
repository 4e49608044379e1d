//! Every source client against a local stub serving the venue's documented shapes; malformed
//! and partial responses; 429 and 5xx handling; isolation between sources.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use clones_ingest::http::HttpClient;
use clones_ingest::sources::defillama::{DefiLlamaConfig, DefiLlamaSource};
use clones_ingest::sources::hyperliquid::{HyperliquidConfig, HyperliquidSource};
use clones_ingest::sources::polymarket::{PolymarketConfig, PolymarketSource};
use clones_ingest::{
    DefiFilter, IngestService, Ingestor, MarketData, Resolution, RunStatus, Source,
};
use clones_kernel::PageRequest;
use clones_market::Timeframe;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Env, Reply, Request, env, policy, stub, t0};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn ms(minutes: i64) -> i64 {
    (t0() + Duration::minutes(minutes)).timestamp_millis()
}

fn meta_and_ctxs() -> Value {
    let ctx = |mark: &str, funding: &str| {
        json!({
            "dayNtlVlm": "1169046.29", "funding": funding, "impactPxs": ["64000.0", "64001.0"],
            "markPx": mark, "midPx": mark, "openInterest": "688.11", "oraclePx": mark,
            "premium": "0.00031774", "prevDayPx": "63000.0", "dayBaseVlm": "18.2"
        })
    };
    json!([
        { "universe": [
            { "name": "BTC", "szDecimals": 5, "maxLeverage": 40 },
            { "name": "ETH", "szDecimals": 4, "maxLeverage": 25 },
            { "name": "OLD", "szDecimals": 2, "maxLeverage": 3, "isDelisted": true, "onlyIsolated": true }
        ]},
        [ctx("64000.5", "0.0000125"), ctx("3200.1", "0.00001"), ctx("1.0", "0.0")]
    ])
}

fn candle(coin: &str, interval: &str, minute: i64, close: &str) -> Value {
    json!({
        "t": ms(minute), "T": ms(minute) + 59_999, "s": coin, "i": interval,
        "o": "100.0", "c": close, "h": "120.0", "l": "90.0", "v": "12.5", "n": 42
    })
}

fn hyperliquid_reply(request: &Request) -> Reply {
    let body = request.json();
    let coin = body["coin"].as_str().unwrap_or_default().to_string();
    match body["type"].as_str() {
        Some("metaAndAssetCtxs") => Reply::json(meta_and_ctxs()),
        Some("allMids") => {
            Reply::json(json!({ "BTC": "64000.5", "ETH": "3200.25", "@107": "1.2" }))
        }
        Some("candleSnapshot") => {
            let req = &body["req"];
            let coin = req["coin"].as_str().unwrap();
            let interval = req["interval"].as_str().unwrap();
            Reply::json(json!([
                candle(coin, interval, 0, "110.0"),
                candle(coin, interval, 1, "95.5")
            ]))
        }
        Some("l2Book") => Reply::json(json!({
            "coin": coin, "time": ms(2),
            "levels": [
                [{ "px": "100.5", "sz": "1.5", "n": 3 }, { "px": "100.0", "sz": "2", "n": 1 }],
                [{ "px": "101.0", "sz": "0.7", "n": 2 }, { "px": "101.5", "sz": "4", "n": 5 }]
            ]
        })),
        Some("fundingHistory") => Reply::json(json!([
            { "coin": coin, "fundingRate": "0.0000125", "premium": "0.00028", "time": ms(-60) },
            { "coin": coin, "fundingRate": "-0.00002", "premium": "-0.0001", "time": ms(0) }
        ])),
        _ => Reply::status(400),
    }
}

fn hyperliquid(url: &url::Url) -> HyperliquidSource {
    HyperliquidSource::new(
        HyperliquidConfig {
            base_url: url.clone(),
            coins: vec!["BTC".into(), "ETH".into()],
            intervals: vec![Timeframe::M1, Timeframe::H1],
            lookback: Duration::hours(2),
        },
        HttpClient::new(policy()).unwrap(),
    )
}

fn ingestor(env: &Env, sources: Vec<Arc<dyn Source>>) -> Ingestor {
    Ingestor::new(env.service.clone(), Arc::new(env.clock.clone()), sources)
}

#[tokio::test]
async fn hyperliquid_channels_store_the_documented_shapes() {
    let env = env().await;
    let server = stub(|request, _| hyperliquid_reply(request)).await;
    let outcome = ingestor(&env, vec![Arc::new(hyperliquid(&server.url))])
        .run_once()
        .await;
    assert_eq!(outcome.failed(), 0, "{:?}", outcome.runs);
    assert_eq!(outcome.succeeded(), 5);
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .all(|r| r.method == "POST" && r.target == "/info")
    );

    let svc = &env.service;
    let btc = svc
        .instrument("hyperliquid:perp:BTC")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(btc.lot_size, Some(d("0.00001")));
    assert_eq!(btc.metadata["maxLeverage"], 40);
    assert_eq!(
        svc.instrument("hyperliquid:perp:OLD").await.unwrap(),
        None,
        "untracked"
    );
    assert_eq!(
        svc.latest_mid("hyperliquid:perp:ETH", t0()).await.unwrap(),
        Some((d("3200.25"), t0()))
    );
    let bars = svc
        .candles(
            "hyperliquid:perp:BTC",
            Timeframe::H1,
            t0(),
            t0() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(bars.len(), 2);
    assert_eq!((bars[0].close, bars[0].trades), (d("110.0"), Some(42)));
    let book = svc
        .latest_book("hyperliquid:perp:BTC", t0() + Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(book.observed_at, t0() + Duration::minutes(2));
    assert_eq!(book.bids[0].0, d("100.5"));
    assert_eq!(book.asks[0].0, d("101.0"));
    // The current rate from the asset contexts is the latest at t0.
    let funding = svc
        .latest_funding("hyperliquid:perp:BTC", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (funding.rate, funding.premium),
        (d("0.0000125"), Some(d("0.00031774")))
    );
    let earlier = svc
        .latest_funding("hyperliquid:perp:BTC", t0() - Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(earlier.rate, d("0.0000125"));
    assert_eq!(earlier.time, t0() - Duration::minutes(60));
}

#[tokio::test]
async fn a_partial_or_malformed_response_stores_nothing() {
    let env = env().await;
    // ETH's second candle lacks its close; BTC's candles (fetched first) must not be stored
    // either. allMids is missing ETH. l2Book has a third side.
    let server = stub(|request, _| {
        let body = request.json();
        match body["type"].as_str() {
            Some("candleSnapshot") if body["req"]["coin"] == "ETH" => {
                let mut broken = candle("ETH", "1m", 1, "95.5");
                broken.as_object_mut().unwrap().remove("c");
                Reply::json(json!([candle("ETH", "1m", 0, "110.0"), broken]))
            }
            Some("allMids") => Reply::json(json!({ "BTC": "64000.5" })),
            Some("l2Book") => {
                Reply::json(json!({ "coin": body["coin"], "time": ms(0), "levels": [[], [], []] }))
            }
            Some("fundingHistory") => Reply {
                status: 200,
                headers: Vec::new(),
                body: "[{\"coin\": \"BTC\", \"fundingRate\": ".into(),
            },
            Some("metaAndAssetCtxs") => {
                let mut meta = meta_and_ctxs();
                meta[1].as_array_mut().unwrap().pop();
                Reply::json(meta)
            }
            _ => hyperliquid_reply(request),
        }
    })
    .await;
    let outcome = ingestor(&env, vec![Arc::new(hyperliquid(&server.url))])
        .run_once()
        .await;
    assert_eq!(outcome.succeeded(), 0, "{:?}", outcome.runs);
    assert_eq!(outcome.failed(), 5);
    assert_eq!(env.market_rows(), 0);
    let runs = env
        .service
        .runs(
            Some("hyperliquid"),
            PageRequest::new(Some(10), None).unwrap(),
        )
        .await
        .unwrap()
        .items;
    let error = |channel: &str| {
        runs.iter()
            .find(|run| run.channel == channel)
            .and_then(|run| run.error.clone())
            .unwrap()
    };
    assert!(
        error("candleSnapshot").contains("missing `c`"),
        "{}",
        error("candleSnapshot")
    );
    assert!(error("allMids").contains("no mid for ETH"));
    assert!(error("l2Book").contains("[bids, asks]"));
    assert!(error("fundingHistory").contains("not JSON"));
    assert!(error("metaAndAssetCtxs").contains("3 assets but 2 contexts"));
    let health = env.service.source_health().await.unwrap();
    assert_eq!(health.len(), 5);
    assert!(
        health
            .iter()
            .all(|h| h.consecutive_failures == 1 && h.last_success_at.is_none())
    );
}

fn gamma_markets() -> Value {
    json!([
        {
            "id": "501", "question": "Will BTC close above 70k?", "conditionId": "0xc0nd1",
            "slug": "btc-above-70k", "endDate": "2026-12-31T12:00:00Z",
            "outcomes": "[\"Yes\", \"No\"]", "outcomePrices": "[\"0.62\", \"0.38\"]",
            "clobTokenIds": "[\"1111\", \"2222\"]", "volume": "1050.5", "volumeNum": 1050.5,
            "liquidityNum": 500, "active": true, "closed": false, "enableOrderBook": true,
            "acceptingOrders": true, "orderPriceMinTickSize": 0.01, "orderMinSize": 5,
            "negRisk": false, "bestBid": 0.61, "bestAsk": 0.63, "lastTradePrice": 0.62, "events": []
        },
        {
            "id": "502", "question": "Did it rain?", "conditionId": "0xc0nd2", "slug": "rain",
            "endDate": "2026-11-01T00:00:00Z", "outcomes": "[\"Yes\", \"No\"]",
            "outcomePrices": "[\"0\", \"1\"]", "clobTokenIds": "[\"3333\", \"4444\"]",
            "active": true, "closed": true, "orderPriceMinTickSize": 0.001, "orderMinSize": 5
        }
    ])
}

#[tokio::test]
async fn polymarket_gamma_and_clob() {
    let env = env().await;
    let gamma = stub(|_, _| Reply::json(gamma_markets())).await;
    let clob = stub(|request, _| {
        let token = request.target.rsplit('=').next().unwrap().to_string();
        if request.target.starts_with("/book") {
            Reply::json(json!({
                "market": "0xc0nd1", "asset_id": token, "timestamp": ms(1).to_string(),
                "hash": "0xabc",
                "bids": [{ "price": ".60", "size": "100" }, { "price": ".61", "size": "50" }],
                "asks": [{ "price": ".64", "size": "20" }, { "price": ".63", "size": "30" }],
                "min_order_size": "5", "neg_risk": false, "tick_size": "0.01"
            }))
        } else {
            Reply::json(json!({ "mid": "0.615" }))
        }
    })
    .await;
    let source = PolymarketSource::new(
        PolymarketConfig {
            gamma_url: gamma.url.clone(),
            clob_url: clob.url.clone(),
            slugs: vec!["btc-above-70k".into(), "rain".into()],
            market_limit: 10,
        },
        HttpClient::new(policy()).unwrap(),
    );
    let outcome = ingestor(&env, vec![Arc::new(source)]).run_once().await;
    assert_eq!(outcome.failed(), 0, "{:?}", outcome.runs);
    let gamma_target = gamma.requests.lock().unwrap()[0].target.clone();
    assert_eq!(gamma_target, "/markets?slug=btc-above-70k&slug=rain");
    // Only the open market's tokens are polled on the CLOB: a book and a midpoint each.
    assert_eq!(clob.hits(), 4);

    let svc = &env.service;
    let yes = svc
        .instrument("polymarket:outcome:1111")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(yes.tick_size, Some(d("0.01")));
    let info = yes.outcome.unwrap();
    assert_eq!(
        (info.market_id.as_str(), info.outcome.as_str()),
        ("501", "Yes")
    );
    assert_eq!(info.resolution, Resolution::Open);
    let won = svc
        .instrument("polymarket:outcome:4444")
        .await
        .unwrap()
        .unwrap();
    assert!(!won.active);
    assert_eq!(won.outcome.unwrap().resolved_payout, Some(Decimal::ONE));
    let lost = svc
        .instrument("polymarket:outcome:3333")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lost.outcome.unwrap().resolved_payout, Some(Decimal::ZERO));

    // Gamma's price and the CLOB midpoint share the cycle's time; the first one stored stays.
    let (price, _) = svc
        .outcome_price("polymarket:outcome:2222", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(price, d("0.38"));
    let book = svc
        .latest_book("polymarket:outcome:1111", t0() + Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(book.bids, vec![(d("0.61"), d("50")), (d("0.60"), d("100"))]);
    assert_eq!(book.asks, vec![(d("0.63"), d("30")), (d("0.64"), d("20"))]);
    let markets = svc
        .prediction_markets(Some(true), PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(markets.len(), 1);
    assert_eq!(markets[0].resolved_outcome.as_deref(), Some("No"));

    // A later midpoint is a new observation.
    env.clock.advance(Duration::minutes(1));
    ingestor(
        &env,
        vec![Arc::new(PolymarketSource::new(
            PolymarketConfig {
                gamma_url: gamma.url.clone(),
                clob_url: clob.url.clone(),
                slugs: vec!["btc-above-70k".into()],
                market_limit: 10,
            },
            HttpClient::new(policy()).unwrap(),
        ))],
    )
    .run_once()
    .await;
    let (price, at) = svc
        .outcome_price("polymarket:outcome:1111", t0() + Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((price, at), (d("0.62"), t0() + Duration::minutes(1)));
}

#[tokio::test]
async fn polymarket_rejects_inconsistent_markets() {
    let env = env().await;
    let gamma = stub(|_, _| {
        let mut markets = gamma_markets();
        markets[1]["clobTokenIds"] = json!("[\"3333\"]");
        Reply::json(markets)
    })
    .await;
    let source = PolymarketSource::new(
        PolymarketConfig {
            gamma_url: gamma.url.clone(),
            clob_url: gamma.url.clone(),
            slugs: Vec::new(),
            market_limit: 5,
        },
        HttpClient::new(policy()).unwrap(),
    );
    let outcome = ingestor(&env, vec![Arc::new(source)]).run_once().await;
    assert_eq!(outcome.failed(), 1);
    // Nothing was stored, so no tokens are polled on the CLOB.
    assert_eq!(outcome.succeeded(), 2);
    assert_eq!(outcome.rows(), 0);
    assert_eq!(env.market_rows(), 0);
    assert!(
        gamma.requests.lock().unwrap()[0]
            .target
            .contains("limit=5&closed=false")
    );
}

fn defillama(url: &url::Url) -> DefiLlamaSource {
    DefiLlamaSource::new(
        DefiLlamaConfig {
            base_url: url.clone(),
            protocols: vec!["aave".into()],
            chains: vec!["Ethereum".into()],
            lookback: Duration::days(3),
        },
        HttpClient::new(policy()).unwrap(),
    )
}

fn day(n: i64) -> i64 {
    (t0() - Duration::days(n)).timestamp()
}

fn defillama_reply(request: &Request) -> Reply {
    if request.target == "/protocol/aave" {
        Reply::json(json!({
            "id": "111", "name": "Aave", "symbol": "AAVE", "chains": ["Ethereum"],
            "tvl": [
                { "date": day(10), "totalLiquidityUSD": 10_000_000_000.0 },
                { "date": day(1), "totalLiquidityUSD": 12_345_678_901.23 },
                { "date": day(0), "totalLiquidityUSD": 12_400_000_000u64 }
            ],
            "chainTvls": { "Ethereum": { "tvl": [], "tokens": [], "tokensInUsd": [] } },
            "currentChainTvls": { "Ethereum": 12_400_000_000u64, "Ethereum-borrowed": 1.0 }
        }))
    } else if request.target == "/v2/historicalChainTvl/Ethereum" {
        Reply::json(
            json!([{ "date": day(2), "tvl": 61_234_567_890.5 }, { "date": day(1), "tvl": 61_000_000_000u64 }]),
        )
    } else {
        Reply::status(404)
    }
}

#[tokio::test]
async fn defillama_protocol_and_chain_tvl() {
    let env = env().await;
    let server = stub(|request, _| defillama_reply(request)).await;
    let outcome = ingestor(&env, vec![Arc::new(defillama(&server.url))])
        .run_once()
        .await;
    assert_eq!(outcome.failed(), 0, "{:?}", outcome.runs);
    let metrics = env
        .service
        .defi_metrics(
            DefiFilter {
                subject: Some("protocol:aave".into()),
                metric: Some("tvl".into()),
                ..DefiFilter::default()
            },
            PageRequest::first(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        metrics.len(),
        2,
        "points older than the lookback are skipped"
    );
    assert_eq!(
        metrics[1].value,
        d("12345678901.23"),
        "exact, never through a float"
    );
    let chain = env
        .service
        .defi_metrics(
            DefiFilter {
                subject: Some("chain:Ethereum".into()),
                metric: None,
                ..DefiFilter::default()
            },
            PageRequest::first(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1].value, d("61234567890.5"));
}

#[tokio::test]
async fn retries_honour_retry_after_and_stay_bounded() {
    let env = env().await;
    // 429 with a short Retry-After, then success.
    let limited = stub(|request, number| {
        if number == 0 {
            Reply {
                status: 429,
                headers: vec![("Retry-After", "1".into())],
                body: "{}".into(),
            }
        } else {
            defillama_reply(request)
        }
    })
    .await;
    let started = Instant::now();
    let outcome = ingestor(&env, vec![Arc::new(defillama(&limited.url))])
        .run_once()
        .await;
    assert_eq!(outcome.failed(), 0, "{:?}", outcome.runs);
    assert!(
        started.elapsed() >= StdDuration::from_secs(1),
        "waited the Retry-After"
    );
    assert_eq!(limited.hits(), 3);

    // A Retry-After beyond the cap fails at once: one request per channel.
    let refusing = stub(|_, _| Reply {
        status: 429,
        headers: vec![("Retry-After", "3600".into())],
        body: "{}".into(),
    })
    .await;
    let started = Instant::now();
    let outcome = ingestor(&env, vec![Arc::new(defillama(&refusing.url))])
        .run_once()
        .await;
    assert_eq!(outcome.failed(), 2);
    assert_eq!(refusing.hits(), 2);
    assert!(started.elapsed() < StdDuration::from_secs(2));
    assert!(
        outcome.runs[0]
            .error
            .as_deref()
            .unwrap()
            .starts_with("rate_limited")
    );

    // 5xx forever: exactly max_attempts requests per channel, with short backoff.
    let broken = stub(|_, _| Reply::status(503)).await;
    let started = Instant::now();
    let outcome = ingestor(&env, vec![Arc::new(defillama(&broken.url))])
        .run_once()
        .await;
    assert_eq!(outcome.failed(), 2);
    assert_eq!(broken.hits(), 6);
    assert!(started.elapsed() < StdDuration::from_secs(2));
    assert!(
        outcome.runs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("HTTP 503")
    );

    // 404 is not retried.
    let missing = stub(|_, _| Reply::status(404)).await;
    ingestor(&env, vec![Arc::new(defillama(&missing.url))])
        .run_once()
        .await;
    assert_eq!(missing.hits(), 2);
    assert_eq!(
        env.count("defi_metrics"),
        4,
        "only the first, successful cycle stored rows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_retried_then_recorded() {
    let env = env().await;
    let slow = stub(|request, _| {
        std::thread::sleep(StdDuration::from_millis(400));
        defillama_reply(request)
    })
    .await;
    let mut fast = policy();
    fast.timeout = StdDuration::from_millis(100);
    fast.max_attempts = 2;
    let source = DefiLlamaSource::new(
        DefiLlamaConfig {
            base_url: slow.url.clone(),
            protocols: vec!["aave".into()],
            chains: Vec::new(),
            lookback: Duration::days(3),
        },
        HttpClient::new(fast).unwrap(),
    );
    let outcome = ingestor(&env, vec![Arc::new(source)]).run_once().await;
    let protocol = outcome
        .runs
        .iter()
        .find(|r| r.channel == "protocol-tvl")
        .unwrap();
    assert_eq!(protocol.status, RunStatus::Failed);
    assert!(protocol.error.as_deref().unwrap().starts_with("transport"));
    assert_eq!(slow.hits(), 2);
}

#[tokio::test]
async fn one_failing_source_does_not_stop_the_others() {
    let env = env().await;
    let down = stub(|_, _| Reply::status(500)).await;
    let llama = stub(|request, _| defillama_reply(request)).await;
    let outcome = ingestor(
        &env,
        vec![
            Arc::new(hyperliquid(&down.url)),
            Arc::new(defillama(&llama.url)),
        ],
    )
    .run_once()
    .await;
    assert_eq!(outcome.failed(), 5);
    assert_eq!(outcome.succeeded(), 2);
    assert_eq!(env.count("defi_metrics"), 4);
    let health = env.service.source_health().await.unwrap();
    assert_eq!(health.len(), 7);
    assert!(
        health
            .iter()
            .filter(|h| h.source == "hyperliquid")
            .all(|h| h.last_status == RunStatus::Failed && h.last_error.is_some())
    );
    assert!(
        health
            .iter()
            .filter(|h| h.source == "defillama")
            .all(|h| h.last_status == RunStatus::Succeeded)
    );
}
