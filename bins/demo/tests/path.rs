//! The demo's whole path with a compressed clock: the real API on a loopback port over a fresh
//! database, payments into a SignedVault on the local chain, and every worker's cycle run in
//! process each time the demo waits, after the clock moved on by one decision interval.

#![expect(
    clippy::unwrap_used,
    reason = "test setup should fail loudly on broken fixtures"
)]

use std::sync::{Arc, Mutex};

use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use async_trait::async_trait;
use chrono::{Duration, Utc};
use clap::Parser;
use clones_ai_decision::{DecisionSettings, LifecycleRoster, PgDecisionService};
use clones_demo::{DemoConfig, Narrator, Pace};
use clones_ingest::Ingestor;
use clones_ingest::sources::replay::{GeneratorConfig, ReplayConfig, ReplaySource};
use clones_kernel::{Clock, FixedClock};
use clones_lifecycle::LifecycleService;
use clones_market::Timeframe;
use clones_prop_engine::PropService;
use clones_test_chain::TestChain;
use clones_test_db::TestDb;
use clones_web::AppState;
use clones_web::settings::ApiSettings;
use clones_wiring::{PropFeed, ServiceSettings, Services};
use serde_json::Value;

/// How far the clock moves each time the demo waits: one decision slot.
const STEP_SECS: u32 = 60;

/// The workers of `scripts/dev`, one cycle each per wait, on the test's clock.
struct InProcessWorkers {
    clock: FixedClock,
    ingest: Ingestor,
    decisions: Arc<PgDecisionService>,
    roster: LifecycleRoster,
    prop: Arc<dyn PropService>,
    lifecycle: Arc<dyn LifecycleService>,
    waits: Mutex<Vec<String>>,
}

#[async_trait]
impl Pace for InProcessWorkers {
    async fn wait(&self, waiting_for: &str) {
        self.waits.lock().unwrap().push(waiting_for.to_string());
        self.clock.advance(Duration::seconds(i64::from(STEP_SECS)));
        let ingested = self.ingest.run_once().await;
        assert_eq!(ingested.failed(), 0, "{:?}", ingested.runs);
        self.decisions.run_cycle(&self.roster, 1000).await.unwrap();
        self.prop.apply_carry_due(1000).await.unwrap();
        self.prop.mark_to_market(1000).await.unwrap();
        self.lifecycle.evaluate_running(100).await.unwrap();
        self.lifecycle.sync_arena_entries(100).await.unwrap();
    }
}

#[derive(Default)]
struct Steps(Mutex<Vec<(String, Value)>>);

impl Narrator for Steps {
    fn step(&self, name: &str, detail: &Value) {
        self.0
            .lock()
            .unwrap()
            .push((name.to_string(), detail.clone()));
    }
}

#[tokio::test]
async fn the_whole_paid_audition_path_runs_with_a_compressed_clock() {
    clones_runtime::install_tls_provider();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(Utc::now());
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());

    // A fresh vault on the local chain, paid in the native coin.
    let chain = TestChain::connect().await.unwrap();
    let deployer = chain.funded_account().await.unwrap();
    let quote_key = PrivateKeySigner::random();
    let vault = deployer
        .deploy(
            "SignedVault",
            &(quote_key.address(), deployer.address()).abi_encode_params(),
        )
        .await
        .unwrap();

    let settings = ApiSettings::try_parse_from([
        "api",
        "--database-url",
        "postgres://unused",
        "--jwt-signing-keys",
        "test-key:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ",
        "--vault-address",
        &vault.to_string(),
        "--payments-rpc-url",
        chain.url().as_str(),
        "--quote-signer-key",
        &format!("0x{}", hex::encode(quote_key.to_bytes())),
        "--deposit-confirmations",
        "1",
    ])
    .unwrap();
    let state = AppState::new(&settings, db.db().clone(), shared_clock.clone()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let (server, handle) = clones_web::serve(state, listener, 1).unwrap();
    tokio::spawn(server);

    // The workers, wired as their binaries wire them.
    let services = Services::new(
        db.db().clone(),
        shared_clock.clone(),
        ServiceSettings {
            decisions: DecisionSettings {
                interval_secs: STEP_SECS,
                ..DecisionSettings::default()
            },
            prop_feed: PropFeed::MarketMemory,
            ..ServiceSettings::default()
        },
    );
    let workers = InProcessWorkers {
        clock: clock.clone(),
        ingest: services.ingestor(vec![Arc::new(ReplaySource::new(ReplayConfig {
            dir: None,
            generator: Some(GeneratorConfig {
                seed: 7,
                symbols: vec!["BTC".into()],
                anchor: GeneratorConfig::default_anchor(),
                backfill: Duration::hours(1),
                timeframes: vec![Timeframe::M1],
            }),
        }))]),
        decisions: services.decisions.clone(),
        roster: LifecycleRoster(services.lifecycle.clone()),
        prop: services.prop.clone(),
        lifecycle: services.lifecycle.clone(),
        waits: Mutex::default(),
    };
    // Market memory starts with an hour of replayed history, as `scripts/dev` leaves it.
    assert_eq!(workers.ingest.run_once().await.failed(), 0);

    let config = DemoConfig {
        api: api.parse().unwrap(),
        chain: chain.url().clone(),
        rule_set: Some("demo".into()),
        max_waits: 20,
    };
    let steps = Steps::default();
    let outcome = clones_demo::run(&config, &workers, &steps).await;
    drop(handle.stop(false));
    let outcome = outcome.unwrap();

    let names: Vec<String> = steps
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "generated and funded a wallet",
            "signed in with SIWE",
            "deposit verified, clone created",
            "strategy edited and published",
            "public profile approved",
            "audition fee paid",
            "audition started on a fresh prop account",
            "the model decided",
            "the prop engine filled the order",
            "marked to market",
            "audition evaluated: passed",
            "promoted and admitted to the Arena",
            "final state",
        ]
    );
    assert_eq!(outcome.audition["audition"]["status"], "passed");
    assert_eq!(outcome.state["displayState"], "competing");
    assert_eq!(outcome.state["arena"]["status"], "active");
    assert_eq!(outcome.clone["displayState"], "competing");
    // The three-minute window took a handful of one-minute waits, not wall-clock time.
    let waits = workers.waits.lock().unwrap().len();
    assert!((3..=10).contains(&waits), "{waits} waits");
}
