//! Eager rotation: every value of a column moves to the current version in bounded batches
//! across tenants, with progress after each batch; a rerun has nothing to do.

use std::sync::Arc;

use clones_secrets::{RotationProgress, SecretsError, VersionCount, column_census, rotate_column};
use uuid::Uuid;

use crate::support::{
    LEGACY, STRICT, database, insert, insert_sealed, keyring, read, stored, usage,
};

#[tokio::test]
async fn a_column_rotates_from_v1_to_v2_to_v3_in_batches() {
    let test = database().await;
    let db = test.db();
    let v1 = keyring(&[1]);
    let tenants = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    let mut rows = Vec::new();
    for index in 0..23 {
        let owner = tenants[index % tenants.len()];
        let id = Uuid::new_v4();
        let plaintext = format!("0xkey{index}");
        insert_sealed(db, &v1, owner, id, &plaintext).await;
        rows.push((owner, id, plaintext));
    }
    // Two legacy plaintexts and a NULL ride along in the column that accepts them.
    for index in 23..25 {
        let owner = tenants[0];
        let id = Uuid::new_v4();
        let plaintext = format!("0xlegacy{index}");
        insert(db, owner, id, Some(plaintext.clone())).await;
        rows.push((owner, id, plaintext));
    }
    insert(db, tenants[1], Uuid::new_v4(), None).await;

    for (version, keys) in [(2, keyring(&[1, 2])), (3, keyring(&[1, 2, 3]))] {
        let mut reports: Vec<RotationProgress> = Vec::new();
        let done = rotate_column(db, Arc::new(keys.clone()), LEGACY, 7, &mut |progress| {
            reports.push(progress.clone());
        })
        .await
        .unwrap();
        assert_eq!(done.rotated, 25);
        assert_eq!(done.total, 25);
        assert_eq!(done.batches, 4);
        assert_eq!(
            reports
                .iter()
                .map(|report| report.rotated)
                .collect::<Vec<_>>(),
            [7, 14, 21, 25]
        );
        assert!(reports.iter().all(|report| report.to_version == version));
        assert_eq!(reports[0].column, "secret_test_items.secret");
        assert_eq!(
            column_census(db, LEGACY).await.unwrap(),
            [VersionCount {
                version: Some(version),
                rows: 25
            }]
        );
        for (owner, id, plaintext) in &rows {
            let prefix = format!("enc:v{version}:");
            assert!(stored(db, *id).await.unwrap().starts_with(&prefix));
            let read = read(db, &keys, STRICT, *owner, *id).await.unwrap();
            assert_eq!(read.as_deref(), Some(plaintext.as_str()));
        }
        // Nothing is left to rotate.
        let again = rotate_column(db, Arc::new(keys), LEGACY, 7, &mut |_| {})
            .await
            .unwrap();
        assert_eq!((again.rotated, again.total, again.batches), (0, 0, 0));
    }
    // v1 made the 23 first seals; each rotation made 25 under its version.
    assert_eq!(usage(db).await, [(1, 23), (2, 25), (3, 25)]);
}

#[tokio::test]
async fn the_census_counts_each_version_and_plaintexts() {
    let test = database().await;
    let db = test.db();
    let owner = Uuid::new_v4();
    insert_sealed(db, &keyring(&[1]), owner, Uuid::new_v4(), "a").await;
    insert_sealed(db, &keyring(&[1, 2]), owner, Uuid::new_v4(), "b").await;
    insert_sealed(db, &keyring(&[1, 2]), owner, Uuid::new_v4(), "c").await;
    insert(db, owner, Uuid::new_v4(), Some("plain".into())).await;
    assert_eq!(
        column_census(db, LEGACY).await.unwrap(),
        [
            VersionCount {
                version: None,
                rows: 1
            },
            VersionCount {
                version: Some(1),
                rows: 1
            },
            VersionCount {
                version: Some(2),
                rows: 2
            },
        ]
    );
}

#[tokio::test]
async fn a_value_that_does_not_decrypt_stops_rotation_after_the_batches_before_it() {
    let test = database().await;
    let db = test.db();
    let v1 = keyring(&[1]);
    let owner = Uuid::new_v4();
    // Ids in order, so the bad row comes after the first batch.
    let ids: Vec<Uuid> = (1..=5).map(Uuid::from_u128).collect();
    for id in &ids[..4] {
        insert_sealed(db, &v1, owner, *id, "ok").await;
    }
    // A plaintext in a column that refuses plaintexts.
    insert(db, owner, ids[4], Some("0xinjected".into())).await;
    let error = rotate_column(db, Arc::new(keyring(&[1, 2])), STRICT, 2, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretsError::PlaintextRefused { .. }),
        "{error}"
    );
    for id in &ids[..4] {
        assert!(stored(db, *id).await.unwrap().starts_with("enc:v2:"));
    }
    assert_eq!(stored(db, ids[4]).await.as_deref(), Some("0xinjected"));
}
