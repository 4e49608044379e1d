//! Paging through lists whose rows share one timestamp: every row is seen exactly once.

use std::collections::BTreeSet;
use std::future::Future;

use clones_kernel::{Cursor, Page, PageRequest};
use clones_market::Side;
use clones_prop_engine::{Book, Level, MarketQuote, PropError, PropService};
use uuid::Uuid;

use crate::support::{BTC, d, fixture, wide_limits};

/// Reads every page of a list with `limit` rows per page, returning the ids in order.
async fn all_pages<T, F, Fut>(limit: u32, id: impl Fn(&T) -> Uuid, read: F) -> Vec<Uuid>
where
    F: Fn(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, PropError>>,
{
    let mut cursor: Option<Cursor> = None;
    let mut ids = Vec::new();
    loop {
        let page = read(PageRequest::new(Some(limit), cursor).unwrap())
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(&id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

fn assert_each_once(ids: &[Uuid], expected: usize) {
    let unique: BTreeSet<&Uuid> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a row was listed twice: {ids:?}");
    assert_eq!(ids.len(), expected, "rows were skipped: {ids:?}");
}

#[tokio::test]
async fn fills_of_one_order_are_paged_through_exactly_once() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    // Seven levels of one unit each: a buy of seven walks the book into seven fills, all of
    // them stamped with the order's time.
    let asks = (0..7)
        .map(|step| Level {
            price: d("100") + d("0.5") * rust_decimal::Decimal::from(step),
            size: d("1"),
        })
        .collect();
    f.feed.set_quote(
        BTC,
        MarketQuote {
            mid: d("100"),
            mid_at: f.now(),
            book: Some(Book {
                observed_at: f.now(),
                bids: vec![Level {
                    price: d("99.5"),
                    size: d("1"),
                }],
                asks,
            }),
        },
    );
    let outcome = f.order(owner, account, BTC, Side::Buy, "7").await;
    assert_eq!(outcome.fills.len(), 7);

    let prop = &f.prop;
    let ids = all_pages(
        3,
        |fill: &clones_prop_engine::FillView| fill.id,
        |page| prop.fills(owner, account, page),
    )
    .await;
    assert_each_once(&ids, 7);

    // Forward, oldest first, the way an incremental consumer follows the account: each page
    // starts at the position of the previous page's last fill, inside the order.
    let forward = forward_pages(3, |page| prop.fills_after(owner, account, page)).await;
    assert_each_once(&forward, 7);
    let mut sorted = forward.clone();
    sorted.sort();
    assert_eq!(forward, sorted, "one order's fills come in id order");
    // The position of any fill, not only a page's last, resumes right after it.
    let everything = prop
        .fills_after(owner, account, PageRequest::new(Some(10), None).unwrap())
        .await
        .unwrap()
        .items;
    let rest = prop
        .fills_after(
            owner,
            account,
            PageRequest::new(Some(10), Some(everything[4].position())).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(rest.items, everything[5..]);
    assert_eq!(rest.next_cursor, None);
}

/// Reads a forward list page by page, each starting at the position of the previous page's
/// last row, until a page says nothing follows; returns the fill ids in order.
async fn forward_pages<F, Fut>(limit: u32, read: F) -> Vec<Uuid>
where
    F: Fn(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<clones_prop_engine::FillView>, PropError>>,
{
    let mut cursor = None;
    let mut ids = Vec::new();
    loop {
        let page = read(PageRequest::new(Some(limit), cursor).unwrap())
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(|fill| fill.id));
        if page.next_cursor.is_none() {
            return ids;
        }
        cursor = page.items.last().map(|fill| fill.position());
        assert_eq!(cursor, page.next_cursor);
    }
}

#[tokio::test]
async fn ledger_events_sharing_a_timestamp_are_paged_through_exactly_once() {
    let f = fixture().await;
    let owner = f.user().await;
    let admin = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    f.mid(BTC, "100");
    // The clock stands still: every order, fill and ledger event below shares one timestamp.
    for _ in 0..4 {
        f.order(owner, account, BTC, Side::Buy, "1").await;
    }
    for _ in 0..3 {
        f.prop
            .adjust(admin, account, d("1"), "goodwill credit")
            .await
            .unwrap();
    }
    let prop = &f.prop;
    let everything = prop
        .ledger(owner, account, PageRequest::new(Some(500), None).unwrap())
        .await
        .unwrap();
    let expected = everything.items.len();
    assert!(expected >= 7, "{expected}");
    assert_eq!(everything.next_cursor, None);

    let events = all_pages(
        2,
        |event: &clones_prop_engine::LedgerEventView| event.id,
        |page| prop.ledger(owner, account, page),
    )
    .await;
    assert_each_once(&events, expected);

    let orders = all_pages(
        3,
        |order: &clones_prop_engine::OrderView| order.id,
        |page| prop.orders(owner, account, page),
    )
    .await;
    assert_each_once(&orders, 4);

    let audit = all_pages(
        2,
        |entry: &clones_prop_engine::AuditEntry| entry.id,
        |page| prop.audit_log(Some(account), page),
    )
    .await;
    assert_each_once(&audit, 3);
}
