//! The only module that touches the marketplace's tables. Row-level security decides what a
//! tenant transaction sees; the cycles and reviews run in the cross-tenant one.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    strategy_evaluations, strategy_lineage, strategy_status_history, user_strategies,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use uuid::Uuid;

use crate::models::{EvaluationRow, HistoryRow, LineageRow, StrategyRow};
use crate::views::{StrategyFilter, StrategySort};

pub(crate) fn insert_strategy(conn: &mut PgConnection, row: &StrategyRow) -> QueryResult<()> {
    diesel::insert_into(user_strategies::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn strategy(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<StrategyRow>> {
    user_strategies::table
        .find(id)
        .select(StrategyRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn lock_strategy(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<StrategyRow>> {
    user_strategies::table
        .find(id)
        .for_update()
        .select(StrategyRow::as_select())
        .first(conn)
        .optional()
}

/// The earliest strategy with `fingerprint` other than `except` that is not itself a
/// duplicate or a refused upload.
pub(crate) fn original_with_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
    except: Uuid,
) -> QueryResult<Option<Uuid>> {
    user_strategies::table
        .filter(user_strategies::fingerprint.eq(fingerprint))
        .filter(user_strategies::id.ne(except))
        .filter(user_strategies::status.ne_all(["duplicate", "rejected", "pending_review"]))
        .order((user_strategies::created_at.asc(), user_strategies::id.asc()))
        .select(user_strategies::id)
        .first(conn)
        .optional()
}

/// Whether any strategy has `fingerprint` (a mutation child that would repeat one is not made).
pub(crate) fn fingerprint_exists(conn: &mut PgConnection, fingerprint: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        user_strategies::table.filter(user_strategies::fingerprint.eq(fingerprint)),
    ))
    .get_result(conn)
}

pub(crate) fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    duplicate_of: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(user_strategies::table.find(id))
        .set((
            user_strategies::status.eq(status),
            user_strategies::duplicate_of.eq(duplicate_of),
            user_strategies::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn set_scores(
    conn: &mut PgConnection,
    id: Uuid,
    score: Option<f64>,
    robustness: Option<f64>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(user_strategies::table.find(id))
        .set((
            user_strategies::score.eq(score),
            user_strategies::robustness.eq(robustness),
            user_strategies::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Uploads by `uploader` since `since`, oldest first (their times).
pub(crate) fn uploads_since(
    conn: &mut PgConnection,
    uploader: Uuid,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    user_strategies::table
        .filter(user_strategies::uploader_user_id.eq(uploader))
        .filter(user_strategies::origin.eq("upload"))
        .filter(user_strategies::created_at.ge(since))
        .order(user_strategies::created_at.asc())
        .select(user_strategies::created_at)
        .load(conn)
}

/// Strategies in `statuses`, the least recently updated first (ties by fingerprint, so a
/// batch does not depend on random ids), at most `limit`.
pub(crate) fn in_statuses(
    conn: &mut PgConnection,
    statuses: &[&str],
    limit: i64,
) -> QueryResult<Vec<StrategyRow>> {
    user_strategies::table
        .filter(user_strategies::status.eq_any(statuses))
        .order((
            user_strategies::updated_at.asc(),
            user_strategies::fingerprint.asc(),
        ))
        .limit(limit)
        .select(StrategyRow::as_select())
        .load(conn)
}

/// Strategies in an evolving status whose full evaluation is the oldest (or missing), at most
/// `limit`.
pub(crate) fn due_for_evolution(
    conn: &mut PgConnection,
    limit: i64,
) -> QueryResult<Vec<StrategyRow>> {
    user_strategies::table
        .left_join(
            strategy_evaluations::table.on(strategy_evaluations::strategy_id
                .eq(user_strategies::id)
                .and(strategy_evaluations::kind.eq("full"))),
        )
        .filter(user_strategies::status.eq_any(["experiment", "candidate", "proposable"]))
        .order((
            strategy_evaluations::evaluated_at.asc().nulls_first(),
            user_strategies::created_at.asc(),
            user_strategies::fingerprint.asc(),
        ))
        .limit(limit)
        .select(StrategyRow::as_select())
        .load(conn)
}

/// The sanity behaviours of the strategies that passed review (for behavioural duplicates).
pub(crate) fn live_behaviours(
    conn: &mut PgConnection,
) -> QueryResult<Vec<(Uuid, Vec<Option<f64>>)>> {
    strategy_evaluations::table
        .inner_join(
            user_strategies::table.on(user_strategies::id.eq(strategy_evaluations::strategy_id)),
        )
        .filter(strategy_evaluations::kind.eq("sanity"))
        .filter(user_strategies::status.eq_any(["experiment", "candidate", "proposable"]))
        .order(user_strategies::created_at.asc())
        .select((user_strategies::id, strategy_evaluations::behaviour))
        .load(conn)
}

pub(crate) fn upsert_evaluation(conn: &mut PgConnection, row: &EvaluationRow) -> QueryResult<()> {
    diesel::insert_into(strategy_evaluations::table)
        .values(row)
        .on_conflict((
            strategy_evaluations::strategy_id,
            strategy_evaluations::kind,
        ))
        .do_update()
        .set((
            strategy_evaluations::metrics.eq(&row.metrics),
            strategy_evaluations::behaviour.eq(&row.behaviour),
            strategy_evaluations::result_hash.eq(&row.result_hash),
            strategy_evaluations::evaluated_at.eq(row.evaluated_at),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn evaluation(
    conn: &mut PgConnection,
    id: Uuid,
    kind: &str,
) -> QueryResult<Option<EvaluationRow>> {
    strategy_evaluations::table
        .find((id, kind))
        .select(EvaluationRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn insert_history(conn: &mut PgConnection, row: &HistoryRow) -> QueryResult<()> {
    diesel::insert_into(strategy_status_history::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn history(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<HistoryRow>> {
    strategy_status_history::table
        .filter(strategy_status_history::strategy_id.eq(id))
        .order((
            strategy_status_history::created_at.asc(),
            strategy_status_history::id.asc(),
        ))
        .select(HistoryRow::as_select())
        .load(conn)
}

pub(crate) fn insert_lineage(conn: &mut PgConnection, row: &LineageRow) -> QueryResult<()> {
    diesel::insert_into(strategy_lineage::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The link to `child`'s parent, if it has one.
pub(crate) fn parent_link(conn: &mut PgConnection, child: Uuid) -> QueryResult<Option<LineageRow>> {
    strategy_lineage::table
        .filter(strategy_lineage::child_id.eq(child))
        .select(LineageRow::as_select())
        .first(conn)
        .optional()
}

/// The links from `parents` to their children.
pub(crate) fn child_links(
    conn: &mut PgConnection,
    parents: &[Uuid],
) -> QueryResult<Vec<LineageRow>> {
    strategy_lineage::table
        .filter(strategy_lineage::parent_id.eq_any(parents))
        .order((
            strategy_lineage::created_at.asc(),
            strategy_lineage::id.asc(),
        ))
        .select(LineageRow::as_select())
        .load(conn)
}

pub(crate) fn child_count(conn: &mut PgConnection, parent: Uuid) -> QueryResult<i64> {
    strategy_lineage::table
        .filter(strategy_lineage::parent_id.eq(parent))
        .filter(strategy_lineage::mutation_type.ne("fork"))
        .count()
        .get_result(conn)
}

/// The score a list cursor's strategy had, if the caller sees it (the score order's position).
pub(crate) fn score_position(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Option<(DateTime<Utc>, Option<f64>)>> {
    user_strategies::table
        .find(id)
        .select((user_strategies::created_at, user_strategies::score))
        .first(conn)
        .optional()
}

/// One page of the strategies the caller sees, in the filter's order: newest first by
/// (creation, id), or by score with `after` the (score, id) of the previous page's last row.
pub(crate) fn page(
    conn: &mut PgConnection,
    viewer: Uuid,
    filter: &StrategyFilter,
    page: &PageRequest,
    after_score: Option<(Option<f64>, Uuid)>,
) -> QueryResult<Vec<StrategyRow>> {
    let mut query = user_strategies::table
        .select(StrategyRow::as_select())
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(user_strategies::status.eq(status.as_str()));
    }
    if let Some(asset_type) = &filter.asset_type {
        query = query.filter(user_strategies::asset_type.eq(asset_type.clone()));
    }
    if filter.mine {
        query = query.filter(user_strategies::uploader_user_id.eq(viewer));
    }
    if filter.sort == StrategySort::Score {
        match after_score {
            // Past a scored row: lower scores, the same score with a lower id, then unscored.
            Some((Some(score), id)) => {
                query = query.filter(
                    user_strategies::score
                        .lt(score)
                        .or(user_strategies::score
                            .eq(score)
                            .and(user_strategies::id.lt(id)))
                        .or(user_strategies::score.is_null()),
                );
            }
            Some((None, id)) => {
                query = query
                    .filter(user_strategies::score.is_null())
                    .filter(user_strategies::id.lt(id));
            }
            None => {}
        }
        return query
            .order((
                user_strategies::score.desc().nulls_last(),
                user_strategies::id.desc(),
            ))
            .limit(page.fetch_limit())
            .load(conn);
    }
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            user_strategies::created_at,
            user_strategies::id,
            *key,
        ));
    }
    query
        .order((
            user_strategies::created_at.desc(),
            user_strategies::id.desc(),
        ))
        .limit(page.fetch_limit())
        .load(conn)
}
