//! On the local chain: a real `CloneTokenFactory`, the owner's wallet signing what the views
//! return, the hashes submitted, and `confirm_pending` turning receipts into transitions (once,
//! even when seen twice), failures for reverted transactions, wrong events and strangers'
//! wallets, and a pool forwarding a deposit to the deposit address.

use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use clones_deployment::contract::{CloneTokenFactory, TrainingPool, clone_ref};
use clones_deployment::{
    ChainSettings, DeploymentStatus as S, DeploymentStep, EventKind, OwnerAction, TransactionStatus,
};
use clones_kernel::DomainError;
use clones_kernel::page::PageRequest;
use clones_test_chain::{FundedAccount, TestChain};
use uuid::Uuid;

use crate::support::{Fixture, fixture_on_chain, keyring};

alloy::sol! {
    /// The ERC-20 calls the tests make (CloneToken and TestToken).
    interface Erc20 {
        function balanceOf(address account) external view returns (uint256);
        function totalSupply() external view returns (uint256);
        function name() external view returns (string);
        function approve(address spender, uint256 amount) external returns (bool);
        function mint(address to, uint256 amount) external;
    }
}

const SUPPLY_TOKENS: u64 = 1_000;

struct Setup {
    chain: TestChain,
    f: Fixture,
    settings: ChainSettings,
    payment_token: Address,
}

async fn setup(confirmations: u64) -> Setup {
    let chain = TestChain::connect().await.unwrap();
    let deployer = chain.funded_account().await.unwrap();
    let factory = deployer.deploy("CloneTokenFactory", &[]).await.unwrap();
    let payment_token = deployer.deploy("TestToken", &[]).await.unwrap();
    let settings = ChainSettings {
        rpc_url: chain.url().clone(),
        chain_id: clones_test_chain::CHAIN_ID,
        factory,
        payment_token,
        required_confirmations: confirmations,
        token_supply: U256::from(SUPPLY_TOKENS) * U256::from(10u64).pow(U256::from(18u64)),
        recheck_interval: Duration::from_secs(5),
    };
    let f = fixture_on_chain(Some(keyring(&[1])), Some(settings.clone())).await;
    Setup {
        chain,
        f,
        settings,
        payment_token,
    }
}

/// Sends the view's transaction from `account` as a wallet would (with a fixed gas limit, so
/// a call that reverts is still mined instead of failing gas estimation).
async fn sign_and_send(account: &FundedAccount, to: &str, data: &str) -> TransactionReceipt {
    let request = TransactionRequest::default()
        .with_to(to.parse::<Address>().unwrap())
        .with_input(data.parse::<Bytes>().unwrap())
        .with_value(U256::ZERO)
        .with_gas_limit(5_000_000);
    account.send(request).await.unwrap()
}

async fn call<C: SolCall>(chain: &TestChain, to: Address, call: C) -> C::Return {
    let provider = ProviderBuilder::new().connect_http(chain.url().clone());
    let output = provider
        .call(
            TransactionRequest::default()
                .with_to(to)
                .with_input(call.abi_encode()),
        )
        .await
        .unwrap();
    C::abi_decode_returns(&output).unwrap()
}

fn hash(receipt: &TransactionReceipt) -> String {
    format!("{:#x}", receipt.transaction_hash)
}

