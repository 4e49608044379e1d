//! The rule model: the strategy's own evaluator. Deterministic, no network, the default.

use async_trait::async_trait;

use super::{ArtifactDraft, DecisionModel, ModelInput, ModelOutcome, Proposal, sha256_hex};
use crate::views::Adapter;

/// Proposes exactly the actions the compiled plan's evaluation fired.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleModel;

#[async_trait]
impl DecisionModel for RuleModel {
    fn adapter(&self) -> Adapter {
        Adapter::Rule
    }

    async fn decide(&self, input: &ModelInput) -> ModelOutcome {
        let proposals = Proposal::from_evaluation(&input.evaluation);
        let packet = input.packet.to_value();
        let packet_text = packet.to_string();
        ModelOutcome::Proposed {
            proposals,
            artifact: ArtifactDraft {
                model: clones_strategy::RULE_MODEL_ID.to_string(),
                prompt_hash: sha256_hex(packet_text.as_bytes()),
                input_packet: packet,
                raw_output: serde_json::to_string(&input.evaluation).ok(),
                latency_ms: 0,
                prompt_tokens: None,
                completion_tokens: None,
                cost: None,
            },
        }
    }
}
