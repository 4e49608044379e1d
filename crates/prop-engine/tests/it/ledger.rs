//! The ledger on PostgreSQL: funding, settlement, reconciliation after random operations, and
//! the database's own guarantees (zero-sum events, append-only rows).

use chrono::Duration;
use clones_kernel::PageRequest;
use clones_market::Side;
use clones_prop_engine::{
    EventKind, FundingRate, LedgerAccount, OrderStatus, OutcomeResolution, PropService,
};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use rand::{Rng, SeedableRng};

use crate::support::{BTC, d, fixture, wide_limits};

#[tokio::test]
async fn funding_is_paid_once_per_funding_time() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    f.mid(BTC, "100");
    f.order(owner, account, BTC, Side::Buy, "10").await;
    let before = f.prop.account(owner, account).await.unwrap().cash;
    f.clock.advance(Duration::hours(1));
    f.feed.set_funding(
        BTC,
        FundingRate {
            at: f.now(),
            rate: d("0.0001"),
            mark: d("100"),
        },
    );
    let report = f.prop.apply_funding_and_settlement(account).await.unwrap();
    assert_eq!(report.funding_payments, 1);
    // size * mark * rate = 10 * 100 * 0.0001, paid by the long.
    assert_eq!(report.funding_paid, d("0.1"));
    let again = f.prop.apply_funding_and_settlement(account).await.unwrap();
    assert_eq!(again.funding_payments, 0);
    let after = f.prop.account(owner, account).await.unwrap().cash;
    assert_eq!(before - after, d("0.1"));
    let position = &f.prop.positions(owner, account).await.unwrap()[0];
    assert_eq!(position.funding_paid, d("0.1"));
    let ledger = f
        .prop
        .ledger(owner, account, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(ledger[0].kind, EventKind::Funding);
    assert_eq!(
        ledger[0]
            .entries
            .iter()
            .find(|e| e.ledger_account == LedgerAccount::Funding)
            .unwrap()
            .amount,
        d("0.1")
    );

    // A short receives funding at a positive rate.
    f.mid(BTC, "100");
    f.order(owner, account, BTC, Side::Sell, "20").await;
    f.clock.advance(Duration::hours(1));
    f.feed.set_funding(
        BTC,
        FundingRate {
            at: f.now(),
            rate: d("0.0001"),
            mark: d("100"),
        },
    );
    let report = f.prop.apply_funding_and_settlement(account).await.unwrap();
    assert_eq!(report.funding_paid, d("-0.1"));
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
}

#[tokio::test]
async fn the_worker_pass_applies_carry_to_every_account_with_positions_once() {
    let f = fixture().await;
    let (alice, bob) = (f.user().await, f.user().await);
    let long = f.account(alice, Some(wide_limits())).await.id;
    let short = f.account(bob, Some(wide_limits())).await.id;
    let idle = f.account(bob, Some(wide_limits())).await.id;
    f.mid(BTC, "100");
    f.order(alice, long, BTC, Side::Buy, "10").await;
    f.order(bob, short, BTC, Side::Sell, "10").await;
    f.clock.advance(Duration::hours(1));
    f.feed.set_funding(
        BTC,
        FundingRate {
            at: f.now(),
            rate: d("0.0001"),
            mark: d("100"),
        },
    );
    let pass = f.prop.apply_carry_due(100).await.unwrap();
    // The long pays 0.1 and the short receives it; the flat account is not touched.
    assert_eq!((pass.funding_payments, pass.funding_paid), (2, d("0")));
    let again = f.prop.apply_carry_due(100).await.unwrap();
    assert_eq!(again.funding_payments, 0);
    for account in [long, short, idle] {
        assert!(f.prop.reconcile(account).await.unwrap().balanced);
    }
    assert!(
        f.prop
            .ledger(bob, idle, PageRequest::first())
            .await
            .unwrap()
            .items
            .iter()
            .all(|event| event.kind != EventKind::Funding)
    );
}

#[tokio::test]
async fn outcome_positions_settle_to_one_or_zero() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    let yes = "polymarket:outcome:1111";
    let no = "polymarket:outcome:2222";
    f.mid(yes, "0.4");
    f.mid(no, "0.6");
    let bought_yes = f.order(owner, account, yes, Side::Buy, "100").await;
    let bought_no = f.order(owner, account, no, Side::Buy, "50").await;
    assert_eq!(bought_yes.order.status, OrderStatus::Filled);
    let yes_price = bought_yes.fills[0].price;
    let no_price = bought_no.fills[0].price;
    f.clock.advance(Duration::minutes(5));
    f.feed.resolve(
        yes,
        OutcomeResolution {
            resolved_at: f.now(),
            payout: d("1"),
        },
    );
    f.feed.resolve(
        no,
        OutcomeResolution {
            resolved_at: f.now(),
            payout: d("0"),
        },
    );
    let report = f.prop.apply_funding_and_settlement(account).await.unwrap();
    assert_eq!(report.settlements, 2);
    let expected = d("100") * (d("1") - yes_price) + d("50") * (d("0") - no_price);
    assert_eq!(report.settlement_pnl, expected);
    let positions = f.prop.positions(owner, account).await.unwrap();
    assert!(
        positions
            .iter()
            .all(|p| p.size.is_zero() && p.settled_at.is_some())
    );
    assert_eq!(
        f.prop
            .apply_funding_and_settlement(account)
            .await
            .unwrap()
            .settlements,
        0
    );
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
}

