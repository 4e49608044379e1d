//! The evaluation pass: every rule's pass and breach, day boundaries in two time zones across
//! a daylight saving change, minimum trading days, the window, and retries.

use chrono::{Duration, NaiveDate};
use clones_clone_service::{CloneService, DisplayState};
use clones_kernel::{Clock, DomainError};
use clones_lifecycle::{
    AuditionStatus, AuditionView, FailureRule, LifecycleService, LifecycleSettings,
};
use clones_market::Side;
use clones_prop_engine::PropService;
use uuid::Uuid;

use crate::support::{BTC, Fixture, at, d, fixture, fixture_at, fixture_with};

const ALL: &str =
    "'max_daily_loss', 'max_total_drawdown', 'window_expired', 'min_trading_days_not_met'";

async fn current(f: &Fixture, owner: Uuid, run: &AuditionView) -> AuditionView {
    f.service.audition(owner, run.id).await.unwrap().audition
}

#[tokio::test]
async fn reaching_the_profit_target_by_trading_passes_and_queues_for_promotion() {
    let f = fixture().await;
    f.rule_set("quick", "equity", "static", "00:00", "UTC", 1, 0, ALL);
    let (owner, clone_id, started) = f.started(Some("quick")).await;
    let run = started.audition;
    f.trade(&run, owner, Side::Buy, "900").await;
    f.clock.advance(Duration::minutes(1));
    f.feed.set_mid(BTC, d("113"), f.clock.now());
    f.prop.mark_to_market(100).await.unwrap();
    let report = f.service.evaluate_running(100).await.unwrap();
    assert_eq!(
        (report.evaluated, report.snapshots, report.passed),
        (1, 1, 1)
    );
    let passed = current(&f, owner, &run).await;
    assert_eq!(passed.status, AuditionStatus::Passed);
    assert!(passed.progress.equity >= d("110000"));
    assert_eq!(passed.progress.trading_days, 1);
    assert!(passed.ended_at.is_some());
    let entry = f.service.promotion_entry(owner, clone_id).await.unwrap();
    assert_eq!(entry.run_id, run.id);
    assert_eq!(
        f.clones
            .get_clone(owner, clone_id)
            .await
            .unwrap()
            .display_state,
        DisplayState::CompetitionEligible
    );
    // Nothing is left to evaluate.
    assert_eq!(f.service.evaluate_running(100).await.unwrap().evaluated, 0);
    let kinds: Vec<&str> = f
        .service
        .audition(owner, run.id)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|event| event.kind.as_str())
        .collect();
    assert_eq!(kinds, ["started", "passed"]);
}

#[tokio::test]
async fn daily_loss_breaches_on_equity_and_on_balance_basis() {
    let f = fixture().await;
    f.rule_set("eqday", "equity", "static", "00:00", "UTC", 0, 0, ALL);
    f.rule_set("balday", "balance", "static", "00:00", "UTC", 0, 0, ALL);
    let (eq_owner, eq_clone, eq) = f.started(Some("eqday")).await;
    let (bal_owner, _, bal) = f.started(Some("balday")).await;
    let (eq, bal) = (eq.audition, bal.audition);
    // Unrealized losses: 6 000 of equity, no cash yet.
    f.snapshot(&eq, eq_owner, "2026-03-02T12:30:00Z", "94000", "100000")
        .await;
    f.snapshot(&bal, bal_owner, "2026-03-02T12:30:00Z", "94000", "100000")
        .await;
    let report = f.service.evaluate_running(100).await.unwrap();
    assert_eq!((report.evaluated, report.failed), (2, 1));
    let eq = current(&f, eq_owner, &eq).await;
    assert_eq!(eq.status, AuditionStatus::Failed);
    assert_eq!(eq.failure_rule, Some(FailureRule::MaxDailyLoss));
    assert!(eq.failure_detail.as_deref().unwrap().contains("equity"));
    assert_eq!(
        f.clones
            .get_clone(eq_owner, eq_clone)
            .await
            .unwrap()
            .display_state,
        DisplayState::AuditionFailed
    );
    let running = current(&f, bal_owner, &bal).await;
    assert_eq!(running.status, AuditionStatus::Running);
    assert_eq!(running.progress.daily_loss, d("0"));
    // Realized: cash falls 5 500 within the day.
    f.snapshot(&bal, bal_owner, "2026-03-02T13:00:00Z", "94000", "94500")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let bal = current(&f, bal_owner, &bal).await;
    assert_eq!(bal.failure_rule, Some(FailureRule::MaxDailyLoss));
}

