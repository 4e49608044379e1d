//! The only module of clone-service that touches its tables. Functions take an open
//! connection; callers (the service, provisioning) own the transaction and its scope.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    clone_asset_selection_rules as selection, clone_capacity_entitlements as entitlements,
    clone_moderation_actions as moderation, clone_public_profiles as profiles,
    clone_reports as reports, clone_strategy_drafts as drafts, clone_strategy_versions as versions,
    clone_trade_universe as universe, clones,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use crate::models::{
    CloneRow, DraftRow, EntitlementRow, ModerationRow, ProfileRow, ReportRow, SelectionRow,
    UniverseRow, VersionRow,
};
use crate::status::{CloneStatus, ProfileStatus, ReportStatus};

pub(crate) fn insert_clone(conn: &mut PgConnection, row: &CloneRow) -> QueryResult<bool> {
    let inserted = diesel::insert_into(clones::table)
        .values(row)
        .on_conflict(clones::created_by_purchase_id)
        .do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

pub(crate) fn clone_by_purchase(
    conn: &mut PgConnection,
    purchase_id: Uuid,
) -> QueryResult<Option<CloneRow>> {
    clones::table
        .filter(clones::created_by_purchase_id.eq(purchase_id))
        .select(CloneRow::as_select())
        .first(conn)
        .optional()
}

/// The clone, visible only within its owner's scope (or the cross-tenant path).
pub(crate) fn find_clone(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<CloneRow>> {
    clones::table
        .find(id)
        .select(CloneRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the clone row for the rest of the transaction (serialises publishes).
pub(crate) fn lock_clone(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<CloneRow>> {
    clones::table
        .find(id)
        .select(CloneRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// A clone with the facts its view needs: its entitlement, its active version's number and
/// its public profile's status.
pub(crate) type CloneFactsRow = (
    CloneRow,
    Option<EntitlementRow>,
    Option<i32>,
    Option<String>,
);

/// Clones joined to their entitlement, active version and public profile (each at most one).
#[diesel::dsl::auto_type]
fn clones_with_facts() -> _ {
    clones::table
        .left_join(entitlements::table)
        .left_join(
            versions::table.on(versions::clone_id
                .eq(clones::id)
                .and(versions::is_active.eq(true))),
        )
        .left_join(profiles::table)
}

/// The columns of a [`CloneFactsRow`], as diesel types them.
type CloneFactsColumns = (
    diesel::dsl::AsSelect<CloneRow, diesel::pg::Pg>,
    diesel::dsl::AsSelect<Option<EntitlementRow>, diesel::pg::Pg>,
    diesel::dsl::Nullable<versions::version>,
    diesel::dsl::Nullable<profiles::status>,
);

/// The columns of a [`CloneFactsRow`].
fn clone_facts_columns() -> CloneFactsColumns {
    (
        CloneRow::as_select(),
        Option::<EntitlementRow>::as_select(),
        versions::version.nullable(),
        profiles::status.nullable(),
    )
}

/// One page of the owner's clones with their facts, oldest first, in one statement.
pub(crate) fn clone_facts_page(
    conn: &mut PgConnection,
    owner: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<CloneFactsRow>> {
    let mut query = clones_with_facts()
        .filter(clones::owner_user_id.eq(owner))
        .select(clone_facts_columns())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::newer_than(clones::created_at, clones::id, *key));
    }
    query
        .order((clones::created_at.asc(), clones::id.asc()))
        .limit(page.fetch_limit())
        .load(conn)
}

/// One of the owner's clones with its facts, if it exists and is theirs.
pub(crate) fn clone_facts(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> QueryResult<Option<CloneFactsRow>> {
    clones_with_facts()
        .filter(clones::id.eq(id))
        .filter(clones::owner_user_id.eq(owner))
        .select(clone_facts_columns())
        .first(conn)
        .optional()
}

pub(crate) fn update_clone(
    conn: &mut PgConnection,
    id: Uuid,
    display_name: &str,
    model: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(clones::table.find(id))
        .set((
            clones::display_name.eq(display_name),
            clones::model.eq(model),
            clones::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn set_clone_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: CloneStatus,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(clones::table.find(id))
        .set((
            clones::status.eq(status.as_str()),
            clones::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn find_draft(conn: &mut PgConnection, clone_id: Uuid) -> QueryResult<Option<DraftRow>> {
    drafts::table
        .find(clone_id)
        .select(DraftRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn upsert_draft(conn: &mut PgConnection, row: &DraftRow) -> QueryResult<()> {
    diesel::insert_into(drafts::table)
        .values(row)
        .on_conflict(drafts::clone_id)
        .do_update()
        .set((
            drafts::graph.eq(excluded(drafts::graph)),
            drafts::updated_at.eq(excluded(drafts::updated_at)),
            drafts::marketplace_strategy_id.eq(excluded(drafts::marketplace_strategy_id)),
        ))
        .execute(conn)
        .map(drop)
}

/// The publish time and number of the clone's version `id`, if it is one of the clone's.
pub(crate) fn version_position(
    conn: &mut PgConnection,
    clone_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<(DateTime<Utc>, i32)>> {
    versions::table
        .find(id)
        .filter(versions::clone_id.eq(clone_id))
        .select((versions::published_at, versions::version))
        .first(conn)
        .optional()
}

/// Up to `limit` of the clone's versions, highest number first, numbered below `below` when
/// given.
pub(crate) fn versions_page(
    conn: &mut PgConnection,
    clone_id: Uuid,
    below: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<VersionRow>> {
    let mut query = versions::table
        .filter(versions::clone_id.eq(clone_id))
        .select(VersionRow::as_select())
        .into_boxed();
    if let Some(below) = below {
        query = query.filter(versions::version.lt(below));
    }
    query
        .order(versions::version.desc())
        .limit(limit)
        .load(conn)
}

pub(crate) fn version_by_number(
    conn: &mut PgConnection,
    clone_id: Uuid,
    version: i32,
) -> QueryResult<Option<VersionRow>> {
    versions::table
        .filter(versions::clone_id.eq(clone_id))
        .filter(versions::version.eq(version))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn active_version(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<VersionRow>> {
    versions::table
        .filter(versions::clone_id.eq(clone_id))
        .filter(versions::is_active.eq(true))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn latest_version_number(conn: &mut PgConnection, clone_id: Uuid) -> QueryResult<i32> {
    versions::table
        .filter(versions::clone_id.eq(clone_id))
        .select(diesel::dsl::max(versions::version))
        .first::<Option<i32>>(conn)
        .map(|latest| latest.unwrap_or(0))
}

pub(crate) fn deactivate_versions(conn: &mut PgConnection, clone_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        versions::table
            .filter(versions::clone_id.eq(clone_id))
            .filter(versions::is_active.eq(true)),
    )
    .set(versions::is_active.eq(false))
    .execute(conn)
}

pub(crate) fn insert_version(conn: &mut PgConnection, row: &VersionRow) -> QueryResult<()> {
    diesel::insert_into(versions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn find_entitlement(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<EntitlementRow>> {
    entitlements::table
        .find(clone_id)
        .select(EntitlementRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn upsert_entitlement(conn: &mut PgConnection, row: &EntitlementRow) -> QueryResult<()> {
    diesel::insert_into(entitlements::table)
        .values(row)
        .on_conflict(entitlements::clone_id)
        .do_update()
        .set(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn universe_of(conn: &mut PgConnection, clone_id: Uuid) -> QueryResult<Vec<String>> {
    universe::table
        .filter(universe::clone_id.eq(clone_id))
        .order(universe::asset.asc())
        .select(universe::asset)
        .load(conn)
}

pub(crate) fn replace_universe(
    conn: &mut PgConnection,
    clone_id: Uuid,
    rows: &[UniverseRow],
) -> QueryResult<()> {
    diesel::delete(universe::table.filter(universe::clone_id.eq(clone_id))).execute(conn)?;
    diesel::insert_into(universe::table)
        .values(rows)
        .execute(conn)
        .map(drop)
}

/// Clones by id (those visible in the transaction's scope).
pub(crate) fn clones_by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<CloneRow>> {
    clones::table
        .filter(clones::id.eq_any(ids))
        .select(CloneRow::as_select())
        .load(conn)
}

/// The entitlement rows of `clone_ids` (clones without one are absent).
pub(crate) fn entitlements_of(
    conn: &mut PgConnection,
    clone_ids: &[Uuid],
) -> QueryResult<Vec<EntitlementRow>> {
    entitlements::table
        .filter(entitlements::clone_id.eq_any(clone_ids))
        .select(EntitlementRow::as_select())
        .load(conn)
}

/// The active versions of `clone_ids`.
pub(crate) fn active_versions_of(
    conn: &mut PgConnection,
    clone_ids: &[Uuid],
) -> QueryResult<Vec<VersionRow>> {
    versions::table
        .filter(versions::clone_id.eq_any(clone_ids))
        .filter(versions::is_active.eq(true))
        .select(VersionRow::as_select())
        .load(conn)
}

/// (clone, asset) of the universes of `clone_ids`, by clone and asset.
pub(crate) fn universes_of(
    conn: &mut PgConnection,
    clone_ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, String)>> {
    universe::table
        .filter(universe::clone_id.eq_any(clone_ids))
        .order((universe::clone_id.asc(), universe::asset.asc()))
        .select((universe::clone_id, universe::asset))
        .load(conn)
}

/// The selection rules of `clone_ids`.
pub(crate) fn selections_of(
    conn: &mut PgConnection,
    clone_ids: &[Uuid],
) -> QueryResult<Vec<SelectionRow>> {
    selection::table
        .filter(selection::clone_id.eq_any(clone_ids))
        .select(SelectionRow::as_select())
        .load(conn)
}

pub(crate) fn find_selection(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<SelectionRow>> {
    selection::table
        .find(clone_id)
        .select(SelectionRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn upsert_selection(conn: &mut PgConnection, row: &SelectionRow) -> QueryResult<()> {
    diesel::insert_into(selection::table)
        .values(row)
        .on_conflict(selection::clone_id)
        .do_update()
        .set(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn find_profile(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<ProfileRow>> {
    profiles::table
        .find(clone_id)
        .select(ProfileRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts or replaces a profile. A username clash with another live profile surfaces as the
/// unique violation of `clone_public_profiles_username_live`.
pub(crate) fn upsert_profile(conn: &mut PgConnection, row: &ProfileRow) -> QueryResult<()> {
    diesel::insert_into(profiles::table)
        .values(row)
        .on_conflict(profiles::clone_id)
        .do_update()
        .set(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn set_profile_status(
    conn: &mut PgConnection,
    clone_id: Uuid,
    status: ProfileStatus,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(profiles::table.find(clone_id))
        .set((
            profiles::status.eq(status.as_str()),
            profiles::updated_at.eq(at),
        ))
        .execute(conn)
}

pub(crate) fn insert_report(conn: &mut PgConnection, row: &ReportRow) -> QueryResult<()> {
    diesel::insert_into(reports::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn find_report(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ReportRow>> {
    reports::table
        .find(id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()
}

/// Reports in `status`, oldest first, after the (created_at, id) cursor.
pub(crate) fn reports_page(
    conn: &mut PgConnection,
    status: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<ReportRow>> {
    let mut query = reports::table.select(ReportRow::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(reports::status.eq(status.to_string()));
    }
    if let Some(key) = page.after() {
        query = query.filter(keyset::newer_than(reports::created_at, reports::id, *key));
    }
    query
        .order((reports::created_at.asc(), reports::id.asc()))
        .limit(page.fetch_limit())
        .load(conn)
}

/// Resolves an open report; false when it was not open.
pub(crate) fn resolve_report(
    conn: &mut PgConnection,
    id: Uuid,
    status: ReportStatus,
    by: Uuid,
    note: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        reports::table
            .find(id)
            .filter(reports::status.eq(ReportStatus::Open.as_str())),
    )
    .set((
        reports::status.eq(status.as_str()),
        reports::resolved_by.eq(by),
        reports::resolution_note.eq(note),
        reports::resolved_at.eq(at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub(crate) fn insert_moderation(conn: &mut PgConnection, row: &ModerationRow) -> QueryResult<()> {
    diesel::insert_into(moderation::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The time and write sequence of the clone's moderation entry `id`, if it is one of the
/// clone's.
pub(crate) fn moderation_position(
    conn: &mut PgConnection,
    clone_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<(DateTime<Utc>, i64)>> {
    moderation::table
        .find(id)
        .filter(moderation::clone_id.eq(clone_id))
        .select((moderation::created_at, moderation::seq))
        .first(conn)
        .optional()
}

/// Up to `limit` of the clone's moderation entries, oldest first by (created_at, seq), after
/// the position `after` when given.
pub(crate) fn moderation_page(
    conn: &mut PgConnection,
    clone_id: Uuid,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> QueryResult<Vec<ModerationRow>> {
    let mut query = moderation::table
        .filter(moderation::clone_id.eq(clone_id))
        .select(ModerationRow::as_select())
        .into_boxed();
    if let Some((created_at, seq)) = after {
        query = query.filter(
            moderation::created_at
                .gt(created_at)
                .or(moderation::created_at
                    .eq(created_at)
                    .and(moderation::seq.gt(seq))),
        );
    }
    query
        .order((moderation::created_at.asc(), moderation::seq.asc()))
        .limit(limit)
        .load(conn)
}

/// The latest version of `clone_id` published at or before `at` (ties by number).
pub(crate) fn version_in_force_at(
    conn: &mut PgConnection,
    clone_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Option<VersionRow>> {
    versions::table
        .filter(versions::clone_id.eq(clone_id))
        .filter(versions::published_at.le(at))
        .order((versions::published_at.desc(), versions::version.desc()))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}
