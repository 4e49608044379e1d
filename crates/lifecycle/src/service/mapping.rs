//! Row-to-view conversions: rule set rows into [`Rules`], frozen rules and evaluation rows
//! back into the evaluator's state, and runs, events, refunds, queue entries and memberships
//! into the views the service answers.
//!
//! A stored value that does not parse is [`corrupt`], never read as a default. Only
//! [`load_view`] touches the database (to read a run's evaluation row).

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use super::{corrupt, to_u32};
use crate::models::{
    EntryRow, EvaluationRow, MembershipRow, RefundRow, RuleSetRow, RunEventRow, RunRow,
};
use crate::rules::{
    Basis, DrawdownMode, EvalState, FailureRule, Fill, Rules, parse_time_zone, standing,
};
use crate::status::{
    AuditionEventActor, AuditionEventKind, MembershipStatus, RefundStatus, SkipReason,
};
use crate::views::{
    ArenaMembershipView, AuditionEvent, AuditionProgress, AuditionStatus, AuditionView,
    PromotionEntryView, PromotionStatus, RefundAuthorizationView, RulesView,
};
use crate::{LifecycleError, repo};

pub(super) fn rules_of_row(row: &RuleSetRow) -> Result<Rules, LifecycleError> {
    let basis = |value: &str| Basis::parse(value).ok_or_else(|| corrupt("rule set basis"));
    Ok(Rules {
        quote_currency: row.quote_currency.clone(),
        // NUMERIC columns read back at their full scale; the account and its limits want the
        // plain value.
        starting_balance: row.starting_balance.normalize(),
        profit_target_pct: row.profit_target_pct.map(|pct| pct.normalize()),
        max_daily_loss_pct: row.max_daily_loss_pct.normalize(),
        daily_loss_basis: basis(&row.daily_loss_basis)?,
        max_drawdown_pct: row.max_drawdown_pct.normalize(),
        drawdown_basis: basis(&row.drawdown_basis)?,
        drawdown_mode: DrawdownMode::parse(&row.drawdown_mode)
            .ok_or_else(|| corrupt("rule set drawdown mode"))?,
        daily_reset_time: row.daily_reset_time,
        time_zone: parse_time_zone(&row.time_zone).map_err(corrupt)?,
        min_trading_days: to_u32(row.min_trading_days),
        max_window_minutes: to_u32(row.max_window_minutes),
        free_retries: to_u32(row.free_retries),
        retry_on: row
            .retry_on
            .iter()
            .flatten()
            .map(|code| FailureRule::parse(code).ok_or_else(|| corrupt("rule set retry rule")))
            .collect::<Result<_, _>>()?,
    })
}

pub(super) fn rules_view(rules: &Rules) -> RulesView {
    RulesView {
        quote_currency: rules.quote_currency.clone(),
        starting_balance: rules.starting_balance,
        profit_target_pct: rules.profit_target_pct,
        max_daily_loss_pct: rules.max_daily_loss_pct,
        daily_loss_basis: rules.daily_loss_basis,
        max_drawdown_pct: rules.max_drawdown_pct,
        drawdown_basis: rules.drawdown_basis,
        drawdown_mode: rules.drawdown_mode,
        daily_reset_time: rules.daily_reset_time,
        time_zone: rules.time_zone.name().into(),
        min_trading_days: rules.min_trading_days,
        max_window_minutes: rules.max_window_minutes,
        free_retries: rules.free_retries,
        retry_on: rules.retry_on.clone(),
    }
}

pub(super) fn frozen_rules(run: &RunRow) -> Result<Rules, LifecycleError> {
    serde_json::from_value(run.rules.clone()).map_err(|_| corrupt("frozen audition rules"))
}

pub(super) fn state_of(evaluation: &EvaluationRow) -> Result<EvalState, LifecycleError> {
    let last_fill = match (evaluation.last_fill_at, evaluation.last_fill_id) {
        (Some(at), Some(id)) => Some(Fill { at, id }),
        (None, None) => None,
        _ => return Err(corrupt("evaluation fill cursor without its time or id")),
    };
    Ok(EvalState {
        last_snapshot_at: evaluation.last_snapshot_at,
        last_fill,
        trading_day: evaluation.trading_day,
        day_start_value: evaluation.day_start_value,
        peak_value: evaluation.peak_value,
        last_fill_day: evaluation.last_fill_day,
        trading_days: to_u32(evaluation.trading_days),
        latest_equity: evaluation.latest_equity,
        latest_cash: evaluation.latest_cash,
    })
}

pub(super) fn status_of(run: &RunRow) -> Result<AuditionStatus, LifecycleError> {
    AuditionStatus::parse(&run.status).ok_or_else(|| corrupt("audition status"))
}

