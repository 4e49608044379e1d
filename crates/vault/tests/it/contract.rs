//! `SignedVault` itself: what it accepts, what it refuses, and the owner's functions.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolEvent};
use clones_vault::contract::SignedVault::SignedVaultErrors as E;
use clones_vault::contract::{Deposited, QuoteSignerChanged, SignedVault, Withdrawn};
use clones_vault::{Purpose, QuoteSigner};

use crate::support::{Env, call_request, deploy_vault, send};

const ETH: u64 = 1_000_000_000_000_000_000;

async fn nonce_used(env: &Env, nonce: U256) -> bool {
    let call = SignedVault::nonceUsedCall { nonce };
    let output = env
        .reader()
        .call(call_request(env.vault, &call))
        .await
        .unwrap();
    SignedVault::nonceUsedCall::abi_decode_returns(&output).unwrap()
}

#[tokio::test]
async fn native_deposit_moves_the_coin_and_emits_deposited() {
    let env = Env::new().await;
    let payer = env.account().await;
    let mut quote = env.quote(payer.address(), Address::ZERO, ETH / 10).await;
    quote.purpose = Purpose::AuditionFee;
    assert!(!nonce_used(&env, quote.nonce).await);

    let receipt = env.pay(&payer, &quote).await;

    let balance = env.reader().get_balance(env.vault).await.unwrap();
    assert_eq!(balance, U256::from(ETH / 10));
    assert!(nonce_used(&env, quote.nonce).await);
    let logs: Vec<_> = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == env.vault)
        .collect();
    assert_eq!(logs.len(), 1);
    let event = logs[0].log_decode::<Deposited>().unwrap().inner.data;
    assert_eq!(
        event,
        Deposited {
            resolver: env.vault,
            nonce: quote.nonce,
            payer: payer.address(),
            purpose: Purpose::AuditionFee.to_bytes32(),
            token: Address::ZERO,
            amount: quote.amount,
        }
    );
    // The indexed fields are the topics, in order.
    assert_eq!(
        logs[0].topics(),
        &[
            Deposited::SIGNATURE_HASH,
            env.vault.into_word(),
            B256::from(quote.nonce),
            payer.address().into_word(),
        ]
    );
}

#[tokio::test]
async fn erc20_deposit_pulls_the_tokens() {
    let env = Env::new().await;
    let payer = env.account().await;
    env.fund_tokens(env.token, &payer, 5_000_000, 2_500_000)
        .await;
    let quote = env.quote(payer.address(), env.token, 2_500_000).await;

    env.pay(&payer, &quote).await;

    assert_eq!(
        env.token_balance(env.token, env.vault).await,
        U256::from(2_500_000u64)
    );
    assert_eq!(
        env.token_balance(env.token, payer.address()).await,
        U256::from(2_500_000u64)
    );
    assert!(nonce_used(&env, quote.nonce).await);
}

#[tokio::test]
async fn tokens_that_return_nothing_are_accepted() {
    let env = Env::new().await;
    let token = env.owner.deploy("TestTokenNoReturn", &[]).await.unwrap();
    let payer = env.account().await;
    env.fund_tokens(token, &payer, 1_000, 1_000).await;
    let quote = env.quote(payer.address(), token, 1_000).await;

    env.pay(&payer, &quote).await;

    assert_eq!(
        env.token_balance(token, env.vault).await,
        U256::from(1_000u64)
    );
}

#[tokio::test]
async fn a_quote_signed_by_another_key_is_refused() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let forged: Bytes = QuoteSigner::random()
        .sign(&quote, &env.domain())
        .unwrap()
        .parse()
        .unwrap();
    let request = env.deposit_request(&quote, forged, quote.amount);
    env.assert_reverts(
        &payer,
        request,
        E::BadSignature(SignedVault::BadSignature {}),
    )
    .await;
    // A signature for another vault's domain is refused too.
    let mut other = env.domain();
    other.vault = env.token;
    let wrong_domain: Bytes = env.signer.sign(&quote, &other).unwrap().parse().unwrap();
    let request = env.deposit_request(&quote, wrong_domain, quote.amount);
    env.assert_reverts(
        &payer,
        request,
        E::BadSignature(SignedVault::BadSignature {}),
    )
    .await;
    assert!(!nonce_used(&env, quote.nonce).await);
}

