//! The Rust EIP-712 hashing agrees with the deployed contract's.

use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolStruct};
use clones_vault::contract::SignedVault;
use clones_vault::{Purpose, Quote, quote_signing_hash};

use crate::support::{Env, call_request};

async fn view<C: SolCall>(env: &Env, call: C) -> C::Return {
    let output = env
        .reader()
        .call(call_request(env.vault, &call))
        .await
        .unwrap();
    C::abi_decode_returns(&output).unwrap()
}

#[tokio::test]
async fn the_digest_equals_the_contracts() {
    let env = Env::new().await;
    for (purpose, token, amount, nonce, deadline) in [
        (
            Purpose::CloneCreation,
            Address::ZERO,
            U256::from(1u64),
            U256::ZERO,
            0u64,
        ),
        (
            Purpose::CapacityUpgrade,
            env.token,
            U256::from(123_456_789u64),
            U256::MAX,
            u64::MAX,
        ),
        (
            Purpose::AuditionFee,
            env.vault,
            U256::MAX,
            U256::from(42u64),
            1_900_000_000,
        ),
    ] {
        let quote = Quote {
            payer: env.owner.address(),
            purpose,
            token,
            amount,
            nonce,
            deadline,
        };
        let on_chain = view(
            &env,
            SignedVault::quoteDigestCall {
                quote: quote.to_sol(),
            },
        )
        .await;
        assert_eq!(
            on_chain,
            quote_signing_hash(&quote, &env.domain()),
            "{quote:?}"
        );
    }
}

#[tokio::test]
async fn the_domain_separator_and_type_hash_equal_the_contracts() {
    let env = Env::new().await;
    let separator = view(&env, SignedVault::DOMAIN_SEPARATORCall {}).await;
    assert_eq!(separator, env.domain().separator());
    let type_hash = view(&env, SignedVault::QUOTE_TYPEHASHCall {}).await;
    let encoded = clones_vault::contract::Quote::eip712_encode_type();
    assert_eq!(type_hash, keccak256(encoded.as_bytes()));
    assert_eq!(
        encoded,
        "Quote(address payer,bytes32 purpose,address token,uint256 amount,uint256 nonce,uint256 deadline)"
    );
    let owner = view(&env, SignedVault::ownerCall {}).await;
    assert_eq!(owner, env.owner.address());
    let signer = view(&env, SignedVault::quoteSignerCall {}).await;
    assert_eq!(signer, env.signer.address());
}
