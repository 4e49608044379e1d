//! The embedded migrations and the explicit step that applies them.
//!
//! Migrations run as the schema owner (a separate URL from the application's role) and only
//! when an operator or the dev script asks (`clonectl migrate`). Everything else only checks
//! whether the schema is current.

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::DbError;

/// Every migration in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// A fingerprint of the migration folder's contents; changes whenever any migration does.
pub const FINGERPRINT: &str = env!("CLONES_MIGRATIONS_FINGERPRINT");

/// Whether a database's schema matches the migrations this binary carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Versions of embedded migrations the database has applied.
    pub applied: Vec<String>,
    /// Versions of embedded migrations the database has not applied yet.
    pub pending: Vec<String>,
}

impl MigrationStatus {
    /// True when nothing is pending.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The version strings of the embedded migrations, oldest first.
///
/// # Errors
/// Fails only if the embedded set is corrupt.
pub fn embedded_versions() -> Result<Vec<String>, DbError> {
    let migrations = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|error| DbError::Migration(error.to_string()))?;
    let mut versions: Vec<String> = migrations
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect();
    versions.sort();
    Ok(versions)
}

/// Applies every pending migration over a direct connection to `owner_url`, returning the
/// versions applied.
///
/// # Errors
/// [`DbError::Connect`] or [`DbError::Migration`]; a failing migration is rolled back.
pub fn run_pending(owner_url: &str) -> Result<Vec<String>, DbError> {
    let mut conn = PgConnection::establish(owner_url)?;
    run_pending_on(&mut conn)
}

/// Applies every pending migration on an open owner connection.
///
/// # Errors
/// [`DbError::Migration`] when a migration fails.
pub fn run_pending_on(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|error| DbError::Migration(error.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration, newest first (used to test that `down.sql` works).
///
/// # Errors
/// [`DbError::Migration`] when a down migration fails.
pub fn revert_all_on(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let reverted = conn
        .revert_all_migrations(MIGRATIONS)
        .map_err(|error| DbError::Migration(error.to_string()))?;
    Ok(reverted.iter().map(ToString::to_string).collect())
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Reads which embedded migrations the database has applied. Works for the application role,
/// which may read but not create the migrations table.
///
/// # Errors
/// [`DbError::Query`] when the database cannot be read (including a never-migrated database).
pub fn status_on(conn: &mut PgConnection) -> Result<MigrationStatus, DbError> {
    let rows: Vec<AppliedVersion> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(conn)?;
    let applied_in_db: std::collections::HashSet<String> =
        rows.into_iter().map(|row| row.version).collect();
    let (applied, pending) = embedded_versions()?
        .into_iter()
        .partition(|version| applied_in_db.contains(version));
    Ok(MigrationStatus { applied, pending })
}
