//! Execution and marking against market memory itself: observations stored through the ingest
//! service, read back through `MarketMemoryFeed`, on one real database.

use std::sync::Arc;

use chrono::Duration;
use clones_ingest::{Batch, BookSnapshot, IngestService, NewInstrument, PgIngestService};
use clones_market::{InstrumentKey, Side};
use clones_prop_engine::{MarketMemoryFeed, PgPropService, PropService};

use crate::support::{BTC, d, fixture, request, wide_limits};

#[tokio::test]
async fn orders_fill_on_stored_books_and_accounts_are_marked_on_stored_mids() {
    let f = fixture().await;
    let ingest = Arc::new(PgIngestService::new(
        f.db.db().clone(),
        Arc::new(f.clock.clone()),
    ));
    let settings = clones_prop_engine::PropSettings {
        fill: clones_prop_engine::FillConfig {
            fees: clones_prop_engine::FeeSchedule::flat(d("5")),
            slippage_bps: d("10"),
            max_book_age: Duration::seconds(5),
            max_quote_age: Duration::seconds(60),
        },
        kill_switch: false,
    };
    let prop = PgPropService::new(
        f.db.db().clone(),
        Arc::new(f.clock.clone()),
        Arc::new(MarketMemoryFeed::new(ingest.clone())),
        settings,
    );
    let key = InstrumentKey::perp("hyperliquid", "BTC").unwrap();
    let store = |batch: Batch| {
        let ingest = ingest.clone();
        let now = f.now();
        async move {
            let run = ingest
                .store_batch("test", "market", now, 1, batch)
                .await
                .unwrap();
            assert_eq!(run.error, None, "{run:?}");
        }
    };
    store(Batch {
        instruments: vec![NewInstrument::bare(key.clone())],
        mids: vec![(key.clone(), f.now(), d("50000"))],
        books: vec![(
            key.clone(),
            BookSnapshot {
                observed_at: f.now(),
                bids: vec![(d("49990"), d("1"))],
                asks: vec![(d("50010"), d("1")), (d("50020"), d("5"))],
            },
        )],
        ..Batch::default()
    })
    .await;

    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await;
    let bought = prop
        .place_order(owner, account.id, request(BTC, Side::Buy, "2"))
        .await
        .unwrap();
    let prices: Vec<_> = bought
        .fills
        .iter()
        .map(|fill| (fill.price, fill.size))
        .collect();
    assert_eq!(prices, vec![(d("50010"), d("1")), (d("50020"), d("1"))]);

    // A minute later the stored mid is 51 000: the snapshot marks the position there.
    f.clock.advance(Duration::minutes(1));
    store(Batch {
        mids: vec![(key.clone(), f.now(), d("51000"))],
        ..Batch::default()
    })
    .await;
    let report = prop.mark_to_market(10).await.unwrap();
    assert_eq!((report.accounts, report.unmarked_positions), (1, 0));
    let equity = prop
        .latest_equity(owner, account.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(equity.unrealized_pnl, d("1970"));
    assert_eq!(equity.gross_exposure, d("102000"));

    // With market memory silent for longer than the quote age, nothing fills.
    f.clock.advance(Duration::minutes(5));
    let stale = prop
        .place_order(owner, account.id, request(BTC, Side::Buy, "1"))
        .await
        .unwrap();
    assert!(stale.fills.is_empty(), "{stale:?}");
}
