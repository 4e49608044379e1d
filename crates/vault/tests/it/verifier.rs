//! `DepositVerifier` against real deposits: what it confirms, what it refuses, and when it
//! says "not yet".

use alloy::primitives::{Address, U256};
use clones_kernel::{DomainError, ErrorKind};
use clones_vault::contract::SignedVault;
use clones_vault::contract::SignedVault::SignedVaultErrors as E;
use clones_vault::{
    DepositStatus, DepositVerifier, Purpose, QuoteSigner, VaultConfig, VaultDomain, VaultError,
};

use crate::support::{Env, TestToken, call_request, confirmed, deploy_vault, send};

#[tokio::test]
async fn a_native_deposit_is_confirmed_with_every_field() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 77_000).await;
    let receipt = env.pay(&payer, &quote).await;

    let deposit = confirmed(
        env.verifier(1)
            .check(receipt.transaction_hash, &quote)
            .await
            .unwrap(),
    );

    let log = receipt
        .inner
        .logs()
        .iter()
        .find(|log| log.address() == env.vault)
        .unwrap();
    assert_eq!(deposit.tx_hash, receipt.transaction_hash);
    assert_eq!(Some(deposit.block_number), receipt.block_number);
    assert_eq!(Some(deposit.block_hash), receipt.block_hash);
    assert_eq!(Some(deposit.log_index), log.log_index);
    assert_eq!(deposit.resolver, env.vault);
    assert_eq!(deposit.nonce, quote.nonce);
    assert_eq!(deposit.payer, payer.address());
    assert_eq!(deposit.purpose, Purpose::CloneCreation);
    assert_eq!(deposit.token, Address::ZERO);
    assert_eq!(deposit.amount, U256::from(77_000u64));
}

#[tokio::test]
async fn a_token_deposit_is_confirmed() {
    let env = Env::new().await;
    let payer = env.account().await;
    env.fund_tokens(env.token, &payer, 10_000_000, 10_000_000)
        .await;
    let mut quote = env.quote(payer.address(), env.token, 10_000_000).await;
    quote.purpose = Purpose::CapacityUpgrade;
    let receipt = env.pay(&payer, &quote).await;

    let deposit = confirmed(
        env.verifier(1)
            .check(receipt.transaction_hash, &quote)
            .await
            .unwrap(),
    );
    assert_eq!(deposit.token, env.token);
    assert_eq!(deposit.purpose, Purpose::CapacityUpgrade);
    assert_eq!(deposit.amount, U256::from(10_000_000u64));
    // The token's own Transfer log in the same receipt does not confuse the verifier.
    assert!(receipt.inner.logs().len() >= 2);
}

#[tokio::test]
async fn an_unknown_hash_is_pending() {
    let env = Env::new().await;
    let quote = env.quote(env.owner.address(), Address::ZERO, 1).await;
    let status = env
        .verifier(3)
        .check(crate::support::random_b256(), &quote)
        .await
        .unwrap();
    assert_eq!(
        status,
        DepositStatus::Pending {
            confirmations: 0,
            required: 3
        }
    );
}

#[tokio::test]
async fn a_reverted_deposit_is_refused() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let request = env.deposit_request(&quote, env.sign(&quote), U256::from(1u64));
    let expected = E::WrongAmount(SignedVault::WrongAmount {
        expected: quote.amount,
        sent: U256::from(1u64),
    });
    let tx_hash = env.assert_reverts(&payer, request, expected).await;

    let error = env.verifier(1).check(tx_hash, &quote).await.unwrap_err();
    assert_eq!(error, VaultError::Reverted(tx_hash));
    assert_eq!(error.code(), "deposit_reverted");
}

#[tokio::test]
async fn each_differing_field_is_named() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 5_000).await;
    let tx_hash = env.pay(&payer, &quote).await.transaction_hash;
    let verifier = env.verifier(1);

    let mut cases = Vec::new();
    let mut amount = quote.clone();
    amount.amount += U256::from(1u64);
    cases.push(("amount", amount));
    let mut payer_changed = quote.clone();
    payer_changed.payer = env.owner.address();
    cases.push(("payer", payer_changed));
    let mut nonce = quote.clone();
    nonce.nonce += U256::from(1u64);
    cases.push(("nonce", nonce));
    let mut purpose = quote.clone();
    purpose.purpose = Purpose::AuditionFee;
    cases.push(("purpose", purpose));
    let mut token = quote.clone();
    token.token = env.token;
    cases.push(("token", token));

    for (field, expected) in cases {
        let error = verifier.check(tx_hash, &expected).await.unwrap_err();
        assert_eq!(error, VaultError::QuoteMismatch { field }, "{field}");
        assert_eq!(error.code(), "quote_mismatch");
        assert_eq!(error.kind(), ErrorKind::RuleViolation);
    }
    // The deadline is the contract's business, not part of the event.
    let mut deadline = quote.clone();
    deadline.deadline += 1;
    confirmed(verifier.check(tx_hash, &deadline).await.unwrap());
}

