//! The clone service: the [`CloneService`] trait's PostgreSQL implementation.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Cursor, Page, PageRequest};
use diesel::PgConnection;
use uuid::Uuid;

use crate::display::{CompetitionFacts, SetupFacts, display_state};
use crate::entitlement::{
    EffectiveEntitlement, EntitlementGrant, EntitlementSource, EntitlementStatus, Tier,
};
use crate::models::{
    CloneRow, DraftRow, EntitlementRow, ModerationRow, ProfileRow, ReportRow, SelectionRow,
    UniverseRow, VersionRow,
};
use crate::profile::{validate_avatar_url, validate_text, validate_username};
use crate::status::{CloneStatus, ModerationAction, ModerationActor, ProfileStatus, ReportStatus};
use crate::views::{
    ClonePatch, CloneRuntime, CloneView, DraftView, ModerationEntry, ProfileSubmission,
    ProfileView, PublicProfile, ReportDecision, ReportResolution, ReportSubmission, ReportView,
    SelectionMode, TradeUniverse, VersionView,
};
use crate::{CloneError, CloneService, provisioning, repo, strategy};

/// The effective entitlement from its row (if any) at `now`: Starter unless an active,
/// current row says otherwise.
///
/// # Errors
/// [`CloneError::Corrupt`] when the row holds a status, tier, source or asset count this code
/// does not know: such a row is never read as a default.
pub(crate) fn effective(
    clone_id: Uuid,
    row: Option<EntitlementRow>,
    now: DateTime<Utc>,
) -> Result<EffectiveEntitlement, CloneError> {
    let Some(row) = row else {
        return Ok(EffectiveEntitlement::starter_default(clone_id));
    };
    let status: EntitlementStatus = row
        .status
        .parse()
        .map_err(|error| corrupt_entitlement(clone_id, error))?;
    let live = status == EntitlementStatus::Active
        && row.effective_at <= now
        && row.expires_at.is_none_or(|expiry| expiry > now);
    if !live {
        return Ok(EffectiveEntitlement::starter_default(clone_id));
    }
    let tier: Tier = row
        .tier
        .parse()
        .map_err(|error| corrupt_entitlement(clone_id, error))?;
    let source: EntitlementSource = row
        .source
        .parse()
        .map_err(|error| corrupt_entitlement(clone_id, error))?;
    let max_active_assets = u32::try_from(row.max_active_assets).map_err(|_| {
        corrupt_entitlement(
            clone_id,
            format!("max_active_assets {}", row.max_active_assets),
        )
    })?;
    Ok(EffectiveEntitlement {
        clone_id,
        tier,
        max_active_assets,
        allowed_model_strength: tier.allowed_model_strength(),
        source,
        source_purchase_id: row.source_purchase_id,
        source_reference: row.source_reference,
        effective_at: Some(row.effective_at),
        expires_at: row.expires_at,
    })
}

/// A stored entitlement this code cannot read; logged here, answered as an internal error.
fn corrupt_entitlement(clone_id: Uuid, what: String) -> CloneError {
    tracing::error!(%clone_id, problem = %what, "corrupt entitlement row");
    CloneError::Corrupt(format!("entitlement of clone {clone_id}: {what}"))
}

/// Parses a stored status or kind of the row `what`; text this code does not know is corrupt
/// data, logged here and answered as an internal error, never read as a default.
fn stored<T: FromStr<Err = String>>(what: &str, id: Uuid, text: &str) -> Result<T, CloneError> {
    text.parse().map_err(|problem: String| {
        tracing::error!(%id, row = what, %problem, "corrupt row");
        CloneError::Corrupt(format!("{what} {id}: {problem}"))
    })
}

fn clone_status(clone: &CloneRow) -> Result<CloneStatus, CloneError> {
    stored("clone", clone.id, &clone.status)
}

fn profile_status(profile: &ProfileRow) -> Result<ProfileStatus, CloneError> {
    stored("profile of clone", profile.clone_id, &profile.status)
}

/// The clone's profile if it is approved, or not found.
fn approved_profile(conn: &mut PgConnection, clone_id: Uuid) -> Result<ProfileRow, CloneError> {
    let profile = repo::find_profile(conn, clone_id)?.ok_or(CloneError::ProfileNotFound)?;
    if profile_status(&profile)? != ProfileStatus::Approved {
        return Err(CloneError::ProfileNotFound);
    }
    Ok(profile)
}

