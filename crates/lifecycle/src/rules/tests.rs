//! Unit and property tests of the audition rules.

use proptest::prelude::*;

use super::*;

fn d(value: &str) -> Decimal {
    value.parse().unwrap()
}

fn at(value: &str) -> DateTime<Utc> {
    value.parse().unwrap()
}

fn rules() -> Rules {
    Rules {
        quote_currency: "USDC".into(),
        starting_balance: d("100000"),
        profit_target_pct: Some(d("10")),
        max_daily_loss_pct: d("5"),
        daily_loss_basis: Basis::Equity,
        max_drawdown_pct: d("10"),
        drawdown_basis: Basis::Equity,
        drawdown_mode: DrawdownMode::Static,
        daily_reset_time: NaiveTime::MIN,
        time_zone: Tz::UTC,
        min_trading_days: 0,
        max_window_minutes: 30 * 24 * 60,
        free_retries: 1,
        retry_on: FailureRule::ALL.to_vec(),
    }
}

fn window() -> Window {
    Window {
        start: at("2026-03-01T00:00:00Z"),
        end: at("2026-03-31T00:00:00Z"),
    }
}

fn snap(when: &str, equity: &str) -> Snapshot {
    Snapshot {
        at: at(when),
        equity: d(equity),
        cash: d(equity),
    }
}

fn snap2(when: &str, equity: &str, cash: &str) -> Snapshot {
    Snapshot {
        at: at(when),
        equity: d(equity),
        cash: d(cash),
    }
}

/// Fills at `times`, with ids in the same order.
fn fills_at(times: &[DateTime<Utc>]) -> Vec<Fill> {
    times
        .iter()
        .zip(1u128..)
        .map(|(at, id)| Fill {
            at: *at,
            id: Uuid::from_u128(id),
        })
        .collect()
}

fn failed_rule(verdict: &Verdict) -> Option<FailureRule> {
    match verdict {
        Verdict::Failed { rule, .. } => Some(*rule),
        _ => None,
    }
}

#[test]
fn profit_target_passes() {
    let rules = rules();
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let verdict = eval.run(
        &mut state,
        &[],
        &[
            snap("2026-03-02T10:00:00Z", "105000"),
            snap("2026-03-03T10:00:00Z", "109999.99"),
        ],
    );
    assert_eq!(verdict, Verdict::Running);
    let verdict = eval.run(&mut state, &[], &[snap("2026-03-04T10:00:00Z", "110000")]);
    assert_eq!(verdict, Verdict::Passed);
}

#[test]
fn daily_loss_is_measured_from_the_day_start_value() {
    let rules = rules();
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    // Down 4 000 on the first day, then 4 000 more the next day: never 5 000 within a day.
    let verdict = eval.run(
        &mut state,
        &[],
        &[
            snap("2026-03-02T10:00:00Z", "96000"),
            snap("2026-03-03T10:00:00Z", "92000"),
        ],
    );
    assert_eq!(verdict, Verdict::Running);
    assert_eq!(state.day_start_value, d("96000"));
    let verdict = eval.run(&mut state, &[], &[snap("2026-03-03T20:00:00Z", "91000")]);
    assert_eq!(failed_rule(&verdict), Some(FailureRule::MaxDailyLoss));
}

#[test]
fn balance_basis_ignores_unrealized_losses_equity_basis_does_not() {
    let mut rules = rules();
    rules.daily_loss_basis = Basis::Balance;
    rules.max_drawdown_pct = d("50");
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let deep_unrealized = snap2("2026-03-02T10:00:00Z", "90000", "99900");
    assert_eq!(
        eval.run(&mut state, &[], &[deep_unrealized]),
        Verdict::Running
    );
    let realized = snap2("2026-03-02T11:00:00Z", "94000", "94000");
    assert_eq!(
        failed_rule(&eval.run(&mut state, &[], &[realized])),
        Some(FailureRule::MaxDailyLoss)
    );

    rules.daily_loss_basis = Basis::Equity;
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    assert_eq!(
        failed_rule(&eval.run(&mut state, &[], &[deep_unrealized])),
        Some(FailureRule::MaxDailyLoss)
    );
}

