//! Clones as their owners see them: the list, one clone, renaming and changing the model, and
//! the runtime view decision makers read.
//!
//! A clone's display state is derived here from its setup facts (an active version, retirement)
//! and the competition facts of the wired [`CompetitionFacts`](crate::CompetitionFacts)
//! provider, never read from `clones.status`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_kernel::{Cursor, Page, PageRequest};
use diesel::PgConnection;
use uuid::Uuid;

use super::capacity::{effective, universe_from, universe_in};
use super::mapping::{clone_status, stored, version_view};
use super::{PgCloneService, owned_clone};
use crate::display::{CompetitionFacts, SetupFacts, display_state};
use crate::models::{CloneRow, EntitlementRow, SelectionRow, VersionRow};
use crate::profile::validate_text;
use crate::repo::CloneFactsRow;
use crate::status::{CloneStatus, ProfileStatus};
use crate::views::{ClonePatch, CloneRuntime, CloneView};
use crate::{CloneError, repo};

/// The views of `rows`, each with its effective entitlement and its display state from its
/// setup facts and the competition facts read on `conn`, in the rows' order.
fn views_in(
    facts: &dyn CompetitionFacts,
    conn: &mut PgConnection,
    rows: Vec<CloneFactsRow>,
    now: DateTime<Utc>,
) -> Result<Vec<CloneView>, CloneError> {
    let ids: Vec<Uuid> = rows.iter().map(|(clone, ..)| clone.id).collect();
    let competition = facts.competition_in(conn, &ids)?;
    rows.into_iter()
        .map(|(clone, entitlement, active_version, profile_status)| {
            let entitlement = effective(clone.id, entitlement, now)?;
            let profile_retired = profile_status
                .map(|status| stored::<ProfileStatus>("profile of clone", clone.id, &status))
                .transpose()?
                == Some(ProfileStatus::Retired);
            let setup = SetupFacts {
                has_active_version: active_version.is_some(),
                retired: profile_retired || clone_status(&clone)? == CloneStatus::Retired,
            };
            Ok(CloneView {
                id: clone.id,
                display_name: clone.display_name,
                model: clone.model,
                display_state: display_state(
                    setup,
                    competition.get(&clone.id).copied().unwrap_or_default(),
                ),
                active_version,
                entitlement,
                created_at: clone.created_at,
                updated_at: clone.updated_at,
            })
        })
        .collect()
}

/// The owner's clone `clone_id` as a view, read on `conn`.
fn view_in(
    facts: &dyn CompetitionFacts,
    conn: &mut PgConnection,
    owner: Uuid,
    clone_id: Uuid,
    now: DateTime<Utc>,
) -> Result<CloneView, CloneError> {
    let row = repo::clone_facts(conn, owner, clone_id)?.ok_or(CloneError::CloneNotFound)?;
    views_in(facts, conn, vec![row], now)?
        .pop()
        .ok_or(CloneError::CloneNotFound)
}

/// [`CloneService::list_clones`](crate::CloneService::list_clones): one transaction, one
/// statement for the page and its setup facts, and the competition facts.
pub(super) async fn list(
    service: &PgCloneService,
    owner: Uuid,
    page: PageRequest,
) -> Result<Page<CloneView>, CloneError> {
    let competition = Arc::clone(&service.competition);
    service
        .as_owner(owner, move |conn, now| {
            let rows = repo::clone_facts_page(conn, owner, &page)?;
            let page = Page::from_rows(rows, &page, |(clone, ..)| {
                Cursor::new(clone.created_at, clone.id)
            });
            Ok(Page {
                items: views_in(competition.as_ref(), conn, page.items, now)?,
                next_cursor: page.next_cursor,
            })
        })
        .await
}

