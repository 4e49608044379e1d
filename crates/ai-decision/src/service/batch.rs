//! A page of the roster decided at once: what every decision reads is read in a fixed number of
//! set-based reads (existing runs, clone runtimes, account states), market memory once per
//! series through one [`MarketCache`], the runs written in one transaction, their orders
//! handed to prop-engine in one batch and the answers recorded in one more.
//!
//! Each decision is the one [`PgDecisionService::decide`] makes for its assignment (the same
//! deliberation, rows and idempotency keys); this module only groups the round trips. A
//! delivery whose slot already has a run, or whose run lost a race to another delivery, goes
//! through [`PgDecisionService::decide`] instead, which finds that run and re-delivers it.

use std::collections::HashMap;
use std::time::Instant;

use clones_kernel::DomainError;
use clones_market::Side;
use clones_prop_engine::{BatchOrder, OrderRequest, PropError, TimeInForce};
use futures_util::StreamExt;
use uuid::Uuid;

use super::inputs::{MarketCache, state_of};
use super::reads::detail_of;
use super::{PgDecisionService, elapsed_ms};
use crate::models::{ActionRow, ArtifactRow, ExecutionRow, RunRow};
use crate::roster::Assignment;
use crate::views::{DecisionOutcome, RunContext};
use crate::{DecisionError, repo};

/// One decision's answer.
pub(super) type Decided = (Assignment, Result<DecisionOutcome, DecisionError>);

/// A run's rows as recorded.
type Recorded = (RunRow, Vec<ActionRow>, Option<ArtifactRow>);

impl PgDecisionService {
    /// Decides every assignment of `assignments` in the current slot.
    ///
    /// # Errors
    /// When a set-based read or write fails; the caller then decides the page one assignment
    /// at a time (every write here is idempotent, so nothing is done twice).
    pub(super) async fn decide_set(
        &self,
        assignments: Vec<Assignment>,
    ) -> Result<Vec<Decided>, DecisionError> {
        let now = self.clock.now();
        let slot = self.slot_of(now);
        let started = Instant::now();
        let accounts: Vec<Uuid> = assignments.iter().map(|a| a.account_id).collect();
        let existing: HashMap<Uuid, Uuid> = self
            .db
            .cross_tenant_transaction("decision: runs of the slot", move |conn| {
                repo::runs_at_slot(conn, &accounts, slot).map_err(DecisionError::from)
            })
            .await?
            .into_iter()
            .collect();
        let (repeated, fresh): (Vec<Assignment>, Vec<Assignment>) = assignments
            .into_iter()
            .partition(|assignment| existing.contains_key(&assignment.account_id));
        let mut decided = self.decide_each(repeated).await;
        if fresh.is_empty() {
            return Ok(decided);
        }
        let runtimes = self
            .clones
            .runtimes(
                fresh
                    .iter()
                    .map(|a| (a.owner_user_id, a.clone_id))
                    .collect(),
            )
            .await?;
        let states = self
            .prop
            .trading_states(
                fresh
                    .iter()
                    .map(|a| (a.owner_user_id, a.account_id))
                    .collect(),
            )
            .await?;
        let read = started.elapsed();
        let cache = MarketCache::default();
        let concurrency = self.settings.concurrency.max(1);
        let deliberations: Vec<_> =
            futures_util::stream::iter(fresh.into_iter().zip(runtimes).zip(states))
                .map(|((assignment, runtime), state)| {
                    let cache = &cache;
                    async move {
                        let started = Instant::now();
                        let deliberation = match (runtime, state) {
                            (Err(error), _) => Err(DecisionError::from(error)),
                            (Ok(_), None) => Err(DecisionError::from(PropError::AccountNotFound)),
                            (Ok(runtime), Some(state)) => {
                                let account = state_of(assignment.clone_id, &state);
                                self.deliberate_with(
                                    runtime,
                                    account,
                                    cache,
                                    assignment.clone_id,
                                    now,
                                )
                                .await
                            }
                        };
                        (assignment, started, deliberation)
                    }
                })
                .buffered(concurrency)
                .collect()
                .await;
        let mut recorded: Vec<(Assignment, Recorded)> = Vec::new();
        for (assignment, started, deliberation) in deliberations {
            match deliberation {
                Ok(deliberation) => {
                    let rows = self.rows(
                        Uuid::new_v4(),
                        assignment.clone_id,
                        assignment.owner_user_id,
                        Some(assignment.account_id),
                        RunContext::from(assignment.context),
                        Some(assignment.reference_id),
                        slot,
                        now,
                        elapsed_ms(started),
                        deliberation,
                    );
                    recorded.push((assignment, rows));
                }
                Err(error) => decided.push((assignment, Err(error))),
            }
        }
        let deliberated = started.elapsed();
        // The rows travel to the blocking pool and back rather than being copied.
        let (recorded, written) = self
            .db
            .cross_tenant_transaction("decision: record runs", move |conn| {
                let runs: Vec<&Recorded> = recorded.iter().map(|(_, rows)| rows).collect();
                let written = repo::insert_runs(conn, &runs).map_err(DecisionError::from)?;
                Ok::<_, DecisionError>((recorded, written))
            })
            .await?;
        let (mine, raced): (Vec<_>, Vec<_>) = recorded
            .into_iter()
            .partition(|(_, (run, _, _))| written.contains(&run.id));
        // Another delivery recorded these slots first: continue with its runs.
        decided.extend(
            self.decide_each(raced.into_iter().map(|(a, _)| a).collect())
                .await,
        );
        let written_at = started.elapsed();
        decided.extend(self.execute_set(mine).await?);
        // Where a page's time goes, for operators tuning page size and concurrency.
        tracing::debug!(
            assignments = decided.len(),
            read_ms = read.as_millis(),
            deliberated_ms = deliberated.as_millis(),
            recorded_ms = written_at.as_millis(),
            executed_ms = started.elapsed().as_millis(),
            "decision page"
        );
        Ok(decided)
    }