#[test]
fn static_and_trailing_drawdown() {
    let mut rules = rules();
    rules.max_daily_loss_pct = d("50");
    let series = [
        snap("2026-03-02T10:00:00Z", "108000"),
        snap("2026-03-03T10:00:00Z", "99000"),
        snap("2026-03-04T10:00:00Z", "90000"),
    ];
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let verdict = eval.run(&mut state, &[], &series);
    assert_eq!(failed_rule(&verdict), Some(FailureRule::MaxTotalDrawdown));
    assert_eq!(state.last_snapshot_at, Some(series[2].at));

    rules.drawdown_mode = DrawdownMode::Trailing;
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let verdict = eval.run(&mut state, &[], &series[..2]);
    // 108 000 - 99 000 = 9 000 below the peak: still inside the 10 000 limit.
    assert_eq!(verdict, Verdict::Running);
    let verdict = eval.run(&mut state, &[], &[snap("2026-03-03T12:00:00Z", "98000")]);
    assert_eq!(failed_rule(&verdict), Some(FailureRule::MaxTotalDrawdown));
    assert_eq!(state.peak_value, d("108000"));
}

#[test]
fn a_breach_wins_over_a_reached_target() {
    let mut rules = rules();
    rules.daily_loss_basis = Basis::Balance;
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let verdict = eval.run(
        &mut state,
        &[],
        &[snap2("2026-03-02T10:00:00Z", "111000", "94000")],
    );
    assert_eq!(failed_rule(&verdict), Some(FailureRule::MaxDailyLoss));
}

#[test]
fn min_trading_days_count_days_with_fills() {
    let mut rules = rules();
    rules.min_trading_days = 2;
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let fills = fills_at(&[
        at("2026-03-02T09:00:00Z"),
        at("2026-03-02T09:30:00Z"),
        at("2026-03-03T09:00:00Z"),
    ]);
    let verdict = eval.run(
        &mut state,
        &fills,
        &[
            snap("2026-03-02T10:00:00Z", "111000"),
            snap("2026-03-02T23:00:00Z", "112000"),
        ],
    );
    assert_eq!(verdict, Verdict::Running);
    assert_eq!(state.trading_days, 1);
    assert_eq!(state.last_fill, Some(fills[1]));
    let verdict = eval.run(
        &mut state,
        &fills[2..],
        &[snap("2026-03-03T10:00:00Z", "112000")],
    );
    assert_eq!(verdict, Verdict::Passed);
    assert_eq!(state.trading_days, 2);
}

#[test]
fn without_a_target_only_the_window_end_passes() {
    let mut rules = rules();
    rules.profit_target_pct = None;
    rules.min_trading_days = 1;
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    // However high equity goes, a running audition without a target keeps running.
    let verdict = eval.run(
        &mut state,
        &fills_at(&[at("2026-03-02T09:00:00Z")]),
        &[snap("2026-03-02T10:00:00Z", "150000")],
    );
    assert_eq!(verdict, Verdict::Running);
    assert_eq!(
        eval.close(&state, at("2026-03-30T00:00:00Z")),
        Verdict::Running
    );
    assert_eq!(eval.close(&state, window().end), Verdict::Passed);
    // Without the minimum trading days the end is a failure, and breaches still fail.
    let idle = EvalState::new(&rules);
    assert_eq!(
        failed_rule(&eval.close(&idle, window().end)),
        Some(FailureRule::MinTradingDaysNotMet)
    );
    let mut losing = EvalState::new(&rules);
    let verdict = eval.run(&mut losing, &[], &[snap("2026-03-02T10:00:00Z", "94000")]);
    assert_eq!(failed_rule(&verdict), Some(FailureRule::MaxDailyLoss));
}

