//! What a deliberation reads besides the clone: account state from prop-engine and candles from
//! market memory (with their recent bars for the context packet), the latter through a
//! [`MarketCache`] so a cycle reads each series and mid once, not once per clone.
//!
//! Reads only, through `PropService` and `MarketData`; it decides nothing and records nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use clones_ingest::Candle;
use clones_market::Timeframe;
use clones_prop_engine::{AccountContext, AccountStatus, AccountView, PositionView, TradingState};
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

/// The value cached under `key`, or what `read` answers (then cached). Two deliberations that
/// miss at once both read; the reads are idempotent, so that costs a read, never a wrong answer.
async fn read_once<K, V>(
    cache: &Mutex<HashMap<K, V>>,
    key: K,
    read: impl std::future::Future<Output = Result<V, DecisionError>>,
) -> Result<V, DecisionError>
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    let known = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    if let Some(value) = known {
        return Ok(value);
    }
    let value = read.await?;
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, value.clone());
    Ok(value)
}

/// Open positions by instrument (flat ones left out).
fn held<'a>(positions: impl IntoIterator<Item = &'a PositionView>) -> BTreeMap<String, Decimal> {
    positions
        .into_iter()
        .filter(|position| !position.size.is_zero())
        .map(|position| (position.instrument.clone(), position.size))
        .collect()
}

/// A skipped deliberation's reason: (code, detail).
pub(super) type Skip = (&'static str, String);

/// A series read: instrument, timeframe, and the window's bounds in unix seconds.
type WindowKey = (String, Timeframe, i64, i64);

/// A mid and when it was observed.
type Mid = (Decimal, DateTime<Utc>);

/// Candles and mids read during one cycle (or one decision), shared by its deliberations.
/// Every deliberation of a cycle decides at the same `now`, so a series read once serves all.
#[derive(Debug, Default)]
pub(super) struct MarketCache {
    candles: Mutex<HashMap<WindowKey, Vec<Candle>>>,
    mids: Mutex<HashMap<String, Option<Mid>>>,
}

/// The state of an assigned account, or why it cannot be traded for `clone_id`.
pub(super) fn assigned_state(
    clone_id: Uuid,
    account: &AccountView,
    positions: BTreeMap<String, Decimal>,
    latest_equity: Option<Decimal>,
) -> Result<AccountState, Skip> {
    if account.status != AccountStatus::Active {
        return Err((
            "account_not_active",
            format!("prop account {} is {}", account.id, account.status.as_str()),
        ));
    }
    if account.clone_id.is_some_and(|id| id != clone_id) {
        return Err((
            "account_not_for_clone",
            format!("prop account {} belongs to another clone", account.id),
        ));
    }
    let (equity, equity_source) = match latest_equity {
        Some(equity) => (equity, "snapshot"),
        None => (account.cash, "cash"),
    };
    Ok(AccountState {
        account_id: Some(account.id),
        equity,
        equity_source,
        positions,
    })
}

/// [`assigned_state`] of what [`PropService::trading_states`](clones_prop_engine::PropService::trading_states) read.
pub(super) fn state_of(clone_id: Uuid, state: &TradingState) -> Result<AccountState, Skip> {
    assigned_state(
        clone_id,
        &state.account,
        held(&state.positions),
        state.latest_equity.as_ref().map(|point| point.equity),
    )
}

impl PgDecisionService {
    /// The mid of `instrument` at `now`, read once per cache.
    pub(super) async fn cached_mid(
        &self,
        cache: &MarketCache,
        instrument: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Mid>, DecisionError> {
        read_once(&cache.mids, instrument.to_string(), async {
            Ok(self.market.latest_mid(instrument, now).await?)
        })
        .await
    }

    async fn cached_candles(
        &self,
        cache: &MarketCache,
        instrument: &str,
        timeframe: Timeframe,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Candle>, DecisionError> {
        let key = (
            instrument.to_string(),
            timeframe,
            from.timestamp(),
            to.timestamp(),
        );
        read_once(&cache.candles, key, async {
            Ok(self.market.candles(instrument, timeframe, from, to).await?)
        })
        .await
    }

    pub(super) async fn account_state(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        source: AccountSource,
    ) -> Result<Result<AccountState, Skip>, DecisionError> {
        let account = match source {
            AccountSource::Assigned(account_id) => {
                let account = self.prop.account(owner, account_id).await?;
                let positions = self.positions_of(owner, account_id).await?;
                let equity = self
                    .prop
                    .latest_equity(owner, account_id)
                    .await?
                    .map(|point| point.equity);
                return Ok(assigned_state(clone_id, &account, positions, equity));
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
        let positions = self.positions_of(owner, account.id).await?;
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

    async fn positions_of(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<BTreeMap<String, Decimal>, DecisionError> {
        Ok(held(&self.prop.positions(owner, account_id).await?))
    }

    /// The candles every requirement of `plan` reads (complete bars only, warm-up times
    /// `history_multiple`), and their most recent bars for the packet.
    pub(super) async fn market_window(
        &self,
        plan: &CompiledPlan,
        now: DateTime<Utc>,
        cache: &MarketCache,
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
                .cached_candles(cache, &instrument, key.timeframe, from, to)
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
