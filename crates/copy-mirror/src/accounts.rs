//! Per-tenant CLOB wallets: the platform generates each tenant's secp256k1 key, seals it with
//! clones-secrets in `copy_trade_clob_accounts`, has the CLOB mint the wallet's L2 API
//! credentials with L1 auth (create, or derive when they exist) and seals their secret and
//! passphrase beside it. [`PgClobAccounts`] is the [`ClobAccounts`] the live executor trades
//! through in `tenant` mode: each tenant's own wallet, opened in that tenant's transaction.
//!
//! Keys and credentials are opened only here, only inside the owner's transaction (row-level
//! security applies), and never leave as anything but a signer and a client. Nothing here
//! reads across tenants.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use async_trait::async_trait;
use clones_db::Db;
use clones_kernel::Clock;
use clones_secrets::{Keyring, LegacyPlaintext, SecretBytes, SecretColumn, SecretsError};
use uuid::Uuid;

use crate::CopyTradeError;
use crate::clob::{
    ApiCredentials, ClobAccount, ClobAccounts, ClobClient, ClobSettings, OrderSigner, Wallet,
};
use crate::executor::ExecError;
use crate::models::ClobAccountRow;
use crate::repo::{self, SealedCredentials};
use crate::views::ClobAccountView;

/// A tenant wallet's private key: 32-byte secp256k1 keys sealed for
/// (`copy_trade_clob_accounts`, `private_key`, row id, owner). Encrypted from its first row.
pub const CLOB_PRIVATE_KEY_COLUMN: SecretColumn = SecretColumn {
    table: "copy_trade_clob_accounts",
    column: "private_key",
    id_column: "id",
    tenant_column: Some("owner_user_id"),
    legacy: LegacyPlaintext::Refuse,
};

/// A tenant wallet's L2 API secret (base64url text), sealed like the key.
pub const CLOB_API_SECRET_COLUMN: SecretColumn = SecretColumn {
    table: "copy_trade_clob_accounts",
    column: "api_secret",
    id_column: "id",
    tenant_column: Some("owner_user_id"),
    legacy: LegacyPlaintext::Refuse,
};

/// A tenant wallet's L2 API passphrase, sealed like the key.
pub const CLOB_API_PASSPHRASE_COLUMN: SecretColumn = SecretColumn {
    table: "copy_trade_clob_accounts",
    column: "api_passphrase",
    id_column: "id",
    tenant_column: Some("owner_user_id"),
    legacy: LegacyPlaintext::Refuse,
};

/// The columns this module seals, for `clones_wiring::secret_columns()`.
pub const SECRET_COLUMNS: [SecretColumn; 3] = [
    CLOB_PRIVATE_KEY_COLUMN,
    CLOB_API_SECRET_COLUMN,
    CLOB_API_PASSPHRASE_COLUMN,
];

/// The L1 nonce the platform's wallets mint their one set of credentials with.
const API_KEY_NONCE: u64 = 0;

/// A tenant's wallet opened in its transaction: the signer and, once minted, its credentials.
struct Opened {
    id: Uuid,
    signer: PrivateKeySigner,
    credentials: Option<ApiCredentials>,
}

/// Tenant CLOB wallets over PostgreSQL, each opened once and kept per owner in memory.
pub struct PgClobAccounts {
    db: Db,
    clock: Arc<dyn Clock>,
    keyring: Option<Arc<Keyring>>,
    venue: ClobSettings,
    cache: Mutex<HashMap<Uuid, Arc<ClobAccount>>>,
}

impl std::fmt::Debug for PgClobAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgClobAccounts")
            .field("venue", &self.venue)
            .field("keyring", &self.keyring.is_some())
            .finish_non_exhaustive()
    }
}

/// The owner's wallet, as its view (no secret opened).
pub(crate) fn view_of(row: &ClobAccountRow) -> ClobAccountView {
    ClobAccountView {
        address: row.address.clone(),
        credentials_ready: row.api_key.is_some(),
        created_at: row.created_at,
    }
}

fn text(bytes: &SecretBytes, what: &str) -> Result<String, CopyTradeError> {
    bytes
        .expose_str()
        .map(str::to_string)
        .map_err(|_| CopyTradeError::Corrupt(format!("CLOB {what} is not text")))
}

