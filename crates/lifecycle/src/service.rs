//! The lifecycle service over PostgreSQL: audition starts, retries, voids and refund
//! authorizations, the evaluation pass, Arena admission and the read models.
//!
//! Every state change and its audit event commit in one transaction. Prop accounts are opened
//! through [`PropService`] before the row that refers to them is inserted, so a caller that
//! loses a race (the unique constraint keeps the first run) leaves an unused account behind;
//! nothing trades it, because trading assignments come from runs and memberships only.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_clone_service::display::{SetupFacts, display_state};
use clones_clone_service::{CloneError, CloneService, CloneView, DisplayState};
use clones_db::Db;
use clones_economy::{EconomyService, PurchaseView, QuoteRequest, SignedQuote};
use clones_kernel::{Clock, Cursor, DomainError, Page, PageRequest};
use clones_prop_engine::{AccountContext, OpenAccount, PropError, PropService};
use clones_vault::Purpose;
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{
    EntryRow, EvaluationRow, MembershipRow, RefundRow, RuleSetRow, RunEventRow, RunRow,
};
use crate::rules::{
    Basis, DrawdownMode, EvalState, Evaluator, FailureRule, RetryRefusal, Rules, Snapshot, Verdict,
    Window, parse_time_zone, standing,
};
use crate::status::{
    AuditionEventActor, AuditionEventKind, MembershipStatus, RefundStatus, SkipReason,
};
use crate::views::{
    ArenaMembershipView, ArenaReport, AuditionDetail, AuditionEvent, AuditionProgress,
    AuditionStatus, AuditionView, CloneLifecycleState, EvaluationReport, PromotionEntryView,
    PromotionStatus, RefundAuthorizationView, RuleSetView, RulesView, StartAudition,
    StartedAudition, TradingAssignment, TradingContext,
};
use crate::{LifecycleError, LifecycleService, facts, repo};

/// Snapshots read per run and pass.
const SNAPSHOT_PAGE: u32 = 500;
/// Fills read per run and pass.
const FILL_PAGE: u32 = 1000;

/// How the lifecycle runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// The rule set used when a start names none.
    pub default_rule_set: String,
    /// The starting balance of an Arena prop account.
    pub arena_starting_balance: Decimal,
    /// The quote currency of an Arena prop account.
    pub arena_quote_currency: String,
    /// How long a worker holds a leased run or queue entry before another may take it.
    pub lease: Duration,
    /// How long after a window's end its verdict waits for a snapshot taken after the end
    /// (which proves every snapshot of the window was judged) before closing without one.
    pub close_grace: Duration,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            default_rule_set: "standard".into(),
            arena_starting_balance: Decimal::from(100_000),
            arena_quote_currency: "USDC".into(),
            lease: Duration::minutes(5),
            close_grace: Duration::minutes(2),
        }
    }
}

/// The PostgreSQL lifecycle service.
#[derive(Clone)]
pub struct PgLifecycleService {
    db: Db,
    clock: Arc<dyn Clock>,
    clones: Arc<dyn CloneService>,
    prop: Arc<dyn PropService>,
    economy: Arc<dyn EconomyService>,
    settings: Arc<LifecycleSettings>,
}

impl std::fmt::Debug for PgLifecycleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLifecycleService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A stored value this code cannot read; logged here, answered as an internal error, never
/// coerced to a default.
pub(crate) fn corrupt(what: impl Into<String>) -> LifecycleError {
    let what = what.into();
    tracing::error!(problem = %what, "corrupt lifecycle row");
    LifecycleError::Corrupt(what)
}

fn to_u32(value: i32) -> u32 {
    u32::try_from(value).unwrap_or_default()
}

