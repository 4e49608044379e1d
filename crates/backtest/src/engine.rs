//! The bar-replay engine: a compiled plan decides on each bar's close (the strategy crate's
//! replay, no look-ahead), proposals are sized with the strategy crate's sizing, and orders
//! fill through prop-engine's fill simulation and paper account, so a backtest and a paper
//! account share one definition of fills, fees, positions and the ledger.
//!
//! Pure: no database, no clock, no I/O. The same plan, window and settings always give the
//! same report, byte for byte.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use clones_market::{InstrumentKey, Side};
use clones_prop_engine::fill::simulate;
use clones_prop_engine::{
    Execution, FeeSchedule, FillConfig, LedgerEvent, MarketQuote, OrderSpec, OrderType,
    PaperAccount, Position, TimeInForce, TradeOutcome,
};
use clones_strategy::sizing::{SizedOrder, size_order};
use clones_strategy::{
    ActionKind, Bar, CompiledPlan, MarketWindow, ProposedAction, RiskSettings, SeriesKey, replay,
};
use rust_decimal::Decimal;

use crate::metrics::{self, Context};
use crate::report::{
    BacktestReport, Direction, EquityPoint, FillReason, FillRecord, Trade, result_hash,
};
use crate::settings::{BacktestSettings, EndAt, FillAt, TradedInstrument};
use crate::stops::Levels;

/// Why a backtest cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacktestError {
    /// The settings are out of range.
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    /// The plan trades an asset the input gives no instrument for.
    #[error("no instrument for traded asset {0}")]
    NoInstrument(String),
    /// A traded asset has no candles in the window.
    #[error("no candles for traded asset {0}")]
    NoData(String),
    /// A series is out of time order.
    #[error("series out of order: {0}")]
    Unordered(String),
    /// Market data could not be read.
    #[error("invalid market data: {0}")]
    Data(String),
    /// The observer asked the run to stop (a cancelled job).
    #[error("the backtest was stopped before it finished")]
    Stopped,
}

impl BacktestError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            BacktestError::InvalidSettings(_) => "invalid_backtest_settings",
            BacktestError::NoInstrument(_) => "backtest_instrument_missing",
            BacktestError::NoData(_) => "backtest_no_data",
            BacktestError::Unordered(_) => "unordered_series",
            BacktestError::Data(_) => "invalid_market_data",
            BacktestError::Stopped => "backtest_stopped",
        }
    }
}

/// What to backtest.
#[derive(Debug, Clone, Copy)]
pub struct BacktestInput<'a> {
    /// The compiled strategy.
    pub plan: &'a CompiledPlan,
    /// Every series the plan reads, including warm-up history before `from`.
    pub window: &'a MarketWindow,
    /// The instrument of each traded asset.
    pub instruments: &'a BTreeMap<String, TradedInstrument>,
    /// Bars opening before this (Unix seconds) only warm indicators up; `None`: from the first.
    pub from: Option<i64>,
    /// Bars opening at or after this are left out; `None`: to the last.
    pub to: Option<i64>,
}

/// How far a run has come: bars replayed of all bars it will replay (every traded asset's
/// bars before the range's end, warm-up included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bars replayed so far.
    pub done: u64,
    /// Bars the run replays in all.
    pub total: u64,
}

/// Bars between two progress reports: often enough for a progress bar, rare enough to cost
/// nothing next to the replay.
pub const PROGRESS_EVERY: u64 = 16_384;

/// One traded asset's bars and state.
struct Asset<'w> {
    name: String,
    key: InstrumentKey,
    /// `key` as text, the account's position key.
    key_text: String,
    lot_step: Decimal,
    fee_rate: Decimal,
    bars: &'w [Bar],
    bar_secs: i64,
    /// The next bar to process.
    next: usize,
    last_close: Option<Decimal>,
    pending: Option<Pending>,
    risk: RiskSettings,
    trade: Option<OpenTrade>,
    /// The account's position in the asset, as its last execution left it: the account is
    /// changed only through [`Run::execute`], which refreshes this from the outcome.
    position: Position,
    /// The stop-loss and take-profit prices of the open position, computed once per
    /// position and risk setting rather than on every bar; `None` until needed.
    levels: Option<Levels>,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    order: SizedOrder,
}

