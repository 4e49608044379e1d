//! The platform's quote key: it signs [`Quote`]s so the vault accepts them.

use std::fmt;
use std::str::FromStr;

use alloy::hex;
use alloy::primitives::Address;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;

use crate::{Quote, VaultDomain, VaultError, quote_signing_hash};

/// Signs quotes with the platform's key; the vault's `quoteSigner` must be [`QuoteSigner::address`].
///
/// `Debug` shows only the address: the key never reaches logs.
#[derive(Clone)]
pub struct QuoteSigner {
    signer: PrivateKeySigner,
}

impl QuoteSigner {
    /// A signer from a hex secp256k1 private key (64 hex digits, `0x` optional).
    ///
    /// # Errors
    /// [`VaultError::InvalidSigningKey`] when the text is not a valid key; the message never
    /// repeats the text.
    pub fn from_hex(private_key: &str) -> Result<Self, VaultError> {
        PrivateKeySigner::from_str(private_key.trim())
            .map(Self::new)
            .map_err(|_| VaultError::InvalidSigningKey)
    }

    /// Wraps an existing signer.
    pub fn new(signer: PrivateKeySigner) -> Self {
        Self { signer }
    }

    /// A signer with a fresh random key, for tests and local development.
    pub fn random() -> Self {
        Self::new(PrivateKeySigner::random())
    }

    /// The address the vault must hold as `quoteSigner`.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Signs `quote` for `domain`: `0x` followed by 130 hex digits, `r ‖ s ‖ v` with a low `s`
    /// and `v` of 27 or 28, which is the only form the vault accepts.
    ///
    /// # Errors
    /// [`VaultError::Signing`] when the signing library fails.
    pub fn sign(&self, quote: &Quote, domain: &VaultDomain) -> Result<String, VaultError> {
        let hash = quote_signing_hash(quote, domain);
        let signature = self
            .signer
            .sign_hash_sync(&hash)
            .map_err(|error| VaultError::Signing(error.to_string()))?
            .normalized_s();
        Ok(hex::encode_prefixed(signature.as_bytes()))
    }
}

impl fmt::Debug for QuoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuoteSigner")
            .field("address", &format_args!("{}", self.address()))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Purpose;
    use alloy::primitives::{Signature, U256, address};

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    #[test]
    fn debug_never_shows_the_key() {
        let signer = QuoteSigner::from_hex(KEY).unwrap();
        let debug = format!("{signer:?}");
        assert!(!debug.contains(&KEY[2..]), "{debug}");
        assert!(!debug.to_lowercase().contains("59c6995e"), "{debug}");
        assert!(debug.contains(&signer.address().to_string()), "{debug}");
    }

    #[test]
    fn keys_parse_with_or_without_prefix_and_errors_hide_the_text() {
        let with = QuoteSigner::from_hex(KEY).unwrap();
        let without = QuoteSigner::from_hex(&KEY[2..]).unwrap();
        assert_eq!(with.address(), without.address());
        // Hardhat's second default account.
        assert_eq!(
            with.address(),
            address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
        let error = QuoteSigner::from_hex("0xnot-a-key").unwrap_err();
        assert_eq!(error, VaultError::InvalidSigningKey);
        assert!(!error.to_string().contains("not-a-key"));
        assert!(QuoteSigner::from_hex(&KEY[..40]).is_err());
    }

    #[test]
    fn signatures_are_canonical_and_recover_to_the_signer() {
        let signer = QuoteSigner::random();
        let domain = VaultDomain {
            chain_id: 31337,
            vault: address!("0x2222222222222222222222222222222222222222"),
        };
        let quote = Quote {
            payer: address!("0x1111111111111111111111111111111111111111"),
            purpose: Purpose::CloneCreation,
            token: Address::ZERO,
            amount: U256::from(5u64),
            nonce: U256::from(1u64),
            deadline: 1_900_000_000,
        };
        let text = signer.sign(&quote, &domain).unwrap();
        assert_eq!(text.len(), 132);
        assert!(text.starts_with("0x"));
        let bytes = hex::decode(&text).unwrap();
        assert!(bytes[64] == 27 || bytes[64] == 28);
        let signature = Signature::try_from(bytes.as_slice()).unwrap();
        assert!(signature.normalize_s().is_none(), "s must already be low");
        let recovered = signature
            .recover_address_from_prehash(&quote_signing_hash(&quote, &domain))
            .unwrap();
        assert_eq!(recovered, signer.address());
    }
}
