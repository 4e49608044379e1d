//! The worker path: one cycle decides, records and executes; repeated and concurrent
//! deliveries of a slot execute each action once; refusals are recorded as skipped runs.

use chrono::Duration;
use clones_ai_decision::{Adapter, FixedRoster, RunContext, RunStatus};
use clones_clone_service::{ClonePatch, CloneService, SelectionMode, Tier, TradeUniverse};
use clones_kernel::{Clock, DomainError};
use clones_market::Side;
use clones_prop_engine::{OrderStatus, PropService};

use crate::support::*;

#[tokio::test]
async fn one_cycle_decides_records_and_fills_with_the_rule_model() {
    let fx = fixture().await;
    fx.seed_market().await;
    let assignment = fx.assignment().await;
    let service = fx.service(None);

    let stats = service
        .run_cycle(&FixedRoster::new(vec![assignment.clone()]), 100)
        .await
        .unwrap();
    assert_eq!(stats.assignments, 1);
    assert_eq!(stats.runs_created, 1);
    assert_eq!(stats.decided, 1, "{stats:?}");
    assert_eq!(stats.orders_created, 1);

    let outcome = service.decide(&assignment).await.unwrap();
    let detail = outcome.detail;
    let run = &detail.run;
    assert_eq!(run.status, RunStatus::Decided);
    assert_eq!(run.adapter, Adapter::Rule);
    assert_eq!(run.model, "rule");
    assert_eq!(run.context, RunContext::Audition);
    assert_eq!(run.account_id, Some(assignment.account_id));
    assert_eq!(run.reference_id, Some(assignment.reference_id));
    assert_eq!(run.slot, service.slot_of(fx.clock.now()));
    assert_eq!(run.strategy_version, Some(1));
    assert_eq!(detail.actions.len(), 1);
    let action = &detail.actions[0];
    assert_eq!(action.id, format!("{}:0", run.id));
    assert_eq!(action.kind, "open_long");
    assert_eq!(action.instrument, BTC);
    assert_eq!(action.side, Side::Buy);
    // 10 % of 100 000 at a mid of 500.
    assert_eq!(action.size, d("20"));
    assert_eq!(action.reference_price, d("500"));
    assert_eq!(action.risk["stop_loss_percent"], "5");
    let execution = action.execution.as_ref().unwrap();
    assert_eq!(execution.order_status, OrderStatus::Filled);
    assert_eq!(execution.filled_size, d("20"));
    let artifact = detail.artifact.unwrap();
    assert_eq!(artifact.model, "rule");
    assert_eq!(artifact.prompt_hash.len(), 64);
    assert_eq!(artifact.input_packet["assets"][0]["mid"], "500");
    assert!(artifact.raw_output.unwrap().contains("enter_long"));

    let orders = fx
        .orders(assignment.owner_user_id, assignment.account_id)
        .await;
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0].decision_action_id.as_deref(),
        Some(action.id.as_str())
    );
    let positions = fx
        .prop
        .positions(assignment.owner_user_id, assignment.account_id)
        .await
        .unwrap();
    assert_eq!(positions[0].size, d("20"));
}

