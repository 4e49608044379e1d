//! Tenant CLOB wallets against the stub CLOB with one wallet per address and the stub Data
//! API: a created wallet's key and credentials are sealed, creating again returns it, the
//! credentials come from L1 auth the stub verifies (or on first use when the CLOB was down),
//! a live order is signed by the tenant's own key, another tenant sees nothing, and the
//! positions cross-check reports matches and mismatches in sync health.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::Address;
use clones_copy_mirror::clob::{ClobAccounts, ClobExecutor, ClobSettings};
use clones_copy_mirror::{
    CopyTradeError, CopyTradeService, CopyTradeSettings, DataApi, ExecutorKind, GrantRequest,
    PaperExecutor, PgClobAccounts, PgCopyTradeService, TradeSide,
};
use clones_kernel::Clock;
use clones_secrets::{Keyring, SecretBytes};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use uuid::Uuid;

use crate::stub::{WalletVenue, data_api_with_positions, wallet_venue};
use crate::support::{Fixture, TOKEN, WALLET, d, fill, fixture, target};

/// A keyring holding `versions` (master of version v is 32 bytes of v), encrypting with the
/// highest.
fn keyring_of(versions: &[u8]) -> Arc<Keyring> {
    let masters = versions
        .iter()
        .map(|&v| (u32::from(v), SecretBytes::new(vec![v; 32])))
        .collect();
    Arc::new(Keyring::derive(b"0123456789abcdef", masters, None).unwrap())
}

fn keyring() -> Arc<Keyring> {
    keyring_of(&[1])
}

struct Live {
    service: PgCopyTradeService,
    accounts: Arc<PgClobAccounts>,
}

/// A copy-trade service whose live executor trades each tenant's own wallet on `venue`.
fn live(f: &Fixture, venue: &WalletVenue) -> Live {
    live_with(f, venue, keyring())
}

fn live_with(f: &Fixture, venue: &WalletVenue, keyring: Arc<Keyring>) -> Live {
    let clob = ClobSettings {
        base_url: venue.stub.url.clone(),
        chain_id: 137,
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
    };
    let accounts = Arc::new(PgClobAccounts::new(
        f.db.db().clone(),
        Arc::new(f.clock.clone()),
        Some(keyring),
        clob.clone(),
    ));
    let service = PgCopyTradeService::new(
        f.db.db().clone(),
        Arc::new(f.clock.clone()),
        f.services.prop.clone(),
        Arc::new(PaperExecutor::new(f.services.prop.clone())),
        Some(Arc::new(ClobExecutor::new(accounts.clone()))),
        CopyTradeSettings {
            clob,
            ..CopyTradeSettings::default()
        },
    )
    .with_clob_accounts(accounts.clone());
    Live { service, accounts }
}

async fn live_tenant(service: &PgCopyTradeService, f: &Fixture) -> Uuid {
    let owner = f.user().await;
    service
        .set_grant(
            owner,
            GrantRequest {
                executor: Some(ExecutorKind::Clob),
                ..crate::support::grant()
            },
        )
        .await
        .unwrap();
    service.add_target(owner, target()).await.unwrap();
    owner
}

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Text)]
    private_key: String,
    #[diesel(sql_type = Nullable<Text>)]
    api_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    api_secret: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    api_passphrase: Option<String>,
}

