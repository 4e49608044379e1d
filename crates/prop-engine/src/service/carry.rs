//! Carry: perp funding (once per funding time, for positions opened before it) and the
//! settlement of resolved outcome shares, for one account or a batch of accounts with open
//! positions.
//!
//! Rates and resolutions are read from the feed before the transaction that books them opens.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clones_market::InstrumentKind;
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::PgPropService;
use super::mapping::paper_from;
use super::owned_account;
use crate::models::PositionRow;
use crate::views::CarryReport;
use crate::{PropError, repo};

/// Funding and settlements found due before the transaction.
struct Carry {
    funding: Vec<(String, crate::feed::FundingRate)>,
    resolutions: Vec<(String, crate::feed::OutcomeResolution)>,
}

fn apply_carry(
    conn: &mut PgConnection,
    account_id: Uuid,
    carry: &Carry,
    now: DateTime<Utc>,
) -> Result<CarryReport, PropError> {
    let account = repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
    let owner = account.owner_user_id;
    let balance_rows = repo::balances_of(conn, account_id)?;
    let mut rows: BTreeMap<String, PositionRow> = repo::positions_of(conn, account_id)?
        .into_iter()
        .map(|row| (row.instrument.clone(), row))
        .collect();
    let mut paper = paper_from(&balance_rows, &rows.values().cloned().collect::<Vec<_>>())?;
    let mut report = CarryReport::default();
    for (key, rate) in &carry.funding {
        let Some(row) = rows.get_mut(key) else {
            continue;
        };
        let due = !row.size.is_zero()
            && row.opened_at <= rate.at
            && row.last_funding_at.is_none_or(|last| last < rate.at);
        if !due {
            continue;
        }
        let (paid, event) = paper.apply_funding(key, rate.mark, rate.rate);
        if let Some(event) = &event {
            repo::record_event(conn, account_id, owner, event, None, Some(key.clone()), now)?;
        }
        row.funding_paid += paid;
        row.last_funding_at = Some(rate.at);
        row.updated_at = now;
        repo::upsert_position(conn, row)?;
        report.funding_payments += 1;
        report.funding_paid += paid;
    }
    for (key, resolution) in &carry.resolutions {
        let Some(row) = rows.get_mut(key) else {
            continue;
        };
        if row.size.is_zero() || row.kind != InstrumentKind::Outcome.as_str() {
            continue;
        }
        let (pnl, event) = paper.settle(key, resolution.payout);
        if let Some(event) = &event {
            repo::record_event(conn, account_id, owner, event, None, Some(key.clone()), now)?;
        }
        row.size = Decimal::ZERO;
        row.avg_entry = Decimal::ZERO;
        row.realized_pnl += pnl;
        row.settled_at = Some(resolution.resolved_at);
        row.updated_at = now;
        repo::upsert_position(conn, row)?;
        report.settlements += 1;
        report.settlement_pnl += pnl;
    }
    Ok(report)
}

impl PgPropService {
    /// The funding rates and outcome resolutions due on the account's open positions at `now`.
    async fn carry_due(&self, account_id: Uuid, now: DateTime<Utc>) -> Result<Carry, PropError> {
        let positions = self
            .db
            .cross_tenant_transaction("prop_carry_read", move |conn| {
                owned_account(conn, account_id)?;
                repo::positions_of(conn, account_id).map_err(PropError::from)
            })
            .await?;
        let mut carry = Carry {
            funding: Vec::new(),
            resolutions: Vec::new(),
        };
        for position in positions.iter().filter(|p| !p.size.is_zero()) {
            if position.kind == InstrumentKind::Perp.as_str() {
                if let Some(rate) = self.feed.funding_rate(&position.instrument, now).await? {
                    carry.funding.push((position.instrument.clone(), rate));
                }
            } else if position.kind == InstrumentKind::Outcome.as_str()
                && let Some(resolution) = self
                    .feed
                    .outcome_resolution(&position.instrument, now)
                    .await?
            {
                carry
                    .resolutions
                    .push((position.instrument.clone(), resolution));
            }
        }
        Ok(carry)
    }

    pub(super) async fn apply_funding_and_settlement_impl(
        &self,
        account_id: Uuid,
    ) -> Result<CarryReport, PropError> {
        let now = self.clock.now();
        let carry = self.carry_due(account_id, now).await?;
        if carry.funding.is_empty() && carry.resolutions.is_empty() {
            return Ok(CarryReport::default());
        }
        self.db
            .cross_tenant_transaction("prop_carry", move |conn| {
                apply_carry(conn, account_id, &carry, now)
            })
            .await
    }

    pub(super) async fn apply_carry_due_impl(&self, batch: u32) -> Result<CarryReport, PropError> {
        let limit = i64::from(batch.clamp(1, 100_000));
        let accounts = self
            .db
            .cross_tenant_transaction("prop_carry_scan", move |conn| {
                repo::accounts_with_open_positions(conn, limit).map_err(PropError::from)
            })
            .await?;
        let mut total = CarryReport::default();
        for account_id in accounts {
            let applied = self.apply_funding_and_settlement_impl(account_id).await?;
            total.funding_payments += applied.funding_payments;
            total.funding_paid += applied.funding_paid;
            total.settlements += applied.settlements;
            total.settlement_pnl += applied.settlement_pnl;
        }
        Ok(total)
    }
}
