//! Owner reads (the list of a clone's runs, one run in detail) and dry runs.
//!
//! The [`DecisionService`] implementation: reads are as the owner, and a dry run is recorded
//! like any run but never handed to prop-engine.

use std::collections::BTreeMap;
use std::time::Instant;

use async_trait::async_trait;
use chrono::Duration;
use clones_kernel::{Cursor, Page, PageRequest};
use clones_market::Side;
use serde_json::Value;
use uuid::Uuid;

use super::inputs::AccountSource;
use super::{PgDecisionService, elapsed_ms};
use crate::models::{ActionRow, ArtifactRow, ExecutionRow, RunRow};
use crate::views::{
    ActionView, Adapter, ArtifactView, ExecutionView, RunContext, RunDetail, RunStatus, RunView,
};
use crate::{DecisionError, DecisionService, repo};

impl PgDecisionService {
    /// A run with actions, executions and artifact, read as `owner`; optionally only if it is
    /// `clone_id`'s.
    pub(super) async fn read_detail(
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

pub(super) fn detail_of(
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
