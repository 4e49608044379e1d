//! Fixtures: users, paid clones, a service over a fresh database.

use std::sync::Arc;

use chrono::Utc;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{NoCompetitionFacts, PgCloneService};
use clones_db::DbError;
use clones_kernel::FixedClock;
use clones_test_db::TestDb;
use serde_json::Value;
use uuid::Uuid;

pub struct Fixture {
    pub db: TestDb,
    pub clock: FixedClock,
    pub service: PgCloneService,
    pub access: PgAccessAdmin,
}

pub async fn fixture() -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(Utc::now());
    let service = PgCloneService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        Arc::new(NoCompetitionFacts),
    );
    let access = PgAccessAdmin::new(db.db().clone(), Arc::new(clock.clone()));
    Fixture {
        db,
        clock,
        service,
        access,
    }
}

impl Fixture {
    /// A new user (through a provisioned wallet).
    pub async fn user(&self) -> Uuid {
        let wallet = format!("0x{}", hex_id());
        self.access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap()
            .0
    }

    /// A new admin user.
    pub async fn admin(&self) -> Uuid {
        let wallet = format!("0x{}", hex_id());
        let (user, _) = self.access.provision_wallet(&wallet, 31337).await.unwrap();
        self.access.grant_admin(&wallet, "test").await.unwrap();
        user
    }

    /// A paid clone of `owner`, as economy creates it.
    pub async fn paid_clone(&self, owner: Uuid) -> Uuid {
        let purchase_id = Uuid::new_v4();
        self.create(owner, purchase_id).await.unwrap().0
    }

    pub async fn create(
        &self,
        owner: Uuid,
        purchase_id: Uuid,
    ) -> Result<(Uuid, bool), clones_clone_service::CloneError> {
        let at = clones_kernel::Clock::now(&self.clock);
        self.db
            .db()
            .tenant_transaction(owner, move |conn| {
                provisioning::create_paid_clone(
                    conn,
                    &PaidClone {
                        clone_id: Uuid::new_v4(),
                        owner_user_id: owner,
                        purchase_id,
                        display_name: "Alpha".into(),
                    },
                    at,
                )
            })
            .await
    }

    /// Raw row count as the application role acting for `tenant` (None: no tenant).
    pub async fn visible(&self, tenant: Option<Uuid>, table: &'static str) -> i64 {
        let sql = format!("SELECT count(*) AS n FROM {table}");
        let work = move |conn: &mut diesel::PgConnection| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            Ok::<_, DbError>(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
        };
        match tenant {
            Some(user) => self.db.db().tenant_transaction(user, work).await.unwrap(),
            None => self.db.db().run(work).await.unwrap(),
        }
    }
}

fn hex_id() -> String {
    format!(
        "{}{}",
        Uuid::new_v4().simple(),
        &Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A different valid graph: the first integer `period` parameter found, plus one.
pub fn tweaked(graph: &Value) -> Value {
    fn bump(value: &mut Value) -> bool {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "period" && child.is_u64() {
                        *child = Value::from(child.as_u64().unwrap() + 1);
                        return true;
                    }
                }
                map.values_mut().any(bump)
            }
            Value::Array(items) => items.iter_mut().any(bump),
            _ => false,
        }
    }
    let mut copy = graph.clone();
    assert!(bump(&mut copy), "the default graph has a period parameter");
    copy
}
