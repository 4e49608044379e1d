//! The mark-to-market worker as deployed: the real binary, one cycle, a real database.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::process::Command;
use std::sync::Arc;

use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_kernel::SystemClock;
use clones_prop_engine::{
    AccountContext, NoMarketFeed, OpenAccount, PgPropService, PropService, PropSettings,
};
use clones_test_db::TestDb;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use rust_decimal::Decimal;

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
async fn once_snapshots_every_open_account_and_records_a_heartbeat() {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = Arc::new(SystemClock);
    let access = PgAccessAdmin::new(db.db().clone(), clock.clone());
    let prop = PgPropService::new(
        db.db().clone(),
        clock,
        Arc::new(NoMarketFeed),
        PropSettings::default(),
    );
    let (owner, _) = access
        .provision_wallet("0x00000000000000000000000000000000000000aa", 31337)
        .await
        .unwrap();
    for _ in 0..3 {
        prop.open_account(
            owner,
            OpenAccount {
                account_id: None,
                clone_id: None,
                context: AccountContext::Arena,
                quote_currency: "USDC".into(),
                starting_balance: Decimal::from(50_000),
                limits: None,
            },
        )
        .await
        .unwrap();
    }

    let output = Command::new(env!("CARGO_BIN_EXE_mtm-worker"))
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
        count(&db, "SELECT count(*) AS n FROM prop_equity_snapshots"),
        3
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'mtm-worker' AND status = 'succeeded' AND last_items = 3"
        ),
        1
    );

    let failed = Command::new(env!("CARGO_BIN_EXE_mtm-worker"))
        .arg("--once")
        .env("DATABASE_URL", "postgres://unused@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!failed.status.success());
}
