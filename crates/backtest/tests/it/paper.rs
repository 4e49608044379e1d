//! The paper-consistency job on an account the prop engine traded: the account buys where the
//! backtest buys, so that order matches and every other backtest order is one-sided; the
//! equity curves are compared at the account's snapshots.

use chrono::{DateTime, Duration, Utc};
use clones_backtest::{CreateBacktest, JobKind, JobStatus, PreviewBacktest};
use clones_ingest::Batch;
use clones_market::{InstrumentKey, Side};
use clones_prop_engine::{AccountContext, OpenAccount, OrderRequest, RiskLimits, TimeInForce};
use rust_decimal::Decimal;

use crate::support::{BARS, Fixture, d, first_bar, fixture};

async fn mid(f: &Fixture, at: DateTime<Utc>, price: Decimal) {
    let key = InstrumentKey::perp("replay", "BTC").unwrap();
    let run = f
        .services
        .ingest
        .store_batch(
            "test",
            "mid",
            at,
            1,
            Batch {
                mids: vec![(key, at, price)],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
    assert!(run.error.is_none(), "{:?}", run.error);
}

#[tokio::test]
async fn a_consistency_job_matches_the_paper_accounts_orders_and_curve() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    f.services.clones.publish(owner, clone_id).await.unwrap();
    let opened = first_bar() + Duration::hours(50);
    let end = first_bar() + Duration::hours(BARS);
    f.clock.set(opened);
    let account = f
        .services
        .prop
        .open_account(
            owner,
            OpenAccount {
                account_id: None,
                clone_id: Some(clone_id),
                context: AccountContext::Audition,
                quote_currency: "USDC".into(),
                starting_balance: d("10000"),
                limits: Some(RiskLimits {
                    max_order_notional: d("1000000"),
                    max_leverage: d("50"),
                    max_position_notional: d("10000000"),
                    max_gross_exposure: d("10000000"),
                    daily_loss_limit: d("1000000"),
                    max_orders_per_minute: 10_000,
                    allowed_instruments: None,
                }),
            },
        )
        .await
        .unwrap();
    // Where the backtest of the same window first buys.
    let preview = f
        .backtests
        .preview(
            owner,
            clone_id,
            PreviewBacktest {
                from: opened,
                to: end,
                ..PreviewBacktest::default()
            },
        )
        .await
        .unwrap();
    let first_buy = preview
        .report
        .fills
        .iter()
        .find(|fill| fill.side == Side::Buy)
        .unwrap()
        .clone();
    let bought_at = DateTime::from_timestamp(first_buy.time, 0).unwrap() + Duration::seconds(5);
    f.clock.set(bought_at);
    mid(&f, bought_at, first_buy.price).await;
    let order = f
        .services
        .prop
        .place_order(
            owner,
            account.id,
            OrderRequest {
                decision_action_id: None,
                instrument: "replay:perp:BTC".into(),
                side: Side::Buy,
                size: d("1"),
                limit_price: None,
                reduce_only: false,
                time_in_force: TimeInForce::Ioc,
            },
        )
        .await
        .unwrap();
    assert!(order.order.filled_size > Decimal::ZERO);
    // Three equity snapshots, an hour apart.
    for hour in 1..=3 {
        let at = bought_at + Duration::hours(hour);
        f.clock.set(at);
        mid(&f, at, first_buy.price + Decimal::from(hour)).await;
        f.services.prop.mark_to_market(100).await.unwrap();
    }

    f.clock.set(end + Duration::hours(1));
    let job = f
        .backtests
        .create(
            owner,
            clone_id,
            CreateBacktest {
                paper_account_id: Some(account.id),
                to: Some(end),
                ..CreateBacktest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(job.kind, JobKind::PaperConsistency);
    assert_eq!(job.from, opened);
    assert_eq!(job.strategy_version, Some(1));
    f.backtests.work(1).await.unwrap();
    let detail = f.backtests.job(owner, clone_id, job.id).await.unwrap();
    assert_eq!(
        detail.job.status,
        JobStatus::Succeeded,
        "{:?}",
        detail.job.error
    );
    let consistency = detail.consistency.unwrap();
    assert_eq!(consistency.matched_orders, 1);
    assert_eq!(consistency.paper_only_orders, 0);
    let backtest_orders = preview
        .report
        .fills
        .iter()
        .map(|fill| (fill.side, fill.time))
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u32;
    assert_eq!(consistency.backtest_only_orders, backtest_orders - 1);
    assert!(consistency.compared_points >= 3);
    assert!(consistency.score > 0.0 && consistency.score <= 1.0);
    // The column and the JSON document hold the same score (to the last bit a JSON round
    // trip keeps).
    let column = detail.job.summary.unwrap().consistency_score.unwrap();
    assert!((column - consistency.score).abs() < 1e-12);

    // Someone else's account, or none of this clone's, is not found.
    let stranger = f.user().await;
    let strangers_clone = f.clone(stranger).await;
    let refused = f
        .backtests
        .create(
            stranger,
            strangers_clone,
            CreateBacktest {
                paper_account_id: Some(account.id),
                ..CreateBacktest::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        clones_backtest::JobError::AccountNotFound
    ));
}
