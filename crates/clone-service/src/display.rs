//! The product-facing lifecycle state of a clone, derived from facts, never from
//! `clones.status` alone.
//!
//! Clone-service knows its own facts (active version, retirement). Audition, Promotion Queue
//! and Arena facts belong to the lifecycle context, which plugs them in through
//! [`CompetitionFacts`]; until it does, [`NoCompetitionFacts`] reports none.

use std::collections::BTreeMap;

use diesel::PgConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::CloneError;

/// What users see as their clone's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisplayState {
    /// No published strategy yet.
    SetupRequired,
    /// A strategy is published; no audition yet.
    Configured,
    /// An audition is running.
    AuditionRunning,
    /// The latest audition failed.
    AuditionFailed,
    /// Passed an audition and waiting for (or admitted to) the Promotion Queue.
    CompetitionEligible,
    /// A member of the Arena.
    Competing,
    /// Retired by moderation or by its owner.
    Retired,
}

/// The latest audition's outcome, as lifecycle reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditionFact {
    /// Running now.
    Running,
    /// Passed.
    Passed,
    /// Failed (or voided).
    Failed,
}

/// Competition facts of one clone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Competition {
    /// The latest audition, if any.
    pub latest_audition: Option<AuditionFact>,
    /// Whether the clone has a Promotion Queue entry.
    pub queued_for_promotion: bool,
    /// Whether the clone is an active Arena member.
    pub arena_member: bool,
}

/// Supplies competition facts; implemented by the lifecycle context.
///
/// The facts are read on the caller's connection, inside the transaction that reads the
/// clones, so a view's setup and competition facts come from one snapshot and one round of
/// statements.
pub trait CompetitionFacts: Send + Sync {
    /// Facts for each clone asked about that the connection's scope can see (missing clones
    /// have none).
    ///
    /// # Errors
    /// The database error, or [`CloneError::Corrupt`] for a fact that cannot be read.
    fn competition_in(
        &self,
        conn: &mut PgConnection,
        clone_ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Competition>, CloneError>;
}

/// No competition facts (before the lifecycle context is wired in).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCompetitionFacts;

impl CompetitionFacts for NoCompetitionFacts {
    fn competition_in(
        &self,
        _conn: &mut PgConnection,
        _clone_ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Competition>, CloneError> {
        Ok(BTreeMap::new())
    }
}

/// Clone-service's own facts about a clone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupFacts {
    /// The clone has an active published strategy version.
    pub has_active_version: bool,
    /// The clone or its public profile is retired.
    pub retired: bool,
}

/// Derives the display state; later facts win over earlier ones.
pub fn display_state(setup: SetupFacts, competition: Competition) -> DisplayState {
    if setup.retired {
        return DisplayState::Retired;
    }
    if competition.arena_member {
        return DisplayState::Competing;
    }
    if competition.queued_for_promotion || competition.latest_audition == Some(AuditionFact::Passed)
    {
        return DisplayState::CompetitionEligible;
    }
    match competition.latest_audition {
        Some(AuditionFact::Running) => DisplayState::AuditionRunning,
        Some(AuditionFact::Failed) => DisplayState::AuditionFailed,
        _ if setup.has_active_version => DisplayState::Configured,
        _ => DisplayState::SetupRequired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_facts() {
        let setup = |has_active_version, retired| SetupFacts {
            has_active_version,
            retired,
        };
        let none = Competition::default();
        let audition = |fact| Competition {
            latest_audition: Some(fact),
            ..none
        };
        assert_eq!(
            display_state(setup(false, false), none),
            DisplayState::SetupRequired
        );
        assert_eq!(
            display_state(setup(true, false), none),
            DisplayState::Configured
        );
        assert_eq!(
            display_state(setup(true, false), audition(AuditionFact::Running)),
            DisplayState::AuditionRunning
        );
        assert_eq!(
            display_state(setup(true, false), audition(AuditionFact::Failed)),
            DisplayState::AuditionFailed
        );
        assert_eq!(
            display_state(setup(true, false), audition(AuditionFact::Passed)),
            DisplayState::CompetitionEligible
        );
        let competing = Competition {
            arena_member: true,
            ..audition(AuditionFact::Passed)
        };
        assert_eq!(
            display_state(setup(true, false), competing),
            DisplayState::Competing
        );
        assert_eq!(
            display_state(setup(true, true), competing),
            DisplayState::Retired
        );
    }
}
