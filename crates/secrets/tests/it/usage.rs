//! The per-version counters: sealing counts in the caller's transaction, a rollback counts
//! nothing, the status warns from half the budget and sealing stops at the budget.

use clones_db::diesel::{self, RunQueryDsl};
use clones_secrets::store::{self, record_encryptions};
use clones_secrets::{BudgetStatus, NONCE_BUDGET, SecretsError, WARN_AT};
use uuid::Uuid;

use crate::support::{LEGACY, database, keyring, usage};

#[tokio::test]
async fn seals_are_counted_per_version_and_rollbacks_count_nothing() {
    let test = database().await;
    let db = test.db();
    for (keys, times) in [(keyring(&[1]), 3), (keyring(&[1, 2]), 2)] {
        for _ in 0..times {
            let keys = keys.clone();
            db.transaction(move |conn| {
                store::seal(conn, &keys, b"x", &LEGACY.location(Uuid::new_v4(), None))
            })
            .await
            .unwrap();
        }
    }
    let keys = keyring(&[1, 2]);
    let rolled_back = db
        .transaction(move |conn| {
            store::seal(conn, &keys, b"x", &LEGACY.location(Uuid::new_v4(), None))?;
            Err::<(), _>(SecretsError::Random)
        })
        .await;
    assert!(rolled_back.is_err());
    assert_eq!(usage(db).await, [(1, 3), (2, 2)]);
}

#[tokio::test]
async fn the_budget_warns_at_half_and_refuses_past_it() {
    let test = database().await;
    let db = test.db();
    let mut owner = test.owner_connection().unwrap();
    let warn_start = i64::try_from(WARN_AT - 1).unwrap();
    diesel::sql_query(format!(
        "INSERT INTO secret_key_usage (version, encryptions) VALUES (1, {warn_start})"
    ))
    .execute(&mut owner)
    .unwrap();
    let statuses = || async {
        db.run(store::usage)
            .await
            .unwrap()
            .into_iter()
            .map(|usage| usage.status)
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses().await, [BudgetStatus::Ok]);
    db.transaction(|conn| record_encryptions(conn, 1, 1))
        .await
        .unwrap();
    assert_eq!(statuses().await, [BudgetStatus::Warn]);

    let last = i64::try_from(NONCE_BUDGET - 1).unwrap();
    diesel::sql_query(format!("UPDATE secret_key_usage SET encryptions = {last}"))
        .execute(&mut owner)
        .unwrap();
    let keys = keyring(&[1]);
    let sealer = keys.clone();
    // The budget's last encryption is allowed, the one after it refused (and rolled back).
    db.transaction(move |conn| {
        store::seal(conn, &sealer, b"x", &LEGACY.location(Uuid::new_v4(), None))
    })
    .await
    .unwrap();
    assert_eq!(statuses().await, [BudgetStatus::Exhausted]);
    let refused = db
        .transaction(move |conn| {
            store::seal(conn, &keys, b"x", &LEGACY.location(Uuid::new_v4(), None))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(refused, SecretsError::BudgetExhausted { version: 1, .. }),
        "{refused}"
    );
    assert_eq!(usage(db).await, [(1, NONCE_BUDGET)]);
}
