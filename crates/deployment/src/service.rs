//! `PgDeploymentService`: loads a deployment, asks the state machine, and stores the decided
//! status with its history row in one transaction; generates and seals the pool's deposit key
//! when the pool step first starts. Owner calls run in the owner's tenant transaction after
//! clone-service confirmed the clone is theirs; chain outcomes run in one named cross-tenant
//! transaction.

use std::str::FromStr;
use std::sync::Arc;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_auth::AccessAdmin;
use clones_clone_service::CloneService;
use clones_db::Db;
use clones_kernel::Clock;
use clones_kernel::page::{Cursor, Page, PageError, PageRequest};
use clones_secrets::{Keyring, SecretsError};
use diesel::PgConnection;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::chain::ReceiptChecker;
use crate::machine::{DeploymentContext, DeploymentEvent, DeploymentStatus, EventKind, transition};
use crate::models::{DeploymentRow, HistoryRow};
use crate::settings::ChainSettings;
use crate::views::{
    Actor, ChainOutcome, ConfirmReport, DeploymentHistoryEntry, DeploymentTransactionView,
    DeploymentView, OwnerAction,
};
use crate::{DEPOSIT_KEY_COLUMN, DeploymentError, DeploymentService, confirm, repo, signing};

/// Longest error text kept (the column's limit).
const MAX_ERROR_CHARS: usize = 2000;

/// The PostgreSQL deployment service.
pub struct PgDeploymentService {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) clones: Arc<dyn CloneService>,
    pub(crate) access: Arc<dyn AccessAdmin>,
    pub(crate) keyring: Option<Arc<Keyring>>,
    pub(crate) chain: Option<ReceiptChecker>,
}

impl std::fmt::Debug for PgDeploymentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDeploymentService")
            .field("keyring", &self.keyring)
            .field("chain", &self.chain.as_ref().map(ReceiptChecker::settings))
            .finish_non_exhaustive()
    }
}

impl PgDeploymentService {
    /// A service over `db`, reading time from `clock`, checking ownership through `clones`
    /// and the owner's wallets through `access`, sealing deposit keys with `keyring` (without
    /// one, the pool step answers `secrets_not_configured`), and building and confirming the
    /// owner's transactions on `chain` (without it, views carry no transaction to sign and
    /// the confirmation check answers `deployment_chain_not_configured`).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        access: Arc<dyn AccessAdmin>,
        keyring: Option<Arc<Keyring>>,
        chain: Option<ChainSettings>,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            access,
            keyring,
            chain: chain.map(ReceiptChecker::new),
        }
    }

    pub(crate) fn chain_settings(&self) -> Option<ChainSettings> {
        self.chain.as_ref().map(|chain| chain.settings().clone())
    }
}

/// Who applies an event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Who {
    pub(crate) actor: Actor,
    pub(crate) user: Option<Uuid>,
}

pub(crate) fn address(text: Option<&str>, field: &str) -> Result<Option<Address>, DeploymentError> {
    text.map(|text| {
        Address::from_str(text)
            .map_err(|_| DeploymentError::Corrupt(format!("{field} is not an address")))
    })
    .transpose()
}

fn stored(address: Option<Address>) -> Option<String> {
    address.map(|address| format!("{address:#x}"))
}

pub(crate) fn status_of(row: &DeploymentRow) -> Result<DeploymentStatus, DeploymentError> {
    DeploymentStatus::parse(&row.status)
        .ok_or_else(|| DeploymentError::Corrupt(format!("unknown status {:?}", row.status)))
}

pub(crate) fn context_of(row: &DeploymentRow) -> Result<DeploymentContext, DeploymentError> {
    Ok(DeploymentContext {
        token_address: address(row.token_address.as_deref(), "token_address")?,
        pool_address: address(row.pool_address.as_deref(), "pool_address")?,
        last_error: row.last_error.clone(),
    })
}

/// The view of a clone's deployment row, with what to sign for a pending signature step when
/// the chain is configured.
pub(crate) fn view(
    clone_id: Uuid,
    row: Option<&DeploymentRow>,
    chain: Option<&ChainSettings>,
) -> Result<DeploymentView, DeploymentError> {
    let Some(row) = row else {
        return Ok(DeploymentView {
            clone_id,
            status: DeploymentStatus::Draft,
            token_address: None,
            pool_address: None,
            deposit_address: None,
            last_error: None,
            created_at: None,
            updated_at: None,
            transaction: None,
        });
    };
    let checksum = |text: Option<&str>, field| {
        address(text, field).map(|address| address.map(|address| address.to_checksum(None)))
    };
    Ok(DeploymentView {
        clone_id,
        status: status_of(row)?,
        token_address: checksum(row.token_address.as_deref(), "token_address")?,
        pool_address: checksum(row.pool_address.as_deref(), "pool_address")?,
        deposit_address: checksum(row.deposit_address.as_deref(), "deposit_address")?,
        last_error: row.last_error.clone(),
        created_at: Some(row.created_at),
        updated_at: Some(row.updated_at),
        transaction: match chain {
            Some(chain) => {
                signing::request(chain, clone_id, status_of(row)?, &context_of(row)?, row)?
            }
            None => None,
        },
    })
}

