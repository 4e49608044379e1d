//! The economy worker as deployed: the real binary, one cycle, a real database and the local
//! chain. A deposit left pending at submission is settled by the worker, not lost.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_economy::{
    DepositState, EconomyService, PaymentSettings, PgEconomyService, PriceTable, QuoteRequest,
};
use clones_kernel::SystemClock;
use clones_test_chain::TestChain;
use clones_test_db::TestDb;
use clones_vault::{Purpose, QuoteSigner, VaultConfig, contract};
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

const PRICES: &str =
    "clone_creation=1000,capacity_upgrade:pro=2000,capacity_upgrade:elite=3000,audition_fee=500";

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(db: &TestDb, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Row>(&mut db.owner_connection().unwrap())
        .unwrap()
        .n
}

#[tokio::test]
async fn once_settles_a_deposit_that_was_pending() {
    clones_runtime::install_tls_provider();
    let chain = TestChain::connect().await.unwrap();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let owner = chain.funded_account().await.unwrap();
    let quote_key = PrivateKeySigner::random();
    let vault = owner
        .deploy(
            "SignedVault",
            &(quote_key.address(), owner.address()).abi_encode_params(),
        )
        .await
        .unwrap();
    let settings = PaymentSettings {
        vault: VaultConfig {
            rpc_url: chain.url().clone(),
            chain_id: 31337,
            vault,
            // Far more than other tests sharing the chain can mine meanwhile.
            required_confirmations: 10_000,
        },
        signer: QuoteSigner::new(quote_key.clone()),
        token: Address::ZERO,
        prices: PriceTable::parse(PRICES).unwrap(),
        quote_ttl: Duration::from_secs(1800),
        expiry_grace: Duration::from_secs(3600),
        recheck_interval: Duration::from_secs(1),
    };
    let clock = Arc::new(SystemClock);
    let access = Arc::new(PgAccessAdmin::new(db.db().clone(), clock.clone()));
    let economy = PgEconomyService::new(db.db().clone(), clock, access.clone(), Some(settings));

    // A paid deposit submitted with one confirmation of the 10,000 required: pending.
    let payer = chain.funded_account().await.unwrap();
    let (user, _) = access
        .provision_wallet(&payer.address().to_string(), 31337)
        .await
        .unwrap();
    let signed = economy
        .quote(
            user,
            QuoteRequest {
                plan: None,
                purpose: Purpose::CloneCreation,
                payer_address: payer.address().to_string(),
                clone_id: None,
                tier: None,
                clone_name: Some("Settled by the worker".into()),
            },
        )
        .await
        .unwrap();
    let call = contract::SignedVault::depositCall {
        quote: signed.quote.to_sol(),
        signature: signed.signature.parse().unwrap(),
    };
    let receipt = payer
        .send(
            TransactionRequest::default()
                .to(vault)
                .value(signed.quote.amount)
                .input(call.abi_encode().into())
                .gas_limit(500_000),
        )
        .await
        .unwrap();
    assert!(receipt.status());
    let pending = economy
        .submit_deposit(user, signed.quote_id, &receipt.transaction_hash.to_string())
        .await
        .unwrap();
    assert_eq!(pending.state, DepositState::Pending);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM clones"), 0);

    // The missing confirmations arrive and the deposit falls due for a re-check.
    chain.mine(10_000).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let output = Command::new(env!("CARGO_BIN_EXE_economy-worker"))
        .arg("--once")
        .env("DATABASE_URL", db.app_url())
        .env("VAULT_ADDRESS", vault.to_string())
        .env("PAYMENTS_RPC_URL", chain.url().as_str())
        .env(
            "QUOTE_SIGNER_KEY",
            format!("0x{}", alloy::hex::encode(quote_key.to_bytes())),
        )
        .env("PRICE_TABLE", PRICES)
        .env("DEPOSIT_CONFIRMATIONS", "10000")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("\"items\":1"), "{stdout}");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM economy_purchases"), 1);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM clones"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'economy-worker' AND status = 'succeeded'"
        ),
        1
    );
    let settled = economy.deposit(user, pending.deposit_id).await.unwrap();
    assert_eq!(settled.state, DepositState::Confirmed);
}

#[test]
fn refuses_to_start_without_payment_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_economy-worker"))
        .arg("--once")
        .env("DATABASE_URL", "postgres://unused@127.0.0.1:1/none")
        .env_remove("VAULT_ADDRESS")
        .env_remove("QUOTE_SIGNER_KEY")
        .env_remove("PAYMENTS_RPC_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("payments are not configured"), "{stderr}");
}
