//! `clonectl` as operators run it: the real binary against a real database.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::process::Command;

use clones_test_db::TestDb;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::Value;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(db: &TestDb, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut db.owner_connection().unwrap())
        .unwrap()
        .n
}

fn clonectl(db: Option<&TestDb>, args: &[&str]) -> (bool, Value, String) {
    clonectl_with(db, &[], args)
}

fn clonectl_with(
    db: Option<&TestDb>,
    env: &[(&str, &str)],
    args: &[&str],
) -> (bool, Value, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clonectl"));
    for name in [
        "SECRETS_MASTER_KEY",
        "SECRETS_MASTER_KEY_V2",
        "SECRETS_SALT",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("MIGRATION_DATABASE_URL");
    if let Some(db) = db {
        command
            .env("DATABASE_URL", db.app_url())
            .env("MIGRATION_DATABASE_URL", db.owner_url());
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        output.status.success(),
        json,
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn migrate_applies_everything_once_and_status_reports_it() {
    let db = TestDb::empty().unwrap();
    let (ok, first, stderr) = clonectl(Some(&db), &["migrate"]);
    assert!(ok, "{stderr}");
    assert!(!first["applied"].as_array().unwrap().is_empty());
    let (ok, again, _) = clonectl(Some(&db), &["migrate"]);
    assert!(ok);
    assert_eq!(again["applied"], serde_json::json!([]));
    let (ok, status, stderr) = clonectl(Some(&db), &["status"]);
    assert!(ok, "{stderr}");
    assert_eq!(status["migrations"]["pending"], serde_json::json!([]));
    assert_eq!(status["workers"]["healthy"], true);
}

#[test]
fn tokens_and_roles_round_trip() {
    let db = TestDb::new().unwrap();
    let (ok, minted, stderr) = clonectl(
        Some(&db),
        &[
            "mint-service-token",
            "--name",
            "mtm-worker",
            "--scope",
            "health:read",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(minted["token"].as_str().unwrap().starts_with("cst_"));
    let id = minted["identity"]["id"].as_str().unwrap().to_string();
    let (_, listed, _) = clonectl(Some(&db), &["list-service-tokens"]);
    assert_eq!(listed[0]["name"], "mtm-worker");
    assert!(listed[0]["expiresAt"].is_string());
    assert!(clonectl(Some(&db), &["revoke-service-token", "--id", &id]).0);
    assert!(!clonectl(Some(&db), &["revoke-service-token", "--id", &id]).0);
    let (ok, _, stderr) = clonectl(
        Some(&db),
        &["mint-service-token", "--name", "x", "--scope", "BAD"],
    );
    assert!(!ok && stderr.contains("scopes"), "{stderr}");

    let wallet = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let (ok, _, stderr) = clonectl(Some(&db), &["grant-admin", "--wallet", wallet]);
    assert!(!ok, "granting to an unknown wallet must fail: {stderr}");
    let (ok, demo, stderr) = clonectl(Some(&db), &["seed-demo", "--wallet", wallet]);
    assert!(ok, "{stderr}");
    assert_eq!(demo["userCreated"], true);
    let (_, again, _) = clonectl(Some(&db), &["seed-demo", "--wallet", wallet]);
    assert_eq!(again["userCreated"], false);
    assert_eq!(again["adminUserId"], demo["adminUserId"]);
    assert_eq!(
        again["demoCloneId"], demo["demoCloneId"],
        "one demo clone however often seeded"
    );
    // The demo clone exists because economy recorded its grant, like a paid clone.
    let clone = demo["demoCloneId"].as_str().unwrap();
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM economy_purchases p JOIN clones c \
                 ON c.created_by_purchase_id = p.id AND c.id = p.clone_id \
                 WHERE p.source = 'operator_grant' AND c.id = '{clone}'"
            ),
        ),
        1
    );
    // A second seed replaces the demo token instead of piling them up.
    let (_, listed, _) = clonectl(Some(&db), &["list-service-tokens"]);
    let live_demo_tokens = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|token| token["name"] == "demo-operator" && token["revokedAt"].is_null())
        .count();
    assert_eq!(live_demo_tokens, 1);
    let (_, granted, _) = clonectl(Some(&db), &["grant-admin", "--wallet", wallet]);
    assert_eq!(granted["alreadyAdmin"], true);
    let (_, revoked, _) = clonectl(
        Some(&db),
        &["revoke-admin", "--wallet", &wallet.to_lowercase()],
    );
    assert_eq!(revoked["revoked"], true);
}

#[test]
fn entitlements_are_granted_with_their_source() {
    let db = TestDb::new().unwrap();
    let wallet = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    let (ok, demo, stderr) = clonectl(Some(&db), &["seed-demo", "--wallet", wallet]);
    assert!(ok, "{stderr}");
    let clone = demo["demoCloneId"].as_str().unwrap();
    let (ok, granted, stderr) = clonectl(
        Some(&db),
        &[
            "grant-entitlement",
            "--clone",
            clone,
            "--tier",
            "pro",
            "--source",
            "manual",
            "--reference",
            "SUP-42",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(granted["tier"], "pro");
    assert_eq!(granted["maxActiveAssets"], 5);
    assert_eq!(granted["source"], "manual");
    assert_eq!(granted["sourceReference"], "SUP-42");
    assert!(granted["expiresAt"].is_string());
    let (ok, debug, stderr) = clonectl(
        Some(&db),
        &[
            "grant-entitlement",
            "--clone",
            clone,
            "--tier",
            "elite",
            "--source",
            "debug",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        (debug["tier"].as_str(), debug["source"].as_str()),
        (Some("elite"), Some("debug"))
    );

    // Purchases are economy's to record; unknown clones and tiers are refused.
    let (ok, _, stderr) = clonectl(
        Some(&db),
        &[
            "grant-entitlement",
            "--clone",
            clone,
            "--tier",
            "pro",
            "--source",
            "purchase",
        ],
    );
    assert!(!ok, "{stderr}");
    let unknown = "6f1c2a4e-0000-4000-8000-000000000001";
    let (ok, _, stderr) = clonectl(
        Some(&db),
        &[
            "grant-entitlement",
            "--clone",
            unknown,
            "--tier",
            "pro",
            "--source",
            "manual",
        ],
    );
    assert!(!ok && stderr.contains("clone not found"), "{stderr}");
    let (ok, _, stderr) = clonectl(
        Some(&db),
        &[
            "grant-entitlement",
            "--clone",
            clone,
            "--tier",
            "gold",
            "--source",
            "manual",
        ],
    );
    assert!(!ok && stderr.contains("unknown tier"), "{stderr}");
}

#[test]
fn openapi_needs_no_database() {
    let (ok, document, stderr) = clonectl(None, &["openapi"]);
    assert!(ok, "{stderr}");
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/me"].is_object());
}

#[test]
fn commands_needing_a_database_say_so() {
    let (ok, _, stderr) = clonectl(None, &["status"]);
    assert!(!ok);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn backtest_runs_a_strategy_file_on_an_ohlcv_file_without_a_database() {
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/backtest/fixtures"
    );
    let strategy = format!("{fixtures}/sma_cross.json");
    let data = format!("{fixtures}/ibm_daily.csv");
    let csv = std::env::temp_dir().join(format!("trades-{}.csv", std::process::id()));
    let csv_path = csv.to_str().unwrap();
    let chart = std::env::temp_dir().join(format!("chart-{}.svg", std::process::id()));
    let chart_path = chart.to_str().unwrap();
    let (ok, report, stderr) = clonectl(
        None,
        &[
            "backtest",
            "--strategy",
            &strategy,
            "--data",
            &data,
            "--commission",
            "0.001",
            "--trades-csv",
            csv_path,
            "--chart",
            chart_path,
        ],
    );
    assert!(ok, "{stderr}");
    let lines = std::fs::read_to_string(&csv).unwrap();
    std::fs::remove_file(&csv).unwrap();
    let svg = std::fs::read_to_string(&chart).unwrap();
    std::fs::remove_file(&chart).unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(lines.lines().count(), 61, "a header and 60 trades");
    assert!(
        lines
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("IBM,long,2000-06-06T00:00:00Z,")
    );
    // The same run as the engine's golden test.
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{fixtures}/ibm_sma_cross.golden.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["resultHash"], golden["resultHash"]);
    assert_eq!(report["trades"].as_array().unwrap().len(), 60);
    assert_eq!(
        report["metrics"]["finalEquity"],
        golden["metrics"]["finalEquity"]
    );

    let (ok, _, stderr) = clonectl(None, &["backtest", "--strategy", &data, "--data", &data]);
    assert!(!ok);
    assert!(stderr.contains("does not compile"), "{stderr}");
}

#[test]
fn secrets_status_reports_budgets_and_rotate_needs_keys() {
    let db = TestDb::new().unwrap();
    diesel::sql_query(
        "INSERT INTO secret_key_usage (version, encryptions) VALUES (1, 2147483648), (2, 5)",
    )
    .execute(&mut db.owner_connection().unwrap())
    .unwrap();
    let keys = [
        (
            "SECRETS_MASTER_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
        (
            "SECRETS_MASTER_KEY_V2",
            "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
        ),
        ("SECRETS_SALT", "c2FsdHNhbHRzYWx0c2FsdA=="),
    ];
    let (ok, status, stderr) = clonectl_with(Some(&db), &keys, &["secrets", "status"]);
    assert!(ok, "{stderr}");
    assert_eq!(status["configured"], true);
    assert_eq!(status["currentVersion"], 2);
    assert_eq!(status["heldVersions"], serde_json::json!([1, 2]));
    assert_eq!(status["keys"][0]["status"], "warn");
    assert_eq!(status["keys"][1]["status"], "ok");
    assert_eq!(status["keys"][1]["encryptions"], 5);
    assert_eq!(status["warnings"].as_array().unwrap().len(), 1);
    assert!(stderr.contains("warning: key version 1"), "{stderr}");
    // No key or salt ever reaches the output.
    let printed = format!("{status}{stderr}");
    for (_, secret) in keys {
        assert!(!printed.contains(secret));
    }

    let (ok, _, stderr) = clonectl(Some(&db), &["secrets", "rotate"]);
    assert!(!ok);
    assert!(stderr.contains("SECRETS_SALT"), "{stderr}");
    let (ok, rotated, stderr) = clonectl_with(Some(&db), &keys, &["secrets", "rotate"]);
    assert!(ok, "{stderr}");
    assert_eq!(rotated["currentVersion"], 2);
    let (ok, _, stderr) = clonectl_with(
        Some(&db),
        &keys,
        &["secrets", "rotate", "--column", "nope.nothing"],
    );
    assert!(!ok);
    assert!(
        stderr.contains("not a registered secret column"),
        "{stderr}"
    );
}

/// A clone whose deployment reached the pool step with its deposit key sealed under v1.
fn deployment_with_sealed_key(db: &TestDb) {
    use std::sync::Arc;

    use clones_deployment::{ChainOutcome, OwnerAction};
    use clones_secrets::{Keyring, SecretBytes};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let keyring = Keyring::derive(
            b"saltsaltsaltsalt",
            vec![(
                1,
                SecretBytes::new(b"0123456789abcdef0123456789abcdef".to_vec()),
            )],
            None,
        )
        .unwrap();
        let services = clones_wiring::Services::new(
            db.db().clone(),
            Arc::new(clones_kernel::SystemClock),
            clones_wiring::ServiceSettings {
                keyring: Some(Arc::new(keyring)),
                ..clones_wiring::ServiceSettings::default()
            },
        );
        let wallet = format!("{:#x}", alloy::primitives::Address::repeat_byte(0x42));
        let (user, _) = services
            .access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap();
        let granted = services
            .economy
            .grant_clone(clones_economy::CloneGrant {
                owner_user_id: user,
                clone_name: None,
                reference: "cli-test".into(),
            })
            .await
            .unwrap();
        let clone = granted.purchase.clone_id.unwrap();
        let deployments = &services.deployments;
        deployments
            .act(user, clone, OwnerAction::Initiate)
            .await
            .unwrap();
        deployments
            .record_outcome(
                clone,
                ChainOutcome::TokenCreated {
                    token_address: alloy::primitives::Address::repeat_byte(0xab),
                },
            )
            .await
            .unwrap();
        deployments
            .act(user, clone, OwnerAction::InitiatePool)
            .await
            .unwrap();
    });
}

#[test]
fn secrets_rotate_moves_the_deposit_keys_to_the_current_version() {
    let db = TestDb::new().unwrap();
    deployment_with_sealed_key(&db);
    // "0123456789abcdef0123456789abcdef" and "saltsaltsaltsalt" in base64, plus a version 2.
    let keys = [
        (
            "SECRETS_MASTER_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
        (
            "SECRETS_MASTER_KEY_V2",
            "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
        ),
        ("SECRETS_SALT", "c2FsdHNhbHRzYWx0c2FsdA=="),
    ];
    let (ok, before, stderr) = clonectl_with(Some(&db), &keys, &["secrets", "status"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        before["columns"][0]["column"],
        "clone_deployments.deposit_key"
    );
    assert_eq!(
        before["columns"][0]["versions"],
        serde_json::json!([{ "version": 1, "rows": 1 }])
    );
    let (ok, rotated, stderr) =
        clonectl_with(Some(&db), &keys, &["secrets", "rotate", "--batch", "1"]);
    assert!(ok, "{stderr}");
    assert_eq!(rotated["rotated"][0]["rotated"], 1);
    assert_eq!(rotated["rotated"][0]["toVersion"], 2);
    assert!(stderr.contains("\"progress\""), "{stderr}");
    let (ok, after, _) = clonectl_with(Some(&db), &keys, &["secrets", "status"]);
    assert!(ok);
    assert_eq!(
        after["columns"][0]["versions"],
        serde_json::json!([{ "version": 2, "rows": 1 }])
    );
    assert_eq!(after["keys"][1]["encryptions"], 1);
}
