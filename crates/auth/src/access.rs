//! Access administration: roles, service tokens and housekeeping of expired identity rows.
//!
//! Kept apart from [`crate::AuthService`] because it needs no sign-in settings: workers and the
//! operator CLI use it with nothing but a database and a clock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_db::Db;
use clones_kernel::Clock;
use uuid::Uuid;

use crate::models::{RoleRow, ServiceTokenRow, WalletRow};
use crate::service::{normalise_address, stored};
use crate::{
    AccessAdmin, AuthError, MintedServiceToken, Purged, ServiceIdentity, ServiceTokenInfo, repo,
    tokens,
};

/// The role that may use admin routes.
pub const ADMIN_ROLE: &str = "admin";

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