#[tokio::test]
async fn the_same_slot_delivered_twice_executes_once() {
    let fx = fixture().await;
    fx.seed_market().await;
    let assignment = fx.assignment().await;
    let service = fx.service(None);

    let first = service.decide(&assignment).await.unwrap();
    let second = service.decide(&assignment).await.unwrap();
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.detail.run.id, second.detail.run.id);
    assert_eq!(first.orders_created, 1);
    assert_eq!(second.orders_created, 0);
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        1
    );

    // Later in the same slot: still the same run.
    fx.clock.advance(Duration::seconds(20));
    let third = service.decide(&assignment).await.unwrap();
    assert_eq!(third.detail.run.id, first.detail.run.id);

    // The next slot decides again (the cross is still the last complete bar).
    fx.clock.advance(Duration::seconds(40));
    mid_at(&fx.ingest, fx.clock.now(), d("500")).await;
    let next = service.decide(&assignment).await.unwrap();
    assert!(next.created);
    assert_ne!(next.detail.run.id, first.detail.run.id);
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn concurrent_deliveries_record_one_run_and_one_order_per_action() {
    let fx = fixture().await;
    fx.seed_market().await;
    let assignment = fx.assignment().await;
    let service = fx.service(None);

    let results = futures_util::future::join_all((0..4).map(|_| service.decide(&assignment))).await;
    let outcomes: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|outcome| outcome.created).count(), 1);
    let run_id = outcomes[0].detail.run.id;
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.detail.run.id == run_id)
    );
    assert_eq!(
        outcomes
            .iter()
            .map(|outcome| outcome.orders_created)
            .sum::<u32>(),
        1
    );
    let orders = fx
        .orders(assignment.owner_user_id, assignment.account_id)
        .await;
    assert_eq!(orders.len(), 1);
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.detail.actions[0].execution.is_some())
    );

    // A whole cycle delivering the same assignment twice behaves the same.
    let roster = FixedRoster::new(vec![assignment.clone(), assignment.clone()]);
    let stats = service.run_cycle(&roster, 10).await.unwrap();
    assert_eq!(stats.runs_repeated, 2);
    assert_eq!(stats.orders_created, 0);
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn refusals_are_recorded_as_skipped_runs_and_execute_nothing() {
    let fx = fixture().await;
    fx.seed_market().await;
    let service = fx.service(None);
    let owner = fx.user().await;

    // No published strategy.
    let clone_id = fx.unpublished_clone(owner).await;
    let account_id = fx.account(owner, clone_id).await;
    let outcome = service
        .decide(&assignment(owner, clone_id, account_id))
        .await
        .unwrap();
    assert_eq!(outcome.detail.run.status, RunStatus::Skipped);
    assert_eq!(
        outcome.detail.run.reason_code.as_deref(),
        Some("no_active_strategy")
    );
    assert!(outcome.detail.artifact.is_none());

    // The strategy trades BTC; the trade universe no longer contains it (topology check).
    let clone_id = fx.clone(owner).await;
    let account_id = fx.account(owner, clone_id).await;
    fx.clones
        .set_trade_universe(
            owner,
            clone_id,
            TradeUniverse {
                assets: vec!["ETH".into()],
                selection_mode: SelectionMode::AllInUniverse,
                max_assets: 1,
            },
        )
        .await
        .unwrap();
    let outcome = service
        .decide(&assignment(owner, clone_id, account_id))
        .await
        .unwrap();
    assert_eq!(
        outcome.detail.run.reason_code.as_deref(),
        Some("strategy_not_allowed")
    );
    assert!(
        outcome
            .detail
            .run
            .reason_detail
            .unwrap()
            .contains("asset_not_in_universe")
    );
    assert_eq!(fx.orders(owner, account_id).await.len(), 0);

    // The clone's model was allowed under Pro; back on Starter it is not.
    let clone_id = fx.clone(owner).await;
    let account_id = fx.account(owner, clone_id).await;
    fx.grant(clone_id, Tier::Pro).await;
    fx.clones
        .update_clone(
            owner,
            clone_id,
            ClonePatch {
                display_name: None,
                model: Some("gpt-4o-mini".into()),
            },
        )
        .await
        .unwrap();
    fx.grant(clone_id, Tier::Starter).await;
    let outcome = service
        .decide(&assignment(owner, clone_id, account_id))
        .await
        .unwrap();
    assert_eq!(outcome.detail.run.status, RunStatus::Skipped);
    assert_eq!(
        outcome.detail.run.reason_code.as_deref(),
        Some("model_not_allowed")
    );
    assert_eq!(outcome.detail.run.adapter, Adapter::Openai);

    // A language-model clone without a configured endpoint.
    fx.grant(clone_id, Tier::Pro).await;
    fx.clock.advance(Duration::seconds(60));
    let outcome = service
        .decide(&assignment(owner, clone_id, account_id))
        .await
        .unwrap();
    assert_eq!(
        outcome.detail.run.reason_code.as_deref(),
        Some("llm_not_configured")
    );

    // Someone else's clone is not decided at all.
    let stranger = fx.user().await;
    let error = service
        .decide(&assignment(stranger, clone_id, account_id))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "clone_not_found");
}

