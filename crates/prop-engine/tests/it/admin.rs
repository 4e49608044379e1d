//! Admin actions with their audit trail, and mark-to-market snapshots.

use clones_kernel::DomainError;

use chrono::Duration;
use clones_kernel::PageRequest;
use clones_market::Side;
use clones_prop_engine::{EventKind, PropError, PropService, RejectReason};

use crate::support::{BTC, d, fixture, wide_limits};

#[tokio::test]
async fn halt_resume_and_adjust_are_audited() {
    let f = fixture().await;
    let owner = f.user().await;
    let admin = f.user().await;
    let account = f.account(owner, None).await.id;
    assert_eq!(
        f.prop.halt(admin, account, "  ").await.unwrap_err().code(),
        "invalid_input"
    );
    let halted = f
        .prop
        .halt(admin, account, "suspicious fills")
        .await
        .unwrap();
    assert_eq!(halted.action, "halt");
    assert!(matches!(
        f.prop.halt(admin, account, "again").await,
        Err(PropError::AlreadyHalted)
    ));
    let view = f.prop.account(owner, account).await.unwrap();
    assert_eq!(view.halted_reason.as_deref(), Some("suspicious fills"));
    f.mid(BTC, "100");
    let refused = f.order(owner, account, BTC, Side::Buy, "1").await;
    assert_eq!(
        refused.order.reject_reason(),
        Some(RejectReason::AccountHalted)
    );
    f.clock.advance(Duration::seconds(1));
    f.prop.resume(admin, account, "cleared").await.unwrap();
    assert!(matches!(
        f.prop.resume(admin, account, "again").await,
        Err(PropError::NotHalted)
    ));

    assert_eq!(
        f.prop
            .adjust(admin, account, d("0"), "nothing")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(
        f.prop
            .adjust(admin, account, d("10"), "")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    f.clock.advance(Duration::seconds(1));
    let adjusted = f
        .prop
        .adjust(admin, account, d("-250.5"), "fee refund reversal")
        .await
        .unwrap();
    assert_eq!(adjusted.details["amount"], "-250.5");
    assert_eq!(
        f.prop.account(owner, account).await.unwrap().cash,
        d("99749.5")
    );
    let ledger = f
        .prop
        .ledger(owner, account, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(ledger[0].kind, EventKind::Adjustment);
    assert_eq!(
        ledger[0].reference.as_deref(),
        Some(format!("audit:{}", adjusted.id).as_str())
    );

    let audit = f
        .prop
        .audit_log(Some(account), PageRequest::new(Some(50), None).unwrap())
        .await
        .unwrap()
        .items;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["adjustment", "resume", "halt"]);
    assert!(audit.iter().all(|a| a.admin_user_id == admin));
    assert!(matches!(
        f.prop.halt(admin, uuid::Uuid::new_v4(), "x").await,
        Err(PropError::AccountNotFound)
    ));
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
}

#[tokio::test]
async fn mark_to_market_snapshots_equity_exposure_and_drawdown() {
    let f = fixture().await;
    let owner = f.user().await;
    let settings_free = wide_limits();
    let trading = f.account(owner, Some(settings_free)).await.id;
    let idle = f.account(owner, None).await.id;
    f.mid(BTC, "100");
    let fill = f.order(owner, trading, BTC, Side::Buy, "10").await;
    let cash = f.prop.account(owner, trading).await.unwrap().cash;

    f.clock.advance(Duration::minutes(1));
    f.mid(BTC, "120");
    let report = f.prop.mark_to_market(100).await.unwrap();
    assert_eq!(report.accounts, 2);
    // Nothing left to mark at the same instant.
    assert_eq!(f.prop.mark_to_market(100).await.unwrap().accounts, 0);
    let first = f.prop.latest_equity(owner, trading).await.unwrap().unwrap();
    let unrealized = d("10") * (d("120") - fill.fills[0].price);
    assert_eq!(first.unrealized_pnl, unrealized);
    assert_eq!(first.equity, cash + unrealized);
    assert_eq!(first.gross_exposure, d("1200"));
    assert_eq!(first.used_margin, d("1200") / d("50"));
    assert_eq!(first.drawdown, d("0"));
    assert_eq!(first.peak_equity, first.equity);

    f.clock.advance(Duration::minutes(1));
    f.mid(BTC, "90");
    f.prop.mark_to_market(100).await.unwrap();
    let curve = f
        .prop
        .equity_curve(owner, trading, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(curve.len(), 2);
    assert_eq!(curve[0].peak_equity, first.equity);
    assert_eq!(curve[0].drawdown, first.equity - curve[0].equity);
    assert_eq!(curve[0].drawdown, d("300"));
    let idle_curve = f
        .prop
        .equity_curve(owner, idle, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert!(
        idle_curve
            .iter()
            .all(|p| p.equity == d("100000") && p.drawdown == d("0"))
    );
    assert_eq!(
        f.prop.account(owner, trading).await.unwrap().peak_equity,
        first.equity
    );
}

#[tokio::test]
async fn equity_and_fills_after_read_forward_in_time_order() {
    let f = fixture().await;
    let owner = f.user().await;
    let stranger = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    let mut fill_times = Vec::new();
    for _ in 0..3 {
        f.mid(BTC, "100");
        let outcome = f.order(owner, account, BTC, Side::Buy, "1").await;
        fill_times.push(outcome.fills[0].created_at);
        f.prop.mark_to_market(100).await.unwrap();
        f.clock.advance(Duration::minutes(1));
    }
    let page = |limit: u32, cursor| PageRequest::new(Some(limit), cursor).unwrap();
    let all = f
        .prop
        .equity_after(owner, account, page(100, None))
        .await
        .unwrap();
    assert_eq!(all.next_cursor, None);
    let all = all.items;
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|pair| pair[0].at < pair[1].at));
    let rest = f
        .prop
        .equity_after(owner, account, page(1, Some(all[0].position())))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].at, all[1].at);
    assert_eq!(rest.next_cursor, Some(all[1].position()));

    let fills = f
        .prop
        .fills_after(owner, account, page(100, None))
        .await
        .unwrap()
        .items;
    let times: Vec<_> = fills.iter().map(|fill| fill.created_at).collect();
    assert_eq!(times, fill_times);
    let later = f
        .prop
        .fills_after(owner, account, page(100, Some(fills[1].position())))
        .await
        .unwrap()
        .items;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].created_at, fill_times[2]);

    assert!(matches!(
        f.prop.equity_after(stranger, account, page(10, None)).await,
        Err(PropError::AccountNotFound)
    ));
    assert!(matches!(
        f.prop.fills_after(stranger, account, page(10, None)).await,
        Err(PropError::AccountNotFound)
    ));
}

