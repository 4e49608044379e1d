//! Bars from market memory: every candle series a plan reads over a job's range plus the
//! warm-up before it, and the instruments of its traded assets. Reads through ingest's
//! `MarketData` only.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use clones_market::InstrumentKey;
use clones_strategy::{Bar, CompiledPlan, MarketWindow, SeriesKey};

use super::PgBacktestService;
use crate::JobError;
use crate::policy::problem;
use crate::settings::TradedInstrument;

/// Candles per read: market memory's largest window read.
const CHUNK: usize = 5_000;

/// The candle series of `plan` with their bar length in seconds and warm-up bars.
pub(super) fn candle_series(plan: &CompiledPlan) -> Vec<(clones_strategy::CandleKey, i64, u32)> {
    plan.requirements()
        .iter()
        .filter_map(|requirement| match &requirement.series {
            SeriesKey::Candles(key) => key
                .timeframe
                .seconds()
                .map(|seconds| (key.clone(), seconds, requirement.warmup_bars)),
            _ => None,
        })
        .collect()
}

/// The bars a job over `[from, to)` replays at most: every candle series' bars in the range
/// and its warm-up.
pub(super) fn estimated_bars(plan: &CompiledPlan, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    let span = (to - from).num_seconds().max(0);
    candle_series(plan)
        .iter()
        .map(|(_, seconds, warmup)| {
            u64::try_from(span / (*seconds).max(1)).unwrap_or(0) + u64::from(*warmup)
        })
        .sum()
}

/// The shortest bar of the plan's traded assets, seconds (the bar fills are matched on).
pub(super) fn bar_secs(plan: &CompiledPlan) -> i64 {
    candle_series(plan)
        .iter()
        .filter(|(key, _, _)| plan.traded_assets().contains(&key.asset))
        .map(|(_, seconds, _)| *seconds)
        .min()
        .unwrap_or(86_400)
}

impl PgBacktestService {
    /// The instrument key of a strategy asset on the configured venue.
    pub(super) fn instrument_of(&self, asset: &str) -> Result<InstrumentKey, JobError> {
        InstrumentKey::new(&self.settings.venue, self.settings.kind, asset).map_err(|error| {
            JobError::InvalidRequest(vec![problem(
                "invalid_asset",
                "graph",
                format!("asset `{asset}` names no instrument: {error}"),
            )])
        })
    }

    /// Asset → instrument key of every asset `plan` trades.
    pub(super) fn instrument_keys(
        &self,
        plan: &CompiledPlan,
    ) -> Result<BTreeMap<String, String>, JobError> {
        plan.traded_assets()
            .iter()
            .map(|asset| Ok((asset.clone(), self.instrument_of(asset)?.to_string())))
            .collect()
    }

    /// The traded assets' instruments with their lot steps from market memory.
    pub(super) async fn traded_instruments(
        &self,
        instruments: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, TradedInstrument>, JobError> {
        let mut traded = BTreeMap::new();
        for (asset, key) in instruments {
            let parsed: InstrumentKey = key
                .parse()
                .map_err(|error| JobError::Corrupt(format!("instrument `{key}`: {error}")))?;
            let mut instrument = TradedInstrument::new(parsed);
            if let Some(lot) = self
                .market
                .instrument(key)
                .await?
                .and_then(|info| info.lot_size)
                .filter(|lot| lot.is_sign_positive() && !lot.is_zero())
            {
                instrument.lot_step = lot;
            }
            traded.insert(asset.clone(), instrument);
        }
        Ok(traded)
    }

    /// Every candle series `plan` reads over `[from - warm-up, to)`.
    pub(super) async fn window(
        &self,
        plan: &CompiledPlan,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<MarketWindow, JobError> {
        let mut window = MarketWindow::new();
        for (key, seconds, warmup) in candle_series(plan) {
            let instrument = self.instrument_of(&key.asset)?.to_string();
            // A range near the calendar's start has no warm-up before it.
            let mut start = from
                .checked_sub_signed(Duration::seconds(seconds.saturating_mul(i64::from(warmup))))
                .unwrap_or(from);
            let mut bars: Vec<Bar> = Vec::new();
            loop {
                let candles = self
                    .market
                    .candles(&instrument, key.timeframe, start, to)
                    .await?;
                let Some(last) = candles.last() else {
                    break;
                };
                start = last.open_time + Duration::seconds(1);
                let full = candles.len() >= CHUNK;
                bars.extend(candles.iter().map(|candle| Bar {
                    time: candle.open_time.timestamp(),
                    open: candle.open,
                    high: candle.high,
                    low: candle.low,
                    close: candle.close,
                    volume: candle.volume,
                }));
                if !full {
                    break;
                }
            }
            window = window.with_candles(&key.asset, key.timeframe, bars);
        }
        Ok(window)
    }
}
