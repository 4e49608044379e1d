//! Eager rotation: re-encrypts every value of a registered column that is not under the
//! current key, in bounded batches, each its own cross-tenant transaction, reporting progress
//! after each. Rows are visited in id order from a keyset cursor, so a run always ends and a
//! rerun after a failure resumes where the stale rows are. Lazy migration on read and rotation
//! may meet on a row: rotation locks the rows of its batch, and a reader's write-back applies
//! only to the value it read.

use std::sync::Arc;

use clones_db::Db;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

use crate::store::{self, SecretColumn, StoredRow};
use crate::{Envelope, Keyring, SecretsError};

/// Where a rotation stands, reported after each batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationProgress {
    /// `table.column`.
    pub column: String,
    /// The key version values are moved to.
    pub to_version: u32,
    /// Values re-encrypted so far.
    pub rotated: u64,
    /// Values that were not under the current key when the rotation started.
    pub total: u64,
    /// Batches committed so far.
    pub batches: u64,
}

/// How many values of a column are stored under each version (`None`: legacy plaintext).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionCount {
    /// The key version, or `None` for legacy plaintexts.
    pub version: Option<u32>,
    /// Rows holding such a value.
    pub rows: u64,
}

/// Re-encrypts every value of `column` that is not under `keyring`'s current version, at most
/// `batch` rows per transaction, calling `progress` after each committed batch.
///
/// # Errors
/// The first failure (a value that does not decrypt names its row in the log, the budget,
/// the database); the batches before it stay committed.
pub async fn rotate_column(
    db: &Db,
    keyring: Arc<Keyring>,
    column: SecretColumn,
    batch: u32,
    progress: &mut (dyn FnMut(&RotationProgress) + Send),
) -> Result<RotationProgress, SecretsError> {
    column.checked()?;
    let batch = i64::from(batch.max(1));
    let to_version = keyring.current_version();
    let pattern = Envelope::like_pattern(to_version);
    let total = {
        let sql = column.checked()?;
        let pattern = pattern.clone();
        db.cross_tenant_transaction("secrets rotation count", move |conn| {
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                count: i64,
            }
            let count: Count = diesel::sql_query(format!(
                "SELECT count(*) AS count FROM {table} \
                 WHERE {column} IS NOT NULL AND {column} NOT LIKE $1",
                table = sql.table,
                column = sql.column,
            ))
            .bind::<Text, _>(pattern)
            .get_result(conn)?;
            Ok::<_, SecretsError>(u64::try_from(count.count).unwrap_or(0))
        })
        .await?
    };
    let mut state = RotationProgress {
        column: column.name(),
        to_version,
        rotated: 0,
        total,
        batches: 0,
    };
    let mut cursor: Option<Uuid> = None;
    loop {
        let keyring = Arc::clone(&keyring);
        let pattern = pattern.clone();
        let (rotated, last) = db
            .cross_tenant_transaction("secrets rotation", move |conn| {
                rotate_batch(conn, &keyring, column, &pattern, cursor, batch)
            })
            .await?;
        if rotated == 0 {
            break;
        }
        state.rotated += rotated;
        state.batches += 1;
        progress(&state);
        cursor = last;
        if rotated < u64::try_from(batch).unwrap_or(u64::MAX) {
            break;
        }
    }
    Ok(state)
}

/// One batch: lock up to `batch` stale rows after `cursor`, re-encrypt and write them, count
/// the encryptions. Returns the rows rotated and the last id.
fn rotate_batch(
    conn: &mut PgConnection,
    keyring: &Keyring,
    column: SecretColumn,
    pattern: &str,
    cursor: Option<Uuid>,
    batch: i64,
) -> Result<(u64, Option<Uuid>), SecretsError> {
    let sql = column.checked()?;
    let rows: Vec<StoredRow> = diesel::sql_query(format!(
        "SELECT {id} AS id, {tenant} AS tenant, {column} AS value FROM {table} \
         WHERE {column} IS NOT NULL AND {column} NOT LIKE $1 \
           AND ($2::uuid IS NULL OR {id} > $2) \
         ORDER BY {id} LIMIT $3 FOR UPDATE",
        id = sql.id,
        tenant = sql.tenant,
        column = sql.column,
        table = sql.table,
    ))
    .bind::<Text, _>(pattern)
    .bind::<Nullable<SqlUuid>, _>(cursor)
    .bind::<BigInt, _>(batch)
    .load(conn)?;
    let mut last = None;
    let mut rotated = 0u64;
    for row in rows {
        let Some(value) = row.value else { continue };
        let location = column.location(row.id, row.tenant);
        let decrypted = keyring
            .decrypt(&value, &location, column.legacy)
            .inspect_err(|error| {
                tracing::error!(
                    column = %column.name(),
                    row = %row.id,
                    %error,
                    "a secret could not be rotated"
                );
            })?;
        let envelope = keyring.encrypt(decrypted.plaintext.expose(), &location)?;
        // The row is locked, so it still holds what was read.
        if !sql.replace(conn, row.id, &value, &envelope)? {
            return Err(SecretsError::Changed {
                table: column.table,
                column: column.column,
            });
        }
        rotated += 1;
        last = Some(row.id);
    }
    store::record_encryptions(conn, keyring.current_version(), rotated)?;
    Ok((rotated, last))
}

/// How many values of `column` each key version (or plaintext) holds, so an operator can see
/// when an old version is no longer needed.
///
/// # Errors
/// Database failures.
pub async fn column_census(
    db: &Db,
    column: SecretColumn,
) -> Result<Vec<VersionCount>, SecretsError> {
    let sql = column.checked()?;
    db.cross_tenant_transaction("secrets status", move |conn| {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            version: Option<String>,
            #[diesel(sql_type = BigInt)]
            rows: i64,
        }
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT substring({column} from '^enc:v([0-9]+):') AS version, count(*) AS rows \
             FROM {table} WHERE {column} IS NOT NULL GROUP BY 1",
            column = sql.column,
            table = sql.table,
        ))
        .load(conn)?;
        let mut counts: Vec<VersionCount> = rows
            .into_iter()
            .map(|row| VersionCount {
                version: row.version.and_then(|version| version.parse().ok()),
                rows: u64::try_from(row.rows).unwrap_or(0),
            })
            .collect();
        counts.sort_by_key(|count| count.version);
        Ok::<_, SecretsError>(counts)
    })
    .await
}