#[derive(Debug, Clone)]
struct OpenTrade {
    direction: Direction,
    entry_time: i64,
    entry_notional: Decimal,
    entry_size: Decimal,
    exit_notional: Decimal,
    exit_size: Decimal,
    max_size: Decimal,
    realized: Decimal,
    fees: Decimal,
}

/// The mutable state of one run.
struct Run<'a> {
    settings: &'a BacktestSettings,
    fees: FeeSchedule,
    fill_config: FillConfig,
    account: PaperAccount,
    /// The account's cash, refreshed after every execution.
    cash: Decimal,
    events: Vec<LedgerEvent>,
    fills: Vec<FillRecord>,
    trades: Vec<Trade>,
}

/// Runs a backtest.
///
/// # Errors
/// [`BacktestError`] when the settings are out of range, a traded asset has no instrument or
/// no candles, or a series is out of time order.
pub fn run(
    input: &BacktestInput<'_>,
    settings: &BacktestSettings,
) -> Result<BacktestReport, BacktestError> {
    let (report, _) = run_with_ledger(input, settings)?;
    Ok(report)
}

/// [`run`], also returning every ledger event the account recorded (for checks that the
/// ledger balances).
///
/// # Errors
/// As [`run`].
pub fn run_with_ledger(
    input: &BacktestInput<'_>,
    settings: &BacktestSettings,
) -> Result<(BacktestReport, Vec<LedgerEvent>), BacktestError> {
    run_observed(input, settings, &mut |_| ControlFlow::Continue(()))
}

