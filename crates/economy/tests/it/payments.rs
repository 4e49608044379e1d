//! Quote -> deposit -> purchase, rejections, replays, races, pending re-checks, upgrades.

use alloy::primitives::U256;
use clones_clone_service::{CloneService, EntitlementSource, Tier};
use clones_economy::{DepositState, EconomyError, EconomyService, QuoteRequest};
use clones_kernel::PageRequest;
use clones_vault::Purpose;
use uuid::Uuid;

use crate::support::env;

#[tokio::test]
async fn the_whole_paid_creation_path_creates_one_clone() {
    let env = env(1).await;
    let payer = env.payer().await;
    let quote = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    assert_eq!(quote.quote.amount, U256::from(1_000_000u64));
    assert_eq!(quote.quote.payer, payer.account.address());
    let tx = env.pay(&payer, &quote).await;

    let outcome = env
        .economy
        .submit_deposit(payer.user, quote.quote_id, &tx.to_string())
        .await
        .unwrap();
    assert_eq!(
        (outcome.state, outcome.created),
        (DepositState::Confirmed, true)
    );
    let purchase = outcome.purchase.clone().unwrap();
    assert_eq!(purchase.purpose, "clone_creation");
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
        (clone_id, "Paid clone")
    );
    assert_eq!(clones[0].entitlement.tier, Tier::Starter);
    assert_eq!(
        clones[0].entitlement.source_purchase_id,
        Some(purchase.purchase_id)
    );
    assert!(
        !env.clones
            .get_draft(payer.user, clone_id)
            .await
            .unwrap()
            .is_default
    );

    // Replaying the same deposit creates nothing new and answers with the same purchase.
    let replay = env
        .economy
        .submit_deposit(payer.user, quote.quote_id, &tx.to_string())
        .await
        .unwrap();
    assert_eq!(
        (replay.state, replay.created),
        (DepositState::Confirmed, false)
    );
    assert_eq!(replay.purchase.unwrap().purchase_id, purchase.purchase_id);
    assert_eq!(
        (env.count("economy_purchases"), env.count("clones")),
        (1, 1)
    );
    assert_eq!(
        env.economy
            .purchases(payer.user, PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let polled = env
        .economy
        .deposit(payer.user, outcome.deposit_id)
        .await
        .unwrap();
    assert_eq!(polled.state, DepositState::Confirmed);
}

#[tokio::test]
async fn concurrent_submissions_of_one_deposit_create_one_purchase() {
    let env = env(1).await;
    let payer = env.payer().await;
    let quote = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let tx = env.pay(&payer, &quote).await.to_string();
    let attempts = (0..4).map(|_| env.economy.submit_deposit(payer.user, quote.quote_id, &tx));
    let results = futures_util::future::join_all(attempts).await;
    let outcomes: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert!(outcomes.iter().all(|o| o.state == DepositState::Confirmed));
    assert_eq!(outcomes.iter().filter(|o| o.created).count(), 1);
    let ids: std::collections::BTreeSet<_> = outcomes
        .iter()
        .map(|o| o.purchase.as_ref().unwrap().purchase_id)
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        (env.count("economy_purchases"), env.count("clones")),
        (1, 1)
    );
}

#[tokio::test]
async fn rejections_are_clear_and_create_nothing() {
    let env = env(1).await;
    let payer = env.payer().await;
    let other = env.payer().await;
    let quote = env.quote(&payer, Purpose::CloneCreation, None, None).await;

    // Someone else's quote is not found.
    let tx = env.pay(&payer, &quote).await.to_string();
    let foreign = env
        .economy
        .submit_deposit(other.user, quote.quote_id, &tx)
        .await;
    assert!(
        matches!(foreign, Err(EconomyError::QuoteNotFound)),
        "{foreign:?}"
    );

    // A wrong amount reverts on chain.
    let second = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let (reverted, ok) = env
        .pay_with(
            &payer.account,
            &second,
            second.quote.amount - U256::from(1u64),
        )
        .await;
    assert!(!ok);
    let refused = env
        .economy
        .submit_deposit(payer.user, second.quote_id, &reverted.to_string())
        .await;
    assert!(
        matches!(
            refused,
            Err(EconomyError::DepositRejected {
                code: "deposit_reverted",
                ..
            })
        ),
        "{refused:?}"
    );
    // And it stays refused.
    let again = env
        .economy
        .submit_deposit(payer.user, second.quote_id, &reverted.to_string())
        .await;
    assert!(
        matches!(
            again,
            Err(EconomyError::DepositRejected {
                code: "deposit_reverted",
                ..
            })
        ),
        "{again:?}"
    );

    // Paying quote A but submitting it for quote B is a mismatch.
    let mismatch = env
        .economy
        .submit_deposit(payer.user, second.quote_id, &tx)
        .await;
    assert!(
        matches!(
            mismatch,
            Err(EconomyError::DepositRejected {
                code: "quote_mismatch",
                ..
            })
        ),
        "{mismatch:?}"
    );

    // A transaction that is not a deposit at all.
    let plain = payer
        .account
        .send(
            alloy::rpc::types::TransactionRequest::default()
                .to(other.account.address())
                .value(U256::from(1u64)),
        )
        .await
        .unwrap();
    let not_deposit = env
        .economy
        .submit_deposit(
            payer.user,
            second.quote_id,
            &plain.transaction_hash.to_string(),
        )
        .await;
    assert!(
        matches!(
            not_deposit,
            Err(EconomyError::DepositRejected {
                code: "not_a_vault_deposit",
                ..
            })
        ),
        "{not_deposit:?}"
    );

    // Someone else paying my quote: the contract refuses the wrong payer.
    let third = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let (by_other, ok) = env
        .pay_with(&other.account, &third, third.quote.amount)
        .await;
    assert!(!ok);
    assert!(
        env.economy
            .submit_deposit(payer.user, third.quote_id, &by_other.to_string())
            .await
            .is_err()
    );

    assert!(matches!(
        env.economy
            .submit_deposit(payer.user, third.quote_id, "0x1234")
            .await,
        Err(EconomyError::Vault(_))
    ));
    assert_eq!(
        (env.count("economy_purchases"), env.count("clones")),
        (0, 0)
    );
}

