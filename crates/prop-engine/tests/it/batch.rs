//! Orders of many accounts in one transaction (`place_orders`): the same ledger as one at a
//! time, refusals alone, idempotency across batches.

use clones_kernel::PageRequest;
use clones_market::Side;
use clones_prop_engine::{
    BatchOrder, OrderOutcome, OrderRequest, OrderStatus, PropError, PropService,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::support::{BTC, Fixture, PURR, d, fixture, request, wide_limits};

/// The orders each account of a comparison places, in order: opens, adds, a partial close, a
/// reduce-only sell larger than the position, an unknown instrument (rejected) and a flip.
fn script() -> Vec<OrderRequest> {
    let mut reduce = request(PURR, Side::Sell, "500");
    reduce.reduce_only = true;
    vec![
        request(BTC, Side::Buy, "1"),
        request(PURR, Side::Buy, "300"),
        request(BTC, Side::Buy, "0.5"),
        request(BTC, Side::Sell, "0.75"),
        reduce,
        request("hyperliquid:perp:NOPE", Side::Buy, "1"),
        request(BTC, Side::Sell, "2"),
    ]
}

/// What an account's history comes to, without ids and times, sorted: every row of a fixed
/// clock has the same time, so pages order them by id.
type Projection = (
    Vec<(String, Side, OrderStatus, Decimal, Option<String>)>,
    Vec<(String, Side, Decimal, Decimal, Decimal, Decimal)>,
    Vec<(String, Decimal, Decimal, Decimal)>,
    Vec<Vec<(String, Decimal)>>,
);

async fn project(f: &Fixture, owner: Uuid, account: Uuid) -> Projection {
    let page = PageRequest::new(Some(500), None).unwrap();
    let mut orders: Vec<_> = f
        .prop
        .orders(owner, account, page)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|order| {
            (
                order.instrument.clone(),
                order.side,
                order.status,
                order.filled_size,
                order
                    .reject_reason()
                    .map(|reason| reason.code().to_string()),
            )
        })
        .collect();
    orders.sort_by_key(|row| format!("{row:?}"));
    let mut fills: Vec<_> = f
        .prop
        .fills(owner, account, page)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|fill| {
            (
                fill.instrument,
                fill.side,
                fill.price,
                fill.size,
                fill.fee,
                fill.realized_pnl,
            )
        })
        .collect();
    fills.sort_by_key(|row| format!("{row:?}"));
    let positions = f
        .prop
        .positions(owner, account)
        .await
        .unwrap()
        .into_iter()
        .map(|position| {
            (
                position.instrument,
                position.size,
                position.avg_entry,
                position.realized_pnl,
            )
        })
        .collect();
    let mut ledger: Vec<Vec<(String, Decimal)>> = f
        .prop
        .ledger(owner, account, page)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|event| {
            event
                .entries
                .into_iter()
                .map(|entry| (format!("{:?}", entry.ledger_account), entry.amount))
                .collect()
        })
        .collect();
    ledger.sort_by_key(|row| format!("{row:?}"));
    (orders, fills, positions, ledger)
}

#[tokio::test]
async fn a_batch_leaves_the_ledger_that_one_order_at_a_time_leaves() {
    let f = fixture().await;
    f.mid(BTC, "100");
    f.mid(PURR, "1");
    let owners = [f.user().await, f.user().await];
    let mut singles = Vec::new();
    let mut batched = Vec::new();
    for owner in owners {
        for _ in 0..2 {
            singles.push((owner, f.account(owner, Some(wide_limits())).await.id));
            batched.push((owner, f.account(owner, Some(wide_limits())).await.id));
        }
    }
    for &(owner, account) in &singles {
        for order in script() {
            f.prop.place_order(owner, account, order).await.unwrap();
        }
    }
    // The batch interleaves the accounts' scripts; each account keeps its own order.
    let mut batch = Vec::new();
    for step in script() {
        for &(owner, account_id) in &batched {
            batch.push(BatchOrder {
                owner,
                account_id,
                request: step.clone(),
            });
        }
    }
    let results = f.prop.place_orders(batch).await.unwrap();
    assert_eq!(results.len(), script().len() * batched.len());
    assert!(results.iter().all(Result::is_ok));
    for (&(owner, single), &(_, batch)) in singles.iter().zip(&batched) {
        let expected = project(&f, owner, single).await;
        assert_eq!(project(&f, owner, batch).await, expected);
        assert!(!expected.1.is_empty());
        assert!(f.prop.reconcile(batch).await.unwrap().balanced);
    }
}

