//! The market stream against a stub market channel on 127.0.0.1: a trade on a watched asset
//! wakes a poll that mirrors the fill, which the interval poll then sees as a duplicate; the
//! stream pings, reconnects after a drop, subscribes again and follows new assets.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clones_copy_mirror::stream::{MarketStream, StreamCounters, StreamSettings};
use clones_copy_mirror::wakeup::{Followup, Subscriptions, WakeCounters, WakeDrain};
use clones_copy_mirror::{PollReport, WatchSettings, Watcher};
use clones_kernel::{Clock, PageRequest};
use tokio::sync::{mpsc, watch};

use crate::stub::{channel, data_api};
use crate::support::{TOKEN, WALLET, fixture};
use crate::watch::trade;

fn settings(url: &str) -> StreamSettings {
    StreamSettings {
        ping_every: Duration::from_millis(50),
        silence_limit: Duration::from_secs(2),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..StreamSettings::new(url.parse().unwrap())
    }
}

async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..250 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_trade_on_a_watched_asset_wakes_a_poll_and_the_interval_poll_sees_a_duplicate() {
    let f = fixture().await;
    let (owner, _) = f.tenant().await;
    let now = f.clock.now().timestamp();
    // An hour-old trade: before the first poll's backlog, so it teaches the asset only.
    let trades = Arc::new(Mutex::new(vec![trade(1, now - 3_600)]));
    let api = data_api(trades.clone(), Arc::default()).await;
    let watcher =
        Arc::new(Watcher::new(f.copy.clone(), WatchSettings::new(api.parse().unwrap())).unwrap());
    let (subscriptions, assets) = Subscriptions::new();
    let first = watcher.poll(WALLET, f.clock.now()).await.unwrap();
    assert_eq!(first.tick.placed, 0);
    subscriptions.learn(WALLET, &first);

    let venue = channel(false).await;
    let (wake_tx, wake_rx) = mpsc::channel(64);
    let (stop, stopped) = watch::channel(false);
    let counters = Arc::new(StreamCounters::default());
    tokio::spawn(
        MarketStream::new(settings(&venue.url), assets, wake_tx, counters.clone()).run(stopped),
    );
    let wakes = Arc::new(WakeCounters::default());
    tokio::spawn(
        WakeDrain::new(
            subscriptions.clone(),
            watcher.clone(),
            Arc::new(f.clock.clone()),
            Followup::NONE,
            wakes.clone(),
        )
        .run(wake_rx),
    );
    assert!(eventually(|| !venue.subscriptions().is_empty()).await);
    assert_eq!(
        venue.subscriptions()[0]["assets_ids"],
        serde_json::json!([TOKEN])
    );

    // The target trades: the Data API has it, and the market reports it.
    trades.lock().unwrap().push(trade(2, now - 1));
    venue
        .push
        .send(
            serde_json::json!([{
                "event_type": "last_trade_price", "asset_id": TOKEN, "market": "0xd",
                "price": "0.5", "side": "BUY", "size": "40", "fee_rate_bps": "0",
                "timestamp": "1764979200000"
            }])
            .to_string(),
        )
        .unwrap();
    let page = PageRequest::new(Some(50), None).unwrap();
    let mut mirrored = false;
    for _ in 0..250 {
        if !f.copy.fills(owner, page).await.unwrap().items.is_empty() {
            mirrored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(mirrored, "the wake-up poll mirrored the fill");
    assert_eq!(counters.wakeups.load(Ordering::SeqCst), 1);
    // The claim commits before the poll that made it returns.
    assert!(eventually(|| wakes.placed.load(Ordering::SeqCst) == 1).await);

    // The interval poll reads the same trade: a duplicate, no second order or decision.
    let interval: PollReport = watcher.poll(WALLET, f.clock.now()).await.unwrap();
    assert_eq!((interval.tick.placed, interval.tick.duplicates), (0, 1));
    assert_eq!(f.copy.decisions(owner, page).await.unwrap().items.len(), 1);
    stop.send(true).unwrap();
}

#[tokio::test]
async fn the_stream_pings_reconnects_subscribes_again_and_follows_new_assets() {
    let venue = channel(true).await;
    let (subscriptions, assets) = Subscriptions::new();
    subscriptions.learn(
        WALLET,
        &PollReport {
            assets: BTreeSet::from([TOKEN.to_string()]),
            ..PollReport::default()
        },
    );
    let (wake_tx, _wake_rx) = mpsc::channel(8);
    let (stop, stopped) = watch::channel(false);
    let counters = Arc::new(StreamCounters::default());
    let running = tokio::spawn(
        MarketStream::new(settings(&venue.url), assets, wake_tx, counters.clone()).run(stopped),
    );
    // The first connection is dropped after its subscription; the second subscribes again.
    assert!(
        eventually(|| venue
            .subscriptions()
            .iter()
            .filter(|message| message["type"] == "market")
            .count()
            >= 2)
        .await
    );
    assert!(venue.connections.load(Ordering::SeqCst) >= 2);
    assert!(counters.disconnects.load(Ordering::SeqCst) >= 1);
    assert!(eventually(|| venue.received().iter().any(|text| text == "PING")).await);

    subscriptions.learn(
        "0x00000000000000000000000000000000000000aa",
        &PollReport {
            assets: BTreeSet::from(["42".to_string()]),
            ..PollReport::default()
        },
    );
    assert!(
        eventually(|| venue.subscriptions().iter().any(|message| {
            message["operation"] == "subscribe"
                && message["assets_ids"] == serde_json::json!(["42"])
        }))
        .await
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), running)
        .await
        .unwrap()
        .unwrap();
}
