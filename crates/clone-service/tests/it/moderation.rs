//! Public profiles, reports and moderation.

use clones_clone_service::{
    CloneError, CloneService, DisplayState, ModerationAction, ProfileStatus, ProfileSubmission,
    ReportDecision, ReportReason, ReportResolution, ReportStatus, ReportSubmission,
};

use clones_kernel::PageRequest;

use crate::support::fixture;

fn profile(username: &str) -> ProfileSubmission {
    ProfileSubmission {
        display_name: "Alpha Trader".into(),
        username: username.into(),
        bio: "Trend following.".into(),
        avatar_url: Some("https://cdn.example/alpha.png".into()),
    }
}

fn report(reason: ReportReason) -> ReportSubmission {
    ReportSubmission {
        reason,
        details: "looks fake".into(),
    }
}

#[tokio::test]
async fn profiles_auto_approve_and_usernames_are_unique_among_live_profiles() {
    let f = fixture().await;
    let (alice, bob) = (f.user().await, f.user().await);
    let (a, b) = (f.paid_clone(alice).await, f.paid_clone(bob).await);

    let submitted = f
        .service
        .submit_profile(alice, a, profile("alpha_1"))
        .await
        .unwrap();
    assert_eq!(submitted.status, ProfileStatus::Approved);
    let public = f.service.public_profile(a).await.unwrap();
    assert_eq!(
        (public.username.as_str(), public.display_name.as_str()),
        ("alpha_1", "Alpha Trader")
    );

    let taken = f.service.submit_profile(bob, b, profile("alpha_1")).await;
    assert!(
        matches!(taken, Err(CloneError::UsernameTaken(_))),
        "{taken:?}"
    );
    for bad in [
        profile("AB"),
        profile("has-dash"),
        ProfileSubmission {
            avatar_url: Some("javascript:alert(1)".into()),
            ..profile("bob_1")
        },
        ProfileSubmission {
            display_name: String::new(),
            ..profile("bob_1")
        },
    ] {
        assert!(matches!(
            f.service.submit_profile(bob, b, bad).await,
            Err(CloneError::InvalidInput(_))
        ));
    }
    // Someone else's clone cannot get a profile from you.
    assert!(matches!(
        f.service.submit_profile(bob, a, profile("bob_2")).await,
        Err(CloneError::CloneNotFound)
    ));
    // Updating keeps the original submission time.
    let updated = f
        .service
        .submit_profile(alice, a, profile("alpha_2"))
        .await
        .unwrap();
    assert_eq!(updated.submitted_at, submitted.submitted_at);
    assert!(
        f.service
            .submit_profile(bob, b, profile("alpha_1"))
            .await
            .is_ok(),
        "a released username is free again"
    );
}

