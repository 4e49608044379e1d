//! The only module of the identity context that touches its tables. Every function takes an
//! open connection so callers decide the transaction boundaries.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    auth_challenges, refresh_tokens, security_events, service_tokens, sessions, user_roles,
    user_wallets, users,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use diesel::{self, PgConnection};
use uuid::Uuid;

use crate::models::{
    ChallengeRow, RefreshTokenRow, RoleRow, SecurityEventRow, ServiceTokenRow, SessionRow,
    WalletRow,
};

type QueryResult<T> = Result<T, diesel::result::Error>;

pub fn insert_challenge(conn: &mut PgConnection, row: &ChallengeRow) -> QueryResult<()> {
    diesel::insert_into(auth_challenges::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_challenge(conn: &mut PgConnection, nonce: &str) -> QueryResult<Option<ChallengeRow>> {
    auth_challenges::table
        .find(nonce)
        .select(ChallengeRow::as_select())
        .first(conn)
        .optional()
}

/// Marks the challenge used; false when it already was (the loser of a race).
pub fn consume_challenge(
    conn: &mut PgConnection,
    nonce: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        auth_challenges::table
            .find(nonce)
            .filter(auth_challenges::consumed_at.is_null()),
    )
    .set(auth_challenges::consumed_at.eq(at))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn find_wallet(conn: &mut PgConnection, address: &str) -> QueryResult<Option<WalletRow>> {
    user_wallets::table
        .find(address)
        .select(WalletRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts the wallet unless the address is already linked; true when inserted.
pub fn insert_wallet(conn: &mut PgConnection, row: &WalletRow) -> QueryResult<bool> {
    let inserted = diesel::insert_into(user_wallets::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

pub fn insert_user(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((users::id.eq(id), users::created_at.eq(at)))
        .execute(conn)
        .map(drop)
}

pub fn delete_user(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(users::table.find(id))
        .execute(conn)
        .map(drop)
}

/// A user's creation time, roles (by name) and wallets (oldest link first), in one prepared
/// statement; `None` when the user does not exist. The wallets and roles come joined (a few rows
/// each) and are taken apart here.
pub fn account_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AccountRows>> {
    let rows: Vec<(DateTime<Utc>, Option<WalletRow>, Option<String>)> = users::table
        .left_join(user_wallets::table)
        .left_join(user_roles::table)
        .filter(users::id.eq(id))
        .order((user_wallets::linked_at.asc(), user_roles::role.asc()))
        .select((
            users::created_at,
            Option::<WalletRow>::as_select(),
            user_roles::role.nullable(),
        ))
        .load(conn)?;
    let Some(created_at) = rows.first().map(|(created_at, ..)| *created_at) else {
        return Ok(None);
    };
    let mut roles = std::collections::BTreeSet::new();
    let mut wallets: Vec<WalletRow> = Vec::new();
    for (_, wallet, role) in rows {
        roles.extend(role);
        if let Some(wallet) = wallet
            && !wallets.iter().any(|known| known.address == wallet.address)
        {
            wallets.push(wallet);
        }
    }
    Ok(Some(AccountRows {
        created_at,
        roles: roles.into_iter().collect(),
        wallets,
    }))
}

/// What [`account_of`] reads: a user's creation time, roles and wallets.
#[derive(Debug, Clone)]
pub struct AccountRows {
    pub created_at: DateTime<Utc>,
    /// Role names, sorted.
    pub roles: Vec<String>,
    /// Oldest link first.
    pub wallets: Vec<WalletRow>,
}

pub fn has_role(conn: &mut PgConnection, user_id: Uuid, role: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        user_roles::table
            .filter(user_roles::user_id.eq(user_id))
            .filter(user_roles::role.eq(role)),
    ))
    .get_result(conn)
}

/// Grants a role; granting one already held changes nothing.
pub fn grant_role(conn: &mut PgConnection, row: &RoleRow) -> QueryResult<bool> {
    let inserted = diesel::insert_into(user_roles::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

/// Removes a role; true when the user held it.
pub fn revoke_role(conn: &mut PgConnection, user_id: Uuid, role: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(
        user_roles::table
            .filter(user_roles::user_id.eq(user_id))
            .filter(user_roles::role.eq(role)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

pub fn insert_session(conn: &mut PgConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_session(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn touch_session(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_refreshed_at.eq(at))
        .execute(conn)
        .map(drop)
}

/// Revokes one session if it is live; true when this call revoked it.
pub fn revoke_session(
    conn: &mut PgConnection,
    id: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every live session of a user, returning how many.
pub fn revoke_sessions_of(
    conn: &mut PgConnection,
    user_id: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

pub fn insert_refresh_token(conn: &mut PgConnection, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Atomically marks an unused, unexpired refresh token as used and returns it. Concurrent
/// callers serialise on the row lock; exactly one sees the row.
pub fn use_refresh_token(
    conn: &mut PgConnection,
    hash: &[u8],
    at: DateTime<Utc>,
) -> QueryResult<Option<RefreshTokenRow>> {
    diesel::update(
        refresh_tokens::table
            .find(hash)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(at)),
    )
    .set(refresh_tokens::used_at.eq(at))
    .returning(RefreshTokenRow::as_returning())
    .get_result(conn)
    .optional()
}

pub fn find_refresh_token(
    conn: &mut PgConnection,
    hash: &[u8],
) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .find(hash)
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Appends to a user's security log. The caller's transaction must act for that user
/// (row-level security checks it).
pub fn insert_security_event(conn: &mut PgConnection, row: &SecurityEventRow) -> QueryResult<()> {
    diesel::insert_into(security_events::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The newest events visible to the current tenant.
pub fn recent_security_events(
    conn: &mut PgConnection,
    page: &PageRequest,
) -> QueryResult<Vec<SecurityEventRow>> {
    let mut query = security_events::table.into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            security_events::created_at,
            security_events::id,
            *key,
        ));
    }
    query
        .order((
            security_events::created_at.desc(),
            security_events::id.desc(),
        ))
        .limit(page.fetch_limit())
        .select(SecurityEventRow::as_select())
        .load(conn)
}

pub fn insert_service_token(conn: &mut PgConnection, row: &ServiceTokenRow) -> QueryResult<()> {
    diesel::insert_into(service_tokens::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Finds a live service token by hash and records its use.
pub fn use_service_token(
    conn: &mut PgConnection,
    hash: &[u8],
    at: DateTime<Utc>,
) -> QueryResult<Option<ServiceTokenRow>> {
    diesel::update(
        service_tokens::table
            .filter(service_tokens::token_hash.eq(hash))
            .filter(service_tokens::revoked_at.is_null())
            .filter(
                service_tokens::expires_at
                    .is_null()
                    .or(service_tokens::expires_at.gt(at)),
            ),
    )
    .set(service_tokens::last_used_at.eq(at))
    .returning(ServiceTokenRow::as_returning())
    .get_result(conn)
    .optional()
}

pub fn revoke_service_token(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        service_tokens::table
            .find(id)
            .filter(service_tokens::revoked_at.is_null()),
    )
    .set(service_tokens::revoked_at.eq(at))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn list_service_tokens(conn: &mut PgConnection) -> QueryResult<Vec<ServiceTokenRow>> {
    service_tokens::table
        .order(service_tokens::created_at.asc())
        .select(ServiceTokenRow::as_select())
        .load(conn)
}

/// Deletes challenges that expired before `before`.
pub fn purge_challenges(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(auth_challenges::table.filter(auth_challenges::expires_at.lt(before)))
        .execute(conn)
}

/// Deletes sessions (and, by cascade, their refresh tokens) that ended before `before`.
pub fn purge_sessions(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .lt(before)
                .or(sessions::revoked_at.lt(before)),
        ),
    )
    .execute(conn)
}
