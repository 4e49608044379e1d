//! Operator grants: a clone granted without payment is still recorded by economy as a
//! purchase and created in the same transaction, once per owner and reference.

use clones_clone_service::{CloneService, Tier};
use clones_economy::{CloneGrant, EconomyService};
use clones_kernel::{DomainError, PageRequest};

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
    let clones = env
        .clones
        .list_clones(payer.user, PageRequest::first())
        .await
        .unwrap()
        .items;
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
    let purchases = env
        .economy
        .purchases(payer.user, PageRequest::first())
        .await
        .unwrap()
        .items;
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

#[tokio::test]
async fn purchases_page_newest_first_through_rows_sharing_a_timestamp() {
    let env = env(1).await;
    let (payer, other) = (env.payer().await, env.payer().await);
    let grant = |owner, reference: String| CloneGrant {
        owner_user_id: owner,
        clone_name: None,
        reference,
    };
    // Seven grants at one instant, then three a second later: the later ones come first, and
    // within an instant the id breaks the tie, highest first.
    let mut earlier = Vec::new();
    for n in 0..7 {
        let granted = env
            .economy
            .grant_clone(grant(payer.user, format!("SUP-{n}")))
            .await
            .unwrap();
        earlier.push(granted.purchase.purchase_id);
    }
    env.clock.advance(chrono::Duration::seconds(1));
    let mut later = Vec::new();
    for n in 7..10 {
        let granted = env
            .economy
            .grant_clone(grant(payer.user, format!("SUP-{n}")))
            .await
            .unwrap();
        later.push(granted.purchase.purchase_id);
    }
    let foreign = env
        .economy
        .grant_clone(grant(other.user, "SUP-0".into()))
        .await
        .unwrap()
        .purchase
        .purchase_id;
    later.sort_unstable_by(|a, b| b.cmp(a));
    earlier.sort_unstable_by(|a, b| b.cmp(a));
    let expected: Vec<_> = later.into_iter().chain(earlier).collect();

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = env
            .economy
            .purchases(payer.user, PageRequest::new(Some(3), cursor).unwrap())
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|purchase| purchase.purchase_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected, "every purchase once, newest first");

    // One purchase by id, for the caller only.
    let own = env.economy.purchase(payer.user, expected[0]).await.unwrap();
    assert_eq!(own.map(|p| p.purchase_id), Some(expected[0]));
    assert!(
        env.economy
            .purchase(payer.user, foreign)
            .await
            .unwrap()
            .is_none()
    );
}
