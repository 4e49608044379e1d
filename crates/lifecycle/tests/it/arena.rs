//! Arena admission from the Promotion Queue.

use clones_kernel::DomainError;

use chrono::Duration;
use clones_clone_service::{CloneService, DisplayState};
use clones_lifecycle::{
    LifecycleService, MembershipStatus, PromotionStatus, SkipReason, TradingContext,
};
use clones_prop_engine::{AccountContext, PropService};

use crate::support::fixture;

#[tokio::test]
async fn a_passed_clone_joins_the_arena_only_with_an_approved_profile() {
    let f = fixture().await;
    let (owner, clone_id, started) = f.started(None).await;
    let run = started.audition;
    // Standard needs 4 trading days; pass by hand-set facts is not possible, so trade 4 days.
    for day in 0..4 {
        f.clock.set(run.window_start + Duration::days(day));
        f.trade(&run, owner, clones_market::Side::Buy, "1").await;
    }
    let when = (run.window_start + Duration::days(3) + Duration::hours(1)).to_rfc3339();
    f.snapshot(&run, owner, &when, "111000", "111000").await;
    assert_eq!(f.service.evaluate_running(10).await.unwrap().passed, 1);
    assert_eq!(
        f.service
            .arena_membership(owner, clone_id)
            .await
            .unwrap_err()
            .code(),
        "arena_membership_not_found"
    );

    let report = f.service.sync_arena_entries(10).await.unwrap();
    assert_eq!(
        (report.examined, report.admitted, report.skipped),
        (1, 0, 1)
    );
    let entry = f.service.promotion_entry(owner, clone_id).await.unwrap();
    assert_eq!(entry.status, PromotionStatus::Queued);
    assert_eq!(entry.last_skip_reason, Some(SkipReason::ProfileMissing));
    assert!(entry.last_attempt_at.is_some());

    f.approve_profile(owner, clone_id).await;
    let report = f.service.sync_arena_entries(10).await.unwrap();
    assert_eq!(report.admitted, 1);
    let entry = f.service.promotion_entry(owner, clone_id).await.unwrap();
    assert_eq!(entry.status, PromotionStatus::Admitted);
    let membership = f.service.arena_membership(owner, clone_id).await.unwrap();
    assert_eq!(membership.status, MembershipStatus::Active);
    let account = f
        .prop
        .account(owner, membership.prop_account_id)
        .await
        .unwrap();
    assert_eq!(account.context, AccountContext::Arena);
    assert_eq!(
        f.clones
            .get_clone(owner, clone_id)
            .await
            .unwrap()
            .display_state,
        DisplayState::Competing
    );
    let assignments = f.service.trading_assignments(None, 10).await.unwrap();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0].context, TradingContext::Arena);
    assert_eq!(assignments[0].reference_id, membership.id);
    // Nothing queued is left.
    assert_eq!(f.service.sync_arena_entries(10).await.unwrap().examined, 0);
}
