//! The only module of prop-engine that touches its tables: the queries of every path here,
//! the order path's fixed, prepared statements in [`execution`].

mod execution;
mod mtm;

pub(crate) use execution::{
    AccountWrite, ContextRequest, EntryWrite, EventWrite, PositionWrite, RoundWrite,
    lock_accounts_with_limits, order_contexts, write_round,
};
pub(crate) use mtm::{lock_due_accounts, write_marks};

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    prop_account_balances as balances, prop_account_limits as limits, prop_accounts as accounts,
    prop_admin_audit_log as audit, prop_equity_snapshots as snapshots, prop_fills as fills,
    prop_ledger_entries as entries, prop_ledger_events as events, prop_orders as orders,
    prop_positions as positions,
};
use clones_kernel::PageRequest;
use diesel::dsl::sum;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel::{PgConnection, QueryResult};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::ledger::LedgerEvent;
use crate::models::{
    AccountRow, AuditRow, BalanceRow, EquitySnapshotRow, FillRow, LedgerEntryRow, LedgerEventRow,
    LimitsRow, OrderRow, PositionRow,
};

/// Inserts the account unless its id exists; whether it was inserted.
pub(crate) fn insert_account(conn: &mut PgConnection, row: &AccountRow) -> QueryResult<bool> {
    diesel::insert_into(accounts::table)
        .values(row)
        .on_conflict(accounts::id)
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

pub(crate) fn insert_limits(conn: &mut PgConnection, row: &LimitsRow) -> QueryResult<()> {
    diesel::insert_into(limits::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn limits_of(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> QueryResult<Option<LimitsRow>> {
    limits::table
        .find(account_id)
        .select(LimitsRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn limits_of_accounts(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
) -> QueryResult<Vec<LimitsRow>> {
    limits::table
        .filter(limits::account_id.eq_any(account_ids))
        .select(LimitsRow::as_select())
        .load(conn)
}

pub(crate) fn find_account(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// The account, locked for the rest of the transaction: orders on one account run one at a time.
pub(crate) fn lock_account(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub(crate) fn accounts_of(conn: &mut PgConnection, owner: Uuid) -> QueryResult<Vec<AccountRow>> {
    accounts::table
        .filter(accounts::owner_user_id.eq(owner))
        .order((accounts::created_at.desc(), accounts::id.desc()))
        .select(AccountRow::as_select())
        .load(conn)
}

pub(crate) fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    halted_reason: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::status.eq(status),
            accounts::halted_reason.eq(halted_reason),
            accounts::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn order_by_action(
    conn: &mut PgConnection,
    account_id: Uuid,
    action: &str,
) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::account_id.eq(account_id))
        .filter(orders::decision_action_id.eq(action))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn orders_of(
    conn: &mut PgConnection,
    account_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<OrderRow>> {
    let mut query = orders::table
        .filter(orders::account_id.eq(account_id))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(orders::created_at, orders::id, *key));
    }
    query
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(page.fetch_limit())
        .select(OrderRow::as_select())
        .load(conn)
}

pub(crate) fn fills_of_order(conn: &mut PgConnection, order_id: Uuid) -> QueryResult<Vec<FillRow>> {
    fills::table
        .filter(fills::order_id.eq(order_id))
        .order(fills::seq.asc())
        .select(FillRow::as_select())
        .load(conn)
}

pub(crate) fn fills_of_orders(
    conn: &mut PgConnection,
    order_ids: &[Uuid],
) -> QueryResult<Vec<FillRow>> {
    fills::table
        .filter(fills::order_id.eq_any(order_ids))
        .order((fills::order_id.asc(), fills::seq.asc()))
        .select(FillRow::as_select())
        .load(conn)
}

pub(crate) fn fills_of(
    conn: &mut PgConnection,
    account_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<FillRow>> {
    let mut query = fills::table
        .filter(fills::account_id.eq(account_id))
        .into_boxed();
    // All fills of one order share its timestamp, so the id breaks the tie.
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(fills::created_at, fills::id, *key));
    }
    query
        .order((fills::created_at.desc(), fills::id.desc()))
        .limit(page.fetch_limit())
        .select(FillRow::as_select())
        .load(conn)
}

pub(crate) fn fills_after(
    conn: &mut PgConnection,
    account_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<FillRow>> {
    let mut query = fills::table
        .filter(fills::account_id.eq(account_id))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::newer_than(fills::created_at, fills::id, *key));
    }
    query
        .order((fills::created_at.asc(), fills::id.asc()))
        .limit(page.fetch_limit())
        .select(FillRow::as_select())
        .load(conn)
}

pub(crate) fn positions_of(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> QueryResult<Vec<PositionRow>> {
    positions::table
        .filter(positions::account_id.eq(account_id))
        .order(positions::instrument.asc())
        .select(PositionRow::as_select())
        .load(conn)
}

pub(crate) fn positions_of_accounts(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
) -> QueryResult<Vec<PositionRow>> {
    positions::table
        .filter(positions::account_id.eq_any(account_ids))
        .filter(positions::size.ne(Decimal::ZERO))
        .select(PositionRow::as_select())
        .load(conn)
}

pub(crate) fn upsert_position(conn: &mut PgConnection, row: &PositionRow) -> QueryResult<()> {
    diesel::insert_into(positions::table)
        .values(row)
        .on_conflict((positions::account_id, positions::instrument))
        .do_update()
        .set(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn balances_of(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> QueryResult<Vec<BalanceRow>> {
    balances::table
        .filter(balances::account_id.eq(account_id))
        .order(balances::ledger_account.asc())
        .select(BalanceRow::as_select())
        .load(conn)
}

pub(crate) fn cash_of_accounts(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Decimal)>> {
    balances::table
        .filter(balances::account_id.eq_any(account_ids))
        .filter(balances::ledger_account.eq("cash"))
        .select((balances::account_id, balances::balance))
        .load(conn)
}

/// Sum of entries per ledger account, straight from the ledger.
pub(crate) fn derived_balances(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> QueryResult<Vec<(String, Option<Decimal>)>> {
    entries::table
        .filter(entries::account_id.eq(account_id))
        .group_by(entries::ledger_account)
        .select((entries::ledger_account, sum(entries::amount)))
        .order(entries::ledger_account.asc())
        .load(conn)
}

/// Signed sum of fill sizes per instrument (buys add, sells subtract), straight from the
/// fills.
pub(crate) fn derived_positions(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> QueryResult<Vec<(String, Option<Decimal>)>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Nullable, Numeric};
    fills::table
        .filter(fills::account_id.eq(account_id))
        .group_by(fills::instrument)
        .select((
            fills::instrument,
            sql::<Nullable<Numeric>>("sum(CASE WHEN side = 'buy' THEN size ELSE -size END)"),
        ))
        .order(fills::instrument.asc())
        .load(conn)
}

/// Writes a ledger event, its entries and the balance changes they make.
pub(crate) fn record_event(
    conn: &mut PgConnection,
    account_id: Uuid,
    owner: Uuid,
    event: &LedgerEvent,
    order_id: Option<Uuid>,
    reference: Option<String>,
    at: DateTime<Utc>,
) -> QueryResult<Uuid> {
    let event_id = Uuid::new_v4();
    diesel::insert_into(events::table)
        .values(&LedgerEventRow {
            id: event_id,
            account_id,
            owner_user_id: owner,
            kind: event.kind().as_str().to_string(),
            order_id,
            reference,
            created_at: at,
        })
        .execute(conn)?;
    let rows: Vec<LedgerEntryRow> = event
        .entries()
        .iter()
        .enumerate()
        .map(|(seq, entry)| LedgerEntryRow {
            event_id,
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            account_id,
            owner_user_id: owner,
            ledger_account: entry.account.as_str().to_string(),
            amount: entry.amount,
        })
        .collect();
    diesel::insert_into(entries::table)
        .values(&rows)
        .execute(conn)?;
    for entry in event.entries() {
        diesel::insert_into(balances::table)
            .values(&BalanceRow {
                account_id,
                ledger_account: entry.account.as_str().to_string(),
                owner_user_id: owner,
                balance: entry.amount,
                updated_at: at,
            })
            .on_conflict((balances::account_id, balances::ledger_account))
            .do_update()
            .set((
                balances::balance.eq(balances::balance + excluded(balances::balance)),
                balances::updated_at.eq(excluded(balances::updated_at)),
            ))
            .execute(conn)?;
    }
    Ok(event_id)
}

pub(crate) fn ledger_events_of(
    conn: &mut PgConnection,
    account_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<LedgerEventRow>> {
    let mut query = events::table
        .filter(events::account_id.eq(account_id))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(events::created_at, events::id, *key));
    }
    query
        .order((events::created_at.desc(), events::id.desc()))
        .limit(page.fetch_limit())
        .select(LedgerEventRow::as_select())
        .load(conn)
}

pub(crate) fn entries_of_events(
    conn: &mut PgConnection,
    event_ids: &[Uuid],
) -> QueryResult<Vec<LedgerEntryRow>> {
    entries::table
        .filter(entries::event_id.eq_any(event_ids))
        .order((entries::event_id.asc(), entries::seq.asc()))
        .select(LedgerEntryRow::as_select())
        .load(conn)
}

pub(crate) fn snapshots_of(
    conn: &mut PgConnection,
    account_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<EquitySnapshotRow>> {
    let mut query = snapshots::table
        .filter(snapshots::account_id.eq(account_id))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(snapshots::at, snapshots::id, *key));
    }
    query
        .order((snapshots::at.desc(), snapshots::id.desc()))
        .limit(page.fetch_limit())
        .select(EquitySnapshotRow::as_select())
        .load(conn)
}

pub(crate) fn snapshots_after(
    conn: &mut PgConnection,
    account_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<EquitySnapshotRow>> {
    let mut query = snapshots::table
        .filter(snapshots::account_id.eq(account_id))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::newer_than(snapshots::at, snapshots::id, *key));
    }
    query
        .order((snapshots::at.asc(), snapshots::id.asc()))
        .limit(page.fetch_limit())
        .select(EquitySnapshotRow::as_select())
        .load(conn)
}

pub(crate) fn latest_snapshot(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> QueryResult<Option<EquitySnapshotRow>> {
    snapshots::table
        .filter(snapshots::account_id.eq(account_id))
        .order(snapshots::at.desc())
        .select(EquitySnapshotRow::as_select())
        .first(conn)
        .optional()
}

/// The newest snapshot of each of `account_ids` that has one: one index probe per account.
pub(crate) fn latest_snapshots(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
) -> QueryResult<Vec<EquitySnapshotRow>> {
    diesel::sql_query(
        "SELECT s.* FROM unnest($1::uuid[]) AS a(id) \
         CROSS JOIN LATERAL (SELECT * FROM prop_equity_snapshots \
                             WHERE account_id = a.id ORDER BY at DESC LIMIT 1) AS s",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(account_ids)
    .load(conn)
}

/// Accounts by id (those visible in the transaction's scope).
pub(crate) fn accounts_by_ids(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
) -> QueryResult<Vec<AccountRow>> {
    accounts::table
        .filter(accounts::id.eq_any(account_ids))
        .select(AccountRow::as_select())
        .load(conn)
}

pub(crate) fn insert_audit(conn: &mut PgConnection, row: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(audit::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn audit_log(
    conn: &mut PgConnection,
    account_id: Option<Uuid>,
    page: &PageRequest,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit::table.into_boxed();
    if let Some(account_id) = account_id {
        query = query.filter(audit::account_id.eq(account_id));
    }
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(audit::created_at, audit::id, *key));
    }
    query
        .order((audit::created_at.desc(), audit::id.desc()))
        .limit(page.fetch_limit())
        .select(AuditRow::as_select())
        .load(conn)
}

/// Accounts that are not closed and hold an open, unsettled position, by id.
pub(crate) fn accounts_with_open_positions(
    conn: &mut PgConnection,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    positions::table
        .inner_join(accounts::table.on(accounts::id.eq(positions::account_id)))
        .filter(accounts::status.ne("closed"))
        .filter(positions::size.ne(Decimal::ZERO))
        .filter(positions::settled_at.is_null())
        .select(positions::account_id)
        .distinct()
        .order(positions::account_id.asc())
        .limit(limit)
        .load(conn)
}

/// Profitable fills (`realized_pnl > 0`, so they closed or reduced a position) of Arena
/// accounts held for a clone, created after the page's cursor and at or before `until`,
/// oldest first by (creation time, id), with each account's clone and quote currency.
pub(crate) fn arena_profits_after(
    conn: &mut PgConnection,
    page: &PageRequest,
    until: DateTime<Utc>,
) -> QueryResult<Vec<(FillRow, Option<Uuid>, String)>> {
    let mut query = fills::table
        .inner_join(accounts::table.on(accounts::id.eq(fills::account_id)))
        .filter(accounts::context.eq("arena"))
        .filter(accounts::clone_id.is_not_null())
        .filter(fills::realized_pnl.gt(Decimal::ZERO))
        .filter(fills::created_at.le(until))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::newer_than(fills::created_at, fills::id, *key));
    }
    query
        .order((fills::created_at.asc(), fills::id.asc()))
        .limit(page.fetch_limit())
        .select((
            FillRow::as_select(),
            accounts::clone_id,
            accounts::quote_currency,
        ))
        .load(conn)
}
