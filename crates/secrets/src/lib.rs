//! Encrypted custody of the few secrets the platform holds (a training pool's deposit key).
//!
//! - [`Keyring`]: AES-256-GCM keys derived with HKDF-SHA256 from one master secret per key
//!   version and a shared salt ([`SecretsArgs`]), and the version that encrypts.
//! - [`Envelope`]: the stored text `enc:v<version>:<base64(nonce || ciphertext || tag)>`, with
//!   a fresh random 96-bit nonce per encryption and the associated data of its
//!   [`SecretLocation`] (table, column, row id, tenant), so a ciphertext copied elsewhere does
//!   not decrypt.
//! - [`store`]: counted encryption ([`store::seal`]), reads that migrate legacy plaintexts and
//!   values under older keys in the caller's transaction ([`store::open`],
//!   [`SecretColumn::read`]), and the per-version counters against the nonce budget
//!   ([`store::usage`]).
//! - [`rotation`]: eager re-encryption of a registered column in bounded batches.
//!
//! Keys and plaintexts are wiped from memory when dropped and print as `[redacted]`; nothing
//! here implements `Serialize` for them. The crate owns one table, `secret_key_usage`; the
//! columns it encrypts belong to the contexts that register them.

mod envelope;
mod error;
mod keyring;
pub mod rotation;
pub mod settings;
pub mod store;

pub use envelope::{ENVELOPE_PREFIX, Envelope, SecretLocation};
pub use error::SecretsError;
pub use keyring::{
    Decrypted, Found, Keyring, LegacyPlaintext, MIN_MASTER_KEY_LEN, MIN_SALT_LEN, SecretBytes,
};
pub use rotation::{RotationProgress, VersionCount, column_census, rotate_column};
pub use settings::{SecretString, SecretsArgs};
pub use store::{BudgetStatus, KeyUsage, NONCE_BUDGET, Opened, SecretColumn, WARN_AT};
