//! Prop routes over HTTP: owner reads of accounts with positions, orders, fills, ledger and
//! equity (another user's account is 404), and admin halt, resume, adjustments and audit log.

use std::str::FromStr;
use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use chrono::Duration;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_kernel::Clock;
use clones_market::Side;
use clones_prop_engine::{
    AccountContext, FixedMarketFeed, OpenAccount, OrderRequest, PgPropService, PropService,
    PropSettings, TimeInForce,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clones::{Member, member};
use crate::support::{TestApp, spawn};

const BTC: &str = "hyperliquid:perp:BTC";

fn d(value: &str) -> Decimal {
    Decimal::from_str(value).unwrap()
}

/// A decimal string of a response body as a number (stored amounts carry 10 decimals).
fn amount(value: &Value) -> Decimal {
    d(value.as_str().unwrap())
}

/// The engine as the deciding workers use it, on the app's database and clock, with a market
/// feed the test controls.
struct Engine {
    prop: PgPropService,
    feed: FixedMarketFeed,
}

fn engine(app: &TestApp) -> Engine {
    let feed = FixedMarketFeed::new();
    let prop = PgPropService::new(
        app.db.db().clone(),
        Arc::new(app.clock.clone()),
        Arc::new(feed.clone()),
        PropSettings::default(),
    );
    Engine { prop, feed }
}

impl Engine {
    async fn open(&self, owner: Uuid) -> Uuid {
        self.prop
            .open_account(
                owner,
                OpenAccount {
                    account_id: None,
                    clone_id: None,
                    context: AccountContext::Audition,
                    quote_currency: "USDC".into(),
                    starting_balance: d("100000"),
                    limits: None,
                },
            )
            .await
            .unwrap()
            .id
    }

    async fn market_order(&self, owner: Uuid, account: Uuid, side: Side, size: &str) {
        let outcome = self
            .prop
            .place_order(
                owner,
                account,
                OrderRequest {
                    decision_action_id: None,
                    instrument: BTC.into(),
                    side,
                    size: d(size),
                    limit_price: None,
                    reduce_only: false,
                    time_in_force: TimeInForce::Ioc,
                },
            )
            .await
            .unwrap();
        assert_eq!(outcome.fills.len(), 1, "{outcome:?}");
    }
}

fn account_path(account: Uuid, rest: &str) -> String {
    format!("/api/v1/prop/accounts/{account}{rest}")
}

fn admin_path(account: Uuid, action: &str) -> String {
    format!("/api/v1/admin/prop/accounts/{account}/{action}")
}

pub async fn admin(app: &TestApp) -> Member {
    let signer = PrivateKeySigner::random();
    let admin = member(app, &signer).await;
    let access = PgAccessAdmin::new(app.db.db().clone(), Arc::new(app.clock.clone()));
    assert!(
        access
            .grant_admin(&signer.address().to_string(), "test")
            .await
            .unwrap()
    );
    admin
}

#[tokio::test]
async fn owners_read_their_accounts_and_nobody_else_does() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let engine = engine(&app);
    let account = engine.open(alice.id).await;
    // One second between events, so newest-first orders are unambiguous.
    app.clock.advance(Duration::seconds(1));
    engine.feed.set_mid(BTC, d("100"), app.clock.now());
    engine.market_order(alice.id, account, Side::Buy, "2").await;
    app.clock.advance(Duration::seconds(1));
    engine.feed.set_mid(BTC, d("110"), app.clock.now());
    engine
        .market_order(alice.id, account, Side::Sell, "1")
        .await;
    let marked = engine.prop.mark_to_market(10).await.unwrap();
    assert_eq!(marked.accounts, 1);

    let listed = app.get("/api/v1/prop/accounts", Some(&alice.token)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], account.to_string());
    let empty = app.get("/api/v1/prop/accounts", Some(&bob.token)).await;
    assert_eq!((empty.status, &empty.body["items"]), (200, &json!([])));

    let view = app
        .get(&account_path(account, ""), Some(&alice.token))
        .await;
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(view.body["ownerUserId"], alice.id.to_string());
    assert_eq!(view.body["status"], "active");
    assert_eq!(view.body["context"], "audition");
    assert_eq!(amount(&view.body["startingBalance"]), d("100000"));
    assert!(view.body["limits"].is_object());

    let positions = app
        .get(&account_path(account, "/positions"), Some(&alice.token))
        .await;
    assert_eq!(positions.status, 200, "{}", positions.body);
    let position = &positions.body["items"][0];
    assert_eq!(position["instrument"], BTC);
    assert_eq!(amount(&position["size"]), d("1"));
    assert!(amount(&position["realizedPnl"]) > Decimal::ZERO);

    let orders = app
        .get(&account_path(account, "/orders"), Some(&alice.token))
        .await;
    assert_eq!(orders.status, 200, "{}", orders.body);
    let items = orders.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (&items[0]["side"], &items[0]["status"]),
        (&json!("sell"), &json!("filled"))
    );
    assert_eq!(items[1]["side"], "buy");
    // Paging: `limit`, then the page after `nextCursor`.
    let first = app
        .get(
            &account_path(account, "/orders?limit=1"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(first.body["items"][0]["id"], items[0]["id"]);
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let older = app
        .get(
            &account_path(account, &format!("/orders?limit=1&cursor={cursor}")),
            Some(&alice.token),
        )
        .await;
    assert_eq!(older.status, 200, "{}", older.body);
    assert_eq!(older.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(older.body["items"][0]["id"], items[1]["id"]);
    assert_eq!(older.body["nextCursor"], json!(null), "{}", older.body);

    let fills = app
        .get(&account_path(account, "/fills"), Some(&alice.token))
        .await;
    assert_eq!(fills.status, 200, "{}", fills.body);
    let fill_items = fills.body["items"].as_array().unwrap();
    assert_eq!(fill_items.len(), 2);
    assert_eq!(fill_items[0]["orderId"], items[0]["id"]);
    assert!(amount(&fill_items[0]["fee"]) > Decimal::ZERO);

    let ledger = app
        .get(&account_path(account, "/ledger"), Some(&alice.token))
        .await;
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    let events = ledger.body["items"].as_array().unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["trade", "trade", "opening"]);
    for event in events {
        let total: Decimal = event["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| amount(&entry["amount"]))
            .sum();
        assert_eq!(total, Decimal::ZERO, "{event}");
    }

    let equity = app
        .get(&account_path(account, "/equity"), Some(&alice.token))
        .await;
    assert_eq!(equity.status, 200, "{}", equity.body);
    let point = &equity.body["items"][0];
    assert_eq!(equity.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        amount(&point["equity"]),
        amount(&point["cash"]) + amount(&point["unrealizedPnl"])
    );

    // Every owner route answers 404 to another user, exactly as for an account that does not
    // exist, and 401 without a token.
    for rest in ["", "/positions", "/orders", "/fills", "/ledger", "/equity"] {
        app.get(&account_path(account, rest), Some(&bob.token))
            .await
            .assert_problem(404, "prop_account_not_found");
        app.get(&account_path(Uuid::new_v4(), rest), Some(&alice.token))
            .await
            .assert_problem(404, "prop_account_not_found");
        app.get(&account_path(account, rest), None)
            .await
            .assert_problem(401, "invalid_access_token");
    }
    app.get("/api/v1/prop/accounts", None)
        .await
        .assert_problem(401, "invalid_access_token");
    app.get("/api/v1/prop/accounts/not-a-uuid", Some(&alice.token))
        .await
        .assert_problem(404, "not_found");

    // Paging parameters are checked; unknown parameters (the old `before` among them) too.
    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("limit=-1", "invalid_page"),
        ("cursor=not-a-cursor", "invalid_page"),
        ("before=2026-01-01T00:00:00Z", "invalid_query"),
        ("page=2", "invalid_query"),
    ] {
        for rest in ["/orders", "/fills", "/ledger", "/equity"] {
            app.get(
                &account_path(account, &format!("{rest}?{query}")),
                Some(&alice.token),
            )
            .await
            .assert_problem(400, code);
        }
    }
}

#[tokio::test]
async fn admins_halt_resume_and_adjust_with_an_audit_trail() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let admin = admin(&app).await;
    let engine = engine(&app);
    let account = engine.open(alice.id).await;
    let other = engine.open(alice.id).await;
    let reason = json!({ "reason": "suspicious fills" });

    // Admins only, and signed in first.
    for (action, body) in [
        ("halt", &reason),
        ("resume", &reason),
        (
            "adjustments",
            &json!({ "amount": "10", "reason": "credit" }),
        ),
    ] {
        app.post(&admin_path(account, action), body, Some(&alice.token))
            .await
            .assert_problem(403, "admin_required");
        app.post(&admin_path(account, action), body, None)
            .await
            .assert_problem(401, "invalid_access_token");
    }
    app.get("/api/v1/admin/prop/audit", Some(&alice.token))
        .await
        .assert_problem(403, "admin_required");
    app.get("/api/v1/admin/prop/audit", None)
        .await
        .assert_problem(401, "invalid_access_token");

    // A reason is required.
    for action in ["halt", "resume"] {
        app.post(&admin_path(account, action), &json!({}), Some(&admin.token))
            .await
            .assert_problem(400, "invalid_body");
        app.post(
            &admin_path(account, action),
            &json!({ "reason": "   " }),
            Some(&admin.token),
        )
        .await
        .assert_problem(400, "invalid_input");
    }
    app.post(
        &admin_path(Uuid::new_v4(), "halt"),
        &reason,
        Some(&admin.token),
    )
    .await
    .assert_problem(404, "prop_account_not_found");

    let halted = app
        .post(&admin_path(account, "halt"), &reason, Some(&admin.token))
        .await;
    assert_eq!(halted.status, 200, "{}", halted.body);
    assert_eq!(halted.body["action"], "halt");
    assert_eq!(halted.body["adminUserId"], admin.id.to_string());
    assert_eq!(halted.body["accountId"], account.to_string());
    assert_eq!(halted.body["reason"], "suspicious fills");
    let view = app
        .get(&account_path(account, ""), Some(&alice.token))
        .await;
    assert_eq!(view.body["status"], "halted");
    assert_eq!(view.body["haltedReason"], "suspicious fills");
    app.post(&admin_path(account, "halt"), &reason, Some(&admin.token))
        .await
        .assert_problem(409, "prop_account_already_halted");

    app.clock.advance(Duration::seconds(1));
    let resumed = app
        .post(
            &admin_path(account, "resume"),
            &json!({ "reason": "cleared" }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_eq!(resumed.body["action"], "resume");
    let view = app
        .get(&account_path(account, ""), Some(&alice.token))
        .await;
    assert_eq!(
        (&view.body["status"], &view.body["haltedReason"]),
        (&json!("active"), &Value::Null)
    );
    app.post(&admin_path(account, "resume"), &reason, Some(&admin.token))
        .await
        .assert_problem(409, "prop_account_not_halted");

    // Adjustments: a reason and a non-zero decimal string amount are required.
    for (body, code) in [
        (json!({ "amount": "10" }), "invalid_body"),
        (json!({ "amount": "10", "reason": "" }), "invalid_input"),
        (json!({ "amount": "10", "reason": "  " }), "invalid_input"),
        (json!({ "amount": 10, "reason": "credit" }), "invalid_body"),
        (
            json!({ "amount": "ten", "reason": "credit" }),
            "invalid_body",
        ),
        (
            json!({ "amount": "0", "reason": "credit" }),
            "invalid_input",
        ),
        (
            json!({ "amount": "10", "reason": "credit", "extra": 1 }),
            "invalid_body",
        ),
    ] {
        app.post(
            &admin_path(account, "adjustments"),
            &body,
            Some(&admin.token),
        )
        .await
        .assert_problem(400, code);
    }
    app.clock.advance(Duration::seconds(1));
    let adjusted = app
        .post(
            &admin_path(account, "adjustments"),
            &json!({ "amount": "-250.5", "reason": "fee refund reversal" }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(adjusted.status, 201, "{}", adjusted.body);
    assert_eq!(adjusted.body["action"], "adjustment");
    assert_eq!(adjusted.body["details"]["amount"], "-250.5");
    let adjustment_id = adjusted.body["id"].as_str().unwrap();
    let view = app
        .get(&account_path(account, ""), Some(&alice.token))
        .await;
    assert_eq!(amount(&view.body["cash"]), d("99749.5"));
    let ledger = app
        .get(&account_path(account, "/ledger"), Some(&alice.token))
        .await;
    assert_eq!(ledger.body["items"][0]["kind"], "adjustment");
    assert_eq!(
        ledger.body["items"][0]["reference"],
        format!("audit:{adjustment_id}")
    );

    // The audit log, newest first, for every account or one.
    let audit = app
        .get("/api/v1/admin/prop/audit", Some(&admin.token))
        .await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["adjustment", "resume", "halt"]);
    assert_eq!(audit.body["items"][0]["id"], adjustment_id);
    let limited = app
        .get(
            &format!("/api/v1/admin/prop/audit?accountId={account}&limit=2"),
            Some(&admin.token),
        )
        .await;
    assert_eq!(limited.status, 200, "{}", limited.body);
    assert_eq!(limited.body["items"].as_array().unwrap().len(), 2);
    let none = app
        .get(
            &format!("/api/v1/admin/prop/audit?accountId={other}"),
            Some(&admin.token),
        )
        .await;
    assert_eq!((none.status, &none.body["items"]), (200, &json!([])));
    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("cursor=AAAA", "invalid_page"),
        ("accountId=nope", "invalid_query"),
        ("account=1", "invalid_query"),
    ] {
        app.get(
            &format!("/api/v1/admin/prop/audit?{query}"),
            Some(&admin.token),
        )
        .await
        .assert_problem(400, code);
    }
}