#[tokio::test]
async fn static_and_trailing_drawdown_breach_at_their_own_reference() {
    let f = fixture().await;
    f.rule_set("fixed", "equity", "static", "00:00", "UTC", 0, 0, ALL);
    f.rule_set("trail", "equity", "trailing", "00:00", "UTC", 0, 0, ALL);
    let (s_owner, _, fixed) = f.started(Some("fixed")).await;
    let (t_owner, _, trail) = f.started(Some("trail")).await;
    let (fixed, trail) = (fixed.audition, trail.audition);
    // One value a day, never 5 000 lower than the day before.
    let series = [
        ("2026-03-02T13:00:00Z", "108000"),
        ("2026-03-03T13:00:00Z", "104000"),
        ("2026-03-04T13:00:00Z", "99500"),
        ("2026-03-05T13:00:00Z", "97500"),
    ];
    for (when, equity) in series {
        f.snapshot(&fixed, s_owner, when, equity, equity).await;
        f.snapshot(&trail, t_owner, when, equity, equity).await;
    }
    f.service.evaluate_running(100).await.unwrap();
    let trail = current(&f, t_owner, &trail).await;
    assert_eq!(trail.failure_rule, Some(FailureRule::MaxTotalDrawdown));
    assert_eq!(trail.progress.peak_value, d("108000"));
    assert_eq!(
        trail.progress.last_snapshot_at,
        Some(at("2026-03-05T13:00:00Z"))
    );
    let running = current(&f, s_owner, &fixed).await;
    assert_eq!(running.status, AuditionStatus::Running);
    assert_eq!(running.progress.drawdown, d("2500"));
    for (when, equity) in [
        ("2026-03-06T13:00:00Z", "94000"),
        ("2026-03-07T13:00:00Z", "90000"),
    ] {
        f.snapshot(&fixed, s_owner, when, equity, equity).await;
    }
    f.service.evaluate_running(100).await.unwrap();
    let fixed = current(&f, s_owner, &fixed).await;
    assert_eq!(fixed.failure_rule, Some(FailureRule::MaxTotalDrawdown));
}

#[tokio::test]
async fn trading_days_start_at_the_reset_time_in_the_rule_sets_zone_across_dst() {
    // 2026-03-08 is the first day of daylight saving time in New York: 17:00 there is 21:00 UTC.
    let f = fixture_at("2026-03-08T12:00:00Z").await;
    f.rule_set("utc17", "equity", "static", "17:00", "UTC", 0, 0, ALL);
    f.rule_set(
        "ny17",
        "equity",
        "static",
        "17:00",
        "America/New_York",
        0,
        0,
        ALL,
    );
    let (u_owner, _, utc) = f.started(Some("utc17")).await;
    let (n_owner, _, ny) = f.started(Some("ny17")).await;
    let (utc, ny) = (utc.audition, ny.audition);
    for (run, owner) in [(&utc, u_owner), (&ny, n_owner)] {
        // 20:00 UTC: after the UTC reset, 16:00 in New York (before its reset).
        f.snapshot(run, owner, "2026-03-08T20:00:00Z", "97000", "97000")
            .await;
        // 21:30 UTC: 17:30 EDT, a new New York trading day (it would not be under EST).
        f.snapshot(run, owner, "2026-03-08T21:30:00Z", "94000", "94000")
            .await;
    }
    f.clock.set(at("2026-03-08T22:00:00Z"));
    f.service.evaluate_running(100).await.unwrap();
    let utc = current(&f, u_owner, &utc).await;
    assert_eq!(utc.failure_rule, Some(FailureRule::MaxDailyLoss));
    let ny = current(&f, n_owner, &ny).await;
    assert_eq!(ny.status, AuditionStatus::Running);
    assert_eq!(ny.progress.trading_day, NaiveDate::from_ymd_opt(2026, 3, 8));
    assert_eq!(ny.progress.daily_loss, d("3000"));
}

