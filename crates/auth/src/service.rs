//! [`AuthService`] over PostgreSQL: sign-in, sessions and refresh rotation, security events.
//!
//! The trait lives in the crate root and its values in `views`; this module holds the rules and
//! the transaction boundaries, and touches tables only through the repository.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::Address;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Cursor, Page, PageRequest};
use diesel::PgConnection;
use uuid::Uuid;

use crate::models::{
    ChallengePurpose, ChallengeRow, RefreshTokenRow, SecurityEventRow, SessionRow, WalletRow,
};
use crate::siwe::{self, SiweMessage};
use crate::tokens::{self, AccessClaims, AccessTokens};
use crate::{
    AuthError, AuthService, Challenge, Me, SecurityEvent, SignedIn, TokenPair, Wallet, repo,
    signature,
};

/// How sign-in behaves; loaded once from configuration.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The domain (authority) messages are bound to, e.g. `app.example.com`.
    pub siwe_domain: String,
    /// The URI messages are bound to, e.g. `https://app.example.com`.
    pub siwe_uri: String,
    /// The statement shown in sign-in messages.
    pub siwe_statement: String,
    /// Chains a wallet may sign in from.
    pub allowed_chain_ids: Vec<u64>,
    /// How long a challenge can be signed and verified.
    pub challenge_ttl: Duration,
    /// Issuer and validator of access tokens.
    pub access_tokens: AccessTokens,
    /// How long a refresh token stays usable.
    pub refresh_ttl: Duration,
    /// The absolute lifetime of a session, however often it is refreshed.
    pub session_max_age: Duration,
    /// JSON-RPC endpoints per chain id, for ERC-1271 contract-wallet signatures.
    pub chain_rpc_urls: HashMap<u64, url::Url>,
}

/// [`AuthService`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAuthService {
    db: Db,
    clock: Arc<dyn Clock>,
    settings: Arc<AuthSettings>,
}

/// Normalises an address to the stored lowercase form.
pub(crate) fn normalise_address(raw: &str) -> Result<Address, AuthError> {
    siwe::parse_address(raw.trim()).map_err(|error| AuthError::InvalidAddress(error.0))
}

pub(crate) fn stored(address: Address) -> String {
    format!("{address:#x}")
}

fn checksummed(stored_address: &str) -> String {
    stored_address
        .parse::<Address>()
        .map(|address| address.to_checksum(None))
        .unwrap_or_else(|_| stored_address.to_string())
}

fn wallet_view(row: WalletRow) -> Wallet {
    Wallet {
        address: checksummed(&row.address),
        chain_id: u64::try_from(row.chain_id).unwrap_or_default(),
        linked_at: row.linked_at,
    }
}

fn chain_id_i64(chain_id: u64) -> Result<i64, AuthError> {
    i64::try_from(chain_id).map_err(|_| AuthError::UnsupportedChain(chain_id))
}

fn security_event(
    user_id: Uuid,
    kind: &str,
    session_id: Option<Uuid>,
    detail: serde_json::Value,
    at: DateTime<Utc>,
) -> SecurityEventRow {
    SecurityEventRow {
        id: Uuid::new_v4(),
        user_id,
        kind: kind.to_string(),
        session_id,
        detail,
        created_at: at,
    }
}

/// Scopes the rest of the caller's transaction to `user_id` for row-level security.
fn act_for(conn: &mut PgConnection, user_id: Uuid) -> Result<(), AuthError> {
    clones_db::set_scope(conn, clones_db::Scope::Tenant(user_id)).map_err(AuthError::from)
}

/// A verified message, ready to be committed.
struct Verified {
    message: SiweMessage,
    challenge: ChallengeRow,
}

enum RefreshOutcome {
    Rotated(TokenPair),
    Reused { session_id: Uuid, user_id: Uuid },
}