/// The owner's clone, or not found (also when it is someone else's).
fn owned_clone(conn: &mut PgConnection, owner: Uuid, id: Uuid) -> Result<CloneRow, CloneError> {
    repo::find_clone(conn, id)?
        .filter(|clone| clone.owner_user_id == owner)
        .ok_or(CloneError::CloneNotFound)
}

/// The clone's universe and selection rule, its maximum capped at the entitlement.
fn universe_in(
    conn: &mut PgConnection,
    clone_id: Uuid,
    entitlement: &EffectiveEntitlement,
) -> Result<TradeUniverse, CloneError> {
    let assets = repo::universe_of(conn, clone_id)?;
    Ok(match repo::find_selection(conn, clone_id)? {
        Some(rule) => TradeUniverse {
            assets,
            selection_mode: stored("selection rule of clone", clone_id, &rule.mode)?,
            max_assets: u32::try_from(rule.max_assets)
                .unwrap_or(1)
                .min(entitlement.max_active_assets),
        },
        None => TradeUniverse {
            assets,
            selection_mode: SelectionMode::AllInUniverse,
            max_assets: entitlement.max_active_assets,
        },
    })
}

fn version_view(row: VersionRow) -> VersionView {
    VersionView {
        version: row.version,
        fingerprint: row.fingerprint,
        is_active: row.is_active,
        published_at: row.published_at,
        graph: row.graph,
    }
}

fn profile_view(row: ProfileRow) -> Result<ProfileView, CloneError> {
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

fn report_view(row: ReportRow) -> Result<ReportView, CloneError> {
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

fn moderation(
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

/// [`CloneService`] over PostgreSQL.
#[derive(Clone)]
pub struct PgCloneService {
    db: Db,
    clock: Arc<dyn Clock>,
    competition: Arc<dyn CompetitionFacts>,
}

impl std::fmt::Debug for PgCloneService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCloneService").finish_non_exhaustive()
    }
}

impl PgCloneService {
    /// A service over `db`; competition facts come from `competition` (the lifecycle context,
    /// or [`crate::NoCompetitionFacts`]).
    pub fn new(db: Db, clock: Arc<dyn Clock>, competition: Arc<dyn CompetitionFacts>) -> Self {
        Self {
            db,
            clock,
            competition,
        }
    }

    async fn views(
        &self,
        rows: Vec<(CloneRow, EffectiveEntitlement, Option<i32>, bool)>,
    ) -> Vec<CloneView> {
        let ids: Vec<Uuid> = rows.iter().map(|(clone, ..)| clone.id).collect();
        let competition = self.competition.competition(&ids).await;
        rows.into_iter()
            .map(|(clone, entitlement, active_version, retired)| {
                let setup = SetupFacts {
                    has_active_version: active_version.is_some(),
                    retired,
                };
                CloneView {
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
                }
            })
            .collect()
    }

    /// Runs `work` acting for the owner on the blocking pool.
    async fn as_owner<T, F>(&self, owner: Uuid, work: F) -> Result<T, CloneError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, CloneError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .tenant_transaction(owner, move |conn| work(conn, now))
            .await
    }

    /// Runs `work` on the audited cross-tenant path.
    async fn as_moderator<T, F>(&self, purpose: &'static str, work: F) -> Result<T, CloneError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, CloneError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction(purpose, move |conn| work(conn, now))
            .await
    }
}

type CloneFacts = (CloneRow, EffectiveEntitlement, Option<i32>, bool);

fn facts_of(
    conn: &mut PgConnection,
    clone: CloneRow,
    now: DateTime<Utc>,
) -> Result<CloneFacts, CloneError> {
    let entitlement = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
    let active = repo::active_version(conn, clone.id)?.map(|version| version.version);
    let profile_retired = match repo::find_profile(conn, clone.id)? {
        Some(profile) => profile_status(&profile)? == ProfileStatus::Retired,
        None => false,
    };
    let retired = profile_retired || clone_status(&clone)? == CloneStatus::Retired;
    Ok((clone, entitlement, active, retired))
}