pub(super) fn run_view(
    run: &RunRow,
    evaluation: &EvaluationRow,
    now: DateTime<Utc>,
) -> Result<AuditionView, LifecycleError> {
    let rules = frozen_rules(run)?;
    let state = state_of(evaluation)?;
    let standing = standing(&rules, &state);
    let status = status_of(run)?;
    let seconds_left = if status == AuditionStatus::Running {
        (run.window_end - now).num_seconds().max(0)
    } else {
        0
    };
    Ok(AuditionView {
        id: run.id,
        clone_id: run.clone_id,
        purchase_id: run.purchase_id,
        attempt: to_u32(run.attempt),
        rule_set_code: run.rule_set_code.clone(),
        rules: rules_view(&rules),
        prop_account_id: run.prop_account_id,
        window_start: run.window_start,
        window_end: run.window_end,
        status,
        failure_rule: run
            .failure_rule
            .as_deref()
            .map(|rule| FailureRule::parse(rule).ok_or_else(|| corrupt("audition failure rule")))
            .transpose()?,
        failure_detail: run.failure_detail.clone(),
        progress: AuditionProgress {
            equity: state.latest_equity,
            cash: state.latest_cash,
            profit_pct: standing.profit_pct,
            target_equity: rules.target_equity(),
            daily_loss: standing.daily_loss,
            daily_loss_limit: rules.daily_loss_limit(),
            daily_loss_used_pct: standing.daily_loss_used_pct,
            drawdown: standing.drawdown,
            drawdown_limit: rules.drawdown_limit(),
            drawdown_used_pct: standing.drawdown_used_pct,
            peak_value: state.peak_value,
            trading_day: state.trading_day,
            trading_days: state.trading_days,
            min_trading_days: rules.min_trading_days,
            last_snapshot_at: state.last_snapshot_at,
            seconds_left,
        },
        ended_at: run.ended_at,
        created_at: run.created_at,
    })
}

/// The view of `run`, reading its evaluation row.
pub(super) fn load_view(
    conn: &mut PgConnection,
    run: &RunRow,
    now: DateTime<Utc>,
) -> Result<AuditionView, LifecycleError> {
    let evaluation =
        repo::evaluation_of(conn, run.id)?.ok_or_else(|| corrupt("run without evaluation"))?;
    run_view(run, &evaluation, now)
}

pub(super) fn event_view(row: RunEventRow) -> Result<AuditionEvent, LifecycleError> {
    Ok(AuditionEvent {
        id: row.id,
        kind: AuditionEventKind::parse(&row.kind).ok_or_else(|| corrupt("audition event kind"))?,
        actor: AuditionEventActor::parse(&row.actor)
            .ok_or_else(|| corrupt("audition event actor"))?,
        actor_user_id: row.actor_user_id,
        reason: row.reason,
        details: row.details,
        created_at: row.created_at,
    })
}

pub(super) fn refund_view(row: RefundRow) -> Result<RefundAuthorizationView, LifecycleError> {
    Ok(RefundAuthorizationView {
        status: RefundStatus::parse(&row.status)
            .ok_or_else(|| corrupt("refund authorization status"))?,
        id: row.id,
        purchase_id: row.purchase_id,
        run_id: row.run_id,
        owner_user_id: row.owner_user_id,
        amount: row.amount,
        token: row.token_address,
        chain_id: u64::try_from(row.chain_id).unwrap_or_default(),
        reason: row.reason,
        authorized_by: row.authorized_by,
        created_at: row.created_at,
    })
}

pub(super) fn entry_view(row: &EntryRow) -> Result<PromotionEntryView, LifecycleError> {
    Ok(PromotionEntryView {
        id: row.id,
        run_id: row.run_id,
        clone_id: row.clone_id,
        status: PromotionStatus::parse(&row.status)
            .ok_or_else(|| corrupt("promotion entry status"))?,
        last_skip_reason: row
            .last_skip_reason
            .as_deref()
            .map(|reason| SkipReason::parse(reason).ok_or_else(|| corrupt("admission skip reason")))
            .transpose()?,
        last_attempt_at: row.last_attempt_at,
        admitted_at: row.admitted_at,
        created_at: row.created_at,
    })
}

pub(super) fn membership_view(row: &MembershipRow) -> Result<ArenaMembershipView, LifecycleError> {
    Ok(ArenaMembershipView {
        id: row.id,
        clone_id: row.clone_id,
        entry_id: row.entry_id,
        prop_account_id: row.prop_account_id,
        status: MembershipStatus::parse(&row.status)
            .ok_or_else(|| corrupt("arena membership status"))?,
        joined_at: row.joined_at,
    })
}
