//! The connection pool and the helpers that run diesel work off the async threads.

use std::time::{Duration, Instant};

use clones_kernel::Secret;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::DbError;
use crate::metrics_names;

/// A pooled connection, usable wherever `&mut PgConnection` is expected.
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

/// How to build the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The application role's connection URL (a role that owns no table).
    pub url: Secret<String>,
    /// The most connections the pool opens.
    pub max_size: u32,
    /// How long a caller waits for a free connection before failing with
    /// [`DbError::PoolTimeout`].
    pub checkout_timeout: Duration,
}

/// The database handle every service holds: cheap to clone, shares one pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.pool.state();
        f.debug_struct("Db")
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish()
    }
}

/// Internal result of a transaction body: a database failure or the caller's own error.
enum Abort<E> {
    Database(diesel::result::Error),
    Caller(E),
}

impl<E> From<diesel::result::Error> for Abort<E> {
    fn from(error: diesel::result::Error) -> Self {
        Abort::Database(error)
    }
}

impl Db {
    /// Builds a pool. Connections open lazily, so this succeeds while the database is down;
    /// readiness is reported separately.
    ///
    /// # Errors
    /// Fails only when the settings are unusable (for example a zero pool size).
    pub fn connect(settings: &PoolSettings) -> Result<Self, DbError> {
        if settings.max_size == 0 {
            return Err(DbError::InvalidSettings(
                "pool size must be at least 1".into(),
            ));
        }
        let manager = ConnectionManager::<PgConnection>::new(settings.url.expose().as_str());
        let pool = Pool::builder()
            .max_size(settings.max_size)
            .min_idle(Some(0))
            .connection_timeout(settings.checkout_timeout)
            .test_on_check_out(false)
            .connection_customizer(Box::new(SessionSettings))
            .build_unchecked(manager);
        Ok(Self { pool })
    }

    /// Runs `work` with a pooled connection on the blocking thread pool, never on an async
    /// worker thread. Waiting for a connection is bounded by the checkout timeout.
    ///
    /// # Errors
    /// Returns the closure's error, or [`DbError`] converted into `E` when no connection could
    /// be had or the task was aborted.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = checkout(&pool)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::TaskAborted))?
    }

    /// Runs `work` inside one transaction on the blocking pool; any error rolls it back.
    ///
    /// # Errors
    /// As [`Db::run`]; database failures inside the transaction arrive as [`DbError::Query`].
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.run(move |conn| in_transaction(conn, Scope::Unscoped, work))
            .await
    }

    /// Runs `work` in a transaction acting for `user_id`: row-level security policies see that
    /// user through `app_current_user_id()`. The setting is transaction-local (`SET LOCAL`), so
    /// it can never leak to the next user of the pooled connection.
    ///
    /// # Errors
    /// As [`Db::transaction`].
    pub async fn tenant_transaction<T, E, F>(&self, user_id: Uuid, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.run(move |conn| in_transaction(conn, Scope::Tenant(user_id), work))
            .await
    }

    /// Runs `work` in a transaction that row-level security lets see every tenant's rows.
    ///
    /// This is the one sanctioned way across tenants (admin moderation queues, workers that
    /// serve every user, public listings). Each use names its `purpose`, which is logged as an
    /// audit line and visible to the database as `app.cross_tenant`.
    ///
    /// # Errors
    /// As [`Db::transaction`].
    pub async fn cross_tenant_transaction<T, E, F>(
        &self,
        purpose: &'static str,
        work: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        tracing::info!(audit = "cross_tenant", purpose, "cross-tenant transaction");
        self.run(move |conn| in_transaction(conn, Scope::CrossTenant(purpose), work))
            .await
    }

    /// Sets the pool gauges (`db_pool_connections` by state, `db_pool_max_connections`) from
    /// this pool's current state. Called when metrics are scraped, so the gauges are as fresh
    /// as the scrape.
    pub fn record_pool_metrics(&self) {
        let state = self.pool.state();
        let idle = state.idle_connections;
        let in_use = state.connections.saturating_sub(idle);
        metrics::gauge!(metrics_names::POOL_CONNECTIONS, "state" => "in_use")
            .set(f64::from(in_use));
        metrics::gauge!(metrics_names::POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
        metrics::gauge!(metrics_names::POOL_MAX_CONNECTIONS).set(f64::from(self.pool.max_size()));
    }

    /// Checks that a connection can be had and answers a trivial query.
    ///
    /// # Errors
    /// [`DbError`] when the database is unreachable.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok::<_, DbError>(())
        })
        .await
    }
}

