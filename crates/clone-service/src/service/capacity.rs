//! What a clone may use: the effective capacity entitlement (Starter unless an active, current
//! grant says otherwise), operator grants, and the trade universe with its selection rule.
//!
//! A stored entitlement this code cannot read is corrupt data, never read as Starter.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::mapping::stored;
use super::{PgCloneService, owned_clone};
use crate::entitlement::{
    EffectiveEntitlement, EntitlementGrant, EntitlementSource, EntitlementStatus, Tier,
};
use crate::models::{EntitlementRow, SelectionRow, UniverseRow};
use crate::views::{SelectionMode, TradeUniverse};
use crate::{CloneError, provisioning, repo};

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

/// The clone's universe and selection rule, its maximum capped at the entitlement.
pub(super) fn universe_in(
    conn: &mut PgConnection,
    clone_id: Uuid,
    entitlement: &EffectiveEntitlement,
) -> Result<TradeUniverse, CloneError> {
    let assets = repo::universe_of(conn, clone_id)?;
    let rule = repo::find_selection(conn, clone_id)?;
    universe_from(clone_id, assets, rule.as_ref(), entitlement)
}

/// The universe of stored assets and selection rule, capped at the entitlement.
pub(super) fn universe_from(
    clone_id: Uuid,
    assets: Vec<String>,
    rule: Option<&SelectionRow>,
    entitlement: &EffectiveEntitlement,
) -> Result<TradeUniverse, CloneError> {
    Ok(match rule {
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

/// [`CloneService::entitlement`](crate::CloneService::entitlement).
pub(super) async fn entitlement(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<EffectiveEntitlement, CloneError> {
    service
        .as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)
        })
        .await
}

/// [`CloneService::grant_entitlement`](crate::CloneService::grant_entitlement).
pub(super) async fn grant(
    service: &PgCloneService,
    grant: EntitlementGrant,
) -> Result<EffectiveEntitlement, CloneError> {
    service
        .as_moderator("operator: entitlement grant", move |conn, now| {
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

/// [`CloneService::trade_universe`](crate::CloneService::trade_universe).
pub(super) async fn universe(
    service: &PgCloneService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<TradeUniverse, CloneError> {
    service
        .as_owner(owner, move |conn, now| {
            let clone = owned_clone(conn, owner, clone_id)?;
            let entitlement = effective(clone.id, repo::find_entitlement(conn, clone.id)?, now)?;
            universe_in(conn, clone.id, &entitlement)
        })
        .await
}

/// [`CloneService::set_trade_universe`](crate::CloneService::set_trade_universe).
pub(super) async fn set_universe(
    service: &PgCloneService,
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
    service
        .as_owner(owner, move |conn, now| {
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
