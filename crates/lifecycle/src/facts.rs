//! Competition facts for clone-service's display state: the latest audition's outcome, the
//! Promotion Queue and Arena membership of each clone.
//!
//! This module only reads lifecycle's tables, on clone-service's connection and in its scope
//! (the owner's transaction); it never writes and never decides a state itself.

use std::collections::BTreeMap;

use clones_clone_service::display::{AuditionFact, Competition};
use clones_clone_service::{CloneError, CompetitionFacts};
use uuid::Uuid;

use crate::service::corrupt;
use crate::views::AuditionStatus;
use crate::{LifecycleError, repo};

/// The competition facts of `clone_ids` visible in the connection's scope.
pub(crate) fn competition_in(
    conn: &mut diesel::PgConnection,
    clone_ids: &[Uuid],
) -> Result<BTreeMap<Uuid, Competition>, LifecycleError> {
    let mut facts: BTreeMap<Uuid, Competition> = BTreeMap::new();
    for (clone_id, fact, status) in repo::competition_rows(conn, clone_ids)? {
        let entry = facts.entry(clone_id).or_default();
        match fact.as_str() {
            repo::LATEST_AUDITION => {
                let status =
                    AuditionStatus::parse(&status).ok_or_else(|| corrupt("audition status"))?;
                entry.latest_audition = Some(match status {
                    AuditionStatus::Running => AuditionFact::Running,
                    AuditionStatus::Passed => AuditionFact::Passed,
                    // A voided audition counts as not passed.
                    AuditionStatus::Failed | AuditionStatus::Voided => AuditionFact::Failed,
                });
            }
            repo::PROMOTION => entry.queued_for_promotion = true,
            repo::ARENA => entry.arena_member = true,
            other => return Err(corrupt(format!("competition fact {other}"))),
        }
    }
    Ok(facts)
}

/// [`CompetitionFacts`] over lifecycle's tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgCompetitionFacts;

impl CompetitionFacts for PgCompetitionFacts {
    fn competition_in(
        &self,
        conn: &mut diesel::PgConnection,
        clone_ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Competition>, CloneError> {
        if clone_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        competition_in(conn, clone_ids).map_err(|error| match error {
            LifecycleError::Db(error) => CloneError::Db(error),
            other => CloneError::Corrupt(other.to_string()),
        })
    }
}