fn entry(row: HistoryRow) -> Result<DeploymentHistoryEntry, DeploymentError> {
    let status = |text: &str| {
        DeploymentStatus::parse(text)
            .ok_or_else(|| DeploymentError::Corrupt(format!("unknown status {text:?}")))
    };
    Ok(DeploymentHistoryEntry {
        id: row.id,
        seq: row.seq,
        actor: match row.actor.as_str() {
            "owner" => Actor::Owner,
            "system" => Actor::System,
            other => return Err(DeploymentError::Corrupt(format!("unknown actor {other:?}"))),
        },
        actor_user_id: row.actor_user_id,
        event: EventKind::parse(&row.event)
            .ok_or_else(|| DeploymentError::Corrupt(format!("unknown event {:?}", row.event)))?,
        from: status(&row.from_status)?,
        to: status(&row.to_status)?,
        error: row.error,
        at: row.created_at,
    })
}

/// Decides `event` for the locked `row` and stores the outcome and its history row.
pub(crate) fn apply(
    conn: &mut PgConnection,
    mut row: DeploymentRow,
    event: DeploymentEvent,
    who: Who,
    now: DateTime<Utc>,
    keyring: Option<&Keyring>,
) -> Result<DeploymentRow, DeploymentError> {
    let from = status_of(&row)?;
    let decided = transition(from, &context_of(&row)?, event)?;
    // The pool's deposit key is generated once, when the pool step first starts; a retry
    // reuses it, because funds may already have been sent to its address.
    if decided.to == DeploymentStatus::PendingPoolSignature && row.deposit_key.is_none() {
        let keyring = keyring.ok_or(SecretsError::NotConfigured)?;
        let signer = PrivateKeySigner::random();
        let key = Zeroizing::new(signer.to_bytes().0);
        let envelope = clones_secrets::store::seal(
            conn,
            keyring,
            key.as_slice(),
            &DEPOSIT_KEY_COLUMN.location(row.id, Some(row.owner_user_id)),
        )?;
        row.deposit_address = Some(format!("{:#x}", signer.address()));
        row.deposit_key = Some(envelope.into_string());
    }
    row.status = decided.to.as_str().to_string();
    row.token_address = stored(decided.context.token_address);
    row.pool_address = stored(decided.context.pool_address);
    row.last_error = decided.context.last_error.clone();
    row.updated_at = now;
    repo::update(conn, &row)?;
    let seq = repo::next_seq(conn, row.id)?;
    repo::append(
        conn,
        &HistoryRow {
            id: Uuid::new_v4(),
            deployment_id: row.id,
            owner_user_id: row.owner_user_id,
            seq,
            actor: who.actor.as_str().to_string(),
            actor_user_id: who.user,
            event: decided.event.as_str().to_string(),
            from_status: from.as_str().to_string(),
            to_status: decided.to.as_str().to_string(),
            error: if decided.to == DeploymentStatus::Failed {
                decided.context.last_error
            } else {
                None
            },
            created_at: now,
        },
    )?;
    tracing::info!(
        deployment = %row.id,
        clone = %row.clone_id,
        event = decided.event.as_str(),
        from = from.as_str(),
        to = decided.to.as_str(),
        actor = who.actor.as_str(),
        "deployment transition"
    );
    Ok(row)
}

/// A failure's text, trimmed and bounded; refused when empty.
pub(crate) fn error_text(error: &str) -> Result<String, DeploymentError> {
    let trimmed = error.trim();
    if trimmed.is_empty() {
        return Err(DeploymentError::InvalidInput(
            "a failure needs an error text".into(),
        ));
    }
    Ok(trimmed.chars().take(MAX_ERROR_CHARS).collect())
}

