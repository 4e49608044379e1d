//! Mark-to-market: the latest mids of held instruments, and equity snapshots (equity, cash,
//! unrealized PnL, used margin, gross exposure, peak and drawdown) of the accounts due.
//!
//! A pass runs in rounds of at most [`MTM_ROUND`] accounts, each one transaction, walking the
//! due accounts in id order: the next ones locked (`SKIP LOCKED`, so concurrent workers take
//! different accounts, and an account an order holds waits for the next pass), their positions, cash and leverage read,
//! valued in memory, and one statement writing the snapshots with the accounts' marked time
//! and raised peaks. Marks are read through the feed between rounds, never inside one: a round
//! that finds an instrument it has no mark for writes nothing and runs again with it read.
//! Rounds bound how long an account stays locked by a pass.
//!
//! A position without a mark is valued at its entry and counted as unmarked, never skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::PgPropService;
use crate::models::{EquitySnapshotRow, PositionRow};
use crate::position::Position;
use crate::views::MtmReport;
use crate::{PropError, money, repo};

/// Equity figures of one account at `marks`.
struct Marked {
    equity: Decimal,
    cash: Decimal,
    unrealized: Decimal,
    gross: Decimal,
    unmarked: u64,
}

fn mark(cash: Decimal, positions: &[&PositionRow], marks: &BTreeMap<String, Decimal>) -> Marked {
    let mut unrealized = Decimal::ZERO;
    let mut gross = Decimal::ZERO;
    let mut unmarked = 0;
    for row in positions {
        let position = Position::new(row.size, row.avg_entry);
        let price = match marks.get(&row.instrument) {
            Some(price) => *price,
            None => {
                unmarked += 1;
                row.avg_entry
            }
        };
        unrealized += position.unrealized_pnl(price);
        gross += position.notional(price);
    }
    Marked {
        equity: cash + unrealized,
        cash,
        unrealized,
        gross,
        unmarked,
    }
}

impl PgPropService {
    /// Latest mids of `instruments` at `now` (instruments without a quote are left out).
    pub(super) async fn marks(
        &self,
        instruments: impl IntoIterator<Item = String>,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Decimal>, PropError> {
        let mut marks = BTreeMap::new();
        for instrument in instruments.into_iter().collect::<BTreeSet<_>>() {
            if let Some(quote) = self.feed.quote(&instrument, now).await? {
                marks.insert(instrument, quote.mid);
            }
        }
        Ok(marks)
    }

    pub(super) async fn mark_to_market_impl(&self, batch: u32) -> Result<MtmReport, PropError> {
        let now = self.clock.now();
        let mut remaining = i64::from(batch.clamp(1, 100_000));
        let mut report = MtmReport::default();
        let mut marks: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut asked: BTreeSet<String> = BTreeSet::new();
        let mut retries = 0;
        let mut after = Uuid::nil();
        while remaining > 0 {
            let limit = remaining.min(MTM_ROUND);
            // After a few retries, instruments that keep appearing are valued at entry.
            let view = Arc::new((marks.clone(), asked.clone(), retries >= 3));
            let round = self
                .db
                .cross_tenant_transaction("prop_mtm", move |conn| {
                    mark_round(conn, now, after, limit, &view.0, &view.1, view.2)
                })
                .await?;
            match round {
                MtmRound::Marked {
                    accounts,
                    unmarked_positions,
                    last,
                } => {
                    after = last.unwrap_or(after);
                    report.accounts += accounts;
                    report.unmarked_positions += unmarked_positions;
                    retries = 0;
                    let marked = i64::try_from(accounts).unwrap_or(i64::MAX);
                    if marked < limit {
                        break;
                    }
                    remaining -= marked;
                }
                MtmRound::NeedMarks(missing) => {
                    retries += 1;
                    marks.extend(self.marks(missing.iter().cloned(), now).await?);
                    asked.extend(missing);
                }
            }
        }
        Ok(report)
    }
}

/// The most accounts one round locks and marks.
const MTM_ROUND: i64 = 2_000;

/// What one round of a pass did.
enum MtmRound {
    /// Snapshots written.
    Marked {
        accounts: u64,
        unmarked_positions: u64,
        /// The last account of the round, where the next one starts.
        last: Option<Uuid>,
    },
    /// Nothing written: the locked accounts hold instruments whose marks were not read.
    NeedMarks(Vec<String>),
}

/// One round, inside its transaction.
fn mark_round(
    conn: &mut diesel::PgConnection,
    now: DateTime<Utc>,
    after: Uuid,
    limit: i64,
    marks: &BTreeMap<String, Decimal>,
    asked: &BTreeSet<String>,
    allow_unasked: bool,
) -> Result<MtmRound, PropError> {
    let accounts = repo::lock_due_accounts(conn, now, after, limit)?;
    if accounts.is_empty() {
        return Ok(MtmRound::Marked {
            accounts: 0,
            unmarked_positions: 0,
            last: None,
        });
    }
    let ids: Vec<Uuid> = accounts.iter().map(|row| row.id).collect();
    let positions = repo::positions_of_accounts(conn, &ids)?;
    let missing: BTreeSet<String> = positions
        .iter()
        .filter(|position| !asked.contains(&position.instrument))
        .map(|position| position.instrument.clone())
        .collect();
    if !missing.is_empty() && !allow_unasked {
        return Ok(MtmRound::NeedMarks(missing.into_iter().collect()));
    }
    let cash: BTreeMap<Uuid, Decimal> = repo::cash_of_accounts(conn, &ids)?.into_iter().collect();
    let leverage: BTreeMap<Uuid, Decimal> = repo::limits_of_accounts(conn, &ids)?
        .into_iter()
        .map(|limits| (limits.account_id, limits.max_leverage))
        .collect();
    let mut by_account: BTreeMap<Uuid, Vec<&PositionRow>> = BTreeMap::new();
    for position in &positions {
        by_account
            .entry(position.account_id)
            .or_default()
            .push(position);
    }
    let mut unmarked_positions = 0;
    let mut snapshots = Vec::with_capacity(accounts.len());
    for account in &accounts {
        let held = by_account
            .get(&account.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let marked = mark(
            cash.get(&account.id).copied().unwrap_or_default(),
            held,
            marks,
        );
        let peak = account.peak_equity.max(marked.equity);
        unmarked_positions += marked.unmarked;
        snapshots.push(EquitySnapshotRow {
            id: Uuid::new_v4(),
            account_id: account.id,
            owner_user_id: account.owner_user_id,
            at: now,
            equity: marked.equity,
            cash: marked.cash,
            unrealized_pnl: marked.unrealized,
            used_margin: money(
                marked.gross / leverage.get(&account.id).copied().unwrap_or(Decimal::ONE),
            ),
            gross_exposure: marked.gross,
            peak_equity: peak,
            drawdown: (peak - marked.equity).max(Decimal::ZERO),
        });
    }
    repo::write_marks(conn, now, &snapshots)?;
    Ok(MtmRound::Marked {
        accounts: u64::try_from(accounts.len()).unwrap_or(u64::MAX),
        unmarked_positions,
        last: accounts.last().map(|account| account.id),
    })
}