#[tokio::test]
async fn the_owner_deploys_a_token_and_a_pool_that_forwards_deposits() {
    let Setup {
        chain,
        f,
        settings,
        payment_token,
    } = setup(1).await;
    let wallet = chain.funded_account().await.unwrap();
    let (owner, clone) = f.owner_of_wallet_with_clone(wallet.address()).await;

    // The token step: the view says what to sign.
    let started = f.act(owner, clone, OwnerAction::Initiate).await;
    assert_eq!(started.status, S::PendingTokenSignature);
    let request = started.transaction.clone().unwrap();
    assert_eq!(request.step, DeploymentStep::Token);
    assert_eq!(request.to, settings.factory.to_checksum(None));
    assert_eq!((request.value.as_str(), request.chain_id), ("0", 31337));
    let receipt = sign_and_send(&wallet, &request.to, &request.data).await;
    assert!(receipt.status());
    let submitted = f
        .deployments
        .submit_transaction(owner, clone, &hash(&receipt))
        .await
        .unwrap();
    assert_eq!(submitted.status, TransactionStatus::Pending);
    assert_eq!(submitted.step, DeploymentStep::Token);

    let report = f.deployments.confirm_pending(10).await.unwrap();
    assert_eq!((report.checked, report.confirmed), (1, 1));
    let created = f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(created.status, S::TokenCreated);
    assert!(created.transaction.is_none());
    let token: Address = created.token_address.clone().unwrap().parse().unwrap();
    let event = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| {
            log.log_decode::<CloneTokenFactory::CloneTokenCreated>()
                .ok()
        })
        .unwrap();
    assert_eq!(event.inner.data.token, token);
    assert_eq!(event.inner.data.cloneRef, clone_ref(clone));
    // The whole fixed supply went to the owner's wallet.
    assert_eq!(
        call(
            &chain,
            token,
            Erc20::balanceOfCall {
                account: wallet.address()
            }
        )
        .await,
        settings.token_supply
    );
    assert_eq!(
        call(&chain, token, Erc20::totalSupplyCall {}).await,
        settings.token_supply
    );
    assert!(
        call(&chain, token, Erc20::nameCall {})
            .await
            .starts_with("Clone ")
    );

    // The pool step, bound to the token, the payment token and the deposit address.
    let pooling = f.act(owner, clone, OwnerAction::InitiatePool).await;
    let request = pooling.transaction.clone().unwrap();
    assert_eq!(request.step, DeploymentStep::Pool);
    let deposit_address: Address = pooling.deposit_address.clone().unwrap().parse().unwrap();
    let receipt = sign_and_send(&wallet, &request.to, &request.data).await;
    assert!(receipt.status());
    f.deployments
        .submit_transaction(owner, clone, &hash(&receipt))
        .await
        .unwrap();
    let report = f.deployments.confirm_pending(10).await.unwrap();
    assert_eq!(report.confirmed, 1);
    let deployed = f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(deployed.status, S::Deployed);
    let pool: Address = deployed.pool_address.clone().unwrap().parse().unwrap();
    assert_eq!(call(&chain, pool, TrainingPool::tokenCall {}).await, token);
    assert_eq!(
        call(&chain, pool, TrainingPool::depositAddressCall {}).await,
        deposit_address
    );
    assert_eq!(
        call(&chain, pool, TrainingPool::paymentTokenCall {}).await,
        payment_token
    );

    // A depositor pays into the pool; the funds land on the deposit address, whose key the
    // platform holds.
    let depositor = chain.funded_account().await.unwrap();
    let amount = U256::from(2_500_000u64);
    let send = |to: Address, data: Vec<u8>| {
        depositor.send(
            TransactionRequest::default()
                .with_to(to)
                .with_input(Bytes::from(data)),
        )
    };
    assert!(
        send(
            payment_token,
            Erc20::mintCall {
                to: depositor.address(),
                amount
            }
            .abi_encode()
        )
        .await
        .unwrap()
        .status()
    );
    assert!(
        send(
            payment_token,
            Erc20::approveCall {
                spender: pool,
                amount
            }
            .abi_encode()
        )
        .await
        .unwrap()
        .status()
    );
    let paid = send(pool, TrainingPool::depositCall { amount }.abi_encode())
        .await
        .unwrap();
    assert!(paid.status());
    let log = paid
        .inner
        .logs()
        .iter()
        .find(|log| {
            log.address() == pool
                && log.topic0() == Some(&TrainingPool::PoolDeposit::SIGNATURE_HASH)
        })
        .unwrap()
        .log_decode::<TrainingPool::PoolDeposit>()
        .unwrap();
    assert_eq!(log.inner.data.depositor, depositor.address());
    assert_eq!(log.inner.data.amount, amount);
    assert_eq!(
        call(
            &chain,
            payment_token,
            Erc20::balanceOfCall {
                account: deposit_address
            }
        )
        .await,
        amount
    );
    assert_eq!(
        call(&chain, pool, TrainingPool::totalDepositedCall {}).await,
        amount
    );
    let signer = f
        .deployments
        .pool_deposit_signer(clone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signer.address(), deposit_address);

    let history = f
        .deployments
        .history(owner, clone, PageRequest::first())
        .await
        .unwrap();
    let events: Vec<_> = history.items.iter().map(|entry| entry.event).collect();
    assert_eq!(
        events,
        [
            EventKind::InitiateDeployment,
            EventKind::TokenCreationSuccess,
            EventKind::InitiatePoolCreation,
            EventKind::PoolCreationSuccess
        ]
    );
}

