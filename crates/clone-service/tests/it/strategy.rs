//! Drafts, validation against the entitlement and universe, and publishing (with races).

use clones_clone_service::{CloneError, CloneService, DisplayState, SelectionMode, TradeUniverse};
use clones_kernel::PageRequest;
use diesel::RunQueryDsl;
use serde_json::json;

use crate::support::{fixture, tweaked};

#[tokio::test]
async fn drafts_are_validated_and_publishing_keeps_one_active_version() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let draft = f.service.get_draft(owner, clone).await.unwrap();

    let invalid = f
        .service
        .save_draft(
            owner,
            clone,
            json!({ "version": 1, "nodes": [], "edges": [] }),
        )
        .await;
    match invalid {
        Err(CloneError::InvalidGraph(problems)) => assert!(!problems.is_empty()),
        other => panic!("expected an invalid graph, got {other:?}"),
    }
    let garbage = f
        .service
        .save_draft(owner, clone, json!({ "nodes": "nope" }))
        .await;
    assert!(
        matches!(garbage, Err(CloneError::InvalidGraph(_))),
        "{garbage:?}"
    );

    let first = f.service.publish(owner, clone).await.unwrap();
    assert_eq!((first.version, first.is_active), (1, true));
    assert_eq!(first.fingerprint.len(), 64);
    let again = f.service.publish(owner, clone).await;
    assert!(
        matches!(again, Err(CloneError::NothingToPublish)),
        "{again:?}"
    );
    assert_eq!(
        f.service
            .get_clone(owner, clone)
            .await
            .unwrap()
            .display_state,
        DisplayState::Configured
    );

    f.service
        .save_draft(owner, clone, tweaked(&draft.graph))
        .await
        .unwrap();
    let second = f.service.publish(owner, clone).await.unwrap();
    assert_eq!(second.version, 2);
    let versions = f
        .service
        .list_versions(owner, clone, PageRequest::first())
        .await
        .unwrap()
        .items;
    let summary: Vec<(i32, bool)> = versions.iter().map(|v| (v.version, v.is_active)).collect();
    assert_eq!(summary, [(2, true), (1, false)]);
    assert_eq!(
        versions[1].graph, draft.graph,
        "published versions keep their graph"
    );
    assert_eq!(
        f.service
            .get_clone(owner, clone)
            .await
            .unwrap()
            .active_version,
        Some(2)
    );
}

#[tokio::test]
async fn published_versions_are_immutable_in_the_database() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    f.service.publish(owner, clone).await.unwrap();
    let mut conn = f.db.owner_connection().unwrap();
    for statement in [
        "UPDATE clone_strategy_versions SET graph = '{}'::jsonb",
        "UPDATE clone_strategy_versions SET version = 7",
        "DELETE FROM clone_strategy_versions",
    ] {
        let error = diesel::sql_query(statement).execute(&mut conn).unwrap_err();
        assert!(
            error.to_string().contains("immutable"),
            "{statement}: {error}"
        );
    }
}

#[tokio::test]
async fn concurrent_publishes_leave_one_active_version_and_no_gap() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let base = f.service.get_draft(owner, clone).await.unwrap().graph;
    let mut graph = base;
    for round in 0..3 {
        graph = tweaked(&graph);
        f.service
            .save_draft(owner, clone, graph.clone())
            .await
            .unwrap();
        let attempts = (0..4).map(|_| f.service.publish(owner, clone));
        let results = futures_util::future::join_all(attempts).await;
        let published: Vec<i32> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|v| v.version)
            .collect();
        assert_eq!(published, [round + 1], "{results:?}");
        assert!(
            results
                .iter()
                .filter(|r| r.is_err())
                .all(|r| matches!(r, Err(CloneError::NothingToPublish)))
        );
    }
    let versions = f
        .service
        .list_versions(owner, clone, PageRequest::first())
        .await
        .unwrap()
        .items;
    let numbers: Vec<i32> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(versions.iter().filter(|v| v.is_active).count(), 1);
}

#[tokio::test]
async fn graphs_must_fit_the_universe_and_entitlement() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let draft = f.service.get_draft(owner, clone).await.unwrap().graph;
    // The default graph trades one asset; a universe without it makes the draft invalid.
    f.service
        .set_trade_universe(
            owner,
            clone,
            TradeUniverse {
                assets: vec!["DOGE".into()],
                selection_mode: SelectionMode::AllInUniverse,
                max_assets: 1,
            },
        )
        .await
        .unwrap();
    match f.service.save_draft(owner, clone, draft.clone()).await {
        Err(CloneError::InvalidGraph(problems)) => {
            assert!(
                problems
                    .iter()
                    .any(|p| p.code == "asset_not_in_universe" && p.node.is_some()),
                "{problems:?}"
            );
        }
        other => panic!("expected asset_not_in_universe, got {other:?}"),
    }
    assert!(matches!(
        f.service.publish(owner, clone).await,
        Err(CloneError::InvalidGraph(_))
    ));
}