#[tokio::test]
async fn expired_quotes_are_refused() {
    let env = env(1).await;
    let payer = env.payer().await;
    // A quote issued two hours ago has a deadline in the chain's past: the vault refuses it.
    env.clock.advance(chrono::Duration::hours(-2));
    let stale = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    env.clock.advance(chrono::Duration::hours(2));
    let (tx, ok) = env
        .pay_with(&payer.account, &stale, stale.quote.amount)
        .await;
    assert!(!ok, "the vault must refuse an expired quote");
    let refused = env
        .economy
        .submit_deposit(payer.user, stale.quote_id, &tx.to_string())
        .await;
    assert!(
        matches!(
            refused,
            Err(EconomyError::DepositRejected {
                code: "deposit_reverted",
                ..
            })
        ),
        "{refused:?}"
    );

    // A deposit that never appears on chain is given up once the quote and its grace expire.
    let unseen = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let missing = format!("0x{}", "ab".repeat(32));
    let pending = env
        .economy
        .submit_deposit(payer.user, unseen.quote_id, &missing)
        .await
        .unwrap();
    assert_eq!(pending.state, DepositState::Pending);
    env.clock.advance(chrono::Duration::hours(2));
    let expired = env
        .economy
        .submit_deposit(payer.user, unseen.quote_id, &missing)
        .await;
    assert!(
        matches!(expired, Err(EconomyError::QuoteExpired)),
        "{expired:?}"
    );
    assert_eq!(env.count("economy_purchases"), 0);
}

#[tokio::test]
async fn under_confirmed_deposits_wait_and_the_worker_settles_them() {
    let env = env(10_000).await;
    let payer = env.payer().await;
    let quote = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let tx = env.pay(&payer, &quote).await.to_string();
    let pending = env
        .economy
        .submit_deposit(payer.user, quote.quote_id, &tx)
        .await
        .unwrap();
    assert_eq!(
        (pending.state, pending.required_confirmations),
        (DepositState::Pending, 10_000)
    );
    assert!(pending.purchase.is_none());
    assert_eq!(env.count("clones"), 0);

    // Not due yet, then due but still short of confirmations, then confirmed.
    assert_eq!(env.economy.recheck_pending(10).await.unwrap().checked, 0);
    env.clock.advance(chrono::Duration::seconds(2));
    let still = env.economy.recheck_pending(10).await.unwrap();
    assert_eq!((still.checked, still.still_pending), (1, 1));
    env.chain.mine(10_000).await.unwrap();
    env.clock.advance(chrono::Duration::seconds(2));
    let settled = env.economy.recheck_pending(10).await.unwrap();
    assert_eq!((settled.checked, settled.confirmed), (1, 1));
    let polled = env
        .economy
        .deposit(payer.user, pending.deposit_id)
        .await
        .unwrap();
    assert_eq!(polled.state, DepositState::Confirmed);
    assert_eq!(env.count("clones"), 1);
    // The payer's own late submission now answers with the recorded purchase.
    let late = env
        .economy
        .submit_deposit(payer.user, quote.quote_id, &tx)
        .await
        .unwrap();
    assert_eq!((late.state, late.created), (DepositState::Confirmed, false));
}

