//! Offline market data, so the whole system runs without a network (the default for
//! development and demos).
//!
//! Two channels of the `replay` source, both writing instruments `replay:perp:<SYMBOL>`:
//!
//! - `files`: OHLCV files in a directory, named `<SYMBOL>_<timeframe>.csv` or `.json` (e.g.
//!   `BTC_1h.csv`). CSV needs a header naming the columns `time`, `open`, `high`, `low`,
//!   `close`, `volume` (`t/o/h/l/c/v`, `timestamp`, `open_time`, `date` and `vol` are accepted
//!   too); JSON is an array of objects with the same names (Hyperliquid candles load as is).
//!   Times are Unix seconds or milliseconds, RFC 3339, or `YYYY-MM-DD`. Each bar's close is also
//!   stored as the mid at the bar's end. A directory is loaded whole or not at all.
//! - `generator`: a deterministic, seeded series per symbol: one-minute log returns with
//!   GARCH(1,1) volatility clustering, highs and lows that always contain open and close,
//!   volume that rises with the size of the move, aggregated into larger timeframes, one mid per
//!   minute and a synthetic book around the latest mid. The path is a pure function of the seed,
//!   the symbol and the minute since the anchor, so every process and every replay sees the
//!   same market.
//!
//! The random walk is computed in `f64` (it is a statistical model, not an amount); every price
//! and size leaves this module as a [`Decimal`] rounded to the instrument's tick.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clones_market::{InstrumentKey, Timeframe};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};

use crate::error::SourceError;
use crate::parse::{self, decimal, object};
use crate::{Batch, BookSnapshot, Candle, NewInstrument, Source};

/// The venue name in keys.
pub const VENUE: &str = "replay";

/// Settings of the seeded generator.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// The seed; the same seed always gives the same market.
    pub seed: u64,
    /// Symbols to generate (`BTC`, `ETH`, …).
    pub symbols: Vec<String>,
    /// Minute zero of every path.
    pub anchor: DateTime<Utc>,
    /// How much history the first cycle writes.
    pub backfill: Duration,
    /// Timeframes aggregated from the one-minute bars (at most one day).
    pub timeframes: Vec<Timeframe>,
}

impl GeneratorConfig {
    /// The default anchor: 2026-01-01T00:00:00Z.
    pub fn default_anchor() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::UNIX_EPOCH)
    }
}

/// What the replay source serves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayConfig {
    /// Directory of OHLCV files, if any.
    pub dir: Option<PathBuf>,
    /// The generator, if enabled.
    pub generator: Option<GeneratorConfig>,
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness.

/// SplitMix64: tiny, fast, and stable forever (unlike a library RNG whose stream may change
/// between versions), which is what a reproducible market needs.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller), clamped to ±6 so one draw can never blow up a path.
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()).clamp(-6.0, 6.0)
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// Starting price, annualised volatility and notional traded per minute of a symbol.
fn profile(symbol: &str) -> (f64, f64, f64) {
    match symbol {
        "BTC" => (60_000.0, 0.55, 4_000_000.0),
        "ETH" => (3_000.0, 0.70, 2_000_000.0),
        "SOL" => (150.0, 0.90, 800_000.0),
        _ => {
            let spread = (fnv1a(symbol) % 1000) as f64;
            (10.0 + spread / 10.0, 0.8, 200_000.0)
        }
    }
}

/// Decimal places of a price of this size.
fn price_dp(price: f64) -> u32 {
    match price {
        p if p >= 1_000.0 => 1,
        p if p >= 10.0 => 2,
        p if p >= 1.0 => 4,
        _ => 6,
    }
}

fn to_decimal(value: f64, dp: u32, strategy: RoundingStrategy) -> Decimal {
    Decimal::from_f64(value)
        .unwrap_or(Decimal::ZERO)
        .round_dp_with_strategy(dp, strategy)
}

const MINUTES_PER_YEAR: f64 = 525_600.0;
const GARCH_ALPHA: f64 = 0.06;
const GARCH_BETA: f64 = 0.92;

/// The state of one symbol's path after `minute` minutes since the anchor.
#[derive(Debug, Clone)]
struct Walk {
    minute: i64,
    close: f64,
    variance: f64,
    last_return: f64,
    rng: Rng,
    dp: u32,
    base_variance: f64,
    volume_notional: f64,
}

