//! AI-decision tests against real PostgreSQL: the rule-model path end to end, duplicate
//! deliveries, skips, the OpenAI-compatible adapter against a local stub, reads and dry runs.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod decide;
mod llm;
mod reads;
mod support;
