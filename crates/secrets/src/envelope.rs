//! The stored form of a secret and what binds it to its place.
//!
//! An envelope is the text `enc:v<version>:<base64(nonce || ciphertext || tag)>`: the format
//! tag `enc`, the key version in decimal (1 or more, no leading zero), and the standard padded
//! base64 of the 12-byte nonce, the AES-256-GCM ciphertext and the 16-byte tag. A stored value
//! that does not start with `enc:` is a legacy plaintext. The associated data ([`SecretLocation`])
//! is never stored: the reader rebuilds it from where it found the value.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;

use crate::SecretsError;

/// The prefix of every envelope; a stored value without it is a legacy plaintext.
pub const ENVELOPE_PREFIX: &str = "enc:";

/// Bytes of an AES-GCM nonce.
pub(crate) const NONCE_LEN: usize = 12;

/// Bytes of an AES-GCM tag.
pub(crate) const TAG_LEN: usize = 16;

/// Where a secret lives: the associated data its ciphertext is bound to. The same ciphertext
/// read from another table, column, row or tenant fails authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretLocation {
    /// The table.
    pub table: &'static str,
    /// The column.
    pub column: &'static str,
    /// The row's id.
    pub row_id: Uuid,
    /// The owning tenant, for tenant tables.
    pub tenant: Option<Uuid>,
}

impl SecretLocation {
    /// The associated data of a ciphertext under key `version` at this location: a domain
    /// label, then each field (version in decimal, table, column, row id, tenant or empty)
    /// as a 4-byte big-endian length and its UTF-8 bytes. Length prefixes keep two different
    /// locations from ever encoding alike.
    pub(crate) fn associated_data(&self, version: u32) -> Vec<u8> {
        let row = self.row_id.hyphenated().to_string();
        let tenant = self
            .tenant
            .map(|tenant| tenant.hyphenated().to_string())
            .unwrap_or_default();
        let mut aad = b"clones-secrets/aad/1".to_vec();
        for field in [
            version.to_string().as_str(),
            self.table,
            self.column,
            &row,
            &tenant,
        ] {
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            aad.extend_from_slice(&len.to_be_bytes());
            aad.extend_from_slice(field.as_bytes());
        }
        aad
    }
}

/// An encrypted secret as it is stored. Not secret itself (nothing reads without the key and
/// the location), but `Debug` shows only its version and size anyway.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    version: u32,
    text: String,
}

impl Envelope {
    /// Builds the text of key `version` over `nonce || ciphertext || tag`.
    pub(crate) fn new(version: u32, sealed: &[u8]) -> Self {
        let text = format!("{ENVELOPE_PREFIX}v{version}:{}", STANDARD.encode(sealed));
        Self { version, text }
    }

    /// The key version that sealed it.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The stored text, owned.
    pub fn into_string(self) -> String {
        self.text
    }

    /// The `LIKE` pattern matching envelopes of key `version` (`enc:v3:%`).
    pub fn like_pattern(version: u32) -> String {
        format!("{ENVELOPE_PREFIX}v{version}:%")
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Envelope(v{}, {} chars)", self.version, self.text.len())
    }
}

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A stored value, read: an envelope's version and sealed bytes, or a legacy plaintext.
#[derive(Debug)]
pub(crate) enum Stored<'a> {
    /// `enc:v<version>:…`.
    Sealed {
        /// The key version.
        version: u32,
        /// `nonce || ciphertext || tag`.
        sealed: Vec<u8>,
    },
    /// Anything without the envelope prefix.
    Plaintext(&'a str),
}

/// Reads a stored value.
///
/// # Errors
/// [`SecretsError::Malformed`] when it has the envelope prefix but not the envelope's shape.
pub(crate) fn parse(stored: &str) -> Result<Stored<'_>, SecretsError> {
    let Some(rest) = stored.strip_prefix(ENVELOPE_PREFIX) else {
        return Ok(Stored::Plaintext(stored));
    };
    let rest = rest
        .strip_prefix('v')
        .ok_or(SecretsError::Malformed("no version"))?;
    let (version, payload) = rest
        .split_once(':')
        .ok_or(SecretsError::Malformed("no payload"))?;
    let canonical = !version.is_empty()
        && !version.starts_with('0')
        && version.bytes().all(|byte| byte.is_ascii_digit());
    if !canonical {
        return Err(SecretsError::Malformed("bad version"));
    }
    let version: u32 = version
        .parse()
        .map_err(|_| SecretsError::Malformed("bad version"))?;
    let sealed = STANDARD
        .decode(payload)
        .map_err(|_| SecretsError::Malformed("bad base64"))?;
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(SecretsError::Malformed("too short"));
    }
    Ok(Stored::Sealed { version, sealed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location() -> SecretLocation {
        SecretLocation {
            table: "t",
            column: "c",
            row_id: Uuid::nil(),
            tenant: None,
        }
    }

    #[test]
    fn envelopes_round_trip_through_their_text() {
        let sealed = [7u8; 40];
        let envelope = Envelope::new(12, &sealed);
        assert!(envelope.as_str().starts_with("enc:v12:"));
        match parse(envelope.as_str()).unwrap() {
            Stored::Sealed {
                version,
                sealed: bytes,
            } => {
                assert_eq!(version, 12);
                assert_eq!(bytes, sealed);
            }
            Stored::Plaintext(_) => panic!("read as plaintext"),
        }
        assert_eq!(format!("{envelope:?}"), "Envelope(v12, 64 chars)");
    }

    #[test]
    fn values_without_the_prefix_are_plaintexts_and_bad_envelopes_are_refused() {
        assert!(matches!(parse("0xabc"), Ok(Stored::Plaintext("0xabc"))));
        assert!(matches!(parse("v1:AAAA"), Ok(Stored::Plaintext(_))));
        for bad in [
            "enc:",
            "enc:1:AAAA",
            "enc:v:AAAA",
            "enc:v01:AAAA",
            "enc:v-1:AAAA",
            "enc:v1",
            "enc:v1:not base64!",
            "enc:v1:AAAA",
            "enc:v99999999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(
                matches!(parse(bad), Err(SecretsError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn associated_data_differs_by_every_field() {
        let base = location();
        let tenant = Uuid::from_u128(1);
        let variants = [
            base.associated_data(1),
            base.associated_data(2),
            SecretLocation { table: "u", ..base }.associated_data(1),
            SecretLocation {
                column: "d",
                ..base
            }
            .associated_data(1),
            SecretLocation {
                row_id: tenant,
                ..base
            }
            .associated_data(1),
            SecretLocation {
                tenant: Some(tenant),
                ..base
            }
            .associated_data(1),
            // Shifting a boundary between fields changes the encoding too.
            SecretLocation {
                table: "tc",
                column: "",
                ..base
            }
            .associated_data(1),
        ];
        for (i, a) in variants.iter().enumerate() {
            for b in &variants[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
