//! The order path's statements: the account locked with its limits, one read of everything
//! else the gates need (balances, positions, the decision action's earlier order, the rate
//! window), and one statement that writes the order with everything it did (its fills, the
//! position, the ledger event with its entries, the balances and the account's order count).
//!
//! The read and the write are fixed SQL texts with a static query id, so diesel prepares each
//! once per connection and PostgreSQL plans it once; variable-length parts (fills, entries,
//! balance changes) travel as arrays and are expanded with `unnest`. The read runs after the
//! lock, as its own statement, so under READ COMMITTED it sees every order committed before
//! the lock was granted.

use chrono::{DateTime, Utc};
use clones_db::schema::{prop_account_limits as limits, prop_accounts as accounts};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Nullable, Numeric, Text, Timestamptz, Untyped, Uuid as SqlUuid,
};
use diesel::{PgConnection, QueryResult};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::ledger::LedgerEvent;
use crate::models::{AccountRow, FillRow, LimitsRow, OrderRow};

/// The account with its limits, locked for the rest of the transaction: orders on one account
/// run one at a time.
pub(crate) fn lock_account_with_limits(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Option<(AccountRow, LimitsRow)>> {
    accounts::table
        .inner_join(limits::table)
        .filter(accounts::id.eq(id))
        .select((AccountRow::as_select(), LimitsRow::as_select()))
        .for_update()
        .first(conn)
        .optional()
}

/// What an order needs to know about its account besides the locked row.
#[derive(Debug, Default)]
pub(crate) struct OrderContext {
    /// The earlier order of the same decision action, if any.
    pub existing: Option<Uuid>,
    /// Whether the order placed `limit - 1` orders before the next one was created after
    /// `since`: then at least `limit` orders fall in the window, counting the next one's
    /// predecessors only.
    pub rate_limited: bool,
    /// Tracked balances by ledger account.
    pub balances: Vec<(String, Decimal)>,
    /// Positions (instrument, signed size, average entry), flat ones included.
    pub positions: Vec<(String, Decimal, Decimal)>,
}

#[derive(QueryableByName)]
struct ContextPart {
    #[diesel(sql_type = Text)]
    part: String,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Numeric>)]
    a: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    b: Option<Decimal>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
}

