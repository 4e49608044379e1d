//! Public profiles: the owner's view and submission (approved at once unless retired), and
//! the public read of approved profiles, which needs no tenant.

use diesel::PgConnection;
use uuid::Uuid;

use super::mapping::{clone_status, profile_status, profile_view};
use super::moderation::moderation_row;
use super::{PgCloneService, owned_clone};
use crate::models::ProfileRow;
use crate::profile::{validate_avatar_url, validate_text, validate_username};
use crate::status::{CloneStatus, ModerationAction, ModerationActor, ProfileStatus};
use crate::views::{ProfileSubmission, ProfileView, PublicProfile};
use crate::{CloneError, repo};

/// The clone's profile if it is approved, or not found.
pub(super) fn approved_profile(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> Result<ProfileRow, CloneError> {
    let profile = repo::find_profile(conn, clone_id)?.ok_or(CloneError::ProfileNotFound)?;
    if profile_status(&profile)? != ProfileStatus::Approved {
        return Err(CloneError::ProfileNotFound);
    }
    Ok(profile)
}

/// [`CloneService::own_profile`](crate::CloneService::own_profile).
pub(super) async fn own(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<ProfileView, CloneError> {
    service
        .as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            repo::find_profile(conn, clone_id)?
                .map(profile_view)
                .ok_or(CloneError::ProfileNotFound)?
        })
        .await
}

/// [`CloneService::submit_profile`](crate::CloneService::submit_profile).
pub(super) async fn submit(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
    submission: ProfileSubmission,
) -> Result<ProfileView, CloneError> {
    validate_text("displayName", &submission.display_name, 1, 80)?;
    validate_username(&submission.username)?;
    validate_text("bio", &submission.bio, 0, 1000)?;
    if let Some(url) = &submission.avatar_url {
        validate_avatar_url(url)?;
    }
    service
        .as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let existing = repo::find_profile(conn, clone.id)?;
            // A clone retired before it had a profile must not gain one either.
            let profile_retired = match &existing {
                Some(profile) => profile_status(profile)? == ProfileStatus::Retired,
                None => false,
            };
            if profile_retired || clone_status(&clone)? == CloneStatus::Retired {
                return Err(CloneError::ProfileRetired);
            }
            let row = ProfileRow {
                clone_id,
                owner_user_id: owner,
                display_name: submission.display_name,
                username: submission.username.clone(),
                bio: submission.bio,
                avatar_url: submission.avatar_url,
                // Version 1 of moderation: submissions are approved at once, reviewed on report.
                status: ProfileStatus::Approved.as_str().into(),
                submitted_at: existing
                    .as_ref()
                    .map_or(now, |profile| profile.submitted_at),
                updated_at: now,
            };
            repo::upsert_profile(conn, &row).map_err(|error| {
                if clones_db::is_unique_violation(
                    &error,
                    Some("clone_public_profiles_username_live"),
                ) {
                    CloneError::UsernameTaken(submission.username.clone())
                } else {
                    CloneError::from(error)
                }
            })?;
            let action = if existing.is_some() {
                ModerationAction::ProfileUpdated
            } else {
                ModerationAction::ProfilePublished
            };
            repo::insert_moderation(
                conn,
                &moderation_row(
                    &clone,
                    Some(owner),
                    ModerationActor::Owner,
                    action,
                    None,
                    "",
                    now,
                ),
            )?;
            profile_view(row)
        })
        .await
}

/// [`CloneService::public_profile`](crate::CloneService::public_profile).
pub(super) async fn public(
    service: &PgCloneService,
    clone_id: Uuid,
) -> Result<PublicProfile, CloneError> {
    // No tenant: row-level security shows approved profiles only.
    service
        .db
        .run(move |conn| {
            let profile = approved_profile(conn, clone_id)?;
            Ok(PublicProfile {
                clone_id: profile.clone_id,
                display_name: profile.display_name,
                username: profile.username,
                bio: profile.bio,
                avatar_url: profile.avatar_url,
            })
        })
        .await
}
