//! Writes other contexts make into clone-service's tables inside their own transactions:
//! economy creates paid clones and upserts entitlements here, so a purchase fact and its effect
//! commit together. The caller's transaction must act for the clone's owner (tenant scope) or
//! be the audited cross-tenant path.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::entitlement::{
    EffectiveEntitlement, EntitlementGrant, EntitlementSource, EntitlementStatus, Tier,
};
use crate::models::{CloneRow, DraftRow, EntitlementRow};
use crate::status::CloneStatus;
use crate::{CloneError, repo, strategy};

/// The model a new clone starts with: the deterministic rule model.
pub const DEFAULT_MODEL: &str = "rule";

/// A clone paid for by a verified purchase.
#[derive(Debug, Clone)]
pub struct PaidClone {
    /// The id the clone gets (chosen by the buyer's purchase record).
    pub clone_id: Uuid,
    /// The payer, who owns the clone.
    pub owner_user_id: Uuid,
    /// The purchase fact; one purchase creates at most one clone.
    pub purchase_id: Uuid,
    /// The initial private name.
    pub display_name: String,
}

/// Creates the clone, its default draft and its Starter entitlement. Idempotent on the
/// purchase: a second call returns the clone the first created and `false`.
///
/// # Errors
/// [`CloneError`] for invalid names or database failures.
pub fn create_paid_clone(
    conn: &mut PgConnection,
    clone: &PaidClone,
    at: DateTime<Utc>,
) -> Result<(Uuid, bool), CloneError> {
    crate::profile::validate_text("displayName", &clone.display_name, 1, 80)?;
    let row = CloneRow {
        id: clone.clone_id,
        owner_user_id: clone.owner_user_id,
        display_name: clone.display_name.clone(),
        model: DEFAULT_MODEL.into(),
        status: CloneStatus::Active.as_str().into(),
        created_by_purchase_id: clone.purchase_id,
        created_at: at,
        updated_at: at,
    };
    if !repo::insert_clone(conn, &row)? {
        let existing = repo::clone_by_purchase(conn, clone.purchase_id)?
            .ok_or(CloneError::PurchaseAlreadyUsed)?;
        return Ok((existing.id, false));
    }
    repo::upsert_draft(
        conn,
        &DraftRow {
            clone_id: row.id,
            owner_user_id: row.owner_user_id,
            graph: strategy::default_graph_json()?,
            updated_at: at,
            marketplace_strategy_id: None,
        },
    )?;
    upsert_entitlement(
        conn,
        row.owner_user_id,
        &EntitlementGrant {
            clone_id: row.id,
            tier: Tier::Starter,
            source: EntitlementSource::Purchase,
            source_purchase_id: Some(clone.purchase_id),
            source_reference: None,
            expires_at: None,
        },
        at,
    )?;
    Ok((row.id, true))
}

/// Makes `grant` the clone's effective entitlement (replacing any earlier one).
///
/// # Errors
/// [`CloneError::InvalidInput`] for a default-sourced or inconsistent grant;
/// [`CloneError::CloneNotFound`] when the clone is not visible in this transaction.
pub fn upsert_entitlement(
    conn: &mut PgConnection,
    owner_user_id: Uuid,
    grant: &EntitlementGrant,
    at: DateTime<Utc>,
) -> Result<EffectiveEntitlement, CloneError> {
    if grant.source == EntitlementSource::Default {
        return Err(CloneError::InvalidInput(
            "the default entitlement is implied, not granted".into(),
        ));
    }
    if (grant.source == EntitlementSource::Purchase) != grant.source_purchase_id.is_some() {
        return Err(CloneError::InvalidInput(
            "purchase grants (and only they) carry a purchase id".into(),
        ));
    }
    if grant.expires_at.is_some_and(|expiry| expiry <= at) {
        return Err(CloneError::InvalidInput(
            "expiry must be in the future".into(),
        ));
    }
    let clone = repo::find_clone(conn, grant.clone_id)?
        .filter(|clone| clone.owner_user_id == owner_user_id)
        .ok_or(CloneError::CloneNotFound)?;
    let row = EntitlementRow {
        clone_id: clone.id,
        owner_user_id: clone.owner_user_id,
        tier: grant.tier.as_str().into(),
        max_active_assets: i32::try_from(grant.tier.max_active_assets()).unwrap_or(i32::MAX),
        allowed_model_strength: grant.tier.allowed_model_strength().as_str().into(),
        source: grant.source.as_str().into(),
        source_purchase_id: grant.source_purchase_id,
        source_reference: grant.source_reference.clone(),
        status: EntitlementStatus::Active.as_str().into(),
        effective_at: at,
        expires_at: grant.expires_at,
        revoked_at: None,
        updated_at: at,
    };
    repo::upsert_entitlement(conn, &row)?;
    crate::service::effective(clone.id, Some(row), at)
}

/// The tier of one of the caller's clones (`None` when the clone is not visible in this
/// transaction's scope).
///
/// # Errors
/// Database failures; [`CloneError::Corrupt`] for an entitlement row it cannot read.
pub fn owned_clone_tier(
    conn: &mut PgConnection,
    clone_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Tier>, CloneError> {
    let Some(clone) = repo::find_clone(conn, clone_id)? else {
        return Ok(None);
    };
    let row = repo::find_entitlement(conn, clone.id)?;
    Ok(Some(crate::service::effective(clone.id, row, now)?.tier))
}

/// The marketplace strategy of the version of `clone_id` in force at `at` (the latest one
/// published at or before it), if that version was adopted from the marketplace. Economy
/// reads it inside its royalty booking transaction, which must see the clone (its owner's
/// tenant scope or the audited cross-tenant path).
///
/// # Errors
/// Database failures.
pub fn adopted_strategy_at(
    conn: &mut PgConnection,
    clone_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, CloneError> {
    Ok(repo::version_in_force_at(conn, clone_id, at)?
        .and_then(|version| version.marketplace_strategy_id))
}
