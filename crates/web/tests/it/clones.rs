//! Clone routes over HTTP: ownership (another user's clone is 404), drafts with graph errors,
//! publishing, entitlement limits, public profiles, reports and admin moderation.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, spawn, token};

/// A signed-in user: their id and access token.
pub struct Member {
    pub id: Uuid,
    pub token: String,
}

pub async fn member(app: &TestApp, signer: &PrivateKeySigner) -> Member {
    let body = app.sign_in(signer).await;
    let token = token(&body, "accessToken");
    let me = app.get("/api/v1/me", Some(&token)).await;
    let id = me.body["userId"].as_str().unwrap().parse().unwrap();
    Member { id, token }
}

/// A clone of `owner` as economy creates it after a paid deposit.
pub async fn paid_clone(app: &TestApp, owner: Uuid) -> Uuid {
    let clone_id = Uuid::new_v4();
    let at = clones_kernel::Clock::now(&app.clock);
    app.db
        .db()
        .tenant_transaction(owner, move |conn| {
            provisioning::create_paid_clone(
                conn,
                &PaidClone {
                    clone_id,
                    owner_user_id: owner,
                    purchase_id: Uuid::new_v4(),
                    display_name: "Alpha".into(),
                },
                at,
            )
        })
        .await
        .unwrap();
    clone_id
}

fn clone_path(clone: Uuid, rest: &str) -> String {
    format!("/api/v1/clone/clones/{clone}{rest}")
}

#[tokio::test]
async fn owners_see_and_edit_only_their_clones() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;

    let listed = app.get("/api/v1/clone/clones", Some(&alice.token)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], clone.to_string());
    assert_eq!(listed.body["items"][0]["displayState"], "setup_required");
    assert_eq!(listed.body["items"][0]["entitlement"]["tier"], "starter");
    let empty = app.get("/api/v1/clone/clones", Some(&bob.token)).await;
    assert_eq!(empty.body["items"], json!([]));

    // Every owner route answers 404 to another user, exactly as for a clone that does not exist.
    for rest in [
        "",
        "/strategy/draft",
        "/strategy/versions",
        "/entitlement",
        "/trade-universe",
        "/public-profile",
    ] {
        app.get(&clone_path(clone, rest), Some(&bob.token))
            .await
            .assert_problem(404, "clone_not_found");
        app.get(&clone_path(Uuid::new_v4(), rest), Some(&alice.token))
            .await
            .assert_problem(404, "clone_not_found");
    }
    app.client
        .patch(app.url(&clone_path(clone, "")))
        .bearer_auth(&bob.token)
        .json(&json!({ "displayName": "Mine now" }))
        .send()
        .await
        .map(|response| assert_eq!(response.status(), 404))
        .unwrap();
    app.post(
        &clone_path(clone, "/strategy/publish"),
        &json!({}),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "clone_not_found");
    app.get(&clone_path(clone, ""), None)
        .await
        .assert_problem(401, "invalid_access_token");

    // Renaming works; a model above the Starter entitlement is refused and changes nothing.
    let renamed = patch(
        &app,
        &clone_path(clone, ""),
        &json!({ "displayName": "Beta" }),
        &alice.token,
    )
    .await;
    assert_eq!(renamed.0, 200, "{}", renamed.1);
    assert_eq!(renamed.1["displayName"], "Beta");
    let refused = patch(
        &app,
        &clone_path(clone, ""),
        &json!({ "model": "gpt-5" }),
        &alice.token,
    )
    .await;
    assert_eq!(
        (refused.0, refused.1["code"].as_str()),
        (422, Some("model_not_allowed"))
    );
    let unknown_field = patch(
        &app,
        &clone_path(clone, ""),
        &json!({ "status": "active" }),
        &alice.token,
    )
    .await;
    assert_eq!(unknown_field.0, 400, "{}", unknown_field.1);
    let after = app.get(&clone_path(clone, ""), Some(&alice.token)).await;
    assert_eq!(after.body["displayName"], "Beta");
    assert_ne!(after.body["model"], "gpt-5");
}

