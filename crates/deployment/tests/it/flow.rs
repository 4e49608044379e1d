//! The lifecycle through the service: owner actions and chain outcomes, the history they leave,
//! refusals that change nothing, isolation between tenants, and a race of two starts.

use clones_db::diesel::{self, RunQueryDsl};
use clones_deployment::{
    Actor, ChainOutcome, DeploymentError, DeploymentStatus as S, EventKind, OwnerAction,
};
use clones_kernel::page::PageRequest;
use clones_kernel::{DomainError, ErrorKind};
use uuid::Uuid;

use crate::support::{fixture, keyring, pool, token, token_created};

#[tokio::test]
async fn a_clone_goes_from_draft_to_archived_and_its_history_says_how() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    let draft = f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(draft.status, S::Draft);
    assert_eq!(draft.created_at, None);

    let started = f.act(owner, clone, OwnerAction::Initiate).await;
    assert_eq!(started.status, S::PendingTokenSignature);
    let created = f.outcome(clone, token_created()).await;
    assert_eq!(created.status, S::TokenCreated);
    assert_eq!(created.token_address, Some(token().to_checksum(None)));
    let pooling = f.act(owner, clone, OwnerAction::InitiatePool).await;
    assert_eq!(pooling.status, S::PendingPoolSignature);
    assert!(pooling.deposit_address.is_some());
    let deployed = f
        .outcome(
            clone,
            ChainOutcome::PoolCreated {
                pool_address: pool(),
            },
        )
        .await;
    assert_eq!(deployed.status, S::Deployed);
    assert_eq!(deployed.pool_address, Some(pool().to_checksum(None)));
    assert_eq!(
        f.act(owner, clone, OwnerAction::Deactivate).await.status,
        S::Deactivated
    );
    assert_eq!(
        f.act(owner, clone, OwnerAction::Archive).await.status,
        S::Archived
    );
    assert_eq!(
        f.deployments.deployment(owner, clone).await.unwrap().status,
        S::Archived
    );

    let history = f
        .deployments
        .history(owner, clone, PageRequest::first())
        .await
        .unwrap();
    let steps: Vec<_> = history
        .items
        .iter()
        .map(|entry| (entry.seq, entry.actor, entry.event, entry.from, entry.to))
        .collect();
    assert_eq!(
        steps,
        [
            (
                1,
                Actor::Owner,
                EventKind::InitiateDeployment,
                S::Draft,
                S::PendingTokenSignature
            ),
            (
                2,
                Actor::System,
                EventKind::TokenCreationSuccess,
                S::PendingTokenSignature,
                S::TokenCreated
            ),
            (
                3,
                Actor::Owner,
                EventKind::InitiatePoolCreation,
                S::TokenCreated,
                S::PendingPoolSignature
            ),
            (
                4,
                Actor::System,
                EventKind::PoolCreationSuccess,
                S::PendingPoolSignature,
                S::Deployed
            ),
            (
                5,
                Actor::Owner,
                EventKind::Deactivate,
                S::Deployed,
                S::Deactivated
            ),
            (
                6,
                Actor::Owner,
                EventKind::Archive,
                S::Deactivated,
                S::Archived
            ),
        ]
    );
    assert_eq!(history.items[0].actor_user_id, Some(owner));
    assert_eq!(history.items[1].actor_user_id, None);

    // Archived is final.
    for action in [
        OwnerAction::Initiate,
        OwnerAction::Retry,
        OwnerAction::Archive,
        OwnerAction::Cancel,
    ] {
        let error = f.deployments.act(owner, clone, action).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Conflict);
        assert_eq!(error.code(), "deployment_transition_not_allowed");
    }
}

