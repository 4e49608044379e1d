//! The roster port: which clones trade which prop account right now.
//!
//! Lifecycle owns auditions and Arena memberships; this module states what the decision worker
//! needs from it ([`TradingRoster`]), reads it through lifecycle's service ([`LifecycleRoster`])
//! and offers [`FixedRoster`] for tests, benchmarks and a file-configured worker. It must not
//! read lifecycle's tables.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::sync::Arc;

use clones_lifecycle::{LifecycleService, TradingContext};

use crate::DecisionError;
use crate::views::RunContext;

/// What a clone trades for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentContext {
    /// A paid audition.
    Audition,
    /// An Arena membership.
    Arena,
}

impl From<AssignmentContext> for RunContext {
    fn from(context: AssignmentContext) -> Self {
        match context {
            AssignmentContext::Audition => RunContext::Audition,
            AssignmentContext::Arena => RunContext::Arena,
        }
    }
}

/// One clone that should decide this cycle, and the prop account its actions go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The clone.
    pub clone_id: Uuid,
    /// Its owner: every read and order runs as this user.
    pub owner_user_id: Uuid,
    /// The prop account that executes its actions.
    pub account_id: Uuid,
    /// Audition or Arena.
    pub context: AssignmentContext,
    /// The audition run or Arena membership id (recorded, not checked).
    pub reference_id: Uuid,
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
        let after = after.map(|after| {
            let context = match after.context {
                AssignmentContext::Audition => TradingContext::Audition,
                AssignmentContext::Arena => TradingContext::Arena,
            };
            (context, after.reference_id)
        });
        let assignments = self.0.trading_assignments(after, limit).await?;
        Ok(assignments
            .into_iter()
            .map(|assignment| Assignment {
                clone_id: assignment.clone_id,
                owner_user_id: assignment.owner_user_id,
                account_id: assignment.account_id,
                context: match assignment.context {
                    TradingContext::Audition => AssignmentContext::Audition,
                    TradingContext::Arena => AssignmentContext::Arena,
                },
                reference_id: assignment.reference_id,
            })
            .collect())
    }
}