/// [`run_with_ledger`], reporting [`Progress`] to `observe` every [`PROGRESS_EVERY`] bars and
/// once at the end; the run stops with [`BacktestError::Stopped`] when `observe` breaks.
///
/// # Errors
/// As [`run`], and [`BacktestError::Stopped`].
pub fn run_observed(
    input: &BacktestInput<'_>,
    settings: &BacktestSettings,
    observe: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<(BacktestReport, Vec<LedgerEvent>), BacktestError> {
    settings
        .validate()
        .map_err(BacktestError::InvalidSettings)?;
    let fees = settings.fees();
    let mut assets = traded_assets(input, &fees)?;
    let from = input.from.unwrap_or(i64::MIN);
    let to = input.to.unwrap_or(i64::MAX);
    let mut steps = replay(input.plan, input.window)
        .map_err(|error| BacktestError::Unordered(error.to_string()))?;
    let (account, opening) = PaperAccount::open(settings.cash);
    let mut run = Run {
        settings,
        fill_config: FillConfig {
            slippage_bps: settings.slippage_bps,
            fees: fees.clone(),
            ..FillConfig::default()
        },
        fees,
        cash: account.cash(),
        account,
        events: opening.into_iter().collect(),
        fills: Vec::new(),
        trades: Vec::new(),
    };
    let mut first_close = None;
    // The replay refused series out of time order, so each asset's bars before `to` are a
    // prefix, found by bisection rather than a pass over every bar.
    let total = assets
        .iter()
        .map(|asset| asset.bars.partition_point(|bar| bar.time < to) as u64)
        .sum();
    // At most one point per bar.
    let mut curve: Vec<EquityPoint> = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut progress = Progress { done: 0, total };
    let mut next_report = PROGRESS_EVERY;
    // Each turn takes the earliest close among the assets' next bars inside the range.
    while let Some(close_time) = assets
        .iter()
        .filter_map(|asset| {
            asset
                .bars
                .get(asset.next)
                .filter(|bar| bar.time < to)
                .map(|bar| bar.time.saturating_add(asset.bar_secs))
        })
        .min()
    {
        let mut traded_bar = false;
        for (index, asset) in assets.iter_mut().enumerate() {
            let bars = asset.bars;
            let Some(bar) = bars.get(asset.next) else {
                continue;
            };
            if bar.time >= to || bar.time.saturating_add(asset.bar_secs) != close_time {
                continue;
            }
            asset.next += 1;
            progress.done += 1;
            if bar.time < from {
                asset.last_close = Some(bar.close);
                continue;
            }
            traded_bar = true;
            if index == 0 && first_close.is_none() {
                first_close = Some(bar.close);
            }
            run.on_bar(asset, bar);
        }
        // Decisions completed by this close (and any earlier ones not yet seen).
        while steps.peek_time().is_some_and(|time| time <= close_time) {
            let Some((time, actions)) = steps.next_actions() else {
                break;
            };
            if !traded_bar || time < close_time {
                continue;
            }
            for action in actions {
                run.on_action(&mut assets, action, close_time);
            }
        }
        if traded_bar {
            curve.push(run.point(&assets, close_time));
        }
        if progress.done >= next_report {
            next_report = progress.done + PROGRESS_EVERY;
            if observe(progress).is_break() {
                return Err(BacktestError::Stopped);
            }
        }
    }
    if observe(progress).is_break() {
        return Err(BacktestError::Stopped);
    }
    if settings.end_at == EndAt::Close
        && let Some(end) = curve.last().map(|point| point.time)
    {
        for asset in &mut assets {
            if let Some(close) = asset.last_close {
                run.flatten(asset, close, end, FillReason::End);
            }
        }
        curve.pop();
        curve.push(run.point(&assets, end));
    }
    let bar_secs = assets.first().map_or(86_400, |asset| asset.bar_secs);
    let last_close = assets.first().and_then(|asset| asset.last_close);
    let fees_paid = run.fills.iter().map(|fill| fill.fee).sum();
    let metrics = metrics::compute(
        &curve,
        &run.trades,
        &Context {
            starting_cash: settings.cash,
            bar_secs,
            first_close,
            last_close,
            fees_paid,
        },
    );
    let result_hash = result_hash(&metrics, &run.trades, &run.fills, &curve);
    Ok((
        BacktestReport {
            metrics,
            trades: run.trades,
            fills: run.fills,
            equity: curve,
            result_hash,
        },
        run.events,
    ))
}

/// The open times of the first traded asset's bars inside the input's range.
pub(crate) fn base_times(input: &BacktestInput<'_>) -> Result<Vec<i64>, BacktestError> {
    let assets = traded_assets(input, &FeeSchedule::flat(Decimal::ZERO))?;
    let from = input.from.unwrap_or(i64::MIN);
    let to = input.to.unwrap_or(i64::MAX);
    Ok(assets
        .first()
        .map(|asset| {
            asset
                .bars
                .iter()
                .map(|bar| bar.time)
                .filter(|time| (from..to).contains(time))
                .collect()
        })
        .unwrap_or_default())
}

/// The traded assets with their finest candle series.
fn traded_assets<'w>(
    input: &BacktestInput<'w>,
    fees: &FeeSchedule,
) -> Result<Vec<Asset<'w>>, BacktestError> {
    let mut assets = Vec::new();
    for name in input.plan.traded_assets() {
        let instrument = input
            .instruments
            .get(name)
            .ok_or_else(|| BacktestError::NoInstrument(name.clone()))?;
        // The finest timeframe the plan reads for the asset prices its fills and marks.
        let finest = input
            .plan
            .requirements()
            .iter()
            .filter_map(|requirement| match &requirement.series {
                SeriesKey::Candles(key) if key.asset == *name => Some(key.clone()),
                _ => None,
            })
            .min_by_key(|key| key.timeframe.seconds().unwrap_or(i64::MAX));
        let (bars, bar_secs) = finest
            .and_then(|key| {
                let seconds = key.timeframe.seconds()?;
                let bars = input.window.candles.get(&key)?;
                Some((bars.as_slice(), seconds))
            })
            .filter(|(bars, _)| !bars.is_empty())
            .ok_or_else(|| BacktestError::NoData(name.clone()))?;
        assets.push(Asset {
            name: name.clone(),
            fee_rate: fees.bps(&instrument.key) / Decimal::from(10_000),
            key: instrument.key.clone(),
            key_text: instrument.key.to_string(),
            lot_step: instrument.lot_step,
            bars,
            bar_secs,
            next: 0,
            last_close: None,
            pending: None,
            risk: RiskSettings::default(),
            trade: None,
            position: Position::default(),
            levels: None,
        });
    }
    Ok(assets)
}

