//! Access tokens (JWT), and the opaque refresh and service tokens.
//!
//! Access tokens are HS256 JWTs signed with the active key of a [`JwtKeys`] ring; each carries
//! its key id (`kid`) so keys can rotate: tokens signed by a retired-but-listed key still
//! validate until they expire. Validation pins the algorithm, issuer and audience, and checks
//! expiry against the injected clock rather than the system time.
//!
//! Refresh and service tokens are random values; only their SHA-256 hashes are stored.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::AuthError;

/// The smallest accepted HMAC key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// The prefix of every service token, so leaked tokens are recognisable in scanners and logs.
pub const SERVICE_TOKEN_PREFIX: &str = "cst_";

/// One signing key.
#[derive(Clone)]
struct JwtKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// The signing keys: one active key that signs, and older keys that still verify.
#[derive(Clone)]
pub struct JwtKeys {
    active_kid: String,
    keys: HashMap<String, JwtKey>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("JwtKeys")
            .field("active_kid", &self.active_kid)
            .field("kids", &kids)
            .finish()
    }
}

/// Why a key ring specification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JWT key ring: {0}")]
pub struct KeyRingError(String);

impl JwtKeys {
    /// Parses `kid:secret[,kid:secret…]`; the first entry signs, all of them verify. Secrets are
    /// base64url (padding optional) of at least [`MIN_KEY_BYTES`] bytes; kids are 1-32
    /// characters of `[A-Za-z0-9_-]`.
    ///
    /// # Errors
    /// [`KeyRingError`] naming the bad entry (never the secret).
    pub fn parse(spec: &str) -> Result<Self, KeyRingError> {
        let mut active_kid = None;
        let mut keys = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, secret) = entry
                .split_once(':')
                .ok_or_else(|| KeyRingError("each entry must be kid:secret".into()))?;
            let kid_ok = (1..=32).contains(&kid.len())
                && kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !kid_ok {
                return Err(KeyRingError(format!("bad key id `{kid}`")));
            }
            let bytes = URL_SAFE_NO_PAD
                .decode(secret.trim_end_matches('='))
                .map_err(|_| KeyRingError(format!("secret of `{kid}` is not base64url")))?;
            if bytes.len() < MIN_KEY_BYTES {
                return Err(KeyRingError(format!(
                    "secret of `{kid}` is shorter than {MIN_KEY_BYTES} bytes"
                )));
            }
            let key = JwtKey {
                encoding: EncodingKey::from_secret(&bytes),
                decoding: DecodingKey::from_secret(&bytes),
            };
            if keys.insert(kid.to_string(), key).is_some() {
                return Err(KeyRingError(format!("duplicate key id `{kid}`")));
            }
            active_kid.get_or_insert_with(|| kid.to_string());
        }
        let active_kid = active_kid.ok_or_else(|| KeyRingError("no keys given".into()))?;
        Ok(Self { active_kid, keys })
    }

    /// A ring with one freshly generated key (for development and tests).
    pub fn generate(kid: &str) -> Result<Self, KeyRingError> {
        Self::parse(&format!("{kid}:{}", random_token_body()))
    }

    /// The id of the key that signs new tokens.
    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }
}

/// The claims inside an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session the token was issued for.
    pub sid: Uuid,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
    /// A unique token id.
    pub jti: Uuid,
}

