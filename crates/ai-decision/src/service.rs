//! The decision service over PostgreSQL: one decision per assignment and slot, recorded whole
//! and then handed to prop-engine action by action; owner reads and dry runs.
//!
//! It reads clones through `CloneService`, market memory through `MarketData` and account state
//! through `PropService`, and writes only its own tables (through `repo`). It never writes prop
//! tables: orders go through `PropService::place_order` with the action id as idempotency key.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_clone_service::{CloneService, EffectiveEntitlement};
use clones_db::Db;
use clones_ingest::{IngestError, MarketData};
use clones_kernel::{Clock, Cursor, DomainError, Page, PageRequest};
use clones_market::{InstrumentKey, InstrumentKind, ParseError, Side};
use clones_prop_engine::{AccountContext, AccountStatus, OrderRequest, PropService, TimeInForce};
use clones_strategy::{
    ActionKind, Bar, CompiledPlan, Constraints, ErrorCode, Evaluation, MarketWindow, RULE_MODEL_ID,
    SeriesKey, SizeSpec,
};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::model::{
    ArtifactDraft, DecisionModel, ModelInput, ModelOutcome, Proposal, RuleModel, SizeBounds, Task,
};
use crate::models::{ActionRow, ArtifactRow, ExecutionRow, RunRow};
use crate::orders::size_order;
use crate::roster::{Assignment, TradingRoster};
use crate::views::{
    ActionView, Adapter, ArtifactView, CycleStats, DecisionOutcome, ExecutionView, RunContext,
    RunDetail, RunStatus, RunView,
};
use crate::{DecisionError, DecisionService, repo};

/// The most candles read per series (market memory's page size).
const MAX_BARS: u32 = 5_000;

/// How the decision service decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionSettings {
    /// The worker interval in seconds: a decision's slot is `now` truncated to it.
    pub interval_secs: u32,
    /// Venue of the instruments ordered (`replay` and [`InstrumentKind::Perp`] make `BTC` into
    /// `replay:perp:BTC`).
    pub venue: String,
    /// Kind of the instruments ordered.
    pub kind: InstrumentKind,
    /// Assignments decided at once by [`PgDecisionService::run_cycle`].
    pub concurrency: usize,
    /// Largest `percent_equity` a language model may ask for.
    pub max_percent_equity: Decimal,
    /// Largest notional a language model may ask for, as a multiple of equity.
    pub max_notional_to_equity: Decimal,
    /// Most actions in one model answer.
    pub max_model_actions: usize,
    /// Candles per series fetched, as a multiple of the plan's warm-up (at least the warm-up).
    pub history_multiple: u32,
    /// Candles per series copied into the context packet (the most recent ones).
    pub packet_bars: usize,
    /// Equity assumed by a dry run of a clone without an active prop account.
    pub dry_run_equity: Decimal,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        Self {
            interval_secs: 60,
            venue: "replay".into(),
            kind: InstrumentKind::Perp,
            concurrency: 8,
            max_percent_equity: Decimal::ONE_HUNDRED,
            max_notional_to_equity: Decimal::ONE,
            max_model_actions: 8,
            history_multiple: 2,
            packet_bars: 30,
            dry_run_equity: Decimal::from(100_000),
        }
    }
}

/// The PostgreSQL decision service.
#[derive(Clone)]
pub struct PgDecisionService {
    db: Db,
    clock: Arc<dyn Clock>,
    clones: Arc<dyn CloneService>,
    market: Arc<dyn MarketData>,
    prop: Arc<dyn PropService>,
    llm: Option<Arc<dyn DecisionModel>>,
    settings: Arc<DecisionSettings>,
}

impl std::fmt::Debug for PgDecisionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDecisionService")
            .field("settings", &self.settings)
            .field("llm", &self.llm.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a decision's account state comes from.
#[derive(Debug, Clone, Copy)]
enum AccountSource {
    /// The assignment's account.
    Assigned(Uuid),
    /// A dry run: the clone's newest active audition or Arena account, or a nominal equity.
    DryRun,
}

/// Account state at decision time.
#[derive(Debug, Clone)]
struct AccountState {
    account_id: Option<Uuid>,
    equity: Decimal,
    equity_source: &'static str,
    positions: BTreeMap<String, Decimal>,
}

/// One order to record and execute.
#[derive(Debug, Clone)]
struct PlannedAction {
    proposal: Proposal,
    instrument: String,
    side: Side,
    size: Decimal,
    reduce_only: bool,
    reference_price: Decimal,
}

/// What deliberating produced, before it is recorded.
#[derive(Debug, Clone)]
struct Deliberation {
    model: String,
    adapter: Adapter,
    version: Option<(i32, String)>,
    status: RunStatus,
    reason: Option<(String, String)>,
    actions: Vec<PlannedAction>,
    artifact: Option<ArtifactDraft>,
}

impl Deliberation {
    fn skipped(
        model: &str,
        version: Option<(i32, String)>,
        code: &str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            model: model.to_string(),
            adapter: adapter_for(model),
            version,
            status: RunStatus::Skipped,
            reason: Some((code.to_string(), detail.into())),
            actions: Vec::new(),
            artifact: None,
        }
    }
}

