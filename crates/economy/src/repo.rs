//! The only module of economy that touches its tables.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    creator_plans, economy_deposits as deposits, economy_purchases as purchases,
    economy_quotes as quotes, royalty_bookings as bookings, royalty_cursor,
    royalty_entries as entries,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use diesel::{PgConnection, QueryResult};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{BookingRow, CreatorPlanRow, DepositRow, EntryRow, PurchaseRow, QuoteRow};

pub(crate) fn insert_quote(conn: &mut PgConnection, row: &QuoteRow) -> QueryResult<()> {
    diesel::insert_into(quotes::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn find_quote(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<QuoteRow>> {
    quotes::table
        .find(id)
        .select(QuoteRow::as_select())
        .first(conn)
        .optional()
}

/// Registers a submission, or returns the one already registered for this quote and hash.
pub(crate) fn register_deposit(
    conn: &mut PgConnection,
    row: &DepositRow,
) -> QueryResult<DepositRow> {
    diesel::insert_into(deposits::table)
        .values(row)
        .on_conflict((deposits::quote_id, deposits::tx_hash))
        .do_nothing()
        .execute(conn)?;
    deposits::table
        .filter(deposits::quote_id.eq(row.quote_id))
        .filter(deposits::tx_hash.eq(&row.tx_hash))
        .select(DepositRow::as_select())
        .first(conn)
}

pub(crate) fn find_deposit(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<DepositRow>> {
    deposits::table
        .find(id)
        .select(DepositRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn mark_pending(
    conn: &mut PgConnection,
    id: Uuid,
    confirmations: i64,
    next_check_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        deposits::table
            .find(id)
            .filter(deposits::status.eq("pending")),
    )
    .set((
        deposits::confirmations.eq(confirmations),
        deposits::next_check_at.eq(next_check_at),
        deposits::lease_expires_at.eq(None::<DateTime<Utc>>),
        deposits::updated_at.eq(at),
    ))
    .execute(conn)
    .map(drop)
}

pub(crate) fn mark_rejected(
    conn: &mut PgConnection,
    id: Uuid,
    code: &str,
    detail: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        deposits::table
            .find(id)
            .filter(deposits::status.eq("pending")),
    )
    .set((
        deposits::status.eq("rejected"),
        deposits::rejection_code.eq(code),
        deposits::rejection_detail.eq(detail),
        deposits::lease_expires_at.eq(None::<DateTime<Utc>>),
        deposits::updated_at.eq(at),
    ))
    .execute(conn)
    .map(drop)
}

pub(crate) fn mark_confirmed(
    conn: &mut PgConnection,
    id: Uuid,
    purchase_id: Uuid,
    confirmations: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(deposits::table.find(id))
        .set((
            deposits::status.eq("confirmed"),
            deposits::purchase_id.eq(purchase_id),
            deposits::confirmations.eq(confirmations),
            deposits::rejection_code.eq(None::<String>),
            deposits::rejection_detail.eq(None::<String>),
            deposits::lease_expires_at.eq(None::<DateTime<Utc>>),
            deposits::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Leases up to `limit` due pending deposits for `lease_until`; concurrent workers skip each
/// other's rows.
pub(crate) fn lease_due_deposits(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<DepositRow>> {
    let due: Vec<Uuid> = deposits::table
        .filter(deposits::status.eq("pending"))
        .filter(deposits::next_check_at.le(now))
        .filter(
            deposits::lease_expires_at
                .is_null()
                .or(deposits::lease_expires_at.lt(now)),
        )
        .order(deposits::next_check_at.asc())
        .limit(limit)
        .select(deposits::id)
        .for_update()
        .skip_locked()
        .load(conn)?;
    diesel::update(deposits::table.filter(deposits::id.eq_any(&due)))
        .set((
            deposits::lease_expires_at.eq(lease_until),
            deposits::attempts.eq(deposits::attempts + 1),
        ))
        .returning(DepositRow::as_returning())
        .get_results(conn)
}

/// Inserts the purchase unless this payment was already bought; true when inserted.
///
/// The conflict target is deliberately left open: the quote id, (resolver, nonce) and
/// (chain, tx, log index) each identify the same payment, and a conflict target naming only
/// one of them would let a concurrent insert fail on another with a unique violation.
pub(crate) fn insert_purchase(conn: &mut PgConnection, row: &PurchaseRow) -> QueryResult<bool> {
    let inserted = diesel::insert_into(purchases::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

pub(crate) fn purchase_by_nonce(
    conn: &mut PgConnection,
    resolver: &str,
    nonce: &str,
) -> QueryResult<Option<PurchaseRow>> {
    purchases::table
        .filter(purchases::resolver.eq(resolver))
        .filter(purchases::nonce.eq(nonce))
        .select(PurchaseRow::as_select())
        .first(conn)
        .optional()
}

/// The grant an operator recorded for `owner` under `reference`.
pub(crate) fn grant_by_reference(
    conn: &mut PgConnection,
    owner: Uuid,
    reference: &str,
) -> QueryResult<Option<PurchaseRow>> {
    purchases::table
        .filter(purchases::source.eq(crate::service::SOURCE_OPERATOR_GRANT))
        .filter(purchases::payer_user_id.eq(owner))
        .filter(purchases::nonce.eq(reference))
        .select(PurchaseRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn find_purchase(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<PurchaseRow>> {
    purchases::table
        .find(id)
        .select(PurchaseRow::as_select())
        .first(conn)
        .optional()
}

/// The payer's purchases, newest first, before the (created_at, id) cursor.
pub(crate) fn purchases_page(
    conn: &mut PgConnection,
    payer: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<PurchaseRow>> {
    let mut query = purchases::table
        .filter(purchases::payer_user_id.eq(payer))
        .select(PurchaseRow::as_select())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            purchases::created_at,
            purchases::id,
            *key,
        ));
    }
    query
        .order((purchases::created_at.desc(), purchases::id.desc()))
        .limit(page.fetch_limit())
        .load(conn)
}

pub(crate) fn creator_plan(
    conn: &mut PgConnection,
    user: Uuid,
) -> QueryResult<Option<CreatorPlanRow>> {
    creator_plans::table
        .find(user)
        .select(CreatorPlanRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts a user's first plan; false when the user already has one.
pub(crate) fn insert_creator_plan(
    conn: &mut PgConnection,
    row: &CreatorPlanRow,
) -> QueryResult<bool> {
    diesel::insert_into(creator_plans::table)
        .values(row)
        .on_conflict(creator_plans::user_id)
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

pub(crate) fn lock_creator_plan(
    conn: &mut PgConnection,
    user: Uuid,
) -> QueryResult<Option<CreatorPlanRow>> {
    creator_plans::table
        .find(user)
        .for_update()
        .select(CreatorPlanRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn update_creator_plan(
    conn: &mut PgConnection,
    row: &CreatorPlanRow,
) -> QueryResult<()> {
    diesel::update(creator_plans::table.find(row.user_id))
        .set((
            creator_plans::plan.eq(&row.plan),
            creator_plans::purchase_id.eq(row.purchase_id),
            creator_plans::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The bought plans of `users` (a user without a row is on Starter).
pub(crate) fn creator_plans_of(
    conn: &mut PgConnection,
    users: &[Uuid],
) -> QueryResult<Vec<(Uuid, String)>> {
    creator_plans::table
        .filter(creator_plans::user_id.eq_any(users))
        .select((creator_plans::user_id, creator_plans::plan))
        .load(conn)
}

/// Inserts a booking unless its fill has one; true when this call inserted it.
pub(crate) fn insert_booking(conn: &mut PgConnection, row: &BookingRow) -> QueryResult<bool> {
    diesel::insert_into(bookings::table)
        .values(row)
        .on_conflict(bookings::fill_id)
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

pub(crate) fn insert_entries(conn: &mut PgConnection, rows: &[EntryRow]) -> QueryResult<()> {
    diesel::insert_into(entries::table)
        .values(rows)
        .execute(conn)
        .map(drop)
}

/// Where the booking stopped reading fills: (fill time, fill id).
pub(crate) fn royalty_cursor(
    conn: &mut PgConnection,
) -> QueryResult<Option<(DateTime<Utc>, Uuid)>> {
    royalty_cursor::table
        .select((royalty_cursor::fill_at, royalty_cursor::fill_id))
        .first(conn)
        .optional()
}

/// Moves the cursor to (`at`, `id`), only forward: a slower concurrent pass never moves it
/// back.
pub(crate) fn advance_royalty_cursor(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(royalty_cursor::table)
        .values((
            royalty_cursor::id.eq(true),
            royalty_cursor::fill_at.eq(at),
            royalty_cursor::fill_id.eq(id),
            royalty_cursor::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    diesel::update(
        royalty_cursor::table.filter(
            royalty_cursor::fill_at.lt(at).or(royalty_cursor::fill_at
                .eq(at)
                .and(royalty_cursor::fill_id.lt(id))),
        ),
    )
    .set((
        royalty_cursor::fill_at.eq(at),
        royalty_cursor::fill_id.eq(id),
        royalty_cursor::updated_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

/// Royalties booked per account, for the accounts of `account_ids` visible to the caller.
pub(crate) fn royalties_by_account(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Option<Decimal>)>> {
    bookings::table
        .filter(bookings::account_id.eq_any(account_ids))
        .group_by(bookings::account_id)
        .select((bookings::account_id, diesel::dsl::sum(bookings::royalty)))
        .load(conn)
}

/// One page of `user`'s creator credits, newest first by (time, id).
pub(crate) fn credits_page(
    conn: &mut PgConnection,
    user: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<EntryRow>> {
    let mut query = entries::table
        .filter(entries::user_id.eq(user))
        .filter(entries::kind.eq("creator_credit"))
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(entries::created_at, entries::id, *key));
    }
    query
        .order((entries::created_at.desc(), entries::id.desc()))
        .limit(page.fetch_limit())
        .select(EntryRow::as_select())
        .load(conn)
}

/// A currency's credits: (currency, count, gross, net).
pub(crate) type CreditTotalRow = (String, i64, Option<Decimal>, Option<Decimal>);

/// `user`'s credits summed per currency.
pub(crate) fn credit_totals(
    conn: &mut PgConnection,
    user: Uuid,
) -> QueryResult<Vec<CreditTotalRow>> {
    entries::table
        .filter(entries::user_id.eq(user))
        .filter(entries::kind.eq("creator_credit"))
        .group_by(entries::quote_currency)
        .order(entries::quote_currency.asc())
        .select((
            entries::quote_currency,
            diesel::dsl::count_star(),
            diesel::dsl::sum(entries::gross),
            diesel::dsl::sum(entries::amount),
        ))
        .load(conn)
}