#[tokio::test]
async fn concurrent_passes_mark_every_account_once_across_rounds_and_read_new_marks() {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    let f = fixture().await;
    let owner = f.user().await;
    f.mid(BTC, "100");
    f.mid("hyperliquid:perp:ETH", "50");
    // More accounts than one round takes; a third hold an instrument no order here traded.
    let count = 2_300;
    let mut conn = f.db.owner_connection().unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO prop_accounts (id, owner_user_id, context, quote_currency, starting_balance,
             status, day_anchor, day_start_equity, peak_equity, created_at, updated_at)
             SELECT md5('mtm' || g)::uuid, '{owner}', 'arena', 'USDC', 1000, 'active',
             current_date, 1000, 1000, now(), now() FROM generate_series(1, {count}) g;
         INSERT INTO prop_account_limits (account_id, owner_user_id, max_order_notional,
             max_leverage, max_position_notional, max_gross_exposure, daily_loss_limit,
             max_orders_per_minute, updated_at)
             SELECT md5('mtm' || g)::uuid, '{owner}', 1000, 2, 2000, 3000, 500, 30, now()
             FROM generate_series(1, {count}) g;
         INSERT INTO prop_account_balances (account_id, ledger_account, owner_user_id, balance,
             updated_at)
             SELECT md5('mtm' || g)::uuid, 'cash', '{owner}', 1000, now()
             FROM generate_series(1, {count}) g;
         INSERT INTO prop_positions (account_id, instrument, owner_user_id, kind, size,
             avg_entry, realized_pnl, funding_paid, opened_at, updated_at)
             SELECT md5('mtm' || g)::uuid,
             CASE WHEN g % 3 = 0 THEN 'hyperliquid:perp:ETH' ELSE '{BTC}' END, '{owner}', 'perp',
             2, 40, 0, 0, now(), now() FROM generate_series(1, {count}) g;"
    ))
    .unwrap();
    let (a, b) = tokio::join!(f.prop.mark_to_market(5_000), f.prop.mark_to_market(5_000));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.accounts + b.accounts, count);
    assert_eq!(a.unmarked_positions + b.unmarked_positions, 0);
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let snapshots: Count = diesel::sql_query(
        "SELECT count(DISTINCT account_id) AS n FROM prop_equity_snapshots s \
         JOIN prop_accounts a ON a.id = s.account_id AND a.last_mtm_at = s.at \
         WHERE s.peak_equity = GREATEST(1000, s.equity) AND a.peak_equity = s.peak_equity",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(snapshots.n, i64::try_from(count).unwrap());
    let total: Count = diesel::sql_query("SELECT count(*) AS n FROM prop_equity_snapshots")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(total.n, i64::try_from(count).unwrap(), "one snapshot each");
    // An ETH holder is valued at the ETH mark read for the pass: 1000 + 2 × (50 − 40).
    let eth_holder: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM prop_equity_snapshots WHERE account_id = md5('mtm3')::uuid \
         AND equity = 1020 AND gross_exposure = 100",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(eth_holder.n, 1);
    assert_eq!(f.prop.mark_to_market(5_000).await.unwrap().accounts, 0);
}
