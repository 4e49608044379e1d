//! The only module that touches the copy-trade tables.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    copy_trade_clob_accounts, copy_trade_cursors, copy_trade_decisions, copy_trade_fills,
    copy_trade_grants, copy_trade_replicas, copy_trade_targets, copy_trade_wallet_leases,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{ClobAccountRow, DecisionRow, GrantRow, LedgerRow, TargetRow};

pub(crate) fn insert_target(conn: &mut PgConnection, row: &TargetRow) -> QueryResult<()> {
    diesel::insert_into(copy_trade_targets::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// A live (not removed) target of the caller.
pub(crate) fn live_target(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<TargetRow>> {
    copy_trade_targets::table
        .find(id)
        .filter(copy_trade_targets::removed_at.is_null())
        .select(TargetRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn update_target(conn: &mut PgConnection, row: &TargetRow) -> QueryResult<()> {
    diesel::update(copy_trade_targets::table.find(row.id))
        .set((
            copy_trade_targets::label.eq(&row.label),
            copy_trade_targets::active.eq(row.active),
            copy_trade_targets::filter_percentile.eq(row.filter_percentile),
            copy_trade_targets::max_usdc_per_trade.eq(row.max_usdc_per_trade),
            copy_trade_targets::max_position_usdc.eq(row.max_position_usdc),
            copy_trade_targets::sizing.eq(&row.sizing),
            copy_trade_targets::updated_at.eq(row.updated_at),
            copy_trade_targets::removed_at.eq(row.removed_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The caller's live targets, oldest first by (creation time, id).
pub(crate) fn targets_page(
    conn: &mut PgConnection,
    page: &PageRequest,
) -> QueryResult<Vec<TargetRow>> {
    let mut query = copy_trade_targets::table
        .filter(copy_trade_targets::removed_at.is_null())
        .select(TargetRow::as_select())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::newer_than(
            copy_trade_targets::created_at,
            copy_trade_targets::id,
            *key,
        ));
    }
    query
        .order((
            copy_trade_targets::created_at.asc(),
            copy_trade_targets::id.asc(),
        ))
        .limit(page.fetch_limit())
        .load(conn)
}

/// Every tenant's active targets (of one wallet, by its target id, when given): the
/// enumerator, the one read across tenants. Only [`crate::service`]'s enumerator calls it,
/// inside the audited cross-tenant transaction.
pub(crate) fn active_targets(
    conn: &mut PgConnection,
    target_id: Option<Uuid>,
) -> QueryResult<Vec<TargetRow>> {
    let mut query = copy_trade_targets::table
        .filter(copy_trade_targets::active.eq(true))
        .select(TargetRow::as_select())
        .into_boxed();
    if let Some(target_id) = target_id {
        query = query.filter(copy_trade_targets::target_id.eq(target_id));
    }
    query
        .order((
            copy_trade_targets::wallet.asc(),
            copy_trade_targets::id.asc(),
        ))
        .load(conn)
}

pub(crate) fn grant(conn: &mut PgConnection, owner: Uuid) -> QueryResult<Option<GrantRow>> {
    copy_trade_grants::table
        .find(owner)
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn upsert_grant(conn: &mut PgConnection, row: &GrantRow) -> QueryResult<GrantRow> {
    diesel::insert_into(copy_trade_grants::table)
        .values(row)
        .on_conflict(copy_trade_grants::owner_user_id)
        .do_update()
        .set((
            copy_trade_grants::per_order_usdc_cap.eq(row.per_order_usdc_cap),
            copy_trade_grants::daily_usdc_cap.eq(row.daily_usdc_cap),
            copy_trade_grants::hourly_fills_cap.eq(row.hourly_fills_cap),
            copy_trade_grants::kill_switch.eq(row.kill_switch),
            copy_trade_grants::executor.eq(&row.executor),
            copy_trade_grants::paper_account_id.eq(row.paper_account_id),
            copy_trade_grants::updated_at.eq(row.updated_at),
        ))
        .returning(GrantRow::as_returning())
        .get_result(conn)
}

/// Records an observed fill unless its key is already there; `false` when it was.
pub(crate) fn claim(conn: &mut PgConnection, row: &LedgerRow) -> QueryResult<bool> {
    diesel::insert_into(copy_trade_fills::table)
        .values(row)
        .on_conflict((
            copy_trade_fills::owner_user_id,
            copy_trade_fills::idempotency_key,
        ))
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

/// The target's most recent fill documents (for the percentile filter).
pub(crate) fn recent_fills(
    conn: &mut PgConnection,
    target_row_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<serde_json::Value>> {
    copy_trade_fills::table
        .filter(copy_trade_fills::target_row_id.eq(target_row_id))
        .order((
            copy_trade_fills::observed_at.desc(),
            copy_trade_fills::id.desc(),
        ))
        .limit(limit)
        .select(copy_trade_fills::fill)
        .load(conn)
}

/// USDC of orders sent (or about to be) since `since`, and how many.
pub(crate) fn sent_since(
    conn: &mut PgConnection,
    owner: Uuid,
    since: DateTime<Utc>,
) -> QueryResult<Vec<(Decimal, Decimal)>> {
    copy_trade_fills::table
        .filter(copy_trade_fills::owner_user_id.eq(owner))
        .filter(copy_trade_fills::observed_at.ge(since))
        .filter(copy_trade_fills::status.ne_all(["skipped", "rejected", "error"]))
        .select((copy_trade_fills::size, copy_trade_fills::limit_price))
        .load::<(Option<Decimal>, Option<Decimal>)>(conn)
        .map(|rows| {
            rows.into_iter()
                .filter_map(|(size, price)| Some((size?, price?)))
                .collect()
        })
}

/// What a claimed row will send, and through which executor.
pub(crate) struct Intent<'a> {
    pub side: &'a str,
    pub size: Decimal,
    pub limit_price: Decimal,
    pub executor: &'a str,
}

/// Sets the intent of a claimed row (still `pending`).
pub(crate) fn set_intent(
    conn: &mut PgConnection,
    id: Uuid,
    intent: &Intent<'_>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(copy_trade_fills::table.find(id))
        .set((
            copy_trade_fills::side.eq(Some(intent.side)),
            copy_trade_fills::size.eq(Some(intent.size)),
            copy_trade_fills::limit_price.eq(Some(intent.limit_price)),
            copy_trade_fills::executor.eq(Some(intent.executor)),
            copy_trade_fills::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Ends a row with `status`, unless it already has a decision.
pub(crate) fn settle(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    venue_order_id: Option<&str>,
    filled: Option<Decimal>,
    synced: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(copy_trade_fills::table.find(id))
        .set((
            copy_trade_fills::status.eq(status),
            copy_trade_fills::venue_order_id.eq(venue_order_id),
            copy_trade_fills::updated_at.eq(now),
            copy_trade_fills::synced_at.eq(synced.then_some(now)),
        ))
        .execute(conn)?;
    match filled {
        Some(filled) => record_filled(conn, id, filled, now),
        None => Ok(()),
    }
}

/// Stores the shares a row's order filled, as the venue last reported them.
fn record_filled(
    conn: &mut PgConnection,
    id: Uuid,
    filled: Decimal,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use diesel::sql_types::{Numeric, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO copy_trade_fill_shares (ledger_id, owner_user_id, filled, updated_at) \
         SELECT id, owner_user_id, $2, $3 FROM copy_trade_fills WHERE id = $1 \
         ON CONFLICT (ledger_id) DO UPDATE SET filled = excluded.filled, updated_at = excluded.updated_at",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Numeric, _>(filled)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .map(drop)
}

pub(crate) fn lock_row(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<LedgerRow>> {
    copy_trade_fills::table
        .find(id)
        .for_update()
        .select(LedgerRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn has_decision(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        copy_trade_decisions::table.filter(copy_trade_decisions::ledger_id.eq(ledger_id)),
    ))
    .get_result(conn)
}

pub(crate) fn insert_decision(conn: &mut PgConnection, row: &DecisionRow) -> QueryResult<()> {
    diesel::insert_into(copy_trade_decisions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The caller's rows with an intent, still pending, untouched since `before` (a crash
/// between the claim and the decision).
pub(crate) fn stuck(
    conn: &mut PgConnection,
    owner: Uuid,
    before: DateTime<Utc>,
) -> QueryResult<Vec<LedgerRow>> {
    copy_trade_fills::table
        .filter(copy_trade_fills::owner_user_id.eq(owner))
        .filter(copy_trade_fills::status.eq("pending"))
        .filter(copy_trade_fills::size.is_not_null())
        .filter(copy_trade_fills::updated_at.lt(before))
        .order(copy_trade_fills::observed_at.asc())
        .select(LedgerRow::as_select())
        .load(conn)
}

/// The caller's rows not final yet (pending, placed, partially filled): how many, the oldest
/// one's last update, and the latest venue confirmation of any row.
pub(crate) fn sync_facts(conn: &mut PgConnection, owner: Uuid) -> QueryResult<SyncFacts> {
    let open = copy_trade_fills::table
        .filter(copy_trade_fills::owner_user_id.eq(owner))
        .filter(copy_trade_fills::status.eq_any(["pending", "placed", "partially_filled"]));
    let count = open.clone().count().get_result(conn)?;
    let oldest = open
        .select(diesel::dsl::min(copy_trade_fills::updated_at))
        .get_result(conn)?;
    let synced = copy_trade_fills::table
        .filter(copy_trade_fills::owner_user_id.eq(owner))
        .select(diesel::dsl::max(copy_trade_fills::synced_at))
        .get_result(conn)?;
    Ok(SyncFacts {
        open: count,
        oldest_open: oldest,
        last_synced: synced,
    })
}

/// The caller's placed orders the venue has not confirmed since `before` (oldest first,
/// at most `limit`).
pub(crate) fn unsynced(
    conn: &mut PgConnection,
    owner: Uuid,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<LedgerRow>> {
    copy_trade_fills::table
        .filter(copy_trade_fills::owner_user_id.eq(owner))
        .filter(copy_trade_fills::status.eq_any(["placed", "partially_filled"]))
        .filter(copy_trade_fills::venue_order_id.is_not_null())
        .filter(
            copy_trade_fills::synced_at
                .is_null()
                .or(copy_trade_fills::synced_at.lt(before)),
        )
        .order(copy_trade_fills::synced_at.asc().nulls_first())
        .limit(limit)
        .select(LedgerRow::as_select())
        .load(conn)
}

/// Tenants with placed orders not confirmed since `before` (the sync step's fan-out).
pub(crate) fn unsynced_owners(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    copy_trade_fills::table
        .filter(copy_trade_fills::status.eq_any(["placed", "partially_filled"]))
        .filter(copy_trade_fills::venue_order_id.is_not_null())
        .filter(
            copy_trade_fills::synced_at
                .is_null()
                .or(copy_trade_fills::synced_at.lt(before)),
        )
        .select(copy_trade_fills::owner_user_id)
        .distinct()
        .load(conn)
}

/// Records what the venue reports for a placed order: its status now and the shares it
/// filled (kept when the venue did not say), confirmed at `now`. The decision stays as it was
/// (the order was placed); only the order's state moves.
pub(crate) fn resync(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    filled: Option<Decimal>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(copy_trade_fills::table.find(id))
        .set((
            copy_trade_fills::status.eq(status),
            copy_trade_fills::updated_at.eq(now),
            copy_trade_fills::synced_at.eq(Some(now)),
        ))
        .execute(conn)?;
    match filled {
        Some(filled) => record_filled(conn, id, filled, now),
        None => Ok(()),
    }
}

/// What [`sync_facts`] reads.
pub(crate) struct SyncFacts {
    pub open: i64,
    pub oldest_open: Option<DateTime<Utc>>,
    pub last_synced: Option<DateTime<Utc>>,
}

/// One page of the caller's ledger, newest first by (observed time, id).
pub(crate) fn ledger_page(
    conn: &mut PgConnection,
    page: &PageRequest,
) -> QueryResult<Vec<LedgerRow>> {
    let mut query = copy_trade_fills::table
        .select(LedgerRow::as_select())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            copy_trade_fills::observed_at,
            copy_trade_fills::id,
            *key,
        ));
    }
    query
        .order((
            copy_trade_fills::observed_at.desc(),
            copy_trade_fills::id.desc(),
        ))
        .limit(page.fetch_limit())
        .load(conn)
}

/// One page of the caller's decisions, newest first by (time, id).
pub(crate) fn decisions_page(
    conn: &mut PgConnection,
    page: &PageRequest,
) -> QueryResult<Vec<DecisionRow>> {
    let mut query = copy_trade_decisions::table
        .select(DecisionRow::as_select())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            copy_trade_decisions::created_at,
            copy_trade_decisions::id,
            *key,
        ));
    }
    query
        .order((
            copy_trade_decisions::created_at.desc(),
            copy_trade_decisions::id.desc(),
        ))
        .limit(page.fetch_limit())
        .load(conn)
}

/// Tenants with rows pending (an intent set) since before `before`: for recovery. Part of
/// the enumerator's cross-tenant read.
pub(crate) fn stuck_owners(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    copy_trade_fills::table
        .filter(copy_trade_fills::status.eq("pending"))
        .filter(copy_trade_fills::size.is_not_null())
        .filter(copy_trade_fills::updated_at.lt(before))
        .select(copy_trade_fills::owner_user_id)
        .distinct()
        .load(conn)
}

/// A watched wallet's poll watermark.
pub(crate) fn watermark(conn: &mut PgConnection, target_id: Uuid) -> QueryResult<Option<i64>> {
    copy_trade_cursors::table
        .find(target_id)
        .select(copy_trade_cursors::watermark)
        .first(conn)
        .optional()
}

/// Stores a watched wallet's poll watermark; it never moves back.
pub(crate) fn set_watermark(
    conn: &mut PgConnection,
    target_id: Uuid,
    wallet: &str,
    watermark: i64,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(copy_trade_cursors::table)
        .values((
            copy_trade_cursors::target_id.eq(target_id),
            copy_trade_cursors::wallet.eq(wallet),
            copy_trade_cursors::watermark.eq(watermark.max(0)),
            copy_trade_cursors::polled_at.eq(now),
        ))
        .on_conflict(copy_trade_cursors::target_id)
        .do_update()
        .set((
            copy_trade_cursors::watermark.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "GREATEST(copy_trade_cursors.watermark, excluded.watermark)",
            )),
            copy_trade_cursors::polled_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks `holder` alive until `until`.
pub(crate) fn touch_replica(
    conn: &mut PgConnection,
    holder: &str,
    until: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(copy_trade_replicas::table)
        .values((
            copy_trade_replicas::holder.eq(holder),
            copy_trade_replicas::seen_until.eq(until),
        ))
        .on_conflict(copy_trade_replicas::holder)
        .do_update()
        .set(copy_trade_replicas::seen_until.eq(until))
        .execute(conn)
        .map(drop)
}

/// The replicas alive at `now`, by name.
pub(crate) fn live_replicas(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    copy_trade_replicas::table
        .filter(copy_trade_replicas::seen_until.gt(now))
        .order(copy_trade_replicas::holder.asc())
        .select(copy_trade_replicas::holder)
        .load(conn)
}

/// Takes or renews the lease of one wallet for `holder` until `until`, unless another
/// holder's lease is live at `now`; whether `holder` holds it now.
pub(crate) fn lease_wallet(
    conn: &mut PgConnection,
    target_id: Uuid,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = SqlUuid)]
        target_id: Uuid,
    }
    let held: Option<Held> = diesel::sql_query(
        "INSERT INTO copy_trade_wallet_leases (target_id, holder, leased_until) VALUES ($1, $2, $3) \
         ON CONFLICT (target_id) DO UPDATE SET holder = excluded.holder, leased_until = excluded.leased_until \
         WHERE copy_trade_wallet_leases.holder = excluded.holder OR copy_trade_wallet_leases.leased_until <= $4 \
         RETURNING target_id",
    )
    .bind::<SqlUuid, _>(target_id)
    .bind::<Text, _>(holder)
    .bind::<Timestamptz, _>(until)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .optional()?;
    Ok(held.is_some_and(|held| held.target_id == target_id))
}

/// Gives up `holder`'s leases on every wallet not in `keep`.
pub(crate) fn release_wallets(
    conn: &mut PgConnection,
    holder: &str,
    keep: &[Uuid],
) -> QueryResult<usize> {
    diesel::delete(
        copy_trade_wallet_leases::table
            .filter(copy_trade_wallet_leases::holder.eq(holder))
            .filter(copy_trade_wallet_leases::target_id.ne_all(keep)),
    )
    .execute(conn)
}

/// The caller's CLOB account.
pub(crate) fn clob_account(
    conn: &mut PgConnection,
    owner: Uuid,
) -> QueryResult<Option<ClobAccountRow>> {
    copy_trade_clob_accounts::table
        .filter(copy_trade_clob_accounts::owner_user_id.eq(owner))
        .select(ClobAccountRow::as_select())
        .first(conn)
        .optional()
}

/// Stores a new CLOB account unless the tenant has one; whether it was stored.
pub(crate) fn insert_clob_account(
    conn: &mut PgConnection,
    row: &ClobAccountRow,
) -> QueryResult<bool> {
    diesel::insert_into(copy_trade_clob_accounts::table)
        .values(row)
        .on_conflict(copy_trade_clob_accounts::owner_user_id)
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

/// The sealed L2 credentials of an account.
pub(crate) struct SealedCredentials<'a> {
    pub api_key: &'a str,
    pub secret: &'a str,
    pub passphrase: &'a str,
}

/// Stores an account's L2 credentials unless it already has some; whether they were stored.
pub(crate) fn set_clob_credentials(
    conn: &mut PgConnection,
    id: Uuid,
    credentials: &SealedCredentials<'_>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        copy_trade_clob_accounts::table
            .find(id)
            .filter(copy_trade_clob_accounts::api_key.is_null()),
    )
    .set((
        copy_trade_clob_accounts::api_key.eq(Some(credentials.api_key)),
        copy_trade_clob_accounts::api_secret.eq(Some(credentials.secret)),
        copy_trade_clob_accounts::api_passphrase.eq(Some(credentials.passphrase)),
        copy_trade_clob_accounts::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|updated| updated == 1)
}

/// Tenants with a CLOB account whose positions were not checked since `before` (the
/// positions check's fan-out). Part of the enumerator's cross-tenant read.
pub(crate) fn clob_account_owners(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    copy_trade_clob_accounts::table
        .filter(
            copy_trade_clob_accounts::positions_checked_at
                .is_null()
                .or(copy_trade_clob_accounts::positions_checked_at.lt(before)),
        )
        .order(copy_trade_clob_accounts::owner_user_id.asc())
        .select(copy_trade_clob_accounts::owner_user_id)
        .load(conn)
}

/// The caller's net filled shares per outcome token over its CLOB orders: bought less sold,
/// each row counting what it filled (a row from before `copy_trade_fill_shares` existed
/// counts its whole size when `filled`, nothing otherwise).
pub(crate) fn net_clob_shares(
    conn: &mut PgConnection,
    owner: Uuid,
) -> QueryResult<Vec<(String, Decimal)>> {
    use diesel::sql_types::{Numeric, Text, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Net {
        #[diesel(sql_type = Text)]
        asset: String,
        #[diesel(sql_type = Numeric)]
        net: Decimal,
    }
    let rows: Vec<Net> = diesel::sql_query(
        "SELECT f.fill->>'asset' AS asset, \
         SUM(CASE WHEN f.side = 'BUY' THEN 1 ELSE -1 END \
             * COALESCE(s.filled, CASE WHEN f.status = 'filled' THEN f.size ELSE 0 END)) AS net \
         FROM copy_trade_fills f LEFT JOIN copy_trade_fill_shares s ON s.ledger_id = f.id \
         WHERE f.owner_user_id = $1 AND f.executor = 'clob' AND f.side IS NOT NULL \
           AND f.size IS NOT NULL \
         GROUP BY f.fill->>'asset' ORDER BY 1",
    )
    .bind::<SqlUuid, _>(owner)
    .load(conn)?;
    Ok(rows.into_iter().map(|row| (row.asset, row.net)).collect())
}

/// What one positions check found.
pub(crate) struct PositionsCheck {
    pub tokens: i32,
    pub mismatched: i32,
    pub max_difference: Decimal,
    pub max_token: Option<String>,
}

/// Records the caller's latest positions check.
pub(crate) fn record_positions_check(
    conn: &mut PgConnection,
    owner: Uuid,
    check: &PositionsCheck,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        copy_trade_clob_accounts::table.filter(copy_trade_clob_accounts::owner_user_id.eq(owner)),
    )
    .set((
        copy_trade_clob_accounts::positions_checked_at.eq(Some(now)),
        copy_trade_clob_accounts::positions_tokens.eq(Some(check.tokens)),
        copy_trade_clob_accounts::positions_mismatched.eq(Some(check.mismatched)),
        copy_trade_clob_accounts::positions_max_difference.eq(Some(check.max_difference)),
        copy_trade_clob_accounts::positions_max_token.eq(check.max_token.as_deref()),
    ))
    .execute(conn)
    .map(drop)
}
