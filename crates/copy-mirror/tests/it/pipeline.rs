//! The pipeline end to end on the paper executor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use clones_copy_mirror::{
    CopyTradeService, CopyTradeSettings, ExecError, Executor, GrantRequest, IdempotencyKey,
    MirrorIntent, PaperExecutor, PgCopyTradeService, Placement, Route, TargetPatch, TradeSide,
};
use clones_kernel::PageRequest;

use crate::support::{WALLET, d, fill, fixture, grant, target};

fn page() -> PageRequest {
    PageRequest::new(Some(500), None).unwrap()
}

#[tokio::test]
async fn a_fill_seen_twice_places_once_and_ends_in_one_decision() {
    let f = fixture().await;
    let (owner, _) = f.tenant().await;
    let buy = fill(1, TradeSide::Buy, "40");
    let first = f
        .copy
        .mirror(WALLET, std::slice::from_ref(&buy))
        .await
        .unwrap();
    assert_eq!((first.examined, first.placed), (1, 1), "{first:?}");
    // A second poll, and the WebSocket wake-up, see the same fill again.
    let again = f.copy.mirror(WALLET, &[buy.clone(), buy]).await.unwrap();
    assert_eq!((again.duplicates, again.placed), (2, 0));

    let ledger = f.copy.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].status, "filled");
    assert_eq!(ledger[0].size, Some(d("20")), "half the target's 40 shares");
    assert!(ledger[0].synced_at.is_some());
    let decisions = f.copy.decisions(owner, page()).await.unwrap().items;
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].outcome, "placed");
    assert_eq!(decisions[0].idempotency_key, ledger[0].idempotency_key);

    // The paper account holds the shares, bought by exactly one order.
    let account = f
        .copy
        .grant(owner)
        .await
        .unwrap()
        .unwrap()
        .paper_account_id
        .unwrap();
    let orders = f
        .services
        .prop
        .orders(owner, account, page())
        .await
        .unwrap()
        .items;
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0].decision_action_id.as_deref(),
        Some(ledger[0].idempotency_key.as_str())
    );

    // A sell mirrors against the position, never beyond it.
    f.clock.advance(chrono::Duration::seconds(1));
    f.price(d("0.51")).await;
    let sell = f
        .copy
        .mirror(WALLET, &[fill(2, TradeSide::Sell, "100")])
        .await
        .unwrap();
    assert_eq!(sell.placed, 1);
    let ledger = f.copy.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].side.as_deref(), Some("SELL"));
    assert_eq!(ledger[0].size, Some(d("20")));
}