fn adapter_for(model: &str) -> Adapter {
    if model == RULE_MODEL_ID {
        Adapter::Rule
    } else {
        Adapter::Openai
    }
}

/// A strategy asset that names no instrument reads like any malformed key market memory is
/// asked for.
fn unreadable(error: ParseError) -> DecisionError {
    DecisionError::Market(IngestError::InvalidInput(error.to_string()))
}

/// `at` truncated to a multiple of `secs` seconds since the epoch.
fn floor_to(at: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let secs = secs.max(1);
    let ts = at.timestamp();
    DateTime::from_timestamp(ts - ts.rem_euclid(secs), 0).unwrap_or(at)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl PgDecisionService {
    /// A service deciding with the rule model, and with `llm` when a strategy or clone needs a
    /// language model (`None`: such runs are skipped with `llm_not_configured`).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        market: Arc<dyn MarketData>,
        prop: Arc<dyn PropService>,
        llm: Option<Arc<dyn DecisionModel>>,
        settings: DecisionSettings,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            market,
            prop,
            llm,
            settings: Arc::new(settings),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &DecisionSettings {
        &self.settings
    }

    /// The slot a decision made at `at` belongs to.
    pub fn slot_of(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        floor_to(at, i64::from(self.settings.interval_secs))
    }

    fn instrument_of(&self, asset: &str) -> Result<InstrumentKey, ParseError> {
        InstrumentKey::new(&self.settings.venue, self.settings.kind, asset)
    }

    /// Decides for one assignment in the current slot and hands the actions to prop-engine.
    ///
    /// The first delivery of a slot records the run (whatever its status) with its actions and
    /// artifact in one transaction; every later or concurrent delivery of the same slot finds
    /// that run through the unique (account, slot) and re-delivers its actions, which
    /// prop-engine executes at most once each.
    ///
    /// # Errors
    /// When the clone is not the assignment owner's ([`DecisionError::CloneNotFound`]), or
    /// clone, account, market or database reads fail; nothing is recorded then.
    pub async fn decide(&self, assignment: &Assignment) -> Result<DecisionOutcome, DecisionError> {
        let owner = assignment.owner_user_id;
        let account_id = assignment.account_id;
        let now = self.clock.now();
        let slot = self.slot_of(now);
        let existing = self.read_slot(owner, account_id, slot).await?;
        let (run_id, created) = match existing {
            Some(run_id) => (run_id, false),
            None => {
                let started = Instant::now();
                let deliberation = self
                    .deliberate(
                        owner,
                        assignment.clone_id,
                        AccountSource::Assigned(account_id),
                        now,
                    )
                    .await?;
                let run_id = Uuid::new_v4();
                let context = RunContext::from(assignment.context);
                let rows = self.rows(
                    run_id,
                    assignment.clone_id,
                    owner,
                    Some(account_id),
                    context,
                    Some(assignment.reference_id),
                    slot,
                    now,
                    elapsed_ms(started),
                    deliberation,
                );
                let inserted = self
                    .db
                    .tenant_transaction(owner, move |conn| {
                        repo::insert_run(conn, &rows.0, &rows.1, rows.2.as_ref())
                            .map_err(DecisionError::from)
                    })
                    .await?;
                if inserted {
                    (run_id, true)
                } else {
                    // Another delivery of this slot won the race: continue with its run.
                    let first = self.read_slot(owner, account_id, slot).await?;
                    (
                        first.ok_or_else(|| {
                            DecisionError::Corrupt("slot conflict without a run".into())
                        })?,
                        false,
                    )
                }
            }
        };
        let detail = self.read_detail(owner, None, run_id).await?;
        let (orders_created, order_errors) =
            self.execute_pending(owner, account_id, &detail).await?;
        let detail = if detail
            .actions
            .iter()
            .any(|action| action.execution.is_none())
        {
            self.read_detail(owner, None, run_id).await?
        } else {
            detail
        };
        Ok(DecisionOutcome {
            detail,
            created,
            orders_created,
            order_errors,
        })
    }

    /// Decides for every assignment of `roster`, reading it `page_size` at a time and deciding
    /// at most [`DecisionSettings::concurrency`] at once, so no active clone is left out however
    /// many there are. A failing assignment is counted and logged; it never stops the others.
    ///
    /// # Errors
    /// When the roster cannot be read.
    pub async fn run_cycle(
        &self,
        roster: &dyn TradingRoster,
        page_size: u32,
    ) -> Result<CycleStats, DecisionError> {
        let page_size = page_size.max(1);
        let mut stats = CycleStats::default();
        let mut after: Option<Assignment> = None;
        loop {
            let page = roster.assignments(after.as_ref(), page_size).await?;
            let full = page.len() >= usize::try_from(page_size).unwrap_or(usize::MAX);
            let last = page.last().cloned();
            stats.assignments += page.len() as u64;
            self.decide_page(page, &mut stats).await;
            match last {
                // A roster that does not move past its cursor would loop: stop instead.
                Some(last) if full && after.as_ref() != Some(&last) => after = Some(last),
                _ => break,
            }
        }
        Ok(stats)
    }

    /// Decides one page of assignments into `stats`.
    async fn decide_page(&self, assignments: Vec<Assignment>, stats: &mut CycleStats) {
        let concurrency = self.settings.concurrency.max(1);
        let mut results = futures_util::stream::iter(assignments)
            .map(|assignment| async move {
                let result = self.decide(&assignment).await;
                (assignment, result)
            })
            .buffer_unordered(concurrency);
        while let Some((assignment, result)) = results.next().await {
            match result {
                Ok(outcome) => {
                    stats.orders_created += u64::from(outcome.orders_created);
                    stats.order_errors += u64::from(outcome.order_errors);
                    if !outcome.created {
                        stats.runs_repeated += 1;
                        continue;
                    }
                    stats.runs_created += 1;
                    match outcome.detail.run.status {
                        RunStatus::Decided => stats.decided += 1,
                        RunStatus::Idle => stats.idle += 1,
                        RunStatus::Skipped => stats.skipped += 1,
                        RunStatus::InvalidOutput => stats.invalid_output += 1,
                        RunStatus::ModelError => stats.model_error += 1,
                    }
                }
                Err(error) => {
                    stats.failures += 1;
                    tracing::warn!(
                        clone_id = %assignment.clone_id,
                        account_id = %assignment.account_id,
                        code = error.code(),
                        %error,
                        "decision failed"
                    );
                }
            }
        }
    }

    async fn read_slot(
        &self,
        owner: Uuid,
        account_id: Uuid,
        slot: DateTime<Utc>,
    ) -> Result<Option<Uuid>, DecisionError> {
        self.db
            .tenant_transaction(owner, move |conn| {
                repo::run_at_slot(conn, account_id, slot)
                    .map(|run| run.map(|run| run.id))
                    .map_err(DecisionError::from)
            })
            .await
    }

    /// Hands every action of `detail` without a recorded execution to prop-engine and records
    /// the answer. Returns (orders executed for the first time, hand-overs that failed).
    async fn execute_pending(
        &self,
        owner: Uuid,
        account_id: Uuid,
        detail: &RunDetail,
    ) -> Result<(u32, u32), DecisionError> {
        let mut created = 0;
        let mut errors = 0;
        for action in detail
            .actions
            .iter()
            .filter(|action| action.execution.is_none())
        {
            let request = OrderRequest {
                decision_action_id: Some(action.id.clone()),
                instrument: action.instrument.clone(),
                side: action.side,
                size: action.size,
                limit_price: None,
                reduce_only: action.reduce_only,
                time_in_force: TimeInForce::Ioc,
            };
            match self.prop.place_order(owner, account_id, request).await {
                Ok(outcome) => {
                    if outcome.created {
                        created += 1;
                    }
                    let row = ExecutionRow {
                        id: Uuid::new_v4(),
                        action_id: action.id.clone(),
                        run_id: detail.run.id,
                        owner_user_id: owner,
                        account_id,
                        prop_order_id: outcome.order.id,
                        order_status: outcome.order.status.as_str().to_string(),
                        rejection_code: outcome.order.rejection_code.clone(),
                        filled_size: outcome.order.filled_size,
                        executed_at: self.clock.now(),
                    };
                    self.db
                        .tenant_transaction(owner, move |conn| {
                            repo::insert_execution(conn, &row).map_err(DecisionError::from)
                        })
                        .await?;
                }
                Err(error) => {
                    errors += 1;
                    tracing::warn!(action_id = %action.id, code = error.code(), %error, "order hand-over failed");
                }
            }
        }
        Ok((created, errors))
    }

    /// Reads clone, strategy, entitlement, account and market memory, asks the model and sizes
    /// its proposals. Every business refusal is a skipped deliberation, not an error.
    async fn deliberate(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        source: AccountSource,
        now: DateTime<Utc>,
    ) -> Result<Deliberation, DecisionError> {
        // One read as the owner: model, active version, entitlement and universe together.
        let runtime = self.clones.runtime(owner, clone_id).await?;
        let model = runtime.model.clone();
        let Some(active) = runtime.active_version else {
            return Ok(Deliberation::skipped(
                &model,
                None,
                "no_active_strategy",
                "the clone has no published active strategy version",
            ));
        };
        let version = Some((active.version, active.fingerprint.clone()));
        let entitlement = runtime.entitlement;
        if model != RULE_MODEL_ID && !entitlement.allows_model(&model) {
            return Ok(Deliberation::skipped(
                &model,
                version,
                "model_not_allowed",
                format!(
                    "model `{model}` is above the entitlement's {} tier",
                    entitlement.allowed_model_strength
                ),
            ));
        }
        let plan = match compile(&active.graph, &entitlement, &runtime.trade_universe.assets) {
            Ok(plan) => plan,
            Err((code, detail)) => return Ok(Deliberation::skipped(&model, version, code, detail)),
        };
        let account = match self.account_state(owner, clone_id, source).await? {
            Ok(account) => account,
            Err((code, detail)) => {
                return Ok(Deliberation::skipped(&model, version, code, detail));
            }
        };
        let (window, series_packet) = self.market_window(&plan, now).await?;
        let mut mids = BTreeMap::new();
        let mut assets = Vec::new();
        for asset in plan.assets() {
            let instrument = self.instrument_of(asset).map_err(unreadable)?.to_string();
            let mid = self.market.latest_mid(&instrument, now).await?;
            if let Some((price, _)) = mid {
                mids.insert(asset.clone(), price);
            }
            assets.push(json!({
                "asset": asset,
                "instrument": instrument,
                "mid": mid.map(|(price, _)| price.normalize().to_string()),
                "midAt": mid.map(|(_, at)| at),
                "position": account.positions.get(&instrument).map(|size| size.normalize().to_string()),
            }));
        }
        let evaluation = clones_strategy::evaluate(&plan, &window);
        let packet = json!({
            "cloneId": clone_id,
            "at": now,
            "model": model,
            "strategy": {"version": active.version, "fingerprint": active.fingerprint},
            "account": {
                "id": account.account_id,
                "equity": account.equity.normalize().to_string(),
                "equitySource": account.equity_source,
            },
            "assets": assets,
            "series": series_packet,
            "shortfalls": evaluation.shortfalls,
        });
        let bounds = SizeBounds {
            max_percent_equity: self.settings.max_percent_equity,
            max_notional: account
                .equity
                .checked_mul(self.settings.max_notional_to_equity)
                .unwrap_or(Decimal::ZERO)
                .max(Decimal::ZERO),
            max_actions: self.settings.max_model_actions,
        };
        let uses_llm = model != RULE_MODEL_ID || !evaluation.llm_requests.is_empty();
        let (model_id, tasks) = if uses_llm {
            self.tasks(&model, &plan, &evaluation)
        } else {
            (model.clone(), Vec::new())
        };
        if uses_llm && !entitlement.allows_model(&model_id) {
            return Ok(Deliberation::skipped(
                &model_id,
                version,
                "model_not_allowed",
                format!("model `{model_id}` is not allowed by the entitlement"),
            ));
        }
        let adapter: Arc<dyn DecisionModel> = if uses_llm {
            match &self.llm {
                Some(llm) => llm.clone(),
                None => {
                    return Ok(Deliberation::skipped(
                        &model_id,
                        version,
                        "llm_not_configured",
                        "this strategy needs a language model and none is configured",
                    ));
                }
            }
        } else {
            Arc::new(RuleModel)
        };
        let input = ModelInput {
            model: model_id.clone(),
            packet,
            evaluation,
            tasks,
            bounds,
        };
        let outcome = adapter.decide(&input).await;
        let mut deliberation = Deliberation {
            model: model_id,
            adapter: adapter.adapter(),
            version,
            status: RunStatus::Idle,
            reason: None,
            actions: Vec::new(),
            artifact: None,
        };
        let proposals = match outcome {
            ModelOutcome::Proposed {
                proposals,
                artifact,
            } => {
                deliberation.artifact = Some(artifact);
                proposals
            }
            ModelOutcome::Invalid {
                code,
                detail,
                artifact,
            } => {
                deliberation.status = RunStatus::InvalidOutput;
                deliberation.reason = Some((code, detail));
                deliberation.artifact = Some(artifact);
                return Ok(deliberation);
            }
            ModelOutcome::Failed {
                code,
                detail,
                artifact,
            } => {
                deliberation.status = RunStatus::ModelError;
                deliberation.reason = Some((code, detail));
                deliberation.artifact = Some(artifact);
                return Ok(deliberation);
            }
        };
        // A rule-model clone keeps its strategy's own actions next to the model's answers to its
        // instructions; a clone whose model is a language model lets that model decide alone.
        let mut all = Vec::new();
        if uses_llm && model == RULE_MODEL_ID {
            all.extend(Proposal::from_evaluation(&input.evaluation));
        }
        all.extend(proposals);
        // Later proposals on an asset are sized from the position the earlier ones leave, so a
        // close followed by a target, or two targets, end where the last one says.
        let mut positions = account.positions.clone();
        for proposal in all {
            let mid = match self.instrument_of(&proposal.asset) {
                Ok(instrument) => mids
                    .get(&proposal.asset)
                    .copied()
                    .map(|mid| (instrument.to_string(), mid))
                    .ok_or_else(|| format!("no mid for {instrument} in market memory")),
                Err(error) => Err(error.to_string()),
            };
            let (instrument, mid) = match mid {
                Ok(found) => found,
                Err(detail) => {
                    deliberation.status = RunStatus::Skipped;
                    deliberation.reason = Some(("no_market_price".into(), detail));
                    deliberation.actions.clear();
                    return Ok(deliberation);
                }
            };
            let position = positions.get(&instrument).copied().unwrap_or(Decimal::ZERO);
            if let Some(order) = size_order(
                proposal.kind,
                proposal.size.as_ref(),
                account.equity,
                mid,
                position,
            ) {
                let signed = match order.side {
                    Side::Buy => order.size,
                    Side::Sell => -order.size,
                };
                positions.insert(instrument.clone(), position + signed);
                deliberation.actions.push(PlannedAction {
                    proposal,
                    instrument,
                    side: order.side,
                    size: order.size,
                    reduce_only: order.reduce_only,
                    reference_price: mid,
                });
            }
        }
        if !deliberation.actions.is_empty() {
            deliberation.status = RunStatus::Decided;
        }
        Ok(deliberation)
    }

    /// The model to ask and its tasks: the strategy's `llm_instruction` requests, plus one
    /// `strategy` task over every traded asset when the clone's own model is a language model.
    fn tasks(
        &self,
        model: &str,
        plan: &CompiledPlan,
        evaluation: &Evaluation,
    ) -> (String, Vec<Task>) {
        let mut tasks = Vec::new();
        if model != RULE_MODEL_ID {
            let assets = if plan.traded_assets().is_empty() {
                plan.assets().to_vec()
            } else {
                plan.traded_assets().to_vec()
            };
            tasks.push(Task {
                id: "strategy".into(),
                guidance: "Decide this cycle's trades for the whole strategy. The rule model's \
                           signals are listed under strategySignals; follow, adjust or ignore them."
                    .into(),
                allowed_actions: ActionKind::ALL.to_vec(),
                assets,
                context: Vec::new(),
                risk: Default::default(),
            });
        }
        for request in &evaluation.llm_requests {
            tasks.push(Task {
                id: request.node.clone(),
                guidance: request.guidance.clone(),
                allowed_actions: request.allowed_actions.clone(),
                assets: request.assets.clone(),
                context: request.context.clone(),
                risk: request.risk,
            });
        }
        // One call per decision: the clone's model when it is a language model, else the model
        // named by the first instruction.
        let model_id = if model != RULE_MODEL_ID {
            model.to_string()
        } else {
            evaluation
                .llm_requests
                .first()
                .map_or_else(|| model.to_string(), |request| request.model.clone())
        };
        (model_id, tasks)
    }

    async fn account_state(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        source: AccountSource,
    ) -> Result<Result<AccountState, (&'static str, String)>, DecisionError> {
        let account = match source {
            AccountSource::Assigned(account_id) => {
                let account = self.prop.account(owner, account_id).await?;
                if account.status != AccountStatus::Active {
                    return Ok(Err((
                        "account_not_active",
                        format!("prop account {account_id} is {}", account.status.as_str()),
                    )));
                }
                if account.clone_id.is_some_and(|id| id != clone_id) {
                    return Ok(Err((
                        "account_not_for_clone",
                        format!("prop account {account_id} belongs to another clone"),
                    )));
                }
                Some(account)
            }
            AccountSource::DryRun => self
                .prop
                .accounts(owner)
                .await?
                .into_iter()
                .find(|account| {
                    account.clone_id == Some(clone_id)
                        && account.status == AccountStatus::Active
                        && matches!(
                            account.context,
                            AccountContext::Audition | AccountContext::Arena
                        )
                }),
        };
        let Some(account) = account else {
            return Ok(Ok(AccountState {
                account_id: None,
                equity: self.settings.dry_run_equity,
                equity_source: "nominal",
                positions: BTreeMap::new(),
            }));
        };
        let positions = self
            .prop
            .positions(owner, account.id)
            .await?
            .into_iter()
            .filter(|position| !position.size.is_zero())
            .map(|position| (position.instrument, position.size))
            .collect();
        let (equity, equity_source) = match self.prop.latest_equity(owner, account.id).await? {
            Some(point) => (point.equity, "snapshot"),
            None => (account.cash, "cash"),
        };
        Ok(Ok(AccountState {
            account_id: Some(account.id),
            equity,
            equity_source,
            positions,
        }))
    }

    /// The candles every requirement of `plan` reads (complete bars only, warm-up times
    /// `history_multiple`), and their most recent bars for the packet.
    async fn market_window(
        &self,
        plan: &CompiledPlan,
        now: DateTime<Utc>,
    ) -> Result<(MarketWindow, Vec<Value>), DecisionError> {
        let mut window = MarketWindow::new();
        let mut packet = Vec::new();
        for requirement in plan.requirements() {
            // Prediction-market series are not read yet; they count as empty (a shortfall).
            let SeriesKey::Candles(key) = &requirement.series else {
                continue;
            };
            // A calendar month has no fixed length; no strategy names one.
            let Some(tf) = key.timeframe.seconds() else {
                continue;
            };
            let wanted = requirement
                .warmup_bars
                .saturating_mul(self.settings.history_multiple.max(1))
                .clamp(requirement.warmup_bars.max(1), MAX_BARS);
            // The bar opening at the current boundary is still forming: read up to it.
            let to = floor_to(now, tf);
            let from = to - Duration::seconds(tf.saturating_mul(i64::from(wanted)));
            let instrument = self
                .instrument_of(&key.asset)
                .map_err(unreadable)?
                .to_string();
            let candles = self
                .market
                .candles(&instrument, key.timeframe, from, to)
                .await?;
            let bars: Vec<Bar> = candles
                .iter()
                .map(|candle| Bar {
                    time: candle.open_time.timestamp(),
                    open: candle.open,
                    high: candle.high,
                    low: candle.low,
                    close: candle.close,
                    volume: candle.volume,
                })
                .collect();
            let recent = bars.len().saturating_sub(self.settings.packet_bars);
            packet.push(json!({
                "asset": key.asset,
                "timeframe": key.timeframe.as_str(),
                "bars": bars[recent..].iter().map(|bar| json!([
                    bar.time,
                    bar.open.normalize().to_string(),
                    bar.high.normalize().to_string(),
                    bar.low.normalize().to_string(),
                    bar.close.normalize().to_string(),
                    bar.volume.normalize().to_string(),
                ])).collect::<Vec<_>>(),
            }));
            window = window.with_candles(&key.asset, key.timeframe, bars);
        }
        Ok((window, packet))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one row is assembled from the run's facts"
    )]
    fn rows(
        &self,
        run_id: Uuid,
        clone_id: Uuid,
        owner: Uuid,
        account_id: Option<Uuid>,
        context: RunContext,
        reference_id: Option<Uuid>,
        slot: DateTime<Utc>,
        started_at: DateTime<Utc>,
        latency_ms: i64,
        deliberation: Deliberation,
    ) -> (RunRow, Vec<ActionRow>, Option<ArtifactRow>) {
        let finished_at = self.clock.now().max(started_at);
        let (reason_code, reason_detail) = match deliberation.reason {
            Some((code, detail)) => (Some(truncate(&code, 64)), Some(truncate(&detail, 2000))),
            None => (None, None),
        };
        let run = RunRow {
            id: run_id,
            clone_id,
            owner_user_id: owner,
            account_id,
            context: context.as_str().into(),
            reference_id,
            slot,
            strategy_version: deliberation.version.as_ref().map(|(version, _)| *version),
            strategy_fingerprint: deliberation.version.map(|(_, fingerprint)| fingerprint),
            model: truncate(&deliberation.model, 100),
            adapter: deliberation.adapter.as_str().into(),
            status: deliberation.status.as_str().into(),
            reason_code,
            reason_detail,
            started_at,
            latency_ms: latency_ms.max(0),
        };
        let actions = deliberation
            .actions
            .into_iter()
            .enumerate()
            .map(|(seq, action)| {
                let seq = i32::try_from(seq).unwrap_or(i32::MAX);
                ActionRow {
                    id: format!("{run_id}:{seq}"),
                    run_id,
                    owner_user_id: owner,
                    seq,
                    asset: action.proposal.asset,
                    instrument: action.instrument,
                    kind: action.proposal.kind.as_str().into(),
                    side: action.side.as_str().into(),
                    size: action.size,
                    reduce_only: action.reduce_only,
                    requested_size: action.proposal.size.as_ref().map(size_json),
                    reference_price: action.reference_price,
                    risk: serde_json::to_value(action.proposal.risk).unwrap_or(Value::Null),
                    source: truncate(&action.proposal.source, 200),
                    rationale: action.proposal.rationale.map(|text| truncate(&text, 2000)),
                }
            })
            .collect();
        let artifact = deliberation.artifact.map(|artifact| ArtifactRow {
            run_id,
            owner_user_id: owner,
            model: truncate(&artifact.model, 100),
            prompt_hash: artifact.prompt_hash,
            input_packet: artifact.input_packet,
            raw_output: artifact.raw_output,
            latency_ms: artifact.latency_ms.max(0),
            prompt_tokens: artifact.prompt_tokens,
            completion_tokens: artifact.completion_tokens,
            cost: artifact.cost,
            created_at: finished_at,
        });
        (run, actions, artifact)
    }

    /// A run with actions, executions and artifact, read as `owner`; optionally only if it is
    /// `clone_id`'s.
    async fn read_detail(
        &self,
        owner: Uuid,
        clone_id: Option<Uuid>,
        run_id: Uuid,
    ) -> Result<RunDetail, DecisionError> {
        let rows = self
            .db
            .tenant_transaction(owner, move |conn| {
                let run = match clone_id {
                    Some(clone_id) => repo::run_of_clone(conn, clone_id, run_id)?,
                    None => repo::run_of_clone_any(conn, run_id)?,
                };
                let Some(run) = run else {
                    return Ok::<_, DecisionError>(None);
                };
                let actions = repo::actions_of(conn, run_id)?;
                let executions = repo::executions_of(conn, run_id)?;
                let artifact = repo::artifact_of(conn, run_id)?;
                Ok(Some((run, actions, executions, artifact)))
            })
            .await?;
        let (run, actions, executions, artifact) = rows.ok_or(DecisionError::RunNotFound)?;
        detail_of(run, actions, executions, artifact)
    }
}