#[tokio::test]
async fn ledger_reconciles_after_a_random_sequence_of_operations() {
    let f = fixture().await;
    let owner = f.user().await;
    let admin = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let instruments = [BTC, "hyperliquid:perp:ETH", "hyperliquid:spot:PURR/USDC"];
    for step in 0..60 {
        f.clock.advance(Duration::seconds(1));
        for (i, instrument) in instruments.iter().enumerate() {
            let base = 100 + 50 * i as i64;
            f.mid(
                instrument,
                &format!(
                    "{}.{}",
                    base + rng.random_range(-10..10),
                    rng.random_range(0..100)
                ),
            );
        }
        let instrument = instruments[rng.random_range(0..instruments.len())];
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        let size = format!("{}.{}", rng.random_range(0..5), rng.random_range(1..100));
        f.order(owner, account, instrument, side, &size).await;
        if step % 10 == 0 {
            f.feed.set_funding(
                BTC,
                FundingRate {
                    at: f.now(),
                    rate: d("0.0002"),
                    mark: d("101"),
                },
            );
            f.prop.apply_funding_and_settlement(account).await.unwrap();
        }
        if step % 25 == 0 {
            f.prop
                .adjust(admin, account, d("12.5"), "goodwill credit")
                .await
                .unwrap();
        }
    }
    let report = f.prop.reconcile(account).await.unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!(report.ledger_total, d("0"));
    let cash = report
        .balances
        .iter()
        .find(|b| b.ledger_account == LedgerAccount::Cash)
        .unwrap();
    assert_eq!(
        cash.tracked,
        f.prop.account(owner, account).await.unwrap().cash
    );
    // Every event the owner can read sums to zero.
    let events = f
        .prop
        .ledger(owner, account, PageRequest::new(Some(500), None).unwrap())
        .await
        .unwrap()
        .items;
    assert!(events.len() > 20);
    for event in events {
        assert!(
            event
                .entries
                .iter()
                .map(|e| e.amount)
                .sum::<rust_decimal::Decimal>()
                .is_zero()
        );
    }
}

#[tokio::test]
async fn the_database_refuses_unbalanced_events_and_edits() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, None).await.id;
    let mut conn = f.db.owner_connection().unwrap();
    let event = uuid::Uuid::new_v4();
    let unbalanced = format!(
        "BEGIN; \
         INSERT INTO prop_ledger_events (id, account_id, owner_user_id, kind, created_at) VALUES ('{event}', '{account}', '{owner}', 'adjustment', now()); \
         INSERT INTO prop_ledger_entries (event_id, seq, account_id, owner_user_id, ledger_account, amount) VALUES ('{event}', 0, '{account}', '{owner}', 'cash', 5), ('{event}', 1, '{account}', '{owner}', 'adjustment', -4); \
         COMMIT;"
    );
    let error = conn.batch_execute(&unbalanced).unwrap_err();
    assert!(error.to_string().contains("unbalanced"), "{error}");
    conn.batch_execute("ROLLBACK").unwrap();
    for statement in [
        "UPDATE prop_ledger_entries SET amount = amount + 1",
        "DELETE FROM prop_ledger_events",
        "TRUNCATE prop_fills",
        "TRUNCATE prop_admin_audit_log",
    ] {
        let error = diesel::sql_query(statement).execute(&mut conn).unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
    // (This event moves no tracked balance, so the account no longer reconciles.)
    // A balanced event commits; entries added to it by a later transaction would escape its
    // once-per-event check at commit, so they are refused as they are inserted.
    let balanced = format!(
        "INSERT INTO prop_ledger_events (id, account_id, owner_user_id, kind, created_at) VALUES ('{event}', '{account}', '{owner}', 'adjustment', now()); \
         INSERT INTO prop_ledger_entries (event_id, seq, account_id, owner_user_id, ledger_account, amount) VALUES ('{event}', 0, '{account}', '{owner}', 'cash', 5), ('{event}', 1, '{account}', '{owner}', 'adjustment', -5);"
    );
    conn.batch_execute(&format!("BEGIN; {balanced} COMMIT;"))
        .unwrap();
    let late = format!(
        "INSERT INTO prop_ledger_entries (event_id, seq, account_id, owner_user_id, ledger_account, amount) VALUES ('{event}', 2, '{account}', '{owner}', 'cash', 1), ('{event}', 3, '{account}', '{owner}', 'adjustment', -1)"
    );
    let error = diesel::sql_query(late).execute(&mut conn).unwrap_err();
    assert!(
        error.to_string().contains("must be written with its event"),
        "{error}"
    );
}

#[tokio::test]
async fn reconciliation_finds_a_balance_or_a_position_that_drifted() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    f.mid(BTC, "100");
    f.order(owner, account, BTC, Side::Buy, "3").await;
    f.order(owner, account, BTC, Side::Sell, "1").await;
    let report = f.prop.reconcile(account).await.unwrap();
    assert!(report.balanced);
    assert_eq!(report.positions.len(), 1);
    assert_eq!(report.positions[0].tracked, d("2"));
    assert_eq!(report.positions[0].derived, d("2"));

    let mut conn = f.db.owner_connection().unwrap();
    conn.batch_execute(&format!(
        "UPDATE prop_positions SET size = size + 1 WHERE account_id = '{account}'"
    ))
    .unwrap();
    let report = f.prop.reconcile(account).await.unwrap();
    assert!(!report.balanced);
    assert_eq!(report.positions[0].tracked, d("3"));
    assert_eq!(report.positions[0].derived, d("2"));

    conn.batch_execute(&format!(
        "UPDATE prop_positions SET size = size - 1 WHERE account_id = '{account}'; \
         UPDATE prop_account_balances SET balance = balance + 1 \
         WHERE account_id = '{account}' AND ledger_account = 'cash'"
    ))
    .unwrap();
    let report = f.prop.reconcile(account).await.unwrap();
    assert!(!report.balanced);
    assert!(report.positions.iter().all(|p| p.tracked == p.derived));
}
