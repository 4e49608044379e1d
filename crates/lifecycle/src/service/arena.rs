//! The way from a passed audition to the Arena: Promotion Queue admission (a fresh Arena prop
//! account and an `active` membership for a clone with an approved public profile), the
//! owner's reads of queue entry, membership and lifecycle state, and the trading roster.

use chrono::{DateTime, Utc};
use clones_clone_service::display::{SetupFacts, display_state};
use clones_clone_service::{CloneError, DisplayState};
use clones_kernel::DomainError;
use clones_prop_engine::{AccountContext, OpenAccount};
use diesel::PgConnection;
use uuid::Uuid;

use super::PgLifecycleService;
use super::auditions::derived_id;
use super::corrupt;
use super::mapping::{entry_view, load_view, membership_view};
use crate::models::{EntryRow, MembershipRow};
use crate::status::{MembershipStatus, SkipReason};
use crate::views::{
    ArenaMembershipView, ArenaReport, CloneLifecycleState, PromotionEntryView, PromotionStatus,
    TradingAssignment, TradingContext,
};
use crate::{LifecycleError, facts, repo};

/// The clone's latest Promotion Queue entry visible in the connection's scope.
fn entry_in(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> Result<Option<PromotionEntryView>, LifecycleError> {
    repo::entry_of_clone(conn, clone_id)?
        .as_ref()
        .map(entry_view)
        .transpose()
}

/// The clone's active Arena membership, else its latest one.
fn membership_in(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> Result<Option<ArenaMembershipView>, LifecycleError> {
    let membership = match repo::active_membership(conn, clone_id)? {
        Some(active) => Some(active),
        None => repo::latest_membership(conn, clone_id)?,
    };
    membership.as_ref().map(membership_view).transpose()
}

impl PgLifecycleService {
    pub(super) async fn promotion_entry_impl(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<PromotionEntryView, LifecycleError> {
        self.db
            .tenant_transaction(user, move |conn| {
                entry_in(conn, clone_id)?.ok_or(LifecycleError::PromotionEntryNotFound)
            })
            .await
    }

    pub(super) async fn arena_membership_impl(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<ArenaMembershipView, LifecycleError> {
        self.db
            .tenant_transaction(user, move |conn| {
                membership_in(conn, clone_id)?.ok_or(LifecycleError::ArenaMembershipNotFound)
            })
            .await
    }

    pub(super) async fn clone_state_impl(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<CloneLifecycleState, LifecycleError> {
        let clone = self.owned_clone(user, clone_id).await?;
        let now = self.clock.now();
        let (latest_audition, promotion, arena, competition) = self
            .db
            .tenant_transaction(user, move |conn| {
                let latest = match repo::latest_run_of_clone(conn, clone_id)? {
                    Some(run) => Some(load_view(conn, &run, now)?),
                    None => None,
                };
                let competition = facts::competition_in(conn, &[clone_id])?
                    .remove(&clone_id)
                    .unwrap_or_default();
                Ok::<_, LifecycleError>((
                    latest,
                    entry_in(conn, clone_id)?,
                    membership_in(conn, clone_id)?,
                    competition,
                ))
            })
            .await?;
        // Retirement is clone-service's fact; everything else is derived from lifecycle's.
        let display_state = if clone.display_state == DisplayState::Retired {
            DisplayState::Retired
        } else {
            display_state(
                SetupFacts {
                    has_active_version: clone.active_version.is_some(),
                    retired: false,
                },
                competition,
            )
        };
        Ok(CloneLifecycleState {
            clone_id,
            display_state,
            latest_audition,
            promotion,
            arena,
        })
    }

    pub(super) async fn sync_arena_entries_impl(
        &self,
        batch: u32,
    ) -> Result<ArenaReport, LifecycleError> {
        let now = self.clock.now();
        let until = now + self.settings.lease;
        let limit = i64::from(batch.clamp(1, 10_000));
        let leased = self
            .db
            .cross_tenant_transaction("lifecycle_arena_lease", move |conn| {
                repo::lease_queued(conn, now, until, limit).map_err(LifecycleError::from)
            })
            .await?;
        let mut report = ArenaReport::default();
        for entry in leased {
            report.examined += 1;
            let entry_id = entry.id;
            match self.admit(entry, now).await {
                Ok(true) => report.admitted += 1,
                Ok(false) => report.skipped += 1,
                Err(error) => {
                    tracing::warn!(%entry_id, code = error.code(), %error, "arena admission failed");
                    report.errors += 1;
                }
            }
        }
        Ok(report)
    }

    pub(super) async fn trading_assignments_impl(
        &self,
        after: Option<(TradingContext, Uuid)>,
        limit: u32,
    ) -> Result<Vec<TradingAssignment>, LifecycleError> {
        let now = self.clock.now();
        let limit = i64::from(limit.clamp(1, 100_000));
        // Auditions come first, then memberships: a cursor in the memberships skips the runs.
        let (runs_after, memberships_after) = match after {
            None => (Some(None), None),
            Some((TradingContext::Audition, id)) => (Some(Some(id)), None),
            Some((TradingContext::Arena, id)) => (None, Some(id)),
        };
        self.db
            .cross_tenant_transaction("lifecycle_trading_assignments", move |conn| {
                let runs = match runs_after {
                    Some(after) => repo::trading_runs(conn, now, after, limit)?,
                    None => Vec::new(),
                };
                let mut assignments: Vec<TradingAssignment> = runs
                    .into_iter()
                    .map(|run| TradingAssignment {
                        clone_id: run.clone_id,
                        owner_user_id: run.owner_user_id,
                        account_id: run.prop_account_id,
                        context: TradingContext::Audition,
                        reference_id: run.id,
                    })
                    .collect();
                let room = limit - i64::try_from(assignments.len()).unwrap_or(limit);
                if room > 0 {
                    let memberships = repo::active_memberships(conn, memberships_after, room)?;
                    assignments.extend(memberships.into_iter().map(|membership| {
                        TradingAssignment {
                            clone_id: membership.clone_id,
                            owner_user_id: membership.owner_user_id,
                            account_id: membership.prop_account_id,
                            context: TradingContext::Arena,
                            reference_id: membership.id,
                        }
                    }));
                }
                Ok(assignments)
            })
            .await
    }

    /// Tries to admit one leased queue entry; returns whether it was admitted.
    async fn admit(&self, entry: EntryRow, now: DateTime<Utc>) -> Result<bool, LifecycleError> {
        let owner = entry.owner_user_id;
        let clone_id = entry.clone_id;
        let retired = match self.clones.get_clone(owner, clone_id).await {
            Ok(clone) => clone.display_state == DisplayState::Retired,
            Err(CloneError::CloneNotFound) => true,
            Err(error) => return Err(error.into()),
        };
        let already = {
            let clone_id = entry.clone_id;
            self.db
                .tenant_transaction(owner, move |conn| {
                    repo::active_membership(conn, clone_id).map_err(LifecycleError::from)
                })
                .await?
                .is_some()
        };
        let skip = if retired {
            Some(SkipReason::CloneRetired)
        } else if already {
            Some(SkipReason::AlreadyMember)
        } else {
            match self.clones.public_profile(clone_id).await {
                Ok(_) => None,
                Err(CloneError::ProfileNotFound | CloneError::CloneNotFound) => {
                    Some(SkipReason::ProfileMissing)
                }
                Err(error) => return Err(error.into()),
            }
        };
        if let Some(reason) = skip {
            let id = entry.id;
            self.db
                .tenant_transaction(owner, move |conn| {
                    repo::skip_entry(conn, id, Some(reason), now).map_err(LifecycleError::from)
                })
                .await?;
            return Ok(false);
        }
        let account = self
            .prop
            .open_account(
                owner,
                OpenAccount {
                    // One Arena account per queue entry, however often admission is retried.
                    account_id: Some(derived_id(&format!("arena:{}", entry.id))),
                    clone_id: Some(clone_id),
                    context: AccountContext::Arena,
                    quote_currency: self.settings.arena_quote_currency.clone(),
                    starting_balance: self.settings.arena_starting_balance,
                    limits: None,
                },
            )
            .await?;
        self.db
            .tenant_transaction(owner, move |conn| {
                let Some(current) = repo::lock_entry(conn, entry.id)? else {
                    return Ok(false);
                };
                let status = PromotionStatus::parse(&current.status)
                    .ok_or_else(|| corrupt("promotion entry status"))?;
                if status != PromotionStatus::Queued {
                    return Ok(false);
                }
                let membership = MembershipRow {
                    id: Uuid::new_v4(),
                    clone_id,
                    owner_user_id: owner,
                    entry_id: entry.id,
                    prop_account_id: account.id,
                    status: MembershipStatus::Active.as_str().into(),
                    joined_at: now,
                    retired_at: None,
                };
                if repo::insert_membership(conn, &membership)? {
                    repo::admit_entry(conn, entry.id, now)?;
                    Ok(true)
                } else {
                    repo::skip_entry(conn, entry.id, Some(SkipReason::AlreadyMember), now)?;
                    Ok(false)
                }
            })
            .await
    }
}
