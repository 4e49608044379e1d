//! Keys and the cipher: AES-256-GCM keys derived with HKDF-SHA256, one per version, and the
//! pure encrypt and decrypt steps. No database and no clock; counting encryptions against the
//! nonce budget is [`store`](crate::store)'s job, which is why encrypting is crate-private.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::SecretsError;
use crate::envelope::{self, Envelope, NONCE_LEN, SecretLocation, Stored};

/// Shortest master secret accepted, in bytes.
pub const MIN_MASTER_KEY_LEN: usize = 32;

/// Shortest salt accepted, in bytes.
pub const MIN_SALT_LEN: usize = 16;

/// A plaintext or other secret bytes: wiped from memory when dropped, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Borrows the bytes; the call sites that do this are the only places they can leak.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Borrows the bytes as UTF-8 text.
    ///
    /// # Errors
    /// [`SecretsError::Malformed`] when they are not UTF-8.
    pub fn expose_str(&self) -> Result<&str, SecretsError> {
        std::str::from_utf8(&self.0).map_err(|_| SecretsError::Malformed("not UTF-8"))
    }
}

impl From<&str> for SecretBytes {
    fn from(text: &str) -> Self {
        Self::new(text.as_bytes().to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Whether a column may still hold plaintexts written before it was encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyPlaintext {
    /// A value without the envelope prefix is a legacy plaintext: read it and migrate it.
    Accept,
    /// The column was encrypted from its first row: a plaintext is refused, so a value
    /// written around the application cannot be passed off as a stored secret.
    Refuse,
}

/// What was found where a secret is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// An envelope under the current key version: nothing to migrate.
    Current,
    /// An envelope under an older (or other non-current) key version.
    Stale(u32),
    /// A legacy plaintext.
    Plaintext,
}

/// A decrypted value and what it was stored as.
#[derive(Debug)]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: SecretBytes,
    /// What it was stored as; anything but [`Found::Current`] should be re-encrypted.
    pub found: Found,
}

/// The key versions a process holds, and which one encrypts. `Debug` lists versions only.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    current: u32,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("versions", &self.versions())
            .field("current", &self.current)
            .field("keys", &"[redacted]")
            .finish()
    }
}

impl Keyring {
    /// Derives one key per version from its master secret and the shared salt:
    /// `HKDF-SHA256(salt, master, info = "clones-secrets/aes-256-gcm/v<version>")`, 32 bytes.
    /// `current` is the version that encrypts (the highest given when `None`).
    ///
    /// # Errors
    /// [`SecretsError::InvalidSettings`] when no master secret is given, a version is 0, a
    /// master secret is shorter than [`MIN_MASTER_KEY_LEN`] or repeats another version's, the
    /// salt is shorter than [`MIN_SALT_LEN`], or `current` names a version without a key.
    pub fn derive(
        salt: &[u8],
        masters: Vec<(u32, SecretBytes)>,
        current: Option<u32>,
    ) -> Result<Self, SecretsError> {
        if salt.len() < MIN_SALT_LEN {
            return Err(SecretsError::InvalidSettings(format!(
                "SECRETS_SALT must be at least {MIN_SALT_LEN} bytes"
            )));
        }
        let mut keys = BTreeMap::new();
        for (index, (version, master)) in masters.iter().enumerate() {
            if *version == 0 {
                return Err(SecretsError::InvalidSettings(
                    "key versions start at 1".into(),
                ));
            }
            if master.expose().len() < MIN_MASTER_KEY_LEN {
                return Err(SecretsError::InvalidSettings(format!(
                    "the master key of version {version} must be at least {MIN_MASTER_KEY_LEN} bytes"
                )));
            }
            // A master pasted under two versions would make rotation a no-op in disguise.
            if masters[..index]
                .iter()
                .any(|(_, earlier)| earlier.expose() == master.expose())
            {
                return Err(SecretsError::InvalidSettings(format!(
                    "the master key of version {version} repeats another version's"
                )));
            }
            let mut key = Zeroizing::new([0u8; 32]);
            Hkdf::<Sha256>::new(Some(salt), master.expose())
                .expand(
                    format!("clones-secrets/aes-256-gcm/v{version}").as_bytes(),
                    key.as_mut_slice(),
                )
                .map_err(|_| SecretsError::InvalidSettings("key derivation failed".into()))?;
            if keys.insert(*version, key).is_some() {
                return Err(SecretsError::InvalidSettings(format!(
                    "key version {version} is given twice"
                )));
            }
        }
        let highest =
            keys.keys().next_back().copied().ok_or_else(|| {
                SecretsError::InvalidSettings("no master key is configured".into())
            })?;
        let current = current.unwrap_or(highest);
        if !keys.contains_key(&current) {
            return Err(SecretsError::InvalidSettings(format!(
                "SECRETS_CURRENT_VERSION is {current}, but no master key of that version is set"
            )));
        }
        Ok(Self { keys, current })
    }