/// One generated minute, raw.
struct Minute {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

impl Walk {
    fn start(seed: u64, symbol: &str) -> Self {
        let (price, annual_vol, notional) = profile(symbol);
        let base_variance = annual_vol * annual_vol / MINUTES_PER_YEAR;
        Self {
            minute: 0,
            close: price,
            variance: base_variance,
            last_return: 0.0,
            rng: Rng(seed ^ fnv1a(symbol)),
            dp: price_dp(price),
            base_variance,
            volume_notional: notional,
        }
    }

    fn step(&mut self) -> Minute {
        let omega = self.base_variance * (1.0 - GARCH_ALPHA - GARCH_BETA);
        self.variance =
            omega + GARCH_ALPHA * self.last_return * self.last_return + GARCH_BETA * self.variance;
        let sigma = self.variance.sqrt();
        let z = self.rng.normal();
        let wick_up = self.rng.normal().abs();
        let wick_down = self.rng.normal().abs();
        let noise = self.rng.normal();
        let r = -0.5 * self.variance + sigma * z;
        let open = self.close;
        let close = open * r.exp();
        let high = open.max(close) * (0.5 * sigma * wick_up).exp();
        let low = open.min(close) * (-0.5 * sigma * wick_down).exp();
        let intensity = 0.4 + (r.abs() / sigma.max(f64::MIN_POSITIVE)).min(8.0) * 0.6;
        let volume = self.volume_notional / close * intensity * (0.25 * noise).exp();
        self.last_return = r;
        self.close = close;
        self.minute += 1;
        Minute {
            open,
            high,
            low,
            close,
            volume,
        }
    }

