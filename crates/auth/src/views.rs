//! The identity context's public values: what sign-in, sessions, security logs and service
//! tokens hand to callers.
//!
//! Plain data with `serde` and `utoipa` derives so the web layer can serve and document them;
//! no database access and no rules beyond scope checks on a service identity.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::AuthError;

/// A challenge for a wallet to sign.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    /// The exact EIP-4361 text to sign.
    pub message: String,
    /// The single-use nonce inside the message.
    pub nonce: String,
    /// When the challenge stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Access and refresh tokens for a session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    /// The user signed in.
    pub user_id: Uuid,
    /// The session (refresh-token family).
    pub session_id: Uuid,
    /// A short-lived JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// An opaque single-use token for `POST /auth/refresh`.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime<Utc>,
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// The new session's tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// True when this sign-in created the user.
    pub new_user: bool,
}

/// A wallet as shown to its owner.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Wallet {
    /// EIP-55 checksummed address.
    pub address: String,
    /// The chain the wallet proved control on.
    pub chain_id: u64,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

/// The signed-in user's own view of their account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// The user id.
    pub user_id: Uuid,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Linked wallets, oldest first.
    pub wallets: Vec<Wallet>,
    /// Roles held, e.g. `admin`.
    pub roles: Vec<String>,
}

/// An entry of the user's security log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEvent {
    /// The event id.
    pub id: Uuid,
    /// What happened: `sign_in`, `wallet_linked`, `refresh_reuse_detected`, `logout`,
    /// `logout_all`.
    pub kind: String,
    /// The session concerned, if any.
    pub session_id: Option<Uuid>,
    /// Details (addresses, counts).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

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