#[tokio::test]
async fn reports_retirement_and_reinstatement() {
    let f = fixture().await;
    let (owner, reporter, admin) = (f.user().await, f.user().await, f.admin().await);
    let clone = f.paid_clone(owner).await;
    assert!(matches!(
        f.service
            .report(reporter, clone, report(ReportReason::Spam))
            .await,
        Err(CloneError::ProfileNotFound)
    ));
    f.service
        .submit_profile(owner, clone, profile("target"))
        .await
        .unwrap();

    assert!(matches!(
        f.service
            .report(owner, clone, report(ReportReason::Spam))
            .await,
        Err(CloneError::SelfReport)
    ));
    let filed = f
        .service
        .report(reporter, clone, report(ReportReason::Impersonation))
        .await
        .unwrap();
    assert_eq!(filed.status, ReportStatus::Open);
    assert!(matches!(
        f.service
            .report(reporter, clone, report(ReportReason::Spam))
            .await,
        Err(CloneError::StateConflict(_))
    ));

    let queue = f
        .service
        .reports(Some("open".into()), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(queue.items.len(), 1);
    let resolution = |decision, retire| ReportResolution {
        decision,
        retire,
        note: "confirmed impersonation".into(),
    };
    let actioned = f
        .service
        .resolve_report(admin, filed.id, resolution(ReportDecision::Action, true))
        .await
        .unwrap();
    assert_eq!(actioned.status, ReportStatus::Actioned);
    assert!(matches!(
        f.service
            .resolve_report(admin, filed.id, resolution(ReportDecision::Dismiss, false))
            .await,
        Err(CloneError::ReportResolved)
    ));

    assert_eq!(
        f.service
            .get_clone(owner, clone)
            .await
            .unwrap()
            .display_state,
        DisplayState::Retired
    );
    assert!(matches!(
        f.service.public_profile(clone).await,
        Err(CloneError::ProfileNotFound)
    ));
    assert!(matches!(
        f.service
            .submit_profile(owner, clone, profile("target"))
            .await,
        Err(CloneError::ProfileRetired)
    ));
    assert!(matches!(
        f.service.retire(admin, clone, "again".into()).await,
        Err(CloneError::StateConflict(_))
    ));

    f.service
        .reinstate(admin, clone, "appeal accepted".into())
        .await
        .unwrap();
    assert!(f.service.public_profile(clone).await.is_ok());
    assert!(matches!(
        f.service.reinstate(admin, clone, "twice".into()).await,
        Err(CloneError::StateConflict(_))
    ));

    let history: Vec<ModerationAction> = f
        .service
        .moderation_history(clone, PageRequest::first())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        history,
        [
            ModerationAction::ProfilePublished,
            ModerationAction::ReportActioned,
            ModerationAction::Retired,
            ModerationAction::Reinstated
        ]
    );
    assert!(
        f.service
            .reports(Some("bogus".into()), PageRequest::first())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn retired_usernames_are_released_and_reinstating_a_taken_one_conflicts() {
    let f = fixture().await;
    let (alice, bob, admin) = (f.user().await, f.user().await, f.admin().await);
    let (a, b) = (f.paid_clone(alice).await, f.paid_clone(bob).await);
    f.service
        .submit_profile(alice, a, profile("shared_name"))
        .await
        .unwrap();
    f.service.retire(admin, a, "spam".into()).await.unwrap();
    f.service
        .submit_profile(bob, b, profile("shared_name"))
        .await
        .unwrap();
    let conflict = f.service.reinstate(admin, a, "appeal".into()).await;
    assert!(
        matches!(conflict, Err(CloneError::UsernameTaken(_))),
        "{conflict:?}"
    );
    // The failed reinstatement changed nothing.
    assert_eq!(
        f.service.get_clone(alice, a).await.unwrap().display_state,
        DisplayState::Retired
    );
}

#[tokio::test]
async fn report_queue_pages_with_a_cursor() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    f.service
        .submit_profile(owner, clone, profile("paged"))
        .await
        .unwrap();
    for _ in 0..5 {
        let reporter = f.user().await;
        f.service
            .report(reporter, clone, report(ReportReason::Other))
            .await
            .unwrap();
    }
    // The clock stands still: all five reports share one timestamp, and the id orders them.
    let page = |cursor| PageRequest::new(Some(2), cursor).unwrap();
    let first = f.service.reports(None, page(None)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let second = f
        .service
        .reports(None, page(first.next_cursor))
        .await
        .unwrap();
    let third = f
        .service
        .reports(None, page(second.next_cursor))
        .await
        .unwrap();
    assert_eq!((second.items.len(), third.items.len()), (2, 1));
    assert!(third.next_cursor.is_none());
    let seen: std::collections::BTreeSet<_> = [&first, &second, &third]
        .iter()
        .flat_map(|page| page.items.iter().map(|report| report.id))
        .collect();
    assert_eq!(seen.len(), 5);
}

#[tokio::test]
async fn a_clone_retired_before_it_had_a_profile_cannot_publish_one() {
    let f = fixture().await;
    let owner = f.user().await;
    let admin = f.admin().await;
    let clone = f.paid_clone(owner).await;
    f.service
        .retire(admin, clone, "fraudulent payment".into())
        .await
        .unwrap();
    let refused = f
        .service
        .submit_profile(owner, clone, profile("never_public"))
        .await;
    assert!(
        matches!(refused, Err(CloneError::ProfileRetired)),
        "{refused:?}"
    );
    assert!(matches!(
        f.service.public_profile(clone).await,
        Err(CloneError::ProfileNotFound)
    ));
}

#[tokio::test]
async fn an_unknown_stored_profile_status_is_an_internal_error_never_hidden() {
    use diesel::RunQueryDsl;

    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    f.service
        .submit_profile(owner, clone, profile("alpha_trader"))
        .await
        .unwrap();
    let mut conn = f.db.owner_connection().unwrap();
    diesel::sql_query(
        "ALTER TABLE clone_public_profiles DROP CONSTRAINT clone_public_profiles_status_check",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE clone_public_profiles SET status = 'pending'")
        .execute(&mut conn)
        .unwrap();

    assert!(matches!(
        f.service.own_profile(owner, clone).await,
        Err(CloneError::Corrupt(_))
    ));
    assert!(matches!(
        f.service.list_clones(owner, PageRequest::first()).await,
        Err(CloneError::Corrupt(_))
    ));
}
