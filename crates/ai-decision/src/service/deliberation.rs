//! Deliberation: compile the active strategy, ask the model (rule or language model) and size
//! its proposals into planned actions.
//!
//! Every business refusal is a skipped deliberation, not an error. It reads through the
//! services it is given and records nothing: recording and execution are the caller's.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_clone_service::{CloneRuntime, EffectiveEntitlement};
use clones_market::Side;
use clones_strategy::{
    ActionKind, CompiledPlan, Constraints, ErrorCode, Evaluation, RULE_MODEL_ID,
};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::inputs::{AccountSource, AccountState, MarketCache, Skip};
use super::{PgDecisionService, unreadable};
use crate::DecisionError;
use crate::model::{
    ArtifactDraft, ContextPacket, DecisionModel, ModelInput, ModelOutcome, PacketAccount,
    PacketAsset, PacketStrategy, Proposal, RuleModel, SizeBounds, Task,
};
use crate::views::{Adapter, RunStatus};
use clones_strategy::sizing::size_order;

/// One order to record and execute.
#[derive(Debug, Clone)]
pub(super) struct PlannedAction {
    pub(super) proposal: Proposal,
    pub(super) instrument: String,
    pub(super) side: Side,
    pub(super) size: Decimal,
    pub(super) reduce_only: bool,
    pub(super) reference_price: Decimal,
}

/// What deliberating produced, before it is recorded.
#[derive(Debug, Clone)]
pub(super) struct Deliberation {
    pub(super) model: String,
    pub(super) adapter: Adapter,
    pub(super) version: Option<(i32, String)>,
    pub(super) status: RunStatus,
    pub(super) reason: Option<(String, String)>,
    pub(super) actions: Vec<PlannedAction>,
    pub(super) artifact: Option<ArtifactDraft>,
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

impl PgDecisionService {
    /// Reads clone, strategy, entitlement, account and market memory, asks the model and sizes
    /// its proposals. Every business refusal is a skipped deliberation, not an error.
    pub(super) async fn deliberate(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        source: AccountSource,
        now: DateTime<Utc>,
    ) -> Result<Deliberation, DecisionError> {
        // One read as the owner: model, active version, entitlement and universe together.
        let runtime = self.clones.runtime(owner, clone_id).await?;
        // Read like the cycle reads it for a page: with the runtime, whatever the clone's state.
        let account = self.account_state(owner, clone_id, source).await?;
        self.deliberate_with(runtime, account, &MarketCache::default(), clone_id, now)
            .await
    }

    /// [`Self::deliberate`] on what was already read: the clone's runtime and its account state
    /// (or why the account cannot be traded), with market memory read through `cache`.
    pub(super) async fn deliberate_with(
        &self,
        runtime: CloneRuntime,
        account: Result<AccountState, Skip>,
        cache: &MarketCache,
        clone_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Deliberation, DecisionError> {
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
        let account = match account {
            Ok(account) => account,
            Err((code, detail)) => {
                return Ok(Deliberation::skipped(&model, version, code, detail));
            }
        };
        let (window, series_packet) = self.market_window(&plan, now, cache).await?;
        let mut mids = BTreeMap::new();
        let mut assets = Vec::new();
        for asset in plan.assets() {
            let instrument = self.instrument_of(asset).map_err(unreadable)?.to_string();
            let mid = self.cached_mid(cache, &instrument, now).await?;
            if let Some((price, _)) = mid {
                mids.insert(asset.clone(), price);
            }
            assets.push(PacketAsset {
                asset: asset.clone(),
                position: account.positions.get(&instrument).copied(),
                instrument,
                mid: mid.map(|(price, _)| price),
                mid_at: mid.map(|(_, at)| at),
            });
        }
        let evaluation = clones_strategy::evaluate(&plan, &window);
        let packet = ContextPacket {
            clone_id,
            at: now,
            model: model.clone(),
            strategy: PacketStrategy {
                version: active.version,
                fingerprint: active.fingerprint,
            },
            account: PacketAccount {
                id: account.account_id,
                equity: account.equity,
                equity_source: account.equity_source,
            },
            assets,
            series: series_packet,
            shortfalls: evaluation.shortfalls.clone(),
        };
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
                // The prop account's fee is not known here; prop-engine's gates refuse an order
                // the account cannot carry.
                Decimal::ZERO,
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
