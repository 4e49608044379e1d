//! Access administration: roles, service tokens and housekeeping of expired identity rows.
//!
//! Kept apart from [`crate::AuthService`] because it needs no sign-in settings: workers and the
//! operator CLI use it with nothing but a database and a clock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_db::Db;
use clones_kernel::Clock;
use serde::Serialize;
use uuid::Uuid;

use crate::models::{RoleRow, ServiceTokenRow, WalletRow};
use crate::service::{normalise_address, stored};
use crate::{AuthError, repo, tokens};

/// The role that may use admin routes.
pub const ADMIN_ROLE: &str = "admin";

/// A verified service token's identity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceIdentity {
    /// The token id.
    pub id: Uuid,
    /// Who or what holds it.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<String>,
}

impl ServiceIdentity {
    /// Fails unless the token carries `scope`.
    ///
    /// # Errors
    /// [`AuthError::MissingScope`].
    pub fn require(&self, scope: &str) -> Result<(), AuthError> {
        if self.scopes.iter().any(|held| held == scope) {
            Ok(())
        } else {
            Err(AuthError::MissingScope(scope.to_string()))
        }
    }
}

/// A service token as operators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTokenInfo {
    /// Id, name and scopes.
    #[serde(flatten)]
    pub identity: ServiceIdentity,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last presented.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly minted service token: the secret is shown once, here, and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MintedServiceToken {
    /// The token's identity.
    pub identity: ServiceIdentity,
    /// The secret token value.
    pub token: String,
}

/// Counts from one housekeeping pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Purged {
    /// Expired challenges deleted.
    pub challenges: usize,
    /// Ended sessions (with their refresh tokens) deleted.
    pub sessions: usize,
}

/// Roles, service tokens and housekeeping.
#[async_trait]
pub trait AccessAdmin: Send + Sync {
    /// Whether the user holds the admin role.
    async fn is_admin(&self, user_id: Uuid) -> Result<bool, AuthError>;

    /// Validates a service token and records its use.
    async fn authenticate_service(&self, token: &str) -> Result<ServiceIdentity, AuthError>;

    /// Creates a service token.
    async fn mint_service_token(
        &self,
        name: &str,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<MintedServiceToken, AuthError>;

    /// Revokes a service token; false when it was already revoked or never existed.
    async fn revoke_service_token(&self, id: Uuid) -> Result<bool, AuthError>;

    /// Every service token, oldest first (hashes are never returned).
    async fn list_service_tokens(&self) -> Result<Vec<ServiceTokenInfo>, AuthError>;

    /// Grants the admin role to the user owning `wallet`; false if they already had it.
    async fn grant_admin(&self, wallet: &str, granted_by: &str) -> Result<bool, AuthError>;

    /// The user a wallet address (any letter case) is linked to, if any.
    async fn wallet_owner(&self, address: &str) -> Result<Option<Uuid>, AuthError>;

    /// Removes the admin role from the user owning `wallet`; false if they did not hold it.
    async fn revoke_admin(&self, wallet: &str) -> Result<bool, AuthError>;

    /// Deletes challenges and sessions that ended more than `retention` ago.
    async fn purge_expired(&self, retention: Duration) -> Result<Purged, AuthError>;

    /// Operator provisioning: the user owning `wallet`, created (with the wallet) if none
    /// does. Returns the user id and whether it was created.
    async fn provision_wallet(
        &self,
        wallet: &str,
        chain_id: u64,
    ) -> Result<(Uuid, bool), AuthError>;
}

/// [`AccessAdmin`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAccessAdmin {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl PgAccessAdmin {
    /// A service over `db`, reading time from `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }
}

#[async_trait]
impl AccessAdmin for PgAccessAdmin {
    async fn is_admin(&self, user_id: Uuid) -> Result<bool, AuthError> {
        self.db
            .run(move |conn| repo::has_role(conn, user_id, ADMIN_ROLE).map_err(AuthError::from))
            .await
    }

    async fn authenticate_service(&self, token: &str) -> Result<ServiceIdentity, AuthError> {
        if !token.starts_with(tokens::SERVICE_TOKEN_PREFIX) {
            return Err(AuthError::InvalidServiceToken);
        }
        let hash = tokens::token_hash(token);
        let now = self.clock.now();
        let row = self
            .db
            .run(move |conn| repo::use_service_token(conn, &hash, now).map_err(AuthError::from))
            .await?
            .ok_or(AuthError::InvalidServiceToken)?;
        Ok(service_identity(row))
    }

