//! The CLOB's two authentication levels, as header sets.
//!
//! - L1 proves control of the wallet: an EIP-712 `ClobAuth` signature in the domain
//!   `{name: "ClobAuthDomain", version: "1", chainId}` (no verifying contract). Only creating
//!   or deriving API credentials uses it.
//! - L2 proves possession of the API credentials: an HMAC-SHA256 of
//!   `timestamp + METHOD + path + body`, keyed by the base64url-decoded secret. Every trading
//!   endpoint uses it.
//!
//! Both take the timestamp as an argument: this module reads no clock and does no IO.

use alloy::primitives::{Address, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use clones_kernel::Secret;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The fixed text every L1 signature attests.
pub const CLOB_AUTH_MESSAGE: &str = "This message attests that I control the given wallet";

/// The wallet address, on both levels.
pub const POLY_ADDRESS: &str = "POLY_ADDRESS";
/// The EIP-712 signature (L1) or the HMAC (L2).
pub const POLY_SIGNATURE: &str = "POLY_SIGNATURE";
/// Unix seconds, on both levels.
pub const POLY_TIMESTAMP: &str = "POLY_TIMESTAMP";
/// The L1 nonce (0 unless the wallet asked for several keys).
pub const POLY_NONCE: &str = "POLY_NONCE";
/// The L2 API key.
pub const POLY_API_KEY: &str = "POLY_API_KEY";
/// The L2 passphrase.
pub const POLY_PASSPHRASE: &str = "POLY_PASSPHRASE";

/// The EIP-712 struct. Private so the generated items need no docs; the module exposes headers.
mod typed {
    alloy::sol! {
        struct ClobAuth {
            address address;
            string timestamp;
            uint256 nonce;
            string message;
        }
    }
}

/// Secrets are base64url, with or without padding depending on who minted them.
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a header set could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The API secret is not base64url.
    #[error("the API secret is not base64url")]
    MalformedSecret,
    /// The signer refused to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The L2 credentials the CLOB minted for a wallet (`{"apiKey","secret","passphrase"}`).
/// The secret and the passphrase never print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCredentials {
    /// The API key (a UUID); also the `owner` of every order.
    pub api_key: String,
    /// The base64url HMAC key.
    pub secret: Secret<String>,
    /// Sent as is on every L2 request.
    pub passphrase: Secret<String>,
}

impl ApiCredentials {
    /// Wraps the three parts.
    pub fn new(api_key: impl Into<String>, secret: String, passphrase: String) -> Self {
        Self {
            api_key: api_key.into(),
            secret: Secret::new(secret),
            passphrase: Secret::new(passphrase),
        }
    }
}

/// The wire shape, only ever turned straight into [`ApiCredentials`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiCredentialsWire {
    api_key: String,
    secret: String,
    passphrase: String,
}

impl From<ApiCredentialsWire> for ApiCredentials {
    fn from(wire: ApiCredentialsWire) -> Self {
        Self::new(wire.api_key, wire.secret, wire.passphrase)
    }
}

/// Header name and value pairs, in the order they are sent.
pub type Headers = Vec<(&'static str, String)>;

/// The `ClobAuth` EIP-712 domain of `chain_id`.
pub fn clob_auth_domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: "ClobAuthDomain",
        version: "1",
        chain_id: chain_id,
    }
}

/// The L1 signature: `0x` + 65 bytes hex (v = 27 or 28) over `ClobAuth(address, timestamp,
/// nonce, message)`.
///
/// # Errors
/// [`AuthError::Signing`] when the signer fails.
pub fn l1_signature(
    signer: &PrivateKeySigner,
    chain_id: u64,
    timestamp: u64,
    nonce: u64,
) -> Result<String, AuthError> {
    let auth = typed::ClobAuth {
        address: signer.address(),
        timestamp: timestamp.to_string(),
        nonce: U256::from(nonce),
        message: CLOB_AUTH_MESSAGE.to_string(),
    };
    let hash = auth.eip712_signing_hash(&clob_auth_domain(chain_id));
    let signature = signer
        .sign_hash_sync(&hash)
        .map_err(|error| AuthError::Signing(error.to_string()))?;
    Ok(signature.to_string())
}

/// The L1 headers `POLY_ADDRESS`, `POLY_SIGNATURE`, `POLY_TIMESTAMP`, `POLY_NONCE`.
///
/// # Errors
/// [`AuthError::Signing`] when the signer fails.
pub fn l1_headers(
    signer: &PrivateKeySigner,
    chain_id: u64,
    timestamp: u64,
    nonce: u64,
) -> Result<Headers, AuthError> {
    Ok(vec![
        (POLY_ADDRESS, signer.address().to_checksum(None)),
        (
            POLY_SIGNATURE,
            l1_signature(signer, chain_id, timestamp, nonce)?,
        ),
        (POLY_TIMESTAMP, timestamp.to_string()),
        (POLY_NONCE, nonce.to_string()),
    ])
}

