//! The ingest worker as deployed: the real binary, one cycle, a real database, the offline
//! replay source (and a remote source that cannot be reached).

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

fn worker(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ingest-worker"));
    command
        .arg("--once")
        .env("DATABASE_URL", db.app_url())
        .env("REPLAY_SEED", "7")
        .env("REPLAY_SYMBOLS", "BTC,ETH")
        .env("REPLAY_BACKFILL_HOURS", "2")
        .env("RUST_LOG", "info");
    command
}

#[test]
fn once_fills_market_memory_from_the_generator() {
    let db = TestDb::new().unwrap();
    let output = worker(&db)
        .env("INGEST_SOURCES", "replay")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("ingestion run"), "{stdout}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM market_instruments WHERE venue = 'replay'"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM market_candles WHERE timeframe = '1m'"
        ),
        240
    );
    assert!(count(&db, "SELECT count(*) AS n FROM market_books") >= 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM ingestion_runs WHERE source = 'replay' AND status = 'succeeded'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'ingest-worker' AND status = 'succeeded'"
        ),
        1
    );
}

#[test]
fn an_unreachable_source_fails_the_cycle_but_not_the_others() {
    let db = TestDb::new().unwrap();
    let output = worker(&db)
        .env("INGEST_SOURCES", "replay,defillama")
        .env("DEFILLAMA_BASE_URL", "http://127.0.0.1:1")
        .env("INGEST_HTTP_MAX_ATTEMPTS", "2")
        .env("INGEST_HTTP_BACKOFF_MS", "10")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(count(&db, "SELECT count(*) AS n FROM market_candles") > 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM ingestion_runs WHERE source = 'defillama' AND status = 'failed'"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM worker_heartbeats WHERE worker_name = 'ingest-worker' AND status = 'failed'"
        ),
        1
    );
}

#[test]
fn refuses_an_unknown_source() {
    let output = Command::new(env!("CARGO_BIN_EXE_ingest-worker"))
        .arg("--once")
        .env("DATABASE_URL", "postgres://unused@127.0.0.1:1/none")
        .env("INGEST_SOURCES", "replay,bloomberg")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bloomberg"), "{stderr}");
}
