//! One decision per assignment and slot, and the worker cycle over the whole roster.
//!
//! It finds or records a slot's run and then hands its actions over; it does not deliberate,
//! build rows or talk to prop-engine itself (see the sibling modules).

use std::time::Instant;

use chrono::{DateTime, Utc};
use clones_kernel::DomainError;
use uuid::Uuid;

use super::inputs::AccountSource;
use super::{PgDecisionService, elapsed_ms};
use crate::roster::{Assignment, TradingRoster};
use crate::views::{CycleStats, DecisionOutcome, RunContext, RunStatus};
use crate::{DecisionError, repo};

impl PgDecisionService {
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
    /// at most [`DecisionSettings::concurrency`](super::DecisionSettings::concurrency) at once, so no active clone is left out however
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

    /// Decides one page of assignments into `stats`: set-based ([`Self::decide_set`]), or one
    /// assignment at a time when a set-based step fails.
    async fn decide_page(&self, assignments: Vec<Assignment>, stats: &mut CycleStats) {
        let results = match self.decide_set(assignments.clone()).await {
            Ok(results) => results,
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "set-based decisions failed; deciding one at a time");
                self.decide_each(assignments).await
            }
        };
        for (assignment, result) in results {
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
}
