//! Starting auditions: idempotency, races, refusals and quotes.

use clones_kernel::{DomainError, PageRequest};

use clones_lifecycle::{AuditionStatus, LifecycleError, LifecycleService, StartAudition};

use crate::support::fixture;

#[tokio::test]
async fn the_same_purchase_starts_one_audition_even_concurrently() {
    let f = fixture().await;
    let (owner, clone_id, first) = f.started(None).await;
    assert!(first.created);
    let run = &first.audition;
    assert_eq!(run.status, AuditionStatus::Running);
    assert_eq!(run.attempt, 1);
    assert_eq!(run.rule_set_code, "standard");
    assert_eq!(run.rules.time_zone, "America/New_York");
    assert_eq!(run.progress.equity, run.rules.starting_balance);
    assert_eq!(run.progress.seconds_left, 30 * 24 * 3600);
    let again = f
        .service
        .start_audition(
            owner,
            clone_id,
            StartAudition {
                purchase_id: run.purchase_id,
                rule_set_code: None,
            },
        )
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.audition.id, run.id);

    // Two concurrent starts of a fresh purchase on another clone.
    let clone_b = f.clone_of(owner, true).await;
    let purchase = f.purchase(owner, clone_b, "audition_fee").await;
    let request = || StartAudition {
        purchase_id: purchase,
        rule_set_code: None,
    };
    let (a, b) = tokio::join!(
        f.service.start_audition(owner, clone_b, request()),
        f.service.start_audition(owner, clone_b, request())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.audition.id, b.audition.id);
    assert!(a.created ^ b.created);
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) AS n FROM audition_runs WHERE clone_id = '{clone_b}'"
        )),
        1
    );
    // Both requests opened the attempt's account under the same derived id: one account.
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) AS n FROM prop_accounts WHERE clone_id = '{clone_b}'"
        )),
        1
    );
    let events = f
        .service
        .audition(owner, a.audition.id)
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, clones_lifecycle::AuditionEventKind::Started);
    let listed = f
        .service
        .auditions(owner, clone_b, PageRequest::first())
        .await
        .unwrap();
    assert_eq!((listed.items.len(), listed.next_cursor), (1, None));
}

#[tokio::test]
async fn bad_starts_are_refused_and_change_nothing() {
    let f = fixture().await;
    let owner = f.user().await;
    let stranger = f.user().await;
    let published = f.clone_of(owner, true).await;
    let draft_only = f.clone_of(owner, false).await;
    let fee = f.purchase(owner, published, "audition_fee").await;
    let upgrade = f.purchase(owner, published, "capacity_upgrade").await;
    let unpublished_fee = f.purchase(owner, draft_only, "audition_fee").await;
    let start = |user, clone_id, purchase_id, code: Option<&str>| {
        let request = StartAudition {
            purchase_id,
            rule_set_code: code.map(str::to_string),
        };
        let service = &f.service;
        async move { service.start_audition(user, clone_id, request).await }
    };
    let code = |result: Result<_, clones_lifecycle::LifecycleError>| result.unwrap_err().code();
    let before = f.count("SELECT count(*) AS n FROM prop_accounts");

    assert_eq!(
        code(start(owner, published, uuid::Uuid::new_v4(), None).await),
        "purchase_not_found"
    );
    // Someone else's clone is not found, whatever purchase comes with it.
    assert_eq!(
        code(start(stranger, published, fee, None).await),
        "clone_not_found"
    );
    assert_eq!(
        code(start(owner, published, upgrade, None).await),
        "purchase_not_for_audition"
    );
    assert_eq!(
        code(start(owner, draft_only, fee, None).await),
        "purchase_not_for_audition"
    );
    assert_eq!(
        code(start(owner, draft_only, unpublished_fee, None).await),
        "strategy_not_published"
    );
    assert_eq!(
        code(start(owner, published, fee, Some("nope")).await),
        "rule_set_not_found"
    );
    assert_eq!(
        code(start(owner, published, fee, Some("Bad Code!")).await),
        "invalid_input"
    );
    assert_eq!(f.count("SELECT count(*) AS n FROM audition_runs"), 0);
    assert_eq!(f.count("SELECT count(*) AS n FROM prop_accounts"), before);

    // One running audition per clone.
    start(owner, published, fee, None).await.unwrap();
    let second = f.purchase(owner, published, "audition_fee").await;
    let refused = start(owner, published, second, None).await.unwrap_err();
    assert_eq!(refused.code(), "audition_already_running");
    assert_eq!(refused.kind(), clones_kernel::ErrorKind::Conflict);
    assert_eq!(f.count("SELECT count(*) AS n FROM audition_runs"), 1);

    // Someone else's clone and audition are not found.
    assert_eq!(
        f.service
            .auditions(stranger, published, PageRequest::first())
            .await
            .unwrap_err()
            .code(),
        "clone_not_found"
    );
}

#[tokio::test]
async fn quotes_need_an_owned_clone_with_a_published_strategy() {
    let f = fixture().await;
    let owner = f.user().await;
    let stranger = f.user().await;
    let published = f.clone_of(owner, true).await;
    let draft_only = f.clone_of(owner, false).await;
    let payer = "0x00000000000000000000000000000000000000aa";
    let refused = f
        .service
        .audition_quote(owner, draft_only, payer)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "strategy_not_published");
    assert_eq!(refused.kind(), clones_kernel::ErrorKind::RuleViolation);
    assert_eq!(
        f.service
            .audition_quote(stranger, published, payer)
            .await
            .unwrap_err()
            .code(),
        "clone_not_found"
    );
    // Past the lifecycle checks the request reaches economy, unconfigured here.
    assert_eq!(
        f.service
            .audition_quote(owner, published, payer)
            .await
            .unwrap_err()
            .code(),
        "payments_not_configured"
    );
    let sets = f.service.rule_sets().await.unwrap();
    let codes: Vec<&str> = sets.iter().map(|set| set.code.as_str()).collect();
    assert_eq!(codes, ["demo", "standard", "trailing"]);
    let demo = &sets[0].rules;
    assert_eq!(demo.profit_target_pct, None);
    assert_eq!(demo.max_window_minutes, 3);
}

#[tokio::test]
async fn an_unknown_stored_event_kind_is_an_internal_error_never_skipped() {
    use clones_kernel::ErrorKind;
    use diesel::RunQueryDsl;

    let f = fixture().await;
    let (owner, _, started) = f.started(None).await;
    let mut conn = f.db.owner_connection().unwrap();
    // The check constraint and the append-only trigger keep the application from writing this;
    // the owner can lift both, which is the kind of corruption the service must refuse to read.
    for statement in [
        "ALTER TABLE audition_run_events DROP CONSTRAINT audition_run_events_kind_check",
        "ALTER TABLE audition_run_events DISABLE TRIGGER USER",
        "UPDATE audition_run_events SET kind = 'paused'",
    ] {
        diesel::sql_query(statement).execute(&mut conn).unwrap();
    }

    let error = f
        .service
        .audition(owner, started.audition.id)
        .await
        .unwrap_err();
    assert!(matches!(error, LifecycleError::Corrupt(_)), "{error:?}");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Internal, "internal")
    );
}