#[tokio::test]
async fn a_confirmation_seen_twice_advances_once() {
    let Setup {
        chain, f, settings, ..
    } = setup(1).await;
    let wallet = chain.funded_account().await.unwrap();
    let (owner, clone) = f.owner_of_wallet_with_clone(wallet.address()).await;
    let request = f
        .act(owner, clone, OwnerAction::Initiate)
        .await
        .transaction
        .unwrap();
    // Two token creations sent (a wallet's retry), one hash submitted twice.
    let first = sign_and_send(&wallet, &request.to, &request.data).await;
    let second = sign_and_send(&wallet, &request.to, &request.data).await;
    let a = f
        .deployments
        .submit_transaction(owner, clone, &hash(&first))
        .await
        .unwrap();
    let again = f
        .deployments
        .submit_transaction(
            owner,
            clone,
            &hash(&first).to_uppercase().replace("0X", "0x"),
        )
        .await
        .unwrap();
    assert_eq!(a.id, again.id);
    f.deployments
        .submit_transaction(owner, clone, &hash(&second))
        .await
        .unwrap();

    // Two workers at once over their own services.
    let other = crate::support::services(&f.db, &f.clock, None, Some(settings)).deployments;
    let (one, two) = tokio::join!(f.deployments.confirm_pending(10), other.confirm_pending(10));
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.checked + two.checked, 2);
    assert_eq!(one.confirmed + two.confirmed, 1);
    assert_eq!(one.superseded + two.superseded, 1);
    // Nothing is left to check, and a later pass changes nothing.
    f.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(f.deployments.confirm_pending(10).await.unwrap().checked, 0);

    let view = f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(view.status, S::TokenCreated);
    let history = f
        .deployments
        .history(owner, clone, PageRequest::first())
        .await
        .unwrap();
    let successes = history
        .items
        .iter()
        .filter(|entry| entry.event == EventKind::TokenCreationSuccess)
        .count();
    assert_eq!(successes, 1);
    // The step is over: another submission is refused.
    let refused = f
        .deployments
        .submit_transaction(owner, clone, &hash(&second))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "deployment_not_awaiting_signature");
}

/// Initiates a clone of a new owner signed in with a new wallet, and returns them.
async fn started(
    s: &Setup,
) -> (
    FundedAccount,
    Uuid,
    Uuid,
    clones_deployment::TransactionRequestView,
) {
    let wallet = s.chain.funded_account().await.unwrap();
    let (owner, clone) = s.f.owner_of_wallet_with_clone(wallet.address()).await;
    let request =
        s.f.act(owner, clone, OwnerAction::Initiate)
            .await
            .transaction
            .unwrap();
    (wallet, owner, clone, request)
}

/// Submits `receipt` for the clone, runs a pass and returns the deployment's last error.
async fn fails_with(s: &Setup, owner: Uuid, clone: Uuid, receipt: &TransactionReceipt) -> String {
    s.f.deployments
        .submit_transaction(owner, clone, &hash(receipt))
        .await
        .unwrap();
    let report = s.f.deployments.confirm_pending(100).await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let view = s.f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(view.status, S::Failed);
    view.last_error.unwrap()
}

