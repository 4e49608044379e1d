//! Everything that can be wrong with a strategy document, each with a stable machine code.
//!
//! Parsing and compiling report every problem they find as a [`CompileError`] and return them
//! together as [`CompileErrors`]. The codes are part of the public API: clients and other
//! contexts match on them, so a code is never renamed or reused.

use std::fmt;

use serde::Serialize;

/// The stable machine code of a [`CompileError`].
///
/// Serialized as its [`ErrorCode::as_str`] text (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text is not JSON, or a structural field (`nodes`, `id`, `from`, …) has the wrong type.
    InvalidJson,
    /// A structural field (`version`, `nodes`, `edges`, a node's `id` or `kind`, an edge's
    /// `from`, `to` or `input`) is missing.
    MissingField,
    /// An object has a field the format does not define (top level, node, edge or params).
    UnknownField,
    /// A node's `kind` is not one of the defined kinds.
    UnknownNodeKind,
    /// The document's `version` is not a version this crate reads.
    UnsupportedVersion,
    /// The document, the node list or the edge list exceeds its bound.
    GraphTooLarge,
    /// A node id is empty, too long, or uses characters outside `[A-Za-z0-9_-]`.
    InvalidNodeId,
    /// Two nodes share an id.
    DuplicateNodeId,
    /// A node lacks a parameter its kind requires.
    MissingParam,
    /// A parameter has the wrong type or a value outside its bounds.
    InvalidParam,
    /// An edge names a node that does not exist.
    DanglingEdge,
    /// An edge names a port its node does not have.
    UnknownPort,
    /// An edge leaves a node with several outputs without saying which one.
    AmbiguousOutput,
    /// An edge connects ports of different types.
    TypeMismatch,
    /// A required input port has no edge (or fewer than it needs).
    MissingInput,
    /// An input port has more edges than it accepts.
    TooManyInputs,
    /// The same edge appears twice.
    DuplicateEdge,
    /// The edges form a cycle.
    Cycle,
    /// The inputs of an `atr` node come from different series.
    SeriesMismatch,
    /// The chain of indicators needs more history than the bound allows.
    WarmupTooLong,
    /// A risk rule is attached to an action that opens nothing (`close`).
    InvalidRiskTarget,
    /// An action has two risk rules of the same kind.
    DuplicateRiskRule,
    /// The graph has no action node, so it can never do anything.
    NoAction,
    /// An asset is outside the trade universe of the constraints.
    AssetNotInUniverse,
    /// The graph uses more distinct assets than the constraints allow.
    TooManyAssets,
    /// A node names a model stronger than the constraints allow.
    ModelNotAllowed,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 26] = [
        ErrorCode::InvalidJson,
        ErrorCode::MissingField,
        ErrorCode::UnknownField,
        ErrorCode::UnknownNodeKind,
        ErrorCode::UnsupportedVersion,
        ErrorCode::GraphTooLarge,
        ErrorCode::InvalidNodeId,
        ErrorCode::DuplicateNodeId,
        ErrorCode::MissingParam,
        ErrorCode::InvalidParam,
        ErrorCode::DanglingEdge,
        ErrorCode::UnknownPort,
        ErrorCode::AmbiguousOutput,
        ErrorCode::TypeMismatch,
        ErrorCode::MissingInput,
        ErrorCode::TooManyInputs,
        ErrorCode::DuplicateEdge,
        ErrorCode::Cycle,
        ErrorCode::SeriesMismatch,
        ErrorCode::WarmupTooLong,
        ErrorCode::InvalidRiskTarget,
        ErrorCode::DuplicateRiskRule,
        ErrorCode::NoAction,
        ErrorCode::AssetNotInUniverse,
        ErrorCode::TooManyAssets,
        ErrorCode::ModelNotAllowed,
    ];

    /// The stable machine code clients match on.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidJson => "invalid_json",
            MissingField => "missing_field",
            UnknownField => "unknown_field",
            UnknownNodeKind => "unknown_node_kind",
            UnsupportedVersion => "unsupported_version",
            GraphTooLarge => "graph_too_large",
            InvalidNodeId => "invalid_node_id",
            DuplicateNodeId => "duplicate_node_id",
            MissingParam => "missing_param",
            InvalidParam => "invalid_param",
            DanglingEdge => "dangling_edge",
            UnknownPort => "unknown_port",
            AmbiguousOutput => "ambiguous_output",
            TypeMismatch => "type_mismatch",
            MissingInput => "missing_input",
            TooManyInputs => "too_many_inputs",
            DuplicateEdge => "duplicate_edge",
            Cycle => "cycle",
            SeriesMismatch => "series_mismatch",
            WarmupTooLong => "warmup_too_long",
            InvalidRiskTarget => "invalid_risk_target",
            DuplicateRiskRule => "duplicate_risk_rule",
            NoAction => "no_action",
            AssetNotInUniverse => "asset_not_in_universe",
            TooManyAssets => "too_many_assets",
            ModelNotAllowed => "model_not_allowed",
        }
    }

    /// True for codes that depend on the caller's entitlements ([`crate::Constraints`]) rather
    /// than on the document itself: the same graph may pass under a larger plan.
    pub fn is_entitlement(self) -> bool {
        matches!(
            self,
            ErrorCode::AssetNotInUniverse | ErrorCode::TooManyAssets | ErrorCode::ModelNotAllowed
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with a strategy document.
///
/// Serialized as `{"code": "...", "node": "..." | null, "edge": 3 | null, "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// The stable machine code.
    pub code: ErrorCode,
    /// The id of the offending node, when there is one.
    pub node: Option<String>,
    /// The index of the offending edge in the document's `edges` array, when there is one.
    pub edge: Option<usize>,
    /// A human-readable explanation (English, may change between releases).
    pub message: String,
}

impl CompileError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CompileError {
            code,
            node: None,
            edge: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_node(code: ErrorCode, node: &str, message: impl Into<String>) -> Self {
        CompileError {
            code,
            node: Some(node.to_owned()),
            edge: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_edge(
        code: ErrorCode,
        edge: usize,
        node: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        CompileError {
            code,
            node: node.map(str::to_owned),
            edge: Some(edge),
            message: message.into(),
        }
    }
}

/// Every problem found in one document, in the order they were found. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CompileErrors(Vec<CompileError>);

impl CompileErrors {
    /// Every error as the kernel's [`FieldProblem`](clones_kernel::FieldProblem), naming its
    /// node: how every context reports an invalid graph.
    pub fn problems(&self) -> Vec<clones_kernel::FieldProblem> {
        self.0
            .iter()
            .map(|error| clones_kernel::FieldProblem {
                code: error.code.as_str().to_string(),
                node: error.node.clone(),
                message: error.message.clone(),
            })
            .collect()
    }

    /// Wraps a non-empty list; `None` when `errors` is empty.
    pub(crate) fn from_vec(errors: Vec<CompileError>) -> Option<Self> {
        if errors.is_empty() {
            None
        } else {
            Some(CompileErrors(errors))
        }
    }

    pub(crate) fn single(error: CompileError) -> Self {
        CompileErrors(vec![error])
    }

    /// The errors.
    pub fn as_slice(&self) -> &[CompileError] {
        &self.0
    }

    /// Iterates over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, CompileError> {
        self.0.iter()
    }

    /// The errors, owned.
    pub fn into_vec(self) -> Vec<CompileError> {
        self.0
    }

    /// How many errors there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `CompileErrors` holds at least one error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The distinct codes present, sorted.
    pub fn codes(&self) -> Vec<ErrorCode> {
        let mut codes: Vec<ErrorCode> = self.0.iter().map(|error| error.code).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }

    /// True when any error has `code`.
    pub fn has(&self, code: ErrorCode) -> bool {
        self.0.iter().any(|error| error.code == code)
    }
}

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "{count} strategy error{}",
            if count == 1 { "" } else { "s" }
        )?;
        for (index, error) in self.0.iter().enumerate() {
            let separator = if index == 0 { ": " } else { "; " };
            write!(f, "{separator}{} ({})", error.message, error.code)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileErrors {}

impl<'a> IntoIterator for &'a CompileErrors {
    type Item = &'a CompileError;
    type IntoIter = std::slice::Iter<'a, CompileError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().to_owned())
            );
        }
    }

    #[test]
    fn errors_serialize_with_code_node_edge_and_message() {
        let errors = CompileErrors::single(CompileError::at_edge(
            ErrorCode::TypeMismatch,
            2,
            Some("buy"),
            "boom",
        ));
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"code": "type_mismatch", "node": "buy", "edge": 2, "message": "boom"}])
        );
        assert_eq!(errors.to_string(), "1 strategy error: boom (type_mismatch)");
    }
}
