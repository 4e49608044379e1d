//! Secrets in PostgreSQL: counted encryption, reads that migrate legacy and stale values in
//! the caller's transaction, registered columns, and the per-version encryption counters in
//! `secret_key_usage` (the one table this crate owns).
//!
//! Every encryption is counted in the transaction that stores it, so a rolled-back write
//! counts nothing it did not store and a committed one is never missed. The counter row of
//! the current version is updated by every encrypting transaction, which serialises them for
//! the rest of their transaction; secrets are written rarely (a pool's key at creation,
//! rotation batches), so that is cheap.

use clones_db::schema::secret_key_usage;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel::upsert::excluded;
use serde::Serialize;
use uuid::Uuid;

use crate::keyring::{Found, Keyring, LegacyPlaintext, SecretBytes};
use crate::{Envelope, SecretLocation, SecretsError};

/// Encryptions one key may make with random 96-bit nonces while the chance of any nonce
/// repeating stays below 2^-32 (NIST SP 800-38D, 8.3).
pub const NONCE_BUDGET: u64 = 1 << 32;

/// Encryptions of one key after which the operator is warned to rotate: half the budget.
pub const WARN_AT: u64 = NONCE_BUDGET / 2;

/// Spacing of the repeated warning once a key is past [`WARN_AT`].
const WARN_EVERY: u64 = 1 << 24;

/// A column that holds secrets: where its values live and how rows are named, so the
/// generic read, migration and rotation code can reach it. Identifiers are plain lower-case
/// SQL names; anything else is refused before any SQL is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretColumn {
    /// The table.
    pub table: &'static str,
    /// The column of envelopes (`text`).
    pub column: &'static str,
    /// The row's `uuid` primary key column.
    pub id_column: &'static str,
    /// The `uuid` column naming the owning tenant, bound into the associated data.
    pub tenant_column: Option<&'static str>,
    /// Whether the column may still hold legacy plaintexts.
    pub legacy: LegacyPlaintext,
}

impl SecretColumn {
    /// The location of this column's value in row `row_id` of `tenant`.
    pub fn location(&self, row_id: Uuid, tenant: Option<Uuid>) -> SecretLocation {
        SecretLocation {
            table: self.table,
            column: self.column,
            row_id,
            tenant,
        }
    }

    /// `table.column`, as operators name it.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }

    /// Refuses identifiers that are not plain SQL names, so building SQL from them is safe.
    pub(crate) fn checked(&self) -> Result<Sql, SecretsError> {
        for name in [self.table, self.column, self.id_column]
            .into_iter()
            .chain(self.tenant_column)
        {
            let plain = name
                .bytes()
                .next()
                .is_some_and(|first| first.is_ascii_lowercase() || first == b'_')
                && name.len() <= 63
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
            if !plain {
                return Err(SecretsError::InvalidIdentifier(name));
            }
        }
        Ok(Sql {
            table: format!("\"{}\"", self.table),
            column: format!("\"{}\"", self.column),
            id: format!("\"{}\"", self.id_column),
            tenant: self.tenant_column.map_or_else(
                || "NULL::uuid".to_string(),
                |tenant| format!("\"{tenant}\""),
            ),
        })
    }

    /// Reads row `row_id`'s secret in the caller's transaction, migrating it in place when
    /// it is a legacy plaintext or under a non-current key: the new envelope is written back
    /// (only if the row still holds what was read) before this returns, so the caller's
    /// transaction commits the migration with whatever it does next. The associated data
    /// uses the tenant stored in the row. `None` when the row is absent (or invisible under
    /// row-level security) or its value is NULL.
    ///
    /// # Errors
    /// What [`Keyring::decrypt`] and [`seal`] refuse, [`SecretsError::Changed`] when the row
    /// changed twice under the write-back, and database failures.
    pub fn read(
        &self,
        conn: &mut PgConnection,
        keyring: &Keyring,
        row_id: Uuid,
    ) -> Result<Option<SecretBytes>, SecretsError> {
        let sql = self.checked()?;
        // A concurrent reader may migrate the same row first; the second attempt reads its
        // committed envelope, which is current.
        for _ in 0..2 {
            let row: Option<StoredRow> = diesel::sql_query(format!(
                "SELECT {id} AS id, {tenant} AS tenant, {column} AS value FROM {table} \
                 WHERE {id} = $1",
                id = sql.id,
                tenant = sql.tenant,
                column = sql.column,
                table = sql.table,
            ))
            .bind::<SqlUuid, _>(row_id)
            .get_result(conn)
            .optional()?;
            let Some(StoredRow {
                tenant,
                value: Some(value),
                ..
            }) = row
            else {
                return Ok(None);
            };
            let opened = open(
                conn,
                keyring,
                &value,
                &self.location(row_id, tenant),
                self.legacy,
            )?;
            let Some(rewrite) = opened.rewrite else {
                return Ok(Some(opened.plaintext));
            };
            if sql.replace(conn, row_id, &value, &rewrite)? {
                return Ok(Some(opened.plaintext));
            }
        }
        Err(SecretsError::Changed {
            table: self.table,
            column: self.column,
        })
    }
}