#[tokio::test]
async fn a_halted_account_is_skipped() {
    let fx = fixture().await;
    fx.seed_market().await;
    let service = fx.service(None);
    let assignment = fx.assignment().await;
    let admin = fx.user().await;
    fx.prop
        .halt(admin, assignment.account_id, "test halt")
        .await
        .unwrap();
    let outcome = service.decide(&assignment).await.unwrap();
    assert_eq!(
        outcome.detail.run.reason_code.as_deref(),
        Some("account_not_active")
    );

    // Another clone of the same owner pointed at this account.
    let other = fx.clone(assignment.owner_user_id).await;
    let fresh = fx
        .account(assignment.owner_user_id, assignment.clone_id)
        .await;
    let outcome = service
        .decide(&crate::support::assignment(
            assignment.owner_user_id,
            other,
            fresh,
        ))
        .await
        .unwrap();
    assert_eq!(
        outcome.detail.run.reason_code.as_deref(),
        Some("account_not_for_clone")
    );
    assert_eq!(
        fx.orders(assignment.owner_user_id, assignment.account_id)
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn a_cycle_pages_through_the_whole_roster() {
    let fx = fixture().await;
    fx.seed_market().await;
    let mut assignments = Vec::new();
    for _ in 0..3 {
        assignments.push(fx.assignment().await);
    }
    let service = fx.service(None);
    // Pages of one: every assignment is still decided, once.
    let stats = service
        .run_cycle(&FixedRoster::new(assignments.clone()), 1)
        .await
        .unwrap();
    assert_eq!(stats.assignments, 3);
    assert_eq!(stats.runs_created, 3);
    assert_eq!(stats.failures, 0);
    for assignment in &assignments {
        assert_eq!(
            fx.orders(assignment.owner_user_id, assignment.account_id)
                .await
                .len(),
            1
        );
    }
}

/// The packet is stored in `decision_artifacts` and sent to language models: its JSON is part of
/// the contract, down to key names, number formats and bar layout.
#[tokio::test]
async fn the_context_packet_keeps_its_shape() {
    let fx = fixture().await;
    fx.seed_market().await;
    let a = fx.assignment().await;
    let service = clones_ai_decision::PgDecisionService::new(
        fx.db.db().clone(),
        std::sync::Arc::new(fx.clock.clone()),
        fx.clones.clone(),
        fx.ingest.clone(),
        fx.prop.clone(),
        None,
        clones_ai_decision::DecisionSettings {
            packet_bars: 2,
            ..Default::default()
        },
    );
    let artifact = service.decide(&a).await.unwrap().detail.artifact.unwrap();
    let expected = serde_json::json!({
        "account": {"equity": "100000", "equitySource": "cash", "id": a.account_id},
        "assets": [{
            "asset": "BTC",
            "instrument": "replay:perp:BTC",
            "mid": "500",
            "midAt": "2026-11-22T12:00:30Z",
            "position": null,
        }],
        "at": "2026-11-22T12:00:30Z",
        "cloneId": a.clone_id,
        "model": "rule",
        "series": [{
            "asset": "BTC",
            "bars": [
                [1795341600i64, "142", "142", "142", "142", "1"],
                [1795345200i64, "500", "500", "500", "500", "1"],
            ],
            "timeframe": "1h",
        }],
        "shortfalls": [],
        "strategy": {
            "fingerprint": "7b6b509c3ea36e1cf41968cbe9230899477004ba7504c7d40063a4e545904ab6",
            "version": 1,
        },
    });
    assert_eq!(artifact.input_packet, expected);
    // The rule model hashes the packet's text with its keys in sorted order.
    assert_eq!(
        artifact.prompt_hash,
        clones_ai_decision::model::sha256_hex(expected.to_string().as_bytes())
    );
}

/// A page decided at once (set-based reads, one run write, one order batch) answers each
/// assignment as deciding it alone would: orders for the clones that decide, skipped runs for
/// refusals, a failure for a clone that is not the named owner's, and one run and one order
/// for an assignment delivered twice in the page.
#[tokio::test]
async fn a_page_decided_at_once_answers_each_assignment_as_alone() {
    let fx = fixture().await;
    fx.seed_market().await;
    let service = fx.service(None);
    let mut trading = Vec::new();
    for _ in 0..4 {
        trading.push(fx.assignment().await);
    }
    let owner = fx.user().await;
    let unpublished = fx.unpublished_clone(owner).await;
    let unpublished_account = fx.account(owner, unpublished).await;
    let other = fx.clone(owner).await;
    let foreign_account = fx.account(owner, other).await;
    let clone_id = fx.clone(owner).await;
    let stranger = fx.user().await;
    let mut page = trading.clone();
    page.push(trading[0].clone());
    page.push(assignment(owner, unpublished, unpublished_account));
    page.push(assignment(owner, clone_id, foreign_account));
    page.push(assignment(stranger, clone_id, foreign_account));

    let stats = service
        .run_cycle(&FixedRoster::new(page.clone()), 100)
        .await
        .unwrap();
    assert_eq!(stats.assignments, 8);
    assert_eq!(stats.decided, 4);
    assert_eq!(stats.skipped, 2);
    assert_eq!(stats.failures, 1);
    assert_eq!(stats.runs_created, 6);
    assert_eq!(stats.runs_repeated, 1);
    assert_eq!(stats.orders_created, 4);
    assert_eq!(stats.order_errors, 0);
    for assignment in &trading {
        let orders = fx
            .orders(assignment.owner_user_id, assignment.account_id)
            .await;
        assert_eq!(orders.len(), 1);
        // The run records the execution, as a single decision does.
        let repeat = service.decide(assignment).await.unwrap();
        assert!(!repeat.created);
        assert!(repeat.detail.actions[0].execution.is_some());
    }
    assert!(fx.orders(owner, foreign_account).await.is_empty());

    // The next delivery of the same slot finds every run and orders nothing.
    let again = service
        .run_cycle(&FixedRoster::new(page), 100)
        .await
        .unwrap();
    assert_eq!(again.runs_created, 0);
    assert_eq!(again.runs_repeated, 7);
    assert_eq!(again.orders_created, 0);
}