impl PgClobAccounts {
    /// Tenant wallets sealed with `keyring` (without one, creating and opening a wallet
    /// answer `secrets_not_configured`) on the CLOB at `venue`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        keyring: Option<Arc<Keyring>>,
        venue: ClobSettings,
    ) -> Self {
        Self {
            db,
            clock,
            keyring,
            venue,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn keyring(&self) -> Result<Arc<Keyring>, CopyTradeError> {
        Ok(self.keyring.clone().ok_or(SecretsError::NotConfigured)?)
    }

    fn client(&self, signer: &PrivateKeySigner) -> Result<ClobClient, CopyTradeError> {
        Ok(ClobClient::new(
            self.venue.clone(),
            signer.clone(),
            self.clock.clone(),
        )?)
    }

    /// Creates the owner's wallet, or returns the one it has (`false`), and has the CLOB mint
    /// its credentials when it has none yet. A CLOB that cannot be reached leaves them for the
    /// first use.
    pub(crate) async fn create(
        &self,
        owner: Uuid,
    ) -> Result<(ClobAccountView, bool), CopyTradeError> {
        let keyring = self.keyring()?;
        let signer = PrivateKeySigner::random();
        let address = format!("{:#x}", signer.address());
        let key = SecretBytes::new(signer.to_bytes().to_vec());
        let now = self.clock.now();
        let (row, created) = self
            .db
            .tenant_transaction(owner, move |conn| {
                if let Some(existing) = repo::clob_account(conn, owner)? {
                    return Ok::<_, CopyTradeError>((existing, false));
                }
                let id = Uuid::new_v4();
                let sealed = clones_secrets::store::seal(
                    conn,
                    &keyring,
                    key.expose(),
                    &CLOB_PRIVATE_KEY_COLUMN.location(id, Some(owner)),
                )?;
                let row = ClobAccountRow {
                    id,
                    owner_user_id: owner,
                    address,
                    private_key: sealed.into_string(),
                    api_key: None,
                    api_secret: None,
                    api_passphrase: None,
                    created_at: now,
                    updated_at: now,
                    positions_checked_at: None,
                    positions_tokens: None,
                    positions_mismatched: None,
                    positions_max_difference: None,
                    positions_max_token: None,
                };
                if repo::insert_clob_account(conn, &row)? {
                    return Ok((row, true));
                }
                // A concurrent create won: its wallet is the tenant's.
                let existing = repo::clob_account(conn, owner)?.ok_or_else(|| {
                    CopyTradeError::Corrupt("CLOB account vanished after a conflict".into())
                })?;
                Ok((existing, false))
            })
            .await?;
        let mut account = view_of(&row);
        if !account.credentials_ready {
            match self.open(owner).await? {
                Some(opened) => {
                    account.credentials_ready = self.mint(owner, &opened).await?.is_some();
                }
                None => return Err(CopyTradeError::ClobAccountNotFound),
            }
        }
        Ok((account, created))
    }

    /// Opens the owner's wallet in its transaction; `None` when it has none.
    async fn open(&self, owner: Uuid) -> Result<Option<Opened>, CopyTradeError> {
        let keyring = self.keyring()?;
        self.db
            .tenant_transaction(owner, move |conn| {
                let Some(row) = repo::clob_account(conn, owner)? else {
                    return Ok(None);
                };
                // Reading migrates a value stored under an older key in this transaction.
                let key = CLOB_PRIVATE_KEY_COLUMN
                    .read(conn, &keyring, row.id)?
                    .ok_or_else(|| CopyTradeError::Corrupt("CLOB key missing".into()))?;
                let signer = PrivateKeySigner::from_slice(key.expose())
                    .map_err(|_| CopyTradeError::Corrupt("CLOB key is not a key".into()))?;
                let expected: Address = row
                    .address
                    .parse()
                    .map_err(|_| CopyTradeError::Corrupt("CLOB address".into()))?;
                if signer.address() != expected {
                    return Err(CopyTradeError::Corrupt(
                        "CLOB key does not match its address".into(),
                    ));
                }
                let credentials = match row.api_key.clone() {
                    Some(api_key) => {
                        let secret = CLOB_API_SECRET_COLUMN
                            .read(conn, &keyring, row.id)?
                            .ok_or_else(|| CopyTradeError::Corrupt("CLOB secret missing".into()))?;
                        let passphrase = CLOB_API_PASSPHRASE_COLUMN
                            .read(conn, &keyring, row.id)?
                            .ok_or_else(|| {
                            CopyTradeError::Corrupt("CLOB passphrase missing".into())
                        })?;
                        Some(ApiCredentials::new(
                            api_key,
                            text(&secret, "secret")?,
                            text(&passphrase, "passphrase")?,
                        ))
                    }
                    None => None,
                };
                Ok(Some(Opened {
                    id: row.id,
                    signer,
                    credentials,
                }))
            })
            .await
    }

    /// Has the CLOB mint (or derive) the wallet's credentials and stores them sealed; `None`
    /// when the CLOB could not be asked now (logged; the next use asks again).
    async fn mint(
        &self,
        owner: Uuid,
        opened: &Opened,
    ) -> Result<Option<ApiCredentials>, CopyTradeError> {
        let client = self.client(&opened.signer)?;
        let minted = match client.create_or_derive_api_key(API_KEY_NONCE).await {
            Ok(minted) => minted,
            Err(error) => {
                tracing::warn!(%owner, %error, "CLOB API credentials not minted yet; the next use retries");
                return Ok(None);
            }
        };
        let keyring = self.keyring()?;
        let (id, now) = (opened.id, self.clock.now());
        let stored = minted.clone();
        let kept = self
            .db
            .tenant_transaction(owner, move |conn| {
                let seal = |conn: &mut diesel::PgConnection, column: &SecretColumn, value: &str| {
                    clones_secrets::store::seal(
                        conn,
                        &keyring,
                        value.as_bytes(),
                        &column.location(id, Some(owner)),
                    )
                    .map(|envelope| envelope.into_string())
                };
                let secret = seal(conn, &CLOB_API_SECRET_COLUMN, stored.secret.expose())?;
                let passphrase = seal(
                    conn,
                    &CLOB_API_PASSPHRASE_COLUMN,
                    stored.passphrase.expose(),
                )?;
                Ok::<_, CopyTradeError>(repo::set_clob_credentials(
                    conn,
                    id,
                    &SealedCredentials {
                        api_key: &stored.api_key,
                        secret: &secret,
                        passphrase: &passphrase,
                    },
                    now,
                )?)
            })
            .await?;
        if kept {
            return Ok(Some(minted));
        }
        // Another process stored them first: use what is stored.
        Ok(self
            .open(owner)
            .await?
            .and_then(|opened| opened.credentials))
    }

    /// The owner's wallet as a trading account, minting its credentials first when it has
    /// none; `None` when the owner has no wallet.
    async fn load(&self, owner: Uuid) -> Result<Option<Arc<ClobAccount>>, CopyTradeError> {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|cache| cache.get(&owner).cloned());
        if let Some(account) = cached {
            return Ok(Some(account));
        }
        let Some(opened) = self.open(owner).await? else {
            return Ok(None);
        };
        let credentials = match opened.credentials.clone() {
            Some(credentials) => credentials,
            None => self
                .mint(owner, &opened)
                .await?
                .ok_or_else(|| CopyTradeError::Clob(crate::clob::ClobError::NoCredentials))?,
        };
        let account = Arc::new(ClobAccount {
            client: self.client(&opened.signer)?.with_credentials(credentials),
            signer: OrderSigner::new(opened.signer, Wallet::Eoa, self.venue.chain_id),
        });
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(owner, account.clone());
        }
        Ok(Some(account))
    }
}

#[async_trait]
impl ClobAccounts for PgClobAccounts {
    async fn account(&self, owner: Uuid) -> Result<Option<Arc<ClobAccount>>, ExecError> {
        self.load(owner).await.map_err(|error| {
            tracing::warn!(%owner, %error, "tenant CLOB account not usable now");
            ExecError::NotSent(format!("tenant CLOB account not usable: {error}"))
        })
    }
}