#[tokio::test]
async fn the_history_pages_in_order_even_within_one_instant() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    // Five transitions at the same instant (the clock never moves).
    f.act(owner, clone, OwnerAction::Initiate).await;
    f.act(owner, clone, OwnerAction::Cancel).await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    f.act(owner, clone, OwnerAction::Cancel).await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    let mut seqs = Vec::new();
    let mut page = PageRequest::new(Some(2), None).unwrap();
    loop {
        let got = f.deployments.history(owner, clone, page).await.unwrap();
        seqs.extend(got.items.iter().map(|entry| entry.seq));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::new(Some(2), Some(cursor)).unwrap(),
            None => break,
        }
    }
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_failure_is_retried_from_the_step_the_token_allows() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    let failed = f
        .outcome(
            clone,
            ChainOutcome::Failed {
                error: "  reverted  ".into(),
            },
        )
        .await;
    assert_eq!(failed.status, S::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("reverted"));
    let retried = f.act(owner, clone, OwnerAction::Retry).await;
    assert_eq!(retried.status, S::PendingTokenSignature);
    assert_eq!(retried.last_error, None);

    f.outcome(clone, token_created()).await;
    let pooling = f.act(owner, clone, OwnerAction::InitiatePool).await;
    let cancelled = f.act(owner, clone, OwnerAction::Cancel).await;
    assert_eq!(cancelled.status, S::Failed);
    let retried = f.act(owner, clone, OwnerAction::Retry).await;
    assert_eq!(retried.status, S::PendingPoolSignature);
    // The pool keeps its deposit address across the retry.
    assert_eq!(retried.deposit_address, pooling.deposit_address);

    let history = f
        .deployments
        .history(owner, clone, PageRequest::first())
        .await
        .unwrap();
    let errors: Vec<_> = history
        .items
        .iter()
        .filter_map(|entry| entry.error.clone())
        .collect();
    assert_eq!(errors, ["reverted", clones_deployment::CANCELLED]);
}

#[tokio::test]
async fn refused_events_change_nothing_and_answer_conflicts() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    // Nothing but initiate or archive from a draft; no row is left behind.
    for action in [
        OwnerAction::InitiatePool,
        OwnerAction::Cancel,
        OwnerAction::Retry,
        OwnerAction::Deactivate,
    ] {
        let error = f.deployments.act(owner, clone, action).await.unwrap_err();
        assert!(
            matches!(error, DeploymentError::InvalidTransition(_)),
            "{action:?}: {error}"
        );
    }
    let draft = f.deployments.deployment(owner, clone).await.unwrap();
    assert_eq!(draft.created_at, None);
    f.act(owner, clone, OwnerAction::Initiate).await;
    let error = f
        .deployments
        .record_outcome(
            clone,
            ChainOutcome::PoolCreated {
                pool_address: pool(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "deployment_transition_not_allowed");
    let empty = f
        .deployments
        .record_outcome(clone, ChainOutcome::Failed { error: " ".into() })
        .await
        .unwrap_err();
    assert_eq!(empty.code(), "invalid_input");
    let history = f
        .deployments
        .history(owner, clone, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1);
    // A system event for a clone that never started.
    let (_, other_clone) = f.owner_with_clone().await;
    let error = f
        .deployments
        .record_outcome(other_clone, token_created())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "deployment_not_found");
}

#[tokio::test]
async fn another_users_clone_is_not_found() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    let (stranger, _) = f.owner_with_clone().await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    let read = f.deployments.deployment(stranger, clone).await.unwrap_err();
    assert_eq!(
        (read.kind(), read.code()),
        (ErrorKind::NotFound, "clone_not_found")
    );
    let history = f
        .deployments
        .history(stranger, clone, PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(history.code(), "clone_not_found");
    let act = f
        .deployments
        .act(stranger, clone, OwnerAction::Cancel)
        .await
        .unwrap_err();
    assert_eq!(act.code(), "clone_not_found");
    let missing = f
        .deployments
        .deployment(owner, Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "clone_not_found");
    assert_eq!(
        f.deployments.deployment(owner, clone).await.unwrap().status,
        S::PendingTokenSignature
    );
}

#[tokio::test]
async fn two_concurrent_starts_make_one_transition() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    let (a, b) = tokio::join!(
        f.deployments.act(owner, clone, OwnerAction::Initiate),
        f.deployments.act(owner, clone, OwnerAction::Initiate),
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let refused = a.err().or(b.err()).unwrap();
    assert_eq!(refused.code(), "deployment_transition_not_allowed");
    let history = f
        .deployments
        .history(owner, clone, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1);
}

#[tokio::test]
async fn the_history_is_append_only_in_the_database() {
    let f = fixture(Some(keyring(&[1]))).await;
    let (owner, clone) = f.owner_with_clone().await;
    f.act(owner, clone, OwnerAction::Initiate).await;
    let mut owner_conn = f.db.owner_connection().unwrap();
    for statement in [
        "UPDATE clone_deployment_history SET to_status = 'deployed'",
        "DELETE FROM clone_deployment_history",
        "TRUNCATE clone_deployment_history CASCADE",
    ] {
        let error = diesel::sql_query(statement)
            .execute(&mut owner_conn)
            .unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
}
