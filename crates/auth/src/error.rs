//! Everything that can go wrong in the identity context, each with a stable machine code.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind};

/// An identity failure. [`AuthError::code`] is part of the public API: clients match on it.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The address is not `0x` + 40 hex digits.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// The chain id is not one this deployment accepts for sign-in.
    #[error("chain id {0} is not supported")]
    UnsupportedChain(u64),
    /// The signed text is not a well-formed EIP-4361 message.
    #[error("{0}")]
    MalformedMessage(String),
    /// The message names another domain than this service's.
    #[error("message domain `{0}` does not match this service")]
    DomainMismatch(String),
    /// The message names another URI than this service's.
    #[error("message URI `{0}` does not match this service")]
    UriMismatch(String),
    /// The message's chain id is not the one the challenge was issued for.
    #[error("message chain id does not match the challenge")]
    ChainMismatch,
    /// The message has expired.
    #[error("the sign-in message has expired; request a new challenge")]
    MessageExpired,
    /// The message is not valid yet.
    #[error("the sign-in message is not valid yet")]
    MessageNotYetValid,
    /// The nonce was never issued by this service (or has been purged).
    #[error("unknown nonce; request a new challenge")]
    UnknownNonce,
    /// The nonce has already been used.
    #[error("this challenge has already been used; request a new one")]
    NonceAlreadyUsed,
    /// The message differs from the one the server issued for this nonce.
    #[error("the message does not match the issued challenge")]
    MessageMismatch,
    /// The challenge was issued for a different purpose or user.
    #[error("the challenge was issued for a different purpose")]
    WrongChallenge,
    /// The signature is not `0x`-prefixed hex, is empty or over 4 KiB, or (with no chain RPC
    /// configured for contract wallets) is not 65 bytes.
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// The signature does not verify for the message's address.
    #[error("signature does not match the message's address")]
    SignatureMismatch,
    /// The wallet is already linked to another user.
    #[error("this wallet is linked to another account")]
    WalletLinkedElsewhere,
    /// The access token is missing, malformed, or fails verification.
    #[error("invalid access token")]
    InvalidAccessToken(String),
    /// The access token has expired.
    #[error("access token expired")]
    AccessTokenExpired,
    /// The refresh token is unknown or expired.
    #[error("invalid or expired refresh token")]
    InvalidRefreshToken,
    /// An already-used refresh token was presented; its whole family has been revoked.
    #[error("refresh token reuse detected; the session has been revoked")]
    RefreshTokenReused,
    /// The session has been revoked or has expired.
    #[error("the session has ended; sign in again")]
    SessionEnded,
    /// The service token is unknown, revoked or expired.
    #[error("invalid service token")]
    InvalidServiceToken,
    /// The service token lacks the scope the route needs.
    #[error("service token lacks scope `{0}`")]
    MissingScope(String),
    /// The caller is not an administrator.
    #[error("administrator role required")]
    AdminRequired,
    /// The resource does not exist or belongs to someone else.
    #[error("not found")]
    NotFound,
    /// A field of the request is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The chain RPC used for contract-wallet signatures failed.
    #[error("chain RPC unavailable: {0}")]
    ChainUnavailable(String),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// An unexpected failure (details are logged, not shown).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for AuthError {
    fn from(error: diesel::result::Error) -> Self {
        AuthError::Db(DbError::Query(error))
    }
}

impl DomainError for AuthError {
    fn kind(&self) -> ErrorKind {
        use AuthError::*;
        match self {
            InvalidAddress(_)
            | UnsupportedChain(_)
            | MalformedMessage(_)
            | MalformedSignature(_)
            | InvalidInput(_) => ErrorKind::InvalidInput,
            DomainMismatch(_)
            | UriMismatch(_)
            | ChainMismatch
            | MessageExpired
            | MessageNotYetValid
            | UnknownNonce
            | NonceAlreadyUsed
            | MessageMismatch
            | WrongChallenge
            | SignatureMismatch
            | InvalidAccessToken(_)
            | AccessTokenExpired
            | InvalidRefreshToken
            | RefreshTokenReused
            | SessionEnded
            | InvalidServiceToken => ErrorKind::Unauthenticated,
            MissingScope(_) | AdminRequired => ErrorKind::Forbidden,
            NotFound => ErrorKind::NotFound,
            WalletLinkedElsewhere => ErrorKind::Conflict,
            ChainUnavailable(_) => ErrorKind::Unavailable,
            Db(error) => error.kind(),
            Internal(_) => ErrorKind::Internal,
        }
    }

    /// The stable machine code clients match on.
    fn code(&self) -> &'static str {
        use AuthError::*;
        match self {
            InvalidAddress(_) => "invalid_address",
            UnsupportedChain(_) => "unsupported_chain",
            MalformedMessage(_) => "siwe_malformed_message",
            DomainMismatch(_) => "siwe_domain_mismatch",
            UriMismatch(_) => "siwe_uri_mismatch",
            ChainMismatch => "siwe_chain_mismatch",
            MessageExpired => "siwe_expired",
            MessageNotYetValid => "siwe_not_yet_valid",
            UnknownNonce => "siwe_unknown_nonce",
            NonceAlreadyUsed => "siwe_nonce_used",
            MessageMismatch => "siwe_message_mismatch",
            WrongChallenge => "siwe_wrong_challenge",
            MalformedSignature(_) => "malformed_signature",
            SignatureMismatch => "signature_mismatch",
            WalletLinkedElsewhere => "wallet_linked_elsewhere",
            InvalidAccessToken(_) => "invalid_access_token",
            AccessTokenExpired => "access_token_expired",
            InvalidRefreshToken => "invalid_refresh_token",
            RefreshTokenReused => "refresh_token_reused",
            SessionEnded => "session_ended",
            InvalidServiceToken => "invalid_service_token",
            MissingScope(_) => "missing_scope",
            AdminRequired => "admin_required",
            NotFound => "not_found",
            InvalidInput(_) => "invalid_input",
            ChainUnavailable(_) => "chain_unavailable",
            Db(error) => error.code(),
            Internal(_) => "internal",
        }
    }
}