#[test]
fn window_end_fails_with_the_right_rule() {
    let mut rules = rules();
    rules.min_trading_days = 3;
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    assert_eq!(
        eval.close(&state, at("2026-03-30T23:59:59Z")),
        Verdict::Running
    );
    assert_eq!(
        failed_rule(&eval.close(&state, window().end)),
        Some(FailureRule::WindowExpired)
    );
    eval.run(&mut state, &[], &[snap("2026-03-29T10:00:00Z", "115000")]);
    assert_eq!(
        failed_rule(&eval.close(&state, window().end)),
        Some(FailureRule::MinTradingDaysNotMet)
    );
    // A snapshot after the window is not judged.
    let verdict = eval.run(&mut state, &[], &[snap("2026-03-31T00:00:01Z", "50000")]);
    assert_eq!(verdict, Verdict::Running);
    assert_eq!(state.latest_equity, d("115000"));
}

#[test]
fn trading_days_follow_the_reset_time_in_its_zone_across_dst() {
    let mut rules = rules();
    rules.daily_reset_time = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
    rules.time_zone = parse_time_zone("America/New_York").unwrap();
    let day = |s: &str| NaiveDate::from_str(s).unwrap();
    // 2026-03-08 is the first day of daylight saving time in New York.
    assert_eq!(
        rules.day_start(day("2026-03-07")),
        at("2026-03-07T22:00:00Z")
    );
    assert_eq!(
        rules.day_start(day("2026-03-08")),
        at("2026-03-08T21:00:00Z")
    );
    assert_eq!(
        rules.trading_day(at("2026-03-08T20:59:59Z")),
        day("2026-03-07")
    );
    assert_eq!(
        rules.trading_day(at("2026-03-08T21:00:00Z")),
        day("2026-03-08")
    );
    // The same instants in UTC with the same reset time.
    rules.time_zone = Tz::UTC;
    assert_eq!(
        rules.trading_day(at("2026-03-08T20:59:59Z")),
        day("2026-03-08")
    );
    assert_eq!(
        rules.trading_day(at("2026-03-08T16:59:59Z")),
        day("2026-03-07")
    );
    assert_eq!(
        rules.trading_day(at("2026-03-08T17:00:00Z")),
        day("2026-03-08")
    );
}

#[test]
fn a_reset_in_a_dst_gap_starts_when_the_clock_resumes() {
    let mut rules = rules();
    rules.daily_reset_time = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
    rules.time_zone = parse_time_zone("America/New_York").unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    // 02:30 does not exist that night; 03:00 EDT is 07:00 UTC.
    assert_eq!(rules.day_start(day), at("2026-03-08T07:00:00Z"));
}

#[test]
fn retries_follow_the_rule_set() {
    let mut rules = rules();
    rules.retry_on = vec![FailureRule::WindowExpired];
    assert_eq!(rules.may_retry(FailureRule::WindowExpired, 1), Ok(()));
    assert_eq!(
        rules.may_retry(FailureRule::WindowExpired, 2),
        Err(RetryRefusal::NoRetriesLeft { allowed: 1 })
    );
    assert_eq!(
        rules.may_retry(FailureRule::MaxDailyLoss, 1),
        Err(RetryRefusal::RuleNotRetryable(FailureRule::MaxDailyLoss))
    );
}

#[test]
fn rules_round_trip_through_json() {
    let mut rules = rules();
    rules.time_zone = parse_time_zone("America/New_York").unwrap();
    let json = serde_json::to_value(&rules).unwrap();
    assert_eq!(json["timeZone"], "America/New_York");
    assert_eq!(serde_json::from_value::<Rules>(json).unwrap(), rules);
}

fn series() -> impl Strategy<Value = Vec<(i64, i64, i64)>> {
    // (minutes since the previous snapshot, equity offset, cash offset) in whole units.
    prop::collection::vec((1i64..2_000, -12_000i64..14_000, -12_000i64..14_000), 1..60)
}

