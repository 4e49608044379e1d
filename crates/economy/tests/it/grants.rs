//! Operator grants: a clone granted without payment is still recorded by economy as a
//! purchase and created in the same transaction, once per owner and reference.

use clones_clone_service::{CloneService, Tier};
use clones_economy::{CloneGrant, EconomyService};
use clones_kernel::DomainError;

use crate::support::env;

#[tokio::test]
async fn a_granted_clone_is_recorded_as_a_purchase_and_created_once() {
    let env = env(1).await;
    let payer = env.payer().await;
    let grant = CloneGrant {
        owner_user_id: payer.user,
        clone_name: Some("Granted clone".into()),
        reference: "SUP-7".into(),
    };
    let granted = env.economy.grant_clone(grant.clone()).await.unwrap();
    assert!(granted.created);
    let purchase = &granted.purchase;
    assert_eq!(
        (purchase.purpose.as_str(), purchase.source.as_str()),
        ("clone_creation", "operator_grant")
    );
    assert_eq!(
        (&purchase.chain_id, &purchase.tx_hash, &purchase.amount),
        (&None, &None, &None)
    );
    let clone_id = purchase.clone_id.unwrap();
    let clones = env.clones.list_clones(payer.user).await.unwrap();
    assert_eq!(clones.len(), 1);
    assert_eq!(
        (clones[0].id, clones[0].display_name.as_str()),
        (clone_id, "Granted clone")
    );
    assert_eq!(clones[0].entitlement.tier, Tier::Starter);
    assert_eq!(
        clones[0].entitlement.source_purchase_id,
        Some(purchase.purchase_id)
    );

    // The same reference again finds the first grant; another reference is another clone.
    let again = env.economy.grant_clone(grant.clone()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.purchase.purchase_id, purchase.purchase_id);
    assert_eq!(again.purchase.clone_id, Some(clone_id));
    assert_eq!(
        (env.count("economy_purchases"), env.count("clones")),
        (1, 1)
    );
    let other = env
        .economy
        .grant_clone(CloneGrant {
            clone_name: None,
            reference: "SUP-8".into(),
            ..grant.clone()
        })
        .await
        .unwrap();
    assert!(other.created);
    assert_ne!(other.purchase.clone_id, Some(clone_id));
    let purchases = env.economy.purchases(payer.user).await.unwrap();
    assert_eq!(purchases.len(), 2);
    assert!(purchases.iter().all(|p| p.source == "operator_grant"));
}

#[tokio::test]
async fn a_grant_needs_a_reference_and_a_valid_name() {
    let env = env(1).await;
    let payer = env.payer().await;
    for (name, reference) in [
        (None, "  "),
        (None, &"x".repeat(201)[..]),
        (Some(String::new()), "SUP-9"),
    ] {
        let refused = env
            .economy
            .grant_clone(CloneGrant {
                owner_user_id: payer.user,
                clone_name: name,
                reference: reference.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_input", "{refused}");
    }
    assert_eq!(
        (env.count("economy_purchases"), env.count("clones")),
        (0, 0)
    );
}
