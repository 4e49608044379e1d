//! Fixtures: a fresh database with a tenant table of secrets under row-level security, and
//! keyrings of any set of versions.

use clones_db::diesel::{self, RunQueryDsl};
use clones_db::{Db, Scope, in_transaction};
use clones_secrets::{Keyring, LegacyPlaintext, SecretBytes, SecretColumn, SecretsError};
use clones_test_db::TestDb;
use uuid::Uuid;

/// The test table's column, which may hold legacy plaintexts.
pub const LEGACY: SecretColumn = SecretColumn {
    table: "secret_test_items",
    column: "secret",
    id_column: "id",
    tenant_column: Some("owner_user_id"),
    legacy: LegacyPlaintext::Accept,
};

/// The same column, registered as encrypted from its first row.
pub const STRICT: SecretColumn = SecretColumn {
    legacy: LegacyPlaintext::Refuse,
    ..LEGACY
};

pub async fn database() -> TestDb {
    tokio::task::spawn_blocking(|| {
        let db = TestDb::new().unwrap();
        let mut owner = db.owner_connection().unwrap();
        diesel::sql_query(
            "CREATE TABLE secret_test_items (
                id uuid PRIMARY KEY,
                owner_user_id uuid NOT NULL,
                secret text
            )",
        )
        .execute(&mut owner)
        .unwrap();
        for statement in [
            "GRANT SELECT, INSERT, UPDATE, DELETE ON secret_test_items TO clones_app",
            "ALTER TABLE secret_test_items ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE secret_test_items FORCE ROW LEVEL SECURITY",
            "CREATE POLICY secret_test_items_owner ON secret_test_items \
             USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) \
             WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())",
        ] {
            diesel::sql_query(statement).execute(&mut owner).unwrap();
        }
        db
    })
    .await
    .unwrap()
}

/// A keyring holding `versions` (master of version v is 32 bytes of v), encrypting under
/// the highest.
pub fn keyring(versions: &[u32]) -> Keyring {
    let masters = versions
        .iter()
        .map(|&version| {
            (
                version,
                SecretBytes::new(vec![u8::try_from(version).unwrap(); 32]),
            )
        })
        .collect();
    Keyring::derive(b"0123456789abcdef", masters, None).unwrap()
}

/// Writes a row holding `value` as tenant `owner`.
pub async fn insert(db: &Db, owner: Uuid, id: Uuid, value: Option<String>) {
    db.tenant_transaction(owner, move |conn| {
        diesel::sql_query(
            "INSERT INTO secret_test_items (id, owner_user_id, secret) VALUES ($1, $2, $3)",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Uuid, _>(owner)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(value)
        .execute(conn)?;
        Ok::<_, SecretsError>(())
    })
    .await
    .unwrap();
}

/// Writes a row holding `plaintext` sealed under `keys` for its own location, as tenant
/// `owner`.
pub async fn insert_sealed(db: &Db, keys: &Keyring, owner: Uuid, id: Uuid, plaintext: &str) {
    let keys = keys.clone();
    let plaintext = plaintext.to_string();
    let envelope = db
        .tenant_transaction(owner, move |conn| {
            clones_secrets::store::seal(
                conn,
                &keys,
                plaintext.as_bytes(),
                &LEGACY.location(id, Some(owner)),
            )
        })
        .await
        .unwrap();
    insert(db, owner, id, Some(envelope.into_string())).await;
}

/// The stored text of row `id`, read across tenants.
pub async fn stored(db: &Db, id: Uuid) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        secret: Option<String>,
    }
    db.cross_tenant_transaction("test read", move |conn| {
        let row: Row = diesel::sql_query("SELECT secret FROM secret_test_items WHERE id = $1")
            .bind::<diesel::sql_types::Uuid, _>(id)
            .get_result(conn)?;
        Ok::<_, SecretsError>(row.secret)
    })
    .await
    .unwrap()
}

/// Reads row `id` through [`SecretColumn::read`] as tenant `owner` with `keys`.
pub async fn read(
    db: &Db,
    keys: &Keyring,
    column: SecretColumn,
    owner: Uuid,
    id: Uuid,
) -> Result<Option<String>, SecretsError> {
    let keys = keys.clone();
    db.run(move |conn| {
        in_transaction(conn, Scope::Tenant(owner), |conn| {
            let plaintext = column.read(conn, &keys, id)?;
            Ok(plaintext.map(|bytes| bytes.expose_str().unwrap().to_string()))
        })
    })
    .await
}

/// Each version's encryption count.
pub async fn usage(db: &Db) -> Vec<(u32, u64)> {
    db.run(clones_secrets::store::usage)
        .await
        .unwrap()
        .into_iter()
        .map(|usage| (usage.version, usage.encryptions))
        .collect()
}
