//! The bridge to the strategy crate: drafts and versions are validated by compiling them
//! against the clone's entitlement and trade universe, and fingerprinted for publishing.

use clones_strategy::{CompileErrors, Constraints};
use serde_json::Value;

use crate::CloneError;

/// The compile constraints of one clone.
pub type CloneConstraints = Constraints;

fn problems(errors: CompileErrors) -> CloneError {
    CloneError::InvalidGraph(errors.problems())
}

/// The default draft graph as JSON.
///
/// # Errors
/// Only if the default graph cannot be serialised, which would be a bug.
pub fn default_graph_json() -> Result<Value, CloneError> {
    serde_json::to_value(clones_strategy::default_draft_graph())
        .map_err(|error| CloneError::InvalidInput(format!("default graph: {error}")))
}

/// Parses and compiles `graph` under `limits`; returns its fingerprint (SHA3-256 hex of the
/// canonical form).
///
/// # Errors
/// [`CloneError::InvalidGraph`] listing every problem, each naming its node when it has one.
pub fn validate(graph: &Value, limits: &CloneConstraints) -> Result<String, CloneError> {
    let parsed = clones_strategy::parse_value(graph).map_err(problems)?;
    clones_strategy::compile(&parsed, limits).map_err(problems)?;
    Ok(clones_strategy::fingerprint_hex(&parsed))
}