#[tokio::test]
async fn each_cap_refuses_with_a_recorded_reason() {
    let f = fixture().await;
    let (owner, target_id) = f.tenant().await;
    let reasons = |decisions: Vec<clones_copy_mirror::DecisionView>| -> Vec<Option<String>> {
        decisions
            .into_iter()
            .map(|decision| decision.reason)
            .collect()
    };
    // Per order: the grant allows 5 USDC, the plan wants 10.
    f.copy
        .set_grant(
            owner,
            GrantRequest {
                per_order_usdc_cap: d("5"),
                ..grant()
            },
        )
        .await
        .unwrap();
    f.clock.advance(chrono::Duration::seconds(1));
    f.copy
        .mirror(WALLET, &[fill(1, TradeSide::Buy, "40")])
        .await
        .unwrap();
    // Daily: 12 USDC a day; the first 10 pass, the next 10 do not.
    f.copy
        .set_grant(
            owner,
            GrantRequest {
                daily_usdc_cap: d("12"),
                ..grant()
            },
        )
        .await
        .unwrap();
    f.clock.advance(chrono::Duration::seconds(1));
    f.copy
        .mirror(WALLET, &[fill(2, TradeSide::Buy, "40")])
        .await
        .unwrap();
    f.clock.advance(chrono::Duration::seconds(1));
    f.copy
        .mirror(WALLET, &[fill(3, TradeSide::Buy, "40")])
        .await
        .unwrap();
    // Hourly: one order an hour, and one was placed.
    f.copy
        .set_grant(
            owner,
            GrantRequest {
                hourly_fills_cap: 1,
                ..grant()
            },
        )
        .await
        .unwrap();
    f.clock.advance(chrono::Duration::seconds(1));
    f.copy
        .mirror(WALLET, &[fill(4, TradeSide::Buy, "40")])
        .await
        .unwrap();
    // The kill switch, then a paused target (not watched at all while paused).
    f.copy.set_kill_switch(owner, true).await.unwrap();
    f.clock.advance(chrono::Duration::seconds(1));
    f.copy
        .mirror(WALLET, &[fill(5, TradeSide::Buy, "40")])
        .await
        .unwrap();
    f.copy.set_kill_switch(owner, false).await.unwrap();
    f.copy
        .update_target(
            owner,
            target_id,
            TargetPatch {
                active: Some(false),
                ..TargetPatch::default()
            },
        )
        .await
        .unwrap();
    let paused = f
        .copy
        .mirror(WALLET, &[fill(6, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(paused.examined, 0);

    let mut got = reasons(f.copy.decisions(owner, page()).await.unwrap().items);
    got.reverse();
    assert_eq!(
        got,
        [
            Some("per_order_cap".to_string()),
            None,
            Some("daily_cap".to_string()),
            Some("hourly_cap".to_string()),
            Some("kill_switch".to_string()),
        ]
    );
    // Every observed fill has exactly one decision.
    assert_eq!(f.copy.fills(owner, page()).await.unwrap().items.len(), 5);
}

#[tokio::test]
async fn a_wake_up_poll_racing_the_interval_poll_places_once() {
    let f = fixture().await;
    let (owner, _) = f.tenant().await;
    let fills = [fill(7, TradeSide::Buy, "40"), fill(8, TradeSide::Buy, "20")];
    // Both polls run at once, as a wake-up poll and the interval's can.
    let (interval, wake) =
        tokio::join!(f.copy.mirror(WALLET, &fills), f.copy.mirror(WALLET, &fills));
    let (interval, wake) = (interval.unwrap(), wake.unwrap());
    assert_eq!(interval.placed + wake.placed, 2, "{interval:?} {wake:?}");
    assert_eq!(interval.duplicates + wake.duplicates, 2);
    assert_eq!(
        f.copy.decisions(owner, page()).await.unwrap().items.len(),
        2
    );
    let account = f
        .copy
        .grant(owner)
        .await
        .unwrap()
        .unwrap()
        .paper_account_id
        .unwrap();
    let orders = f
        .services
        .prop
        .orders(owner, account, page())
        .await
        .unwrap()
        .items;
    assert_eq!(orders.len(), 2, "one order per fill");
}

/// The paper venue, whose answer to the first order is lost (a timeout after the venue
/// received it).
struct LosesFirstAnswer {
    inner: PaperExecutor,
    lost: AtomicBool,
}

#[async_trait]
impl Executor for LosesFirstAnswer {
    fn name(&self) -> &'static str {
        "paper"
    }

    async fn place(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Placement, ExecError> {
        let answer = self.inner.place(route, intent, key).await;
        if !self.lost.swap(true, Ordering::SeqCst) {
            return Err(ExecError::Ambiguous("timed out".into()));
        }
        answer
    }

    async fn reconcile(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Option<Placement>, ExecError> {
        self.inner.reconcile(route, intent, key).await
    }
}

#[tokio::test]
async fn an_ambiguous_answer_is_reconciled_without_a_second_order() {
    let f = fixture().await;
    let flaky = PgCopyTradeService::new(
        f.db.db().clone(),
        Arc::new(f.clock.clone()),
        f.services.prop.clone(),
        Arc::new(LosesFirstAnswer {
            inner: PaperExecutor::new(f.services.prop.clone()),
            lost: AtomicBool::new(false),
        }),
        None,
        CopyTradeSettings::default(),
    );
    let (owner, _) = f.tenant().await;
    let buy = fill(1, TradeSide::Buy, "40");
    let tick = flaky
        .mirror(WALLET, std::slice::from_ref(&buy))
        .await
        .unwrap();
    assert_eq!(tick.unresolved, 1);
    let ledger = flaky.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "pending");
    assert!(
        flaky
            .decisions(owner, page())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // A restart: the same fill is seen again; it is already claimed.
    assert_eq!(flaky.mirror(WALLET, &[buy]).await.unwrap().duplicates, 1);
    // Within the grace nothing is reconciled; after it, the venue is asked.
    assert_eq!(flaky.recover().await.unwrap().examined, 0);
    f.clock.advance(chrono::Duration::seconds(31));
    let recovered = flaky.recover().await.unwrap();
    assert_eq!(recovered.placed, 1);
    let ledger = flaky.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "filled");
    assert_eq!(flaky.decisions(owner, page()).await.unwrap().items.len(), 1);
    let account = flaky
        .grant(owner)
        .await
        .unwrap()
        .unwrap()
        .paper_account_id
        .unwrap();
    let orders = f
        .services
        .prop
        .orders(owner, account, page())
        .await
        .unwrap()
        .items;
    assert_eq!(orders.len(), 1, "the venue received exactly one order");
}

#[tokio::test]
async fn another_tenant_sees_nothing_and_each_tenant_mirrors_on_its_own() {
    let f = fixture().await;
    let (alice, alice_target) = f.tenant().await;
    let (bob, _) = f.tenant().await;
    let tick = f
        .copy
        .mirror(WALLET, &[fill(1, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(
        (tick.examined, tick.placed),
        (2, 2),
        "one wallet, two tenants, two orders"
    );
    assert_eq!(f.copy.fills(alice, page()).await.unwrap().items.len(), 1);
    assert_eq!(f.copy.fills(bob, page()).await.unwrap().items.len(), 1);
    let stranger = f.user().await;
    assert!(
        f.copy
            .targets(stranger, page())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        f.copy
            .fills(stranger, page())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        f.copy
            .decisions(stranger, page())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        f.copy.remove_target(stranger, alice_target).await,
        Err(clones_copy_mirror::CopyTradeError::TargetNotFound)
    ));
    // Adding the same wallet twice is refused; after removal it may be added again.
    assert!(matches!(
        f.copy.add_target(alice, target()).await,
        Err(clones_copy_mirror::CopyTradeError::DuplicateTarget)
    ));
    f.copy.remove_target(alice, alice_target).await.unwrap();
    let tick = f
        .copy
        .mirror(WALLET, &[fill(2, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.examined, 1, "a removed target stops");
    f.copy.add_target(alice, target()).await.unwrap();
}