#[tokio::test]
async fn minimum_trading_days_count_days_with_fills() {
    let f = fixture().await;
    f.rule_set("twodays", "equity", "static", "00:00", "UTC", 2, 0, ALL);
    let (owner, _, run) = f.started(Some("twodays")).await;
    let run = run.audition;
    f.trade(&run, owner, Side::Buy, "1").await;
    f.snapshot(&run, owner, "2026-03-02T13:00:00Z", "111000", "100000")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let first = current(&f, owner, &run).await;
    assert_eq!(first.status, AuditionStatus::Running);
    assert_eq!(
        (first.progress.trading_days, first.progress.min_trading_days),
        (1, 2)
    );
    f.clock.set(at("2026-03-03T12:00:00Z"));
    f.trade(&run, owner, Side::Sell, "1").await;
    f.snapshot(&run, owner, "2026-03-03T13:00:00Z", "111000", "100000")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let passed = current(&f, owner, &run).await;
    assert_eq!(passed.status, AuditionStatus::Passed);
    assert_eq!(passed.progress.trading_days, 2);
}

#[tokio::test]
async fn the_window_ends_an_audition_that_did_not_pass() {
    let f = fixture().await;
    f.rule_set("window", "equity", "static", "00:00", "UTC", 2, 0, ALL);
    let (idle_owner, _, idle) = f.started(Some("window")).await;
    let (short_owner, _, short) = f.started(Some("window")).await;
    let (late_owner, _, late) = f.started(Some("window")).await;
    let (idle, short, late) = (idle.audition, short.audition, late.audition);
    // The target is reached without a single fill.
    f.snapshot(
        &short,
        short_owner,
        "2026-03-02T13:00:00Z",
        "115000",
        "115000",
    )
    .await;
    f.clock.set(at("2026-03-31T12:00:00Z"));
    assert_eq!(f.service.evaluate_running(100).await.unwrap().failed, 0);
    // A snapshot taken after the end proves the window was judged whole: that run closes at
    // once. The others wait out the close grace for such a snapshot, then close anyway.
    let after_end = (late.window_end + Duration::seconds(30)).to_rfc3339();
    f.snapshot(&late, late_owner, &after_end, "101000", "101000")
        .await;
    f.clock.set(idle.window_end + Duration::minutes(1));
    let report = f.service.evaluate_running(100).await.unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(
        current(&f, late_owner, &late).await.failure_rule,
        Some(FailureRule::WindowExpired)
    );
    f.clock.set(idle.window_end + Duration::minutes(2));
    let report = f.service.evaluate_running(100).await.unwrap();
    assert_eq!(report.failed, 2);
    assert_eq!(
        current(&f, idle_owner, &idle).await.failure_rule,
        Some(FailureRule::WindowExpired)
    );
    let short = current(&f, short_owner, &short).await;
    assert_eq!(short.failure_rule, Some(FailureRule::MinTradingDaysNotMet));
    assert_eq!(short.progress.seconds_left, 0);
}

#[tokio::test]
async fn retries_follow_the_rule_set() {
    let f = fixture().await;
    // Standard: daily loss on balance, one free retry after any rule.
    let (owner, _, first) = f.started(None).await;
    let first = first.audition;
    assert_eq!(
        f.service.retry(owner, first.id).await.unwrap_err().code(),
        "audition_not_failed"
    );
    f.snapshot(&first, owner, "2026-03-02T13:00:00Z", "94000", "94000")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let retried = f.service.retry(owner, first.id).await.unwrap();
    assert!(retried.created);
    let second = retried.audition;
    assert_eq!(second.attempt, 2);
    assert_eq!(second.purchase_id, first.purchase_id);
    assert_ne!(second.prop_account_id, first.prop_account_id);
    assert_eq!(second.status, AuditionStatus::Running);
    let repeat = f.service.retry(owner, first.id).await.unwrap();
    assert!(!repeat.created);
    assert_eq!(repeat.audition.id, second.id);
    let detail = f.service.audition(owner, first.id).await.unwrap();
    assert_eq!(detail.retries_left, 0);
    assert!(
        detail
            .events
            .iter()
            .any(|event| event.kind == clones_lifecycle::AuditionEventKind::Retried)
    );

    f.snapshot(&second, owner, "2026-03-02T14:00:00Z", "94000", "94000")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let refused = f.service.retry(owner, second.id).await.unwrap_err();
    assert_eq!(refused.code(), "no_retries_left");
    assert_eq!(refused.kind(), clones_kernel::ErrorKind::RuleViolation);

    // The seeded trailing set allows retries only after the window or missing days.
    let (t_owner, _, trailing) = f.started(Some("trailing")).await;
    let trailing = trailing.audition;
    f.snapshot(&trailing, t_owner, "2026-03-02T13:00:00Z", "47500", "47500")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    assert_eq!(
        current(&f, t_owner, &trailing).await.failure_rule,
        Some(FailureRule::MaxDailyLoss)
    );
    assert_eq!(
        f.service
            .retry(t_owner, trailing.id)
            .await
            .unwrap_err()
            .code(),
        "retry_not_allowed"
    );
    let stranger = f.user().await;
    assert_eq!(
        f.service
            .retry(stranger, first.id)
            .await
            .unwrap_err()
            .code(),
        "audition_not_found"
    );
    assert_eq!(f.count("SELECT count(*) AS n FROM audition_runs"), 3);
}

