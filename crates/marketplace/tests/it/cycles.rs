//! The cycles: shipped strategies load once; the monitoring cycle finds exact and behavioural
//! duplicates and rejects a strategy that never trades; the evolution cycle backtests, breeds
//! valid children with lineage and the uploader preserved, and is deterministic for its seed.

use clones_kernel::PageRequest;
use clones_marketplace::{StrategyFilter, StrategyStatus};

use crate::support::{fixture, sma_cross, upload};

fn page() -> PageRequest {
    PageRequest::new(Some(200), None).unwrap()
}

#[tokio::test]
async fn shipped_strategies_load_once_at_experiment() {
    let f = fixture().await;
    assert_eq!(f.market.load_seeds().await.unwrap(), 5);
    assert_eq!(f.market.load_seeds().await.unwrap(), 0);
    let viewer = f.user().await;
    let all = f
        .market
        .strategies(viewer, StrategyFilter::default(), page())
        .await
        .unwrap()
        .items;
    assert!(
        all.iter()
            .all(|s| s.status == StrategyStatus::Experiment && s.uploader_id.is_none())
    );
}

#[tokio::test]
async fn monitoring_finds_exact_and_behavioural_duplicates_and_rejects_a_silent_strategy() {
    let f = fixture().await;
    let creator = f.user().await;
    let original = f
        .market
        .upload(creator, upload("original", sma_cross(10, 30, &[])))
        .await
        .unwrap();
    let first = f.market.monitor().await.unwrap();
    assert_eq!(first.passed, 1, "{first:?}");
    // The same graph with other node ids: the same fingerprint.
    let mut renamed = sma_cross(10, 30, &[]);
    renamed["nodes"][1]["id"] = serde_json::json!("quick");
    for edge in renamed["edges"].as_array_mut().unwrap() {
        if edge["from"] == "fast" {
            edge["from"] = serde_json::json!("quick");
        }
        if edge["to"] == "fast" {
            edge["to"] = serde_json::json!("quick");
        }
    }
    let exact = f
        .market
        .upload(creator, upload("renamed", renamed))
        .await
        .unwrap();
    // An extra node that changes nothing: another fingerprint, the same behaviour.
    let unused = serde_json::json!({ "id": "noise", "kind": "rsi", "params": { "period": 9 } });
    let mut padded = sma_cross(10, 30, &[unused]);
    padded["edges"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "from": "close", "to": "noise", "input": "source" }));
    let behaves = f
        .market
        .upload(creator, upload("padded", padded))
        .await
        .unwrap();
    // A strategy whose trigger can never fire.
    let mut silent = sma_cross(10, 30, &[]);
    silent["nodes"][3] = serde_json::json!({ "id": "up", "kind": "crosses_above", "params": { "threshold": "1000000" } });
    silent["edges"] = serde_json::json!([
        { "from": "close", "to": "fast", "input": "source" },
        { "from": "close", "to": "slow", "input": "source" },
        { "from": "fast", "to": "up", "input": "left" },
        { "from": "fast", "to": "down", "input": "left" },
        { "from": "slow", "to": "down", "input": "right" },
        { "from": "up", "to": "buy", "input": "when" },
        { "from": "down", "to": "sell", "input": "when" }
    ]);
    let quiet = f
        .market
        .upload(creator, upload("silent", silent))
        .await
        .unwrap();
    f.clock.advance(chrono::Duration::minutes(15));
    let report = f.market.monitor().await.unwrap();
    assert_eq!(
        (report.checked, report.duplicates, report.rejected),
        (3, 2, 1),
        "{report:?}"
    );
    let exact = f.market.strategy(creator, exact.summary.id).await.unwrap();
    assert_eq!(exact.summary.status, StrategyStatus::Duplicate);
    assert_eq!(exact.duplicate_of, Some(original.summary.id));
    assert_eq!(exact.history.last().unwrap().reason, "same_fingerprint");
    let behaves = f
        .market
        .strategy(creator, behaves.summary.id)
        .await
        .unwrap();
    assert_eq!(behaves.summary.status, StrategyStatus::Duplicate);
    assert_eq!(behaves.history.last().unwrap().reason, "same_behaviour");
    let quiet = f.market.strategy(creator, quiet.summary.id).await.unwrap();
    assert_eq!(quiet.summary.status, StrategyStatus::Rejected);
    assert_eq!(quiet.history.last().unwrap().reason, "no_trades");
}

async fn evolved() -> Vec<(String, i32, Option<uuid::Uuid>, String)> {
    let f = fixture().await;
    let creator = f.user().await;
    f.market
        .upload(creator, upload("mine", sma_cross(8, 21, &[])))
        .await
        .unwrap();
    f.market.monitor().await.unwrap();
    f.market.load_seeds().await.unwrap();
    for cycle in 0..3 {
        f.clock.advance(chrono::Duration::minutes(8));
        f.market.evolve(cycle).await.unwrap();
        f.clock.advance(chrono::Duration::minutes(1));
        f.market.monitor().await.unwrap();
    }
    let all = f
        .market
        .strategies(creator, StrategyFilter::default(), page())
        .await
        .unwrap()
        .items;
    let mut children = Vec::new();
    for summary in all.iter().filter(|s| s.origin == "mutation") {
        let detail = f.market.strategy(creator, summary.id).await.unwrap();
        let root = detail.ancestors.last().unwrap().parent_id;
        let root = f.market.strategy(creator, root).await.unwrap();
        // The uploader is the root's, whatever the generation.
        assert_eq!(summary.uploader_id, root.summary.uploader_id);
        assert_eq!(detail.ancestors.len() as i32, summary.generation);
        assert!(
            clones_strategy::compile(
                &serde_json::from_value(detail.graph.clone()).unwrap(),
                &clones_strategy::Constraints::unrestricted()
            )
            .is_ok()
        );
        children.push((
            detail.ancestors[0].mutation_type.clone(),
            summary.generation,
            summary.uploader_id,
            detail.fingerprint.clone(),
        ));
    }
    children.sort();
    children
}

#[tokio::test]
async fn evolution_breeds_valid_children_with_lineage_and_is_deterministic() {
    let first = evolved().await;
    assert!(!first.is_empty(), "the cycles bred children");
    let second = evolved().await;
    let prints = |children: &[(String, i32, Option<uuid::Uuid>, String)]| {
        children
            .iter()
            .map(|child| (child.0.clone(), child.1, child.3.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        prints(&first),
        prints(&second),
        "the same seed and cycles breed the same children"
    );
}
