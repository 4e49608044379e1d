//! What a deliberation reads besides the clone: account state from prop-engine and candles from
//! market memory (with their recent bars for the context packet).
//!
//! Reads only, through `PropService` and `MarketData`; it decides nothing and records nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use clones_prop_engine::{AccountContext, AccountStatus};
use clones_strategy::{Bar, CompiledPlan, MarketWindow, SeriesKey};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{PgDecisionService, floor_to, unreadable};
use crate::DecisionError;
use crate::model::{PacketBar, PacketSeries};

/// The most candles read per series (market memory's page size).
const MAX_BARS: u32 = 5_000;

/// Where a decision's account state comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum AccountSource {
    /// The assignment's account.
    Assigned(Uuid),
    /// A dry run: the clone's newest active audition or Arena account, or a nominal equity.
    DryRun,
}

/// Account state at decision time.
#[derive(Debug, Clone)]
pub(super) struct AccountState {
    pub(super) account_id: Option<Uuid>,
    pub(super) equity: Decimal,
    pub(super) equity_source: &'static str,
    pub(super) positions: BTreeMap<String, Decimal>,
}

impl PgDecisionService {
    pub(super) async fn account_state(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        source: AccountSource,
    ) -> Result<Result<AccountState, (&'static str, String)>, DecisionError> {
        let account = match source {
            AccountSource::Assigned(account_id) => {
                let account = self.prop.account(owner, account_id).await?;
                if account.status != AccountStatus::Active {
                    return Ok(Err((
                        "account_not_active",
                        format!("prop account {account_id} is {}", account.status.as_str()),
                    )));
                }
                if account.clone_id.is_some_and(|id| id != clone_id) {
                    return Ok(Err((
                        "account_not_for_clone",
                        format!("prop account {account_id} belongs to another clone"),
                    )));
                }
                Some(account)
            }
            AccountSource::DryRun => self
                .prop
                .accounts(owner)
                .await?
                .into_iter()
                .find(|account| {
                    account.clone_id == Some(clone_id)
                        && account.status == AccountStatus::Active
                        && matches!(
                            account.context,
                            AccountContext::Audition | AccountContext::Arena
                        )
                }),
        };
        let Some(account) = account else {
            return Ok(Ok(AccountState {
                account_id: None,
                equity: self.settings.dry_run_equity,
                equity_source: "nominal",
                positions: BTreeMap::new(),
            }));
        };
        let positions = self
            .prop
            .positions(owner, account.id)
            .await?
            .into_iter()
            .filter(|position| !position.size.is_zero())
            .map(|position| (position.instrument, position.size))
            .collect();
        let (equity, equity_source) = match self.prop.latest_equity(owner, account.id).await? {
            Some(point) => (point.equity, "snapshot"),
            None => (account.cash, "cash"),
        };
        Ok(Ok(AccountState {
            account_id: Some(account.id),
            equity,
            equity_source,
            positions,
        }))
    }

    /// The candles every requirement of `plan` reads (complete bars only, warm-up times
    /// `history_multiple`), and their most recent bars for the packet.
    pub(super) async fn market_window(
        &self,
        plan: &CompiledPlan,
        now: DateTime<Utc>,
    ) -> Result<(MarketWindow, Vec<PacketSeries>), DecisionError> {
        let mut window = MarketWindow::new();
        let mut packet = Vec::new();
        for requirement in plan.requirements() {
            // Prediction-market series are not read yet; they count as empty (a shortfall).
            let SeriesKey::Candles(key) = &requirement.series else {
                continue;
            };
            // A calendar month has no fixed length; no strategy names one.
            let Some(tf) = key.timeframe.seconds() else {
                continue;
            };
            let wanted = requirement
                .warmup_bars
                .saturating_mul(self.settings.history_multiple.max(1))
                .clamp(requirement.warmup_bars.max(1), MAX_BARS);
            // The bar opening at the current boundary is still forming: read up to it.
            let to = floor_to(now, tf);
            let from = to - Duration::seconds(tf.saturating_mul(i64::from(wanted)));
            let instrument = self
                .instrument_of(&key.asset)
                .map_err(unreadable)?
                .to_string();
            let candles = self
                .market
                .candles(&instrument, key.timeframe, from, to)
                .await?;
            let bars: Vec<Bar> = candles
                .iter()
                .map(|candle| Bar {
                    time: candle.open_time.timestamp(),
                    open: candle.open,
                    high: candle.high,
                    low: candle.low,
                    close: candle.close,
                    volume: candle.volume,
                })
                .collect();
            let recent = bars.len().saturating_sub(self.settings.packet_bars);
            packet.push(PacketSeries {
                asset: key.asset.clone(),
                timeframe: key.timeframe,
                bars: bars[recent..].iter().copied().map(PacketBar).collect(),
            });
            window = window.with_candles(&key.asset, key.timeframe, bars);
        }
        Ok((window, packet))
    }
}