async fn patch(app: &TestApp, path: &str, body: &Value, bearer: &str) -> (u16, Value) {
    let response = app
        .client
        .patch(app.url(path))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn put(app: &TestApp, path: &str, body: &Value, bearer: &str) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(path))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn drafts_are_validated_and_published_as_versions() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    let draft_path = clone_path(clone, "/strategy/draft");

    // Paid creation stored the default graph as the draft.
    let draft = app.get(&draft_path, Some(&alice.token)).await;
    assert_eq!(draft.status, 200);
    assert_eq!(draft.body["isDefault"], false);
    assert_eq!(draft.body["graph"]["version"], 1);
    let graph = draft.body["graph"].clone();

    // An invalid graph: every problem is listed in `errors`, each naming its node, and the
    // stored draft is unchanged.
    let mut broken = graph.clone();
    broken["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "id": "mystery", "kind": "teleport", "params": {} }));
    broken["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "id": "eth", "kind": "price", "params": { "asset": "ETH", "timeframe": "1h", "field": "close" } }));
    let (status, problem) = put(&app, &draft_path, &json!({ "graph": broken }), &alice.token).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "invalid_strategy_graph");
    let errors = problem["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|error| error["code"] == "unknown_node_kind" && error["node"] == "mystery"),
        "{problem}"
    );
    let still = app.get(&draft_path, Some(&alice.token)).await;
    assert_eq!(still.body, draft.body);

    // The draft as created publishes as version 1.
    let published = app
        .post(
            &clone_path(clone, "/strategy/publish"),
            &json!({}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    assert_eq!(published.body["version"], 1);
    assert_eq!(published.body["isActive"], true);
    assert_eq!(published.body["fingerprint"].as_str().unwrap().len(), 64);
    app.post(
        &clone_path(clone, "/strategy/publish"),
        &json!({}),
        Some(&alice.token),
    )
    .await
    .assert_problem(409, "nothing_to_publish");

    // A changed draft publishes as version 2, which becomes the only active one.
    let mut changed = graph.clone();
    for node in changed["nodes"].as_array_mut().unwrap() {
        if node["params"]["period"] == 26 {
            node["params"]["period"] = json!(30);
        }
    }
    let (status, saved) = put(
        &app,
        &draft_path,
        &json!({ "graph": changed }),
        &alice.token,
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["isDefault"], false);
    let second = app
        .post(
            &clone_path(clone, "/strategy/publish"),
            &json!({}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["version"], 2);
    let versions = app
        .get(&clone_path(clone, "/strategy/versions"), Some(&alice.token))
        .await;
    let items = versions.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items
            .iter()
            .map(|item| (
                item["version"].as_i64().unwrap(),
                item["isActive"].as_bool().unwrap()
            ))
            .collect::<Vec<_>>(),
        vec![(2, true), (1, false)]
    );
    let shown = app.get(&clone_path(clone, ""), Some(&alice.token)).await;
    assert_eq!(shown.body["activeVersion"], 2);
    assert_ne!(shown.body["displayState"], "setup_required");
}

#[tokio::test]
async fn the_trade_universe_respects_the_entitlement() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    let path = clone_path(clone, "/trade-universe");

    let entitlement = app
        .get(&clone_path(clone, "/entitlement"), Some(&alice.token))
        .await;
    assert_eq!(entitlement.body["tier"], "starter");
    assert_eq!(entitlement.body["maxActiveAssets"], 1);
    assert_eq!(entitlement.body["source"], "purchase");

    let (status, problem) = put(
        &app,
        &path,
        &json!({ "assets": ["BTC", "ETH"], "selectionMode": "all_in_universe", "maxAssets": 2 }),
        &alice.token,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("too_many_assets")),
        "{problem}"
    );
    let (status, saved) = put(
        &app,
        &path,
        &json!({ "assets": ["ETH"], "selectionMode": "all_in_universe", "maxAssets": 1 }),
        &alice.token,
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["assets"], json!(["ETH"]));

    // The default draft trades BTC, which is now outside the universe: saving it is refused
    // with the node named.
    let draft = app
        .get(&clone_path(clone, "/strategy/draft"), Some(&alice.token))
        .await;
    let (status, problem) = put(
        &app,
        &clone_path(clone, "/strategy/draft"),
        &json!({ "graph": draft.body["graph"] }),
        &alice.token,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|error| error["code"] == "asset_not_in_universe" && error["node"].is_string()),
        "{problem}"
    );
}

