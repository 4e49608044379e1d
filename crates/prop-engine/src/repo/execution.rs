//! The order path's statements, set-based so one round of orders (one order, or a whole
//! decision cycle's) costs the same three statements: the accounts locked with their limits,
//! one read of everything else the gates need (balances, positions, the decision actions'
//! earlier orders, the rate windows), and one statement that writes every order of the round
//! with everything it did (fills, positions, ledger events with their entries, balances and
//! the accounts' order counts and day rolls).
//!
//! The read and the write are fixed SQL texts with a static query id, so diesel prepares each
//! once per connection and PostgreSQL plans it once; every variable-length part travels as
//! arrays expanded with `unnest`. Lookups keyed by pairs go through `LATERAL` subqueries with a
//! `LIMIT` (at most one order per action, at most the range's length per probe), which keeps
//! each a per-pair index probe: without it the planner flattens the subquery and may hash the
//! whole orders table. The read runs
//! after the lock, as its own statement, so under READ COMMITTED it sees every order committed
//! before the locks were granted.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use clones_db::schema::{prop_account_limits as limits, prop_accounts as accounts};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Bool, Date, Integer, Nullable, Numeric, Text, Timestamptz, Untyped,
    Uuid as SqlUuid,
};
use diesel::{PgConnection, QueryResult};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{AccountRow, FillRow, LimitsRow, OrderRow};

/// The accounts with their limits, locked for the rest of the transaction in id order (so two
/// rounds never wait on each other in a cycle): orders on one account run one at a time.
/// Accounts that do not exist (or that row-level security hides) are absent.
pub(crate) fn lock_accounts_with_limits(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(AccountRow, LimitsRow)>> {
    accounts::table
        .inner_join(limits::table.on(limits::account_id.eq(accounts::id)))
        .filter(accounts::id.eq_any(ids))
        .order(accounts::id.asc())
        .select((AccountRow::as_select(), LimitsRow::as_select()))
        .for_update()
        .load(conn)
}

/// What an order needs to know about its account besides the locked row.
#[derive(Debug, Default)]
pub(crate) struct OrderContext {
    /// The earlier orders of the round's decision actions, by action.
    pub existing: HashMap<String, Uuid>,
    /// The sequence numbers, among those asked for, of orders created after the window's start.
    pub recent: Vec<i64>,
    /// Tracked balances by ledger account.
    pub balances: Vec<(String, Decimal)>,
    /// Positions (instrument, signed size, average entry), flat ones included, by instrument.
    pub positions: Vec<(String, Decimal, Decimal)>,
}

/// What a round asks about its accounts.
pub(crate) struct ContextRequest<'a> {
    /// Every account of the round.
    pub accounts: &'a [Uuid],
    /// (account, decision action) pairs whose earlier order is wanted.
    pub actions: &'a [(Uuid, String)],
    /// (account, lowest, highest) ranges of sequence numbers to probe for the rate window.
    pub probes: &'a [(Uuid, i64, i64)],
    /// The rate window's start.
    pub since: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct ContextPart {
    #[diesel(sql_type = Text)]
    part: String,
    #[diesel(sql_type = SqlUuid)]
    account_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Numeric>)]
    a: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    b: Option<Decimal>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

struct ContextQuery {
    accounts: Vec<Uuid>,
    action_accounts: Vec<Uuid>,
    actions: Vec<String>,
    probe_accounts: Vec<Uuid>,
    probe_lows: Vec<i64>,
    probe_highs: Vec<i64>,
    since: DateTime<Utc>,
}

/// The statement cache's key for [`ContextQuery`]: its SQL never changes.
struct ContextQueryId;

