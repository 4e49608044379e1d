//! Adoption through clone-service and the royalty path economy shares a royalty along.

use clones_economy::CloneGrant;
use clones_kernel::PageRequest;
use clones_marketplace::{MarketplaceError, NewStrategy, StrategyFilter};
use rust_decimal::Decimal;

use crate::support::{fixture, sma_cross};

#[tokio::test]
async fn only_proposable_strategies_are_adopted_into_the_owners_clone() {
    let f = fixture().await;
    let (creator, owner, stranger) = (f.user().await, f.user().await, f.user().await);
    let clone_id = f
        .services
        .economy
        .grant_clone(CloneGrant {
            owner_user_id: owner,
            clone_name: None,
            reference: "adoption".into(),
        })
        .await
        .unwrap()
        .purchase
        .clone_id
        .unwrap();
    let strategy = f
        .market
        .upload(
            creator,
            NewStrategy {
                name: "cross".into(),
                description: String::new(),
                graph: sma_cross(10, 30, &[]),
                parent_id: None,
            },
        )
        .await
        .unwrap()
        .summary
        .id;
    assert!(matches!(
        f.market.adopt(owner, strategy, clone_id).await,
        Err(MarketplaceError::NotFound)
    ));
    f.set_status(strategy, "candidate");
    assert!(matches!(
        f.market.adopt(owner, strategy, clone_id).await,
        Err(MarketplaceError::NotProposable)
    ));
    f.set_status(strategy, "proposable");
    assert!(matches!(
        f.market.adopt(stranger, strategy, clone_id).await,
        Err(MarketplaceError::Clone(
            clones_clone_service::CloneError::CloneNotFound
        ))
    ));
    let draft = f.market.adopt(owner, strategy, clone_id).await.unwrap();
    assert_eq!(draft.marketplace_strategy_id, Some(strategy));
    let version = f.services.clones.publish(owner, clone_id).await.unwrap();
    assert_eq!(version.marketplace_strategy_id, Some(strategy));
    // A hand edit clears the origin: the graph is no longer the marketplace's.
    let edited = f
        .services
        .clones
        .save_draft(owner, clone_id, sma_cross(11, 30, &[]))
        .await
        .unwrap();
    assert_eq!(edited.marketplace_strategy_id, None);
    let hand = f.services.clones.publish(owner, clone_id).await.unwrap();
    assert_eq!(hand.marketplace_strategy_id, None);
    // The adopted version keeps its origin.
    let first = f.services.clones.version(owner, clone_id, 1).await.unwrap();
    assert_eq!(first.marketplace_strategy_id, Some(strategy));
}

#[tokio::test]
async fn the_royalty_path_stops_at_strategies_without_an_uploader() {
    let f = fixture().await;
    f.market.load_seeds().await.unwrap();
    let seed = f
        .market
        .strategies(
            f.user().await,
            StrategyFilter::default(),
            PageRequest::first(),
        )
        .await
        .unwrap()
        .items[0]
        .id;
    assert!(f.market.royalty_path(seed).await.unwrap().is_empty());
    let creator = f.user().await;
    let fork = f
        .market
        .upload(
            creator,
            NewStrategy {
                name: "fork of a seed".into(),
                description: String::new(),
                graph: sma_cross(9, 40, &[]),
                parent_id: Some(seed),
            },
        )
        .await
        .unwrap()
        .summary
        .id;
    let path = f.market.royalty_path(fork).await.unwrap();
    assert_eq!(path.len(), 1);
    assert_eq!(path[0].uploader, creator);
    assert_eq!(path[0].parent_percent, Some(Decimal::from(20)));
    assert!(matches!(
        f.market.royalty_path(uuid::Uuid::new_v4()).await,
        Err(MarketplaceError::NotFound)
    ));
}
