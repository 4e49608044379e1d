//! The housekeeping worker as deployed: the real binary, one cycle, a real database.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::process::Command;

use clones_test_db::TestDb;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

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

#[test]
fn once_purges_old_challenges_and_writes_a_heartbeat() {
    let db = TestDb::new().unwrap();
    diesel::sql_query(
        "INSERT INTO auth_challenges (nonce, purpose, address, chain_id, message, issued_at, expires_at) VALUES \
         ('oldnonce1', 'sign_in', '0x0000000000000000000000000000000000000001', 1, 'm', now() - interval '3 days', now() - interval '2 days'), \
         ('newnonce1', 'sign_in', '0x0000000000000000000000000000000000000001', 1, 'm', now(), now() + interval '10 minutes')",
    )
    .execute(&mut db.owner_connection().unwrap())
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_housekeeping-worker"))
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
    // Logs are JSON lines on stdout.
    let stdout = String::from_utf8(output.stdout).unwrap();
    let cycle_line = stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|line| line["message"] == "cycle succeeded")
        .unwrap();
    assert_eq!(cycle_line["items"], 1);

    assert_eq!(count(&db, "SELECT count(*) AS n FROM auth_challenges"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'housekeeping-worker' AND status = 'succeeded' AND items_total = 1"
        ),
        1
    );
}

#[test]
fn refuses_to_start_on_an_unmigrated_database() {
    let db = TestDb::empty().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_housekeeping-worker"))
        .arg("--once")
        .env("DATABASE_URL", db.app_url())
        .output()
        .unwrap();
    assert!(!output.status.success());
}
