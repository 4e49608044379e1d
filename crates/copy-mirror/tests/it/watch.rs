//! Wallet watch against a stub Data API on 127.0.0.1: trades since the watermark are mirrored,
//! the watermark is the poll's start less the lag, and a trade that lands during a poll is
//! read by the next one.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use clones_copy_mirror::{WatchSettings, Watcher};
use clones_kernel::{Clock, PageRequest};
use serde_json::{Value, json};

use crate::stub::data_api;
use crate::support::{TOKEN, WALLET, fixture};

pub fn trade(n: u64, timestamp: i64) -> Value {
    json!({
        "proxyWallet": WALLET.to_ascii_uppercase().replace("0X", "0x"),
        "side": "BUY",
        "asset": TOKEN,
        "conditionId": format!("0x{}", "d".repeat(64)),
        "size": 40,
        "price": 0.5,
        "timestamp": timestamp,
        "title": "Will it rain?",
        "outcome": "Yes",
        "outcomeIndex": 0,
        "transactionHash": format!("0x{n:064x}"),
    })
}

#[tokio::test]
async fn trades_since_the_watermark_are_mirrored_and_late_ones_are_not_skipped() {
    let f = fixture().await;
    let (owner, _) = f.tenant().await;
    let now = f.clock.now().timestamp();
    let trades = Arc::new(Mutex::new(vec![trade(1, now - 10), trade(2, now - 3_600)]));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = data_api(trades.clone(), seen.clone()).await;
    let watcher = Watcher::new(f.copy.clone(), WatchSettings::new(url.parse().unwrap())).unwrap();

    let first = watcher.poll(WALLET, f.clock.now()).await.unwrap();
    assert_eq!(first.trades, 2);
    assert_eq!(
        first.tick.placed, 1,
        "the hour-old trade is before the first poll's backlog"
    );
    assert!(seen.lock().unwrap()[0].contains(&format!("user={WALLET}")));
    assert_eq!(f.copy.watermark(WALLET).await.unwrap(), Some(now - 60));

    // A trade made during the first poll shows up in the Data API only now.
    trades.lock().unwrap().push(trade(3, now - 5));
    f.clock.advance(Duration::seconds(30));
    let second = watcher.poll(WALLET, f.clock.now()).await.unwrap();
    assert_eq!(second.tick.placed, 1);
    assert_eq!(
        second.tick.duplicates, 1,
        "the first trade again, no new decision"
    );
    let page = PageRequest::new(Some(10), None).unwrap();
    assert_eq!(f.copy.fills(owner, page).await.unwrap().items.len(), 2);
    assert_eq!(f.copy.decisions(owner, page).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn a_malformed_answer_fails_the_poll_and_keeps_the_watermark() {
    let f = fixture().await;
    f.tenant().await;
    let trades = Arc::new(Mutex::new(vec![json!({"unexpected": true})]));
    let url = data_api(trades, Arc::new(Mutex::new(Vec::new()))).await;
    let watcher = Watcher::new(f.copy.clone(), WatchSettings::new(url.parse().unwrap())).unwrap();
    assert!(watcher.poll(WALLET, f.clock.now()).await.is_err());
    assert_eq!(f.copy.watermark(WALLET).await.unwrap(), None);
}
