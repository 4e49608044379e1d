//! The lifecycle worker as deployed: the real binary, one cycle, a real database.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::process::Command;
use std::sync::Arc;

use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{CloneService, NoCompetitionFacts, PgCloneService};
use clones_economy::PgEconomyService;
use clones_kernel::{Clock, SystemClock};
use clones_lifecycle::{LifecycleService, LifecycleSettings, PgLifecycleService, StartAudition};
use clones_prop_engine::{NoMarketFeed, PgPropService, PropSettings};
use clones_test_db::TestDb;
use diesel::sql_types::{BigInt, Numeric, Text, Timestamptz, Uuid as SqlUuid};
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

#[tokio::test]
async fn once_fails_a_breached_audition_and_records_a_heartbeat() {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let access = Arc::new(PgAccessAdmin::new(db.db().clone(), clock.clone()));
    let clones = Arc::new(PgCloneService::new(
        db.db().clone(),
        clock.clone(),
        Arc::new(NoCompetitionFacts),
    ));
    let prop = Arc::new(PgPropService::new(
        db.db().clone(),
        clock.clone(),
        Arc::new(NoMarketFeed),
        PropSettings::default(),
    ));
    let economy = Arc::new(PgEconomyService::new(
        db.db().clone(),
        clock.clone(),
        access.clone(),
        None,
    ));
    let service = PgLifecycleService::new(
        db.db().clone(),
        clock.clone(),
        clones.clone(),
        prop,
        economy,
        LifecycleSettings::default(),
    );
    let (owner, _) = access
        .provision_wallet("0x00000000000000000000000000000000000000bb", 31337)
        .await
        .unwrap();
    let now = clock.now();
    let clone_id = Uuid::new_v4();
    db.db()
        .tenant_transaction(owner, move |conn| {
            provisioning::create_paid_clone(
                conn,
                &PaidClone {
                    clone_id,
                    owner_user_id: owner,
                    purchase_id: Uuid::new_v4(),
                    display_name: "Worker".into(),
                },
                now,
            )
        })
        .await
        .unwrap();
    clones.publish(owner, clone_id).await.unwrap();
    let (quote_id, purchase_id) = (Uuid::new_v4(), Uuid::new_v4());
    let addr = |digit: &str| format!("0x{}", digit.repeat(40));
    db.db()
        .cross_tenant_transaction("test_purchase", move |conn| {
            diesel::sql_query(
                "INSERT INTO economy_quotes (id, payer_user_id, payer_address, purpose, clone_id, chain_id, \
                 vault_address, token_address, amount, nonce, deadline, signature, created_at) \
                 VALUES ($1, $2, $3, 'audition_fee', $4, 31337, $5, $6, '7', '1', $7, $8, $7)",
            )
            .bind::<SqlUuid, _>(quote_id)
            .bind::<SqlUuid, _>(owner)
            .bind::<Text, _>(addr("b"))
            .bind::<SqlUuid, _>(clone_id)
            .bind::<Text, _>(addr("1"))
            .bind::<Text, _>(addr("2"))
            .bind::<Timestamptz, _>(now)
            .bind::<Text, _>(format!("0x{}", "3".repeat(130)))
            .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO economy_purchases (id, payer_user_id, quote_id, purpose, clone_id, resolver, nonce, \
                 chain_id, tx_hash, block_number, log_index, payer_address, token_address, amount, created_at) \
                 VALUES ($1, $2, $3, 'audition_fee', $4, $5, '1', 31337, $6, 1, 0, $7, $8, '7', $9)",
            )
            .bind::<SqlUuid, _>(purchase_id)
            .bind::<SqlUuid, _>(owner)
            .bind::<SqlUuid, _>(quote_id)
            .bind::<SqlUuid, _>(clone_id)
            .bind::<Text, _>(addr("1"))
            .bind::<Text, _>(format!("0x{}", "4".repeat(64)))
            .bind::<Text, _>(addr("b"))
            .bind::<Text, _>(addr("2"))
            .bind::<Timestamptz, _>(now)
            .execute(conn)?;
            Ok::<_, clones_db::DbError>(())
        })
        .await
        .unwrap();
    let run = service
        .start_audition(
            owner,
            clone_id,
            StartAudition {
                purchase_id,
                rule_set_code: None,
            },
        )
        .await
        .unwrap()
        .audition;
    // Cash 6 000 below the start within one trading day: the standard daily loss limit is 5%.
    let at = run.window_start + chrono::Duration::seconds(1);
    let account = run.prop_account_id;
    db.db()
        .cross_tenant_transaction("test_snapshot", move |conn| {
            diesel::sql_query(
                "INSERT INTO prop_equity_snapshots (id, account_id, owner_user_id, at, equity, cash, \
                 unrealized_pnl, used_margin, gross_exposure, peak_equity, drawdown) \
                 VALUES ($1, $2, $3, $4, $5, $5, 0, 0, 0, 100000, 6000)",
            )
            .bind::<SqlUuid, _>(Uuid::new_v4())
            .bind::<SqlUuid, _>(account)
            .bind::<SqlUuid, _>(owner)
            .bind::<Timestamptz, _>(at)
            .bind::<Numeric, _>(Decimal::from(94_000))
            .execute(conn)?;
            Ok::<_, clones_db::DbError>(())
        })
        .await
        .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_lifecycle-worker"))
        .arg("--once")
        .env("DATABASE_URL", db.app_url())
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM audition_runs WHERE status = 'failed' AND failure_rule = 'max_daily_loss'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'lifecycle-worker' AND status = 'succeeded' AND last_items = 1"
        ),
        1
    );

    let failed = Command::new(env!("CARGO_BIN_EXE_lifecycle-worker"))
        .arg("--once")
        .env("DATABASE_URL", "postgres://unused@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!failed.status.success());
}