impl QueryId for ContextQuery {
    type QueryId = ContextQueryId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for ContextQuery {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for ContextQuery {}

impl QueryFragment<Pg> for ContextQuery {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT 'b'::text AS part, account_id, ledger_account AS name, balance AS a, \
             NULL::numeric AS b, NULL::uuid AS id, NULL::bigint AS seq \
             FROM prop_account_balances WHERE account_id = ANY(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.accounts)?;
        out.push_sql(
            ") UNION ALL SELECT 'p', account_id, instrument, size, avg_entry, NULL, NULL \
             FROM prop_positions WHERE account_id = ANY(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.accounts)?;
        out.push_sql(
            ") UNION ALL SELECT 'o', q.account_id, q.action, NULL, NULL, o.id, NULL FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.action_accounts)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.actions)?;
        out.push_sql(
            ") AS q(account_id, action) CROSS JOIN LATERAL (SELECT id FROM prop_orders \
             WHERE prop_orders.account_id = q.account_id \
             AND prop_orders.decision_action_id = q.action LIMIT 1) AS o \
             UNION ALL SELECT 'n', r.account_id, NULL, NULL, NULL, NULL, o.account_seq \
             FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.probe_accounts)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.probe_lows)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.probe_highs)?;
        out.push_sql(
            ") AS r(account_id, lo, hi) CROSS JOIN LATERAL (SELECT account_seq FROM prop_orders \
             WHERE prop_orders.account_id = r.account_id \
             AND prop_orders.account_seq BETWEEN r.lo AND r.hi AND prop_orders.created_at > ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.since)?;
        out.push_sql(" LIMIT r.hi - r.lo + 1) AS o");
        Ok(())
    }
}

/// Balances, positions, the earlier orders of the asked actions and the probed sequence
/// numbers created after `since`, for every account of a round, in one statement. Call this
/// after locking the accounts.
pub(crate) fn order_contexts(
    conn: &mut PgConnection,
    request: &ContextRequest<'_>,
) -> QueryResult<HashMap<Uuid, OrderContext>> {
    let parts: Vec<ContextPart> = ContextQuery {
        accounts: request.accounts.to_vec(),
        action_accounts: request.actions.iter().map(|(id, _)| *id).collect(),
        actions: request
            .actions
            .iter()
            .map(|(_, action)| action.clone())
            .collect(),
        probe_accounts: request.probes.iter().map(|(id, _, _)| *id).collect(),
        probe_lows: request.probes.iter().map(|(_, low, _)| *low).collect(),
        probe_highs: request.probes.iter().map(|(_, _, high)| *high).collect(),
        since: request.since,
    }
    .load(conn)?;
    let mut contexts: HashMap<Uuid, OrderContext> = request
        .accounts
        .iter()
        .map(|id| (*id, OrderContext::default()))
        .collect();
    for part in parts {
        let context = contexts.entry(part.account_id).or_default();
        match part.part.as_str() {
            "b" => context
                .balances
                .push((part.name.unwrap_or_default(), part.a.unwrap_or_default())),
            "p" => context.positions.push((
                part.name.unwrap_or_default(),
                part.a.unwrap_or_default(),
                part.b.unwrap_or_default(),
            )),
            "o" => {
                if let (Some(action), Some(id)) = (part.name, part.id) {
                    context.existing.insert(action, id);
                }
            }
            _ => context.recent.extend(part.seq),
        }
    }
    for context in contexts.values_mut() {
        context.positions.sort_by(|x, y| x.0.cmp(&y.0));
    }
    Ok(contexts)
}

/// A position after a round's last order on it.
pub(crate) struct PositionWrite {
    pub account_id: Uuid,
    pub owner: Uuid,
    pub instrument: String,
    /// The instrument's kind (`perp`, `spot`, `outcome`).
    pub kind: &'static str,
    pub size: Decimal,
    pub avg_entry: Decimal,
    /// The PnL the round's orders realized, added to the position's cumulative figure.
    pub realized_pnl: Decimal,
    /// Whether an order of the round opened it from flat: a new life, so its opening time
    /// moves; its cumulative realized PnL, funding and last funding time stay.
    pub reopened: bool,
}

/// A trade's ledger event.
pub(crate) struct EventWrite {
    pub id: Uuid,
    pub account_id: Uuid,
    pub owner: Uuid,
    pub order_id: Uuid,
    pub instrument: String,
}

/// One ledger entry of an event.
pub(crate) struct EntryWrite {
    pub event_id: Uuid,
    pub seq: i32,
    pub account_id: Uuid,
    pub owner: Uuid,
    pub ledger_account: &'static str,
    pub amount: Decimal,
}

/// What a round changes on an account row.
pub(crate) struct AccountWrite {
    pub id: Uuid,
    /// The last recorded order's sequence number.
    pub orders_placed: i64,
    /// A new trading day: its anchor and starting equity.
    pub rolled: Option<(NaiveDate, Decimal)>,
}

/// Everything a round writes, all stamped `at`. Balance changes are one per (account, ledger
/// account): an upsert may touch a row only once per statement.
#[derive(Default)]
pub(crate) struct RoundWrite {
    pub orders: Vec<OrderRow>,
    pub fills: Vec<FillRow>,
    pub positions: Vec<PositionWrite>,
    pub events: Vec<EventWrite>,
    pub entries: Vec<EntryWrite>,
    pub balances: Vec<(Uuid, Uuid, &'static str, Decimal)>,
    pub accounts: Vec<AccountWrite>,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    inserted: i64,
}

/// [`RoundWrite`] as columns, in the statement's parameter order.
struct WriteQuery {
    at: DateTime<Utc>,
    order_ids: Vec<Uuid>,
    order_accounts: Vec<Uuid>,
    order_owners: Vec<Uuid>,
    order_actions: Vec<Option<String>>,
    order_instruments: Vec<String>,
    order_sides: Vec<String>,
    order_types: Vec<String>,
    order_sizes: Vec<Decimal>,
    order_limits: Vec<Option<Decimal>>,
    order_reduce_only: Vec<bool>,
    order_tifs: Vec<String>,
    order_statuses: Vec<String>,
    order_codes: Vec<Option<String>>,
    order_details: Vec<Option<String>>,
    order_seqs: Vec<i64>,
    account_ids: Vec<Uuid>,
    account_placed: Vec<i64>,
    account_anchors: Vec<Option<NaiveDate>>,
    account_equities: Vec<Option<Decimal>>,
    fill_ids: Vec<Uuid>,
    fill_orders: Vec<Uuid>,
    fill_accounts: Vec<Uuid>,
    fill_owners: Vec<Uuid>,
    fill_seqs: Vec<i32>,
    fill_instruments: Vec<String>,
    fill_sides: Vec<String>,
    fill_prices: Vec<Decimal>,
    fill_sizes: Vec<Decimal>,
    fill_fees: Vec<Decimal>,
    fill_pnls: Vec<Decimal>,
    fill_sources: Vec<String>,
    position_accounts: Vec<Uuid>,
    position_owners: Vec<Uuid>,
    position_instruments: Vec<String>,
    position_kinds: Vec<String>,
    position_sizes: Vec<Decimal>,
    position_entries: Vec<Decimal>,
    position_pnls: Vec<Decimal>,
    position_reopened: Vec<bool>,
    event_ids: Vec<Uuid>,
    event_accounts: Vec<Uuid>,
    event_owners: Vec<Uuid>,
    event_orders: Vec<Uuid>,
    event_instruments: Vec<String>,
    entry_events: Vec<Uuid>,
    entry_seqs: Vec<i32>,
    entry_accounts: Vec<Uuid>,
    entry_owners: Vec<Uuid>,
    entry_ledger_accounts: Vec<String>,
    entry_amounts: Vec<Decimal>,
    balance_accounts: Vec<Uuid>,
    balance_owners: Vec<Uuid>,
    balance_ledger_accounts: Vec<String>,
    balance_deltas: Vec<Decimal>,
}

impl WriteQuery {
    fn new(write: &RoundWrite, at: DateTime<Utc>) -> Self {
        let orders = &write.orders;
        let fills = &write.fills;
        let positions = &write.positions;
        let events = &write.events;
        let entries = &write.entries;
        let balances = &write.balances;
        let accounts = &write.accounts;
        Self {
            at,
            order_ids: orders.iter().map(|o| o.id).collect(),
            order_accounts: orders.iter().map(|o| o.account_id).collect(),
            order_owners: orders.iter().map(|o| o.owner_user_id).collect(),
            order_actions: orders
                .iter()
                .map(|o| o.decision_action_id.clone())
                .collect(),
            order_instruments: orders.iter().map(|o| o.instrument.clone()).collect(),
            order_sides: orders.iter().map(|o| o.side.clone()).collect(),
            order_types: orders.iter().map(|o| o.order_type.clone()).collect(),
            order_sizes: orders.iter().map(|o| o.size).collect(),
            order_limits: orders.iter().map(|o| o.limit_price).collect(),
            order_reduce_only: orders.iter().map(|o| o.reduce_only).collect(),
            order_tifs: orders.iter().map(|o| o.time_in_force.clone()).collect(),
            order_statuses: orders.iter().map(|o| o.status.clone()).collect(),
            order_codes: orders.iter().map(|o| o.rejection_code.clone()).collect(),
            order_details: orders.iter().map(|o| o.rejection_detail.clone()).collect(),
            order_seqs: orders.iter().map(|o| o.account_seq).collect(),
            account_ids: accounts.iter().map(|a| a.id).collect(),
            account_placed: accounts.iter().map(|a| a.orders_placed).collect(),
            account_anchors: accounts.iter().map(|a| a.rolled.map(|r| r.0)).collect(),
            account_equities: accounts.iter().map(|a| a.rolled.map(|r| r.1)).collect(),
            fill_ids: fills.iter().map(|f| f.id).collect(),
            fill_orders: fills.iter().map(|f| f.order_id).collect(),
            fill_accounts: fills.iter().map(|f| f.account_id).collect(),
            fill_owners: fills.iter().map(|f| f.owner_user_id).collect(),
            fill_seqs: fills.iter().map(|f| f.seq).collect(),
            fill_instruments: fills.iter().map(|f| f.instrument.clone()).collect(),
            fill_sides: fills.iter().map(|f| f.side.clone()).collect(),
            fill_prices: fills.iter().map(|f| f.price).collect(),
            fill_sizes: fills.iter().map(|f| f.size).collect(),
            fill_fees: fills.iter().map(|f| f.fee).collect(),
            fill_pnls: fills.iter().map(|f| f.realized_pnl).collect(),
            fill_sources: fills.iter().map(|f| f.source.clone()).collect(),
            position_accounts: positions.iter().map(|p| p.account_id).collect(),
            position_owners: positions.iter().map(|p| p.owner).collect(),
            position_instruments: positions.iter().map(|p| p.instrument.clone()).collect(),
            position_kinds: positions.iter().map(|p| p.kind.to_string()).collect(),
            position_sizes: positions.iter().map(|p| p.size).collect(),
            position_entries: positions.iter().map(|p| p.avg_entry).collect(),
            position_pnls: positions.iter().map(|p| p.realized_pnl).collect(),
            position_reopened: positions.iter().map(|p| p.reopened).collect(),
            event_ids: events.iter().map(|e| e.id).collect(),
            event_accounts: events.iter().map(|e| e.account_id).collect(),
            event_owners: events.iter().map(|e| e.owner).collect(),
            event_orders: events.iter().map(|e| e.order_id).collect(),
            event_instruments: events.iter().map(|e| e.instrument.clone()).collect(),
            entry_events: entries.iter().map(|e| e.event_id).collect(),
            entry_seqs: entries.iter().map(|e| e.seq).collect(),
            entry_accounts: entries.iter().map(|e| e.account_id).collect(),
            entry_owners: entries.iter().map(|e| e.owner).collect(),
            entry_ledger_accounts: entries
                .iter()
                .map(|e| e.ledger_account.to_string())
                .collect(),
            entry_amounts: entries.iter().map(|e| e.amount).collect(),
            balance_accounts: balances.iter().map(|b| b.0).collect(),
            balance_owners: balances.iter().map(|b| b.1).collect(),
            balance_ledger_accounts: balances.iter().map(|b| b.2.to_string()).collect(),
            balance_deltas: balances.iter().map(|b| b.3).collect(),
        }
    }
}

/// The statement cache's key for [`WriteQuery`]: its SQL never changes.
struct WriteQueryId;

impl QueryId for WriteQuery {
    type QueryId = WriteQueryId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for WriteQuery {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for WriteQuery {}

/// Pushes `, ` and a bind parameter.
macro_rules! bind {
    ($out:ident, $ty:ty, $value:expr) => {
        $out.push_sql(", ");
        $out.push_bind_param::<$ty, _>($value)?;
    };
}

impl QueryFragment<Pg> for WriteQuery {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH o AS (INSERT INTO prop_orders (id, account_id, owner_user_id, \
             decision_action_id, instrument, side, order_type, size, limit_price, reduce_only, \
             time_in_force, status, rejection_code, rejection_detail, account_seq, created_at) \
             SELECT x.*, ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.order_ids)?;
        bind!(out, Array<SqlUuid>, &self.order_accounts);
        bind!(out, Array<SqlUuid>, &self.order_owners);
        bind!(out, Array<Nullable<Text>>, &self.order_actions);
        bind!(out, Array<Text>, &self.order_instruments);
        bind!(out, Array<Text>, &self.order_sides);
        bind!(out, Array<Text>, &self.order_types);
        bind!(out, Array<Numeric>, &self.order_sizes);
        bind!(out, Array<Nullable<Numeric>>, &self.order_limits);
        bind!(out, Array<Bool>, &self.order_reduce_only);
        bind!(out, Array<Text>, &self.order_tifs);
        bind!(out, Array<Text>, &self.order_statuses);
        bind!(out, Array<Nullable<Text>>, &self.order_codes);
        bind!(out, Array<Nullable<Text>>, &self.order_details);
        bind!(out, Array<BigInt>, &self.order_seqs);
        // The round holds every account's lock and read its actions' earlier orders, so a
        // conflict here is a bug: it fails the statement instead of writing around it.
        out.push_sql(
            ") AS x RETURNING 1), \
             a AS (UPDATE prop_accounts AS acc SET orders_placed = x.placed, \
             day_anchor = COALESCE(x.anchor, acc.day_anchor), \
             day_start_equity = COALESCE(x.equity, acc.day_start_equity), \
             updated_at = CASE WHEN x.anchor IS NULL THEN acc.updated_at ELSE ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" END FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.account_ids)?;
        bind!(out, Array<BigInt>, &self.account_placed);
        bind!(out, Array<Nullable<Date>>, &self.account_anchors);
        bind!(out, Array<Nullable<Numeric>>, &self.account_equities);
        out.push_sql(
            ") AS x(id, placed, anchor, equity) WHERE acc.id = x.id), \
             f AS (INSERT INTO prop_fills (id, order_id, account_id, owner_user_id, seq, \
             instrument, side, price, size, fee, realized_pnl, source, created_at) \
             SELECT x.*, ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.fill_ids)?;
        bind!(out, Array<SqlUuid>, &self.fill_orders);
        bind!(out, Array<SqlUuid>, &self.fill_accounts);
        bind!(out, Array<SqlUuid>, &self.fill_owners);
        bind!(out, Array<Integer>, &self.fill_seqs);
        bind!(out, Array<Text>, &self.fill_instruments);
        bind!(out, Array<Text>, &self.fill_sides);
        bind!(out, Array<Numeric>, &self.fill_prices);
        bind!(out, Array<Numeric>, &self.fill_sizes);
        bind!(out, Array<Numeric>, &self.fill_fees);
        bind!(out, Array<Numeric>, &self.fill_pnls);
        bind!(out, Array<Text>, &self.fill_sources);
        out.push_sql(") AS x), px AS (SELECT * FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.position_accounts)?;
        bind!(out, Array<SqlUuid>, &self.position_owners);
        bind!(out, Array<Text>, &self.position_instruments);
        bind!(out, Array<Text>, &self.position_kinds);
        bind!(out, Array<Numeric>, &self.position_sizes);
        bind!(out, Array<Numeric>, &self.position_entries);
        bind!(out, Array<Numeric>, &self.position_pnls);
        bind!(out, Array<Bool>, &self.position_reopened);
        // Existing positions are updated and the others inserted; both parts read the same
        // snapshot, so each position is written once.
        out.push_sql(
            ") AS x(account_id, owner, instrument, kind, size, avg_entry, pnl, reopened)), \
             pu AS (UPDATE prop_positions AS cur SET kind = px.kind, size = px.size, \
             avg_entry = px.avg_entry, realized_pnl = cur.realized_pnl + px.pnl, \
             settled_at = NULL, \
             opened_at = CASE WHEN px.reopened THEN ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" ELSE cur.opened_at END, updated_at = ");
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(
            " FROM px WHERE cur.account_id = px.account_id AND cur.instrument = px.instrument \
             RETURNING cur.account_id, cur.instrument), \
             pi AS (INSERT INTO prop_positions (account_id, instrument, owner_user_id, kind, \
             size, avg_entry, realized_pnl, funding_paid, opened_at, updated_at) \
             SELECT px.account_id, px.instrument, px.owner, px.kind, px.size, px.avg_entry, \
             px.pnl, 0, ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        bind!(out, Timestamptz, &self.at);
        out.push_sql(
            " FROM px WHERE NOT EXISTS (SELECT 1 FROM pu WHERE pu.account_id = px.account_id \
             AND pu.instrument = px.instrument)), \
             e AS (INSERT INTO prop_ledger_events (id, account_id, owner_user_id, order_id, \
             reference, kind, created_at) SELECT x.*, 'trade', ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.event_ids)?;
        bind!(out, Array<SqlUuid>, &self.event_accounts);
        bind!(out, Array<SqlUuid>, &self.event_owners);
        bind!(out, Array<SqlUuid>, &self.event_orders);
        bind!(out, Array<Text>, &self.event_instruments);
        out.push_sql(
            ") AS x), en AS (INSERT INTO prop_ledger_entries (event_id, seq, account_id, \
             owner_user_id, ledger_account, amount) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.entry_events)?;
        bind!(out, Array<Integer>, &self.entry_seqs);
        bind!(out, Array<SqlUuid>, &self.entry_accounts);
        bind!(out, Array<SqlUuid>, &self.entry_owners);
        bind!(out, Array<Text>, &self.entry_ledger_accounts);
        bind!(out, Array<Numeric>, &self.entry_amounts);
        out.push_sql(
            ")), b AS (INSERT INTO prop_account_balances AS cur (account_id, owner_user_id, \
             ledger_account, balance, updated_at) SELECT x.*, ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.balance_accounts)?;
        bind!(out, Array<SqlUuid>, &self.balance_owners);
        bind!(out, Array<Text>, &self.balance_ledger_accounts);
        bind!(out, Array<Numeric>, &self.balance_deltas);
        out.push_sql(
            ") AS x ON CONFLICT (account_id, ledger_account) DO UPDATE SET \
             balance = cur.balance + EXCLUDED.balance, updated_at = EXCLUDED.updated_at) \
             SELECT count(*) AS inserted FROM o",
        );
        Ok(())
    }
}

/// Writes a round's orders and everything they did in one statement; the number of orders
/// written (all of them, or the statement fails).
pub(crate) fn write_round(
    conn: &mut PgConnection,
    write: &RoundWrite,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let row: Inserted = WriteQuery::new(write, at).get_result(conn)?;
    Ok(usize::try_from(row.inserted).unwrap_or_default())
}