#[tokio::test]
async fn a_transaction_without_a_vault_log_is_not_a_deposit() {
    let env = Env::new().await;
    let payer = env.account().await;
    env.fund_tokens(env.token, &payer, 1_000, 0).await;
    // A plain token transfer to the vault: a Transfer log, but no Deposited log.
    let transfer = TestToken::transferCall {
        to: env.vault,
        amount: U256::from(1_000u64),
    };
    let receipt = send(&payer, call_request(env.token, &transfer)).await;
    assert!(receipt.status());
    let quote = env.quote(payer.address(), env.token, 1_000).await;

    let error = env
        .verifier(1)
        .check(receipt.transaction_hash, &quote)
        .await
        .unwrap_err();
    assert_eq!(error, VaultError::NotAVaultDeposit);
    assert_eq!(error.code(), "not_a_vault_deposit");
}

#[tokio::test]
async fn a_deposit_into_another_vault_is_not_a_deposit() {
    let env = Env::new().await;
    let payer = env.account().await;
    // The same signer and the same event, emitted by another deployment.
    let other = deploy_vault(&env.owner, env.signer.address()).await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let other_domain = VaultDomain {
        chain_id: clones_test_chain::CHAIN_ID,
        vault: other,
    };
    let signature = env
        .signer
        .sign(&quote, &other_domain)
        .unwrap()
        .parse()
        .unwrap();
    let request = call_request(
        other,
        &SignedVault::depositCall {
            quote: quote.to_sol(),
            signature,
        },
    )
    .value(quote.amount);
    let receipt = send(&payer, request).await;
    assert!(receipt.status());

    let error = env
        .verifier(1)
        .check(receipt.transaction_hash, &quote)
        .await
        .unwrap_err();
    assert_eq!(error, VaultError::NotAVaultDeposit);
    // Configured for the other vault, the same transaction confirms.
    let verifier = DepositVerifier::new(VaultConfig {
        vault: other,
        ..env.verifier(1).config().clone()
    });
    confirmed(
        verifier
            .check(receipt.transaction_hash, &quote)
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn a_deposit_waits_for_its_confirmations() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let tx_hash = env.pay(&payer, &quote).await.transaction_hash;
    let verifier = env.verifier(40);

    match verifier.check(tx_hash, &quote).await.unwrap() {
        // Other tests mine blocks concurrently, so the count is at least one, not exactly one.
        DepositStatus::Pending {
            confirmations,
            required,
        } => {
            assert_eq!(required, 40);
            assert!((1..40).contains(&confirmations), "{confirmations}");
        }
        other => panic!("expected pending, got {other:?}"),
    }

    env.mine(40).await;
    let deposit = confirmed(verifier.check(tx_hash, &quote).await.unwrap());
    assert_eq!(deposit.nonce, quote.nonce);
}

#[tokio::test]
async fn a_verifier_for_another_chain_refuses_to_answer() {
    let env = Env::new().await;
    let verifier = DepositVerifier::new(VaultConfig {
        chain_id: 1,
        ..env.verifier(1).config().clone()
    });
    let quote = env.quote(env.owner.address(), Address::ZERO, 1).await;
    let error = verifier
        .check(crate::support::random_b256(), &quote)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        VaultError::ChainMismatch {
            expected: 1,
            actual: clones_test_chain::CHAIN_ID
        }
    );
    assert_eq!(error.code(), "chain_mismatch");
}

#[tokio::test]
async fn an_unreachable_rpc_is_retryable() {
    let env = Env::new().await;
    let verifier = DepositVerifier::new(VaultConfig {
        // Nothing listens on port 9 (discard) on loopback.
        rpc_url: "http://127.0.0.1:9".parse().unwrap(),
        ..env.verifier(1).config().clone()
    });
    let quote = env.quote(env.owner.address(), Address::ZERO, 1).await;
    let error = verifier
        .check(crate::support::random_b256(), &quote)
        .await
        .unwrap_err();
    assert!(matches!(error, VaultError::Rpc(_)), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(error.code(), "chain_unavailable");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_quote_signer_from_a_hex_key_signs_payable_quotes() {
    let env = Env::new().await;
    let key = alloy::signers::local::PrivateKeySigner::random();
    let signer = QuoteSigner::from_hex(&alloy::hex::encode_prefixed(key.to_bytes())).unwrap();
    let vault = deploy_vault(&env.owner, signer.address()).await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 9).await;
    let domain = VaultDomain {
        chain_id: clones_test_chain::CHAIN_ID,
        vault,
    };
    let signature = signer.sign(&quote, &domain).unwrap();
    assert_eq!(signature.len(), 132);
    let request = call_request(
        vault,
        &SignedVault::depositCall {
            quote: quote.to_sol(),
            signature: signature.parse().unwrap(),
        },
    )
    .value(quote.amount);
    let receipt = send(&payer, request).await;
    assert!(receipt.status());
    let verifier = DepositVerifier::new(VaultConfig {
        vault,
        ..env.verifier(1).config().clone()
    });
    confirmed(
        verifier
            .check(receipt.transaction_hash, &quote)
            .await
            .unwrap(),
    );
}