#[tokio::test]
async fn reverted_transactions_wrong_events_and_strangers_fail_the_deployment() {
    let s = setup(1).await;

    // Reverted: a zero cloneRef.
    let (wallet, owner, clone, request) = started(&s).await;
    let data = CloneTokenFactory::createTokenCall {
        cloneRef: B256::ZERO,
        name: "x".into(),
        symbol: "X".into(),
        supply: U256::from(1u64),
    }
    .abi_encode();
    let reverted = sign_and_send(&wallet, &request.to, &alloy::hex::encode_prefixed(data)).await;
    assert!(!reverted.status());
    let error = fails_with(&s, owner, clone, &reverted).await;
    assert!(error.contains("reverted"), "{error}");
    // The failed deployment retries into the token step and confirms a good transaction.
    let retried = s.f.act(owner, clone, OwnerAction::Retry).await;
    let request = retried.transaction.unwrap();
    let good = sign_and_send(&wallet, &request.to, &request.data).await;
    s.f.deployments
        .submit_transaction(owner, clone, &hash(&good))
        .await
        .unwrap();
    s.f.deployments.confirm_pending(100).await.unwrap();
    assert_eq!(
        s.f.deployments
            .deployment(owner, clone)
            .await
            .unwrap()
            .status,
        S::TokenCreated
    );

    // The wrong event: a token for another clone.
    let (wallet, owner, clone, request) = started(&s).await;
    let data = CloneTokenFactory::createTokenCall {
        cloneRef: clone_ref(Uuid::new_v4()),
        name: "x".into(),
        symbol: "X".into(),
        supply: U256::from(1u64),
    }
    .abi_encode();
    let other = sign_and_send(&wallet, &request.to, &alloy::hex::encode_prefixed(data)).await;
    assert!(other.status());
    let error = fails_with(&s, owner, clone, &other).await;
    assert!(error.contains("another clone"), "{error}");

    // No event from the factory: a transaction to another contract.
    let (wallet, owner, clone, _) = started(&s).await;
    let mint = Erc20::mintCall {
        to: wallet.address(),
        amount: U256::from(1u64),
    }
    .abi_encode();
    let unrelated = sign_and_send(
        &wallet,
        &s.payment_token.to_checksum(None),
        &alloy::hex::encode_prefixed(mint),
    )
    .await;
    let error = fails_with(&s, owner, clone, &unrelated).await;
    assert!(error.contains("no CloneTokenCreated"), "{error}");

    // The right call from a wallet that is not the owner's.
    let (_, owner, clone, request) = started(&s).await;
    let stranger = s.chain.funded_account().await.unwrap();
    let theirs = sign_and_send(&stranger, &request.to, &request.data).await;
    assert!(theirs.status());
    let error = fails_with(&s, owner, clone, &theirs).await;
    assert!(
        error.contains("not a wallet of the clone's owner"),
        "{error}"
    );
}

#[tokio::test]
async fn a_transaction_waits_for_its_confirmations() {
    let s = setup(40).await;
    let (wallet, owner, clone, request) = started(&s).await;
    let receipt = sign_and_send(&wallet, &request.to, &request.data).await;
    s.f.deployments
        .submit_transaction(owner, clone, &hash(&receipt))
        .await
        .unwrap();
    let report = s.f.deployments.confirm_pending(10).await.unwrap();
    assert_eq!(report.pending, 1, "{report:?}");
    // Not due again before the recheck interval.
    assert_eq!(
        s.f.deployments.confirm_pending(10).await.unwrap().checked,
        0
    );
    s.chain.mine(40).await.unwrap();
    s.f.clock.advance(chrono::Duration::seconds(5));
    let report = s.f.deployments.confirm_pending(10).await.unwrap();
    assert_eq!(report.confirmed, 1, "{report:?}");
    assert_eq!(
        s.f.deployments
            .deployment(owner, clone)
            .await
            .unwrap()
            .status,
        S::TokenCreated
    );
}

#[tokio::test]
async fn submissions_are_checked_for_shape_status_and_owner() {
    let s = setup(1).await;
    let wallet = s.chain.funded_account().await.unwrap();
    let (owner, clone) = s.f.owner_of_wallet_with_clone(wallet.address()).await;
    let (stranger, _) = s.f.owner_with_clone().await;
    let some_hash = format!("0x{}", "ab".repeat(32));
    // A draft waits for no signature.
    let draft =
        s.f.deployments
            .submit_transaction(owner, clone, &some_hash)
            .await
            .unwrap_err();
    assert_eq!(draft.code(), "deployment_not_awaiting_signature");
    s.f.act(owner, clone, OwnerAction::Initiate).await;
    for bad in [
        "",
        "0x12",
        "ab".repeat(32).as_str(),
        &format!("0x{}", "zz".repeat(32)),
    ] {
        let error =
            s.f.deployments
                .submit_transaction(owner, clone, bad)
                .await
                .unwrap_err();
        assert_eq!(error.code(), "invalid_input", "{bad}");
    }
    let theirs =
        s.f.deployments
            .submit_transaction(stranger, clone, &some_hash)
            .await
            .unwrap_err();
    assert_eq!(theirs.code(), "clone_not_found");
    // An unknown hash stays pending.
    s.f.deployments
        .submit_transaction(owner, clone, &some_hash)
        .await
        .unwrap();
    let report = s.f.deployments.confirm_pending(10).await.unwrap();
    assert_eq!(report.pending, 1);
    assert_eq!(
        s.f.deployments
            .deployment(owner, clone)
            .await
            .unwrap()
            .status,
        S::PendingTokenSignature
    );
}
