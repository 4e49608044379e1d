//! Strategy drafts and published versions: reading and saving the one draft per clone,
//! publishing it as the next immutable version (the only active one), and the list of versions.
//!
//! Graphs are compiled against the clone's constraints (its entitlement and trade universe)
//! on every save and publish; a publish holds the clone's row lock so versions stay gapless.

use chrono::{DateTime, Utc};
use clones_kernel::{Cursor, Page, PageError, PageRequest};
use diesel::PgConnection;
use uuid::Uuid;

use super::capacity::effective;
use super::mapping::version_view;
use super::{PgCloneService, owned_clone};
use crate::models::{DraftRow, VersionRow};
use crate::views::{DraftView, VersionView};
use crate::{CloneError, repo, strategy};

/// The compile constraints for a clone: its entitlement and its trade universe.
fn constraints(
    conn: &mut PgConnection,
    clone_id: Uuid,
    now: DateTime<Utc>,
) -> Result<strategy::CloneConstraints, CloneError> {
    let entitlement = effective(clone_id, repo::find_entitlement(conn, clone_id)?, now)?;
    let universe = repo::universe_of(conn, clone_id)?;
    Ok(strategy::CloneConstraints {
        trade_universe: (!universe.is_empty()).then(|| universe.into_iter().collect()),
        max_active_assets: entitlement.max_active_assets,
        max_model_strength: entitlement.allowed_model_strength,
    })
}

/// [`CloneService::get_draft`](crate::CloneService::get_draft).
pub(super) async fn draft(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<DraftView, CloneError> {
    service
        .as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            Ok(match repo::find_draft(conn, clone_id)? {
                Some(draft) => DraftView {
                    clone_id,
                    graph: draft.graph,
                    is_default: false,
                    updated_at: Some(draft.updated_at),
                    marketplace_strategy_id: draft.marketplace_strategy_id,
                },
                None => DraftView {
                    clone_id,
                    graph: strategy::default_graph_json()?,
                    is_default: true,
                    updated_at: None,
                    marketplace_strategy_id: None,
                },
            })
        })
        .await
}

/// [`CloneService::save_draft`](crate::CloneService::save_draft) (`origin` is `None`: a hand
/// edit clears the adopted strategy, since the graph is no longer the marketplace's) and
/// [`CloneService::adopt_draft`](crate::CloneService::adopt_draft) (`origin` is the
/// marketplace strategy).
pub(super) async fn save_draft(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
    graph: serde_json::Value,
    origin: Option<Uuid>,
) -> Result<DraftView, CloneError> {
    service
        .as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let limits = constraints(conn, clone.id, now)?;
            strategy::validate(&graph, &limits)?;
            repo::upsert_draft(
                conn,
                &DraftRow {
                    clone_id,
                    owner_user_id: owner,
                    graph: graph.clone(),
                    updated_at: now,
                    marketplace_strategy_id: origin,
                },
            )?;
            Ok(DraftView {
                clone_id,
                graph,
                is_default: false,
                updated_at: Some(now),
                marketplace_strategy_id: origin,
            })
        })
        .await
}

/// [`CloneService::publish`](crate::CloneService::publish).
pub(super) async fn publish(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<VersionView, CloneError> {
    service
        .as_owner(owner, move |conn, now| {
            // The row lock serialises publishes of one clone: versions stay gapless and only
            // one is ever active.
            let clone = repo::lock_clone(conn, clone_id)?
                .filter(|clone| clone.owner_user_id == owner)
                .ok_or(CloneError::CloneNotFound)?;
            let (graph, origin) = match repo::find_draft(conn, clone.id)? {
                Some(draft) => (draft.graph, draft.marketplace_strategy_id),
                None => (strategy::default_graph_json()?, None),
            };
            let limits = constraints(conn, clone.id, now)?;
            let fingerprint = strategy::validate(&graph, &limits)?;
            if repo::active_version(conn, clone.id)?
                .is_some_and(|active| active.fingerprint == fingerprint)
            {
                return Err(CloneError::NothingToPublish);
            }
            let version = repo::latest_version_number(conn, clone.id)? + 1;
            repo::deactivate_versions(conn, clone.id)?;
            let row = VersionRow {
                id: Uuid::new_v4(),
                clone_id: clone.id,
                owner_user_id: owner,
                version,
                graph,
                fingerprint,
                is_active: true,
                published_at: now,
                marketplace_strategy_id: origin,
            };
            repo::insert_version(conn, &row)?;
            Ok(version_view(row))
        })
        .await
}

/// [`CloneService::list_versions`](crate::CloneService::list_versions).
pub(super) async fn one(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
    version: i32,
) -> Result<VersionView, CloneError> {
    service
        .as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            repo::version_by_number(conn, clone_id, version)?
                .map(version_view)
                .ok_or(CloneError::VersionNotFound)
        })
        .await
}

pub(super) async fn list(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
    page: PageRequest,
) -> Result<Page<VersionView>, CloneError> {
    service
        .as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            // Versions are listed by number, the order they were published in: two publishes
            // may read the same clock, or read it before taking the clone's lock, so their
            // times can tie or cross. The cursor names the page's last version by its time and
            // id; the next page starts below that version's number.
            let below = match page.cursor() {
                None => None,
                Some(cursor) => Some(
                    repo::version_position(conn, clone_id, cursor.id())?
                        .filter(|(at, _)| Cursor::new(*at, cursor.id()) == cursor)
                        .map(|(_, version)| version)
                        .ok_or(PageError::MalformedCursor)?,
                ),
            };
            let rows = repo::versions_page(conn, clone_id, below, page.fetch_limit())?;
            Ok(
                Page::from_rows(rows, &page, |row| Cursor::new(row.published_at, row.id))
                    .map(version_view),
            )
        })
        .await
}