#[async_trait]
impl CloneService for PgCloneService {
    async fn list_clones(&self, owner: Uuid) -> Result<Vec<CloneView>, CloneError> {
        let rows = self
            .as_owner(owner, move |conn, now| {
                repo::clones_of(conn, owner)?
                    .into_iter()
                    .map(|clone| facts_of(conn, clone, now))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(self.views(rows).await)
    }

    async fn get_clone(&self, owner: Uuid, clone_id: Uuid) -> Result<CloneView, CloneError> {
        let row = self
            .as_owner(owner, move |conn, now| {
                let clone = owned_clone(conn, owner, clone_id)?;
                facts_of(conn, clone, now)
            })
            .await?;
        self.views(vec![row])
            .await
            .pop()
            .ok_or(CloneError::CloneNotFound)
    }

    async fn update_clone(
        &self,
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
        let row = self
            .as_owner(owner, move |conn, now| {
                let clone = owned_clone(conn, owner, clone_id)?;
                let entitlement =
                    effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
                let model = patch.model.unwrap_or_else(|| clone.model.clone());
                if model != clone.model && !entitlement.allows_model(&model) {
                    return Err(CloneError::ModelNotAllowed(model));
                }
                let name = patch
                    .display_name
                    .unwrap_or_else(|| clone.display_name.clone());
                repo::update_clone(conn, clone.id, &name, &model, now)?;
                let updated = owned_clone(conn, owner, clone_id)?;
                facts_of(conn, updated, now)
            })
            .await?;
        self.views(vec![row])
            .await
            .pop()
            .ok_or(CloneError::CloneNotFound)
    }

    async fn get_draft(&self, owner: Uuid, clone_id: Uuid) -> Result<DraftView, CloneError> {
        self.as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            Ok(match repo::find_draft(conn, clone_id)? {
                Some(draft) => DraftView {
                    clone_id,
                    graph: draft.graph,
                    is_default: false,
                    updated_at: Some(draft.updated_at),
                },
                None => DraftView {
                    clone_id,
                    graph: strategy::default_graph_json()?,
                    is_default: true,
                    updated_at: None,
                },
            })
        })
        .await
    }