#[tokio::test]
async fn malformed_and_malleable_signatures_are_refused() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let good = env.sign(&quote).to_vec();
    let bad = E::BadSignature(SignedVault::BadSignature {});

    // The twin signature (n - s, flipped v) recovers the same signer but is refused.
    let order = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let s = U256::from_be_slice(&good[32..64]);
    let mut twin = good.clone();
    twin[32..64].copy_from_slice(&(order - s).to_be_bytes::<32>());
    twin[64] = if good[64] == 27 { 28 } else { 27 };
    // v as 0/1 instead of 27/28.
    let mut raw_v = good.clone();
    raw_v[64] -= 27;
    for signature in [
        twin,
        raw_v,
        good[..64].to_vec(),
        [good.clone(), vec![0]].concat(),
    ] {
        let request = env.deposit_request(&quote, signature.into(), quote.amount);
        env.assert_reverts(&payer, request, bad.clone()).await;
    }
    env.pay(&payer, &quote).await;
}

#[tokio::test]
async fn an_expired_quote_is_refused() {
    let env = Env::new().await;
    let payer = env.account().await;
    let mut quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    quote.deadline = env.chain_time().await - 1;
    let request = env.deposit_request(&quote, env.sign(&quote), quote.amount);
    let error = match env
        .reader()
        .call(request.clone().from(payer.address()))
        .await
    {
        Err(error) => error,
        Ok(output) => panic!("expected a revert, got {output}"),
    };
    let decoded = error
        .as_error_resp()
        .and_then(|payload| payload.as_decoded_interface_error::<E>());
    assert!(
        matches!(decoded, Some(E::QuoteExpired(ref expired)) if expired.deadline == U256::from(quote.deadline)),
        "{decoded:?}"
    );
    let receipt = send(&payer, request.gas_limit(500_000)).await;
    assert!(!receipt.status());
}

#[tokio::test]
async fn a_nonce_is_paid_once() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    env.pay(&payer, &quote).await;
    let request = env.deposit_request(&quote, env.sign(&quote), quote.amount);
    env.assert_reverts(
        &payer,
        request,
        E::NonceUsed(SignedVault::NonceUsed { nonce: quote.nonce }),
    )
    .await;
}

#[tokio::test]
async fn the_native_value_must_equal_the_amount() {
    let env = Env::new().await;
    let payer = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    for sent in [999u64, 1_001, 0] {
        let request = env.deposit_request(&quote, env.sign(&quote), U256::from(sent));
        let expected = E::WrongAmount(SignedVault::WrongAmount {
            expected: quote.amount,
            sent: U256::from(sent),
        });
        env.assert_reverts(&payer, request, expected).await;
    }
    let mut zero = env.quote(payer.address(), Address::ZERO, 0).await;
    zero.amount = U256::ZERO;
    let request = env.deposit_request(&zero, env.sign(&zero), U256::ZERO);
    env.assert_reverts(&payer, request, E::ZeroAmount(SignedVault::ZeroAmount {}))
        .await;
}

#[tokio::test]
async fn only_the_payer_can_pay_a_quote() {
    let env = Env::new().await;
    let payer = env.account().await;
    let stranger = env.account().await;
    let quote = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let request = env.deposit_request(&quote, env.sign(&quote), quote.amount);
    let expected = E::WrongPayer(SignedVault::WrongPayer {
        payer: payer.address(),
        caller: stranger.address(),
    });
    env.assert_reverts(&stranger, request, expected).await;
    // Rewriting the payer to oneself breaks the signature.
    let mut stolen = quote.clone();
    stolen.payer = stranger.address();
    let request = env.deposit_request(&stolen, env.sign(&quote), quote.amount);
    env.assert_reverts(
        &stranger,
        request,
        E::BadSignature(SignedVault::BadSignature {}),
    )
    .await;
}

#[tokio::test]
async fn token_quotes_need_an_allowance_and_no_native_value() {
    let env = Env::new().await;
    let payer = env.account().await;
    env.fund_tokens(env.token, &payer, 1_000, 0).await;
    let quote = env.quote(payer.address(), env.token, 1_000).await;
    let request = env.deposit_request(&quote, env.sign(&quote), U256::ZERO);
    env.assert_reverts(
        &payer,
        request,
        E::TransferFailed(SignedVault::TransferFailed {}),
    )
    .await;

    env.fund_tokens(env.token, &payer, 0, 1_000).await;
    let request = env.deposit_request(&quote, env.sign(&quote), U256::from(1u64));
    let expected = E::WrongAmount(SignedVault::WrongAmount {
        expected: U256::ZERO,
        sent: U256::from(1u64),
    });
    env.assert_reverts(&payer, request, expected).await;

    // A token address without code would "succeed" silently; the vault refuses it.
    let nowhere = env.account().await.address();
    let fake = env.quote(payer.address(), nowhere, 1_000).await;
    let request = env.deposit_request(&fake, env.sign(&fake), U256::ZERO);
    env.assert_reverts(
        &payer,
        request,
        E::TransferFailed(SignedVault::TransferFailed {}),
    )
    .await;

    env.pay(&payer, &quote).await;
}

