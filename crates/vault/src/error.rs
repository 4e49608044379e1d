//! Everything that can go wrong on the chain side of payments, each with a stable machine code.

use alloy::primitives::B256;
use clones_kernel::{DomainError, ErrorKind};

/// A vault failure. [`VaultError::code`] is part of the public API: clients match on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The text is not a transaction hash (`0x` + 64 hex digits).
    #[error("invalid transaction hash: {0}")]
    InvalidTxHash(String),
    /// The text or bytes32 value names no known payment purpose.
    #[error("unknown payment purpose: {0}")]
    UnknownPurpose(String),
    /// The quote signing key is not a valid secp256k1 private key. The key itself is never
    /// part of the message.
    #[error("the quote signing key is not a valid private key")]
    InvalidSigningKey,
    /// Signing a quote failed.
    #[error("signing the quote failed: {0}")]
    Signing(String),
    /// The transaction was mined but reverted, so it paid nothing.
    #[error("transaction {0} reverted")]
    Reverted(B256),
    /// The transaction emitted no `Deposited` event from the configured vault.
    #[error("the transaction is not a deposit into the configured vault")]
    NotAVaultDeposit,
    /// The transaction paid a different quote: `field` is the first field that differs
    /// (`resolver`, `nonce`, `payer`, `purpose`, `token` or `amount`).
    #[error("the deposit does not match the quote: {field} differs")]
    QuoteMismatch {
        /// The first differing field.
        field: &'static str,
    },
    /// The RPC serves another chain than the configured one.
    #[error("the chain RPC serves chain {actual}, but chain {expected} is configured")]
    ChainMismatch {
        /// The configured chain id.
        expected: u64,
        /// The chain id the RPC reported.
        actual: u64,
    },
    /// A vault log carries the `Deposited` topic but does not decode as that event.
    #[error("malformed deposit log: {0}")]
    MalformedLog(String),
    /// The chain RPC failed or could not be reached; the check may be retried.
    #[error("chain RPC unavailable: {0}")]
    Rpc(String),
}

impl DomainError for VaultError {
    fn kind(&self) -> ErrorKind {
        use VaultError::*;
        match self {
            InvalidTxHash(_) | UnknownPurpose(_) => ErrorKind::InvalidInput,
            Reverted(_) | NotAVaultDeposit | QuoteMismatch { .. } => ErrorKind::RuleViolation,
            Rpc(_) => ErrorKind::Unavailable,
            // Configuration faults and broken invariants: nothing the caller can fix.
            InvalidSigningKey | Signing(_) | ChainMismatch { .. } | MalformedLog(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// The stable machine code clients match on.
    fn code(&self) -> &'static str {
        use VaultError::*;
        match self {
            InvalidTxHash(_) => "invalid_tx_hash",
            UnknownPurpose(_) => "unknown_purpose",
            InvalidSigningKey => "invalid_signing_key",
            Signing(_) => "signing_failed",
            Reverted(_) => "deposit_reverted",
            NotAVaultDeposit => "not_a_vault_deposit",
            QuoteMismatch { .. } => "quote_mismatch",
            ChainMismatch { .. } => "chain_mismatch",
            MalformedLog(_) => "malformed_deposit_log",
            Rpc(_) => "chain_unavailable",
        }
    }
}

impl VaultError {
    /// Whether the same check may succeed when retried later (only RPC failures).
    pub fn is_retryable(&self) -> bool {
        matches!(self, VaultError::Rpc(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_kinds_are_stable() {
        let cases = [
            (
                VaultError::InvalidTxHash("x".into()),
                "invalid_tx_hash",
                ErrorKind::InvalidInput,
            ),
            (
                VaultError::Reverted(B256::ZERO),
                "deposit_reverted",
                ErrorKind::RuleViolation,
            ),
            (
                VaultError::NotAVaultDeposit,
                "not_a_vault_deposit",
                ErrorKind::RuleViolation,
            ),
            (
                VaultError::QuoteMismatch { field: "amount" },
                "quote_mismatch",
                ErrorKind::RuleViolation,
            ),
            (
                VaultError::ChainMismatch {
                    expected: 1,
                    actual: 2,
                },
                "chain_mismatch",
                ErrorKind::Internal,
            ),
            (
                VaultError::Rpc("down".into()),
                "chain_unavailable",
                ErrorKind::Unavailable,
            ),
        ];
        for (error, code, kind) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.kind(), kind);
            assert_eq!(error.is_retryable(), kind == ErrorKind::Unavailable);
        }
    }
}