/// The L2 signature: base64url (padded) of HMAC-SHA256(base64url_decode(secret),
/// `timestamp + method + path + body`). `path` has no query string; `body` is the exact text
/// sent (empty when there is none).
///
/// # Errors
/// [`AuthError::MalformedSecret`] when the secret is not base64url.
pub fn l2_signature(
    secret: &str,
    timestamp: u64,
    method: &str,
    path: &str,
    body: &str,
) -> Result<String, AuthError> {
    let key = URL_SAFE_LENIENT
        .decode(secret)
        .map_err(|_| AuthError::MalformedSecret)?;
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|_| AuthError::MalformedSecret)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(method.as_bytes());
    mac.update(path.as_bytes());
    mac.update(body.as_bytes());
    Ok(URL_SAFE.encode(mac.finalize().into_bytes()))
}

/// The L2 headers `POLY_ADDRESS`, `POLY_SIGNATURE`, `POLY_TIMESTAMP`, `POLY_API_KEY`,
/// `POLY_PASSPHRASE` of one request.
///
/// # Errors
/// [`AuthError::MalformedSecret`] when the secret is not base64url.
pub fn l2_headers(
    address: Address,
    credentials: &ApiCredentials,
    timestamp: u64,
    method: &str,
    path: &str,
    body: &str,
) -> Result<Headers, AuthError> {
    Ok(vec![
        (POLY_ADDRESS, address.to_checksum(None)),
        (
            POLY_SIGNATURE,
            l2_signature(credentials.secret.expose(), timestamp, method, path, body)?,
        ),
        (POLY_TIMESTAMP, timestamp.to_string()),
        (POLY_API_KEY, credentials.api_key.clone()),
        (POLY_PASSPHRASE, credentials.passphrase.expose().clone()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Anvil's (and hardhat's) first development key: public knowledge, never funded.
    const ANVIL_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn the_l1_signature_matches_the_reference_vector() {
        let signer: PrivateKeySigner = ANVIL_0.parse().unwrap();
        assert_eq!(
            l1_signature(&signer, 80002, 10_000_000, 23).unwrap(),
            "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c1\
             682518e0af677d5260366425f4361e7b70c25ae232aff0ab2331e2b164a1aedc1b"
        );
        let headers = l1_headers(&signer, 80002, 10_000_000, 23).unwrap();
        let names: Vec<_> = headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP, POLY_NONCE]
        );
        assert_eq!(headers[0].1, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(headers[2].1, "10000000");
        assert_eq!(headers[3].1, "23");
    }

    #[test]
    fn the_l2_signature_matches_the_reference_vector() {
        let secret = format!("{}=", "A".repeat(43));
        assert_eq!(
            l2_signature(&secret, 1, "GET", "/", "").unwrap(),
            "eHaylCwqRSOa2LFD77Nt_SaTpbsxzN8eTEI3LryhEj4="
        );
        // The same key without its padding signs the same.
        assert_eq!(
            l2_signature(&"A".repeat(43), 1, "GET", "/", "").unwrap(),
            "eHaylCwqRSOa2LFD77Nt_SaTpbsxzN8eTEI3LryhEj4="
        );
        assert_eq!(
            l2_signature("not base64!", 1, "GET", "/", ""),
            Err(AuthError::MalformedSecret)
        );
    }

    #[test]
    fn l2_headers_carry_the_key_and_passphrase_and_the_body_changes_the_signature() {
        let credentials = ApiCredentials::new(
            "00000000-0000-0000-0000-000000000001",
            format!("{}=", "A".repeat(43)),
            "pass".into(),
        );
        let address = Address::repeat_byte(0x11);
        let empty = l2_headers(address, &credentials, 1, "POST", "/order", "").unwrap();
        let full = l2_headers(address, &credentials, 1, "POST", "/order", "{}").unwrap();
        let names: Vec<_> = full.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                POLY_ADDRESS,
                POLY_SIGNATURE,
                POLY_TIMESTAMP,
                POLY_API_KEY,
                POLY_PASSPHRASE
            ]
        );
        assert_ne!(empty[1].1, full[1].1);
        assert_eq!(full[3].1, "00000000-0000-0000-0000-000000000001");
        assert_eq!(full[4].1, "pass");
    }

    #[test]
    fn credentials_never_print_their_secrets() {
        let credentials = ApiCredentials::new("key", "c2VjcmV0".into(), "hunter2".into());
        let printed = format!("{credentials:?}");
        assert!(printed.contains("key"));
        assert!(!printed.contains("c2VjcmV0"));
        assert!(!printed.contains("hunter2"));
    }
}