/// The owner's stored row as it is in the table, read as the owner.
async fn raw(f: &Fixture, owner: Uuid) -> Option<Raw> {
    f.db.db()
        .tenant_transaction(owner, move |conn| {
            diesel::sql_query(
                "SELECT private_key, api_key, api_secret, api_passphrase \
                 FROM copy_trade_clob_accounts WHERE owner_user_id = $1",
            )
            .bind::<diesel::sql_types::Uuid, _>(owner)
            .get_result::<Raw>(conn)
            .optional()
            .map_err(clones_db::DbError::Query)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_created_wallet_is_sealed_minted_with_l1_auth_and_created_once() {
    let f = fixture().await;
    let venue = wallet_venue().await;
    let Live { service, .. } = live(&f, &venue);
    let owner = f.user().await;

    let (account, created) = service.create_clob_account(owner).await.unwrap();
    assert!(created);
    assert!(account.credentials_ready);
    let address: Address = account.address.parse().unwrap();
    assert_eq!(account.address, format!("{address:#x}"), "lower-case");

    // The CLOB minted credentials for the tenant's address, on a verified L1 signature.
    let keys = venue.key_requests();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].path, "/auth/api-key");
    assert!(keys[0].l1_valid());
    assert_eq!(keys[0].address(), Some(address));
    let minted = venue.minted.lock().unwrap().get(&address).cloned().unwrap();

    // Stored sealed: envelopes, never the key or the venue's secret and passphrase.
    let row = raw(&f, owner).await.unwrap();
    for sealed in [
        &row.private_key,
        row.api_secret.as_ref().unwrap(),
        row.api_passphrase.as_ref().unwrap(),
    ] {
        assert!(sealed.starts_with("enc:v1:"), "{sealed}");
    }
    assert!(!row.api_secret.unwrap().contains(&minted.secret));
    assert!(!row.api_passphrase.unwrap().contains(&minted.passphrase));
    assert_eq!(row.api_key.as_deref(), Some(minted.api_key.as_str()));

    // A second create returns the same wallet and asks the CLOB nothing.
    let (again, created) = service.create_clob_account(owner).await.unwrap();
    assert!(!created);
    assert_eq!(again, account);
    assert_eq!(venue.key_requests().len(), 1);
    assert_eq!(service.clob_account(owner).await.unwrap(), account);
}

#[tokio::test]
async fn two_creates_at_once_make_one_wallet() {
    let f = fixture().await;
    let venue = wallet_venue().await;
    let Live { service, .. } = live(&f, &venue);
    let owner = f.user().await;
    let (first, second) = tokio::join!(
        service.create_clob_account(owner),
        service.create_clob_account(owner)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.0.address, second.0.address);
    assert_eq!(u8::from(first.1) + u8::from(second.1), 1, "one created");
}

#[tokio::test]
async fn a_clob_down_at_create_mints_on_first_use_and_the_order_is_signed_by_the_tenant() {
    let f = fixture().await;
    let venue = wallet_venue().await;
    let Live { service, accounts } = live(&f, &venue);
    let owner = live_tenant(&service, &f).await;

    venue.set_down(true);
    let (account, created) = service.create_clob_account(owner).await.unwrap();
    assert!(created);
    assert!(!account.credentials_ready, "the CLOB was down");
    assert!(raw(&f, owner).await.unwrap().api_key.is_none());
    venue.set_down(false);

    // The first live order mints the credentials, stores them sealed and trades.
    let tick = service
        .mirror(WALLET, &[fill(1, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.placed, 1, "{tick:?}");
    let address: Address = account.address.parse().unwrap();
    assert_eq!(venue.signers(), vec![address], "signed by the tenant's key");
    assert!(venue.minted.lock().unwrap().contains_key(&address));
    assert!(service.clob_account(owner).await.unwrap().credentials_ready);
    assert!(
        raw(&f, owner)
            .await
            .unwrap()
            .api_secret
            .unwrap()
            .starts_with("enc:v1:")
    );

    // Another tenant's wallet signs its own orders.
    let other = live_tenant(&service, &f).await;
    let (theirs, _) = service.create_clob_account(other).await.unwrap();
    assert_ne!(theirs.address, account.address);
    let tick = service
        .mirror(WALLET, &[fill(2, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.placed, 2, "{tick:?}");
    let signers = venue.signers();
    assert_eq!(signers.len(), 3);
    assert!(signers.contains(&theirs.address.parse().unwrap()));
    // The cached account serves the next order without another key request.
    // Two refused while down, one on first use, one for the other tenant.
    assert_eq!(venue.key_requests().len(), 4, "{:?}", venue.key_requests());
    assert!(accounts.account(owner).await.unwrap().is_some());
}

#[tokio::test]
async fn another_tenant_sees_no_wallet_and_a_tenant_without_one_sends_nothing() {
    let f = fixture().await;
    let venue = wallet_venue().await;
    let Live { service, accounts } = live(&f, &venue);
    let owner = f.user().await;
    service.create_clob_account(owner).await.unwrap();
    let other = live_tenant(&service, &f).await;

    assert!(matches!(
        service.clob_account(other).await,
        Err(CopyTradeError::ClobAccountNotFound)
    ));
    assert!(raw(&f, other).await.is_none());
    assert!(accounts.account(other).await.unwrap().is_none());
    // Its live order is recorded as not sent.
    let tick = service
        .mirror(WALLET, &[fill(3, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!((tick.placed, tick.errors), (0, 1), "{tick:?}");
    assert!(venue.signers().is_empty());
}

#[tokio::test]
async fn the_positions_check_reports_matches_and_mismatches_in_sync_health() {
    let f = fixture().await;
    let venue = wallet_venue().await;
    let Live { service, .. } = live(&f, &venue);
    let owner = live_tenant(&service, &f).await;
    let (account, _) = service.create_clob_account(owner).await.unwrap();
    assert_eq!(service.sync_health(owner).await.unwrap().positions, None);
    // The target buys 40 shares; the tenant mirrors half.
    let tick = service
        .mirror(WALLET, &[fill(4, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.placed, 1, "{tick:?}");

    let positions: crate::stub::Positions = Arc::default();
    positions.lock().unwrap().insert(
        account.address.clone(),
        vec![serde_json::json!({
            "proxyWallet": account.address, "asset": TOKEN,
            "conditionId": format!("0x{}", "d".repeat(64)), "size": 20.0, "avgPrice": 0.5,
            "curPrice": 0.5, "outcome": "Yes", "negativeRisk": false
        })],
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = data_api_with_positions(Arc::default(), positions.clone(), seen.clone()).await;
    let data_api = DataApi::new(url.parse().unwrap()).unwrap();

    let report = service.check_positions(&data_api).await.unwrap();
    assert_eq!((report.tenants, report.mismatched), (1, 0), "{report:?}");
    assert!(
        seen.lock().unwrap()[0].contains(&format!("user={}", account.address)),
        "{seen:?}"
    );
    let health = service.sync_health(owner).await.unwrap().positions.unwrap();
    assert_eq!((health.tokens_checked, health.tokens_mismatched), (1, 0));
    assert_eq!(health.largest_difference, d("0"));
    assert_eq!(health.checked_at, f.clock.now());

    // Checked just now: not due again.
    assert_eq!(service.check_positions(&data_api).await.unwrap().tenants, 0);

    // The venue now reports fewer shares, and a token the ledger never traded.
    positions.lock().unwrap().insert(
        account.address.clone(),
        vec![
            serde_json::json!({"asset": TOKEN, "size": "14.5"}),
            serde_json::json!({"asset": "42", "size": 1}),
        ],
    );
    f.clock.advance(chrono::Duration::minutes(6));
    let report = service.check_positions(&data_api).await.unwrap();
    assert_eq!((report.tenants, report.mismatched), (1, 1), "{report:?}");
    let health = service.sync_health(owner).await.unwrap().positions.unwrap();
    assert_eq!((health.tokens_checked, health.tokens_mismatched), (2, 2));
    assert_eq!(health.largest_difference, d("5.5"));
    assert_eq!(health.largest_difference_token.as_deref(), Some(TOKEN));
    // Nothing was traded to fix it.
    assert_eq!(venue.signers().len(), 1);
}

#[tokio::test]
async fn rotation_covers_the_wallet_columns_and_the_wallet_still_trades() {
    let f = fixture().await;
    let venue = wallet_venue().await;
    let Live { service, .. } = live(&f, &venue);
    let owner = live_tenant(&service, &f).await;
    let (account, _) = service.create_clob_account(owner).await.unwrap();

    let registered = clones_wiring::secret_columns();
    let rotated = keyring_of(&[1, 2]);
    for column in clones_copy_mirror::accounts::SECRET_COLUMNS {
        assert!(registered.contains(&column), "{}", column.name());
        let done =
            clones_secrets::rotate_column(f.db.db(), rotated.clone(), column, 10, &mut |_| {})
                .await
                .unwrap();
        assert_eq!(done.rotated, 1, "{}", column.name());
        let census = clones_secrets::column_census(f.db.db(), column)
            .await
            .unwrap();
        assert_eq!(census.len(), 1);
        assert_eq!((census[0].version, census[0].rows), (Some(2), 1));
    }
    assert!(
        raw(&f, owner)
            .await
            .unwrap()
            .private_key
            .starts_with("enc:v2:")
    );

    // A process with the new keyring opens the rotated wallet and trades with it.
    let Live { service, .. } = live_with(&f, &venue, rotated);
    let tick = service
        .mirror(WALLET, &[fill(5, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.placed, 1, "{tick:?}");
    assert_eq!(
        venue.signers(),
        vec![account.address.parse::<Address>().unwrap()]
    );
}
