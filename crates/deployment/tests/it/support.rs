//! Fixtures: a fresh database with every service wired over it, a fixed clock, keyrings, and
//! users with a granted clone.

use std::sync::Arc;

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use clones_deployment::{
    ChainOutcome, ChainSettings, DeploymentService, DeploymentView, OwnerAction,
};
use clones_economy::CloneGrant;
use clones_kernel::FixedClock;
use clones_secrets::{Keyring, SecretBytes};
use clones_test_db::TestDb;
use clones_wiring::{ServiceSettings, Services};
use uuid::Uuid;

pub fn t0() -> DateTime<Utc> {
    "2026-12-06T12:00:00Z".parse().unwrap()
}

/// A keyring holding `versions` (master of version v is 32 bytes of v).
pub fn keyring(versions: &[u32]) -> Arc<Keyring> {
    let masters = versions
        .iter()
        .map(|&version| {
            (
                version,
                SecretBytes::new(vec![u8::try_from(version).unwrap(); 32]),
            )
        })
        .collect();
    Arc::new(Keyring::derive(b"0123456789abcdef", masters, None).unwrap())
}

pub struct Fixture {
    pub db: TestDb,
    pub clock: FixedClock,
    pub services: Services,
    pub deployments: Arc<dyn DeploymentService>,
}

pub async fn fixture(keys: Option<Arc<Keyring>>) -> Fixture {
    fixture_on_chain(keys, None).await
}

/// A fixture whose services build and confirm transactions on `chain`.
pub async fn fixture_on_chain(keys: Option<Arc<Keyring>>, chain: Option<ChainSettings>) -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(t0());
    let services = services(&db, &clock, keys, chain);
    Fixture {
        deployments: services.deployments.clone(),
        db,
        clock,
        services,
    }
}

/// The services over the fixture's database with another keyring (a process restarted with
/// new keys).
pub fn with_keys(db: &TestDb, clock: &FixedClock, keyring: Option<Arc<Keyring>>) -> Services {
    services(db, clock, keyring, None)
}

/// The services over the fixture's database with a keyring and a deployment chain.
pub fn services(
    db: &TestDb,
    clock: &FixedClock,
    keyring: Option<Arc<Keyring>>,
    deployment_chain: Option<ChainSettings>,
) -> Services {
    Services::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        ServiceSettings {
            keyring,
            deployment_chain,
            ..ServiceSettings::default()
        },
    )
}

impl Fixture {
    /// A new user with one granted clone.
    pub async fn owner_with_clone(&self) -> (Uuid, Uuid) {
        self.owner_of_wallet_with_clone(alloy::signers::local::PrivateKeySigner::random().address())
            .await
    }

    /// A new user signed in with `wallet`, with one granted clone.
    pub async fn owner_of_wallet_with_clone(&self, wallet: Address) -> (Uuid, Uuid) {
        let wallet = format!("{wallet:#x}");
        let (user, _) = self
            .services
            .access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap();
        let granted = self
            .services
            .economy
            .grant_clone(CloneGrant {
                owner_user_id: user,
                clone_name: Some("Alpha".into()),
                reference: format!("test-{}", Uuid::new_v4()),
            })
            .await
            .unwrap();
        (user, granted.purchase.clone_id.unwrap())
    }

    pub async fn act(&self, owner: Uuid, clone: Uuid, action: OwnerAction) -> DeploymentView {
        self.deployments.act(owner, clone, action).await.unwrap()
    }

    pub async fn outcome(&self, clone: Uuid, outcome: ChainOutcome) -> DeploymentView {
        self.deployments
            .record_outcome(clone, outcome)
            .await
            .unwrap()
    }
}

pub fn token() -> Address {
    Address::repeat_byte(0xab)
}

pub fn pool() -> Address {
    Address::repeat_byte(0xcd)
}

pub fn token_created() -> ChainOutcome {
    ChainOutcome::TokenCreated {
        token_address: token(),
    }
}
