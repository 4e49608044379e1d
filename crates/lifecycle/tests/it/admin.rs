//! Voids and refund authorizations.

use clones_kernel::DomainError;

use clones_lifecycle::{AuditionStatus, LifecycleService, TradingContext};
use clones_prop_engine::{AccountStatus, PropService};

use crate::support::fixture;

#[tokio::test]
async fn void_stops_trading_and_a_refund_is_authorized_once() {
    let f = fixture().await;
    let admin = f.admin().await;
    let (owner, _, started) = f.started(None).await;
    let run = started.audition;
    let assignments = f.service.trading_assignments(None, 100).await.unwrap();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0].context, TradingContext::Audition);
    assert_eq!(assignments[0].account_id, run.prop_account_id);

    assert_eq!(
        f.service
            .void_audition(admin, run.id, "  ")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    let voided = f
        .service
        .void_audition(admin, run.id, "feed outage")
        .await
        .unwrap();
    assert_eq!(voided.status, AuditionStatus::Voided);
    assert!(voided.ended_at.is_some());
    assert!(
        f.service
            .trading_assignments(None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let account = f.prop.account(owner, run.prop_account_id).await.unwrap();
    assert_eq!(account.status, AccountStatus::Halted);
    assert_eq!(
        f.service
            .void_audition(admin, run.id, "again")
            .await
            .unwrap_err()
            .code(),
        "audition_not_voidable"
    );

    let refund = f
        .service
        .authorize_refund(admin, run.id, "feed outage")
        .await
        .unwrap();
    assert_eq!(refund.purchase_id, run.purchase_id);
    assert_eq!(refund.amount, "7000000");
    assert_eq!(refund.status, clones_lifecycle::RefundStatus::Authorized);
    assert_eq!(refund.authorized_by, admin);
    let again = f
        .service
        .authorize_refund(admin, run.id, "twice")
        .await
        .unwrap_err();
    assert_eq!(again.code(), "refund_already_authorized");
    assert_eq!(again.kind(), clones_kernel::ErrorKind::Conflict);
    assert_eq!(
        f.service
            .refund_authorizations(clones_kernel::PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let kinds: Vec<&str> = f
        .service
        .audition(owner, run.id)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|event| event.kind.as_str())
        .collect();
    assert_eq!(kinds, ["started", "voided", "refund_authorized"]);
}

#[tokio::test]
async fn a_refund_voids_a_running_audition_in_the_same_call_and_never_a_passed_one() {
    let f = fixture().await;
    let admin = f.admin().await;
    let (owner, _, started) = f.started(None).await;
    let run = started.audition;
    assert_eq!(
        f.service
            .authorize_refund(admin, run.id, "")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(
        f.service
            .audition(owner, run.id)
            .await
            .unwrap()
            .audition
            .status,
        AuditionStatus::Running
    );
    f.service
        .authorize_refund(admin, run.id, "broken market data")
        .await
        .unwrap();
    let detail = f.service.audition(owner, run.id).await.unwrap();
    assert_eq!(detail.audition.status, AuditionStatus::Voided);
    assert_eq!(detail.retries_left, 0);

    // A passed audition is not refundable, and a failed refusal changes nothing.
    let (p_owner, _, passed) = f.started(None).await;
    let passed = passed.audition;
    f.db.owner_connection()
        .map(|mut conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "UPDATE audition_runs SET status = 'passed', ended_at = now() WHERE id = '{}'",
                passed.id
            ))
            .execute(&mut conn)
            .unwrap();
        })
        .unwrap();
    let refused = f
        .service
        .authorize_refund(admin, passed.id, "no")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "refund_not_allowed");
    assert_eq!(
        f.service
            .audition(p_owner, passed.id)
            .await
            .unwrap()
            .events
            .len(),
        1
    );
    assert_eq!(
        f.count("SELECT count(*) AS n FROM audition_refund_authorizations"),
        1
    );
}

#[tokio::test]
async fn a_refund_covers_every_attempt_of_the_purchase() {
    let f = fixture().await;
    let admin = f.admin().await;
    // Standard: one free retry after any rule. Attempt 1 fails, attempt 2 runs.
    let (owner, _, first) = f.started(None).await;
    let first = first.audition;
    f.snapshot(&first, owner, "2026-03-02T13:00:00Z", "94000", "94000")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let second = f.service.retry(owner, first.id).await.unwrap().audition;
    assert_eq!(second.status, AuditionStatus::Running);

    // Refunding the failed attempt stops the running one too: no refund and audition at once.
    f.service
        .authorize_refund(admin, first.id, "the purchase is refunded")
        .await
        .unwrap();
    let second = f.service.audition(owner, second.id).await.unwrap();
    assert_eq!(second.audition.status, AuditionStatus::Voided);
    assert_eq!(
        f.prop
            .account(owner, second.audition.prop_account_id)
            .await
            .unwrap()
            .status,
        AccountStatus::Halted
    );
    assert!(
        f.service
            .trading_assignments(None, 100)
            .await
            .unwrap()
            .iter()
            .all(|assignment| assignment.reference_id != second.audition.id)
    );
    // Asking to retry again answers the attempt that exists; nothing new starts.
    let repeat = f.service.retry(owner, first.id).await.unwrap();
    assert!(!repeat.created);
    assert_eq!(repeat.audition.id, second.audition.id);
    assert_eq!(repeat.audition.status, AuditionStatus::Voided);

    // A purchase whose later attempt passed is not refunded through an earlier one.
    let (p_owner, _, p_first) = f.started(None).await;
    let p_first = p_first.audition;
    f.snapshot(&p_first, p_owner, "2026-03-02T13:00:00Z", "94000", "94000")
        .await;
    f.service.evaluate_running(100).await.unwrap();
    let p_second = f.service.retry(p_owner, p_first.id).await.unwrap().audition;
    f.db.owner_connection()
        .map(|mut conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "UPDATE audition_runs SET status = 'passed', ended_at = now() WHERE id = '{}'",
                p_second.id
            ))
            .execute(&mut conn)
            .unwrap();
        })
        .unwrap();
    assert_eq!(
        f.service
            .authorize_refund(admin, p_first.id, "no")
            .await
            .unwrap_err()
            .code(),
        "refund_not_allowed"
    );
    assert_eq!(
        f.service
            .audition(p_owner, p_first.id)
            .await
            .unwrap()
            .audition
            .status,
        AuditionStatus::Failed
    );
}

#[tokio::test]
async fn trading_assignments_are_read_in_pages_that_miss_nothing() {
    let f = fixture().await;
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(f.started(None).await.2.audition.id);
    }
    started.sort();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = f.service.trading_assignments(after, 2).await.unwrap();
        seen.extend(page.iter().map(|assignment| assignment.reference_id));
        match page.last() {
            Some(last) if page.len() == 2 => after = Some((last.context, last.reference_id)),
            _ => break,
        }
    }
    assert_eq!(seen, started);
    // A cursor among the memberships skips every audition.
    let arena_only = f
        .service
        .trading_assignments(Some((TradingContext::Arena, uuid::Uuid::nil())), 10)
        .await
        .unwrap();
    assert!(arena_only.is_empty());
}