/// A registered column's identifiers, quoted for SQL.
pub(crate) struct Sql {
    pub(crate) table: String,
    pub(crate) column: String,
    pub(crate) id: String,
    pub(crate) tenant: String,
}

impl Sql {
    /// Writes `envelope` over row `row_id`'s value if it still is `old`; whether it was.
    pub(crate) fn replace(
        &self,
        conn: &mut PgConnection,
        row_id: Uuid,
        old: &str,
        envelope: &Envelope,
    ) -> Result<bool, SecretsError> {
        let updated = diesel::sql_query(format!(
            "UPDATE {table} SET {column} = $1 WHERE {id} = $2 AND {column} = $3",
            table = self.table,
            column = self.column,
            id = self.id,
        ))
        .bind::<Text, _>(envelope.as_str())
        .bind::<SqlUuid, _>(row_id)
        .bind::<Text, _>(old)
        .execute(conn)?;
        Ok(updated == 1)
    }
}

/// A row of a registered column, read by [`SecretColumn::read`] and rotation.
#[derive(QueryableByName)]
pub(crate) struct StoredRow {
    #[diesel(sql_type = SqlUuid)]
    pub(crate) id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub(crate) tenant: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) value: Option<String>,
}

/// A secret read with [`open`]: its plaintext, and the envelope to write back in the same
/// transaction when it was not stored under the current key.
#[derive(Debug)]
pub struct Opened {
    /// The plaintext.
    pub plaintext: SecretBytes,
    /// The re-encrypted envelope (already counted) when the stored value was a legacy
    /// plaintext or under another key version; `None` when it is current.
    pub rewrite: Option<Envelope>,
}

/// Encrypts `plaintext` for `location` under the current key and counts the encryption in
/// the caller's transaction.
///
/// # Errors
/// [`SecretsError::BudgetExhausted`] when the key has no budget left (the transaction should
/// roll back), encryption failures and database failures.
pub fn seal(
    conn: &mut PgConnection,
    keyring: &Keyring,
    plaintext: &[u8],
    location: &SecretLocation,
) -> Result<Envelope, SecretsError> {
    let envelope = keyring.encrypt(plaintext, location)?;
    record_encryptions(conn, envelope.version(), 1)?;
    Ok(envelope)
}

/// Decrypts a value read at `location` and, when it is a legacy plaintext or under another
/// key version, re-encrypts it under the current key (counted) for the caller to write back
/// in the same transaction before it proceeds.
///
/// # Errors
/// What [`Keyring::decrypt`] and [`seal`] refuse.
pub fn open(
    conn: &mut PgConnection,
    keyring: &Keyring,
    stored: &str,
    location: &SecretLocation,
    legacy: LegacyPlaintext,
) -> Result<Opened, SecretsError> {
    let decrypted = keyring.decrypt(stored, location, legacy)?;
    let rewrite = match decrypted.found {
        Found::Current => None,
        Found::Stale(version) => {
            tracing::info!(
                table = location.table,
                column = location.column,
                row = %location.row_id,
                from_version = version,
                to_version = keyring.current_version(),
                "migrating a secret to the current key"
            );
            Some(seal(conn, keyring, decrypted.plaintext.expose(), location)?)
        }
        Found::Plaintext => {
            tracing::warn!(
                table = location.table,
                column = location.column,
                row = %location.row_id,
                "encrypting a legacy plaintext secret"
            );
            Some(seal(conn, keyring, decrypted.plaintext.expose(), location)?)
        }
    };
    Ok(Opened {
        plaintext: decrypted.plaintext,
        rewrite,
    })
}