#[async_trait]
impl DeploymentService for PgDeploymentService {
    async fn deployment(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<DeploymentView, DeploymentError> {
        self.clones.get_clone(owner, clone_id).await?;
        let chain = self.chain_settings();
        self.db
            .tenant_transaction(owner, move |conn| {
                view(
                    clone_id,
                    repo::find(conn, clone_id)?.as_ref(),
                    chain.as_ref(),
                )
            })
            .await
    }

    async fn history(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<DeploymentHistoryEntry>, DeploymentError> {
        self.clones.get_clone(owner, clone_id).await?;
        self.db
            .tenant_transaction(owner, move |conn| {
                let Some(deployment) = repo::find(conn, clone_id)? else {
                    if page.cursor().is_some() {
                        return Err(PageError::MalformedCursor.into());
                    }
                    return Ok(Page {
                        items: Vec::new(),
                        next_cursor: None,
                    });
                };
                // Transitions written in one instant keep their order: the list is ordered by
                // seq, and the cursor names the page's last entry by its time and id.
                let after = match page.cursor() {
                    None => None,
                    Some(cursor) => Some(
                        repo::position(conn, deployment.id, cursor.id())?
                            .filter(|(at, _)| Cursor::new(*at, cursor.id()) == cursor)
                            .map(|(_, seq)| seq)
                            .ok_or(PageError::MalformedCursor)?,
                    ),
                };
                let rows = repo::page(conn, deployment.id, after, page.fetch_limit())?;
                Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                    .try_map(entry)
            })
            .await
    }

    async fn act(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        action: OwnerAction,
    ) -> Result<DeploymentView, DeploymentError> {
        self.clones.get_clone(owner, clone_id).await?;
        let event = match action {
            OwnerAction::Initiate => DeploymentEvent::InitiateDeployment,
            OwnerAction::InitiatePool => DeploymentEvent::InitiatePoolCreation,
            OwnerAction::Cancel => DeploymentEvent::Cancel,
            OwnerAction::Retry => DeploymentEvent::Retry,
            OwnerAction::Deactivate => DeploymentEvent::Deactivate,
            OwnerAction::Archive => DeploymentEvent::Archive,
        };
        let now = self.clock.now();
        let keyring = self.keyring.clone();
        let chain = self.chain_settings();
        self.db
            .tenant_transaction(owner, move |conn| {
                // A clone that never started has no row: it is a draft. The row is created
                // here and rolls back with a refused event, so refusals write nothing.
                repo::insert_if_absent(
                    conn,
                    &DeploymentRow {
                        id: Uuid::new_v4(),
                        clone_id,
                        owner_user_id: owner,
                        status: DeploymentStatus::Draft.as_str().to_string(),
                        token_address: None,
                        pool_address: None,
                        deposit_address: None,
                        deposit_key: None,
                        last_error: None,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                let row = repo::lock(conn, clone_id)?.ok_or(DeploymentError::NotFound)?;
                let who = Who {
                    actor: Actor::Owner,
                    user: Some(owner),
                };
                let row = apply(conn, row, event, who, now, keyring.as_deref())?;
                view(clone_id, Some(&row), chain.as_ref())
            })
            .await
    }

    async fn record_outcome(
        &self,
        clone_id: Uuid,
        outcome: ChainOutcome,
    ) -> Result<DeploymentView, DeploymentError> {
        let event = match outcome {
            ChainOutcome::TokenCreated { token_address } => {
                DeploymentEvent::TokenCreationSuccess { token_address }
            }
            ChainOutcome::PoolCreated { pool_address } => {
                DeploymentEvent::PoolCreationSuccess { pool_address }
            }
            ChainOutcome::Failed { error } => DeploymentEvent::Fail {
                error: error_text(&error)?,
            },
        };
        let now = self.clock.now();
        let keyring = self.keyring.clone();
        let chain = self.chain_settings();
        self.db
            .cross_tenant_transaction("deployment: chain outcome", move |conn| {
                let row = repo::lock(conn, clone_id)?.ok_or(DeploymentError::NotFound)?;
                let who = Who {
                    actor: Actor::System,
                    user: None,
                };
                let row = apply(conn, row, event, who, now, keyring.as_deref())?;
                view(clone_id, Some(&row), chain.as_ref())
            })
            .await
    }

    async fn submit_transaction(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        tx_hash: &str,
    ) -> Result<DeploymentTransactionView, DeploymentError> {
        confirm::submit(self, owner, clone_id, tx_hash).await
    }

    async fn confirm_pending(&self, limit: u32) -> Result<ConfirmReport, DeploymentError> {
        confirm::confirm_pending(self, limit).await
    }

    async fn pool_deposit_signer(
        &self,
        clone_id: Uuid,
    ) -> Result<Option<PrivateKeySigner>, DeploymentError> {
        let keyring = self.keyring.clone().ok_or(SecretsError::NotConfigured)?;
        self.db
            .cross_tenant_transaction("deployment: pool deposit key", move |conn| {
                let Some(row) = repo::find(conn, clone_id)? else {
                    return Ok(None);
                };
                let Some(expected) = address(row.deposit_address.as_deref(), "deposit_address")?
                else {
                    return Ok(None);
                };
                // Reading migrates a key stored under an older version in this transaction.
                let key = DEPOSIT_KEY_COLUMN
                    .read(conn, &keyring, row.id)?
                    .ok_or_else(|| DeploymentError::Corrupt("deposit key missing".into()))?;
                let signer = PrivateKeySigner::from_slice(key.expose())
                    .map_err(|_| DeploymentError::Corrupt("deposit key is not a key".into()))?;
                if signer.address() != expected {
                    return Err(DeploymentError::Corrupt(
                        "deposit key does not match its address".into(),
                    ));
                }
                Ok(Some(signer))
            })
            .await
    }
}