    async fn save_draft(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        graph: serde_json::Value,
    ) -> Result<DraftView, CloneError> {
        self.as_owner(owner, move |conn, now| {
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
                },
            )?;
            Ok(DraftView {
                clone_id,
                graph,
                is_default: false,
                updated_at: Some(now),
            })
        })
        .await
    }

    async fn publish(&self, owner: Uuid, clone_id: Uuid) -> Result<VersionView, CloneError> {
        self.as_owner(owner, move |conn, now| {
            // The row lock serialises publishes of one clone: versions stay gapless and only
            // one is ever active.
            let clone = repo::lock_clone(conn, clone_id)?
                .filter(|clone| clone.owner_user_id == owner)
                .ok_or(CloneError::CloneNotFound)?;
            let graph = match repo::find_draft(conn, clone.id)? {
                Some(draft) => draft.graph,
                None => strategy::default_graph_json()?,
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
            };
            repo::insert_version(conn, &row)?;
            Ok(version_view(row))
        })
        .await
    }

    async fn list_versions(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<Vec<VersionView>, CloneError> {
        self.as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            Ok(repo::versions_of(conn, clone_id)?
                .into_iter()
                .map(version_view)
                .collect())
        })
        .await
    }

    async fn entitlement(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<EffectiveEntitlement, CloneError> {
        self.as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)
        })
        .await
    }

    async fn runtime(&self, owner: Uuid, clone_id: Uuid) -> Result<CloneRuntime, CloneError> {
        self.as_owner(owner, move |conn, now| {
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

    async fn trade_universe(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<TradeUniverse, CloneError> {
        self.as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let entitlement = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
            universe_in(conn, clone.id, &entitlement)
        })
        .await
    }

    async fn set_trade_universe(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        universe: TradeUniverse,
    ) -> Result<TradeUniverse, CloneError> {
        let mut assets: Vec<String> = universe
            .assets
            .iter()
            .map(|a| a.trim().to_uppercase())
            .collect();
        let unique: BTreeSet<&String> = assets.iter().collect();
        if unique.len() != assets.len() {
            return Err(CloneError::InvalidInput("assets must not repeat".into()));
        }
        if assets.len() > 100 {
            return Err(CloneError::InvalidInput("at most 100 assets".into()));
        }
        for asset in &assets {
            let ok = (1..=64).contains(&asset.len())
                && asset
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b":._/-".contains(&b));
            if !ok {
                return Err(CloneError::InvalidInput(format!(
                    "invalid asset symbol `{asset}`"
                )));
            }
        }
        if universe.max_assets == 0 {
            return Err(CloneError::InvalidInput(
                "maxAssets must be at least 1".into(),
            ));
        }
        assets.sort();
        self.as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let entitlement = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
            if universe.max_assets > entitlement.max_active_assets {
                return Err(CloneError::TooManyAssets(entitlement.max_active_assets));
            }
            let rows: Vec<UniverseRow> = assets
                .iter()
                .map(|asset| UniverseRow {
                    clone_id,
                    owner_user_id: owner,
                    asset: asset.clone(),
                    added_at: now,
                })
                .collect();
            repo::replace_universe(conn, clone_id, &rows)?;
            repo::upsert_selection(
                conn,
                &SelectionRow {
                    clone_id,
                    owner_user_id: owner,
                    mode: universe.selection_mode.as_str().into(),
                    max_assets: i32::try_from(universe.max_assets).unwrap_or(1),
                    updated_at: now,
                },
            )?;
            Ok(TradeUniverse {
                assets,
                selection_mode: universe.selection_mode,
                max_assets: universe.max_assets,
            })
        })
        .await
    }

    async fn own_profile(&self, owner: Uuid, clone_id: Uuid) -> Result<ProfileView, CloneError> {
        self.as_owner(owner, move |conn, _now| {
            owned_clone(conn, owner, clone_id)?;
            repo::find_profile(conn, clone_id)?
                .map(profile_view)
                .ok_or(CloneError::ProfileNotFound)?
        })
        .await
    }

    async fn submit_profile(
        &self,
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
        self.as_owner(owner, move |conn, now| {
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
                &moderation(
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

    async fn public_profile(&self, clone_id: Uuid) -> Result<PublicProfile, CloneError> {
        // No tenant: row-level security shows approved profiles only.
        self.db
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

    async fn report(
        &self,
        reporter: Uuid,
        clone_id: Uuid,
        submission: ReportSubmission,
    ) -> Result<ReportView, CloneError> {
        validate_text("details", &submission.details, 0, 2000)?;
        self.as_owner(reporter, move |conn, now| {
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

    async fn reports(
        &self,
        status: Option<String>,
        page: PageRequest,
    ) -> Result<Page<ReportView>, CloneError> {
        let status = status
            .map(|status| status.parse::<ReportStatus>())
            .transpose()
            .map_err(|_| {
                CloneError::InvalidInput("status must be open, dismissed or actioned".into())
            })?;
        self.as_moderator("moderation: list reports", move |conn, _now| {
            let rows = repo::reports_page(conn, status.map(ReportStatus::as_str), &page)?;
            Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                .try_map(report_view)
        })
        .await
    }

    async fn resolve_report(
        &self,
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
        self.as_moderator("moderation: resolve report", move |conn, now| {
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
                &moderation(
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

    async fn retire(&self, admin: Uuid, clone_id: Uuid, reason: String) -> Result<(), CloneError> {
        validate_text("reason", &reason, 1, 2000)?;
        self.as_moderator("moderation: retire clone", move |conn, now| {
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

    async fn reinstate(
        &self,
        admin: Uuid,
        clone_id: Uuid,
        reason: String,
    ) -> Result<(), CloneError> {
        validate_text("reason", &reason, 1, 2000)?;
        self.as_moderator("moderation: reinstate clone", move |conn, now| {
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
                &moderation(
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

    async fn moderation_history(&self, clone_id: Uuid) -> Result<Vec<ModerationEntry>, CloneError> {
        self.as_moderator("moderation: clone history", move |conn, _now| {
            repo::find_clone(conn, clone_id)?.ok_or(CloneError::CloneNotFound)?;
            repo::moderation_history(conn, clone_id)?
                .into_iter()
                .map(|row| {
                    Ok(ModerationEntry {
                        action: stored("moderation action", row.id, &row.action)?,
                        actor_kind: stored("moderation action", row.id, &row.actor_kind)?,
                        actor_user_id: row.actor_user_id,
                        report_id: row.report_id,
                        reason: row.reason,
                        created_at: row.created_at,
                    })
                })
                .collect()
        })
        .await
    }

    async fn grant_entitlement(
        &self,
        grant: EntitlementGrant,
    ) -> Result<EffectiveEntitlement, CloneError> {
        self.as_moderator("operator: entitlement grant", move |conn, now| {
            let clone = repo::find_clone(conn, grant.clone_id)?.ok_or(CloneError::CloneNotFound)?;
            // The clone has one entitlement row: an expiring grant over a paid tier would drop
            // the clone to Starter when it lapses, losing what was paid for.
            let current = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
            if current.source == EntitlementSource::Purchase
                && current.tier > Tier::Starter
                && grant.expires_at.is_some()
            {
                return Err(CloneError::StateConflict(format!(
                    "the clone holds a purchased {} tier; an expiring grant would remove it when \
                     it lapses: grant without an expiry",
                    current.tier.as_str()
                )));
            }
            provisioning::upsert_entitlement(conn, clone.owner_user_id, &grant, now)
        })
        .await
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
        &moderation(
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