fn rules_of_row(row: &RuleSetRow) -> Result<Rules, LifecycleError> {
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

fn rules_view(rules: &Rules) -> RulesView {
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

fn frozen_rules(run: &RunRow) -> Result<Rules, LifecycleError> {
    serde_json::from_value(run.rules.clone()).map_err(|_| corrupt("frozen audition rules"))
}

fn state_of(evaluation: &EvaluationRow) -> EvalState {
    EvalState {
        last_snapshot_at: evaluation.last_snapshot_at,
        last_fill_at: evaluation.last_fill_at,
        trading_day: evaluation.trading_day,
        day_start_value: evaluation.day_start_value,
        peak_value: evaluation.peak_value,
        last_fill_day: evaluation.last_fill_day,
        trading_days: to_u32(evaluation.trading_days),
        latest_equity: evaluation.latest_equity,
        latest_cash: evaluation.latest_cash,
    }
}

fn status_of(run: &RunRow) -> Result<AuditionStatus, LifecycleError> {
    AuditionStatus::parse(&run.status).ok_or_else(|| corrupt("audition status"))
}

fn run_view(
    run: &RunRow,
    evaluation: &EvaluationRow,
    now: DateTime<Utc>,
) -> Result<AuditionView, LifecycleError> {
    let rules = frozen_rules(run)?;
    let state = state_of(evaluation);
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
fn load_view(
    conn: &mut PgConnection,
    run: &RunRow,
    now: DateTime<Utc>,
) -> Result<AuditionView, LifecycleError> {
    let evaluation =
        repo::evaluation_of(conn, run.id)?.ok_or_else(|| corrupt("run without evaluation"))?;
    run_view(run, &evaluation, now)
}

fn event_view(row: RunEventRow) -> Result<AuditionEvent, LifecycleError> {
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

fn refund_view(row: RefundRow) -> Result<RefundAuthorizationView, LifecycleError> {
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

fn entry_view(row: &EntryRow) -> Result<PromotionEntryView, LifecycleError> {
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

/// The clone's latest Promotion Queue entry visible in the connection's scope.
fn entry_in(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> Result<Option<PromotionEntryView>, LifecycleError> {
    repo::entry_of_clone(conn, clone_id)?
        .as_ref()
        .map(entry_view)
        .transpose()
}

/// The clone's active Arena membership, else its latest one.
fn membership_in(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> Result<Option<ArenaMembershipView>, LifecycleError> {
    let membership = match repo::active_membership(conn, clone_id)? {
        Some(active) => Some(active),
        None => repo::latest_membership(conn, clone_id)?,
    };
    membership.as_ref().map(membership_view).transpose()
}

fn membership_view(row: &MembershipRow) -> Result<ArenaMembershipView, LifecycleError> {
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

/// Who acted on a run.
#[derive(Debug, Clone, Copy)]
enum Actor {
    Owner(Uuid),
    Admin(Uuid),
    Worker,
}

fn event(
    run: &RunRow,
    kind: AuditionEventKind,
    actor: Actor,
    reason: Option<&str>,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> RunEventRow {
    let (actor_name, actor_user_id) = match actor {
        Actor::Owner(user) => (AuditionEventActor::Owner, Some(user)),
        Actor::Admin(user) => (AuditionEventActor::Admin, Some(user)),
        Actor::Worker => (AuditionEventActor::Worker, None),
    };
    RunEventRow {
        id: Uuid::new_v4(),
        seq: 0,
        run_id: run.id,
        owner_user_id: run.owner_user_id,
        kind: kind.as_str().into(),
        actor_user_id,
        actor: actor_name.as_str().into(),
        reason: reason.map(str::to_string),
        details,
        created_at: now,
    }
}

fn validate_reason(reason: &str) -> Result<String, LifecycleError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(LifecycleError::InvalidInput(
            "a reason of 1..=500 characters is required".into(),
        ));
    }
    Ok(reason.to_string())
}

fn validate_code(code: &str) -> Result<(), LifecycleError> {
    let ok = (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(LifecycleError::InvalidInput(
            "ruleSetCode must be 2..=40 characters of a-z, 0-9 and _".into(),
        ))
    }
}

/// A new run's row, its state at the rules' starting balance.
#[expect(
    clippy::too_many_arguments,
    reason = "one field each of the run's identity"
)]
fn new_run(
    clone_id: Uuid,
    owner: Uuid,
    purchase_id: Uuid,
    attempt: i32,
    rule_set_code: &str,
    rules: &Rules,
    prop_account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(RunRow, EvaluationRow), LifecycleError> {
    let frozen = serde_json::to_value(rules).map_err(|_| corrupt("audition rules"))?;
    let id = Uuid::new_v4();
    let run = RunRow {
        id,
        clone_id,
        owner_user_id: owner,
        purchase_id,
        attempt,
        rule_set_code: rule_set_code.into(),
        rules: frozen,
        prop_account_id,
        window_start: now,
        window_end: now + Duration::minutes(i64::from(rules.max_window_minutes)),
        status: AuditionStatus::Running.as_str().into(),
        failure_rule: None,
        failure_detail: None,
        ended_at: None,
        created_at: now,
        updated_at: now,
    };
    let evaluation = EvaluationRow {
        run_id: id,
        owner_user_id: owner,
        last_snapshot_at: None,
        last_fill_at: None,
        trading_day: None,
        day_start_value: rules.starting_balance,
        peak_value: rules.starting_balance,
        last_fill_day: None,
        trading_days: 0,
        latest_equity: rules.starting_balance,
        latest_cash: rules.starting_balance,
        evaluated_at: None,
        lease_expires_at: None,
        updated_at: now,
    };
    Ok((run, evaluation))
}

/// A stable id for an account lifecycle opens, derived from what the account is for.
fn derived_id(purpose: &str) -> Uuid {
    Uuid::new_v5(&ACCOUNT_NAMESPACE, purpose.as_bytes())
}

/// The UUID namespace of lifecycle's prop account ids.
const ACCOUNT_NAMESPACE: Uuid = Uuid::from_u128(0x5f0c_2a8e_6b1d_4c3a_9e7f_1a2b_3c4d_5e6f);

impl PgLifecycleService {
    /// A service over `db`, reading time from `clock`, clones from `clones`, prop accounts
    /// from `prop` and purchases from `economy`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        prop: Arc<dyn PropService>,
        economy: Arc<dyn EconomyService>,
        settings: LifecycleSettings,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            prop,
            economy,
            settings: Arc::new(settings),
        }
    }

    /// The caller's clone; someone else's is not found.
    async fn owned_clone(&self, user: Uuid, clone_id: Uuid) -> Result<CloneView, LifecycleError> {
        match self.clones.get_clone(user, clone_id).await {
            Ok(clone) => Ok(clone),
            Err(CloneError::CloneNotFound) => Err(LifecycleError::CloneNotFound),
            Err(error) => Err(error.into()),
        }
    }

    /// The caller's clone, which must have an active strategy version.
    async fn publishable_clone(&self, user: Uuid, clone_id: Uuid) -> Result<(), LifecycleError> {
        let clone = self.owned_clone(user, clone_id).await?;
        if clone.active_version.is_none() {
            return Err(LifecycleError::StrategyNotPublished);
        }
        Ok(())
    }

    /// The caller's `audition_fee` purchase for `clone_id`.
    async fn audition_purchase(
        &self,
        user: Uuid,
        purchase_id: Uuid,
        clone_id: Uuid,
    ) -> Result<PurchaseView, LifecycleError> {
        let purchase = self
            .economy
            .purchase(user, purchase_id)
            .await?
            .ok_or(LifecycleError::PurchaseNotFound)?;
        if purchase.purpose != Purpose::AuditionFee.as_str() || purchase.clone_id != Some(clone_id)
        {
            return Err(LifecycleError::PurchaseNotForAudition);
        }
        Ok(purchase)
    }

    /// Opens the attempt's prop account under an id derived from (purchase, attempt, rule
    /// set), so a repeated or concurrent start opens one account, not one each, and a start
    /// under other rules never reuses an account funded for different ones.
    async fn open_audition_account(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        purchase_id: Uuid,
        attempt: i32,
        rule_set_code: &str,
        rules: &Rules,
    ) -> Result<Uuid, LifecycleError> {
        let account = self
            .prop
            .open_account(
                owner,
                OpenAccount {
                    account_id: Some(derived_id(&format!(
                        "audition:{purchase_id}:{attempt}:{rule_set_code}"
                    ))),
                    clone_id: Some(clone_id),
                    context: AccountContext::Audition,
                    quote_currency: rules.quote_currency.clone(),
                    starting_balance: rules.starting_balance,
                    limits: None,
                },
            )
            .await?;
        Ok(account.id)
    }

    /// Inserts a run with its `started` event (and `retried` on the run it retries), or
    /// finds the run an earlier or concurrent request created for the same attempt.
    async fn insert_run(
        &self,
        (run, evaluation): (RunRow, EvaluationRow),
        retry_of: Option<Uuid>,
        actor: Actor,
    ) -> Result<StartedAudition, LifecycleError> {
        let now = run.created_at;
        let owner = run.owner_user_id;
        self.db
            .tenant_transaction(owner, move |conn| {
                if let Some(previous) = retry_of {
                    // A void or refund of the failed attempt may have committed since the
                    // retry was checked; holding its lock serialises the two.
                    let old =
                        repo::lock_run(conn, previous)?.ok_or(LifecycleError::AuditionNotFound)?;
                    if repo::run_by_attempt(conn, run.purchase_id, run.attempt)?.is_none() {
                        if repo::refund_of_purchase(conn, run.purchase_id)?.is_some() {
                            return Err(LifecycleError::PurchaseRefunded);
                        }
                        if status_of(&old)? != AuditionStatus::Failed {
                            return Err(LifecycleError::AuditionNotFailed);
                        }
                    }
                }
                if repo::insert_run(conn, &run, &evaluation)? {
                    let details = serde_json::json!({
                        "attempt": run.attempt,
                        "ruleSet": run.rule_set_code,
                        "propAccountId": run.prop_account_id,
                        "windowEnd": run.window_end,
                        "retryOf": retry_of,
                    });
                    repo::insert_event(
                        conn,
                        &event(&run, AuditionEventKind::Started, actor, None, details, now),
                    )?;
                    if let Some(previous) = retry_of {
                        let old = repo::find_run(conn, previous)?
                            .ok_or(LifecycleError::AuditionNotFound)?;
                        let details =
                            serde_json::json!({ "retryRunId": run.id, "attempt": run.attempt });
                        repo::insert_event(
                            conn,
                            &event(&old, AuditionEventKind::Retried, actor, None, details, now),
                        )?;
                    }
                    return Ok(StartedAudition {
                        audition: run_view(&run, &evaluation, now)?,
                        created: true,
                    });
                }
                if let Some(existing) = repo::run_by_attempt(conn, run.purchase_id, run.attempt)? {
                    return Ok(StartedAudition {
                        audition: load_view(conn, &existing, now)?,
                        created: false,
                    });
                }
                Err(LifecycleError::AuditionAlreadyRunning)
            })
            .await
    }

    /// Evaluates one leased run and stores the result.
    async fn evaluate_run(
        &self,
        (run, evaluation): (RunRow, EvaluationRow),
        now: DateTime<Utc>,
        report: &mut EvaluationReport,
    ) -> Result<(), LifecycleError> {
        let rules = frozen_rules(&run)?;
        let owner = run.owner_user_id;
        let account = run.prop_account_id;
        let mut points = self
            .prop
            .equity_after(owner, account, evaluation.last_snapshot_at, SNAPSHOT_PAGE)
            .await?;
        // Snapshots are read in time order, so one taken after the window's end proves every
        // snapshot of the window is in this page (it is never judged itself).
        let past_end = points.iter().any(|point| point.at > run.window_end);
        let mut complete = points.len() < SNAPSHOT_PAGE as usize || past_end;
        let fills = self
            .prop
            .fills_after(owner, account, evaluation.last_fill_at, FILL_PAGE)
            .await?;
        let fills_complete = fills.len() < FILL_PAGE as usize;
        if !fills_complete && let Some(last) = fills.last() {
            // More fills may follow the page: judge only snapshots they fully cover.
            let covered = last.created_at;
            points.retain(|point| point.at < covered);
            complete = false;
        }
        let snapshots: Vec<Snapshot> = points
            .iter()
            .map(|point| Snapshot {
                at: point.at,
                equity: point.equity,
                cash: point.cash,
            })
            .collect();
        let fill_times: Vec<DateTime<Utc>> = fills.iter().map(|fill| fill.created_at).collect();
        let evaluator = Evaluator::new(
            &rules,
            Window {
                start: run.window_start,
                end: run.window_end,
            },
        );
        let mut state = state_of(&evaluation);
        let mut verdict = evaluator.run(&mut state, &fill_times, &snapshots);
        let judged_until = state.last_snapshot_at;
        let unjudged_fills = fill_times
            .iter()
            .copied()
            .filter(|at| judged_until.is_none_or(|judged| *at > judged));
        if !verdict.is_final() && !fills_complete && snapshots.is_empty() {
            // A full page of fills precedes every snapshot not yet judged: count them now, or
            // the cursor would never move past them.
            for at in unjudged_fills {
                evaluator.apply_fill(&mut state, at);
            }
        } else if !verdict.is_final()
            && complete
            && fills_complete
            && (past_end || now >= run.window_end + self.settings.close_grace)
        {
            // The window is over and every snapshot of it was judged: count the trades made
            // after its last snapshot but inside it, then close it.
            for at in unjudged_fills.filter(|at| *at <= run.window_end) {
                evaluator.apply_fill(&mut state, at);
            }
            verdict = evaluator.close(&state, now);
        }
        report.evaluated += 1;
        report.snapshots += u64::try_from(snapshots.len()).unwrap_or_default();
        let seen = evaluation.last_snapshot_at;
        let held = evaluation.lease_expires_at;
        let stored = self
            .db
            .cross_tenant_transaction("lifecycle_evaluate_write", move |conn| {
                let Some(current) = repo::lock_run(conn, run.id)? else {
                    return Err(LifecycleError::AuditionNotFound);
                };
                let stored = repo::evaluation_of(conn, run.id)?
                    .ok_or_else(|| corrupt("run without evaluation"))?;
                // A void or another evaluator got there first: keep what they stored.
                if status_of(&current)? != AuditionStatus::Running
                    || stored.last_snapshot_at != seen
                {
                    if let Some(held) = held {
                        repo::release_run(conn, run.id, held)?;
                    }
                    return Ok(Verdict::Running);
                }
                match &verdict {
                    Verdict::Running => {
                        repo::save_evaluation(conn, run.id, &state, now)?;
                    }
                    Verdict::Passed => {
                        repo::save_evaluation(conn, run.id, &state, now)?;
                        repo::set_outcome(
                            conn,
                            run.id,
                            AuditionStatus::Passed.as_str(),
                            None,
                            None,
                            now,
                        )?;
                        let details = serde_json::json!({
                            "equity": state.latest_equity.to_string(),
                            "tradingDays": state.trading_days,
                            "at": state.last_snapshot_at,
                        });
                        repo::insert_event(
                            conn,
                            &event(
                                &current,
                                AuditionEventKind::Passed,
                                Actor::Worker,
                                None,
                                details,
                                now,
                            ),
                        )?;
                        repo::insert_entry(
                            conn,
                            &EntryRow {
                                id: Uuid::new_v4(),
                                run_id: run.id,
                                clone_id: run.clone_id,
                                owner_user_id: run.owner_user_id,
                                status: PromotionStatus::Queued.as_str().into(),
                                last_skip_reason: None,
                                last_attempt_at: None,
                                admitted_at: None,
                                lease_expires_at: None,
                                created_at: now,
                                updated_at: now,
                            },
                        )?;
                    }
                    Verdict::Failed { rule, detail } => {
                        repo::save_evaluation(conn, run.id, &state, now)?;
                        repo::set_outcome(
                            conn,
                            run.id,
                            AuditionStatus::Failed.as_str(),
                            Some(rule.as_str()),
                            Some(detail.as_str()),
                            now,
                        )?;
                        let details = serde_json::json!({
                            "rule": rule.as_str(),
                            "detail": detail,
                            "at": state.last_snapshot_at,
                        });
                        repo::insert_event(
                            conn,
                            &event(
                                &current,
                                AuditionEventKind::Failed,
                                Actor::Worker,
                                None,
                                details,
                                now,
                            ),
                        )?;
                    }
                }
                Ok(verdict)
            })
            .await?;
        match stored {
            Verdict::Passed => report.passed += 1,
            Verdict::Failed { .. } => report.failed += 1,
            Verdict::Running => {}
        }
        Ok(())
    }

    /// Tries to admit one leased queue entry; returns whether it was admitted.
    async fn admit(&self, entry: EntryRow, now: DateTime<Utc>) -> Result<bool, LifecycleError> {
        let owner = entry.owner_user_id;
        let clone_id = entry.clone_id;
        let retired = match self.clones.get_clone(owner, clone_id).await {
            Ok(clone) => clone.display_state == DisplayState::Retired,
            Err(CloneError::CloneNotFound) => true,
            Err(error) => return Err(error.into()),
        };
        let already = {
            let clone_id = entry.clone_id;
            self.db
                .tenant_transaction(owner, move |conn| {
                    repo::active_membership(conn, clone_id).map_err(LifecycleError::from)
                })
                .await?
                .is_some()
        };
        let skip = if retired {
            Some(SkipReason::CloneRetired)
        } else if already {
            Some(SkipReason::AlreadyMember)
        } else {
            match self.clones.public_profile(clone_id).await {
                Ok(_) => None,
                Err(CloneError::ProfileNotFound | CloneError::CloneNotFound) => {
                    Some(SkipReason::ProfileMissing)
                }
                Err(error) => return Err(error.into()),
            }
        };
        if let Some(reason) = skip {
            let id = entry.id;
            self.db
                .tenant_transaction(owner, move |conn| {
                    repo::skip_entry(conn, id, Some(reason), now).map_err(LifecycleError::from)
                })
                .await?;
            return Ok(false);
        }
        let account = self
            .prop
            .open_account(
                owner,
                OpenAccount {
                    // One Arena account per queue entry, however often admission is retried.
                    account_id: Some(derived_id(&format!("arena:{}", entry.id))),
                    clone_id: Some(clone_id),
                    context: AccountContext::Arena,
                    quote_currency: self.settings.arena_quote_currency.clone(),
                    starting_balance: self.settings.arena_starting_balance,
                    limits: None,
                },
            )
            .await?;
        self.db
            .tenant_transaction(owner, move |conn| {
                let Some(current) = repo::lock_entry(conn, entry.id)? else {
                    return Ok(false);
                };
                let status = PromotionStatus::parse(&current.status)
                    .ok_or_else(|| corrupt("promotion entry status"))?;
                if status != PromotionStatus::Queued {
                    return Ok(false);
                }
                let membership = MembershipRow {
                    id: Uuid::new_v4(),
                    clone_id,
                    owner_user_id: owner,
                    entry_id: entry.id,
                    prop_account_id: account.id,
                    status: MembershipStatus::Active.as_str().into(),
                    joined_at: now,
                    retired_at: None,
                };
                if repo::insert_membership(conn, &membership)? {
                    repo::admit_entry(conn, entry.id, now)?;
                    Ok(true)
                } else {
                    repo::skip_entry(conn, entry.id, Some(SkipReason::AlreadyMember), now)?;
                    Ok(false)
                }
            })
            .await
    }
}

#[async_trait]
impl LifecycleService for PgLifecycleService {
    async fn rule_sets(&self) -> Result<Vec<RuleSetView>, LifecycleError> {
        self.db
            .run(|conn| {
                repo::rule_sets(conn)?
                    .iter()
                    .map(|row| {
                        Ok(RuleSetView {
                            code: row.code.clone(),
                            active: row.active,
                            rules: rules_view(&rules_of_row(row)?),
                        })
                    })
                    .collect()
            })
            .await
    }

    async fn audition_quote(
        &self,
        user: Uuid,
        clone_id: Uuid,
        payer_address: &str,
    ) -> Result<SignedQuote, LifecycleError> {
        self.publishable_clone(user, clone_id).await?;
        Ok(self
            .economy
            .quote(
                user,
                QuoteRequest {
                    purpose: Purpose::AuditionFee,
                    payer_address: payer_address.to_string(),
                    clone_id: Some(clone_id),
                    tier: None,
                    clone_name: None,
                },
            )
            .await?)
    }

    async fn start_audition(
        &self,
        user: Uuid,
        clone_id: Uuid,
        request: StartAudition,
    ) -> Result<StartedAudition, LifecycleError> {
        let code = request
            .rule_set_code
            .clone()
            .unwrap_or_else(|| self.settings.default_rule_set.clone());
        validate_code(&code)?;
        // Someone else's clone is not found before anything about the purchase is said.
        self.owned_clone(user, clone_id).await?;
        let purchase = self
            .audition_purchase(user, request.purchase_id, clone_id)
            .await?;
        let purchase_id = purchase.purchase_id;
        let now = self.clock.now();
        let lookup = code.clone();
        let (existing, rule_set, running) = self
            .db
            .tenant_transaction(user, move |conn| {
                let existing = match repo::run_by_attempt(conn, purchase_id, 1)? {
                    Some(run) => Some(load_view(conn, &run, now)?),
                    None => None,
                };
                Ok::<_, LifecycleError>((
                    existing,
                    repo::rule_set(conn, &lookup)?,
                    repo::running_run_of_clone(conn, clone_id)?,
                ))
            })
            .await?;
        // A repeat of the same purchase is answered with the run it created.
        if let Some(existing) = existing {
            return Ok(StartedAudition {
                audition: existing,
                created: false,
            });
        }
        self.publishable_clone(user, clone_id).await?;
        let rule_set = rule_set.ok_or_else(|| LifecycleError::RuleSetNotFound(code.clone()))?;
        if !rule_set.active {
            return Err(LifecycleError::RuleSetInactive(code));
        }
        if running.is_some() {
            return Err(LifecycleError::AuditionAlreadyRunning);
        }
        let rules = rules_of_row(&rule_set)?;
        let account = self
            .open_audition_account(user, clone_id, purchase_id, 1, &code, &rules)
            .await?;
        let run = new_run(
            clone_id,
            user,
            purchase_id,
            1,
            &rule_set.code,
            &rules,
            account,
            now,
        )?;
        self.insert_run(run, None, Actor::Owner(user)).await
    }

    async fn auditions(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<Vec<AuditionView>, LifecycleError> {
        self.owned_clone(user, clone_id).await?;
        let now = self.clock.now();
        self.db
            .tenant_transaction(user, move |conn| {
                let runs = repo::runs_of_clone(conn, clone_id)?;
                let ids: Vec<Uuid> = runs.iter().map(|run| run.id).collect();
                let evaluations: std::collections::BTreeMap<Uuid, EvaluationRow> =
                    repo::evaluations_of(conn, &ids)?
                        .into_iter()
                        .map(|evaluation| (evaluation.run_id, evaluation))
                        .collect();
                runs.iter()
                    .map(|run| {
                        let evaluation = evaluations
                            .get(&run.id)
                            .ok_or_else(|| corrupt("run without evaluation"))?;
                        run_view(run, evaluation, now)
                    })
                    .collect()
            })
            .await
    }

    async fn audition(&self, user: Uuid, run_id: Uuid) -> Result<AuditionDetail, LifecycleError> {
        let now = self.clock.now();
        self.db
            .tenant_transaction(user, move |conn| {
                let run = repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                let rules = frozen_rules(&run)?;
                let attempts = to_u32(repo::last_attempt(conn, run.purchase_id)?.unwrap_or(1));
                let refunded = repo::refund_of_purchase(conn, run.purchase_id)?.is_some();
                let retries_left = if refunded {
                    0
                } else {
                    rules
                        .free_retries
                        .saturating_sub(attempts.saturating_sub(1))
                };
                Ok(AuditionDetail {
                    audition: load_view(conn, &run, now)?,
                    events: repo::events_of(conn, run_id)?
                        .into_iter()
                        .map(event_view)
                        .collect::<Result<_, _>>()?,
                    retries_left,
                })
            })
            .await
    }

    async fn retry(&self, user: Uuid, run_id: Uuid) -> Result<StartedAudition, LifecycleError> {
        let now = self.clock.now();
        let (run, next, refunded, running) = self
            .db
            .tenant_transaction(user, move |conn| {
                let run = repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                let next = match repo::run_by_attempt(conn, run.purchase_id, run.attempt + 1)? {
                    Some(next) => Some(load_view(conn, &next, now)?),
                    None => None,
                };
                let refunded = repo::refund_of_purchase(conn, run.purchase_id)?.is_some();
                let running = repo::running_run_of_clone(conn, run.clone_id)?;
                Ok::<_, LifecycleError>((run, next, refunded, running))
            })
            .await?;
        // A repeated retry is answered with the attempt the first one created.
        if let Some(next) = next {
            return Ok(StartedAudition {
                audition: next,
                created: false,
            });
        }
        if status_of(&run)? != AuditionStatus::Failed {
            return Err(LifecycleError::AuditionNotFailed);
        }
        let rule = run
            .failure_rule
            .as_deref()
            .and_then(FailureRule::parse)
            .ok_or_else(|| corrupt("failed audition without a rule"))?;
        let rules = frozen_rules(&run)?;
        rules
            .may_retry(rule, to_u32(run.attempt))
            .map_err(|refusal| match refusal {
                RetryRefusal::RuleNotRetryable(rule) => {
                    LifecycleError::RetryNotAllowed(rule.as_str().into())
                }
                RetryRefusal::NoRetriesLeft { allowed } => LifecycleError::NoRetriesLeft(allowed),
            })?;
        if refunded {
            return Err(LifecycleError::PurchaseRefunded);
        }
        if running.is_some() {
            return Err(LifecycleError::AuditionAlreadyRunning);
        }
        self.publishable_clone(user, run.clone_id).await?;
        let account = self
            .open_audition_account(
                user,
                run.clone_id,
                run.purchase_id,
                run.attempt + 1,
                &run.rule_set_code,
                &rules,
            )
            .await?;
        let (mut next, evaluation) = new_run(
            run.clone_id,
            user,
            run.purchase_id,
            run.attempt + 1,
            &run.rule_set_code,
            &rules,
            account,
            now,
        )?;
        // The retry runs under the rules frozen at the first start.
        next.rules = run.rules.clone();
        self.insert_run((next, evaluation), Some(run.id), Actor::Owner(user))
            .await
    }

    async fn promotion_entry(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<PromotionEntryView, LifecycleError> {
        self.db
            .tenant_transaction(user, move |conn| {
                entry_in(conn, clone_id)?.ok_or(LifecycleError::PromotionEntryNotFound)
            })
            .await
    }

    async fn arena_membership(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<ArenaMembershipView, LifecycleError> {
        self.db
            .tenant_transaction(user, move |conn| {
                membership_in(conn, clone_id)?.ok_or(LifecycleError::ArenaMembershipNotFound)
            })
            .await
    }

    async fn clone_state(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<CloneLifecycleState, LifecycleError> {
        let clone = self.owned_clone(user, clone_id).await?;
        let now = self.clock.now();
        let (latest_audition, promotion, arena, competition) = self
            .db
            .tenant_transaction(user, move |conn| {
                let latest = match repo::runs_of_clone(conn, clone_id)?.first() {
                    Some(run) => Some(load_view(conn, run, now)?),
                    None => None,
                };
                let competition = facts::competition_in(conn, &[clone_id])?
                    .remove(&clone_id)
                    .unwrap_or_default();
                Ok::<_, LifecycleError>((
                    latest,
                    entry_in(conn, clone_id)?,
                    membership_in(conn, clone_id)?,
                    competition,
                ))
            })
            .await?;
        // Retirement is clone-service's fact; everything else is derived from lifecycle's.
        let display_state = if clone.display_state == DisplayState::Retired {
            DisplayState::Retired
        } else {
            display_state(
                SetupFacts {
                    has_active_version: clone.active_version.is_some(),
                    retired: false,
                },
                competition,
            )
        };
        Ok(CloneLifecycleState {
            clone_id,
            display_state,
            latest_audition,
            promotion,
            arena,
        })
    }

    async fn void_audition(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<AuditionView, LifecycleError> {
        let reason = validate_reason(reason)?;
        let now = self.clock.now();
        let (view, was_running) = self
            .db
            .cross_tenant_transaction("lifecycle_admin_void", move |conn| {
                let run = repo::lock_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                let was_running = void_locked(conn, &run, admin, &reason, now)?;
                let voided =
                    repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                Ok::<_, LifecycleError>((load_view(conn, &voided, now)?, was_running))
            })
            .await?;
        if was_running {
            self.halt_account(admin, view.prop_account_id).await;
        }
        Ok(view)
    }

    async fn authorize_refund(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<RefundAuthorizationView, LifecycleError> {
        let reason = validate_reason(reason)?;
        let now = self.clock.now();
        let run = self
            .db
            .cross_tenant_transaction("lifecycle_admin_refund_read", move |conn| {
                repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)
            })
            .await?;
        let purchase = self
            .audition_purchase(run.owner_user_id, run.purchase_id, run.clone_id)
            .await?;
        // Audition fees are always paid into the vault; only clone creations are granted.
        let (Some(amount), Some(token), Some(chain_id)) =
            (purchase.amount, purchase.token, purchase.chain_id)
        else {
            return Err(LifecycleError::PurchaseNotForAudition);
        };
        let (view, running_accounts) = self
            .db
            .cross_tenant_transaction("lifecycle_admin_refund", move |conn| {
                let run = repo::lock_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                if repo::refund_of_purchase(conn, run.purchase_id)?.is_some() {
                    return Err(LifecycleError::RefundAlreadyAuthorized);
                }
                // The refund is for the purchase: every attempt of it counts. Locking twice
                // also catches a retry that committed while the first lock waited.
                repo::lock_runs_of_purchase(conn, run.purchase_id)?;
                let attempts = repo::lock_runs_of_purchase(conn, run.purchase_id)?;
                let mut running_accounts = Vec::new();
                for attempt in &attempts {
                    match status_of(attempt)? {
                        AuditionStatus::Passed => return Err(LifecycleError::RefundNotAllowed),
                        AuditionStatus::Voided => {}
                        AuditionStatus::Running | AuditionStatus::Failed => {
                            if void_locked(conn, attempt, admin, &reason, now)? {
                                running_accounts.push(attempt.prop_account_id);
                            }
                        }
                    }
                }
                let row = RefundRow {
                    id: Uuid::new_v4(),
                    purchase_id: run.purchase_id,
                    run_id: run.id,
                    owner_user_id: run.owner_user_id,
                    amount: amount.clone(),
                    token_address: token.clone(),
                    chain_id: i64::try_from(chain_id).unwrap_or(i64::MAX),
                    reason: reason.clone(),
                    authorized_by: admin,
                    status: RefundStatus::Authorized.as_str().into(),
                    created_at: now,
                };
                if !repo::insert_refund(conn, &row)? {
                    return Err(LifecycleError::RefundAlreadyAuthorized);
                }
                let details = serde_json::json!({
                    "refundAuthorizationId": row.id,
                    "purchaseId": row.purchase_id,
                    "amount": row.amount,
                    "token": row.token_address,
                });
                repo::insert_event(
                    conn,
                    &event(
                        &run,
                        AuditionEventKind::RefundAuthorized,
                        Actor::Admin(admin),
                        Some(&reason),
                        details,
                        now,
                    ),
                )?;
                Ok((refund_view(row)?, running_accounts))
            })
            .await?;
        for account in running_accounts {
            self.halt_account(admin, account).await;
        }
        Ok(view)
    }

    async fn refund_authorizations(
        &self,
        page: PageRequest,
    ) -> Result<Page<RefundAuthorizationView>, LifecycleError> {
        self.db
            .cross_tenant_transaction("lifecycle_admin_refund_list", move |conn| {
                Page::from_rows(repo::refunds(conn, &page)?, &page, |row| {
                    Cursor::new(row.created_at, row.id)
                })
                .try_map(refund_view)
            })
            .await
    }

    async fn evaluate_running(&self, batch: u32) -> Result<EvaluationReport, LifecycleError> {
        let now = self.clock.now();
        let until = now + self.settings.lease;
        let limit = i64::from(batch.clamp(1, 10_000));
        let leased = self
            .db
            .cross_tenant_transaction("lifecycle_evaluate_lease", move |conn| {
                repo::lease_running(conn, now, until, limit).map_err(LifecycleError::from)
            })
            .await?;
        let mut report = EvaluationReport::default();
        for run in leased {
            let run_id = run.0.id;
            if let Err(error) = self.evaluate_run(run, now, &mut report).await {
                // The lease expires and a later pass tries again.
                tracing::warn!(%run_id, code = error.code(), %error, "audition evaluation failed");
                report.errors += 1;
            }
        }
        Ok(report)
    }

    async fn sync_arena_entries(&self, batch: u32) -> Result<ArenaReport, LifecycleError> {
        let now = self.clock.now();
        let until = now + self.settings.lease;
        let limit = i64::from(batch.clamp(1, 10_000));
        let leased = self
            .db
            .cross_tenant_transaction("lifecycle_arena_lease", move |conn| {
                repo::lease_queued(conn, now, until, limit).map_err(LifecycleError::from)
            })
            .await?;
        let mut report = ArenaReport::default();
        for entry in leased {
            report.examined += 1;
            let entry_id = entry.id;
            match self.admit(entry, now).await {
                Ok(true) => report.admitted += 1,
                Ok(false) => report.skipped += 1,
                Err(error) => {
                    tracing::warn!(%entry_id, code = error.code(), %error, "arena admission failed");
                    report.errors += 1;
                }
            }
        }
        Ok(report)
    }

    async fn trading_assignments(
        &self,
        after: Option<(TradingContext, Uuid)>,
        limit: u32,
    ) -> Result<Vec<TradingAssignment>, LifecycleError> {
        let now = self.clock.now();
        let limit = i64::from(limit.clamp(1, 100_000));
        // Auditions come first, then memberships: a cursor in the memberships skips the runs.
        let (runs_after, memberships_after) = match after {
            None => (Some(None), None),
            Some((TradingContext::Audition, id)) => (Some(Some(id)), None),
            Some((TradingContext::Arena, id)) => (None, Some(id)),
        };
        self.db
            .cross_tenant_transaction("lifecycle_trading_assignments", move |conn| {
                let runs = match runs_after {
                    Some(after) => repo::trading_runs(conn, now, after, limit)?,
                    None => Vec::new(),
                };
                let mut assignments: Vec<TradingAssignment> = runs
                    .into_iter()
                    .map(|run| TradingAssignment {
                        clone_id: run.clone_id,
                        owner_user_id: run.owner_user_id,
                        account_id: run.prop_account_id,
                        context: TradingContext::Audition,
                        reference_id: run.id,
                    })
                    .collect();
                let room = limit - i64::try_from(assignments.len()).unwrap_or(limit);
                if room > 0 {
                    let memberships = repo::active_memberships(conn, memberships_after, room)?;
                    assignments.extend(memberships.into_iter().map(|membership| {
                        TradingAssignment {
                            clone_id: membership.clone_id,
                            owner_user_id: membership.owner_user_id,
                            account_id: membership.prop_account_id,
                            context: TradingContext::Arena,
                            reference_id: membership.id,
                        }
                    }));
                }
                Ok(assignments)
            })
            .await
    }
}

impl PgLifecycleService {
    /// Halts a voided audition's prop account so nothing more executes on it. The void is
    /// already committed and trading assignments no longer list the account, so a failure
    /// here is logged, not returned.
    async fn halt_account(&self, admin: Uuid, account_id: Uuid) {
        match self.prop.halt(admin, account_id, "audition voided").await {
            Ok(_) | Err(PropError::AlreadyHalted | PropError::AccountClosed) => {}
            Err(error) => {
                tracing::warn!(%account_id, code = error.code(), %error, "could not halt a voided audition's account");
            }
        }
    }
}

/// Voids a locked running or failed run with its audit event; true when it was running.
fn void_locked(
    conn: &mut PgConnection,
    run: &RunRow,
    admin: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, LifecycleError> {
    let status = status_of(run)?;
    if !matches!(status, AuditionStatus::Running | AuditionStatus::Failed) {
        return Err(LifecycleError::AuditionNotVoidable);
    }
    repo::void_run(conn, run.id, run.ended_at.unwrap_or(now), now)?;
    let details = serde_json::json!({ "from": status.as_str() });
    repo::insert_event(
        conn,
        &event(
            run,
            AuditionEventKind::Voided,
            Actor::Admin(admin),
            Some(reason),
            details,
            now,
        ),
    )?;
    Ok(status == AuditionStatus::Running)
}