#[tokio::test]
async fn plain_transfers_to_the_vault_are_refused() {
    let env = Env::new().await;
    let payer = env.account().await;
    let request = TransactionRequest::default()
        .to(env.vault)
        .value(U256::from(1u64))
        .gas_limit(100_000);
    assert!(!send(&payer, request).await.status());
}

#[tokio::test]
async fn the_owner_rotates_the_signer_and_withdraws() {
    let env = Env::new().await;
    let payer = env.account().await;
    let stranger = env.account().await;
    let native = env.quote(payer.address(), Address::ZERO, 1_000).await;
    env.pay(&payer, &native).await;
    env.fund_tokens(env.token, &payer, 700, 700).await;
    let tokens = env.quote(payer.address(), env.token, 700).await;
    env.pay(&payer, &tokens).await;

    let new_signer = QuoteSigner::random();
    let rotate = call_request(
        env.vault,
        &SignedVault::setQuoteSignerCall {
            newSigner: new_signer.address(),
        },
    );
    env.assert_reverts(
        &stranger,
        rotate.clone(),
        E::NotOwner(SignedVault::NotOwner {}),
    )
    .await;
    let receipt = send(&env.owner, rotate).await;
    assert!(receipt.status());
    let changed = receipt.decoded_log::<QuoteSignerChanged>().unwrap().data;
    assert_eq!(
        (changed.previousSigner, changed.newSigner),
        (env.signer.address(), new_signer.address())
    );
    let output = env
        .reader()
        .call(call_request(env.vault, &SignedVault::quoteSignerCall {}))
        .await
        .unwrap();
    assert_eq!(
        SignedVault::quoteSignerCall::abi_decode_returns(&output).unwrap(),
        new_signer.address()
    );
    // Quotes signed by the old key are no longer payable.
    let stale = env.quote(payer.address(), Address::ZERO, 1_000).await;
    let request = env.deposit_request(&stale, env.sign(&stale), stale.amount);
    env.assert_reverts(
        &payer,
        request,
        E::BadSignature(SignedVault::BadSignature {}),
    )
    .await;

    let to = env.account().await.address();
    let withdraw = |token: Address, amount: u64| {
        call_request(
            env.vault,
            &SignedVault::withdrawCall {
                token,
                to,
                amount: U256::from(amount),
            },
        )
    };
    env.assert_reverts(
        &stranger,
        withdraw(Address::ZERO, 1),
        E::NotOwner(SignedVault::NotOwner {}),
    )
    .await;
    let before = env.reader().get_balance(to).await.unwrap();
    let receipt = send(&env.owner, withdraw(Address::ZERO, 400)).await;
    assert!(receipt.status());
    assert_eq!(
        env.reader().get_balance(to).await.unwrap() - before,
        U256::from(400u64)
    );
    let withdrawn = receipt.decoded_log::<Withdrawn>().unwrap().data;
    assert_eq!((withdrawn.token, withdrawn.to), (Address::ZERO, to));
    assert!(send(&env.owner, withdraw(env.token, 700)).await.status());
    assert_eq!(env.token_balance(env.token, to).await, U256::from(700u64));
    // More than the vault holds fails.
    env.assert_reverts(
        &env.owner,
        withdraw(Address::ZERO, 1_000),
        E::TransferFailed(SignedVault::TransferFailed {}),
    )
    .await;
}

#[tokio::test]
async fn zero_addresses_are_refused_at_deployment() {
    let env = Env::new().await;
    let args = alloy::sol_types::SolValue::abi_encode_params(&(Address::ZERO, env.owner.address()));
    assert!(env.owner.deploy("SignedVault", &args).await.is_err());
    // A second vault with the same signer is a separate deployment with its own nonces.
    let second = deploy_vault(&env.owner, env.signer.address()).await;
    assert_ne!(second, env.vault);
}
