//! The database helpers against real PostgreSQL: migrations, tenant scoping under row-level
//! security, the append-only guard and the bounded pool checkout.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use clones_db::diesel::sql_types::{Bool, Text, Uuid as SqlUuid};
use clones_db::diesel::{self, Connection, QueryableByName, RunQueryDsl};
use clones_db::{Db, DbError, PoolSettings, Scope, in_transaction, migrations};
use clones_kernel::Secret;
use clones_test_db::TestDb;
use uuid::Uuid;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut diesel::PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// `pg_dump --schema-only` of a database: every table, column, constraint, index, function,
/// trigger, policy and grant, in a stable order.
fn schema_dump(database_url: &str) -> String {
    let pg_dump = pg_dump();
    let output = Command::new(&pg_dump)
        .args(["--schema-only", "--no-password", "--dbname", database_url])
        .output()
        .map_err(|error| {
            format!(
                "cannot run {}: {error}; the migration test compares pg_dump output, so it needs \
                 the PostgreSQL binaries (`pg_config --bindir`; scripts/pg start installs them)",
                pg_dump.display()
            )
        })
        .unwrap();
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    normalise_dump(&String::from_utf8(output.stdout).unwrap())
}

/// The pg_dump of the installed server version, from `pg_config --bindir`, else from PATH.
fn pg_dump() -> PathBuf {
    Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("pg_dump"))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("pg_dump"))
}