/// [`CloneService::get_clone`](crate::CloneService::get_clone).
pub(super) async fn get(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<CloneView, CloneError> {
    let competition = Arc::clone(&service.competition);
    service
        .as_owner(owner, move |conn, now| {
            view_in(competition.as_ref(), conn, owner, clone_id, now)
        })
        .await
}

/// [`CloneService::update_clone`](crate::CloneService::update_clone): the model is checked against
/// the entitlement only when it changes.
pub(super) async fn update(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
    patch: ClonePatch,
) -> Result<CloneView, CloneError> {
    if let Some(name) = &patch.display_name {
        validate_text("displayName", name, 1, 80)?;
    }
    if let Some(model) = &patch.model {
        validate_text("model", model, 1, 100)?;
    }
    let competition = Arc::clone(&service.competition);
    service
        .as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let entitlement = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
            let model = patch.model.unwrap_or_else(|| clone.model.clone());
            if model != clone.model && !entitlement.allows_model(&model) {
                return Err(CloneError::ModelNotAllowed(model));
            }
            let name = patch
                .display_name
                .unwrap_or_else(|| clone.display_name.clone());
            repo::update_clone(conn, clone.id, &name, &model, now)?;
            view_in(competition.as_ref(), conn, owner, clone_id, now)
        })
        .await
}

/// [`CloneService::runtime`](crate::CloneService::runtime): one transaction, so the version,
/// entitlement and universe belong together.
pub(super) async fn runtime(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<CloneRuntime, CloneError> {
    service
        .as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let entitlement = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
            let active_version = repo::active_version(conn, clone.id)?.map(version_view);
            let trade_universe = universe_in(conn, clone.id, &entitlement)?;
            Ok(CloneRuntime {
                clone_id: clone.id,
                model: clone.model,
                active_version,
                entitlement,
                trade_universe,
            })
        })
        .await
}

/// [`CloneService::runtimes`](crate::CloneService::runtimes): five set-based reads in one
/// cross-tenant transaction, whatever the number of clones.
pub(super) async fn runtimes(
    service: &PgCloneService,
    clones: Vec<(Uuid, Uuid)>,
) -> Result<Vec<Result<CloneRuntime, CloneError>>, CloneError> {
    if clones.is_empty() {
        return Ok(Vec::new());
    }
    service
        .as_moderator("clone-service: runtimes", move |conn, now| {
            let ids: Vec<Uuid> = clones.iter().map(|(_, clone_id)| *clone_id).collect();
            let rows: HashMap<Uuid, CloneRow> = repo::clones_by_ids(conn, &ids)?
                .into_iter()
                .map(|row| (row.id, row))
                .collect();
            let mut entitlements: HashMap<Uuid, EntitlementRow> =
                repo::entitlements_of(conn, &ids)?
                    .into_iter()
                    .map(|row| (row.clone_id, row))
                    .collect();
            let mut versions: HashMap<Uuid, VersionRow> = repo::active_versions_of(conn, &ids)?
                .into_iter()
                .map(|row| (row.clone_id, row))
                .collect();
            let mut universes: HashMap<Uuid, Vec<String>> = HashMap::new();
            for (clone_id, asset) in repo::universes_of(conn, &ids)? {
                universes.entry(clone_id).or_default().push(asset);
            }
            let selections: HashMap<Uuid, SelectionRow> = repo::selections_of(conn, &ids)?
                .into_iter()
                .map(|row| (row.clone_id, row))
                .collect();
            clones
                .into_iter()
                .map(|(owner, clone_id)| {
                    // Another owner's clone reads as absent, as it does through `runtime`.
                    let Some(clone) = rows.get(&clone_id).filter(|row| row.owner_user_id == owner)
                    else {
                        return Ok(Err(CloneError::CloneNotFound));
                    };
                    let entitlement = effective(clone.id, entitlements.remove(&clone.id), now)?;
                    let trade_universe = universe_from(
                        clone.id,
                        universes.remove(&clone.id).unwrap_or_default(),
                        selections.get(&clone.id),
                        &entitlement,
                    )?;
                    Ok(Ok(CloneRuntime {
                        clone_id: clone.id,
                        model: clone.model.clone(),
                        active_version: versions.remove(&clone.id).map(version_view),
                        entitlement,
                        trade_universe,
                    }))
                })
                .collect()
        })
        .await
}