/// Issues and validates access tokens.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    keys: JwtKeys,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl AccessTokens {
    /// An issuer/validator over `keys` for tokens living `ttl`.
    pub fn new(keys: JwtKeys, issuer: String, audience: String, ttl: Duration) -> Self {
        Self {
            keys,
            issuer,
            audience,
            ttl,
        }
    }

    /// How long new access tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `user_id` in `session_id`, valid from `now` for the configured TTL.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if signing fails.
    pub fn issue(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), AuthError> {
        let expires_at = now + self.ttl;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.keys.active_kid.clone());
        let key = self
            .keys
            .keys
            .get(&self.keys.active_kid)
            .ok_or_else(|| AuthError::Internal("active signing key missing".into()))?;
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|error| AuthError::Internal(format!("signing access token: {error}")))?;
        Ok((token, expires_at))
    }

    /// Validates signature (by `kid`), algorithm, issuer, audience and expiry at `now`.
    ///
    /// # Errors
    /// [`AuthError::AccessTokenExpired`] or [`AuthError::InvalidAccessToken`].
    pub fn validate(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::InvalidAccessToken("not a JWT".into()))?;
        if header.alg != Algorithm::HS256 {
            return Err(AuthError::InvalidAccessToken(
                "algorithm not allowed".into(),
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::InvalidAccessToken("missing key id".into()))?;
        let key = self
            .keys
            .keys
            .get(&kid)
            .ok_or_else(|| AuthError::InvalidAccessToken("unknown key id".into()))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked below against the injected clock, not the system time.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map_err(|error| AuthError::InvalidAccessToken(error.to_string()))?;
        if data.claims.exp <= now.timestamp() {
            return Err(AuthError::AccessTokenExpired);
        }
        Ok(data.claims)
    }
}

/// 32 random bytes, base64url without padding (43 characters).
fn random_token_body() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new opaque refresh token.
pub fn new_refresh_token() -> String {
    random_token_body()
}

/// A new service token: the prefix then 32 random bytes.
pub fn new_service_token() -> String {
    format!("{SERVICE_TOKEN_PREFIX}{}", random_token_body())
}

/// The SHA-256 of a token, the only form in which tokens are stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(keys: JwtKeys) -> AccessTokens {
        AccessTokens::new(keys, "iss".into(), "aud".into(), Duration::minutes(15))
    }

    #[test]
    fn issued_tokens_validate_until_expiry() {
        let tokens = tokens(JwtKeys::generate("k1").unwrap());
        let now = Utc::now();
        let (token, expires_at) = tokens.issue(Uuid::nil(), Uuid::nil(), now).unwrap();
        assert_eq!(expires_at, now + Duration::minutes(15));
        let claims = tokens.validate(&token, now).unwrap();
        assert_eq!(claims.sub, Uuid::nil());
        assert!(matches!(
            tokens.validate(&token, expires_at),
            Err(AuthError::AccessTokenExpired)
        ));
    }

    #[test]
    fn rotated_keys_keep_old_tokens_valid_and_unknown_keys_fail() {
        let old = JwtKeys::generate("old").unwrap();
        let now = Utc::now();
        let (token, _) = tokens(old.clone())
            .issue(Uuid::nil(), Uuid::nil(), now)
            .unwrap();
        let mut rotated = JwtKeys::generate("new").unwrap();
        rotated.keys.extend(old.keys.clone());
        assert_eq!(rotated.active_kid(), "new");
        assert!(tokens(rotated).validate(&token, now).is_ok());
        let stranger = JwtKeys::generate("old").unwrap();
        assert!(matches!(
            tokens(stranger).validate(&token, now),
            Err(AuthError::InvalidAccessToken(_))
        ));
    }

    #[test]
    fn key_ring_spec_is_validated() {
        for bad in ["", "k1", "k1:short", "bad kid:AAAA", "k1:!!!"] {
            assert!(JwtKeys::parse(bad).is_err(), "accepted {bad:?}");
        }
        let secret = "A".repeat(43);
        let ring = JwtKeys::parse(&format!("a:{secret},b:{secret}=")).unwrap();
        assert_eq!(ring.active_kid(), "a");
        assert!(JwtKeys::parse(&format!("a:{secret},a:{secret}")).is_err());
        assert!(!format!("{ring:?}").contains(&secret));
    }

    #[test]
    fn unsigned_and_foreign_algorithm_tokens_are_rejected() {
        let tokens = tokens(JwtKeys::generate("k1").unwrap());
        let now = Utc::now();
        let (token, _) = tokens.issue(Uuid::nil(), Uuid::nil(), now).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k1"}"#);
        parts[0] = &none_header;
        parts[2] = "";
        assert!(tokens.validate(&parts.join("."), now).is_err());
    }

    #[test]
    fn token_hashes_are_sha256() {
        assert_eq!(
            hex::encode(token_hash("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(new_service_token().starts_with(SERVICE_TOKEN_PREFIX));
        assert_ne!(new_refresh_token(), new_refresh_token());
    }
}