#[tokio::test]
async fn capacity_upgrades_raise_the_entitlement_through_clone_service() {
    let env = env(1).await;
    let payer = env.payer().await;
    let creation = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let tx = env.pay(&payer, &creation).await.to_string();
    let clone_id = env
        .economy
        .submit_deposit(payer.user, creation.quote_id, &tx)
        .await
        .unwrap()
        .purchase
        .unwrap()
        .clone_id
        .unwrap();

    let upgrade = env
        .quote(
            &payer,
            Purpose::CapacityUpgrade,
            Some(clone_id),
            Some(Tier::Pro),
        )
        .await;
    assert_eq!(upgrade.quote.amount, U256::from(2_000_000u64));
    let tx = env.pay(&payer, &upgrade).await.to_string();
    let outcome = env
        .economy
        .submit_deposit(payer.user, upgrade.quote_id, &tx)
        .await
        .unwrap();
    assert_eq!(outcome.state, DepositState::Confirmed);
    let entitlement = env.clones.entitlement(payer.user, clone_id).await.unwrap();
    assert_eq!(
        (entitlement.tier, entitlement.source),
        (Tier::Pro, EntitlementSource::Purchase)
    );
    assert_eq!(entitlement.max_active_assets, 5);

    let ask = |tier, clone| QuoteRequest {
        plan: None,
        purpose: Purpose::CapacityUpgrade,
        payer_address: payer.account.address().to_string(),
        clone_id: Some(clone),
        tier: Some(tier),
        clone_name: None,
    };
    assert!(matches!(
        env.economy
            .quote(payer.user, ask(Tier::Pro, clone_id))
            .await,
        Err(EconomyError::NotAnUpgrade)
    ));
    let stranger = env.payer().await;
    let foreign = env
        .economy
        .quote(
            stranger.user,
            QuoteRequest {
                payer_address: stranger.account.address().to_string(),
                ..ask(Tier::Elite, clone_id)
            },
        )
        .await;
    assert!(
        matches!(foreign, Err(EconomyError::CloneNotFound)),
        "{foreign:?}"
    );
}

#[tokio::test]
async fn a_lower_tier_paid_after_a_higher_one_does_not_downgrade() {
    let env = env(1).await;
    let payer = env.payer().await;
    let creation = env.quote(&payer, Purpose::CloneCreation, None, None).await;
    let tx = env.pay(&payer, &creation).await.to_string();
    let clone_id = env
        .economy
        .submit_deposit(payer.user, creation.quote_id, &tx)
        .await
        .unwrap()
        .purchase
        .unwrap()
        .clone_id
        .unwrap();
    // Both quoted at Starter; Elite is paid first, Pro afterwards.
    let pro = env
        .quote(
            &payer,
            Purpose::CapacityUpgrade,
            Some(clone_id),
            Some(Tier::Pro),
        )
        .await;
    let elite = env
        .quote(
            &payer,
            Purpose::CapacityUpgrade,
            Some(clone_id),
            Some(Tier::Elite),
        )
        .await;
    let tx = env.pay(&payer, &elite).await.to_string();
    let elite_purchase = env
        .economy
        .submit_deposit(payer.user, elite.quote_id, &tx)
        .await
        .unwrap()
        .purchase
        .unwrap();
    let tx = env.pay(&payer, &pro).await.to_string();
    let late = env
        .economy
        .submit_deposit(payer.user, pro.quote_id, &tx)
        .await
        .unwrap();
    assert!(late.created, "the payment is recorded as a purchase");
    let entitlement = env.clones.entitlement(payer.user, clone_id).await.unwrap();
    assert_eq!(entitlement.tier, Tier::Elite);
    assert_eq!(
        entitlement.source_purchase_id,
        Some(elite_purchase.purchase_id)
    );
    assert_eq!(env.count("economy_purchases"), 3);
}

#[tokio::test]
async fn quotes_need_the_callers_own_wallet_and_sane_fields() {
    let env = env(1).await;
    let payer = env.payer().await;
    let other = env.payer().await;
    let request = |address: String| QuoteRequest {
        plan: None,
        purpose: Purpose::CloneCreation,
        payer_address: address,
        clone_id: None,
        tier: None,
        clone_name: None,
    };
    assert!(matches!(
        env.economy
            .quote(payer.user, request(other.account.address().to_string()))
            .await,
        Err(EconomyError::PayerNotYours)
    ));
    assert!(matches!(
        env.economy.quote(payer.user, request("nope".into())).await,
        Err(EconomyError::InvalidInput(_))
    ));
    let upgrade_without_tier = QuoteRequest {
        plan: None,
        purpose: Purpose::CapacityUpgrade,
        ..request(payer.account.address().to_string())
    };
    assert!(matches!(
        env.economy.quote(payer.user, upgrade_without_tier).await,
        Err(EconomyError::InvalidInput(_))
    ));
    // Upgrades and audition fees name their clone; audition fees take no tier.
    for (purpose, tier) in [
        (Purpose::CapacityUpgrade, Some(Tier::Pro)),
        (Purpose::AuditionFee, None),
    ] {
        let without_clone = QuoteRequest {
            plan: None,
            purpose,
            tier,
            ..request(payer.account.address().to_string())
        };
        let refused = env.economy.quote(payer.user, without_clone).await;
        assert!(
            matches!(refused, Err(EconomyError::InvalidInput(_))),
            "{refused:?}"
        );
    }
    let fee_with_tier = QuoteRequest {
        plan: None,
        purpose: Purpose::AuditionFee,
        clone_id: Some(Uuid::new_v4()),
        tier: Some(Tier::Pro),
        ..request(payer.account.address().to_string())
    };
    assert!(matches!(
        env.economy.quote(payer.user, fee_with_tier).await,
        Err(EconomyError::InvalidInput(_))
    ));
    assert_eq!(env.count("economy_quotes"), 0);
}