/// Drops what differs between two dumps of the same schema: the random key of the
/// `\restrict` / `\unrestrict` lines newer pg_dump versions print.
fn normalise_dump(dump: &str) -> String {
    dump.lines()
        .filter(|line| !line.starts_with("\\restrict ") && !line.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fails with the first differing line rather than two whole dumps.
fn assert_same_schema(expected: &str, actual: &str, what: &str) {
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    assert!(
        expected == actual,
        "{what}: the schemas differ from line {}:\nexpected: {:?}\nactual:   {:?}",
        line + 1,
        expected.lines().nth(line),
        actual.lines().nth(line),
    );
}

#[test]
fn migrations_go_up_down_and_up_again_to_the_same_schema() {
    let test_db = TestDb::empty().unwrap();
    let mut owner = test_db.owner_connection().unwrap();
    let before = schema_dump(test_db.owner_url());
    let embedded = migrations::embedded_versions().unwrap();
    let applied = migrations::run_pending_on(&mut owner).unwrap();
    assert_eq!(applied.len(), embedded.len());
    assert!(migrations::status_on(&mut owner).unwrap().is_current());
    let up = schema_dump(test_db.owner_url());
    for object in [
        "CREATE TABLE public.",
        "CREATE FUNCTION public.",
        "CREATE TRIGGER ",
        "CREATE POLICY ",
        "CREATE INDEX ",
        "CREATE UNIQUE INDEX ",
        "GRANT ",
    ] {
        assert!(up.contains(object), "the migrated schema has no {object:?}");
    }

    let reverted = migrations::revert_all_on(&mut owner).unwrap();
    assert_eq!(reverted.len(), embedded.len());
    assert_eq!(migrations::status_on(&mut owner).unwrap().pending, embedded);
    // Reverting everything leaves only diesel's own bookkeeping table behind.
    diesel::sql_query("DROP TABLE __diesel_schema_migrations")
        .execute(&mut owner)
        .unwrap();
    assert_same_schema(
        &before,
        &schema_dump(test_db.owner_url()),
        "after reverting every migration (vs a fresh database)",
    );

    migrations::run_pending_on(&mut owner).unwrap();
    assert_same_schema(
        &up,
        &schema_dump(test_db.owner_url()),
        "after up-down-up (vs after up)",
    );
}

fn insert_user(conn: &mut diesel::PgConnection, id: Uuid) {
    diesel::sql_query("INSERT INTO users (id, created_at) VALUES ($1, now())")
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .unwrap();
}

fn insert_event(
    conn: &mut diesel::PgConnection,
    user: Uuid,
) -> Result<usize, diesel::result::Error> {
    diesel::sql_query(
        "INSERT INTO security_events (id, user_id, kind, created_at) VALUES ($1, $2, 'sign_in', now())",
    )
    .bind::<SqlUuid, _>(Uuid::new_v4())
    .bind::<SqlUuid, _>(user)
    .execute(conn)
}

#[tokio::test]
async fn tenant_transactions_see_only_their_own_rows_and_cannot_write_others() {
    let test_db = TestDb::new().unwrap();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let mut owner = test_db.owner_connection().unwrap();
    insert_user(&mut owner, alice);
    insert_user(&mut owner, bob);
    let db = test_db.db();

    for user in [alice, alice, bob] {
        db.tenant_transaction(user, move |conn| {
            insert_event(conn, user).map_err(DbError::from)
        })
        .await
        .unwrap();
    }
    let visible = |user: Uuid| {
        db.tenant_transaction(user, |conn| {
            Ok::<_, DbError>(count(conn, "SELECT count(*) AS n FROM security_events"))
        })
    };
    assert_eq!(visible(alice).await.unwrap(), 2);
    assert_eq!(visible(bob).await.unwrap(), 1);

    // Writing a row for someone else is refused by the policy's WITH CHECK.
    let refused = db
        .tenant_transaction(alice, move |conn| {
            insert_event(conn, bob).map_err(DbError::from)
        })
        .await;
    assert!(matches!(refused, Err(DbError::Query(_))), "{refused:?}");

    // Outside a tenant transaction the application role sees nothing at all.
    let untenanted = db
        .run(|conn| Ok::<_, DbError>(count(conn, "SELECT count(*) AS n FROM security_events")))
        .await
        .unwrap();
    assert_eq!(untenanted, 0);

    // The setting is transaction-local: it does not leak into the next use of the connection.
    let leaked = db
        .run(|conn| Ok::<_, DbError>(setting(conn, "app.user_id")))
        .await
        .unwrap();
    assert_eq!(leaked, None);

    // The owner sees everything: row-level security binds the application role only.
    assert_eq!(
        count(&mut owner, "SELECT count(*) AS n FROM security_events"),
        3
    );
}

/// The text of the transaction-local setting `name`, if set.
fn setting(conn: &mut diesel::PgConnection, name: &str) -> Option<String> {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        value: Option<String>,
    }
    diesel::sql_query("SELECT current_setting($1, true) AS value")
        .bind::<Text, _>(name)
        .get_result::<Setting>(conn)
        .unwrap()
        .value
        .filter(|value| !value.is_empty())
}

#[tokio::test]
async fn scopes_hold_for_their_transaction_alone_whether_opened_or_nested() {
    let test_db = TestDb::new().unwrap();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let mut owner = test_db.owner_connection().unwrap();
    insert_user(&mut owner, alice);
    insert_user(&mut owner, bob);
    insert_event(&mut owner, alice).unwrap();
    let db = test_db.db();

    db.run(move |conn| {
        // Opened here: the scope comes with BEGIN and ends with COMMIT.
        let seen = in_transaction(conn, Scope::Tenant(alice), |conn| {
            Ok::<_, DbError>(count(conn, "SELECT count(*) AS n FROM security_events"))
        })?;
        assert_eq!(seen, 1);
        assert_eq!(setting(conn, "app.user_id"), None);

        // A failing body rolls back its writes and leaves the connection usable.
        let failed = in_transaction(conn, Scope::Tenant(alice), |conn| {
            insert_event(conn, alice)?;
            Err::<(), _>(DbError::InvalidSettings("stop".into()))
        });
        assert!(
            matches!(failed, Err(DbError::InvalidSettings(_))),
            "{failed:?}"
        );
        assert_eq!(
            count(&mut owner, "SELECT count(*) AS n FROM security_events"),
            1
        );

        // A purpose with a quote is set as written, not spliced into the statement.
        let purpose = in_transaction(conn, Scope::CrossTenant("it's audited"), |conn| {
            Ok::<_, DbError>(setting(conn, "app.cross_tenant"))
        })?;
        assert_eq!(purpose.as_deref(), Some("it's audited"));

        // Nested in an open transaction: the scope holds in its savepoint.
        conn.transaction(|conn| {
            let seen = in_transaction(conn, Scope::Tenant(bob), |conn| {
                Ok::<_, DbError>(count(conn, "SELECT count(*) AS n FROM security_events"))
            })?;
            assert_eq!(seen, 0);
            Ok::<_, DbError>(())
        })?;
        assert_eq!(setting(conn, "app.user_id"), None);
        Ok::<_, DbError>(())
    })
    .await
    .unwrap();
}

#[test]
fn the_application_role_cannot_bypass_row_level_security() {
    let test_db = TestDb::new().unwrap();
    let mut owner = test_db.owner_connection().unwrap();
    let user = Uuid::new_v4();
    insert_user(&mut owner, user);
    owner
        .transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::sql_query("SELECT set_config('app.user_id', $1, true)")
                .bind::<Text, _>(user.to_string())
                .execute(conn)?;
            insert_event(conn, user)
        })
        .unwrap();
    let mut app = test_db.app_connection().unwrap();

    #[derive(QueryableByName)]
    struct Flags {
        #[diesel(sql_type = Bool)]
        rolbypassrls: bool,
        #[diesel(sql_type = Bool)]
        rolsuper: bool,
        #[diesel(sql_type = Bool)]
        owns_table: bool,
    }
    let flags: Flags = diesel::sql_query(
        "SELECT rolbypassrls, rolsuper, \
         (SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'security_events') AS owns_table \
         FROM pg_roles WHERE rolname = current_user",
    )
    .get_result(&mut app)
    .unwrap();
    assert!(!flags.rolbypassrls && !flags.rolsuper && !flags.owns_table);

    // Turning row security off makes the query fail rather than bypass the policy.
    diesel::sql_query("SET row_security = off")
        .execute(&mut app)
        .unwrap();
    assert!(
        diesel::sql_query("SELECT count(*) AS n FROM security_events")
            .get_result::<Count>(&mut app)
            .is_err()
    );
    diesel::sql_query("RESET row_security")
        .execute(&mut app)
        .unwrap();
    // Only the owner may disable the policy.
    assert!(
        diesel::sql_query("ALTER TABLE security_events DISABLE ROW LEVEL SECURITY")
            .execute(&mut app)
            .is_err()
    );
    assert!(
        diesel::sql_query("ALTER TABLE security_events NO FORCE ROW LEVEL SECURITY")
            .execute(&mut app)
            .is_err()
    );
    // Setting the tenant to someone else reveals nothing of this user.
    diesel::sql_query("SELECT set_config('app.user_id', $1, false)")
        .bind::<Text, _>(Uuid::new_v4().to_string())
        .execute(&mut app)
        .unwrap();
    assert_eq!(
        count(&mut app, "SELECT count(*) AS n FROM security_events"),
        0
    );
}

