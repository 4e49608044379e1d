//! The decision worker as deployed: the real binary, one cycle over a roster file, a real
//! database.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{CloneService, NoCompetitionFacts, PgCloneService};
use clones_ingest::{Batch, Candle, IngestService, NewInstrument, PgIngestService};
use clones_kernel::{Clock, SystemClock};
use clones_market::InstrumentKey;
use clones_prop_engine::{
    AccountContext, NoMarketFeed, OpenAccount, PgPropService, PropService, PropSettings,
};
use clones_test_db::TestDb;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use rust_decimal::Decimal;
use uuid::Uuid;

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

async fn seed_market(ingest: &PgIngestService, now: DateTime<Utc>) {
    let key = InstrumentKey::perp("replay", "BTC").unwrap();
    let last_open =
        DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(3600) - 3600, 0)
            .unwrap();
    let mut batch = Batch {
        instruments: vec![NewInstrument::bare(key.clone())],
        ..Batch::default()
    };
    for i in 0..60i64 {
        let price = if i == 59 {
            Decimal::from(500)
        } else {
            Decimal::from(200 - i)
        };
        batch.candles.push((
            key.clone(),
            clones_market::Timeframe::H1,
            Candle {
                open_time: last_open - Duration::hours(59 - i),
                open: price,
                high: price,
                low: price,
                close: price,
                volume: Decimal::ONE,
                trades: None,
            },
        ));
    }
    batch.mids.push((key, now, Decimal::from(500)));
    ingest
        .store_batch("test", "seed", now, 1, batch)
        .await
        .unwrap();
}

#[tokio::test]
async fn once_decides_for_the_roster_and_records_a_heartbeat() {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let access = PgAccessAdmin::new(db.db().clone(), clock.clone());
    let clones = PgCloneService::new(db.db().clone(), clock.clone(), Arc::new(NoCompetitionFacts));
    let prop = PgPropService::new(
        db.db().clone(),
        clock.clone(),
        Arc::new(NoMarketFeed),
        PropSettings::default(),
    );
    let ingest = PgIngestService::new(db.db().clone(), clock.clone());
    seed_market(&ingest, clock.now()).await;

    let (owner, _) = access
        .provision_wallet("0x00000000000000000000000000000000000000ab", 31337)
        .await
        .unwrap();
    let clone_id = Uuid::new_v4();
    let at = clock.now();
    db.db()
        .tenant_transaction(owner, move |conn| {
            provisioning::create_paid_clone(
                conn,
                &PaidClone {
                    clone_id,
                    owner_user_id: owner,
                    purchase_id: Uuid::new_v4(),
                    display_name: "Alpha".into(),
                },
                at,
            )
        })
        .await
        .unwrap();
    clones.publish(owner, clone_id).await.unwrap();
    let account = prop
        .open_account(
            owner,
            OpenAccount {
                account_id: None,
                clone_id: Some(clone_id),
                context: AccountContext::Audition,
                quote_currency: "USDC".into(),
                starting_balance: Decimal::from(100_000),
                limits: None,
            },
        )
        .await
        .unwrap();

    let roster = std::env::temp_dir().join(format!("roster-{}.json", Uuid::new_v4()));
    std::fs::write(
        &roster,
        serde_json::json!([{
            "cloneId": clone_id,
            "ownerUserId": owner,
            "accountId": account.id,
            "context": "audition",
            "referenceId": Uuid::new_v4(),
        }])
        .to_string(),
    )
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_decision-worker"))
        .arg("--once")
        .env("DATABASE_URL", db.app_url())
        .env("DECISION_ROSTER_FILE", &roster)
        .env("LLM_API_KEY", "sk-never-printed")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&roster);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}{stdout}");
    assert!(!stdout.contains("sk-never-printed") && !stderr.contains("sk-never-printed"));
    assert_eq!(count(&db, "SELECT count(*) AS n FROM decision_runs"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM decision_runs WHERE status = 'decided'"
        ),
        1
    );
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM decision_action_executions"),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'decision-worker' AND status = 'succeeded' AND last_items = 1"
        ),
        1
    );

    let failed = Command::new(env!("CARGO_BIN_EXE_decision-worker"))
        .arg("--once")
        .env("DATABASE_URL", "postgres://unused@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!failed.status.success());
}
