//! Competition facts for clone-service's display state: the latest audition's outcome, the
//! Promotion Queue and Arena membership of each clone.
//!
//! This module only reads lifecycle's tables (through the audited cross-tenant path, since
//! clone-service asks about clones by id); it never writes and never decides a state itself.

use clones_kernel::DomainError;

use std::collections::BTreeMap;

use async_trait::async_trait;
use clones_clone_service::CompetitionFacts;
use clones_clone_service::display::{AuditionFact, Competition};
use clones_db::Db;
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
    for (clone_id, status) in repo::latest_statuses(conn, clone_ids)? {
        let status = AuditionStatus::parse(&status).ok_or_else(|| corrupt("audition status"))?;
        facts.entry(clone_id).or_default().latest_audition = Some(match status {
            AuditionStatus::Running => AuditionFact::Running,
            AuditionStatus::Passed => AuditionFact::Passed,
            // A voided audition counts as not passed.
            AuditionStatus::Failed | AuditionStatus::Voided => AuditionFact::Failed,
        });
    }
    for clone_id in repo::promoted_clones(conn, clone_ids)? {
        facts.entry(clone_id).or_default().queued_for_promotion = true;
    }
    for clone_id in repo::arena_clones(conn, clone_ids)? {
        facts.entry(clone_id).or_default().arena_member = true;
    }
    Ok(facts)
}

/// [`CompetitionFacts`] over lifecycle's tables.
#[derive(Debug, Clone)]
pub struct PgCompetitionFacts {
    db: Db,
}

impl PgCompetitionFacts {
    /// Facts read from `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CompetitionFacts for PgCompetitionFacts {
    async fn competition(&self, clone_ids: &[Uuid]) -> BTreeMap<Uuid, Competition> {
        if clone_ids.is_empty() {
            return BTreeMap::new();
        }
        let ids = clone_ids.to_vec();
        let read = self
            .db
            .cross_tenant_transaction("lifecycle_competition_facts", move |conn| {
                competition_in(conn, &ids)
            })
            .await;
        // The trait cannot fail: a clone without facts shows its setup state, which is the
        // safe side, and the failure is logged.
        read.unwrap_or_else(|error| {
            tracing::warn!(code = error.code(), %error, "competition facts unavailable");
            BTreeMap::new()
        })
    }
}
