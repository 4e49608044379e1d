//! Secret-custody failures, each with a stable machine code. None of them carries a key or a
//! plaintext: messages name versions, tables, columns and rows only.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind};

/// A secret-custody failure. [`DomainError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No keyring is configured (`SECRETS_MASTER_KEY` and `SECRETS_SALT` unset), so nothing
    /// can be encrypted or decrypted.
    #[error("secret encryption is not configured")]
    NotConfigured,
    /// A setting is unusable; the message names the setting, never its value.
    #[error("invalid secrets settings: {0}")]
    InvalidSettings(String),
    /// A stored envelope names a key version this process was not given.
    #[error("no key for secret key version {0}")]
    UnknownVersion(u32),
    /// A stored value starts like an envelope but does not parse as one.
    #[error("malformed secret envelope: {0}")]
    Malformed(&'static str),
    /// Authentication failed: wrong key, tampered ciphertext, nonce or tag, or a ciphertext
    /// moved to another row, column, table or tenant.
    #[error("a secret could not be decrypted (wrong key or location, or tampered)")]
    Decryption,
    /// A plaintext was found in a column that never held plaintexts.
    #[error("plaintext found in {table}.{column}, which accepts only envelopes")]
    PlaintextRefused {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A key version reached its nonce budget; rotate to a new version.
    #[error("secret key version {version} reached its budget of {budget} encryptions")]
    BudgetExhausted {
        /// The key version.
        version: u32,
        /// The budget.
        budget: u64,
    },
    /// The operating system's random source failed.
    #[error("the random source failed")]
    Random,
    /// The AEAD refused to encrypt (a plaintext over the cipher's size limit).
    #[error("encryption failed")]
    Encryption,
    /// A registered column names an identifier that is not a plain lower-case SQL name.
    #[error("invalid secret column identifier {0:?}")]
    InvalidIdentifier(&'static str),
    /// A write-back found the row changed under it (not the value that was read).
    #[error("the secret in {table}.{column} changed while it was migrated")]
    Changed {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SecretsError {
    fn from(error: diesel::result::Error) -> Self {
        SecretsError::Db(DbError::Query(error))
    }
}

impl DomainError for SecretsError {
    fn kind(&self) -> ErrorKind {
        match self {
            SecretsError::NotConfigured | SecretsError::BudgetExhausted { .. } => {
                ErrorKind::Unavailable
            }
            SecretsError::InvalidSettings(_)
            | SecretsError::UnknownVersion(_)
            | SecretsError::Malformed(_)
            | SecretsError::Decryption
            | SecretsError::PlaintextRefused { .. }
            | SecretsError::Random
            | SecretsError::Encryption
            | SecretsError::InvalidIdentifier(_) => ErrorKind::Internal,
            SecretsError::Changed { .. } => ErrorKind::Conflict,
            SecretsError::Db(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SecretsError::NotConfigured => "secrets_not_configured",
            SecretsError::BudgetExhausted { .. } => "secret_key_budget_exhausted",
            SecretsError::Changed { .. } => "secret_changed",
            SecretsError::InvalidSettings(_)
            | SecretsError::UnknownVersion(_)
            | SecretsError::Malformed(_)
            | SecretsError::Decryption
            | SecretsError::PlaintextRefused { .. }
            | SecretsError::Random
            | SecretsError::Encryption
            | SecretsError::InvalidIdentifier(_) => "internal",
            SecretsError::Db(error) => error.code(),
        }
    }
}
