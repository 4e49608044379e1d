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