struct ContextQuery {
    account_id: Uuid,
    action: Option<String>,
    since: DateTime<Utc>,
    /// The sequence number of the order `limit` orders back (0 when there is none).
    probe: i64,
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
            "SELECT 'b'::text AS part, ledger_account AS name, balance AS a, NULL::numeric AS b, \
             NULL::uuid AS id FROM prop_account_balances WHERE account_id = ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.account_id)?;
        out.push_sql(
            " UNION ALL SELECT 'p', instrument, size, avg_entry, NULL FROM prop_positions \
             WHERE account_id = ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.account_id)?;
        out.push_sql(
            " UNION ALL SELECT 'o', NULL, NULL, NULL, id FROM prop_orders WHERE account_id = ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.account_id)?;
        out.push_sql(" AND decision_action_id = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.action)?;
        out.push_sql(
            " UNION ALL SELECT 'n', NULL, NULL, NULL, NULL FROM prop_orders WHERE account_id = ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.account_id)?;
        out.push_sql(" AND account_seq = ");
        out.push_bind_param::<BigInt, _>(&self.probe)?;
        out.push_sql(" AND created_at > ");
        out.push_bind_param::<Timestamptz, _>(&self.since)?;
        Ok(())
    }
}

/// Balances, positions, the earlier order of `action`, and whether `limit` orders were placed
/// after `since` (the order `limit` back in the account's sequence, found by its number, is
/// younger), in one statement. `placed` is the account's count of orders as read under its
/// lock; call this after locking the account.
pub(crate) fn order_context(
    conn: &mut PgConnection,
    account_id: Uuid,
    action: Option<&str>,
    since: DateTime<Utc>,
    placed: i64,
    limit: i64,
) -> QueryResult<OrderContext> {
    let parts: Vec<ContextPart> = ContextQuery {
        account_id,
        action: action.map(str::to_string),
        since,
        probe: (placed - limit.max(1) + 1).max(0),
    }
    .load(conn)?;
    let mut context = OrderContext::default();
    for part in parts {
        match part.part.as_str() {
            "b" => context
                .balances
                .push((part.name.unwrap_or_default(), part.a.unwrap_or_default())),
            "p" => context.positions.push((
                part.name.unwrap_or_default(),
                part.a.unwrap_or_default(),
                part.b.unwrap_or_default(),
            )),
            "o" => context.existing = part.id,
            _ => context.rate_limited = true,
        }
    }
    context.positions.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(context)
}

/// A position after an order.
pub(crate) struct PositionAfter<'a> {
    /// The instrument's kind (`perp`, `spot`, `outcome`).
    pub kind: &'a str,
    pub size: Decimal,
    pub avg_entry: Decimal,
    /// The PnL this order realized, added to the position's cumulative figure.
    pub realized_pnl: Decimal,
}

/// An order as written: the order (rejected, unfilled or executed), its fills, the position
/// after it (when it executed) and the ledger event it made (none when nothing moved).
pub(crate) struct OrderWrite<'a> {
    pub order: &'a OrderRow,
    pub fills: &'a [FillRow],
    pub position: Option<PositionAfter<'a>>,
    pub event: Option<(Uuid, &'a LedgerEvent)>,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    inserted: i64,
}

struct WriteQuery {
    order: OrderRow,
    fill_source: String,
    fill_ids: Vec<Uuid>,
    fill_seqs: Vec<i32>,
    fill_prices: Vec<Decimal>,
    fill_sizes: Vec<Decimal>,
    fill_fees: Vec<Decimal>,
    fill_pnls: Vec<Decimal>,
    has_position: bool,
    kind: String,
    size: Decimal,
    avg_entry: Decimal,
    realized_pnl: Decimal,
    has_event: bool,
    event_id: Uuid,
    entry_seqs: Vec<i32>,
    entry_accounts: Vec<String>,
    entry_amounts: Vec<Decimal>,
    balance_accounts: Vec<String>,
    balance_deltas: Vec<Decimal>,
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

impl QueryFragment<Pg> for WriteQuery {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let o = &self.order;
        out.push_sql(
            "WITH o AS (INSERT INTO prop_orders (id, account_id, owner_user_id, \
             decision_action_id, instrument, side, order_type, size, limit_price, reduce_only, \
             time_in_force, status, rejection_code, rejection_detail, created_at, account_seq) \
             VALUES (",
        );
        out.push_bind_param::<SqlUuid, _>(&o.id)?;
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&o.account_id)?;
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&o.owner_user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&o.decision_action_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&o.instrument)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&o.side)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&o.order_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Numeric, _>(&o.size)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Numeric>, _>(&o.limit_price)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&o.reduce_only)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&o.time_in_force)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&o.status)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&o.rejection_code)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&o.rejection_detail)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamptz, _>(&o.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&o.account_seq)?;
        // Every later part reads `o`, so nothing else is written when the action already has
        // an order (the unique key is the final guard behind the account lock).
        out.push_sql(
            ") ON CONFLICT (account_id, decision_action_id) DO NOTHING RETURNING id, account_id, \
             owner_user_id, instrument, side, created_at, account_seq), \
             a AS (UPDATE prop_accounts SET orders_placed = o.account_seq FROM o \
             WHERE prop_accounts.id = o.account_id), \
             f AS (INSERT INTO prop_fills (id, order_id, account_id, owner_user_id, seq, \
             instrument, side, price, size, fee, realized_pnl, source, created_at) \
             SELECT x.id, o.id, o.account_id, o.owner_user_id, x.seq, o.instrument, o.side, \
             x.price, x.size, x.fee, x.pnl, ",
        );
        out.push_bind_param::<Text, _>(&self.fill_source)?;
        out.push_sql(", o.created_at FROM o, unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.fill_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.fill_seqs)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Numeric>, _>(&self.fill_prices)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Numeric>, _>(&self.fill_sizes)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Numeric>, _>(&self.fill_fees)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Numeric>, _>(&self.fill_pnls)?;
        out.push_sql(
            ") AS x(id, seq, price, size, fee, pnl)), \
             p AS (INSERT INTO prop_positions AS cur (account_id, instrument, owner_user_id, \
             kind, size, avg_entry, realized_pnl, funding_paid, opened_at, updated_at) \
             SELECT o.account_id, o.instrument, o.owner_user_id, ",
        );
        out.push_bind_param::<Text, _>(&self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Numeric, _>(&self.size)?;
        out.push_sql(", ");
        out.push_bind_param::<Numeric, _>(&self.avg_entry)?;
        out.push_sql(", ");
        out.push_bind_param::<Numeric, _>(&self.realized_pnl)?;
        // A position reopened from flat starts a new life: its opening time moves; its
        // cumulative realized PnL, funding and last funding time stay.
        out.push_sql(", 0, o.created_at, o.created_at FROM o WHERE ");
        out.push_bind_param::<Bool, _>(&self.has_position)?;
        out.push_sql(
            " ON CONFLICT (account_id, instrument) DO UPDATE SET kind = EXCLUDED.kind, \
             size = EXCLUDED.size, avg_entry = EXCLUDED.avg_entry, \
             realized_pnl = cur.realized_pnl + EXCLUDED.realized_pnl, settled_at = NULL, \
             opened_at = CASE WHEN cur.size = 0 THEN EXCLUDED.opened_at ELSE cur.opened_at END, \
             updated_at = EXCLUDED.updated_at), \
             e AS (INSERT INTO prop_ledger_events (id, account_id, owner_user_id, kind, \
             order_id, reference, created_at) SELECT ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.event_id)?;
        out.push_sql(
            ", o.account_id, o.owner_user_id, 'trade', o.id, o.instrument, o.created_at \
             FROM o WHERE ",
        );
        out.push_bind_param::<Bool, _>(&self.has_event)?;
        out.push_sql(
            "), en AS (INSERT INTO prop_ledger_entries (event_id, seq, account_id, \
             owner_user_id, ledger_account, amount) SELECT ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.event_id)?;
        out.push_sql(", x.seq, o.account_id, o.owner_user_id, x.account, x.amount FROM o, unnest(");
        out.push_bind_param::<Array<Integer>, _>(&self.entry_seqs)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.entry_accounts)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Numeric>, _>(&self.entry_amounts)?;
        out.push_sql(
            ") AS x(seq, account, amount)), \
             b AS (INSERT INTO prop_account_balances AS cur (account_id, ledger_account, \
             owner_user_id, balance, updated_at) SELECT o.account_id, x.account, \
             o.owner_user_id, x.delta, o.created_at FROM o, unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.balance_accounts)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Numeric>, _>(&self.balance_deltas)?;
        out.push_sql(
            ") AS x(account, delta) ON CONFLICT (account_id, ledger_account) DO UPDATE SET \
             balance = cur.balance + EXCLUDED.balance, updated_at = EXCLUDED.updated_at) \
             SELECT count(*) AS inserted FROM o",
        );
        Ok(())
    }
}

/// Writes an order and everything it did in one statement, and advances the account's order
/// count; false (and nothing written) when the account already has an order for its decision
/// action.
pub(crate) fn write_order(conn: &mut PgConnection, executed: &OrderWrite<'_>) -> QueryResult<bool> {
    let fills = executed.fills;
    let position = executed.position.as_ref();
    let (event_id, entries) = match executed.event {
        Some((id, event)) => (id, event.entries()),
        None => (Uuid::nil(), &[][..]),
    };
    // One balance change per ledger account: an upsert may touch a row only once.
    let mut balances: Vec<(String, Decimal)> = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = entry.account.as_str();
        match balances.iter_mut().find(|(account, _)| account == name) {
            Some((_, delta)) => *delta += entry.amount,
            None => balances.push((name.to_string(), entry.amount)),
        }
    }
    let query = WriteQuery {
        order: executed.order.clone(),
        fill_source: fills
            .first()
            .map(|fill| fill.source.clone())
            .unwrap_or_default(),
        fill_ids: fills.iter().map(|fill| fill.id).collect(),
        fill_seqs: fills.iter().map(|fill| fill.seq).collect(),
        fill_prices: fills.iter().map(|fill| fill.price).collect(),
        fill_sizes: fills.iter().map(|fill| fill.size).collect(),
        fill_fees: fills.iter().map(|fill| fill.fee).collect(),
        fill_pnls: fills.iter().map(|fill| fill.realized_pnl).collect(),
        has_position: executed.position.is_some(),
        kind: position.map(|p| p.kind.to_string()).unwrap_or_default(),
        size: position.map(|p| p.size).unwrap_or_default(),
        avg_entry: position.map(|p| p.avg_entry).unwrap_or_default(),
        realized_pnl: position.map(|p| p.realized_pnl).unwrap_or_default(),
        has_event: executed.event.is_some(),
        event_id,
        entry_seqs: (0..entries.len())
            .map(|seq| i32::try_from(seq).unwrap_or(i32::MAX))
            .collect(),
        entry_accounts: entries
            .iter()
            .map(|entry| entry.account.as_str().to_string())
            .collect(),
        entry_amounts: entries.iter().map(|entry| entry.amount).collect(),
        balance_accounts: balances.iter().map(|(name, _)| name.clone()).collect(),
        balance_deltas: balances.iter().map(|(_, delta)| *delta).collect(),
    };
    let row: Inserted = query.get_result(conn)?;
    Ok(row.inserted == 1)
}