/// Adds `count` encryptions to key `version`'s counter and returns its new total, warning
/// from [`WARN_AT`] on.
///
/// # Errors
/// [`SecretsError::BudgetExhausted`] when the total would pass [`NONCE_BUDGET`]; database
/// failures.
pub fn record_encryptions(
    conn: &mut PgConnection,
    version: u32,
    count: u64,
) -> Result<u64, SecretsError> {
    if count == 0 {
        return Ok(0);
    }
    let as_sql = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    let version_sql = i32::try_from(version).map_err(|_| SecretsError::UnknownVersion(version))?;
    let total: i64 = diesel::insert_into(secret_key_usage::table)
        .values((
            secret_key_usage::version.eq(version_sql),
            secret_key_usage::encryptions.eq(as_sql(count)),
        ))
        .on_conflict(secret_key_usage::version)
        .do_update()
        .set(
            secret_key_usage::encryptions
                .eq(secret_key_usage::encryptions + excluded(secret_key_usage::encryptions)),
        )
        .returning(secret_key_usage::encryptions)
        .get_result(conn)?;
    let total = u64::try_from(total).unwrap_or(0);
    if total > NONCE_BUDGET {
        tracing::error!(
            version,
            encryptions = total,
            budget = NONCE_BUDGET,
            "a secret key version has no nonce budget left: add a key version and rotate"
        );
        return Err(SecretsError::BudgetExhausted {
            version,
            budget: NONCE_BUDGET,
        });
    }
    let before = total - count;
    if total >= WARN_AT && (before < WARN_AT || before / WARN_EVERY != total / WARN_EVERY) {
        tracing::warn!(
            version,
            encryptions = total,
            budget = NONCE_BUDGET,
            "a secret key version is past half its nonce budget: add a key version and rotate"
        );
    }
    Ok(total)
}

/// How far a key version is into its nonce budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetStatus {
    /// Under [`WARN_AT`].
    Ok,
    /// At or past [`WARN_AT`]: rotate soon.
    Warn,
    /// At [`NONCE_BUDGET`]: the key encrypts nothing more.
    Exhausted,
}

impl BudgetStatus {
    /// The status of a key that made `encryptions` encryptions.
    pub fn of(encryptions: u64) -> Self {
        if encryptions >= NONCE_BUDGET {
            BudgetStatus::Exhausted
        } else if encryptions >= WARN_AT {
            BudgetStatus::Warn
        } else {
            BudgetStatus::Ok
        }
    }
}

/// One key version's encryption count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUsage {
    /// The key version.
    pub version: u32,
    /// Encryptions made under it.
    pub encryptions: u64,
    /// [`NONCE_BUDGET`].
    pub budget: u64,
    /// [`WARN_AT`].
    pub warn_at: u64,
    /// Where it stands.
    pub status: BudgetStatus,
}

impl KeyUsage {
    fn new(version: u32, encryptions: u64) -> Self {
        Self {
            version,
            encryptions,
            budget: NONCE_BUDGET,
            warn_at: WARN_AT,
            status: BudgetStatus::of(encryptions),
        }
    }
}

/// Every key version's counter, ascending by version.
///
/// # Errors
/// Database failures.
pub fn usage(conn: &mut PgConnection) -> Result<Vec<KeyUsage>, SecretsError> {
    let rows: Vec<(i32, i64)> = secret_key_usage::table
        .select((secret_key_usage::version, secret_key_usage::encryptions))
        .order(secret_key_usage::version)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(version, encryptions)| {
            KeyUsage::new(
                u32::try_from(version).unwrap_or(0),
                u64::try_from(encryptions).unwrap_or(0),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_status_follows_the_thresholds() {
        assert_eq!(BudgetStatus::of(0), BudgetStatus::Ok);
        assert_eq!(BudgetStatus::of(WARN_AT - 1), BudgetStatus::Ok);
        assert_eq!(BudgetStatus::of(WARN_AT), BudgetStatus::Warn);
        assert_eq!(BudgetStatus::of(NONCE_BUDGET - 1), BudgetStatus::Warn);
        assert_eq!(BudgetStatus::of(NONCE_BUDGET), BudgetStatus::Exhausted);
    }

    #[test]
    fn only_plain_identifiers_make_sql() {
        let good = SecretColumn {
            table: "clone_training_pools",
            column: "deposit_key",
            id_column: "id",
            tenant_column: Some("owner_user_id"),
            legacy: LegacyPlaintext::Refuse,
        };
        assert!(good.checked().is_ok());
        for bad in ["", "Pools", "pools; DROP TABLE x", "1pools", "p\"q"] {
            let column = SecretColumn { table: bad, ..good };
            assert!(matches!(
                column.checked(),
                Err(SecretsError::InvalidIdentifier(_))
            ));
        }
    }
}
