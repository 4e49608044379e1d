//! Mark-to-market's statements: the due accounts locked, and one statement writing a round's
//! snapshots together with the accounts' marked time and raised peaks.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Numeric, Timestamptz, Uuid as SqlUuid};
use diesel::{PgConnection, QueryResult};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{AccountRow, EquitySnapshotRow};

/// Locks up to `limit` active and halted accounts not marked since `at` whose id follows
/// `after`, in id order. Accounts another transaction holds (a concurrent worker's round, an
/// order) are skipped, so concurrent workers take different accounts; an account marked at `at`
/// is not taken again. Walking by id rather than by last mark leaves `last_mtm_at` out of every
/// index, so stamping it is a heap-only update.
pub(crate) fn lock_due_accounts(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    after: Uuid,
    limit: i64,
) -> QueryResult<Vec<AccountRow>> {
    diesel::sql_query(
        "SELECT * FROM prop_accounts \
         WHERE id > $1 AND status <> 'closed' AND (last_mtm_at IS NULL OR last_mtm_at < $2) \
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
    )
    .bind::<SqlUuid, _>(after)
    .bind::<Timestamptz, _>(at)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Writes the snapshots (one per account, at `at`) and stamps their accounts marked at `at`
/// with their peak raised to the snapshot's, in one statement.
pub(crate) fn write_marks(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    rows: &[EquitySnapshotRow],
) -> QueryResult<()> {
    fn column<T>(rows: &[EquitySnapshotRow], get: impl Fn(&EquitySnapshotRow) -> T) -> Vec<T> {
        rows.iter().map(get).collect()
    }
    diesel::sql_query(
        "WITH s AS (INSERT INTO prop_equity_snapshots (id, account_id, owner_user_id, equity, \
         cash, unrealized_pnl, used_margin, gross_exposure, peak_equity, drawdown, at) \
         SELECT x.*, $1 FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS x \
         ON CONFLICT (account_id, at) DO NOTHING) \
         UPDATE prop_accounts AS a SET last_mtm_at = $1, \
         peak_equity = GREATEST(a.peak_equity, v.peak) \
         FROM unnest($3, $10) AS v(id, peak) WHERE a.id = v.id",
    )
    .bind::<Timestamptz, _>(at)
    .bind::<Array<SqlUuid>, _>(column(rows, |r| r.id))
    .bind::<Array<SqlUuid>, _>(column(rows, |r| r.account_id))
    .bind::<Array<SqlUuid>, _>(column(rows, |r| r.owner_user_id))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.equity))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.cash))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.unrealized_pnl))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.used_margin))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.gross_exposure))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.peak_equity))
    .bind::<Array<Numeric>, _>(column::<Decimal>(rows, |r| r.drawdown))
    .execute(conn)
    .map(drop)
}