#[tokio::test]
async fn a_refused_order_is_refused_alone_and_repeats_return_the_first_result() {
    let f = fixture().await;
    f.mid(BTC, "100");
    let alice = f.user().await;
    let bob = f.user().await;
    let account = f.account(alice, Some(wide_limits())).await.id;
    let bobs = f.account(bob, Some(wide_limits())).await.id;
    let mut tagged = request(BTC, Side::Buy, "1");
    tagged.decision_action_id = Some("run:0".into());
    let invalid = request("not a key", Side::Buy, "1");
    let order = |owner, account_id, request| BatchOrder {
        owner,
        account_id,
        request,
    };
    let results = f
        .prop
        .place_orders(vec![
            order(alice, account, tagged.clone()),
            // Bob's account named with Alice as its owner is not found.
            order(alice, bobs, request(BTC, Side::Buy, "1")),
            order(alice, account, invalid),
            order(bob, bobs, request(BTC, Side::Buy, "2")),
        ])
        .await
        .unwrap();
    let first: &OrderOutcome = results[0].as_ref().unwrap();
    assert!(first.created);
    assert_eq!(first.order.status, OrderStatus::Filled);
    assert!(matches!(results[1], Err(PropError::AccountNotFound)));
    assert!(matches!(results[2], Err(PropError::InvalidInput(_))));
    assert_eq!(results[3].as_ref().unwrap().order.filled_size, d("2"));

    let again = f
        .prop
        .place_orders(vec![order(alice, account, tagged)])
        .await
        .unwrap();
    let repeat = again[0].as_ref().unwrap();
    assert!(!repeat.created);
    assert_eq!(repeat.order.id, first.order.id);
    let positions = f.prop.positions(alice, account).await.unwrap();
    assert_eq!(positions[0].size, d("1"));
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
    assert!(f.prop.reconcile(bobs).await.unwrap().balanced);
}

#[tokio::test]
async fn an_empty_batch_answers_nothing() {
    let f = fixture().await;
    assert!(f.prop.place_orders(Vec::new()).await.unwrap().is_empty());
}

#[tokio::test]
async fn trading_states_read_many_accounts_and_only_their_owners() {
    let f = fixture().await;
    f.mid(BTC, "100");
    let alice = f.user().await;
    let bob = f.user().await;
    let trading = f.account(alice, Some(wide_limits())).await.id;
    let idle = f.account(alice, Some(wide_limits())).await.id;
    let bobs = f.account(bob, Some(wide_limits())).await.id;
    f.order(alice, trading, BTC, Side::Buy, "2").await;
    f.prop.mark_to_market(100).await.unwrap();

    let states = f
        .prop
        .trading_states(vec![
            (alice, trading),
            (alice, bobs),
            (alice, idle),
            (bob, bobs),
            (alice, trading),
        ])
        .await
        .unwrap();
    assert_eq!(states.len(), 5);
    let first = states[0].as_ref().unwrap();
    assert_eq!(first.account.id, trading);
    assert_eq!(first.positions.len(), 1);
    assert_eq!(first.positions[0].size, d("2"));
    let snapshot = f.prop.latest_equity(alice, trading).await.unwrap();
    assert_eq!(first.latest_equity, snapshot);
    assert!(first.latest_equity.is_some());
    assert!(states[1].is_none(), "Bob's account is not Alice's");
    let second = states[2].as_ref().unwrap();
    assert!(second.positions.is_empty());
    assert_eq!(second.account.cash, d("100000"));
    assert_eq!(states[3].as_ref().unwrap().account.id, bobs);
    // An account named twice is answered twice.
    assert_eq!(states[4].as_ref().unwrap().positions, first.positions);
    assert!(f.prop.trading_states(Vec::new()).await.unwrap().is_empty());
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct AccountFacts {
    #[diesel(sql_type = diesel::sql_types::Date)]
    day_anchor: chrono::NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    day_start_equity: Decimal,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    orders_placed: i64,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Timestamptz>)]
    opened: Vec<chrono::DateTime<chrono::Utc>>,
}