fn build(steps: &[(i64, i64, i64)]) -> Vec<Snapshot> {
    let mut when = at("2026-03-01T00:00:00Z");
    steps
        .iter()
        .map(|(minutes, equity, cash)| {
            when += Duration::minutes(*minutes);
            Snapshot {
                at: when,
                equity: Decimal::from(100_000 + equity),
                cash: Decimal::from(100_000 + cash),
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn splitting_a_batch_changes_nothing(steps in series(), split in 0usize..60, trailing: bool, ny: bool) {
        let mut rules = rules();
        rules.min_trading_days = 2;
        if trailing {
            rules.drawdown_mode = DrawdownMode::Trailing;
        }
        if ny {
            rules.time_zone = parse_time_zone("America/New_York").unwrap();
            rules.daily_reset_time = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        }
        let snapshots = build(&steps);
        let times: Vec<DateTime<Utc>> = snapshots.iter().step_by(3).map(|s| s.at - Duration::seconds(1)).collect();
        let fills = fills_at(&times);
        let eval = Evaluator::new(&rules, window());
        let mut whole = EvalState::new(&rules);
        let whole_verdict = eval.run(&mut whole, &fills, &snapshots);

        let split = split.min(snapshots.len());
        let mut parts = EvalState::new(&rules);
        let mut verdict = eval.run(&mut parts, &fills, &snapshots[..split]);
        if !verdict.is_final() {
            let rest: Vec<Fill> = fills.iter().copied().filter(|fill| parts.last_fill.is_none_or(|last| *fill > last)).collect();
            verdict = eval.run(&mut parts, &rest, &snapshots[split..]);
        }
        prop_assert_eq!(verdict, whole_verdict);
        prop_assert_eq!(parts, whole);
    }

    #[test]
    fn trading_days_equal_the_distinct_trading_days_of_fills(minutes in prop::collection::vec(1i64..3_000, 1..80)) {
        let mut rules = rules();
        rules.time_zone = parse_time_zone("America/New_York").unwrap();
        rules.daily_reset_time = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        let eval = Evaluator::new(&rules, window());
        let mut state = EvalState::new(&rules);
        let mut when = at("2026-03-01T00:00:00Z");
        let mut days = std::collections::BTreeSet::new();
        for step in minutes {
            when += Duration::minutes(step);
            if when > window().end { break; }
            eval.apply_fill(&mut state, Fill { at: when, id: Uuid::nil() });
            days.insert(rules.trading_day(when));
        }
        prop_assert_eq!(state.trading_days as usize, days.len());
    }
}

#[test]
fn fills_sharing_a_timestamp_are_read_once_each_across_passes() {
    let rules = rules();
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    // One order's five fills share its time; a page of three ends inside it.
    let fills = fills_at(&[at("2026-03-02T09:00:00Z"); 5]);
    for fill in &fills[..3] {
        eval.apply_fill(&mut state, *fill);
    }
    assert_eq!(state.last_fill, Some(fills[2]));
    // The next page starts after the third; a fill read again changes nothing.
    for fill in &fills[2..] {
        eval.apply_fill(&mut state, *fill);
    }
    assert_eq!(state.last_fill, Some(fills[4]));
    assert_eq!(state.trading_days, 1);
}

#[test]
fn fills_outside_the_window_move_the_cursor_but_count_no_day() {
    let rules = rules();
    let eval = Evaluator::new(&rules, window());
    let mut state = EvalState::new(&rules);
    let fills = fills_at(&[at("2026-03-31T00:00:01Z"), at("2026-03-31T08:00:00Z")]);
    for fill in &fills {
        eval.apply_fill(&mut state, *fill);
    }
    assert_eq!(state.last_fill, Some(fills[1]));
    assert_eq!((state.trading_days, state.last_fill_day), (0, None));
}
