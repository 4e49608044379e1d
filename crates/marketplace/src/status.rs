//! The status pipeline of a marketplace strategy, as one pure transition function. Every
//! change of status goes through [`transition`]; the service appends each one to the history
//! with its reason.
//!
//! ```text
//! pending_review ── duplicate ──> duplicate
//!      │  └──────── reject ────> rejected ── reinstate ──> experiment
//!      └── pass ──> experiment ── promote ──> candidate ── promote ──> proposable
//!                      │                          │                        │
//!                      └──────── discard ─────────┴────────── discard ─────┴──> discarded
//!                                                              discarded ── reinstate ──> experiment
//! ```

use serde::{Deserialize, Serialize};

/// Where a strategy is in the pipeline.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StrategyStatus {
    /// Uploaded; the monitoring cycle has not checked it yet.
    PendingReview,
    /// The same strategy (exactly, or in behaviour) exists already.
    Duplicate,
    /// Failed the sanity backtest, or refused by an administrator.
    Rejected,
    /// Passed the checks; the evolution cycle backtests and mutates it.
    Experiment,
    /// Its full backtest met the promotion thresholds.
    Candidate,
    /// Robust enough to be adopted by clone owners.
    Proposable,
    /// Failed the thresholds later, or discarded by an administrator.
    Discarded,
}

impl StrategyStatus {
    /// Every status, in pipeline order.
    pub const ALL: [StrategyStatus; 7] = [
        StrategyStatus::PendingReview,
        StrategyStatus::Duplicate,
        StrategyStatus::Rejected,
        StrategyStatus::Experiment,
        StrategyStatus::Candidate,
        StrategyStatus::Proposable,
        StrategyStatus::Discarded,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyStatus::PendingReview => "pending_review",
            StrategyStatus::Duplicate => "duplicate",
            StrategyStatus::Rejected => "rejected",
            StrategyStatus::Experiment => "experiment",
            StrategyStatus::Candidate => "candidate",
            StrategyStatus::Proposable => "proposable",
            StrategyStatus::Discarded => "discarded",
        }
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the evolution cycle works on it.
    pub fn evolves(self) -> bool {
        matches!(
            self,
            StrategyStatus::Experiment | StrategyStatus::Candidate | StrategyStatus::Proposable
        )
    }
}

/// What happened to a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusEvent {
    /// The monitoring cycle found a duplicate.
    Duplicate,
    /// The sanity check failed, or an administrator rejected it.
    Reject,
    /// The monitoring cycle's checks passed.
    Pass,
    /// The evolution or monitoring cycle promoted it one step.
    Promote,
    /// The thresholds or an administrator discarded it.
    Discard,
    /// An administrator put a rejected or discarded strategy back into the pipeline.
    Reinstate,
}

impl StatusEvent {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusEvent::Duplicate => "duplicate",
            StatusEvent::Reject => "reject",
            StatusEvent::Pass => "pass",
            StatusEvent::Promote => "promote",
            StatusEvent::Discard => "discard",
            StatusEvent::Reinstate => "reinstate",
        }
    }
}

/// A refused transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a strategy in status {} cannot take the event {}", from.as_str(), event.as_str())]
pub struct InvalidTransition {
    /// The status it was in.
    pub from: StrategyStatus,
    /// What was asked.
    pub event: StatusEvent,
}

/// The status after `event`.
///
/// # Errors
/// [`InvalidTransition`] for an event the status does not allow.
pub fn transition(
    from: StrategyStatus,
    event: StatusEvent,
) -> Result<StrategyStatus, InvalidTransition> {
    use StatusEvent as E;
    use StrategyStatus as S;
    let to = match (from, event) {
        (S::PendingReview, E::Duplicate) => S::Duplicate,
        (S::PendingReview, E::Reject) => S::Rejected,
        (S::PendingReview, E::Pass) => S::Experiment,
        (S::Experiment, E::Promote) => S::Candidate,
        (S::Candidate, E::Promote) => S::Proposable,
        (S::Experiment | S::Candidate | S::Proposable, E::Discard) => S::Discarded,
        (S::Experiment | S::Candidate | S::Proposable, E::Reject) => S::Rejected,
        (S::Rejected | S::Discarded, E::Reinstate) => S::Experiment,
        _ => return Err(InvalidTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [StatusEvent; 6] = [
        StatusEvent::Duplicate,
        StatusEvent::Reject,
        StatusEvent::Pass,
        StatusEvent::Promote,
        StatusEvent::Discard,
        StatusEvent::Reinstate,
    ];

    #[test]
    fn the_pipeline_runs_from_review_to_proposable() {
        let mut status = StrategyStatus::PendingReview;
        for event in [
            StatusEvent::Pass,
            StatusEvent::Promote,
            StatusEvent::Promote,
        ] {
            status = transition(status, event).unwrap();
        }
        assert_eq!(status, StrategyStatus::Proposable);
    }

    #[test]
    fn duplicates_are_final_and_only_refused_ones_come_back() {
        for event in EVENTS {
            assert!(transition(StrategyStatus::Duplicate, event).is_err());
        }
        for status in StrategyStatus::ALL {
            let back = transition(status, StatusEvent::Reinstate);
            assert_eq!(
                back.is_ok(),
                matches!(status, StrategyStatus::Rejected | StrategyStatus::Discarded),
                "{status:?}"
            );
        }
    }

    #[test]
    fn every_pair_is_decided_and_names_round_trip() {
        for status in StrategyStatus::ALL {
            assert_eq!(StrategyStatus::parse(status.as_str()), Some(status));
            for event in EVENTS {
                if let Ok(to) = transition(status, event) {
                    assert_ne!(
                        to,
                        StrategyStatus::PendingReview,
                        "nothing goes back to review"
                    );
                }
            }
        }
        assert_eq!(
            transition(StrategyStatus::Experiment, StatusEvent::Pass)
                .unwrap_err()
                .to_string(),
            "a strategy in status experiment cannot take the event pass"
        );
    }
}