/// Settings every pooled connection gets once, when it is opened.
///
/// `plan_cache_mode = force_generic_plan`: the services' prepared statements are keyed reads and
/// writes whose best plan does not depend on the values bound (the tenant is a setting, the rest
/// are keys and small id arrays). Left to its heuristic, PostgreSQL kept planning some of them
/// on every call (a millisecond for the competition facts' union of three reads, against a
/// tenth of that to execute it) because a custom plan's estimate on a small array looked
/// cheaper than the generic one's.
#[derive(Debug, Clone, Copy)]
struct SessionSettings;

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("SET plan_cache_mode = force_generic_plan")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Takes a connection from the pool: the one place connections are checked out, so the wait
/// is measured here (`db_pool_wait_seconds`, `db_pool_checkouts_waiting`,
/// `db_pool_timeouts_total`).
fn checkout(pool: &Pool<ConnectionManager<PgConnection>>) -> Result<PgConn, DbError> {
    let waiting = metrics::gauge!(metrics_names::POOL_CHECKOUTS_WAITING);
    waiting.increment(1.0);
    let started = Instant::now();
    let conn = pool.get();
    metrics::histogram!(metrics_names::POOL_WAIT_SECONDS).record(started.elapsed().as_secs_f64());
    waiting.decrement(1.0);
    conn.map_err(|_| {
        metrics::counter!(metrics_names::POOL_TIMEOUTS_TOTAL).increment(1);
        DbError::PoolTimeout
    })
}

/// Whom a transaction acts for, as row-level security sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// No tenant: user-owned tables under row-level security show nothing.
    Unscoped,
    /// One user (`app.user_id`).
    Tenant(Uuid),
    /// Every tenant, for the named purpose (`app.cross_tenant`); see
    /// [`Db::cross_tenant_transaction`].
    CrossTenant(&'static str),
}

impl Scope {
    /// The transaction-local setting row-level security reads for this scope, as (name,
    /// value); `None` when unscoped.
    fn setting(self) -> Option<(&'static str, String)> {
        match self {
            Scope::Unscoped => None,
            Scope::Tenant(user_id) => Some(("app.user_id", user_id.to_string())),
            Scope::CrossTenant(purpose) => Some(("app.cross_tenant", purpose.to_owned())),
        }
    }
}

/// Runs `work` in a transaction on `conn` with the given [`Scope`]. Exposed for code that
/// already holds a connection (a worker cycle, a test).
///
/// Outside a transaction, the scope is set in the same round trip as `BEGIN`; inside one, the
/// work runs in a savepoint with the scope set there.
///
/// # Errors
/// The closure's error, or the database error converted into `E`.
pub fn in_transaction<T, E, F>(conn: &mut PgConnection, scope: Scope, work: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let nested = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(|error| E::from(DbError::Query(error)))?
        .is_some();
    if nested {
        let outcome = conn.transaction::<T, Abort<E>, _>(|conn| {
            set_scope(conn, scope)?;
            work(conn).map_err(Abort::Caller)
        });
        return outcome.map_err(|abort| match abort {
            Abort::Database(error) => E::from(DbError::Query(error)),
            Abort::Caller(error) => error,
        });
    }
    let database = |error| E::from(DbError::Query(error));
    if let Err(error) = AnsiTransactionManager::begin_transaction_sql(conn, &begin_sql(scope)) {
        // The batch may have opened the transaction before failing; leave the connection
        // outside one.
        let _ = conn.batch_execute("ROLLBACK");
        return Err(database(error));
    }
    match work(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).map_err(database)?;
            Ok(value)
        }
        Err(error) => {
            // The caller's error wins; a rollback that fails leaves the connection marked
            // broken, so the pool discards it.
            let _ = AnsiTransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// `BEGIN` and the scope's transaction-local setting, as one batch. The values are a UUID's
/// text and a purpose written in the code, quoted all the same.
fn begin_sql(scope: Scope) -> String {
    match scope.setting() {
        None => "BEGIN".to_owned(),
        Some((name, value)) => {
            format!("BEGIN; SET LOCAL {name} = '{}'", value.replace('\'', "''"))
        }
    }
}

/// Applies `scope` to the rest of the current transaction (`SET LOCAL` semantics), for code
/// that opened the transaction itself.
///
/// # Errors
/// The database error.
pub fn set_scope(conn: &mut PgConnection, scope: Scope) -> Result<(), diesel::result::Error> {
    let Some((name, value)) = scope.setting() else {
        return Ok(());
    };
    diesel::sql_query("SELECT set_config($1, $2, true)")
        .bind::<Text, _>(name)
        .bind::<Text, _>(value)
        .execute(conn)
        .map(drop)
}