    fn candle(&self, at: DateTime<Utc>, minute: &Minute) -> Candle {
        let dp = self.dp;
        let open = to_decimal(minute.open, dp, RoundingStrategy::MidpointAwayFromZero);
        let close = to_decimal(minute.close, dp, RoundingStrategy::MidpointAwayFromZero);
        let tick = Decimal::new(1, dp);
        let high = to_decimal(minute.high, dp, RoundingStrategy::ToPositiveInfinity)
            .max(open)
            .max(close);
        let low = to_decimal(minute.low, dp, RoundingStrategy::ToNegativeInfinity)
            .max(tick)
            .min(open)
            .min(close);
        Candle {
            open_time: at,
            open,
            high,
            low,
            close,
            volume: to_decimal(minute.volume, 4, RoundingStrategy::MidpointAwayFromZero),
            trades: Some(i64::from(
                u16::try_from((minute.volume * minute.close / 5_000.0).round() as i64)
                    .unwrap_or(u16::MAX),
            )),
        }
    }
}

/// The seeded generator.
#[derive(Debug)]
pub struct Generator {
    config: GeneratorConfig,
    /// Per symbol, the walk at the start of the last requested range, so later cycles do not
    /// recompute the path from the anchor.
    checkpoints: Mutex<HashMap<String, Walk>>,
}

impl Generator {
    /// A generator.
    pub fn new(config: GeneratorConfig) -> Self {
        Self {
            config,
            checkpoints: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    fn minute_index(&self, at: DateTime<Utc>) -> i64 {
        (at - self.config.anchor).num_minutes()
    }

    /// The tick of a symbol's prices.
    pub fn tick(&self, symbol: &str) -> Decimal {
        Decimal::new(1, price_dp(profile(symbol).0))
    }

    /// One-minute bars of `symbol` opening in `[from, to)` (clamped to the anchor), ascending.
    /// Also returns the variance at the end, for the book's spread.
    fn minutes_with_variance(
        &self,
        symbol: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> (Vec<Candle>, f64) {
        let start = self.minute_index(from).max(0);
        let end = self.minute_index(to).max(0);
        let cached = self
            .checkpoints
            .lock()
            .ok()
            .and_then(|cache| cache.get(symbol).cloned())
            .filter(|walk| walk.minute <= start);
        let mut walk = cached.unwrap_or_else(|| Walk::start(self.config.seed, symbol));
        while walk.minute < start {
            walk.step();
        }
        if let Ok(mut cache) = self.checkpoints.lock() {
            cache.insert(symbol.to_string(), walk.clone());
        }
        let mut bars = Vec::new();
        while walk.minute < end {
            let at = self.config.anchor + Duration::minutes(walk.minute);
            let minute = walk.step();
            bars.push(walk.candle(at, &minute));
        }
        (bars, walk.variance)
    }

    /// One-minute bars of `symbol` opening in `[from, to)`, ascending.
    pub fn minutes(&self, symbol: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Candle> {
        self.minutes_with_variance(symbol, from, to).0
    }

    /// A synthetic book around `mid`: ten levels a side, spread widening with volatility,
    /// sizes drawn from the seed and the minute.
    fn book(&self, symbol: &str, mid: Decimal, variance: f64, at: DateTime<Utc>) -> BookSnapshot {
        let tick = self.tick(symbol);
        let mid_f = f64::try_from(mid).unwrap_or(1.0);
        let step = to_decimal(
            mid_f * variance.sqrt() * 0.25,
            tick.scale(),
            RoundingStrategy::ToPositiveInfinity,
        )
        .max(tick);
        let mut rng =
            Rng(self.config.seed ^ fnv1a(symbol) ^ (self.minute_index(at) as u64).rotate_left(17));
        let (_, _, notional) = profile(symbol);
        let mut size = |level: i64| {
            let raw =
                notional / mid_f / 20.0 * (1.0 + level as f64 * 0.3) * (0.5 * rng.normal()).exp();
            to_decimal(raw, 4, RoundingStrategy::MidpointAwayFromZero).max(Decimal::new(1, 4))
        };
        let best_bid = (mid - step / Decimal::TWO)
            .round_dp_with_strategy(tick.scale(), RoundingStrategy::ToNegativeInfinity);
        let best_ask = (mid + step / Decimal::TWO)
            .round_dp_with_strategy(tick.scale(), RoundingStrategy::ToPositiveInfinity)
            .max(best_bid + tick);
        let mut bids = Vec::new();
        let mut asks = Vec::new();
        for level in 0..10i64 {
            let offset = step * Decimal::from(level);
            let bid = best_bid - offset;
            if bid > Decimal::ZERO {
                bids.push((bid, size(level)));
            }
            asks.push((best_ask + offset, size(level)));
        }
        BookSnapshot {
            observed_at: at,
            bids,
            asks,
        }
    }
}

/// Aggregates ascending one-minute bars into `timeframe` bars (a bar per bucket that has any
/// minute; the last may still be forming).
pub fn aggregate(minutes: &[Candle], timeframe: Timeframe) -> Vec<Candle> {
    let mut bars: Vec<Candle> = Vec::new();
    for minute in minutes {
        let Some(start) = bar_start(timeframe, minute.open_time) else {
            return Vec::new();
        };
        match bars.last_mut() {
            Some(bar) if bar.open_time == start => {
                bar.high = bar.high.max(minute.high);
                bar.low = bar.low.min(minute.low);
                bar.close = minute.close;
                bar.volume += minute.volume;
                bar.trades = match (bar.trades, minute.trades) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
            }
            _ => bars.push(Candle {
                open_time: start,
                ..minute.clone()
            }),
        }
    }
    bars
}

// ---------------------------------------------------------------------------------------------
// Files.

/// A loaded file: symbol, timeframe, bars ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayFile {
    /// The symbol, from the file name.
    pub symbol: String,
    /// The timeframe, from the file name.
    pub timeframe: Timeframe,
    /// The bars, ascending and unique by open time.
    pub candles: Vec<Candle>,
}

fn replay_error(path: &Path, detail: impl std::fmt::Display) -> SourceError {
    SourceError::Replay(format!("{}: {detail}", path.display()))
}

fn parse_time(value: &Value) -> Result<DateTime<Utc>, SourceError> {
    if let Ok(number) = parse::integer(value, "time") {
        // Heuristic that holds for any date after 1973: milliseconds are above 1e11.
        return if number.abs() >= 100_000_000_000 {
            parse::millis(value, "time")
        } else {
            parse::seconds(value, "time")
        };
    }
    let text = value
        .as_str()
        .ok_or_else(|| SourceError::Replay("time is neither a number nor text".into()))?;
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    parse::rfc3339(text, "time")
}

const COLUMNS: [(&str, &[&str]); 6] = [
    ("time", &["time", "t", "timestamp", "open_time", "date"]),
    ("open", &["open", "o"]),
    ("high", &["high", "h"]),
    ("low", &["low", "l"]),
    ("close", &["close", "c"]),
    ("volume", &["volume", "v", "vol"]),
];

fn candle_from(fields: &Map<String, Value>) -> Result<Candle, SourceError> {
    let get = |column: usize| {
        let (name, aliases) = COLUMNS[column];
        aliases
            .iter()
            .find_map(|alias| fields.get(*alias).filter(|v| !v.is_null()))
            .ok_or_else(|| SourceError::Replay(format!("missing column `{name}`")))
    };
    let dec = |column: usize| -> Result<Decimal, SourceError> {
        decimal(get(column)?, COLUMNS[column].0).map_err(|e| SourceError::Replay(e.to_string()))
    };
    let candle = Candle {
        open_time: parse_time(get(0)?)?,
        open: dec(1)?,
        high: dec(2)?,
        low: dec(3)?,
        close: dec(4)?,
        volume: dec(5)?,
        trades: None,
    };
    if let Some(problem) = candle.problem() {
        return Err(SourceError::Replay(problem));
    }
    Ok(candle)
}

/// Parses CSV text (header row first).
///
/// # Errors
/// [`SourceError::Replay`] naming the line.
pub fn parse_csv(text: &str) -> Result<Vec<Candle>, SourceError> {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| SourceError::Replay("empty CSV".into()))?
        .split(',')
        .map(|name| name.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    lines
        .enumerate()
        .map(|(index, line)| {
            let cells: Vec<&str> = line
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            if cells.len() != header.len() {
                return Err(SourceError::Replay(format!(
                    "line {}: {} cells for {} columns",
                    index + 2,
                    cells.len(),
                    header.len()
                )));
            }
            let fields: Map<String, Value> = header
                .iter()
                .zip(cells)
                .map(|(name, cell)| (name.clone(), Value::String(cell.to_string())))
                .collect();
            candle_from(&fields)
                .map_err(|error| SourceError::Replay(format!("line {}: {error}", index + 2)))
        })
        .collect()
}

/// Parses a JSON array of bars.
///
/// # Errors
/// [`SourceError::Replay`] naming the entry.
pub fn parse_json(value: &Value) -> Result<Vec<Candle>, SourceError> {
    value
        .as_array()
        .ok_or_else(|| SourceError::Replay("expected a JSON array of bars".into()))?
        .iter()
        .enumerate()
        .map(|(index, bar)| {
            let fields = object(bar, "bar")
                .map_err(|error| SourceError::Replay(format!("entry {index}: {error}")))?;
            candle_from(fields)
                .map_err(|error| SourceError::Replay(format!("entry {index}: {error}")))
        })
        .collect()
}

/// Loads one file named `<SYMBOL>_<timeframe>.csv|json`.
///
/// # Errors
/// [`SourceError::Replay`] when the name, the content or a bar is invalid.
pub fn load_file(path: &Path) -> Result<ReplayFile, SourceError> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| replay_error(path, "unreadable file name"))?;
    let (symbol, timeframe) = stem
        .rsplit_once('_')
        .ok_or_else(|| replay_error(path, "file name is not <SYMBOL>_<timeframe>"))?;
    let timeframe = Timeframe::from_str(timeframe).map_err(|error| replay_error(path, error))?;
    replay_key(symbol).map_err(|error| replay_error(path, error))?;
    let text = std::fs::read_to_string(path).map_err(|error| replay_error(path, error))?;
    let mut candles = match path.extension().and_then(|ext| ext.to_str()) {
        Some("csv") => parse_csv(&text),
        Some("json") => serde_json::from_str(&text)
            .map_err(|error| SourceError::Replay(error.to_string()))
            .and_then(|value| parse_json(&value)),
        _ => Err(SourceError::Replay("not .csv or .json".into())),
    }
    .map_err(|error| replay_error(path, error))?;
    candles.sort_by_key(|candle| candle.open_time);
    if candles
        .windows(2)
        .any(|pair| pair[0].open_time == pair[1].open_time)
    {
        return Err(replay_error(path, "two bars open at the same time"));
    }
    Ok(ReplayFile {
        symbol: symbol.to_string(),
        timeframe,
        candles,
    })
}

/// Loads every `.csv` and `.json` file of `dir`, sorted by name.
///
/// # Errors
/// The first file that fails; nothing is returned then.
pub fn load_dir(dir: &Path) -> Result<Vec<ReplayFile>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|error| replay_error(dir, error))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            matches!(
                path.extension().and_then(|ext| ext.to_str()),
                Some("csv" | "json")
            )
        })
        .collect();
    paths.sort();
    paths.iter().map(|path| load_file(path)).collect()
}