    /// The version new encryptions use.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every version held, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    fn cipher(&self, version: u32) -> Result<Aes256Gcm, SecretsError> {
        let key = self
            .keys
            .get(&version)
            .ok_or(SecretsError::UnknownVersion(version))?;
        Aes256Gcm::new_from_slice(key.as_slice())
            .map_err(|_| SecretsError::InvalidSettings("key length".into()))
    }

    /// Encrypts under the current version with a fresh random nonce. Crate-private: every
    /// encryption goes through [`store`](crate::store), which counts it against the budget.
    pub(crate) fn encrypt(
        &self,
        plaintext: &[u8],
        location: &SecretLocation,
    ) -> Result<Envelope, SecretsError> {
        let version = self.current;
        let cipher = self.cipher(version)?;
        let nonce = Nonce::try_generate().map_err(|_| SecretsError::Random)?;
        let aad = location.associated_data(version);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretsError::Encryption)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(nonce.as_slice());
        bytes.extend_from_slice(&sealed);
        Ok(Envelope::new(version, &bytes))
    }

    /// Decrypts a stored value read at `location`, or takes it as a legacy plaintext when the
    /// column allows that, and says what it was stored as.
    ///
    /// # Errors
    /// [`SecretsError::Malformed`], [`SecretsError::UnknownVersion`],
    /// [`SecretsError::Decryption`] (wrong key, tampering, another location) or
    /// [`SecretsError::PlaintextRefused`].
    pub fn decrypt(
        &self,
        stored: &str,
        location: &SecretLocation,
        legacy: LegacyPlaintext,
    ) -> Result<Decrypted, SecretsError> {
        match envelope::parse(stored)? {
            Stored::Plaintext(text) => match legacy {
                LegacyPlaintext::Accept => Ok(Decrypted {
                    plaintext: SecretBytes::from(text),
                    found: Found::Plaintext,
                }),
                LegacyPlaintext::Refuse => Err(SecretsError::PlaintextRefused {
                    table: location.table,
                    column: location.column,
                }),
            },
            Stored::Sealed { version, sealed } => {
                let cipher = self.cipher(version)?;
                let (nonce, body) = sealed.split_at(NONCE_LEN);
                let nonce =
                    Nonce::try_from(nonce).map_err(|_| SecretsError::Malformed("bad nonce"))?;
                let aad = location.associated_data(version);
                let plaintext = cipher
                    .decrypt(
                        &nonce,
                        Payload {
                            msg: body,
                            aad: &aad,
                        },
                    )
                    .map_err(|_| SecretsError::Decryption)?;
                Ok(Decrypted {
                    plaintext: SecretBytes::new(plaintext),
                    found: if version == self.current {
                        Found::Current
                    } else {
                        Found::Stale(version)
                    },
                })
            }
        }
    }
}

#[cfg(test)]
#[path = "keyring_tests.rs"]
mod tests;