async fn facts(f: &Fixture, account: Uuid) -> AccountFacts {
    f.db.db()
        .cross_tenant_transaction("test: account facts", move |conn| {
            use diesel::RunQueryDsl;
            Ok::<_, clones_db::DbError>(
                diesel::sql_query(
                    "SELECT day_anchor, day_start_equity, orders_placed, \
                     ARRAY(SELECT opened_at FROM prop_positions p WHERE p.account_id = a.id \
                     ORDER BY instrument) AS opened FROM prop_accounts a WHERE id = $1",
                )
                .bind::<diesel::sql_types::Uuid, _>(account)
                .get_result::<AccountFacts>(conn)?,
            )
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_repeats_rate_limits_rolls_the_day_and_reopens_positions_as_single_orders_do() {
    let f = fixture().await;
    f.mid(BTC, "100");
    f.mid(PURR, "1");
    let owner = f.user().await;
    let limits = clones_prop_engine::RiskLimits {
        max_orders_per_minute: 4,
        ..wide_limits()
    };
    let single = f.account(owner, Some(limits.clone())).await.id;
    let batched = f.account(owner, Some(limits)).await.id;
    for account in [single, batched] {
        f.order(owner, account, BTC, Side::Buy, "1").await;
    }
    // The next day: the first order rolls the day, the BTC position closes and reopens, an
    // action is delivered twice, and the fifth order of the minute hits the rate limit (the
    // order four places back is this round's own first one; the one before it, yesterday's,
    // is outside the window).
    f.clock.advance(chrono::Duration::hours(25));
    f.mid(BTC, "110");
    f.mid(PURR, "1");
    let mut tagged = request(BTC, Side::Buy, "1");
    tagged.decision_action_id = Some("run:7".into());
    let script = vec![
        request(BTC, Side::Sell, "1"),
        request(BTC, Side::Buy, "2"),
        tagged.clone(),
        tagged,
        request(PURR, Side::Buy, "10"),
        request(PURR, Side::Buy, "10"),
    ];
    let mut expected = Vec::new();
    for order in script.clone() {
        expected.push(f.prop.place_order(owner, single, order).await.unwrap());
    }
    let results = f
        .prop
        .place_orders(
            script
                .into_iter()
                .map(|request| BatchOrder {
                    owner,
                    account_id: batched,
                    request,
                })
                .collect(),
        )
        .await
        .unwrap();
    let results: Vec<OrderOutcome> = results.into_iter().map(Result::unwrap).collect();
    for (got, want) in results.iter().zip(&expected) {
        assert_eq!(got.created, want.created);
        assert_eq!(got.order.status, want.order.status);
        assert_eq!(
            got.order.reject_reason().map(|reason| reason.code()),
            want.order.reject_reason().map(|reason| reason.code())
        );
    }
    assert!(!results[3].created);
    assert_eq!(results[3].order.id, results[2].order.id);
    assert_eq!(
        results[5].order.reject_reason().map(|reason| reason.code()),
        Some("order_rate_limited")
    );
    assert_eq!(
        project(&f, owner, batched).await,
        project(&f, owner, single).await
    );
    let (got, want) = (facts(&f, batched).await, facts(&f, single).await);
    assert_eq!(got, want);
    assert_eq!(got.day_anchor, f.now().date_naive());
    assert_eq!(got.opened[0], f.now(), "BTC reopened from flat today");
    assert!(f.prop.reconcile(batched).await.unwrap().balanced);
}

#[tokio::test]
async fn order_lanes_execute_concurrent_orders_once_each_with_a_reconciled_ledger() {
    let f = fixture().await;
    f.mid(BTC, "100");
    let prop = f
        .prop
        .clone()
        .with_order_lanes(clones_prop_engine::OrderLaneSettings {
            lanes: 2,
            max_batch: 16,
        });
    let owner = f.user().await;
    let stranger = f.user().await;
    let mut accounts = Vec::new();
    for _ in 0..4 {
        accounts.push(f.account(owner, Some(wide_limits())).await.id);
    }
    let mut tasks = Vec::new();
    for caller in 0..48_usize {
        let prop = prop.clone();
        let account = accounts[caller % accounts.len()];
        tasks.push(tokio::spawn(async move {
            let mut order = request(BTC, Side::Buy, "0.1");
            // Twelve deliveries of one decision action on the first account.
            if caller % 4 == 0 {
                order.decision_action_id = Some("run:shared".into());
            }
            // A stranger naming the owner's account is refused alone.
            let who = if caller == 47 { stranger } else { owner };
            prop.place_order(who, account, order).await
        }));
    }
    let mut shared = Vec::new();
    let mut created = 0;
    let mut refused = 0;
    for (caller, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(outcome) => {
                created += usize::from(outcome.created);
                if caller % 4 == 0 {
                    shared.push(outcome.order.id);
                }
            }
            Err(PropError::AccountNotFound) => refused += 1,
            Err(error) => panic!("{error}"),
        }
    }
    assert_eq!(refused, 1);
    assert_eq!(shared.len(), 12);
    assert!(
        shared.iter().all(|id| *id == shared[0]),
        "one order per action"
    );
    // 35 plain orders plus the shared action's one.
    assert_eq!(created, 36);
    let mut total = Decimal::ZERO;
    for account in &accounts {
        assert!(f.prop.reconcile(*account).await.unwrap().balanced);
        total += f
            .prop
            .positions(owner, *account)
            .await
            .unwrap()
            .iter()
            .map(|position| position.size)
            .sum::<Decimal>();
    }
    assert_eq!(total, d("3.6"));
}