    /// Hands the actions of freshly recorded runs to prop-engine in one batch and records the
    /// answers in one transaction.
    async fn execute_set(
        &self,
        recorded: Vec<(Assignment, Recorded)>,
    ) -> Result<Vec<Decided>, DecisionError> {
        let mut orders = Vec::new();
        // Per order: its action, run, owner and account, to record the answer.
        let mut owners = Vec::new();
        for (assignment, (_, actions, _)) in &recorded {
            for action in actions {
                let side = action
                    .side
                    .parse::<Side>()
                    .map_err(|_| DecisionError::Corrupt("action side".into()))?;
                owners.push((
                    action.id.clone(),
                    action.run_id,
                    assignment.owner_user_id,
                    assignment.account_id,
                ));
                orders.push(BatchOrder {
                    owner: assignment.owner_user_id,
                    account_id: assignment.account_id,
                    request: OrderRequest {
                        decision_action_id: Some(action.id.clone()),
                        instrument: action.instrument.clone(),
                        side,
                        size: action.size,
                        limit_price: None,
                        reduce_only: action.reduce_only,
                        time_in_force: TimeInForce::Ioc,
                    },
                });
            }
        }
        let handed = orders.len();
        let answers = if orders.is_empty() {
            Vec::new()
        } else {
            match self.prop.place_orders(orders).await {
                Ok(answers) => answers,
                Err(error) => {
                    tracing::warn!(code = error.code(), %error, orders = handed, "order batch hand-over failed");
                    Vec::new()
                }
            }
        };
        let now = self.clock.now();
        let mut executions: HashMap<Uuid, Vec<ExecutionRow>> = HashMap::new();
        let mut created: HashMap<Uuid, u32> = HashMap::new();
        let mut errors: HashMap<Uuid, u32> = HashMap::new();
        for (index, (action_id, run_id, owner_user_id, account_id)) in
            owners.into_iter().enumerate()
        {
            match answers.get(index) {
                Some(Ok(outcome)) => {
                    if outcome.created {
                        *created.entry(run_id).or_default() += 1;
                    }
                    executions.entry(run_id).or_default().push(ExecutionRow {
                        id: Uuid::new_v4(),
                        action_id,
                        run_id,
                        owner_user_id,
                        account_id,
                        prop_order_id: outcome.order.id,
                        order_status: outcome.order.status.as_str().to_string(),
                        rejection_code: outcome.order.rejection_code.clone(),
                        filled_size: outcome.order.filled_size,
                        executed_at: now,
                    });
                }
                Some(Err(error)) => {
                    *errors.entry(run_id).or_default() += 1;
                    tracing::warn!(%action_id, code = error.code(), %error, "order hand-over failed");
                }
                None => *errors.entry(run_id).or_default() += 1,
            }
        }
        let rows: Vec<ExecutionRow> = executions.values().flatten().cloned().collect();
        if !rows.is_empty() {
            self.db
                .cross_tenant_transaction("decision: record executions", move |conn| {
                    repo::insert_executions(conn, &rows).map_err(DecisionError::from)
                })
                .await?;
        }
        Ok(recorded
            .into_iter()
            .map(|(assignment, (run, actions, artifact))| {
                let run_id = run.id;
                let outcome = detail_of(
                    run,
                    actions,
                    executions.remove(&run_id).unwrap_or_default(),
                    artifact,
                )
                .map(|detail| DecisionOutcome {
                    detail,
                    created: true,
                    orders_created: created.get(&run_id).copied().unwrap_or(0),
                    order_errors: errors.get(&run_id).copied().unwrap_or(0),
                });
                (assignment, outcome)
            })
            .collect())
    }

    /// [`PgDecisionService::decide`] for each assignment, at most `concurrency` at once.
    pub(super) async fn decide_each(&self, assignments: Vec<Assignment>) -> Vec<Decided> {
        let concurrency = self.settings.concurrency.max(1);
        futures_util::stream::iter(assignments)
            .map(|assignment| async move {
                let result = self.decide(&assignment).await;
                (assignment, result)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }
}
