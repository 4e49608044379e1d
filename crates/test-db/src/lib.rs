//! Real PostgreSQL databases for tests: one fresh database per test, copied from a template.
//!
//! The template is migrated once per schema version (its name carries the migrations'
//! fingerprint) under an advisory lock, so parallel test processes neither race nor repeat the
//! work. Each [`TestDb`] is `CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY`, connected as the
//! application's non-owner role so row-level security applies exactly as in production, and
//! dropped when the value is dropped.
//!
//! The cluster comes from `TEST_DATABASE_URL` (an owner URL to its `postgres` database);
//! `scripts/pg start test` provides one. This crate is for tests only and must never be a
//! dependency of a binary.

use std::time::Duration;

use clones_db::diesel::{self, Connection, PgConnection, RunQueryDsl};
use clones_db::{Db, PoolSettings, migrations};
use clones_kernel::Secret;

/// The default cluster started by `scripts/pg start test`.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:55433/postgres";
/// The login role the application connects as (member of `clones_app`, owns nothing).
pub const APP_ROLE: &str = "clones_api";

/// Why a test database could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum TestDbError {
    /// The admin URL is not a valid `postgres://` URL.
    #[error("invalid TEST_DATABASE_URL: {0}")]
    Url(String),
    /// The cluster could not be reached; is `scripts/pg start test` running?
    #[error("cannot connect to the test cluster at {url}: {source}")]
    Connect {
        /// The URL tried, without credentials.
        url: String,
        /// The driver's error.
        source: diesel::ConnectionError,
    },
    /// A statement on the cluster failed.
    #[error("test database setup failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Migrating the template failed.
    #[error(transparent)]
    Db(#[from] clones_db::DbError),
}

/// A database that exists for one test and is dropped with this value.
pub struct TestDb {
    name: String,
    admin_url: url::Url,
    owner_url: String,
    app_url: String,
    db: Db,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl TestDb {
    /// A fresh, fully migrated database.
    ///
    /// # Errors
    /// [`TestDbError`] when the cluster is unreachable or setup fails.
    pub fn new() -> Result<Self, TestDbError> {
        let admin_url = admin_url()?;
        let template = ensure_template(&admin_url)?;
        Self::create(admin_url, Some(&template))
    }

    /// A fresh database with no migrations applied (for testing the migrations themselves).
    ///
    /// # Errors
    /// [`TestDbError`] when the cluster is unreachable or setup fails.
    pub fn empty() -> Result<Self, TestDbError> {
        let admin_url = admin_url()?;
        let mut admin = connect(&admin_url)?;
        ensure_roles(&mut admin)?;
        Self::create(admin_url, None)
    }

    fn create(admin_url: url::Url, template: Option<&str>) -> Result<Self, TestDbError> {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(&admin_url)?;
        let source = template.unwrap_or("template0");
        diesel::sql_query(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{source}\" STRATEGY FILE_COPY"
        ))
        .execute(&mut admin)?;
        let owner_url = with_database(&admin_url, &name, None);
        let app_url = with_database(&admin_url, &name, Some(APP_ROLE));
        let db = Db::connect(&PoolSettings {
            url: Secret::new(app_url.clone()),
            max_size: 8,
            checkout_timeout: Duration::from_secs(10),
        })?;
        Ok(Self {
            name,
            admin_url,
            owner_url,
            app_url,
            db,
        })
    }

    /// The pool, connected as the application's role.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL connecting as the schema owner (for migrations and assertions that must see
    /// every row).
    pub fn owner_url(&self) -> &str {
        &self.owner_url
    }

    /// A URL connecting as the application's role.
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// A direct connection as the schema owner.
    ///
    /// # Errors
    /// [`TestDbError::Connect`] when the database is unreachable.
    pub fn owner_connection(&self) -> Result<PgConnection, TestDbError> {
        establish(&self.owner_url)
    }

