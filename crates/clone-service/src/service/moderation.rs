//! Reports and moderation: filing a report on a public profile, the admin report queue,
//! resolving reports, retiring and reinstating clones, and each clone's append-only moderation
//! history.
//!
//! Everything an admin does runs in one cross-tenant transaction per call, with its purpose
//! logged; reports are filed in the reporter's own tenant.

use chrono::{DateTime, Utc};
use clones_kernel::{Cursor, Page, PageError, PageRequest};
use diesel::PgConnection;
use uuid::Uuid;

use super::PgCloneService;
use super::mapping::{clone_status, moderation_entry, report_view};
use super::profiles::approved_profile;
use crate::models::{CloneRow, ModerationRow, ReportRow};
use crate::profile::validate_text;
use crate::status::{CloneStatus, ModerationAction, ModerationActor, ProfileStatus, ReportStatus};
use crate::views::{
    ModerationEntry, ReportDecision, ReportResolution, ReportSubmission, ReportView,
};
use crate::{CloneError, repo};

/// A moderation audit row about `clone`.
pub(super) fn moderation_row(
    clone: &CloneRow,
    actor: Option<Uuid>,
    actor_kind: ModerationActor,
    action: ModerationAction,
    report_id: Option<Uuid>,
    reason: &str,
    at: DateTime<Utc>,
) -> ModerationRow {
    ModerationRow {
        id: Uuid::new_v4(),
        clone_id: clone.id,
        owner_user_id: clone.owner_user_id,
        actor_user_id: actor,
        actor_kind: actor_kind.as_str().into(),
        action: action.as_str().into(),
        report_id,
        reason: reason.into(),
        created_at: at,
    }
}

/// Retires a clone and its public profile, recording who and why.
fn retire_locked(
    conn: &mut PgConnection,
    clone: &CloneRow,
    admin: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), CloneError> {
    repo::set_clone_status(conn, clone.id, CloneStatus::Retired, now)?;
    repo::set_profile_status(conn, clone.id, ProfileStatus::Retired, now)?;
    repo::insert_moderation(
        conn,
        &moderation_row(
            clone,
            Some(admin),
            ModerationActor::Admin,
            ModerationAction::Retired,
            None,
            reason,
            now,
        ),
    )?;
    Ok(())
}

