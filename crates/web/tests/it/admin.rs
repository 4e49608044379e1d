//! Admin routes: only users holding the admin role, checked on every request.

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use serde_json::json;

use crate::support::{spawn, token};

#[tokio::test]
async fn service_tokens_are_managed_by_admins_only() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let signed_in = app.sign_in(&signer).await;
    let access_token = token(&signed_in, "accessToken");
    let path = "/api/v1/admin/service-tokens";

    app.get(path, Some(&access_token))
        .await
        .assert_problem(403, "admin_required");
    app.get(path, None)
        .await
        .assert_problem(401, "invalid_access_token");

    let access = PgAccessAdmin::new(app.db.db().clone(), Arc::new(app.clock.clone()));
    assert!(
        access
            .grant_admin(&signer.address().to_string(), "test")
            .await
            .unwrap()
    );
    assert!(
        !access
            .grant_admin(&signer.address().to_string(), "test")
            .await
            .unwrap()
    );
    let me = app.get("/api/v1/me", Some(&access_token)).await;
    assert_eq!(me.body["roles"], json!(["admin"]));

    let minted = app
        .post(
            path,
            &json!({ "name": "mtm-worker", "scopes": ["health:read"] }),
            Some(&access_token),
        )
        .await;
    assert_eq!(minted.status, 201, "{}", minted.body);
    let secret = token(&minted.body, "token");
    assert!(secret.starts_with("cst_"));
    let id = minted.body["identity"]["id"].as_str().unwrap().to_string();

    let listed = app.get(path, Some(&access_token)).await;
    assert_eq!(listed.body["items"][0]["name"], "mtm-worker");
    assert!(!listed.body.to_string().contains(&secret));

    app.post(
        path,
        &json!({ "name": "x", "scopes": ["Not A Scope"] }),
        Some(&access_token),
    )
    .await
    .assert_problem(400, "invalid_input");
    app.post(
        path,
        &json!({ "name": "", "scopes": ["health:read"] }),
        Some(&access_token),
    )
    .await
    .assert_problem(400, "invalid_input");

    let revoked = app
        .delete(&format!("{path}/{id}"), Some(&access_token))
        .await;
    assert_eq!(revoked.status, 204);
    app.delete(&format!("{path}/{id}"), Some(&access_token))
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("{path}/not-a-uuid"), Some(&access_token))
        .await
        .assert_problem(404, "not_found");

    // Revoking the role takes effect on the next request, without a new token.
    assert!(
        access
            .revoke_admin(&signer.address().to_string())
            .await
            .unwrap()
    );
    app.get(path, Some(&access_token))
        .await
        .assert_problem(403, "admin_required");
    assert!(
        !access
            .revoke_admin(&signer.address().to_string())
            .await
            .unwrap()
    );
}