fn size_json(size: &SizeSpec) -> Value {
    json!({ size.key(): size.amount().normalize().to_string() })
}

/// Compiles the active version's graph under the clone's entitlement and trade universe.
/// Failures are (skip code, detail): `model_not_allowed` when a model tier is the only kind of
/// problem, else `strategy_not_allowed`.
fn compile(
    graph: &Value,
    entitlement: &EffectiveEntitlement,
    universe: &[String],
) -> Result<CompiledPlan, (&'static str, String)> {
    let constraints = Constraints {
        trade_universe: (!universe.is_empty())
            .then(|| universe.iter().cloned().collect::<BTreeSet<_>>()),
        max_active_assets: entitlement.max_active_assets,
        max_model_strength: entitlement.allowed_model_strength,
    };
    let graph = clones_strategy::parse_value(graph)
        .map_err(|errors| ("strategy_not_allowed", describe(&errors)))?;
    clones_strategy::compile(&graph, &constraints).map_err(|errors| {
        let only_models = errors
            .iter()
            .all(|error| error.code == ErrorCode::ModelNotAllowed);
        (
            if only_models {
                "model_not_allowed"
            } else {
                "strategy_not_allowed"
            },
            describe(&errors),
        )
    })
}

fn describe(errors: &clones_strategy::CompileErrors) -> String {
    errors
        .iter()
        .map(|error| match &error.node {
            Some(node) => format!("{} ({node}): {}", error.code.as_str(), error.message),
            None => format!("{}: {}", error.code.as_str(), error.message),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn corrupt(what: &str) -> DecisionError {
    DecisionError::Corrupt(what.to_string())
}

fn run_view(row: RunRow) -> Result<RunView, DecisionError> {
    Ok(RunView {
        id: row.id,
        clone_id: row.clone_id,
        account_id: row.account_id,
        context: RunContext::parse(&row.context).ok_or_else(|| corrupt("run context"))?,
        reference_id: row.reference_id,
        slot: row.slot,
        strategy_version: row.strategy_version,
        strategy_fingerprint: row.strategy_fingerprint,
        model: row.model,
        adapter: Adapter::parse(&row.adapter).ok_or_else(|| corrupt("run adapter"))?,
        status: RunStatus::parse(&row.status).ok_or_else(|| corrupt("run status"))?,
        reason_code: row.reason_code,
        reason_detail: row.reason_detail,
        started_at: row.started_at,
        finished_at: row.started_at + Duration::milliseconds(row.latency_ms),
        latency_ms: row.latency_ms,
    })
}

fn order_status(text: &str) -> Option<clones_prop_engine::OrderStatus> {
    serde_json::from_value(Value::String(text.to_string())).ok()
}

fn detail_of(
    run: RunRow,
    actions: Vec<ActionRow>,
    executions: Vec<ExecutionRow>,
    artifact: Option<ArtifactRow>,
) -> Result<RunDetail, DecisionError> {
    let mut executions: BTreeMap<String, ExecutionRow> = executions
        .into_iter()
        .map(|row| (row.action_id.clone(), row))
        .collect();
    let actions = actions
        .into_iter()
        .map(|row| {
            let execution = executions
                .remove(&row.id)
                .map(|execution| {
                    Ok::<_, DecisionError>(ExecutionView {
                        prop_order_id: execution.prop_order_id,
                        order_status: order_status(&execution.order_status)
                            .ok_or_else(|| corrupt("order status"))?,
                        rejection_code: execution.rejection_code,
                        filled_size: execution.filled_size,
                        executed_at: execution.executed_at,
                    })
                })
                .transpose()?;
            Ok(ActionView {
                side: row
                    .side
                    .parse::<Side>()
                    .map_err(|_| corrupt("action side"))?,
                id: row.id,
                seq: row.seq,
                asset: row.asset,
                instrument: row.instrument,
                kind: row.kind,
                size: row.size,
                reduce_only: row.reduce_only,
                requested_size: row.requested_size,
                reference_price: row.reference_price,
                risk: row.risk,
                source: row.source,
                rationale: row.rationale,
                execution,
            })
        })
        .collect::<Result<Vec<_>, DecisionError>>()?;
    Ok(RunDetail {
        run: run_view(run)?,
        actions,
        artifact: artifact.map(|row| ArtifactView {
            model: row.model,
            prompt_hash: row.prompt_hash,
            input_packet: row.input_packet,
            raw_output: row.raw_output,
            latency_ms: row.latency_ms,
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            cost: row.cost,
        }),
    })
}

#[async_trait]
impl DecisionService for PgDecisionService {
    async fn runs(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<RunView>, DecisionError> {
        self.clones.get_clone(owner, clone_id).await?;
        let rows = self
            .db
            .tenant_transaction(owner, move |conn| {
                repo::runs_of_clone(conn, clone_id, &page).map_err(DecisionError::from)
            })
            .await?;
        Page::from_rows(rows, &page, |row| Cursor::new(row.started_at, row.id)).try_map(run_view)
    }

    async fn run(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        run_id: Uuid,
    ) -> Result<RunDetail, DecisionError> {
        self.clones.get_clone(owner, clone_id).await?;
        self.read_detail(owner, Some(clone_id), run_id).await
    }

    async fn dry_run(&self, owner: Uuid, clone_id: Uuid) -> Result<RunDetail, DecisionError> {
        let now = self.clock.now();
        let started = Instant::now();
        let deliberation = self
            .deliberate(owner, clone_id, AccountSource::DryRun, now)
            .await?;
        let run_id = Uuid::new_v4();
        let rows = self.rows(
            run_id,
            clone_id,
            owner,
            None,
            RunContext::DryRun,
            None,
            now,
            now,
            elapsed_ms(started),
            deliberation,
        );
        self.db
            .tenant_transaction(owner, move |conn| {
                repo::insert_run(conn, &rows.0, &rows.1, rows.2.as_ref())
                    .map_err(DecisionError::from)
            })
            .await?;
        self.read_detail(owner, Some(clone_id), run_id).await
    }
}
