//! The chain side of payments: the `SignedVault` contract's Solidity bindings, the platform's
//! EIP-712 quotes and their signing, and the verification of deposit transactions.
//!
//! A payment goes like this: the platform prices something (a clone, a capacity upgrade, an
//! audition fee) as a [`Quote`], signs it with its [`QuoteSigner`], and hands quote and
//! signature to the payer, who calls `SignedVault.deposit` with the funds. The payer reports the
//! transaction hash; [`DepositVerifier::check`] reads the receipt and answers whether that
//! transaction paid exactly that quote, with enough confirmations, on the canonical chain.
//!
//! This crate owns no tables and knows nothing of users or of HTTP: recording which quotes were
//! issued and crediting a confirmed deposit exactly once (keyed by chain id, transaction hash
//! and log index) belong to the caller.

pub mod contract;
mod error;
mod purpose;
mod quote;
mod signer;
mod verifier;

pub use error::VaultError;
pub use purpose::Purpose;
pub use quote::{DOMAIN_NAME, DOMAIN_VERSION, Quote, VaultDomain, quote_signing_hash};
pub use signer::QuoteSigner;
pub use verifier::{
    DepositStatus, DepositVerifier, VaultConfig, VerifiedDeposit, confirmations, parse_tx_hash,
};