/// [`CloneService::report`](crate::CloneService::report).
pub(super) async fn report(
    service: &PgCloneService,
    reporter: Uuid,
    clone_id: Uuid,
    submission: ReportSubmission,
) -> Result<ReportView, CloneError> {
    validate_text("details", &submission.details, 0, 2000)?;
    service
        .as_owner(reporter, move |conn, now| {
            let profile = approved_profile(conn, clone_id)?;
            if profile.owner_user_id == reporter {
                return Err(CloneError::SelfReport);
            }
            let row = ReportRow {
                id: Uuid::new_v4(),
                clone_id,
                reporter_user_id: reporter,
                reason: submission.reason.as_str().into(),
                details: submission.details,
                status: ReportStatus::Open.as_str().into(),
                created_at: now,
                resolved_at: None,
                resolved_by: None,
                resolution_note: None,
            };
            match repo::insert_report(conn, &row) {
                Ok(()) => report_view(row),
                // One open report per reporter and clone keeps the queue free of repeats.
                Err(error)
                    if clones_db::is_unique_violation(
                        &error,
                        Some("clone_reports_one_open_per_reporter"),
                    ) =>
                {
                    Err(CloneError::StateConflict(
                        "you already have an open report on this clone".into(),
                    ))
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
}

/// [`CloneService::reports`](crate::CloneService::reports).
pub(super) async fn reports(
    service: &PgCloneService,
    status: Option<String>,
    page: PageRequest,
) -> Result<Page<ReportView>, CloneError> {
    let status = status
        .map(|status| status.parse::<ReportStatus>())
        .transpose()
        .map_err(|_| {
            CloneError::InvalidInput("status must be open, dismissed or actioned".into())
        })?;
    service
        .as_moderator("moderation: list reports", move |conn, _now| {
            let rows = repo::reports_page(conn, status.map(ReportStatus::as_str), &page)?;
            Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                .try_map(report_view)
        })
        .await
}

/// [`CloneService::resolve_report`](crate::CloneService::resolve_report).
pub(super) async fn resolve(
    service: &PgCloneService,
    admin: Uuid,
    report_id: Uuid,
    resolution: ReportResolution,
) -> Result<ReportView, CloneError> {
    validate_text("note", &resolution.note, 1, 2000)?;
    if resolution.decision == ReportDecision::Dismiss && resolution.retire {
        return Err(CloneError::InvalidInput(
            "a dismissed report cannot retire the clone".into(),
        ));
    }
    service
        .as_moderator("moderation: resolve report", move |conn, now| {
            let report = repo::find_report(conn, report_id)?.ok_or(CloneError::ReportNotFound)?;
            let clone =
                repo::lock_clone(conn, report.clone_id)?.ok_or(CloneError::CloneNotFound)?;
            let (status, action) = match resolution.decision {
                ReportDecision::Dismiss => {
                    (ReportStatus::Dismissed, ModerationAction::ReportDismissed)
                }
                ReportDecision::Action => {
                    (ReportStatus::Actioned, ModerationAction::ReportActioned)
                }
            };
            if !repo::resolve_report(conn, report.id, status, admin, &resolution.note, now)? {
                return Err(CloneError::ReportResolved);
            }
            repo::insert_moderation(
                conn,
                &moderation_row(
                    &clone,
                    Some(admin),
                    ModerationActor::Admin,
                    action,
                    Some(report.id),
                    &resolution.note,
                    now,
                ),
            )?;
            if resolution.retire && clone_status(&clone)? != CloneStatus::Retired {
                retire_locked(conn, &clone, admin, &resolution.note, now)?;
            }
            repo::find_report(conn, report.id)?
                .map(report_view)
                .ok_or(CloneError::ReportNotFound)?
        })
        .await
}

/// [`CloneService::retire`](crate::CloneService::retire).
pub(super) async fn retire(
    service: &PgCloneService,
    admin: Uuid,
    clone_id: Uuid,
    reason: String,
) -> Result<(), CloneError> {
    validate_text("reason", &reason, 1, 2000)?;
    service
        .as_moderator("moderation: retire clone", move |conn, now| {
            let clone = repo::lock_clone(conn, clone_id)?.ok_or(CloneError::CloneNotFound)?;
            if clone_status(&clone)? == CloneStatus::Retired {
                return Err(CloneError::StateConflict(
                    "the clone is already retired".into(),
                ));
            }
            retire_locked(conn, &clone, admin, &reason, now)
        })
        .await
}

/// [`CloneService::reinstate`](crate::CloneService::reinstate).
pub(super) async fn reinstate(
    service: &PgCloneService,
    admin: Uuid,
    clone_id: Uuid,
    reason: String,
) -> Result<(), CloneError> {
    validate_text("reason", &reason, 1, 2000)?;
    service
        .as_moderator("moderation: reinstate clone", move |conn, now| {
            let clone = repo::lock_clone(conn, clone_id)?.ok_or(CloneError::CloneNotFound)?;
            if clone_status(&clone)? != CloneStatus::Retired {
                return Err(CloneError::StateConflict("the clone is not retired".into()));
            }
            repo::set_clone_status(conn, clone.id, CloneStatus::Active, now)?;
            if let Some(profile) = repo::find_profile(conn, clone.id)? {
                repo::set_profile_status(conn, clone.id, ProfileStatus::Approved, now).map_err(
                    |error| {
                        if clones_db::is_unique_violation(
                            &error,
                            Some("clone_public_profiles_username_live"),
                        ) {
                            CloneError::UsernameTaken(profile.username.clone())
                        } else {
                            CloneError::from(error)
                        }
                    },
                )?;
            }
            repo::insert_moderation(
                conn,
                &moderation_row(
                    &clone,
                    Some(admin),
                    ModerationActor::Admin,
                    ModerationAction::Reinstated,
                    None,
                    &reason,
                    now,
                ),
            )?;
            Ok(())
        })
        .await
}

/// [`CloneService::moderation_history`](crate::CloneService::moderation_history).
pub(super) async fn history(
    service: &PgCloneService,
    clone_id: Uuid,
    page: PageRequest,
) -> Result<Page<ModerationEntry>, CloneError> {
    service
        .as_moderator("moderation: clone history", move |conn, _now| {
            repo::find_clone(conn, clone_id)?.ok_or(CloneError::CloneNotFound)?;
            // Entries written together share a timestamp (a report actioned and the retirement
            // it caused) and keep the order they were written in: the list is ordered by
            // (created_at, seq). The cursor names the page's last entry by its time and id;
            // the next page starts after that entry's position.
            let after = match page.cursor() {
                None => None,
                Some(cursor) => Some(
                    repo::moderation_position(conn, clone_id, cursor.id())?
                        .filter(|(at, _)| Cursor::new(*at, cursor.id()) == cursor)
                        .ok_or(PageError::MalformedCursor)?,
                ),
            };
            let rows = repo::moderation_page(conn, clone_id, after, page.fetch_limit())?;
            Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                .try_map(moderation_entry)
        })
        .await
}