impl PgAuthService {
    /// A service over `db`, reading time from `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: AuthSettings) -> Self {
        Self {
            db,
            clock,
            settings: Arc::new(settings),
        }
    }

    async fn issue_challenge(
        &self,
        purpose: ChallengePurpose,
        requested_by: Option<Uuid>,
        address: &str,
        chain_id: u64,
    ) -> Result<Challenge, AuthError> {
        let address = normalise_address(address)?;
        if !self.settings.allowed_chain_ids.contains(&chain_id) {
            return Err(AuthError::UnsupportedChain(chain_id));
        }
        let issued_at = self.clock.now();
        let expires_at = issued_at + self.settings.challenge_ttl;
        let statement = match purpose {
            ChallengePurpose::SignIn => self.settings.siwe_statement.clone(),
            ChallengePurpose::LinkWallet => "Link this wallet to your account.".to_string(),
        };
        let message = SiweMessage {
            scheme: None,
            domain: self.settings.siwe_domain.clone(),
            address,
            statement: Some(statement),
            uri: self.settings.siwe_uri.clone(),
            version: "1".into(),
            chain_id,
            nonce: siwe::generate_nonce(),
            issued_at: issued_at.into(),
            expiration_time: Some(expires_at.into()),
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        };
        let row = ChallengeRow {
            nonce: message.nonce.clone(),
            purpose: purpose.as_str().into(),
            address: stored(address),
            chain_id: chain_id_i64(chain_id)?,
            requested_by,
            message: message.to_string(),
            issued_at,
            expires_at,
            consumed_at: None,
        };
        let challenge = Challenge {
            message: row.message.clone(),
            nonce: row.nonce.clone(),
            expires_at,
        };
        self.db
            .run(move |conn| repo::insert_challenge(conn, &row).map_err(AuthError::from))
            .await?;
        Ok(challenge)
    }

    /// Every check that does not change state: message shape and binding, time window, the
    /// challenge it answers, and the signature.
    async fn verify_message(
        &self,
        text: &str,
        signature_text: &str,
        purpose: ChallengePurpose,
        requested_by: Option<Uuid>,
    ) -> Result<Verified, AuthError> {
        let message: SiweMessage = text
            .parse()
            .map_err(|error: siwe::ParseError| AuthError::MalformedMessage(error.to_string()))?;
        let signature_bytes = signature::decode_signature(signature_text)?;
        if message.domain != self.settings.siwe_domain || message.scheme.is_some() {
            return Err(AuthError::DomainMismatch(message.domain));
        }
        if message.uri != self.settings.siwe_uri {
            return Err(AuthError::UriMismatch(message.uri));
        }
        if !self.settings.allowed_chain_ids.contains(&message.chain_id) {
            return Err(AuthError::ChainMismatch);
        }
        let now = self.clock.now();
        if message
            .expiration_time
            .as_ref()
            .is_some_and(|at| now >= at.at())
        {
            return Err(AuthError::MessageExpired);
        }
        if message.not_before.as_ref().is_some_and(|at| now < at.at()) {
            return Err(AuthError::MessageNotYetValid);
        }
        let nonce = message.nonce.clone();
        let challenge = self
            .db
            .run(move |conn| repo::find_challenge(conn, &nonce).map_err(AuthError::from))
            .await?
            .ok_or(AuthError::UnknownNonce)?;
        if challenge.consumed_at.is_some() {
            return Err(AuthError::NonceAlreadyUsed);
        }
        if challenge.chain_id != chain_id_i64(message.chain_id)? {
            return Err(AuthError::ChainMismatch);
        }
        if challenge.message != text {
            return Err(AuthError::MessageMismatch);
        }
        if now >= challenge.expires_at {
            return Err(AuthError::MessageExpired);
        }
        if challenge.purpose != purpose.as_str() || challenge.requested_by != requested_by {
            return Err(AuthError::WrongChallenge);
        }
        let rpc_url = self.settings.chain_rpc_urls.get(&message.chain_id);
        signature::verify_personal_signature(text, message.address, &signature_bytes, rpc_url)
            .await?;
        Ok(Verified { message, challenge })
    }

    fn new_session_tokens(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        wallet_address: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AuthError> {
        let session = SessionRow {
            id: Uuid::new_v4(),
            user_id,
            wallet_address: wallet_address.to_string(),
            created_at: now,
            last_refreshed_at: now,
            expires_at: now + self.settings.session_max_age,
            revoked_at: None,
            revoked_reason: None,
        };
        repo::insert_session(conn, &session)?;
        self.rotate_into(conn, &session, 0, now)
    }

    /// Inserts refresh token `generation` for the session and signs an access token.
    fn rotate_into(
        &self,
        conn: &mut PgConnection,
        session: &SessionRow,
        generation: i32,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AuthError> {
        let refresh_token = tokens::new_refresh_token();
        let refresh_expires_at = (now + self.settings.refresh_ttl).min(session.expires_at);
        repo::insert_refresh_token(
            conn,
            &RefreshTokenRow {
                token_hash: tokens::token_hash(&refresh_token),
                session_id: session.id,
                generation,
                issued_at: now,
                expires_at: refresh_expires_at,
                used_at: None,
            },
        )?;
        let (access_token, access_expires_at) =
            self.settings
                .access_tokens
                .issue(session.user_id, session.id, now)?;
        Ok(TokenPair {
            user_id: session.user_id,
            session_id: session.id,
            access_token,
            access_token_expires_at: access_expires_at,
            refresh_token,
            refresh_token_expires_at: refresh_expires_at,
        })
    }
}

/// Consumes the challenge inside the caller's transaction; losing a race is a used nonce.
fn consume(conn: &mut PgConnection, nonce: &str, at: DateTime<Utc>) -> Result<(), AuthError> {
    if repo::consume_challenge(conn, nonce, at)? {
        Ok(())
    } else {
        Err(AuthError::NonceAlreadyUsed)
    }
}

#[async_trait]
impl AuthService for PgAuthService {
    async fn sign_in_challenge(
        &self,
        address: &str,
        chain_id: u64,
    ) -> Result<Challenge, AuthError> {
        self.issue_challenge(ChallengePurpose::SignIn, None, address, chain_id)
            .await
    }

    async fn verify_sign_in(&self, message: &str, signature: &str) -> Result<SignedIn, AuthError> {
        let Verified { message, challenge } = self
            .verify_message(message, signature, ChallengePurpose::SignIn, None)
            .await?;
        let now = self.clock.now();
        let service = self.clone();
        self.db
            .transaction(move |conn| {
                consume(conn, &challenge.nonce, now)?;
                let address = stored(message.address);
                let (user_id, new_user) = match repo::find_wallet(conn, &address)? {
                    Some(wallet) => (wallet.user_id, false),
                    None => {
                        let user_id = Uuid::new_v4();
                        repo::insert_user(conn, user_id, now)?;
                        let wallet = WalletRow {
                            address: address.clone(),
                            user_id,
                            chain_id: challenge.chain_id,
                            linked_at: now,
                        };
                        if repo::insert_wallet(conn, &wallet)? {
                            (user_id, true)
                        } else {
                            // A concurrent first sign-in of the same wallet created the user.
                            repo::delete_user(conn, user_id)?;
                            let winner = repo::find_wallet(conn, &address)?
                                .ok_or_else(|| AuthError::Internal("wallet vanished".into()))?;
                            (winner.user_id, false)
                        }
                    }
                };
                let tokens = service.new_session_tokens(conn, user_id, &address, now)?;
                act_for(conn, user_id)?;
                repo::insert_security_event(
                    conn,
                    &security_event(
                        user_id,
                        "sign_in",
                        Some(tokens.session_id),
                        serde_json::json!({ "address": checksummed(&address), "new_user": new_user }),
                        now,
                    ),
                )?;
                Ok(SignedIn { tokens, new_user })
            })
            .await
    }

    async fn link_challenge(
        &self,
        user_id: Uuid,
        address: &str,
        chain_id: u64,
    ) -> Result<Challenge, AuthError> {
        self.issue_challenge(
            ChallengePurpose::LinkWallet,
            Some(user_id),
            address,
            chain_id,
        )
        .await
    }

    async fn link_wallet(
        &self,
        user_id: Uuid,
        message: &str,
        signature: &str,
    ) -> Result<Wallet, AuthError> {
        let Verified { message, challenge } = self
            .verify_message(
                message,
                signature,
                ChallengePurpose::LinkWallet,
                Some(user_id),
            )
            .await?;
        let now = self.clock.now();
        self.db
            .transaction(move |conn| {
                consume(conn, &challenge.nonce, now)?;
                let address = stored(message.address);
                let wallet = WalletRow {
                    address: address.clone(),
                    user_id,
                    chain_id: challenge.chain_id,
                    linked_at: now,
                };
                if !repo::insert_wallet(conn, &wallet)? {
                    let existing = repo::find_wallet(conn, &address)?
                        .ok_or_else(|| AuthError::Internal("wallet vanished".into()))?;
                    if existing.user_id != user_id {
                        return Err(AuthError::WalletLinkedElsewhere);
                    }
                    return Ok(wallet_view(existing));
                }
                act_for(conn, user_id)?;
                repo::insert_security_event(
                    conn,
                    &security_event(
                        user_id,
                        "wallet_linked",
                        None,
                        serde_json::json!({ "address": checksummed(&address) }),
                        now,
                    ),
                )?;
                Ok(wallet_view(wallet))
            })
            .await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        let hash = tokens::token_hash(refresh_token);
        let now = self.clock.now();
        let service = self.clone();
        let outcome = self
            .db
            .transaction(move |conn| {
                let Some(used) = repo::use_refresh_token(conn, &hash, now)? else {
                    let known = repo::find_refresh_token(conn, &hash)?
                        .ok_or(AuthError::InvalidRefreshToken)?;
                    if known.used_at.is_none() {
                        return Err(AuthError::InvalidRefreshToken);
                    }
                    // A spent token came back: whoever holds it may have stolen it, so the
                    // whole family ends. This is committed even though the caller gets an error.
                    let session = repo::find_session(conn, known.session_id)?
                        .ok_or(AuthError::InvalidRefreshToken)?;
                    repo::revoke_session(conn, session.id, "refresh_reuse", now)?;
                    act_for(conn, session.user_id)?;
                    repo::insert_security_event(
                        conn,
                        &security_event(
                            session.user_id,
                            "refresh_reuse_detected",
                            Some(session.id),
                            serde_json::json!({ "generation": known.generation }),
                            now,
                        ),
                    )?;
                    return Ok(RefreshOutcome::Reused {
                        session_id: session.id,
                        user_id: session.user_id,
                    });
                };
                let session = repo::find_session(conn, used.session_id)?
                    .ok_or(AuthError::InvalidRefreshToken)?;
                if session.revoked_at.is_some() || session.expires_at <= now {
                    return Err(AuthError::SessionEnded);
                }
                repo::touch_session(conn, session.id, now)?;
                let pair = service.rotate_into(conn, &session, used.generation + 1, now)?;
                Ok(RefreshOutcome::Rotated(pair))
            })
            .await?;
        match outcome {
            RefreshOutcome::Rotated(pair) => Ok(pair),
            RefreshOutcome::Reused {
                session_id,
                user_id,
            } => {
                tracing::warn!(
                    security_event = "refresh_reuse_detected",
                    %session_id,
                    %user_id,
                    "refresh token reused; session family revoked"
                );
                Err(AuthError::RefreshTokenReused)
            }
        }
    }

    fn authenticate(&self, access_token: &str) -> Result<AccessClaims, AuthError> {
        self.settings
            .access_tokens
            .validate(access_token, self.clock.now())
    }

    async fn logout(&self, user_id: Uuid, session_id: Uuid) -> Result<(), AuthError> {
        let now = self.clock.now();
        self.db
            .transaction(move |conn| {
                let session = repo::find_session(conn, session_id)?
                    .filter(|session| session.user_id == user_id)
                    .ok_or(AuthError::NotFound)?;
                if repo::revoke_session(conn, session.id, "logout", now)? {
                    act_for(conn, user_id)?;
                    repo::insert_security_event(
                        conn,
                        &security_event(
                            user_id,
                            "logout",
                            Some(session_id),
                            serde_json::json!({}),
                            now,
                        ),
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn logout_all(&self, user_id: Uuid) -> Result<usize, AuthError> {
        let now = self.clock.now();
        self.db
            .transaction(move |conn| {
                let revoked = repo::revoke_sessions_of(conn, user_id, "logout_all", now)?;
                act_for(conn, user_id)?;
                repo::insert_security_event(
                    conn,
                    &security_event(
                        user_id,
                        "logout_all",
                        None,
                        serde_json::json!({ "sessions_revoked": revoked }),
                        now,
                    ),
                )?;
                Ok(revoked)
            })
            .await
    }

    async fn me(&self, user_id: Uuid) -> Result<Me, AuthError> {
        self.db
            .run(move |conn| {
                let account = repo::account_of(conn, user_id)?.ok_or(AuthError::NotFound)?;
                Ok(Me {
                    user_id,
                    created_at: account.created_at,
                    wallets: account.wallets.into_iter().map(wallet_view).collect(),
                    roles: account.roles,
                })
            })
            .await
    }

    async fn security_events(
        &self,
        user_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<SecurityEvent>, AuthError> {
        let rows = self
            .db
            .tenant_transaction(user_id, move |conn| {
                repo::recent_security_events(conn, &page).map_err(AuthError::from)
            })
            .await?;
        Ok(
            Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id)).map(|row| {
                SecurityEvent {
                    id: row.id,
                    kind: row.kind,
                    session_id: row.session_id,
                    detail: row.detail,
                    created_at: row.created_at,
                }
            }),
        )
    }
}
