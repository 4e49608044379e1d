//! A vault on the local chain, a database, and an economy service wired to both.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolValue};
use chrono::Utc;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::{NoCompetitionFacts, PgCloneService};
use clones_economy::{
    EconomyService, PaymentSettings, PgEconomyService, PriceTable, QuoteRequest, SignedQuote,
};
use clones_kernel::FixedClock;
use clones_test_chain::{FundedAccount, TestChain};
use clones_test_db::TestDb;
use clones_vault::{Purpose, QuoteSigner, VaultConfig, contract};
use uuid::Uuid;

pub const PRICES: &str = "clone_creation=1000000,capacity_upgrade:pro=2000000,capacity_upgrade:elite=3000000,audition_fee=500000,creator_plan:pro=700000,creator_plan:creator=900000";

pub struct Env {
    pub db: TestDb,
    pub chain: TestChain,
    pub clock: FixedClock,
    pub vault: Address,
    pub economy: PgEconomyService,
    pub clones: PgCloneService,
    pub access: PgAccessAdmin,
}

pub struct Payer {
    pub user: Uuid,
    pub account: FundedAccount,
}

pub async fn env(required_confirmations: u64) -> Env {
    let chain = TestChain::connect().await.unwrap();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let owner = chain.funded_account().await.unwrap();
    let signer = QuoteSigner::random();
    let vault = owner
        .deploy(
            "SignedVault",
            &(signer.address(), owner.address()).abi_encode_params(),
        )
        .await
        .unwrap();
    let clock = FixedClock::at(Utc::now());
    let access = PgAccessAdmin::new(db.db().clone(), Arc::new(clock.clone()));
    let settings = PaymentSettings {
        vault: VaultConfig {
            rpc_url: chain.url().clone(),
            chain_id: 31337,
            vault,
            required_confirmations,
        },
        signer,
        token: Address::ZERO,
        prices: PriceTable::parse(PRICES).unwrap(),
        quote_ttl: Duration::from_secs(1800),
        expiry_grace: Duration::from_secs(3600),
        recheck_interval: Duration::from_secs(1),
    };
    let economy = PgEconomyService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        Arc::new(access.clone()),
        Some(settings),
    );
    let clones = PgCloneService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        Arc::new(NoCompetitionFacts),
    );
    Env {
        db,
        chain,
        clock,
        vault,
        economy,
        clones,
        access,
    }
}

impl Env {
    /// A user whose wallet is a funded chain account.
    pub async fn payer(&self) -> Payer {
        let account = self.chain.funded_account().await.unwrap();
        let (user, _) = self
            .access
            .provision_wallet(&account.address().to_string(), 31337)
            .await
            .unwrap();
        Payer { user, account }
    }

    pub async fn quote(
        &self,
        payer: &Payer,
        purpose: Purpose,
        clone_id: Option<Uuid>,
        tier: Option<clones_clone_service::Tier>,
    ) -> SignedQuote {
        self.economy
            .quote(
                payer.user,
                QuoteRequest {
                    plan: None,
                    purpose,
                    payer_address: payer.account.address().to_string(),
                    clone_id,
                    tier,
                    clone_name: (purpose == Purpose::CloneCreation)
                        .then(|| "Paid clone".to_string()),
                },
            )
            .await
            .unwrap()
    }

    /// Pays `quote` from `from` with `value` wei; returns the transaction hash and whether it
    /// succeeded.
    pub async fn pay_with(
        &self,
        from: &FundedAccount,
        quote: &SignedQuote,
        value: U256,
    ) -> (B256, bool) {
        let call = contract::SignedVault::depositCall {
            quote: quote.quote.to_sol(),
            signature: quote.signature.parse().unwrap(),
        };
        let request = TransactionRequest::default()
            .to(self.vault)
            .value(value)
            .input(call.abi_encode().into())
            .gas_limit(500_000);
        let receipt = from.send(request).await.unwrap();
        (receipt.transaction_hash, receipt.status())
    }

    pub async fn pay(&self, payer: &Payer, quote: &SignedQuote) -> B256 {
        let (hash, ok) = self
            .pay_with(&payer.account, quote, quote.quote.amount)
            .await;
        assert!(ok, "the deposit reverted");
        hash
    }

    /// Rows in an economy or clone table, seen by the owner role.
    pub fn count(&self, table: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<Count>(&mut self.db.owner_connection().unwrap())
            .unwrap()
            .n
    }
}

/// An SMA crossover on BTC daily closes with a fast period of `fast`.
pub fn strategy_graph(fast: u32) -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "nodes": [
            { "id": "close", "kind": "price", "params": { "asset": "BTC", "timeframe": "1d", "field": "close" } },
            { "id": "fast", "kind": "sma", "params": { "period": fast } },
            { "id": "slow", "kind": "sma", "params": { "period": 50 } },
            { "id": "up", "kind": "crosses_above", "params": {} },
            { "id": "down", "kind": "crosses_below", "params": {} },
            { "id": "buy", "kind": "open_long", "params": { "asset": "BTC", "size": { "percent_equity": "90" } } },
            { "id": "sell", "kind": "close", "params": { "asset": "BTC" } }
        ],
        "edges": [
            { "from": "close", "to": "fast", "input": "source" },
            { "from": "close", "to": "slow", "input": "source" },
            { "from": "fast", "to": "up", "input": "left" },
            { "from": "slow", "to": "up", "input": "right" },
            { "from": "fast", "to": "down", "input": "left" },
            { "from": "slow", "to": "down", "input": "right" },
            { "from": "up", "to": "buy", "input": "when" },
            { "from": "down", "to": "sell", "input": "when" }
        ]
    })
}
