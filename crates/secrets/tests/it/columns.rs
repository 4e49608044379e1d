//! Reads through a registered column: current values stay, legacy plaintexts and older
//! versions are migrated in the reader's transaction, copies to another row fail, and another
//! tenant sees nothing.

use clones_db::diesel::{self, RunQueryDsl};
use clones_secrets::SecretsError;
use uuid::Uuid;

use crate::support::{
    LEGACY, STRICT, database, insert, insert_sealed, keyring, read, stored, usage,
};

#[tokio::test]
async fn a_current_value_is_read_without_being_rewritten() {
    let test = database().await;
    let db = test.db();
    let keys = keyring(&[1]);
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert_sealed(db, &keys, owner, id, "0xkey").await;
    let before = stored(db, id).await;
    assert_eq!(
        read(db, &keys, STRICT, owner, id).await.unwrap().as_deref(),
        Some("0xkey")
    );
    assert_eq!(stored(db, id).await, before);
    assert_eq!(usage(db).await, [(1, 1)]);
}

#[tokio::test]
async fn a_legacy_plaintext_is_encrypted_on_read_in_the_same_transaction() {
    let test = database().await;
    let db = test.db();
    let keys = keyring(&[1]);
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert(db, owner, id, Some("0xlegacy".into())).await;
    assert_eq!(
        read(db, &keys, LEGACY, owner, id).await.unwrap().as_deref(),
        Some("0xlegacy")
    );
    let now = stored(db, id).await.unwrap();
    assert!(now.starts_with("enc:v1:"), "{now}");
    assert_eq!(usage(db).await, [(1, 1)]);
    // Read again: current now, nothing more to migrate.
    assert_eq!(
        read(db, &keys, LEGACY, owner, id).await.unwrap().as_deref(),
        Some("0xlegacy")
    );
    assert_eq!(stored(db, id).await.unwrap(), now);
    assert_eq!(usage(db).await, [(1, 1)]);
}

#[tokio::test]
async fn a_migration_rolls_back_with_the_readers_transaction() {
    let test = database().await;
    let db = test.db();
    let keys = keyring(&[1]);
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert(db, owner, id, Some("0xlegacy".into())).await;
    let reader = keys.clone();
    let result = db
        .tenant_transaction(owner, move |conn| {
            LEGACY.read(conn, &reader, id)?;
            // What the caller does next fails: the write-back and its count go with it.
            Err::<(), _>(SecretsError::Random)
        })
        .await;
    assert!(matches!(result, Err(SecretsError::Random)));
    assert_eq!(stored(db, id).await.as_deref(), Some("0xlegacy"));
    assert!(usage(db).await.is_empty());
}

#[tokio::test]
async fn a_plaintext_in_a_strict_column_is_refused_and_left_alone() {
    let test = database().await;
    let db = test.db();
    let keys = keyring(&[1]);
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert(db, owner, id, Some("0xinjected".into())).await;
    let error = read(db, &keys, STRICT, owner, id).await.unwrap_err();
    assert!(
        matches!(error, SecretsError::PlaintextRefused { .. }),
        "{error}"
    );
    assert_eq!(stored(db, id).await.as_deref(), Some("0xinjected"));
}

#[tokio::test]
async fn an_older_version_is_moved_to_the_current_one_on_read() {
    let test = database().await;
    let db = test.db();
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert_sealed(db, &keyring(&[1]), owner, id, "0xold").await;
    let keys = keyring(&[1, 2]);
    assert_eq!(
        read(db, &keys, STRICT, owner, id).await.unwrap().as_deref(),
        Some("0xold")
    );
    assert!(stored(db, id).await.unwrap().starts_with("enc:v2:"));
    assert_eq!(usage(db).await, [(1, 1), (2, 1)]);
    // A process without version 2 can no longer read it, and says which version it lacks.
    let error = read(db, &keyring(&[1]), STRICT, owner, id)
        .await
        .unwrap_err();
    assert!(matches!(error, SecretsError::UnknownVersion(2)), "{error}");
}

#[tokio::test]
async fn a_ciphertext_copied_to_another_row_or_tenant_does_not_decrypt() {
    let test = database().await;
    let db = test.db();
    let keys = keyring(&[1]);
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert_sealed(db, &keys, owner, id, "0xkey").await;
    let envelope = stored(db, id).await;
    // The same tenant's other row.
    let other_row = Uuid::new_v4();
    insert(db, owner, other_row, envelope.clone()).await;
    let error = read(db, &keys, STRICT, owner, other_row).await.unwrap_err();
    assert!(matches!(error, SecretsError::Decryption), "{error}");
    // The same row id moved to another tenant (written around the application).
    let thief = Uuid::new_v4();
    let mut owner_conn = test.owner_connection().unwrap();
    diesel::sql_query("UPDATE secret_test_items SET owner_user_id = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Uuid, _>(thief)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .execute(&mut owner_conn)
        .unwrap();
    let error = read(db, &keys, STRICT, thief, id).await.unwrap_err();
    assert!(matches!(error, SecretsError::Decryption), "{error}");
}

#[tokio::test]
async fn another_tenant_reads_nothing_and_an_empty_value_is_none() {
    let test = database().await;
    let db = test.db();
    let keys = keyring(&[1]);
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    insert_sealed(db, &keys, owner, id, "0xkey").await;
    assert_eq!(
        read(db, &keys, STRICT, Uuid::new_v4(), id).await.unwrap(),
        None
    );
    let empty = Uuid::new_v4();
    insert(db, owner, empty, None).await;
    assert_eq!(read(db, &keys, STRICT, owner, empty).await.unwrap(), None);
}