#[test]
fn append_only_tables_reject_update_delete_and_truncate_even_for_the_owner() {
    let test_db = TestDb::new().unwrap();
    let mut owner = test_db.owner_connection().unwrap();
    let user = Uuid::new_v4();
    insert_user(&mut owner, user);
    owner
        .transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::sql_query("SELECT set_config('app.user_id', $1, true)")
                .bind::<Text, _>(user.to_string())
                .execute(conn)?;
            insert_event(conn, user)
        })
        .unwrap();
    for statement in [
        "UPDATE security_events SET kind = 'logout'",
        "DELETE FROM security_events",
        "TRUNCATE security_events",
    ] {
        let error = diesel::sql_query(statement)
            .execute(&mut owner)
            .unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert_eq!(
        count(&mut owner, "SELECT count(*) AS n FROM security_events"),
        1
    );
}

#[tokio::test]
async fn pool_checkout_waits_are_bounded() {
    let test_db = TestDb::new().unwrap();
    let db = Db::connect(&PoolSettings {
        url: Secret::new(test_db.app_url().to_string()),
        max_size: 1,
        checkout_timeout: Duration::from_millis(200),
    })
    .unwrap();
    let holder = db.clone();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let hold = tokio::spawn(async move {
        holder
            .run(move |_conn| {
                let _ = held_tx.send(());
                std::thread::sleep(Duration::from_millis(1_000));
                Ok::<_, DbError>(())
            })
            .await
    });
    held_rx.await.unwrap();
    let started = std::time::Instant::now();
    let outcome = db.run(|_conn| Ok::<_, DbError>(())).await;
    assert!(matches!(outcome, Err(DbError::PoolTimeout)), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
    hold.await.unwrap().unwrap();
    assert!(db.ping().await.is_ok());
    assert!(
        Db::connect(&PoolSettings {
            url: Secret::new(String::new()),
            max_size: 0,
            checkout_timeout: Duration::from_millis(1),
        })
        .is_err()
    );
}
