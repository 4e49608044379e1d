//! Owner reads and dry runs.

use chrono::Duration;
use clones_ai_decision::{DecisionService, RunContext, RunStatus};
use clones_kernel::{Clock, DomainError, PageRequest};

use crate::support::*;

#[tokio::test]
async fn owners_page_through_their_runs_and_read_one() {
    let fx = fixture().await;
    fx.seed_market().await;
    let a = fx.assignment().await;
    let service = fx.service(None);
    for _ in 0..3 {
        service.decide(&a).await.unwrap();
        fx.clock.advance(Duration::seconds(60));
        mid_at(&fx.ingest, fx.clock.now(), d("500")).await;
    }
    let first = service
        .runs(
            a.owner_user_id,
            a.clone_id,
            PageRequest::new(Some(2), None).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.items[0].started_at > first.items[1].started_at);
    let second = service
        .runs(
            a.owner_user_id,
            a.clone_id,
            PageRequest::new(Some(2), first.next_cursor).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert!(second.next_cursor.is_none());

    let detail = service
        .run(a.owner_user_id, a.clone_id, first.items[0].id)
        .await
        .unwrap();
    assert_eq!(detail.actions.len(), 1);
    assert!(detail.actions[0].execution.is_some());
    assert!(detail.artifact.is_some());

    let stranger = fx.user().await;
    let error = service
        .runs(stranger, a.clone_id, PageRequest::first())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "clone_not_found");
    let error = service
        .run(stranger, a.clone_id, first.items[0].id)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "clone_not_found");
    let error = service
        .run(a.owner_user_id, a.clone_id, uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "decision_run_not_found");
}

#[tokio::test]
async fn a_dry_run_decides_and_records_but_executes_nothing() {
    let fx = fixture().await;
    fx.seed_market().await;
    let a = fx.assignment().await;
    let service = fx.service(None);
    let detail = service.dry_run(a.owner_user_id, a.clone_id).await.unwrap();
    assert_eq!(detail.run.context, RunContext::DryRun);
    assert_eq!(detail.run.account_id, None);
    assert_eq!(detail.run.status, RunStatus::Decided);
    assert_eq!(detail.actions.len(), 1);
    assert!(detail.actions[0].execution.is_none());
    // Sized on the clone's audition account.
    assert_eq!(
        detail.artifact.unwrap().input_packet["account"]["id"],
        a.account_id.to_string()
    );
    assert_eq!(fx.orders(a.owner_user_id, a.account_id).await.len(), 0);

    // Twice in the same instant is fine: dry runs are not slot-unique.
    service.dry_run(a.owner_user_id, a.clone_id).await.unwrap();
    let page = service
        .runs(a.owner_user_id, a.clone_id, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);

    // A clone without an account is sized on the nominal equity.
    let owner = fx.user().await;
    let clone_id = fx.clone(owner).await;
    let detail = service.dry_run(owner, clone_id).await.unwrap();
    assert_eq!(
        detail.artifact.unwrap().input_packet["account"]["equitySource"],
        "nominal"
    );

    let error = service.dry_run(owner, a.clone_id).await.unwrap_err();
    assert_eq!(error.code(), "clone_not_found");
}
