//! Every market list pages through more rows than one page holds, seeing each row exactly once
//! in the list's order, and refuses a cursor issued by a list of another shape.

use chrono::{DateTime, Duration, Utc};
use clones_ingest::{
    Batch, Candle, DefiFilter, DefiMetric, IngestService, InstrumentFilter, MarketData,
    NewInstrument, NewPredictionMarket,
};
use clones_kernel::{Cursor, CursorKey, Page, PageError, PageRequest};
use clones_market::{InstrumentKey, Timeframe};
use rust_decimal::Decimal;

use crate::support::{env, t0};

/// Reads every page of a list with `limit` rows per page.
async fn all_pages<T, K, F, Fut>(limit: u32, mut read: F) -> Vec<T>
where
    K: CursorKey,
    F: FnMut(PageRequest<K>) -> Fut,
    Fut: std::future::Future<Output = Page<T, K>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        // Through the text form, as a client would send it back.
        let text = cursor.as_ref().map(Cursor::<K>::encode);
        let request = PageRequest::parse(Some(&limit.to_string()), text.as_deref()).unwrap();
        let page = read(request).await;
        assert!(page.items.len() <= limit as usize);
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

fn market(id: &str, end: Option<DateTime<Utc>>) -> NewPredictionMarket {
    NewPredictionMarket {
        market_id: id.into(),
        venue: "polymarket".into(),
        condition_id: None,
        question: format!("question {id}?"),
        slug: None,
        end_date: end,
        active: true,
        closed: false,
        resolved_outcome: None,
        metadata: serde_json::json!({}),
    }
}

fn one() -> Decimal {
    Decimal::ONE
}

#[tokio::test]
async fn every_market_list_pages_each_row_exactly_once() {
    let env = env().await;
    let mut batch = Batch::default();
    for symbol in ["ETH", "BTC", "SOL", "DOGE", "ARB", "OP", "AVAX"] {
        let key = InstrumentKey::parse(&format!("hyperliquid:perp:{symbol}")).unwrap();
        batch.instruments.push(NewInstrument::bare(key));
    }
    // Two markets share an end date and three have none: ties and the undated tail both
    // fall on page boundaries with two rows a page.
    let end = t0() + Duration::days(3);
    for (id, end) in [
        ("m5", None),
        ("m1", Some(end)),
        ("m2", Some(end)),
        ("m0", Some(end - Duration::days(1))),
        ("m3", None),
        ("m4", None),
    ] {
        batch.markets.push(market(id, end));
    }
    for subject in ["chain:Ethereum", "protocol:aave"] {
        for metric in ["tvl", "volume"] {
            for day in 0..3 {
                batch.defi.push(DefiMetric {
                    subject: subject.into(),
                    metric: metric.into(),
                    time: t0() + Duration::days(day),
                    value: one(),
                });
            }
        }
    }
    let btc = InstrumentKey::parse("hyperliquid:perp:BTC").unwrap();
    for minute in 0..7 {
        batch.candles.push((
            btc.clone(),
            Timeframe::M1,
            Candle {
                open_time: t0() + Duration::minutes(minute),
                open: one(),
                high: one(),
                low: one(),
                close: one(),
                volume: one(),
                trades: None,
            },
        ));
    }
    env.service
        .store_batch("test", "pages", t0(), 1, batch)
        .await
        .unwrap();
    let service = &env.service;

    let keys: Vec<String> = all_pages(2, |page| async move {
        service
            .instruments(InstrumentFilter::default(), page)
            .await
            .unwrap()
    })
    .await
    .into_iter()
    .map(|instrument| instrument.key)
    .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "ordered by key, each once");
    assert_eq!(keys.len(), 7);

    let markets: Vec<String> = all_pages(2, |page| async move {
        service.prediction_markets(None, page).await.unwrap()
    })
    .await
    .into_iter()
    .map(|market| market.market_id)
    .collect();
    assert_eq!(markets, ["m0", "m1", "m2", "m3", "m4", "m5"]);

    let metrics = all_pages(5, |page| async move {
        service
            .defi_metrics(DefiFilter::default(), page)
            .await
            .unwrap()
    })
    .await;
    let order: Vec<(String, String, DateTime<Utc>)> = metrics
        .into_iter()
        .map(|m| (m.subject, m.metric, m.time))
        .collect();
    let mut expected = order.clone();
    expected.sort_by(|a, b| (&a.0, &a.1, b.2).cmp(&(&b.0, &b.1, a.2)));
    expected.dedup();
    assert_eq!(
        order, expected,
        "by subject and metric, newest first within"
    );
    assert_eq!(order.len(), 12);

    let bars = all_pages(3, |page| {
        let key = btc.to_string();
        async move {
            service
                .candle_page(&key, Timeframe::M1, t0(), t0() + Duration::hours(1), page)
                .await
                .unwrap()
        }
    })
    .await;
    let times: Vec<DateTime<Utc>> = bars.iter().map(|bar| bar.open_time).collect();
    let expected: Vec<DateTime<Utc>> = (0..7).map(|m| t0() + Duration::minutes(m)).collect();
    assert_eq!(times, expected);
}

#[test]
fn a_cursor_of_another_list_is_an_invalid_page() {
    let instrument = Cursor::at_key("hyperliquid:perp:BTC".to_string()).encode();
    assert_eq!(
        PageRequest::<(Option<DateTime<Utc>>, String)>::parse(None, Some(&instrument)),
        Err(PageError::MalformedCursor)
    );
}