#[tokio::test]
async fn trades_after_the_last_snapshot_of_the_window_still_count_at_its_end() {
    let f = fixture().await;
    // `demo`: no profit target, one trading day, three minutes.
    let (owner, _, run) = f.started(Some("demo")).await;
    let run = run.audition;
    let start = run.window_start;
    let rfc = |offset: i64| (start + Duration::seconds(offset)).to_rfc3339();
    f.snapshot(&run, owner, &rfc(30), "100000", "100000").await;
    f.clock.set(start + Duration::seconds(40));
    f.service.evaluate_running(100).await.unwrap();
    // The only trade comes after the window's last snapshot.
    f.clock.set(start + Duration::seconds(150));
    f.trade(&run, owner, Side::Buy, "1").await;
    f.clock.set(start + Duration::minutes(6));
    f.service.evaluate_running(100).await.unwrap();
    let ended = current(&f, owner, &run).await;
    assert_eq!(ended.status, AuditionStatus::Passed, "{ended:?}");
    assert_eq!(ended.progress.trading_days, 1);
}

#[tokio::test]
async fn a_fill_page_ending_inside_an_order_still_reads_every_fill_once() {
    let f = fixture_with(
        "2026-03-02T12:00:00Z",
        LifecycleSettings {
            fill_page: 3,
            ..LifecycleSettings::default()
        },
    )
    .await;
    f.rule_set("walk", "equity", "static", "00:00", "UTC", 3, 0, ALL);
    let (owner, _, run) = f.started(Some("walk")).await;
    let run = run.audition;
    // Positions in the order prop-engine reads fills forward: (time, id).
    let positions = |fills: &[clones_prop_engine::FillView]| {
        let mut positions: Vec<_> = fills
            .iter()
            .map(|fill| (fill.created_at, fill.id))
            .collect();
        positions.sort();
        positions
    };
    // One order walks seven levels of the book: seven fills that share its time.
    let first = positions(&f.trade_through_book(&run, owner, 7).await);
    assert!(first.iter().all(|(at, _)| *at == first[0].0));

    // No snapshot follows yet: each full page is read on its own, the second one starting
    // inside the order, after the third fill.
    f.service.evaluate_running(100).await.unwrap();
    assert_eq!(f.fill_cursor(run.id), Some(first[2]));
    f.service.evaluate_running(100).await.unwrap();
    assert_eq!(f.fill_cursor(run.id), Some(first[5]));
    // The seventh fill is on the last page: it waits for a snapshot after it.
    f.service.evaluate_running(100).await.unwrap();
    assert_eq!(f.fill_cursor(run.id), Some(first[5]));
    f.clock.advance(Duration::minutes(1));
    f.feed.set_mid(BTC, d("100"), f.clock.now());
    f.prop.mark_to_market(100).await.unwrap();
    let report = f.service.evaluate_running(100).await.unwrap();
    assert_eq!((report.evaluated, report.snapshots), (1, 1));
    assert_eq!(f.fill_cursor(run.id), Some(first[6]));
    assert_eq!(current(&f, owner, &run).await.progress.trading_days, 1);

    // The next day, a second order of four fills: its first page counts the new day once, and
    // the fourth fill is read with the snapshot after it.
    f.clock.set(at("2026-03-03T12:00:00Z"));
    let second = positions(&f.trade_through_book(&run, owner, 4).await);
    f.service.evaluate_running(100).await.unwrap();
    assert_eq!(f.fill_cursor(run.id), Some(second[2]));
    f.clock.advance(Duration::minutes(1));
    f.feed.set_mid(BTC, d("100"), f.clock.now());
    f.prop.mark_to_market(100).await.unwrap();
    f.service.evaluate_running(100).await.unwrap();
    assert_eq!(f.fill_cursor(run.id), Some(second[3]));
    let progress = current(&f, owner, &run).await;
    assert_eq!(progress.status, AuditionStatus::Running);
    assert_eq!(progress.progress.trading_days, 2);
    assert_eq!(
        progress.progress.last_snapshot_at,
        Some(at("2026-03-03T12:01:00Z"))
    );
}
