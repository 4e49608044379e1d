//! Deployment routes over HTTP: the owner reads a draft, starts, is refused with 409 problems
//! for what the state machine does not allow, starts the pool step (a deposit address, 503
//! without secret keys), reads the history; another user gets 404 and no token gets 401. With a
//! deployment chain the views carry the factory call to sign, and the owner submits its hash.

use std::sync::Arc;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use clones_deployment::ChainOutcome;
use clones_secrets::{Keyring, SecretBytes};
use clones_wiring::{ServiceSettings, Services};
use serde_json::json;
use uuid::Uuid;

use crate::clones::{member, paid_clone};
use crate::support::{TestApp, spawn, spawn_with};

const MASTER: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const SALT: &str = "c2FsdHNhbHRzYWx0c2FsdA==";

fn path(clone: Uuid, rest: &str) -> String {
    format!("/api/v1/clone/clones/{clone}/deployment{rest}")
}

/// The chain confirmation flow's side: what the worker would record.
async fn token_confirmed(app: &TestApp, clone: Uuid) {
    let keyring = Keyring::derive(
        b"saltsaltsaltsalt",
        vec![(
            1,
            SecretBytes::new(b"0123456789abcdef0123456789abcdef".to_vec()),
        )],
        None,
    )
    .unwrap();
    let services = Services::new(
        app.db.db().clone(),
        Arc::new(app.clock.clone()),
        ServiceSettings {
            keyring: Some(Arc::new(keyring)),
            ..ServiceSettings::default()
        },
    );
    services
        .deployments
        .record_outcome(
            clone,
            ChainOutcome::TokenCreated {
                token_address: Address::repeat_byte(0xab),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_owner_deploys_step_by_step_and_others_see_nothing() {
    let app = spawn_with(&["--secrets-master-key", MASTER, "--secrets-salt", SALT]).await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;

    let draft = app.get(&path(clone, ""), Some(&alice.token)).await;
    assert_eq!(draft.status, 200, "{}", draft.body);
    assert_eq!(draft.body["status"], "draft");
    assert_eq!(draft.body["cloneId"], clone.to_string());
    assert!(draft.body["createdAt"].is_null());

    let started = app
        .post(&path(clone, "/initiate"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["status"], "pending_token_signature");
    app.post(&path(clone, "/initiate"), &json!({}), Some(&alice.token))
        .await
        .assert_problem(409, "deployment_transition_not_allowed");
    app.post(&path(clone, "/deactivate"), &json!({}), Some(&alice.token))
        .await
        .assert_problem(409, "deployment_transition_not_allowed");

    token_confirmed(&app, clone).await;
    let pooling = app
        .post(&path(clone, "/pool"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(pooling.status, 200, "{}", pooling.body);
    assert_eq!(pooling.body["status"], "pending_pool_signature");
    assert_eq!(
        pooling.body["tokenAddress"],
        Address::repeat_byte(0xab).to_checksum(None)
    );
    assert!(
        pooling.body["depositAddress"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
    assert!(pooling.body.get("depositKey").is_none());

    let history = app
        .get(&path(clone, "/history?limit=2"), Some(&alice.token))
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let items = history.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["event"], "initiate_deployment");
    assert_eq!(items[0]["actor"], "owner");
    assert_eq!(items[0]["actorUserId"], alice.id.to_string());
    assert_eq!(items[0]["from"], "draft");
    assert_eq!(items[1]["actor"], "system");
    let cursor = history.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &path(clone, &format!("/history?cursor={cursor}")),
            Some(&alice.token),
        )
        .await;
    assert_eq!(rest.body["items"][0]["to"], "pending_pool_signature");
    assert!(rest.body["nextCursor"].is_null());

    // Bob sees no such clone, whatever he asks.
    app.get(&path(clone, ""), Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");
    app.get(&path(clone, "/history"), Some(&bob.token))
        .await
        .assert_problem(404, "clone_not_found");
    for action in ["/cancel", "/retry", "/archive"] {
        app.post(&path(clone, action), &json!({}), Some(&bob.token))
            .await
            .assert_problem(404, "clone_not_found");
    }
    app.get(&path(clone, ""), None)
        .await
        .assert_problem(401, "invalid_access_token");

    let cancelled = app
        .post(&path(clone, "/cancel"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(cancelled.body["status"], "failed");
    assert_eq!(cancelled.body["lastError"], clones_deployment::CANCELLED);
    let retried = app
        .post(&path(clone, "/retry"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(retried.body["status"], "pending_pool_signature");
    assert_eq!(
        retried.body["depositAddress"],
        pooling.body["depositAddress"]
    );
}

#[tokio::test]
async fn the_pool_step_answers_503_without_secret_keys() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    app.post(&path(clone, "/initiate"), &json!({}), Some(&alice.token))
        .await;
    token_confirmed(&app, clone).await;
    app.post(&path(clone, "/pool"), &json!({}), Some(&alice.token))
        .await
        .assert_problem(503, "secrets_not_configured");
    let read = app.get(&path(clone, ""), Some(&alice.token)).await;
    assert_eq!(read.body["status"], "token_created");
    assert!(read.body["depositAddress"].is_null());
}

#[test]
fn unusable_secrets_settings_stop_the_api_naming_the_setting_not_the_value() {
    let db = clones_db::Db::connect(&clones_db::PoolSettings {
        url: clones_kernel::Secret::new("postgres://unused@127.0.0.1:1/none".into()),
        max_size: 1,
        checkout_timeout: std::time::Duration::from_millis(10),
    })
    .unwrap();
    let clock = Arc::new(clones_kernel::SystemClock);
    for args in [
        vec!["--secrets-salt", SALT],
        vec!["--secrets-master-key", MASTER],
        vec!["--secrets-master-key", "short", "--secrets-salt", SALT],
    ] {
        let settings = crate::support::settings(&args);
        let Err(error) = clones_web::AppState::new(&settings, db.clone(), clock.clone()) else {
            panic!("{args:?} was accepted");
        };
        let text = error.to_string();
        assert!(
            text.contains("secrets") && text.contains("SECRETS_"),
            "{text}"
        );
        assert!(!text.contains(MASTER) && !text.contains(SALT), "{text}");
    }
}

const FACTORY: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const PAYMENT_TOKEN: &str = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";

#[tokio::test]
async fn the_view_says_what_to_sign_and_the_owner_submits_the_hash() {
    let app = spawn_with(&[
        "--secrets-master-key",
        MASTER,
        "--secrets-salt",
        SALT,
        "--deployment-factory-address",
        FACTORY,
        "--deployment-rpc-url",
        "http://127.0.0.1:8545",
        "--deployment-payment-token",
        PAYMENT_TOKEN,
    ])
    .await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let bob = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    let tx_hash = format!("0x{}", "ab".repeat(32));
    let submit = |hash: &str| json!({ "txHash": hash });

    // A draft waits for no signature.
    let draft = app.get(&path(clone, ""), Some(&alice.token)).await;
    assert!(draft.body["transaction"].is_null());
    app.post(
        &path(clone, "/transactions"),
        &submit(&tx_hash),
        Some(&alice.token),
    )
    .await
    .assert_problem(409, "deployment_not_awaiting_signature");

    let started = app
        .post(&path(clone, "/initiate"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let transaction = &started.body["transaction"];
    assert_eq!(transaction["step"], "token");
    assert_eq!(transaction["to"], FACTORY);
    assert_eq!(transaction["value"], "0");
    assert_eq!(transaction["chainId"], 31337);
    // createToken(bytes32,string,string,uint256) with the clone's cloneRef first.
    let selector = alloy::primitives::hex::encode(
        &alloy::primitives::keccak256("createToken(bytes32,string,string,uint256)")[..4],
    );
    let data = transaction["data"].as_str().unwrap();
    assert!(data.starts_with(&format!("0x{selector}")), "{data}");
    assert!(
        data[10..].starts_with(&clone.simple().to_string()),
        "{data}"
    );
    // GET repeats it while the step waits.
    let read = app.get(&path(clone, ""), Some(&alice.token)).await;
    assert_eq!(&read.body["transaction"], transaction);

    let submitted = app
        .post(
            &path(clone, "/transactions"),
            &submit(&tx_hash),
            Some(&alice.token),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    assert_eq!(submitted.body["txHash"], tx_hash);
    assert_eq!(submitted.body["step"], "token");
    assert_eq!(submitted.body["status"], "pending");
    assert!(submitted.body["settledAt"].is_null());
    let again = app
        .post(
            &path(clone, "/transactions"),
            &submit(&tx_hash.to_uppercase().replace("0X", "0x")),
            Some(&alice.token),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], submitted.body["id"]);

    for bad in ["0x12", "abc", &format!("0x{}", "g".repeat(64))] {
        app.post(
            &path(clone, "/transactions"),
            &submit(bad),
            Some(&alice.token),
        )
        .await
        .assert_problem(400, "invalid_input");
    }
    app.post(
        &path(clone, "/transactions"),
        &json!({ "hash": tx_hash }),
        Some(&alice.token),
    )
    .await
    .assert_problem(400, "invalid_body");
    app.post(
        &path(clone, "/transactions"),
        &submit(&tx_hash),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "clone_not_found");
    app.post(&path(clone, "/transactions"), &submit(&tx_hash), None)
        .await
        .assert_problem(401, "invalid_access_token");

    // The pool step's call names the token and the deposit address.
    token_confirmed(&app, clone).await;
    let pooling = app
        .post(&path(clone, "/pool"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(pooling.status, 200, "{}", pooling.body);
    let transaction = &pooling.body["transaction"];
    assert_eq!(transaction["step"], "pool");
    let data = transaction["data"].as_str().unwrap().to_lowercase();
    let deposit = pooling.body["depositAddress"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(data.contains(&deposit[2..]), "{data}");
    assert!(data.contains(&PAYMENT_TOKEN[2..].to_lowercase()), "{data}");
}

#[tokio::test]
async fn without_a_deployment_chain_the_view_has_nothing_to_sign() {
    let app = spawn().await;
    let alice = member(&app, &PrivateKeySigner::random()).await;
    let clone = paid_clone(&app, alice.id).await;
    let started = app
        .post(&path(clone, "/initiate"), &json!({}), Some(&alice.token))
        .await;
    assert_eq!(started.body["status"], "pending_token_signature");
    assert!(started.body["transaction"].is_null());
}