    /// A direct connection as the application's role.
    ///
    /// # Errors
    /// [`TestDbError::Connect`] when the database is unreachable.
    pub fn app_connection(&self) -> Result<PgConnection, TestDbError> {
        establish(&self.app_url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE ends the pool's connections; a failure only leaves a stray database behind in a
        // throwaway cluster, so it is reported and otherwise ignored.
        let outcome = connect(&self.admin_url).and_then(|mut admin| {
            diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .map_err(TestDbError::from)
        });
        if let Err(error) = outcome {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

fn admin_url() -> Result<url::Url, TestDbError> {
    let raw = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
    url::Url::parse(&raw).map_err(|error| TestDbError::Url(error.to_string()))
}

fn with_database(admin: &url::Url, database: &str, user: Option<&str>) -> String {
    let mut url = admin.clone();
    url.set_path(&format!("/{database}"));
    if let Some(user) = user {
        // Setting a username only fails for URLs without a host, which `connect` rejects first.
        let _ = url.set_username(user);
        let _ = url.set_password(None);
    }
    url.to_string()
}

fn establish(url: &str) -> Result<PgConnection, TestDbError> {
    PgConnection::establish(url).map_err(|source| TestDbError::Connect {
        url: redact(url),
        source,
    })
}

fn connect(admin: &url::Url) -> Result<PgConnection, TestDbError> {
    establish(admin.as_str())
}

fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => "<unparseable url>".into(),
    }
}

/// The application roles are cluster-wide; create them if this cluster lacks them.
fn ensure_roles(admin: &mut PgConnection) -> Result<(), TestDbError> {
    diesel::sql_query(
        "DO $$ BEGIN CREATE ROLE clones_app NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .execute(admin)?;
    diesel::sql_query(format!(
        "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN IN ROLE clones_app; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .execute(admin)?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct DatabaseRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    datistemplate: bool,
}

/// Creates and migrates the template for the current schema version unless a finished one
/// exists. A template is finished once it is marked `IS_TEMPLATE`; a half-built one from a
/// crashed run is rebuilt. Templates of other schema versions are dropped.
fn ensure_template(admin_url: &url::Url) -> Result<String, TestDbError> {
    let template = format!("clones_tmpl_{}", migrations::FINGERPRINT);
    let mut admin = connect(admin_url)?;
    diesel::sql_query("SELECT pg_advisory_lock(7130553)").execute(&mut admin)?;
    let outcome = build_template_locked(&mut admin, admin_url, &template);
    diesel::sql_query("SELECT pg_advisory_unlock(7130553)").execute(&mut admin)?;
    outcome.map(|()| template)
}

fn build_template_locked(
    admin: &mut PgConnection,
    admin_url: &url::Url,
    template: &str,
) -> Result<(), TestDbError> {
    let existing: Vec<DatabaseRow> = diesel::sql_query(
        "SELECT datname::text AS datname, datistemplate FROM pg_database \
         WHERE datname LIKE 'clones\\_tmpl\\_%'",
    )
    .load(admin)?;
    let mut finished = false;
    for row in existing {
        if row.datname == template && row.datistemplate {
            finished = true;
            continue;
        }
        if row.datistemplate {
            diesel::sql_query(format!(
                "ALTER DATABASE \"{}\" IS_TEMPLATE false",
                row.datname
            ))
            .execute(admin)?;
        }
        diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            row.datname
        ))
        .execute(admin)?;
    }
    if finished {
        return Ok(());
    }
    ensure_roles(admin)?;
    diesel::sql_query(format!("CREATE DATABASE \"{template}\" TEMPLATE template0"))
        .execute(admin)?;
    {
        let mut owner = establish(&with_database(admin_url, template, None))?;
        migrations::run_pending_on(&mut owner)?;
    }
    diesel::sql_query(format!("ALTER DATABASE \"{template}\" IS_TEMPLATE true")).execute(admin)?;
    Ok(())
}
