//! Paid clone creation over HTTP against a SignedVault on the local chain: quote, pay, submit,
//! replay, confirmations, and the rejections that must create nothing.

use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use clones_test_chain::{FundedAccount, TestChain};
use clones_vault::{Quote, contract};
use serde_json::{Value, json};

use crate::clones::{Member, member};
use crate::support::{TestApp, spawn, spawn_with};

const PRICES: &str = "clone_creation=1000000,capacity_upgrade:pro=2000000,capacity_upgrade:elite=3000000,audition_fee=500000";

pub struct Payments {
    pub app: TestApp,
    pub chain: TestChain,
    vault: Address,
}

/// An API whose payments go to a freshly deployed vault; deposits need `confirmations`.
pub async fn payments(confirmations: u64) -> Payments {
    let chain = TestChain::connect().await.unwrap();
    let owner = chain.funded_account().await.unwrap();
    let quote_key = PrivateKeySigner::random();
    let vault = owner
        .deploy(
            "SignedVault",
            &(quote_key.address(), owner.address()).abi_encode_params(),
        )
        .await
        .unwrap();
    let key = format!("0x{}", hex::encode(quote_key.to_bytes()));
    let app = spawn_with(&[
        "--vault-address",
        &vault.to_string(),
        "--payments-rpc-url",
        chain.url().as_str(),
        "--quote-signer-key",
        &key,
        "--price-table",
        PRICES,
        "--deposit-confirmations",
        &confirmations.to_string(),
    ])
    .await;
    Payments { app, chain, vault }
}

impl Payments {
    /// A signed-in user whose wallet is a funded chain account.
    pub async fn payer(&self) -> (Member, FundedAccount) {
        let account = self.chain.funded_account().await.unwrap();
        (member(&self.app, account.signer()).await, account)
    }

