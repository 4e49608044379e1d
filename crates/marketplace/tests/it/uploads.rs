//! Uploads: accepted at `pending_review`, refused with every bad node named, rate limited,
//! forks linked to their parent; what other users see; administrator reviews.

use clones_kernel::{DomainError, PageRequest};
use clones_marketplace::{
    MarketplaceError, NewStrategy, Review, ReviewAction, StrategyFilter, StrategyStatus,
};

use crate::support::{fixture, sma_cross, upload};

#[tokio::test]
async fn an_upload_waits_for_review_and_a_bad_graph_names_its_nodes() {
    let f = fixture().await;
    let creator = f.user().await;
    let made = f
        .market
        .upload(creator, upload("cross", sma_cross(10, 30, &[])))
        .await
        .unwrap();
    assert_eq!(made.summary.status, StrategyStatus::PendingReview);
    assert_eq!(made.summary.uploader_id, Some(creator));
    assert_eq!(made.history.len(), 1);
    assert_eq!(made.history[0].event, "upload");

    let mut broken = sma_cross(10, 30, &[]);
    broken["nodes"][1]["params"]["period"] = serde_json::json!(0);
    let error = f
        .market
        .upload(creator, upload("broken", broken))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_strategy_graph");
    let problems = error.problems().unwrap();
    assert!(
        problems
            .iter()
            .any(|problem| problem.node.as_deref() == Some("fast")),
        "{problems:?}"
    );

    let error = f
        .market
        .upload(creator, upload("", sma_cross(10, 30, &[])))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_input");
}

#[tokio::test]
async fn uploads_are_rate_limited_per_creator_and_nothing_is_stored_when_refused() {
    let f = fixture().await;
    let creator = f.user().await;
    for n in 0..10 {
        f.market
            .upload(creator, upload("cross", sma_cross(5 + n, 40, &[])))
            .await
            .unwrap();
    }
    let error = f
        .market
        .upload(creator, upload("one too many", sma_cross(3, 40, &[])))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MarketplaceError::UploadLimit { .. }),
        "{error:?}"
    );
    assert!(
        error
            .retry_after_secs()
            .is_some_and(|secs| secs > 0 && secs <= 3_600)
    );
    let page = PageRequest::new(Some(50), None).unwrap();
    let mine = StrategyFilter {
        mine: true,
        ..StrategyFilter::default()
    };
    assert_eq!(
        f.market
            .strategies(creator, mine, page)
            .await
            .unwrap()
            .items
            .len(),
        10
    );
    // Another creator is not limited by the first one's uploads.
    let other = f.user().await;
    assert!(
        f.market
            .upload(other, upload("cross", sma_cross(7, 40, &[])))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn others_see_only_reviewed_strategies_and_reviews_are_audited() {
    let f = fixture().await;
    let (creator, other, admin) = (f.user().await, f.user().await, f.user().await);
    let made = f
        .market
        .upload(creator, upload("cross", sma_cross(10, 30, &[])))
        .await
        .unwrap();
    let id = made.summary.id;
    assert!(matches!(
        f.market.strategy(other, id).await,
        Err(MarketplaceError::NotFound)
    ));
    f.market.load_seeds().await.unwrap();
    let page = PageRequest::new(Some(50), None).unwrap();
    let seen = f
        .market
        .strategies(other, StrategyFilter::default(), page)
        .await
        .unwrap()
        .items;
    assert_eq!(seen.len(), 5, "the shipped strategies only");
    f.clock.advance(chrono::Duration::minutes(1));

    let rejected = f
        .market
        .review(
            admin,
            id,
            Review {
                action: ReviewAction::Reject,
                reason: "copied from a book".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rejected.summary.status, StrategyStatus::Rejected);
    let last = rejected.history.last().unwrap();
    assert_eq!(
        (last.actor_id, last.reason.as_str()),
        (Some(admin), "copied from a book")
    );
    let error = f
        .market
        .review(
            admin,
            id,
            Review {
                action: ReviewAction::Discard,
                reason: "again".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (error.code(), error.kind()),
        (
            "invalid_strategy_transition",
            clones_kernel::ErrorKind::Conflict
        )
    );
    let back = f
        .market
        .review(
            admin,
            id,
            Review {
                action: ReviewAction::Reinstate,
                reason: "appeal upheld".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(back.summary.status, StrategyStatus::Experiment);
    assert_eq!(f.market.strategy(other, id).await.unwrap().summary.id, id);
}

#[tokio::test]
async fn a_fork_links_to_its_parent_and_keeps_its_own_uploader() {
    let f = fixture().await;
    let (first, second) = (f.user().await, f.user().await);
    f.market.load_seeds().await.unwrap();
    let page = PageRequest::new(Some(50), None).unwrap();
    let seed = f
        .market
        .strategies(first, StrategyFilter::default(), page)
        .await
        .unwrap()
        .items[0]
        .clone();
    let fork = f
        .market
        .upload(
            second,
            NewStrategy {
                parent_id: Some(seed.id),
                ..upload("my fork", sma_cross(11, 33, &[]))
            },
        )
        .await
        .unwrap();
    assert_eq!(fork.summary.uploader_id, Some(second));
    assert_eq!(fork.summary.generation, 1);
    assert_eq!(fork.ancestors.len(), 1);
    assert_eq!(fork.ancestors[0].parent_id, seed.id);
    assert_eq!(fork.ancestors[0].mutation_type, "fork");
    // The fork's uploader sees it below the parent; others only once it passed review.
    assert_eq!(
        f.market
            .strategy(second, seed.id)
            .await
            .unwrap()
            .descendants
            .len(),
        1
    );
    assert!(
        f.market
            .strategy(first, seed.id)
            .await
            .unwrap()
            .descendants
            .is_empty()
    );
}
