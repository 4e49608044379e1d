//! The platform's priced payment ([`Quote`]), the vault's EIP-712 domain, and the digest the
//! quote signer signs. The digest must equal the contract's `quoteDigest`, which the
//! integration tests check against a deployed vault.

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use crate::{Purpose, contract};

/// The EIP-712 domain name of every vault.
pub const DOMAIN_NAME: &str = "SignedVault";
/// The EIP-712 domain version of every vault.
pub const DOMAIN_VERSION: &str = "1";

/// A priced payment the platform signs and the payer submits to the vault.
///
/// Amounts are integers in the token's base units (wei for the native coin, 6 decimals for
/// USDC-like tokens), never floats. In JSON (camelCase) `amount` and `nonce` are decimal strings
/// so that no client rounds them through a float; `deadline` is unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// The only account allowed to pay the quote.
    pub payer: Address,
    /// What the payment is for.
    pub purpose: Purpose,
    /// The ERC-20 token, or [`Address::ZERO`] for the native coin.
    pub token: Address,
    /// The exact amount in base units.
    #[serde(with = "decimal")]
    pub amount: U256,
    /// The quote's identifier; the vault accepts each nonce once.
    #[serde(with = "decimal")]
    pub nonce: U256,
    /// The last block timestamp (unix seconds) at which the quote can be paid.
    pub deadline: u64,
}

impl Quote {
    /// Whether the quote is paid in the native coin.
    pub fn is_native(&self) -> bool {
        self.token == Address::ZERO
    }

    /// The Solidity form, as passed to `deposit` and hashed for EIP-712.
    pub fn to_sol(&self) -> contract::Quote {
        contract::Quote {
            payer: self.payer,
            purpose: self.purpose.to_bytes32(),
            token: self.token,
            amount: self.amount,
            nonce: self.nonce,
            deadline: U256::from(self.deadline),
        }
    }
}

/// Which vault a quote is for: the EIP-712 domain is `SignedVault`, version `1`, this chain id
/// and this vault address, so a signature is valid for exactly one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultDomain {
    /// The chain the vault lives on.
    pub chain_id: u64,
    /// The vault's address (the EIP-712 `verifyingContract`).
    pub vault: Address,
}

impl VaultDomain {
    /// The EIP-712 domain.
    pub fn eip712_domain(&self) -> Eip712Domain {
        eip712_domain! {
            name: DOMAIN_NAME,
            version: DOMAIN_VERSION,
            chain_id: self.chain_id,
            verifying_contract: self.vault,
        }
    }

    /// The domain separator; equals the contract's `DOMAIN_SEPARATOR()`.
    pub fn separator(&self) -> B256 {
        self.eip712_domain().separator()
    }
}

/// The EIP-712 digest of `quote` in `domain`: what the quote signer signs and what the contract
/// recovers the signer from.
pub fn quote_signing_hash(quote: &Quote, domain: &VaultDomain) -> B256 {
    quote.to_sol().eip712_signing_hash(&domain.eip712_domain())
}

/// Serde for `U256` as a decimal string.
pub(crate) mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<U256, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(D::Error::custom("expected a decimal integer string"));
        }
        U256::from_str_radix(&text, 10).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, keccak256};

    fn sample() -> Quote {
        Quote {
            payer: address!("0x1111111111111111111111111111111111111111"),
            purpose: Purpose::AuditionFee,
            token: Address::ZERO,
            amount: U256::from(10u64).pow(U256::from(18u64)),
            nonce: U256::from(7u64),
            deadline: 1_900_000_000,
        }
    }

    #[test]
    fn type_string_matches_the_solidity_struct() {
        let encoded = contract::Quote::eip712_encode_type();
        assert_eq!(
            encoded,
            "Quote(address payer,bytes32 purpose,address token,uint256 amount,uint256 nonce,uint256 deadline)"
        );
        assert_eq!(
            contract::Quote::eip712_type_hash(&sample().to_sol()),
            keccak256(encoded.as_bytes())
        );
        // The literal in the contract source is the same string.
        let source = include_str!("../../../contracts/src/SignedVault.sol");
        assert!(source.contains(&format!("\"{encoded}\"")));
    }

    #[test]
    fn the_digest_depends_on_every_field_and_on_the_domain() {
        let domain = VaultDomain {
            chain_id: 31337,
            vault: address!("0x2222222222222222222222222222222222222222"),
        };
        let base = quote_signing_hash(&sample(), &domain);
        let changes: [fn(&mut Quote); 6] = [
            |q| q.payer = Address::ZERO,
            |q| q.purpose = Purpose::CloneCreation,
            |q| q.token = address!("0x3333333333333333333333333333333333333333"),
            |q| q.amount += U256::from(1u64),
            |q| q.nonce += U256::from(1u64),
            |q| q.deadline += 1,
        ];
        for change in changes {
            let mut quote = sample();
            change(&mut quote);
            assert_ne!(quote_signing_hash(&quote, &domain), base);
        }
        let other_chain = VaultDomain {
            chain_id: 1,
            ..domain
        };
        assert_ne!(quote_signing_hash(&sample(), &other_chain), base);
        let other_vault = VaultDomain {
            vault: Address::ZERO,
            ..domain
        };
        assert_ne!(quote_signing_hash(&sample(), &other_vault), base);
    }

    #[test]
    fn json_uses_decimal_strings_for_big_integers() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["amount"], "1000000000000000000");
        assert_eq!(json["nonce"], "7");
        assert_eq!(json["purpose"], "audition_fee");
        assert_eq!(json["deadline"], 1_900_000_000u64);
        assert_eq!(
            serde_json::from_value::<Quote>(json.clone()).unwrap(),
            sample()
        );
        for bad in ["0x10", "-1", "1.5", "", "1e18"] {
            let mut json = json.clone();
            json["amount"] = bad.into();
            assert!(serde_json::from_value::<Quote>(json).is_err(), "{bad}");
        }
    }
}
