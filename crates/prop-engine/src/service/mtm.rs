//! Mark-to-market: the latest mids of held instruments, and equity snapshots (equity, cash,
//! unrealized PnL, used margin, gross exposure, peak and drawdown) of a claimed batch of
//! accounts.
//!
//! A batch is claimed by stamping its accounts marked at this instant (one statement, which
//! concurrent workers skip past), then valued in memory and written in a second transaction
//! (snapshots, and the peaks that rose). If that write fails, the claimed accounts go without a
//! snapshot for this instant and are marked by the next pass.
//!
//! A position without a mark is valued at its entry and counted as unmarked, never skipped.

use std::collections::{BTreeMap, BTreeSet};

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
        let limit = i64::from(batch.clamp(1, 100_000));
        let (accounts, positions, (cash, leverage)) = self
            .db
            .cross_tenant_transaction("prop_mtm_claim", move |conn| {
                let accounts = repo::claim_mtm_batch(conn, now, limit)?;
                let ids: Vec<Uuid> = accounts.iter().map(|row| row.id).collect();
                let positions = repo::positions_of_accounts(conn, &ids)?;
                let cash: BTreeMap<Uuid, Decimal> =
                    repo::cash_of_accounts(conn, &ids)?.into_iter().collect();
                let leverage: BTreeMap<Uuid, Decimal> = repo::limits_of_accounts(conn, &ids)?
                    .into_iter()
                    .map(|limits| (limits.account_id, limits.max_leverage))
                    .collect();
                Ok::<_, PropError>((accounts, positions, (cash, leverage)))
            })
            .await?;
        if accounts.is_empty() {
            return Ok(MtmReport::default());
        }
        let marks = self
            .marks(positions.iter().map(|p| p.instrument.clone()), now)
            .await?;
        let mut by_account: BTreeMap<Uuid, Vec<&PositionRow>> = BTreeMap::new();
        for position in &positions {
            by_account
                .entry(position.account_id)
                .or_default()
                .push(position);
        }
        let mut report = MtmReport::default();
        let mut snapshots = Vec::with_capacity(accounts.len());
        let mut peaks = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let held = by_account
                .get(&account.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let marked = mark(
                cash.get(&account.id).copied().unwrap_or_default(),
                held,
                &marks,
            );
            let peak = account.peak_equity.max(marked.equity);
            report.accounts += 1;
            report.unmarked_positions += marked.unmarked;
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
            if peak > account.peak_equity {
                peaks.push((account.id, peak));
            }
        }
        self.db
            .cross_tenant_transaction("prop_mtm_write", move |conn| {
                repo::insert_snapshots(conn, &snapshots)?;
                repo::raise_peaks(conn, &peaks)?;
                Ok::<_, PropError>(())
            })
            .await?;
        Ok(report)
    }
}