/// -1, 0 or +1.
fn sign(value: Decimal) -> Decimal {
    if value > Decimal::ZERO {
        Decimal::ONE
    } else if value < Decimal::ZERO {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ZERO
    }
}

/// `size` rounded down to a multiple of `step`.
fn to_step(size: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return size;
    }
    (size / step).floor() * step
}

impl Asset<'_> {
    /// The exit prices of the open position under the asset's risk settings.
    fn levels(&mut self) -> Levels {
        if let Some(levels) = self.levels {
            return levels;
        }
        let long = self.position.size > Decimal::ZERO;
        let levels = Levels::of(long, self.position.avg_entry, &self.risk);
        self.levels = Some(levels);
        levels
    }
}

impl Run<'_> {
    /// Equity at the assets' last closes.
    ///
    /// The value (and its scale, which the result hash sees) is `cash + Σ unrealized`, the sum
    /// starting from zero; the additions that cannot change a bit are skipped, which matters
    /// on every bar: `0 + u` is `u` itself, and `cash + 0` is `cash` itself unless cash is a
    /// zero (`rust_decimal` answers a zero plus a zero with the right-hand zero).
    fn equity(&self, assets: &[Asset<'_>]) -> Decimal {
        let mut unrealized: Option<Decimal> = None;
        for asset in assets {
            let Some(close) = asset.last_close else {
                continue;
            };
            if asset.position.is_flat() {
                continue;
            }
            let pnl = asset.position.unrealized_pnl(close);
            unrealized = Some(match unrealized {
                None => pnl,
                Some(sum) => sum + pnl,
            });
        }
        match unrealized {
            Some(unrealized) => self.cash + unrealized,
            None if !self.cash.is_zero() => self.cash,
            None => self.cash + Decimal::ZERO,
        }
    }

    fn point(&self, assets: &[Asset<'_>], time: i64) -> EquityPoint {
        EquityPoint {
            time,
            equity: self.equity(assets),
            cash: self.cash,
            exposed: assets.iter().any(|asset| !asset.position.is_flat()),
        }
    }

    /// One bar of one asset: the pending order fills at the open, then stops are checked
    /// against the high and low, then the close marks the position.
    fn on_bar(&mut self, asset: &mut Asset<'_>, bar: &Bar) {
        if let Some(pending) = asset.pending.take() {
            self.execute(asset, pending.order, bar.open, bar.time, FillReason::Signal);
        }
        self.check_stops(asset, bar);
        asset.last_close = Some(bar.close);
    }

    /// Stop-loss and take-profit inside a bar ([`Levels::exit`]).
    fn check_stops(&mut self, asset: &mut Asset<'_>, bar: &Bar) {
        if asset.position.is_flat() {
            return;
        }
        let long = asset.position.size > Decimal::ZERO;
        if let Some((price, reason)) = asset.levels().exit(long, bar) {
            self.flatten(asset, price, bar.time, reason);
        }
    }

    /// Closes the asset's whole position at `price`.
    fn flatten(&mut self, asset: &mut Asset<'_>, price: Decimal, time: i64, reason: FillReason) {
        let position = asset.position;
        if position.is_flat() {
            return;
        }
        let order = SizedOrder {
            side: if position.size > Decimal::ZERO {
                Side::Sell
            } else {
                Side::Buy
            },
            size: position.size.abs(),
            reduce_only: true,
        };
        self.execute(asset, order, price, time, reason);
    }

    /// A proposal made at `time` on the asset's last close.
    fn on_action(&mut self, assets: &mut [Asset<'_>], action: &ProposedAction, time: i64) {
        let equity = self.equity(assets);
        let Some(asset) = assets.iter_mut().find(|asset| asset.name == action.asset) else {
            return;
        };
        let Some(price) = asset.last_close else {
            return;
        };
        let position = asset.position.size;
        let Some(mut order) = size_order(
            action.kind,
            action.size.as_ref(),
            equity,
            price,
            position,
            asset.fee_rate,
        ) else {
            return;
        };
        if let Some(cap) = &action.risk.max_position {
            // The largest position the action may build, in units at this price.
            let limit = clones_strategy::sizing::units(cap, equity, price, asset.fee_rate)
                .map(|units| units.abs())
                .unwrap_or_default();
            let after = position + order.side.sign() * order.size;
            if after.abs() > limit && !order.reduce_only {
                let allowed = (limit - position * order.side.sign()).max(Decimal::ZERO);
                order.size = order.size.min(allowed);
            }
        }
        order.size = to_step(order.size, asset.lot_step);
        if order.size <= Decimal::ZERO {
            return;
        }
        if action.kind != ActionKind::Close {
            asset.risk = action.risk;
            asset.levels = None;
        }
        match self.settings.fill_at {
            FillAt::Close => self.execute(asset, order, price, time, FillReason::Signal),
            FillAt::NextOpen => asset.pending = Some(Pending { order }),
        }
    }

    /// Fills `order` at `price` (moved by the slippage) through prop-engine's simulation and
    /// paper account, and books the fill and the trade it belongs to.
    fn execute(
        &mut self,
        asset: &mut Asset<'_>,
        mut order: SizedOrder,
        price: Decimal,
        time: i64,
        reason: FillReason,
    ) {
        let position = asset.position;
        if order.reduce_only {
            // Never past flat: a reduce-only order shrinks to the position.
            if position.is_flat() || sign(position.size) == order.side.sign() {
                return;
            }
            order.size = order.size.min(position.size.abs());
        }
        let now = chrono::DateTime::from_timestamp(time, 0).unwrap_or_default();
        let spec = OrderSpec {
            side: order.side,
            size: order.size,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
        };
        let quote = MarketQuote {
            mid: price,
            mid_at: now,
            book: None,
        };
        let Ok(execution) = simulate(&spec, asset.key.kind(), &quote, now, &self.fill_config)
        else {
            return;
        };
        let mut outcome = self.account.execute_keyed(
            &asset.key,
            &asset.key_text,
            order.side,
            &execution,
            &self.fees,
        );
        asset.position = outcome.after;
        asset.levels = None;
        self.cash = self.account.cash();
        if let Some(event) = outcome.event.take() {
            self.events.push(event);
        }
        self.book(asset, &execution, &outcome, order.side, time, reason);
    }

    fn book(
        &mut self,
        asset: &mut Asset<'_>,
        execution: &Execution,
        outcome: &TradeOutcome,
        side: Side,
        time: i64,
        reason: FillReason,
    ) {
        for (leg, record) in execution.legs.iter().zip(&outcome.fills) {
            self.fills.push(FillRecord {
                time,
                asset: asset.name.clone(),
                side,
                price: leg.price,
                size: leg.size,
                fee: record.fee,
                realized_pnl: record.realized_pnl,
                reason,
            });
        }
        let price = execution
            .legs
            .first()
            .map_or(Decimal::ZERO, |leg| leg.price);
        let size = execution.filled_size();
        let fee = outcome.fees();
        let before = outcome.before.size;
        let after = outcome.after.size;
        // The part of the fill that closed the old position, and the part that opened one.
        let closing = if before.is_zero() || sign(before) == side.sign() {
            Decimal::ZERO
        } else {
            size.min(before.abs())
        };
        let opening = size - closing;
        let closing_fee = if size.is_zero() {
            Decimal::ZERO
        } else {
            fee * closing / size
        };
        if let Some(trade) = asset.trade.as_mut() {
            trade.exit_notional += closing * price;
            trade.exit_size += closing;
            trade.realized += outcome.realized_pnl();
            trade.fees += closing_fee;
        }
        if (after.is_zero() || (!before.is_zero() && sign(after) != sign(before)))
            && let Some(trade) = asset.trade.take()
        {
            self.trades.push(finish(&asset.name, trade, time, reason));
        }
        if opening > Decimal::ZERO {
            let trade = asset.trade.get_or_insert_with(|| OpenTrade {
                direction: if side == Side::Buy {
                    Direction::Long
                } else {
                    Direction::Short
                },
                entry_time: time,
                entry_notional: Decimal::ZERO,
                entry_size: Decimal::ZERO,
                exit_notional: Decimal::ZERO,
                exit_size: Decimal::ZERO,
                max_size: Decimal::ZERO,
                realized: Decimal::ZERO,
                fees: Decimal::ZERO,
            });
            trade.entry_notional += opening * price;
            trade.entry_size += opening;
            trade.fees += fee - closing_fee;
        }
        if let Some(trade) = asset.trade.as_mut() {
            trade.max_size = trade.max_size.max(after.abs());
        }
    }
}

fn finish(asset: &str, trade: OpenTrade, time: i64, reason: FillReason) -> Trade {
    let average = |notional: Decimal, size: Decimal| {
        if size.is_zero() {
            Decimal::ZERO
        } else {
            notional / size
        }
    };
    let entry_price = clones_prop_engine::money(average(trade.entry_notional, trade.entry_size));
    let exit_price = clones_prop_engine::money(average(trade.exit_notional, trade.exit_size));
    let sign = match trade.direction {
        Direction::Long => 1.0,
        Direction::Short => -1.0,
    };
    let return_pct = if entry_price.is_zero() {
        0.0
    } else {
        use rust_decimal::prelude::ToPrimitive;
        let ratio = (exit_price / entry_price).to_f64().unwrap_or(1.0);
        sign * (ratio - 1.0) * 100.0
    };
    Trade {
        asset: asset.to_string(),
        direction: trade.direction,
        entry_time: trade.entry_time,
        exit_time: time,
        entry_price,
        exit_price,
        size: trade.max_size,
        pnl: trade.realized - trade.fees,
        fees: trade.fees,
        return_pct,
        exit_reason: reason,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    /// The identities [`Run::equity`](super::Run) relies on to skip additions, bit for bit.
    #[test]
    fn adding_zero_keeps_every_bit_where_equity_skips_it() {
        let mut values = vec![
            Decimal::ONE,
            Decimal::NEGATIVE_ONE,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(0, 10),
            Decimal::new(-0, 10),
            Decimal::new(1, 28),
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for scale in 0..=28 {
            for _ in 0..200 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let wide = (i128::from(state) << 32) >> (state % 96);
                values.push(Decimal::from_i128_with_scale(
                    wide % 79_228_162_514_264_337_593_543_950_335,
                    scale,
                ));
                values.push(Decimal::new(i64::try_from(state >> 33).unwrap(), scale));
            }
        }
        for value in values {
            // The sum of the unrealized PnL starts from zero.
            assert_eq!(
                (Decimal::ZERO + value).serialize(),
                value.serialize(),
                "{value:?}"
            );
            if !value.is_zero() {
                assert_eq!(
                    (value + Decimal::ZERO).serialize(),
                    value.serialize(),
                    "{value:?}"
                );
            }
        }
    }
}
