//! The rows a deliberation is recorded as: run, actions and artifact, truncated to their
//! columns' widths.
//!
//! It builds rows only; inserting them (in one transaction) is the caller's.

use chrono::{DateTime, Utc};
use clones_strategy::SizeSpec;
use serde_json::{Value, json};
use uuid::Uuid;

use super::deliberation::Deliberation;
use super::{PgDecisionService, truncate};
use crate::models::{ActionRow, ArtifactRow, RunRow};
use crate::views::RunContext;

impl PgDecisionService {
    #[expect(
        clippy::too_many_arguments,
        reason = "one row is assembled from the run's facts"
    )]
    pub(super) fn rows(
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
}

fn size_json(size: &SizeSpec) -> Value {
    json!({ size.key(): size.amount().normalize().to_string() })
}
