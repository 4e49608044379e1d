//! The pool's deposit key: generated once, sealed with clones-secrets for its row and owner,
//! never stored in plaintext, read back as a signer for its address, migrated on read to a new
//! key version, rotated with the registered column, and refused without a keyring.

use std::sync::Arc;

use clones_db::diesel::{self, RunQueryDsl};
use clones_deployment::{DEPOSIT_KEY_COLUMN, DeploymentStatus as S, OwnerAction};
use clones_kernel::DomainError;
use clones_secrets::{Envelope, VersionCount, column_census, rotate_column};
use uuid::Uuid;

use crate::support::{fixture, keyring, token_created, with_keys};

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    deposit_key: Option<String>,
}

fn stored_key(f: &crate::support::Fixture, clone: Uuid) -> Option<String> {
    diesel::sql_query("SELECT deposit_key FROM clone_deployments WHERE clone_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(clone)
        .get_result::<Stored>(&mut f.db.owner_connection().unwrap())
        .unwrap()
        .deposit_key
}

#[tokio::test]
async fn the_deposit_key_is_sealed_and_reads_back_as_the_signer_of_its_address() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    assert!(
        f.deployments
            .pool_deposit_signer(clone)
            .await
            .unwrap()
            .is_none()
    );
    f.act(owner, clone, OwnerAction::Initiate).await;
    f.outcome(clone, token_created()).await;
    let pooling = f.act(owner, clone, OwnerAction::InitiatePool).await;
    let stored = stored_key(&f, clone).unwrap();
    assert!(stored.starts_with("enc:v1:"), "{stored}");
    let signer = f
        .deployments
        .pool_deposit_signer(clone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(signer.address().to_checksum(None)),
        pooling.deposit_address
    );
    // The key never appears in the row or the view in any readable form.
    let hex_key = format!("{:x}", signer.to_bytes());
    assert!(!stored.contains(&hex_key));
    assert!(!format!("{pooling:?}").contains(&hex_key));
    // One encryption counted.
    let usage = f
        .services
        .db
        .run(clones_secrets::store::usage)
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|u| u.encryptions).sum::<u64>(), 1);
}

#[tokio::test]
async fn the_pool_step_needs_a_keyring_and_writes_nothing_without_one() {
    let f = fixture(None).await;
    let (owner, clone) = f.owner_with_clone().await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    f.outcome(clone, token_created()).await;
    let error = f
        .deployments
        .act(owner, clone, OwnerAction::InitiatePool)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "secrets_not_configured");
    let view = f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(view.status, S::TokenCreated);
    assert_eq!(view.deposit_address, None);
    assert_eq!(
        f.deployments
            .pool_deposit_signer(clone)
            .await
            .unwrap_err()
            .code(),
        "secrets_not_configured"
    );
}

#[tokio::test]
async fn a_key_moved_to_another_deployment_row_does_not_open() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (alice, first) = f.owner_with_clone().await;
    let (bob, second) = f.owner_with_clone().await;
    for (owner, clone) in [(alice, first), (bob, second)] {
        f.act(owner, clone, OwnerAction::Initiate).await;
        f.outcome(clone, token_created()).await;
        f.act(owner, clone, OwnerAction::InitiatePool).await;
    }
    // Someone with database access copies alice's sealed key and address onto bob's row.
    diesel::sql_query(
        "UPDATE clone_deployments AS target SET deposit_key = source.deposit_key, \
         deposit_address = source.deposit_address \
         FROM clone_deployments AS source WHERE source.clone_id = $1 AND target.clone_id = $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(first)
    .bind::<diesel::sql_types::Uuid, _>(second)
    .execute(&mut f.db.owner_connection().unwrap())
    .unwrap();
    let error = f.deployments.pool_deposit_signer(second).await.unwrap_err();
    assert_eq!(error.code(), "internal");
    assert!(
        f.deployments
            .pool_deposit_signer(first)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_plaintext_key_cannot_be_stored() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    let error = diesel::sql_query(
        "UPDATE clone_deployments SET deposit_key = '0x4c0883a69102937d6231471b5dbb6204fe512961708279f3e2f5a0e6a3b8b3a1', \
         deposit_address = '0x0000000000000000000000000000000000000001'",
    )
    .execute(&mut f.db.owner_connection().unwrap())
    .unwrap_err();
    assert!(error.to_string().contains("check constraint"), "{error}");
}

#[tokio::test]
async fn keys_move_to_a_new_version_on_read_and_by_rotation() {
    let f = fixture(Some(keyring(&[1]))).await;
    let mut clones = Vec::new();
    for _ in 0..5 {
        let (owner, clone) = f.owner_with_clone().await;
        f.act(owner, clone, OwnerAction::Initiate).await;
        f.outcome(clone, token_created()).await;
        let view = f.act(owner, clone, OwnerAction::InitiatePool).await;
        clones.push((clone, view.deposit_address.unwrap()));
    }
    // The process restarts with version 2 current: a read migrates that row at once.
    let v2 = with_keys(&f.db, &f.clock, Some(keyring(&[1, 2])));
    let (first, address) = &clones[0];
    let signer = v2
        .deployments
        .pool_deposit_signer(*first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&signer.address().to_checksum(None), address);
    assert!(stored_key(&f, *first).unwrap().starts_with("enc:v2:"));

    // Rotation moves the other four to version 3 (and the first one too), two per batch.
    let v3 = keyring(&[1, 2, 3]);
    let mut batches = 0;
    let done = rotate_column(
        f.db.db(),
        Arc::clone(&v3),
        DEPOSIT_KEY_COLUMN,
        2,
        &mut |_| {
            batches += 1;
        },
    )
    .await
    .unwrap();
    assert_eq!((done.rotated, done.total, batches), (5, 5, 3));
    assert_eq!(
        column_census(f.db.db(), DEPOSIT_KEY_COLUMN).await.unwrap(),
        [VersionCount {
            version: Some(3),
            rows: 5
        }]
    );
    let only_v3 = with_keys(
        &f.db,
        &f.clock,
        Some(Arc::new(
            clones_secrets::Keyring::derive(
                b"0123456789abcdef",
                vec![(3, clones_secrets::SecretBytes::new(vec![3; 32]))],
                None,
            )
            .unwrap(),
        )),
    );
    for (clone, address) in &clones {
        let signer = only_v3
            .deployments
            .pool_deposit_signer(*clone)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&signer.address().to_checksum(None), address);
        let stored = stored_key(&f, *clone).unwrap();
        assert!(stored.starts_with(&Envelope::like_pattern(3).replace('%', "")));
    }
}