// ---------------------------------------------------------------------------------------------
// The source.

fn replay_key(symbol: &str) -> Result<InstrumentKey, SourceError> {
    InstrumentKey::perp(VENUE, symbol).map_err(|error| SourceError::Replay(error.to_string()))
}

/// The start of the `timeframe` bar containing `at`; `None` for the calendar month.
fn bar_start(timeframe: Timeframe, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(timeframe.bar_open(at.timestamp())?, 0)
}

#[derive(Debug, Default)]
struct State {
    files_loaded: bool,
    generated_until: Option<DateTime<Utc>>,
    pending_until: Option<DateTime<Utc>>,
}

/// The replay source.
#[derive(Debug)]
pub struct ReplaySource {
    dir: Option<PathBuf>,
    generator: Option<Generator>,
    state: Mutex<State>,
}

impl ReplaySource {
    /// A source serving `config`.
    pub fn new(config: ReplayConfig) -> Self {
        Self {
            dir: config.dir,
            generator: config.generator.map(Generator::new),
            state: Mutex::new(State::default()),
        }
    }

    fn files(&self) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        let Some(dir) = &self.dir else {
            return Ok(batch);
        };
        if self.state.lock().map(|s| s.files_loaded).unwrap_or(false) {
            return Ok(batch);
        }
        for file in load_dir(dir)? {
            let key = replay_key(&file.symbol)?;
            let mut instrument = NewInstrument::bare(key.clone());
            instrument.base = Some(file.symbol.clone());
            instrument.metadata = json!({ "replay": "files" });
            batch.known_instruments.push(instrument);
            let step = file.timeframe.seconds().map(Duration::seconds);
            for candle in file.candles {
                if let Some(step) = step {
                    batch
                        .mids
                        .push((key.clone(), candle.open_time + step, candle.close));
                }
                batch.candles.push((key.clone(), file.timeframe, candle));
            }
        }
        Ok(batch)
    }

    fn generate(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        let Some(generator) = &self.generator else {
            return Ok(batch);
        };
        let config = generator.config();
        let to = bar_start(Timeframe::M1, now).unwrap_or(now);
        let previous = self.state.lock().ok().and_then(|s| s.generated_until);
        let from = previous
            .unwrap_or(to - config.backfill)
            .max(config.anchor)
            .min(to);
        // Larger bars that are still forming need their minutes from the bucket start.
        let walk_from = bar_start(Timeframe::D1, from)
            .unwrap_or(from)
            .max(config.anchor);
        for symbol in &config.symbols {
            let key = replay_key(symbol)?;
            let mut instrument = NewInstrument::bare(key.clone());
            instrument.base = Some(symbol.clone());
            instrument.quote = Some("USD".into());
            instrument.tick_size = Some(generator.tick(symbol));
            instrument.lot_size = Some(Decimal::new(1, 4));
            instrument.metadata = json!({ "replay": "generator", "seed": config.seed });
            batch.instruments.push(instrument);
            let (minutes, variance) = generator.minutes_with_variance(symbol, walk_from, to);
            for timeframe in &config.timeframes {
                let Some(first) = bar_start(*timeframe, from) else {
                    continue;
                };
                if *timeframe == Timeframe::M1 || timeframe.minutes().is_none_or(|m| m > 1440) {
                    continue;
                }
                for bar in aggregate(&minutes, *timeframe) {
                    if bar.open_time >= first {
                        batch.candles.push((key.clone(), *timeframe, bar));
                    }
                }
            }
            for minute in minutes.into_iter().filter(|m| m.open_time >= from) {
                batch.mids.push((
                    key.clone(),
                    minute.open_time + Duration::minutes(1),
                    minute.close,
                ));
                batch.candles.push((key.clone(), Timeframe::M1, minute));
            }
            if let Some((_, _, mid)) = batch.mids.iter().rev().find(|(k, _, _)| *k == key) {
                batch
                    .books
                    .push((key.clone(), generator.book(symbol, *mid, variance, to)));
            }
        }
        if let Ok(mut state) = self.state.lock() {
            state.pending_until = Some(to);
        }
        Ok(batch)
    }
}

#[async_trait]
impl Source for ReplaySource {
    fn name(&self) -> &'static str {
        VENUE
    }

    fn channels(&self) -> Vec<&'static str> {
        let mut channels = Vec::new();
        if self.dir.is_some() {
            channels.push("files");
        }
        if self.generator.is_some() {
            channels.push("generator");
        }
        channels
    }

    async fn fetch(&self, channel: &str, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        match channel {
            "files" => self.files(),
            "generator" => self.generate(now),
            other => Err(SourceError::Config(format!("unknown channel {other}"))),
        }
    }

    fn committed(&self, channel: &str, _now: DateTime<Utc>) {
        if let Ok(mut state) = self.state.lock() {
            match channel {
                "files" => state.files_loaded = true,
                "generator" => state.generated_until = state.pending_until.take(),
                _ => {}
            }
        }
    }
}
