//! Keyset conditions for lists paged by `(time, id)` ([`TimeKey`]): which rows follow a page's
//! last row, in a list sorted newest first or oldest first.
//!
//! Every such list breaks ties the same way, time first and then id, each compared strictly,
//! so a row is on exactly one page however many rows share a timestamp. The condition is
//! written `time >= at AND (time > at OR id > last)` (mirrored for newest first) rather than
//! `time > at OR (time = at AND id > last)`: the same rows, but its first bound lets an index
//! on `(…, time, id)` start its scan at the cursor. It is boxed, for the boxed queries the
//! repositories build, and binds its values, so the statement is still prepared once and
//! cached by its text.

use chrono::{DateTime, Utc};
use clones_kernel::TimeKey;
use diesel::expression::{BoxableExpression, Expression};
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use diesel::{BoolExpressionMethods, ExpressionMethods, dsl};
use uuid::Uuid;

/// A boxed condition on the rows of `QS`.
pub type KeysetCondition<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// The rows after `key` in a newest-first list: an earlier `time`, or the same `time` and a
/// smaller `id`.
pub fn older_than<QS, T, I>(time: T, id: I, key: TimeKey) -> KeysetCondition<QS>
where
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy + 'static,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + 'static,
    dsl::And<dsl::LtEq<T, DateTime<Utc>>, dsl::Or<dsl::Lt<T, DateTime<Utc>>, dsl::Lt<I, Uuid>>>:
        BoxableExpression<QS, Pg, SqlType = Bool> + 'static,
{
    let (at, last) = key;
    Box::new(time.le(at).and(time.lt(at).or(id.lt(last))))
}

/// The rows after `key` in an oldest-first list: a later `time`, or the same `time` and a
/// greater `id`.
pub fn newer_than<QS, T, I>(time: T, id: I, key: TimeKey) -> KeysetCondition<QS>
where
    T: Expression<SqlType = Timestamptz> + ExpressionMethods + Copy + 'static,
    I: Expression<SqlType = SqlUuid> + ExpressionMethods + 'static,
    dsl::And<dsl::GtEq<T, DateTime<Utc>>, dsl::Or<dsl::Gt<T, DateTime<Utc>>, dsl::Gt<I, Uuid>>>:
        BoxableExpression<QS, Pg, SqlType = Bool> + 'static,
{
    let (at, last) = key;
    Box::new(time.ge(at).and(time.gt(at).or(id.gt(last))))
}