    async fn quote(&self, member: &Member, payer: Address) -> Value {
        let reply = self
            .app
            .post(
                "/api/v1/economy/quotes",
                &json!({
                    "purpose": "clone_creation",
                    "payerAddress": payer.to_string(),
                    "cloneName": "Paid over HTTP"
                }),
                Some(&member.token),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    /// Calls `deposit` on the vault with `value` wei; returns the hash and whether it succeeded.
    pub async fn pay(
        &self,
        from: &FundedAccount,
        signed: &Value,
        value: Option<U256>,
    ) -> (B256, bool) {
        let quote: Quote = serde_json::from_value(signed["quote"].clone()).unwrap();
        let call = contract::SignedVault::depositCall {
            quote: quote.to_sol(),
            signature: signed["signature"].as_str().unwrap().parse().unwrap(),
        };
        let request = TransactionRequest::default()
            .to(self.vault)
            .value(value.unwrap_or(quote.amount))
            .input(call.abi_encode().into())
            .gas_limit(500_000);
        let receipt = from.send(request).await.unwrap();
        (receipt.transaction_hash, receipt.status())
    }

    pub async fn submit(&self, member: &Member, signed: &Value, tx: B256) -> crate::support::Reply {
        self.app
            .post(
                "/api/v1/economy/deposits",
                &json!({ "quoteId": signed["quoteId"], "txHash": tx.to_string() }),
                Some(&member.token),
            )
            .await
    }

    async fn clone_count(&self, member: &Member) -> usize {
        let listed = self
            .app
            .get("/api/v1/clone/clones", Some(&member.token))
            .await;
        listed.body["items"].as_array().unwrap().len()
    }
}

#[tokio::test]
async fn a_paid_deposit_creates_one_clone_however_often_it_is_submitted() {
    let env = payments(1).await;
    let (alice, wallet) = env.payer().await;
    let signed = env.quote(&alice, wallet.address()).await;
    assert_eq!(signed["quote"]["amount"], "1000000");
    assert_eq!(signed["vault"], env.vault.to_string().to_lowercase());
    let (tx, ok) = env.pay(&wallet, &signed, None).await;
    assert!(ok);

    // Two submissions at once and one more later: one purchase, one clone.
    let (first, second) = tokio::join!(
        env.submit(&alice, &signed, tx),
        env.submit(&alice, &signed, tx)
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{} / {}", first.body, second.body);
    assert_eq!(first.body["purchase"], second.body["purchase"]);
    let replay = env.submit(&alice, &signed, tx).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.body["state"], "confirmed");
    assert_eq!(replay.body["created"], false);
    let purchase = &replay.body["purchase"];
    assert_eq!(purchase["purpose"], "clone_creation");
    assert_eq!(purchase["amount"], "1000000");

    let deposit_id = replay.body["depositId"].as_str().unwrap();
    let deposit = env
        .app
        .get(
            &format!("/api/v1/economy/deposits/{deposit_id}"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(deposit.status, 200, "{}", deposit.body);
    assert_eq!(deposit.body["purchase"], *purchase);
    let purchases = env
        .app
        .get("/api/v1/economy/purchases", Some(&alice.token))
        .await;
    assert_eq!(purchases.body["items"], json!([purchase]));

    let clones = env
        .app
        .get("/api/v1/clone/clones", Some(&alice.token))
        .await;
    let items = clones.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], purchase["cloneId"]);
    assert_eq!(items[0]["displayName"], "Paid over HTTP");
    assert_eq!(items[0]["entitlement"]["tier"], "starter");

    // Someone else cannot see the deposit, nor claim the payment with it.
    let (bob, _) = env.payer().await;
    env.app
        .get(
            &format!("/api/v1/economy/deposits/{deposit_id}"),
            Some(&bob.token),
        )
        .await
        .assert_problem(404, "deposit_not_found");
    env.submit(&bob, &signed, tx)
        .await
        .assert_problem(404, "quote_not_found");
    assert_eq!(env.clone_count(&bob).await, 0);
}

#[tokio::test]
async fn an_under_confirmed_deposit_is_accepted_and_completes_later() {
    // Far more confirmations than other tests sharing the chain can mine meanwhile.
    let env = payments(10_000).await;
    let (alice, wallet) = env.payer().await;
    let signed = env.quote(&alice, wallet.address()).await;
    let (tx, _) = env.pay(&wallet, &signed, None).await;

    let pending = env.submit(&alice, &signed, tx).await;
    assert_eq!(pending.status, 202, "{}", pending.body);
    assert_eq!(pending.body["state"], "pending");
    assert_eq!(pending.body["requiredConfirmations"], 10_000);
    assert!(pending.body["purchase"].is_null());
    assert_eq!(env.clone_count(&alice).await, 0);

    env.chain.mine(10_000).await.unwrap();
    let confirmed = env.submit(&alice, &signed, tx).await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.body);
    assert_eq!(confirmed.body["depositId"], pending.body["depositId"]);
    assert_eq!(env.clone_count(&alice).await, 1);
}

#[tokio::test]
async fn bad_deposits_are_refused_and_create_nothing() {
    let env = payments(1).await;
    let (alice, wallet) = env.payer().await;

    // A quote for a wallet that is not the caller's.
    let stranger = Address::repeat_byte(0x42);
    let reply = env
        .app
        .post(
            "/api/v1/economy/quotes",
            &json!({ "purpose": "clone_creation", "payerAddress": stranger.to_string(), "cloneName": "x" }),
            Some(&alice.token),
        )
        .await;
    reply.assert_problem(422, "payer_not_yours");

    let signed = env.quote(&alice, wallet.address()).await;
    // Not a transaction hash.
    env.app
        .post(
            "/api/v1/economy/deposits",
            &json!({ "quoteId": signed["quoteId"], "txHash": "0x1234" }),
            Some(&alice.token),
        )
        .await
        .assert_problem(400, "invalid_tx_hash");
    // Underpaid: the vault reverts, and the reverted transaction is refused.
    let (reverted, ok) = env.pay(&wallet, &signed, Some(U256::from(1u64))).await;
    assert!(!ok);
    env.submit(&alice, &signed, reverted)
        .await
        .assert_problem(422, "deposit_reverted");
    // A paid transaction that is not this quote's deposit.
    let other = env.quote(&alice, wallet.address()).await;
    let (paid_other, ok) = env.pay(&wallet, &other, None).await;
    assert!(ok);
    env.submit(&alice, &signed, paid_other)
        .await
        .assert_problem(422, "quote_mismatch");
    assert_eq!(env.clone_count(&alice).await, 0);
    let purchases = env
        .app
        .get("/api/v1/economy/purchases", Some(&alice.token))
        .await;
    assert_eq!(purchases.body["items"], json!([]));

    // A quote past its deadline: the vault refuses the payment, so the submission is refused.
    env.app.clock.advance(chrono::Duration::hours(-2));
    let stale = env.quote(&alice, wallet.address()).await;
    env.app.clock.advance(chrono::Duration::hours(2));
    let (refused, ok) = env.pay(&wallet, &stale, None).await;
    assert!(!ok, "the vault refuses an expired quote");
    env.submit(&alice, &stale, refused)
        .await
        .assert_problem(422, "deposit_reverted");
    // A deposit that never shows up on chain waits, then is given up after the quote expires.
    let unseen = env.quote(&alice, wallet.address()).await;
    let missing = B256::repeat_byte(0xab);
    let waiting = env.submit(&alice, &unseen, missing).await;
    assert_eq!(waiting.status, 202, "{}", waiting.body);
    env.app.clock.advance(chrono::Duration::hours(2));
    let alice = member(&env.app, wallet.signer()).await;
    env.submit(&alice, &unseen, missing)
        .await
        .assert_problem(422, "quote_expired");
    assert_eq!(env.clone_count(&alice).await, 0);
}

#[tokio::test]
async fn without_payment_settings_quotes_are_unavailable() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let reply = app
        .post(
            "/api/v1/economy/quotes",
            &json!({ "purpose": "clone_creation", "payerAddress": Address::ZERO.to_string(), "cloneName": "x" }),
            Some(&alice.token),
        )
        .await;
    reply.assert_problem(503, "payments_not_configured");
}