    async fn mint_service_token(
        &self,
        name: &str,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<MintedServiceToken, AuthError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(AuthError::InvalidInput(
                "name must be 1-100 characters".into(),
            ));
        }
        if scopes.is_empty() || !scopes.iter().all(|scope| is_valid_scope(scope)) {
            return Err(AuthError::InvalidInput(
                "scopes must be one or more of `resource:action` (lowercase, `_` allowed)".into(),
            ));
        }
        let now = self.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::InvalidInput(
                "expiry must be in the future".into(),
            ));
        }
        let token = tokens::new_service_token();
        let row = ServiceTokenRow {
            id: Uuid::new_v4(),
            name: name.to_string(),
            scopes: scopes.iter().cloned().map(Some).collect(),
            token_hash: tokens::token_hash(&token),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let identity = service_identity(row.clone());
        self.db
            .run(move |conn| repo::insert_service_token(conn, &row).map_err(AuthError::from))
            .await?;
        Ok(MintedServiceToken { identity, token })
    }

    async fn revoke_service_token(&self, id: Uuid) -> Result<bool, AuthError> {
        let now = self.clock.now();
        self.db
            .run(move |conn| repo::revoke_service_token(conn, id, now).map_err(AuthError::from))
            .await
    }

    async fn list_service_tokens(&self) -> Result<Vec<ServiceTokenInfo>, AuthError> {
        let rows = self
            .db
            .run(|conn| repo::list_service_tokens(conn).map_err(AuthError::from))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| ServiceTokenInfo {
                created_at: row.created_at,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
                identity: service_identity(row),
            })
            .collect())
    }

    async fn grant_admin(&self, wallet: &str, granted_by: &str) -> Result<bool, AuthError> {
        let address = stored(normalise_address(wallet)?);
        let now = self.clock.now();
        let granted_by = granted_by.to_string();
        self.db
            .transaction(move |conn| {
                let wallet = repo::find_wallet(conn, &address)?.ok_or(AuthError::NotFound)?;
                repo::grant_role(
                    conn,
                    &RoleRow {
                        user_id: wallet.user_id,
                        role: ADMIN_ROLE.into(),
                        granted_at: now,
                        granted_by,
                    },
                )
                .map_err(AuthError::from)
            })
            .await
    }

    async fn wallet_owner(&self, address: &str) -> Result<Option<Uuid>, AuthError> {
        let address = stored(normalise_address(address)?);
        self.db
            .run(move |conn| Ok(repo::find_wallet(conn, &address)?.map(|wallet| wallet.user_id)))
            .await
    }

    async fn revoke_admin(&self, wallet: &str) -> Result<bool, AuthError> {
        let address = stored(normalise_address(wallet)?);
        self.db
            .transaction(move |conn| {
                let wallet = repo::find_wallet(conn, &address)?.ok_or(AuthError::NotFound)?;
                repo::revoke_role(conn, wallet.user_id, ADMIN_ROLE).map_err(AuthError::from)
            })
            .await
    }

    async fn purge_expired(&self, retention: Duration) -> Result<Purged, AuthError> {
        let before = self.clock.now() - retention;
        self.db
            .transaction(move |conn| {
                Ok(Purged {
                    challenges: repo::purge_challenges(conn, before)?,
                    sessions: repo::purge_sessions(conn, before)?,
                })
            })
            .await
    }

    async fn provision_wallet(
        &self,
        wallet: &str,
        chain_id: u64,
    ) -> Result<(Uuid, bool), AuthError> {
        let address = stored(normalise_address(wallet)?);
        let chain_id =
            i64::try_from(chain_id).map_err(|_| AuthError::UnsupportedChain(chain_id))?;
        let now = self.clock.now();
        self.db
            .transaction(move |conn| {
                if let Some(existing) = repo::find_wallet(conn, &address)? {
                    return Ok((existing.user_id, false));
                }
                let user_id = Uuid::new_v4();
                repo::insert_user(conn, user_id, now)?;
                let row = WalletRow {
                    address,
                    user_id,
                    chain_id,
                    linked_at: now,
                };
                if repo::insert_wallet(conn, &row)? {
                    Ok((user_id, true))
                } else {
                    Err(AuthError::WalletLinkedElsewhere)
                }
            })
            .await
    }
}

fn service_identity(row: ServiceTokenRow) -> ServiceIdentity {
    ServiceIdentity {
        id: row.id,
        name: row.name,
        scopes: row.scopes.into_iter().flatten().collect(),
    }
}

/// `resource:action`, lowercase letters and underscores, e.g. `health:read`.
fn is_valid_scope(scope: &str) -> bool {
    let part = |text: &str| {
        !text.is_empty()
            && text.len() <= 40
            && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    };
    matches!(scope.split_once(':'), Some((resource, action)) if part(resource) && part(action))
}
