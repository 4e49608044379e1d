//! Stored rows to what the service answers: views of versions, profiles, reports and
//! moderation entries, and the parsing of stored statuses and kinds.
//!
//! A status or kind this code does not know is corrupt data: it is logged here and answered as
//! an internal error, never read as a default. Nothing here touches the database.

use std::str::FromStr;

use uuid::Uuid;

use crate::CloneError;
use crate::models::{CloneRow, ModerationRow, ProfileRow, ReportRow, VersionRow};
use crate::status::{CloneStatus, ProfileStatus};
use crate::views::{ModerationEntry, ProfileView, ReportView, VersionView};

/// Parses a stored status or kind of the row `what`; text this code does not know is corrupt
/// data, logged here and answered as an internal error, never read as a default.
pub(super) fn stored<T: FromStr<Err = String>>(
    what: &str,
    id: Uuid,
    text: &str,
) -> Result<T, CloneError> {
    text.parse().map_err(|problem: String| {
        tracing::error!(%id, row = what, %problem, "corrupt row");
        CloneError::Corrupt(format!("{what} {id}: {problem}"))
    })
}

pub(super) fn clone_status(clone: &CloneRow) -> Result<CloneStatus, CloneError> {
    stored("clone", clone.id, &clone.status)
}

pub(super) fn profile_status(profile: &ProfileRow) -> Result<ProfileStatus, CloneError> {
    stored("profile of clone", profile.clone_id, &profile.status)
}

pub(super) fn version_view(row: VersionRow) -> VersionView {
    VersionView {
        version: row.version,
        fingerprint: row.fingerprint,
        is_active: row.is_active,
        published_at: row.published_at,
        graph: row.graph,
        marketplace_strategy_id: row.marketplace_strategy_id,
    }
}

pub(super) fn profile_view(row: ProfileRow) -> Result<ProfileView, CloneError> {
    Ok(ProfileView {
        status: profile_status(&row)?,
        clone_id: row.clone_id,
        display_name: row.display_name,
        username: row.username,
        bio: row.bio,
        avatar_url: row.avatar_url,
        submitted_at: row.submitted_at,
        updated_at: row.updated_at,
    })
}

pub(super) fn report_view(row: ReportRow) -> Result<ReportView, CloneError> {
    Ok(ReportView {
        id: row.id,
        clone_id: row.clone_id,
        reporter_user_id: row.reporter_user_id,
        reason: stored("report", row.id, &row.reason)?,
        details: row.details,
        status: stored("report", row.id, &row.status)?,
        created_at: row.created_at,
        resolved_at: row.resolved_at,
        resolution_note: row.resolution_note,
    })
}

pub(super) fn moderation_entry(row: ModerationRow) -> Result<ModerationEntry, CloneError> {
    Ok(ModerationEntry {
        action: stored("moderation action", row.id, &row.action)?,
        actor_kind: stored("moderation action", row.id, &row.actor_kind)?,
        actor_user_id: row.actor_user_id,
        report_id: row.report_id,
        reason: row.reason,
        created_at: row.created_at,
    })
}
