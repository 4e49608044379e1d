//! Ownership, paid creation, entitlements, trade universe and row-level security.

use clones_clone_service::{
    CloneError, ClonePatch, CloneService, DisplayState, EntitlementGrant, EntitlementSource,
    SelectionMode, Tier, TradeUniverse,
};
use clones_kernel::PageRequest;
use uuid::Uuid;

use crate::support::fixture;

#[tokio::test]
async fn paid_creation_is_idempotent_and_sets_up_draft_and_starter() {
    let f = fixture().await;
    let owner = f.user().await;
    let purchase = Uuid::new_v4();
    let (first, created) = f.create(owner, purchase).await.unwrap();
    assert!(created);
    let (again, created_again) = f.create(owner, purchase).await.unwrap();
    assert_eq!((again, created_again), (first, false));

    let clones = f
        .service
        .list_clones(owner, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(clones.len(), 1);
    let clone = &clones[0];
    assert_eq!(clone.display_state, DisplayState::SetupRequired);
    assert_eq!(clone.model, "rule");
    assert_eq!(clone.entitlement.tier, Tier::Starter);
    assert_eq!(clone.entitlement.source, EntitlementSource::Purchase);
    assert_eq!(clone.entitlement.source_purchase_id, Some(purchase));
    let draft = f.service.get_draft(owner, first).await.unwrap();
    assert!(!draft.is_default, "creation stores the default draft");
}

#[tokio::test]
async fn another_users_clone_is_not_found_everywhere() {
    let f = fixture().await;
    let (owner, stranger) = (f.user().await, f.user().await);
    let clone = f.paid_clone(owner).await;
    let not_found = |result: Result<(), CloneError>| {
        assert!(
            matches!(result, Err(CloneError::CloneNotFound)),
            "{result:?}"
        )
    };
    not_found(f.service.get_clone(stranger, clone).await.map(drop));
    not_found(f.service.get_draft(stranger, clone).await.map(drop));
    not_found(f.service.publish(stranger, clone).await.map(drop));
    not_found(
        f.service
            .list_versions(stranger, clone, PageRequest::first())
            .await
            .map(drop),
    );
    not_found(f.service.entitlement(stranger, clone).await.map(drop));
    not_found(f.service.runtime(stranger, clone).await.map(drop));
    not_found(
        f.service
            .update_clone(
                stranger,
                clone,
                ClonePatch {
                    display_name: Some("mine".into()),
                    model: None,
                },
            )
            .await
            .map(drop),
    );
    assert!(
        f.service
            .list_clones(stranger, PageRequest::first())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn row_level_security_hides_clones_from_other_tenants() {
    let f = fixture().await;
    let (owner, stranger) = (f.user().await, f.user().await);
    f.paid_clone(owner).await;
    for table in [
        "clones",
        "clone_strategy_drafts",
        "clone_capacity_entitlements",
    ] {
        assert_eq!(f.visible(Some(owner), table).await, 1, "{table}");
        assert_eq!(f.visible(Some(stranger), table).await, 0, "{table}");
        assert_eq!(f.visible(None, table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn model_changes_are_bounded_by_the_entitlement() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let set_model = |model: &str| ClonePatch {
        display_name: None,
        model: Some(model.into()),
    };
    // Unknown models count as the strongest; Starter allows only the rule model.
    let refused = f
        .service
        .update_clone(owner, clone, set_model("some-unknown-model"))
        .await;
    assert!(
        matches!(refused, Err(CloneError::ModelNotAllowed(_))),
        "{refused:?}"
    );

    let elite = f
        .service
        .grant_entitlement(EntitlementGrant {
            clone_id: clone,
            tier: Tier::Elite,
            source: EntitlementSource::Manual,
            source_purchase_id: None,
            source_reference: Some("support ticket 42".into()),
            expires_at: None,
        })
        .await
        .unwrap();
    assert_eq!((elite.tier, elite.max_active_assets), (Tier::Elite, 20));
    let advanced = clones_strategy::ModelStrength::catalog()
        .iter()
        .find(|(_, strength)| *strength == clones_strategy::ModelStrength::Advanced)
        .map(|(id, _)| *id)
        .unwrap();
    let updated = f
        .service
        .update_clone(owner, clone, set_model(advanced))
        .await
        .unwrap();
    assert_eq!(updated.model, advanced);
    assert!(matches!(
        f.service
            .update_clone(owner, clone, set_model("some-unknown-model"))
            .await,
        Err(CloneError::ModelNotAllowed(_))
    ));
    let renamed = f
        .service
        .update_clone(
            owner,
            clone,
            ClonePatch {
                display_name: Some("Beta".into()),
                model: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Beta");
    assert!(matches!(
        f.service
            .update_clone(
                owner,
                clone,
                ClonePatch {
                    display_name: Some(String::new()),
                    model: None
                }
            )
            .await,
        Err(CloneError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn expired_or_debug_grants_fall_back_to_starter_when_lapsed() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let expires_at = clones_kernel::Clock::now(&f.clock) + chrono::Duration::minutes(10);
    f.service
        .grant_entitlement(EntitlementGrant {
            clone_id: clone,
            tier: Tier::Pro,
            source: EntitlementSource::Debug,
            source_purchase_id: None,
            source_reference: None,
            expires_at: Some(expires_at),
        })
        .await
        .unwrap();
    assert_eq!(
        f.service.entitlement(owner, clone).await.unwrap().tier,
        Tier::Pro
    );
    f.clock.advance(chrono::Duration::minutes(11));
    let lapsed = f.service.entitlement(owner, clone).await.unwrap();
    assert_eq!(
        (lapsed.tier, lapsed.source),
        (Tier::Starter, EntitlementSource::Default)
    );
    let bad = f
        .service
        .grant_entitlement(EntitlementGrant {
            clone_id: clone,
            tier: Tier::Pro,
            source: EntitlementSource::Purchase,
            source_purchase_id: None,
            source_reference: None,
            expires_at: None,
        })
        .await;
    assert!(matches!(bad, Err(CloneError::InvalidInput(_))));
}

#[tokio::test]
async fn an_expiring_grant_cannot_replace_a_paid_tier() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let grant = |tier, source, expires_at| EntitlementGrant {
        clone_id: clone,
        tier,
        source,
        source_purchase_id: (source == EntitlementSource::Purchase).then(Uuid::new_v4),
        source_reference: None,
        expires_at,
    };
    let paid =
        f.db.db()
            .tenant_transaction(owner, {
                let grant = grant(Tier::Pro, EntitlementSource::Purchase, None);
                let at = clones_kernel::Clock::now(&f.clock);
                move |conn| {
                    clones_clone_service::provisioning::upsert_entitlement(conn, owner, &grant, at)
                }
            })
            .await
            .unwrap();
    assert_eq!(paid.tier, Tier::Pro);
    let later = Some(clones_kernel::Clock::now(&f.clock) + chrono::Duration::days(7));
    let refused = f
        .service
        .grant_entitlement(grant(Tier::Elite, EntitlementSource::Debug, later))
        .await;
    assert!(
        matches!(refused, Err(CloneError::StateConflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        f.service.entitlement(owner, clone).await.unwrap().source,
        EntitlementSource::Purchase
    );
    // Without an expiry the operator's decision stands.
    let granted = f
        .service
        .grant_entitlement(grant(Tier::Elite, EntitlementSource::Manual, None))
        .await
        .unwrap();
    assert_eq!(
        (granted.tier, granted.source),
        (Tier::Elite, EntitlementSource::Manual)
    );
}

#[tokio::test]
async fn trade_universe_respects_the_asset_limit() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let universe = |assets: &[&str], max_assets| TradeUniverse {
        assets: assets.iter().map(|a| a.to_string()).collect(),
        selection_mode: SelectionMode::AllInUniverse,
        max_assets,
    };
    let refused = f
        .service
        .set_trade_universe(owner, clone, universe(&["BTC", "ETH"], 2))
        .await;
    assert!(
        matches!(refused, Err(CloneError::TooManyAssets(1))),
        "{refused:?}"
    );
    let saved = f
        .service
        .set_trade_universe(owner, clone, universe(&["eth", "BTC"], 1))
        .await
        .unwrap();
    assert_eq!(saved.assets, ["BTC", "ETH"]);
    assert_eq!(
        f.service.trade_universe(owner, clone).await.unwrap().assets,
        ["BTC", "ETH"]
    );
    for bad in [
        universe(&["BTC", "btc"], 1),
        universe(&["bad asset!"], 1),
        universe(&["BTC"], 0),
    ] {
        assert!(matches!(
            f.service.set_trade_universe(owner, clone, bad).await,
            Err(CloneError::InvalidInput(_))
        ));
    }
}

#[tokio::test]
async fn the_runtime_read_carries_model_active_version_entitlement_and_universe() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let before = f.service.runtime(owner, clone).await.unwrap();
    assert_eq!(before.clone_id, clone);
    assert_eq!(before.model, "rule");
    assert!(before.active_version.is_none());
    assert_eq!(before.entitlement.tier, Tier::Starter);
    assert!(before.trade_universe.assets.is_empty());
    assert_eq!(before.trade_universe.max_assets, 1);

    f.service.publish(owner, clone).await.unwrap();
    f.service
        .publish(owner, clone)
        .await
        .expect_err("an unchanged draft is not published twice");
    let after = f.service.runtime(owner, clone).await.unwrap();
    let active = after.active_version.unwrap();
    assert_eq!(active.version, 1);
    assert!(active.is_active);
    let listed = &f
        .service
        .list_versions(owner, clone, PageRequest::first())
        .await
        .unwrap()
        .items[0];
    assert_eq!(
        (active.fingerprint.as_str(), &active.graph),
        (listed.fingerprint.as_str(), &listed.graph)
    );
}

#[tokio::test]
async fn an_unknown_stored_tier_is_an_internal_error_never_starter() {
    use clones_kernel::{DomainError, ErrorKind};
    use diesel::RunQueryDsl;

    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let mut conn = f.db.owner_connection().unwrap();
    // The check constraint keeps the application from writing this; the owner can drop it,
    // which is the kind of corruption the service must refuse to read as a default.
    diesel::sql_query(
        "ALTER TABLE clone_capacity_entitlements \
         DROP CONSTRAINT clone_capacity_entitlements_tier_check",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE clone_capacity_entitlements SET tier = 'platinum'")
        .execute(&mut conn)
        .unwrap();

    let error = f.service.entitlement(owner, clone).await.unwrap_err();
    assert!(matches!(error, CloneError::Corrupt(_)), "{error:?}");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Internal, "internal")
    );
    let error = f.service.runtime(owner, clone).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Internal);
}

#[tokio::test]
async fn an_unknown_stored_clone_status_is_an_internal_error_never_active() {
    use clones_kernel::{DomainError, ErrorKind};
    use diesel::RunQueryDsl;

    let f = fixture().await;
    let owner = f.user().await;
    let clone = f.paid_clone(owner).await;
    let mut conn = f.db.owner_connection().unwrap();
    diesel::sql_query("ALTER TABLE clones DROP CONSTRAINT clones_status_check")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("UPDATE clones SET status = 'frozen'")
        .execute(&mut conn)
        .unwrap();

    let error = f.service.get_clone(owner, clone).await.unwrap_err();
    assert!(matches!(error, CloneError::Corrupt(_)), "{error:?}");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Internal, "internal")
    );
    assert!(matches!(
        f.service.list_clones(owner, PageRequest::first()).await,
        Err(CloneError::Corrupt(_))
    ));
}
