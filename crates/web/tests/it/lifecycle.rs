//! Lifecycle routes over HTTP with payments on the local chain: an audition is quoted, paid,
//! started once however often it is asked for, read with its progress and state, voided and
//! refunded by an admin exactly once; bad requests change nothing.

use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::clones::{member, paid_clone};
use crate::economy::payments;
use crate::prop::admin;

#[tokio::test]
async fn an_audition_is_paid_started_once_voided_and_refunded_once() {
    let env = payments(1).await;
    let app = &env.app;
    let (alice, wallet) = env.payer().await;
    let bob = member(app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(app, alice.id).await;
    let lifecycle = format!("/api/v1/lifecycle/clones/{clone}");
    let payer = json!({ "payerAddress": wallet.address().to_string() });

    let rule_sets = app
        .get("/api/v1/lifecycle/rule-sets", Some(&alice.token))
        .await;
    assert_eq!(rule_sets.status, 200, "{}", rule_sets.body);
    assert!(
        rule_sets.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|set| set["code"] == "standard")
    );

    // No audition before a strategy is published; nobody quotes for someone else's clone.
    app.post(
        &format!("{lifecycle}/audition-quote"),
        &payer,
        Some(&alice.token),
    )
    .await
    .assert_problem(422, "strategy_not_published");
    let published = app
        .post(
            &format!("/api/v1/clone/clones/{clone}/strategy/publish"),
            &Value::Null,
            Some(&alice.token),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    app.post(
        &format!("{lifecycle}/audition-quote"),
        &payer,
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "clone_not_found");
    let state = app
        .get(&format!("{lifecycle}/state"), Some(&alice.token))
        .await;
    assert_eq!(state.status, 200, "{}", state.body);
    assert_eq!(state.body["displayState"], "configured");

    // Quote, pay on chain, submit: an audition_fee purchase for this clone.
    let quote = app
        .post(
            &format!("{lifecycle}/audition-quote"),
            &payer,
            Some(&alice.token),
        )
        .await;
    assert_eq!(quote.status, 201, "{}", quote.body);
    assert_eq!(quote.body["quote"]["purpose"], "audition_fee");
    let (tx, paid) = env.pay(&wallet, &quote.body, None).await;
    assert!(paid);
    let deposit = env.submit(&alice, &quote.body, tx).await;
    assert_eq!(deposit.status, 201, "{}", deposit.body);
    let purchase = deposit.body["purchase"]["purchaseId"].clone();

    // Bad starts change nothing.
    let start = |purchase: &Value| json!({ "purchaseId": purchase, "ruleSetCode": "standard" });
    app.post(
        &format!("{lifecycle}/auditions"),
        &start(&json!(uuid::Uuid::new_v4())),
        Some(&alice.token),
    )
    .await
    .assert_problem(404, "purchase_not_found");
    app.post(
        &format!("{lifecycle}/auditions"),
        &json!({ "purchaseId": purchase, "ruleSetCode": "no_such_rules" }),
        Some(&alice.token),
    )
    .await
    .assert_problem(404, "rule_set_not_found");
    app.post(
        &format!("{lifecycle}/auditions"),
        &json!({ "purchaseId": purchase, "extra": 1 }),
        Some(&alice.token),
    )
    .await
    .assert_problem(400, "invalid_body");
    app.post(
        &format!("/api/v1/lifecycle/clones/{clone}/auditions"),
        &start(&purchase),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "clone_not_found");
    let none = app
        .get(&format!("{lifecycle}/auditions"), Some(&alice.token))
        .await;
    assert_eq!(none.body["items"], json!([]));

    // The first start creates the audition; a repeat answers the same one.
    let started = app
        .post(
            &format!("{lifecycle}/auditions"),
            &start(&purchase),
            Some(&alice.token),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    assert_eq!(started.body["status"], "running");
    let repeated = app
        .post(
            &format!("{lifecycle}/auditions"),
            &start(&purchase),
            Some(&alice.token),
        )
        .await;
    assert_eq!(repeated.status, 200, "{}", repeated.body);
    assert_eq!(repeated.body["id"], started.body["id"]);
    let run_id = started.body["id"].as_str().unwrap().to_string();
    let account = started.body["propAccountId"].as_str().unwrap();
    let account_view = app
        .get(
            &format!("/api/v1/prop/accounts/{account}"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(account_view.status, 200, "{}", account_view.body);
    assert_eq!(account_view.body["context"], "audition");

    let listed = app
        .get(&format!("{lifecycle}/auditions"), Some(&alice.token))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let detail = app
        .get(
            &format!("/api/v1/lifecycle/auditions/{run_id}"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert_eq!(detail.body["audition"]["id"], run_id.as_str());
    assert!(
        detail.body["audition"]["progress"]["secondsLeft"]
            .as_i64()
            .unwrap()
            > 0
    );
    app.get(
        &format!("/api/v1/lifecycle/auditions/{run_id}"),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "audition_not_found");
    let state = app
        .get(&format!("{lifecycle}/state"), Some(&alice.token))
        .await;
    assert_eq!(state.body["displayState"], "audition_running");
    assert_eq!(state.body["latestAudition"]["id"], run_id.as_str());
    assert_eq!(state.body["promotion"], Value::Null);
    app.get(&format!("{lifecycle}/promotion"), Some(&alice.token))
        .await
        .assert_problem(404, "promotion_entry_not_found");
    app.get(&format!("{lifecycle}/arena"), Some(&alice.token))
        .await
        .assert_problem(404, "arena_membership_not_found");
    let clone_view = app
        .get(&format!("/api/v1/clone/clones/{clone}"), Some(&alice.token))
        .await;
    assert_eq!(clone_view.body["displayState"], "audition_running");

    // A running audition cannot be retried; only admins void and refund.
    app.post(
        &format!("/api/v1/lifecycle/auditions/{run_id}/retry"),
        &Value::Null,
        Some(&alice.token),
    )
    .await
    .assert_problem(409, "audition_not_failed");
    let void_path = format!("/api/v1/admin/lifecycle/auditions/{run_id}/void");
    let refund_path = format!("/api/v1/admin/lifecycle/auditions/{run_id}/refund-authorization");
    let reason = json!({ "reason": "market data outage during the window" });
    app.post(&void_path, &reason, Some(&alice.token))
        .await
        .assert_problem(403, "admin_required");
    let admin = admin(app).await;
    app.post(&void_path, &json!({ "reason": "  " }), Some(&admin.token))
        .await
        .assert_problem(400, "invalid_input");
    let voided = app.post(&void_path, &reason, Some(&admin.token)).await;
    assert_eq!(voided.status, 200, "{}", voided.body);
    assert_eq!(voided.body["status"], "voided");
    app.post(&void_path, &reason, Some(&admin.token))
        .await
        .assert_problem(409, "audition_not_voidable");
    let state = app
        .get(&format!("{lifecycle}/state"), Some(&alice.token))
        .await;
    assert_eq!(state.body["displayState"], "audition_failed");

    let refund = app.post(&refund_path, &reason, Some(&admin.token)).await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["purchaseId"], purchase);
    assert_eq!(refund.body["amount"], "500000");
    app.post(&refund_path, &reason, Some(&admin.token))
        .await
        .assert_problem(409, "refund_already_authorized");
    let refunds = app
        .get(
            "/api/v1/admin/lifecycle/refund-authorizations?limit=10",
            Some(&admin.token),
        )
        .await;
    assert_eq!(refunds.status, 200, "{}", refunds.body);
    assert_eq!(refunds.body["items"][0]["id"], refund.body["id"]);
    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("cursor=not-a-cursor", "invalid_page"),
        ("page=1", "invalid_query"),
    ] {
        app.get(
            &format!("/api/v1/admin/lifecycle/refund-authorizations?{query}"),
            Some(&admin.token),
        )
        .await
        .assert_problem(400, code);
    }
    app.get(
        "/api/v1/admin/lifecycle/refund-authorizations",
        Some(&alice.token),
    )
    .await
    .assert_problem(403, "admin_required");

    // The purchase is spent: it starts nothing new.
    let again = app
        .post(
            &format!("{lifecycle}/auditions"),
            &start(&purchase),
            Some(&alice.token),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], run_id.as_str());
    assert_eq!(again.body["status"], "voided");
}

#[tokio::test]
async fn a_clones_auditions_are_read_in_pages_newest_first() {
    let env = payments(1).await;
    let app = &env.app;
    let (alice, wallet) = env.payer().await;
    let clone = paid_clone(app, alice.id).await;
    let lifecycle = format!("/api/v1/lifecycle/clones/{clone}");
    let published = app
        .post(
            &format!("/api/v1/clone/clones/{clone}/strategy/publish"),
            &Value::Null,
            Some(&alice.token),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    let admin = admin(app).await;
    let payer = json!({ "payerAddress": wallet.address().to_string() });
    let reason = json!({ "reason": "making room for the next audition" });

    // Three paid auditions of one clone, each voided before the next starts; the first two
    // start at one instant, so the id orders them.
    let mut started = Vec::new();
    for round in 0..3 {
        if round == 2 {
            app.clock.advance(chrono::Duration::minutes(1));
        }
        let quote = app
            .post(
                &format!("{lifecycle}/audition-quote"),
                &payer,
                Some(&alice.token),
            )
            .await;
        assert_eq!(quote.status, 201, "{}", quote.body);
        let (tx, paid) = env.pay(&wallet, &quote.body, None).await;
        assert!(paid);
        let deposit = env.submit(&alice, &quote.body, tx).await;
        assert_eq!(deposit.status, 201, "{}", deposit.body);
        let run = app
            .post(
                &format!("{lifecycle}/auditions"),
                &json!({ "purchaseId": deposit.body["purchase"]["purchaseId"] }),
                Some(&alice.token),
            )
            .await;
        assert_eq!(run.status, 201, "{}", run.body);
        let id = run.body["id"].as_str().unwrap().to_string();
        if round < 2 {
            let voided = app
                .post(
                    &format!("/api/v1/admin/lifecycle/auditions/{id}/void"),
                    &reason,
                    Some(&admin.token),
                )
                .await;
            assert_eq!(voided.status, 200, "{}", voided.body);
        }
        started.push(id);
    }
    let mut tied = started[..2].to_vec();
    tied.sort();
    let expected = vec![started[2].clone(), tied[1].clone(), tied[0].clone()];

    // Two per page: the page boundary falls between the two that share a creation time.
    let mut listed = Vec::new();
    let mut query = "limit=2".to_string();
    for pages in 1.. {
        let page = app
            .get(
                &format!("{lifecycle}/auditions?{query}"),
                Some(&alice.token),
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        listed.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_string()),
        );
        match page.body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => {
                assert_eq!(pages, 2);
                break;
            }
        }
    }
    assert_eq!(listed, expected);
    let whole = app
        .get(&format!("{lifecycle}/auditions"), Some(&alice.token))
        .await;
    assert_eq!(whole.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(whole.body["nextCursor"], Value::Null);

    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("cursor=not-a-cursor", "invalid_page"),
        ("page=1", "invalid_query"),
    ] {
        app.get(
            &format!("{lifecycle}/auditions?{query}"),
            Some(&alice.token),
        )
        .await
        .assert_problem(400, code);
    }
}
