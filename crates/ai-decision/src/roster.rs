//! The roster port: which clones trade which prop account right now.
//!
//! Lifecycle owns auditions and Arena memberships; this module states what the decision worker
//! needs from it ([`TradingRoster`]), reads it through lifecycle's service ([`LifecycleRoster`])
//! and offers [`FixedRoster`] for tests, benchmarks and a file-configured worker. It must not
//! read lifecycle's tables.

use std::sync::Arc;

use async_trait::async_trait;
use clones_lifecycle::LifecycleService;

use crate::DecisionError;
use crate::views::RunContext;

/// One clone that should decide this cycle, and the prop account its actions go to: the
/// assignment lifecycle reports (camelCase in JSON, `context` `audition` or `arena`).
pub use clones_lifecycle::TradingAssignment as Assignment;
/// What a clone trades for: a paid audition or an Arena membership.
pub use clones_lifecycle::TradingContext as AssignmentContext;

impl From<AssignmentContext> for RunContext {
    fn from(context: AssignmentContext) -> Self {
        match context {
            AssignmentContext::Audition => RunContext::Audition,
            AssignmentContext::Arena => RunContext::Arena,
        }
    }
}

/// The source of assignments, read one page at a time in a stable order (a page starts after
/// the previous page's last assignment). Lifecycle provides the real one.
#[async_trait]
pub trait TradingRoster: Send + Sync {
    /// Up to `limit` assignments active now, in a stable order.
    ///
    /// # Errors
    /// When the roster cannot be read; the cycle then fails as a whole.
    async fn assignments(
        &self,
        after: Option<&Assignment>,
        limit: u32,
    ) -> Result<Vec<Assignment>, DecisionError>;
}

/// A roster with a fixed list of assignments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixedRoster {
    assignments: Vec<Assignment>,
}

impl FixedRoster {
    /// A roster that always answers `assignments`, in this order.
    pub fn new(assignments: Vec<Assignment>) -> Self {
        Self { assignments }
    }

    /// Reads a JSON array of assignments (camelCase fields, `context` `audition` or `arena`).
    ///
    /// # Errors
    /// [`DecisionError::InvalidInput`] when the text is not such an array.
    pub fn from_json(text: &str) -> Result<Self, DecisionError> {
        serde_json::from_str(text)
            .map(Self::new)
            .map_err(|error| DecisionError::InvalidInput(format!("roster: {error}")))
    }
}

#[async_trait]
impl TradingRoster for FixedRoster {
    async fn assignments(
        &self,
        after: Option<&Assignment>,
        limit: u32,
    ) -> Result<Vec<Assignment>, DecisionError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let start = match after {
            Some(after) => self
                .assignments
                .iter()
                .position(|assignment| {
                    assignment.context == after.context
                        && assignment.reference_id == after.reference_id
                })
                .map_or(self.assignments.len(), |at| at + 1),
            None => 0,
        };
        Ok(self
            .assignments
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect())
    }
}

/// The real roster: running auditions inside their window, then active Arena memberships, as
/// lifecycle reports them.
#[derive(Clone)]
pub struct LifecycleRoster(pub Arc<dyn LifecycleService>);

#[async_trait]
impl TradingRoster for LifecycleRoster {
    async fn assignments(
        &self,
        after: Option<&Assignment>,
        limit: u32,
    ) -> Result<Vec<Assignment>, DecisionError> {
        let after = after.map(|after| (after.context, after.reference_id));
        Ok(self.0.trading_assignments(after, limit).await?)
    }
}