#[tokio::test]
async fn profiles_reports_and_moderation() {
    let app = spawn().await;
    let alice_key = PrivateKeySigner::random();
    let alice = member(&app, &alice_key).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let admin_key = PrivateKeySigner::random();
    let admin = member(&app, &admin_key).await;
    let access = PgAccessAdmin::new(app.db.db().clone(), Arc::new(app.clock.clone()));
    access
        .grant_admin(&admin_key.address().to_string(), "test")
        .await
        .unwrap();
    let clone = paid_clone(&app, alice.id).await;
    let public_path = format!("/api/v1/public/clones/{clone}/profile");

    app.get(&public_path, None)
        .await
        .assert_problem(404, "profile_not_found");
    let profile = json!({
        "displayName": "Alpha Trader",
        "username": "alpha_trader",
        "bio": "Trend following on BTC.",
        "avatarUrl": "https://example.com/a.png"
    });
    let (status, bad) = put(
        &app,
        &clone_path(clone, "/public-profile"),
        &json!({ "displayName": "A", "username": "No Caps", "bio": "" }),
        &alice.token,
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("invalid_input")),
        "{bad}"
    );
    let (status, bad) = put(
        &app,
        &clone_path(clone, "/public-profile"),
        &json!({ "displayName": "Alpha", "username": "alpha", "avatarUrl": "javascript:alert(1)" }),
        &alice.token,
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("invalid_input")),
        "{bad}"
    );
    let (status, saved) = put(
        &app,
        &clone_path(clone, "/public-profile"),
        &profile,
        &alice.token,
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["status"], "approved");
    let public = app.get(&public_path, None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["username"], "alpha_trader");
    assert!(public.body.get("ownerUserId").is_none());

    // Another of Bob's clones cannot take the username.
    let bobs_clone = paid_clone(&app, bob.id).await;
    let (status, taken) = put(
        &app,
        &clone_path(bobs_clone, "/public-profile"),
        &profile,
        &bob.token,
    )
    .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("username_taken")),
        "{taken}"
    );

    // Reports: not your own, not twice while open, and only with a session.
    let report_path = format!("/api/v1/public/clones/{clone}/report");
    app.post(
        &report_path,
        &json!({ "reason": "spam" }),
        Some(&alice.token),
    )
    .await
    .assert_problem(422, "self_report");
    app.post(&report_path, &json!({ "reason": "spam" }), None)
        .await
        .assert_problem(401, "invalid_access_token");
    let report = app
        .post(
            &report_path,
            &json!({ "reason": "impersonation", "details": "Claims to be someone else." }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(report.status, 201, "{}", report.body);
    app.post(&report_path, &json!({ "reason": "spam" }), Some(&bob.token))
        .await
        .assert_problem(409, "state_conflict");

    // Moderation is for admins only.
    app.get("/api/v1/admin/moderation/reports", Some(&bob.token))
        .await
        .assert_problem(403, "admin_required");
    let queue = app
        .get("/api/v1/admin/moderation/reports", Some(&admin.token))
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert_eq!(queue.body["items"][0]["id"], report.body["id"]);
    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("cursor=not-a-cursor", "invalid_page"),
        ("status=open&page=2", "invalid_query"),
    ] {
        app.get(
            &format!("/api/v1/admin/moderation/reports?{query}"),
            Some(&admin.token),
        )
        .await
        .assert_problem(400, code);
    }
    let report_id = report.body["id"].as_str().unwrap();
    let resolved = app
        .post(
            &format!("/api/v1/admin/moderation/reports/{report_id}/resolve"),
            &json!({ "decision": "action", "retire": true, "note": "Impersonation confirmed." }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(resolved.body["status"], "actioned");
    app.post(
        &format!("/api/v1/admin/moderation/reports/{report_id}/resolve"),
        &json!({ "decision": "dismiss", "note": "again" }),
        Some(&admin.token),
    )
    .await
    .assert_problem(409, "report_resolved");

    // Retired: gone from public view, the owner cannot resubmit, the username is free again.
    app.get(&public_path, None)
        .await
        .assert_problem(404, "profile_not_found");
    let (status, retired) = put(
        &app,
        &clone_path(clone, "/public-profile"),
        &profile,
        &alice.token,
    )
    .await;
    assert_eq!(
        (status, retired["code"].as_str()),
        (409, Some("profile_retired")),
        "{retired}"
    );
    let (status, reused) = put(
        &app,
        &clone_path(bobs_clone, "/public-profile"),
        &profile,
        &bob.token,
    )
    .await;
    assert_eq!(status, 200, "{reused}");
    let moderation = format!("/api/v1/admin/moderation/clones/{clone}");
    app.post(
        &format!("{moderation}/retire"),
        &json!({ "reason": "again" }),
        Some(&admin.token),
    )
    .await
    .assert_problem(409, "state_conflict");

    // Reinstating works once the username is free; Bob's profile holds it now, so rename first.
    let (status, _) = put(
        &app,
        &clone_path(bobs_clone, "/public-profile"),
        &json!({ "displayName": "Bob", "username": "bob_trades" }),
        &bob.token,
    )
    .await;
    assert_eq!(status, 200);
    let reinstated = app
        .post(
            &format!("{moderation}/reinstate"),
            &json!({ "reason": "Appeal accepted." }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(reinstated.status, 204, "{}", reinstated.body);
    assert_eq!(app.get(&public_path, None).await.status, 200);

    let history = app
        .get(&format!("{moderation}/history"), Some(&admin.token))
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "profile_published",
            "report_actioned",
            "retired",
            "reinstated"
        ]
    );
    app.get(&format!("{moderation}/history"), Some(&alice.token))
        .await
        .assert_problem(403, "admin_required");
}

#[tokio::test]
async fn user_lists_page_by_cursor_and_refuse_bad_paging() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let admin = crate::prop::admin(&app).await;
    // Five clones created at one instant: the pages split them by id, each seen once.
    let mut clones = Vec::new();
    for _ in 0..5 {
        clones.push(paid_clone(&app, alice.id).await);
    }
    clones.sort_unstable();
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut query = "limit=2".to_string();
    loop {
        let page = app
            .get(&format!("/api/v1/clone/clones?{query}"), Some(&alice.token))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|clone| clone["id"].as_str().unwrap().to_string()),
        );
        match page.body["nextCursor"].as_str() {
            Some(cursor) => {
                cursors.push(cursor.to_string());
                query = format!("limit=2&cursor={cursor}");
            }
            None => {
                assert_eq!(page.body["nextCursor"], Value::Null);
                break;
            }
        }
    }
    let expected: Vec<String> = clones.iter().map(Uuid::to_string).collect();
    assert_eq!(seen, expected);

    let clone = clones[0];
    let owner_routes = [
        "/api/v1/clone/clones".to_string(),
        clone_path(clone, "/strategy/versions"),
        "/api/v1/economy/purchases".to_string(),
    ];
    let history = format!("/api/v1/admin/moderation/clones/{clone}/history");
    for query in ["limit=0", "limit=501", "cursor=garbage"] {
        for route in &owner_routes {
            app.get(&format!("{route}?{query}"), Some(&alice.token))
                .await
                .assert_problem(400, "invalid_page");
        }
        app.get(&format!("{history}?{query}"), Some(&admin.token))
            .await
            .assert_problem(400, "invalid_page");
    }
    // A well-formed cursor of another list names no version or entry of this clone.
    app.get(
        &format!(
            "{}?cursor={}",
            clone_path(clone, "/strategy/versions"),
            cursors[0]
        ),
        Some(&alice.token),
    )
    .await
    .assert_problem(400, "invalid_page");
    app.get(
        &format!("{history}?cursor={}", cursors[0]),
        Some(&admin.token),
    )
    .await
    .assert_problem(400, "invalid_page");
    // Without paging parameters each list answers its first page.
    for route in &owner_routes {
        let page = app.get(route, Some(&alice.token)).await;
        assert_eq!(page.status, 200, "{route}: {}", page.body);
        assert_eq!(page.body["nextCursor"], Value::Null, "{route}");
    }
}
