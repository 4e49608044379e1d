//! The rule model: deterministic evaluation of a [`CompiledPlan`] on market data.
//!
//! [`evaluate`] answers "what does the strategy propose now" for one [`MarketWindow`] (the last
//! item of every series is "now"). [`replay`] answers it for every moment of a history, bar by
//! bar, in one pass per indicator: each step's result equals `evaluate` on the window as it was
//! known at that moment ([`MarketWindow::as_of`]).
//!
//! Evaluation never fails and never panics: missing or short data makes values undefined, which
//! makes conditions undefined, which never fire an action; the shortfall is reported. Prices
//! enter as `Decimal` and are converted to `f64` for the indicator math; every number that
//! leaves (context values for a model) is converted back to `Decimal`. Outputs are ordered by
//! node id, so the same plan and data always give the same `Evaluation`.
//!
//! This module does not execute anything: it proposes actions; prop-engine decides and fills.

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::indicators::{
    Atr, Bollinger, Ema, Macd, Returns, Rsi, Sma, Volatility, series as run_series,
};
use crate::market::{Bar, MarketWindow, OutcomePoint, SeriesKey};
use crate::model::{ActionKind, CompareOp, PriceField, SizeSpec};
use crate::plan::{ActionOp, CompiledPlan, LogicOp, NumericKind, Operand, RiskSettings};

/// The decimal places kept when an indicator value is converted back to `Decimal`.
pub const CONTEXT_DECIMAL_PLACES: u32 = 10;

/// What a plan proposes at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Order actions whose condition is true, sorted by node id.
    pub actions: Vec<ProposedAction>,
    /// Model instructions to consult, sorted by node id.
    pub llm_requests: Vec<LlmRequest>,
    /// Series with fewer items than the plan's warm-up, sorted by series. While any is
    /// listed, some indicators are undefined and the conditions built on them do not fire.
    pub shortfalls: Vec<DataShortfall>,
}

impl Evaluation {
    /// True when nothing is proposed.
    pub fn is_idle(&self) -> bool {
        self.actions.is_empty() && self.llm_requests.is_empty()
    }
}

/// An order action the strategy proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedAction {
    /// The action node's id.
    pub node: String,
    /// The asset to trade.
    pub asset: String,
    /// What to do.
    pub kind: ActionKind,
    /// The size; `None` for `close` (the whole position).
    pub size: Option<SizeSpec>,
    /// The risk rules attached to the action.
    pub risk: RiskSettings,
}

/// A request to consult a language model: everything it needs to choose an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// The `llm_instruction` node's id.
    pub node: String,
    /// The model id.
    pub model: String,
    /// The user's guidance, verbatim.
    pub guidance: String,
    /// The actions the model may choose, sorted.
    pub allowed_actions: Vec<ActionKind>,
    /// The assets it may act on, sorted.
    pub assets: Vec<String>,
    /// The current values of the nodes wired into `context`, sorted by label.
    pub context: Vec<ContextValue>,
    /// The risk rules attached to the instruction.
    pub risk: RiskSettings,
}

/// One value given to a model as context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextValue {
    /// The source node id, with `.port` when the node has several outputs (`macd.histogram`).
    pub label: String,
    /// The current value, rounded to [`CONTEXT_DECIMAL_PLACES`]; `None` while undefined.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub value: Option<Decimal>,
}

/// A series that is shorter than the plan's warm-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataShortfall {
    /// The series.
    pub series: SeriesKey,
    /// Items the plan needs.
    pub needed: u32,
    /// Items the window has.
    pub available: u32,
}

/// Evaluates `plan` on `window`: the last item of every series is "now".
///
/// Deterministic: the same plan and window always give the same result.
pub fn evaluate(plan: &CompiledPlan, window: &MarketWindow) -> Evaluation {
    let sources = Sources::of(plan, window);
    let numeric = compute_numeric(plan, &sources);
    let counts: Vec<usize> = sources.series.iter().map(Source::len).collect();
    let mut scratch = Vec::with_capacity(plan.logic.len());
    evaluate_at(plan, &numeric, &counts, &mut scratch)
}

/// Replays `plan` over a whole history: one [`ReplayStep`] per moment a new candle completes or
/// a new outcome price is observed, in time order.
///
/// Every indicator is computed once over the whole history, then each step only reads values,
/// so a replay costs about as much as one [`evaluate`] on the full window. The evaluation of
/// the step at time `t` equals `evaluate(plan, &window.as_of(t))`.
///
/// Fails when a series the plan reads is not in strictly increasing time order.
pub fn replay<'a>(
    plan: &'a CompiledPlan,
    window: &MarketWindow,
) -> Result<Replay<'a>, ReplayError> {
    let sources = Sources::of(plan, window);
    let mut ready_times = Vec::with_capacity(sources.series.len());
    for (clock, source) in sources.series.iter().enumerate() {
        let times = source.ready_times(&plan.clocks[clock]);
        if let Some(index) = times.windows(2).position(|pair| pair[1] <= pair[0]) {
            return Err(ReplayError::UnorderedSeries {
                series: plan.clocks[clock].clone(),
                index: index + 1,
            });
        }
        ready_times.push(times);
    }
    let numeric = compute_numeric(plan, &sources);
    Ok(Replay {
        plan,
        numeric,
        counts: vec![0; ready_times.len()],
        ready_times,
        scratch: Vec::with_capacity(plan.logic.len()),
        proposals: plan.actions.iter().map(proposal).collect(),
        fired: Vec::with_capacity(plan.actions.len()),
        stepper: Stepper::Unprepared,
    })
}

/// [`replay`] collected into a vector.
pub fn evaluate_history(
    plan: &CompiledPlan,
    window: &MarketWindow,
) -> Result<Vec<ReplayStep>, ReplayError> {
    Ok(replay(plan, window)?.collect())
}

/// Why a replay cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// A series is not in strictly increasing time order.
    #[error("series {series:?} is not in strictly increasing time order at index {index}")]
    UnorderedSeries {
        /// The series.
        series: SeriesKey,
        /// The first item whose time is not after the previous item's.
        index: usize,
    },
}

impl ReplayError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::UnorderedSeries { .. } => "unordered_series",
        }
    }
}

/// One moment of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayStep {
    /// The moment, Unix seconds: when a candle completed or an outcome price was observed.
    pub time: i64,
    /// What the plan proposed then.
    pub evaluation: Evaluation,
}

/// An iterator over the steps of a replay; see [`replay`].
pub struct Replay<'a> {
    plan: &'a CompiledPlan,
    numeric: Vec<Vec<Option<f64>>>,
    ready_times: Vec<Vec<i64>>,
    counts: Vec<usize>,
    scratch: Vec<Option<bool>>,
    /// The action each action op proposes when it fires, built once.
    proposals: Vec<ProposedAction>,
    /// The indexes of the actions that fired at the last step taken by `next_actions`.
    fired: Vec<usize>,
    /// How `next_actions` finds the actions that fire.
    stepper: Stepper,
}

/// How [`Replay::next_actions`] finds the actions that fire at a step.
enum Stepper {
    /// Decided at the first `next_actions`, so a replay read only as an iterator pays nothing.
    Unprepared,
    /// The plan reads one series, so each step knows one more item of it and the logic's
    /// value at a step depends on that count alone: the logic is evaluated once, node by node
    /// over whole columns, and `fires[action][count - 1]` says whether the action fires.
    /// Each step then reads one flag per action instead of dispatching over every logic node.
    Columns { fires: Vec<Vec<bool>> },
    /// Several series advance independently: the logic is evaluated at each step.
    PerStep,
}

impl fmt::Debug for Replay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Replay<'_> {
    /// The time of the next step, without taking it; `None` when the replay is over.
    pub fn peek_time(&self) -> Option<i64> {
        if let ([times], [count]) = (self.ready_times.as_slice(), self.counts.as_slice()) {
            return times.get(*count).copied();
        }
        self.ready_times
            .iter()
            .zip(&self.counts)
            .filter_map(|(times, &count)| times.get(count).copied())
            .min()
    }

    /// Moves every clock past the next step and returns its time.
    fn advance(&mut self) -> Option<i64> {
        // One series in strictly increasing time order (`replay` checked): each step takes
        // exactly its next item.
        if let ([times], [count]) = (self.ready_times.as_slice(), self.counts.as_mut_slice()) {
            let time = times.get(*count).copied()?;
            *count += 1;
            return Some(time);
        }
        let time = self.peek_time()?;
        for (times, count) in self.ready_times.iter().zip(self.counts.iter_mut()) {
            while times.get(*count).is_some_and(|&ready| ready <= time) {
                *count += 1;
            }
        }
        Some(time)
    }

    /// Takes the next step like [`Iterator::next`], but yields only its time and the order
    /// actions that fired, borrowed from the replay: no [`Evaluation`] is built, so a step
    /// allocates nothing. The actions are the step's [`Evaluation::actions`], in the same
    /// order; model requests and shortfalls are left out.
    pub fn next_actions(&mut self) -> Option<(i64, impl Iterator<Item = &ProposedAction>)> {
        let time = self.advance()?;
        if matches!(self.stepper, Stepper::Unprepared) {
            self.stepper = match self.ready_times.as_slice() {
                [times] => Stepper::Columns {
                    fires: fire_columns(self.plan, &self.numeric, times.len()),
                },
                _ => Stepper::PerStep,
            };
        }
        self.fired.clear();
        if let Stepper::Columns { fires } = &self.stepper {
            // The step's count is at least one: `advance` took an item of the only series.
            let index = self.counts.first().and_then(|count| count.checked_sub(1));
            for (action, column) in fires.iter().enumerate() {
                if index.and_then(|index| column.get(index)) == Some(&true) {
                    self.fired.push(action);
                }
            }
        } else {
            let reader = Reader::new(&self.numeric, &self.plan.slot_clock, &self.counts);
            evaluate_logic(self.plan, &reader, &mut self.scratch);
            for (index, action) in self.plan.actions.iter().enumerate() {
                if fired(&self.scratch, action.when) {
                    self.fired.push(index);
                }
            }
        }
        let proposals = &self.proposals;
        Some((
            time,
            self.fired
                .iter()
                .filter_map(move |&index| proposals.get(index)),
        ))
    }
}

impl Iterator for Replay<'_> {
    type Item = ReplayStep;

    fn next(&mut self) -> Option<ReplayStep> {
        let time = self.advance()?;
        let evaluation = evaluate_at(self.plan, &self.numeric, &self.counts, &mut self.scratch);
        Some(ReplayStep { time, evaluation })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining: usize = self
            .ready_times
            .iter()
            .zip(&self.counts)
            .map(|(times, &count)| times.len().saturating_sub(count))
            .sum();
        let lower = usize::from(remaining > 0);
        (lower, Some(remaining))
    }
}

/// The raw data of one clock (series) of the plan.
enum Source<'w> {
    Candles(&'w [Bar]),
    Outcome(&'w [OutcomePoint]),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Candles(bars) => bars.len(),
            Source::Outcome(points) => points.len(),
        }
    }

    /// When each item becomes known: a candle at its close, an outcome price when observed.
    fn ready_times(&self, key: &SeriesKey) -> Vec<i64> {
        match (self, key) {
            (Source::Candles(bars), SeriesKey::Candles(key)) => {
                let seconds = key.bar_seconds();
                bars.iter()
                    .map(|bar| bar.time.saturating_add(seconds))
                    .collect()
            }
            (Source::Candles(bars), SeriesKey::Outcome(_)) => {
                bars.iter().map(|bar| bar.time).collect()
            }
            (Source::Outcome(points), _) => points.iter().map(|point| point.time).collect(),
        }
    }
}

struct Sources<'w> {
    series: Vec<Source<'w>>,
}

impl<'w> Sources<'w> {
    fn of(plan: &CompiledPlan, window: &'w MarketWindow) -> Self {
        let series = plan
            .clocks
            .iter()
            .map(|key| match key {
                SeriesKey::Candles(key) => {
                    Source::Candles(window.candles.get(key).map_or(&[], Vec::as_slice))
                }
                SeriesKey::Outcome(key) => {
                    Source::Outcome(window.outcomes.get(key).map_or(&[], Vec::as_slice))
                }
            })
            .collect();
        Sources { series }
    }
}

/// Powers of ten that `u64` holds, `POWERS_OF_TEN[n] = 10^n`.
const POWERS_OF_TEN: [u64; 20] = {
    let mut powers = [1u64; 20];
    let mut n = 1;
    while n < 20 {
        powers[n] = powers[n - 1] * 10;
        n += 1;
    }
    powers
};

/// `f64::round` of a non-negative finite `value` without the library call: `f64::round`
/// rounds halves away from zero, and so does this. A double at or above `2^52` is already
/// whole; below, truncation through `u64` is exact and so is the difference to it.
fn round_half_away(value: f64) -> f64 {
    if !(0.0..4_503_599_627_370_496.0).contains(&value) {
        return value.round();
    }
    let whole = (value as u64) as f64;
    if value - whole >= 0.5 {
        whole + 1.0
    } else {
        whole
    }
}

/// `magnitude / 10^scale` and `magnitude % 10^scale` for a scale of 1 to 19 (`None`
/// otherwise), each scale with its constant divisor so the division compiles to a
/// multiplication: a runtime 64-bit division costs more than the rest of a conversion.
fn split_at_scale(magnitude: u64, scale: usize) -> Option<(u64, u64)> {
    macro_rules! by {
        ($($scale:literal => $power:literal),* $(,)?) => {
            match scale {
                $($scale => Some((magnitude / $power, magnitude % $power)),)*
                _ => None,
            }
        };
    }
    by! {
        1 => 10, 2 => 100, 3 => 1_000, 4 => 10_000, 5 => 100_000, 6 => 1_000_000,
        7 => 10_000_000, 8 => 100_000_000, 9 => 1_000_000_000, 10 => 10_000_000_000,
        11 => 100_000_000_000, 12 => 1_000_000_000_000, 13 => 10_000_000_000_000,
        14 => 100_000_000_000_000, 15 => 1_000_000_000_000_000,
        16 => 10_000_000_000_000_000, 17 => 100_000_000_000_000_000,
        18 => 1_000_000_000_000_000_000, 19 => 10_000_000_000_000_000_000,
    }
}

/// Mantissas below this (`2^50`) take the one-division path of [`decimal_to_f64`].
const SHORT_MANTISSA: u64 = 1 << 50;

/// `10^n` for the scales of the one-division path (`n <= 15`), exact as doubles.
const SHORT_SCALE_POWERS: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `value` as a finite `f64`: exactly `Decimal::to_f64`, bit for bit, so indicator values
/// and the decisions built on them do not change.
///
/// `rust_decimal` converts through a 128-bit division and remainder by the scale's power of
/// ten, then rounds the sum of the parts at the scale. A price's mantissa fits in 64 bits, so
/// the same steps run here in 64-bit arithmetic (an integer converts to the same `f64` from
/// 64 or 128 bits, and `10^n` for `n <= 19` is exact in both, as `10f64.powi(n)` is), which
/// costs a fraction of the general conversion once per candle.
///
/// Prices are usually far shorter still: for a mantissa `m < 2^50` and a scale `s` of 1 to 15,
/// the rounding step recovers `m` exactly (the parts' rounding errors add up to less than
/// `2^-52 · m + 2^-53 · 10^s < 0.375`), so the result is `m / 10^s` correctly rounded: one
/// division of two exact doubles, which is how it is computed then.
pub(crate) fn decimal_to_f64(value: Decimal) -> Option<f64> {
    let scale = value.scale() as usize;
    let magnitude = u64::try_from(value.mantissa().unsigned_abs()).ok();
    if let (Some(small), Some(power)) = (
        magnitude.filter(|m| *m < SHORT_MANTISSA),
        SHORT_SCALE_POWERS.get(scale).filter(|_| scale > 0),
    ) {
        let unsigned = small as f64 / power;
        let signed = if value.is_sign_negative() {
            -unsigned
        } else {
            unsigned
        };
        return Some(signed);
    }
    let converted = match (
        magnitude.and_then(|m| split_at_scale(m, scale)),
        POWERS_OF_TEN.get(scale),
    ) {
        (Some((integral, fraction)), Some(&precision)) => {
            let integral = integral as f64;
            let fraction = fraction as f64 / precision as f64;
            let unsigned = if fraction == 0.0 {
                integral
            } else {
                let round_to = precision as f64;
                round_half_away((integral + fraction) * round_to) / round_to
            };
            if value.is_sign_negative() {
                -unsigned
            } else {
                unsigned
            }
        }
        _ => value.to_f64()?,
    };
    Some(converted).filter(|value| value.is_finite())
}

fn field_of(bar: &Bar, field: PriceField) -> Decimal {
    match field {
        PriceField::Open => bar.open,
        PriceField::High => bar.high,
        PriceField::Low => bar.low,
        PriceField::Close => bar.close,
        PriceField::Volume => bar.volume,
    }
}

/// Every numeric slot's series over the whole of its source.
fn compute_numeric(plan: &CompiledPlan, sources: &Sources<'_>) -> Vec<Vec<Option<f64>>> {
    let mut slots: Vec<Vec<Option<f64>>> = vec![Vec::new(); plan.slot_clock.len()];
    for op in &plan.numeric {
        let input = |slot: usize| slots.get(slot).map_or(&[][..], Vec::as_slice);
        let outputs: Vec<Vec<Option<f64>>> = match &op.kind {
            NumericKind::Candles { clock, field } => {
                let values = match sources.series.get(*clock) {
                    Some(Source::Candles(bars)) => bars
                        .iter()
                        .map(|bar| decimal_to_f64(field_of(bar, *field)))
                        .collect(),
                    _ => Vec::new(),
                };
                vec![values]
            }
            NumericKind::Outcome { clock } => {
                let values = match sources.series.get(*clock) {
                    Some(Source::Outcome(points)) => points
                        .iter()
                        .map(|point| decimal_to_f64(point.price))
                        .collect(),
                    _ => Vec::new(),
                };
                vec![values]
            }
            NumericKind::Sma {
                input: slot,
                period,
            } => {
                let mut sma = Sma::new(*period);
                vec![run_series(input(*slot), |v| sma.push(v))]
            }
            NumericKind::Ema {
                input: slot,
                period,
            } => {
                let mut ema = Ema::new(*period);
                vec![run_series(input(*slot), |v| ema.push(v))]
            }
            NumericKind::Rsi {
                input: slot,
                period,
            } => {
                let mut rsi = Rsi::new(*period);
                vec![run_series(input(*slot), |v| rsi.push(v))]
            }
            NumericKind::Returns {
                input: slot,
                period,
            } => {
                let mut returns = Returns::new(*period);
                vec![run_series(input(*slot), |v| returns.push(v))]
            }
            NumericKind::Volatility {
                input: slot,
                period,
            } => {
                let mut volatility = Volatility::new(*period);
                vec![run_series(input(*slot), |v| volatility.push(v))]
            }
            NumericKind::Atr {
                high,
                low,
                close,
                period,
            } => {
                let mut atr = Atr::new(*period);
                let (high, low, close) = (input(*high), input(*low), input(*close));
                let length = high.len().min(low.len()).min(close.len());
                let values = (0..length)
                    .map(|i| atr.push(high[i], low[i], close[i]))
                    .collect();
                vec![values]
            }
            NumericKind::Macd {
                input: slot,
                fast,
                slow,
                signal,
            } => {
                let mut macd = Macd::new(*fast, *slow, *signal);
                split3(input(*slot).iter().map(|v| macd.push(*v)))
            }
            NumericKind::Bollinger {
                input: slot,
                period,
                multiplier,
            } => {
                let mut bands = Bollinger::new(*period, *multiplier);
                split3(input(*slot).iter().map(|v| bands.push(*v)))
            }
        };
        for (port, values) in outputs.into_iter().enumerate() {
            if let Some(slot) = slots.get_mut(op.out + port) {
                *slot = values;
            }
        }
    }
    slots
}

fn split3(rows: impl Iterator<Item = [Option<f64>; 3]>) -> Vec<Vec<Option<f64>>> {
    let mut columns = vec![Vec::new(), Vec::new(), Vec::new()];
    for row in rows {
        for (column, value) in columns.iter_mut().zip(row) {
            column.push(value);
        }
    }
    columns
}

/// Reads numeric slots at the current moment: `counts[clock]` items of each clock are known.
struct Reader<'p> {
    numeric: &'p [Vec<Option<f64>>],
    slot_clock: &'p [usize],
    counts: &'p [usize],
    /// The count of the only clock, when the plan reads one series (every slot is on it):
    /// reads then skip the slot's clock and its count, on every read of every step.
    single: Option<usize>,
}

impl<'p> Reader<'p> {
    fn new(numeric: &'p [Vec<Option<f64>>], slot_clock: &'p [usize], counts: &'p [usize]) -> Self {
        let single = match counts {
            [count] => Some(*count),
            _ => None,
        };
        Reader {
            numeric,
            slot_clock,
            counts,
            single,
        }
    }

    /// The value `back` items before the latest known one.
    fn value(&self, slot: usize, back: usize) -> Option<f64> {
        let count = match self.single {
            Some(count) => count,
            None => *self.counts.get(*self.slot_clock.get(slot)?)?,
        };
        let index = count.checked_sub(1 + back)?;
        self.numeric.get(slot)?.get(index).copied().flatten()
    }

    fn operand(&self, operand: Operand, back: usize) -> Option<f64> {
        match operand {
            Operand::Slot(slot) => self.value(slot, back),
            Operand::Constant(value) => value.is_finite().then_some(value),
        }
    }
}

fn compare(op: CompareOp, left: f64, right: f64) -> bool {
    match op {
        CompareOp::Gt => left > right,
        CompareOp::Gte => left >= right,
        CompareOp::Lt => left < right,
        CompareOp::Lte => left <= right,
        CompareOp::Eq => (left - right).abs() <= 1e-9 * left.abs().max(right.abs()).max(1.0),
    }
}

/// `Some(all values)` when every input is known, `None` otherwise; `any` chooses or over
/// and. No allocation: this runs once per `and`/`or` node per step.
fn combine(booleans: &[Option<bool>], inputs: &[usize], any: bool) -> Option<bool> {
    let mut result = !any;
    for &input in inputs {
        let value = booleans.get(input).copied().flatten()?;
        if any {
            result |= value;
        } else {
            result &= value;
        }
    }
    Some(result)
}

/// Whether boolean slot `slot` is true.
fn fired(booleans: &[Option<bool>], slot: usize) -> bool {
    booleans.get(slot).copied().flatten() == Some(true)
}

/// The action an action op proposes.
fn proposal(action: &ActionOp) -> ProposedAction {
    ProposedAction {
        node: action.node.clone(),
        asset: action.asset.clone(),
        kind: action.kind,
        size: action.size,
        risk: action.risk,
    }
}

fn to_decimal(value: f64) -> Option<Decimal> {
    Decimal::from_f64(value).map(|decimal| decimal.round_dp(CONTEXT_DECIMAL_PLACES).normalize())
}

/// Evaluates the boolean nodes into `booleans` (one slot per logic op) with the reader's
/// counts. Allocates nothing once `booleans` has grown to the plan's size.
fn evaluate_logic(plan: &CompiledPlan, reader: &Reader<'_>, booleans: &mut Vec<Option<bool>>) {
    booleans.clear();
    for op in &plan.logic {
        let value = match op {
            LogicOp::Compare { op, left, right } => {
                match (reader.value(*left, 0), reader.operand(*right, 0)) {
                    (Some(left), Some(right)) => Some(compare(*op, left, right)),
                    _ => None,
                }
            }
            LogicOp::CrossesAbove { left, right } | LogicOp::CrossesBelow { left, right } => {
                let values = (
                    reader.value(*left, 1),
                    reader.operand(*right, 1),
                    reader.value(*left, 0),
                    reader.operand(*right, 0),
                );
                match values {
                    (Some(left_before), Some(right_before), Some(left_now), Some(right_now)) => {
                        Some(if matches!(op, LogicOp::CrossesAbove { .. }) {
                            left_before <= right_before && left_now > right_now
                        } else {
                            left_before >= right_before && left_now < right_now
                        })
                    }
                    _ => None,
                }
            }
            LogicOp::And(inputs) => combine(booleans, inputs, false),
            LogicOp::Or(inputs) => combine(booleans, inputs, true),
            LogicOp::Not(input) => booleans.get(*input).copied().flatten().map(|value| !value),
        };
        booleans.push(value);
    }
}

/// A numeric slot's column, or an operand's value at an index: what [`Reader::operand`] reads
/// for a plan on one series, `count - 1 - back` being the index.
enum Column<'p> {
    Slot(&'p [Option<f64>]),
    Constant(Option<f64>),
}

impl<'p> Column<'p> {
    fn slot(numeric: &'p [Vec<Option<f64>>], slot: usize) -> &'p [Option<f64>] {
        numeric.get(slot).map_or(&[], Vec::as_slice)
    }

    fn of(numeric: &'p [Vec<Option<f64>>], operand: Operand) -> Self {
        match operand {
            Operand::Slot(slot) => Column::Slot(Self::slot(numeric, slot)),
            Operand::Constant(value) => Column::Constant(value.is_finite().then_some(value)),
        }
    }

    /// The value at `index` (`None`: before the first item).
    fn at(&self, index: Option<usize>) -> Option<f64> {
        match self {
            Column::Slot(values) => index.and_then(|index| values.get(index)).copied().flatten(),
            Column::Constant(value) => *value,
        }
    }
}

/// For a plan reading one series of `length` items: whether each action fires once `i + 1`
/// items are known, for every `i`. The boolean nodes are evaluated column by column, each
/// entry exactly as [`evaluate_logic`] evaluates it at that count (the same reads, the same
/// comparisons, an input not yet evaluated read as undefined), so a replay gives the same
/// actions either way.
fn fire_columns(
    plan: &CompiledPlan,
    numeric: &[Vec<Option<f64>>],
    length: usize,
) -> Vec<Vec<bool>> {
    let mut columns: Vec<Vec<Option<bool>>> = Vec::with_capacity(plan.logic.len());
    for op in &plan.logic {
        let column: Vec<Option<bool>> = match op {
            LogicOp::Compare { op, left, right } => {
                let left = Column::Slot(Column::slot(numeric, *left));
                let right = Column::of(numeric, *right);
                (0..length)
                    .map(|i| match (left.at(Some(i)), right.at(Some(i))) {
                        (Some(left), Some(right)) => Some(compare(*op, left, right)),
                        _ => None,
                    })
                    .collect()
            }
            LogicOp::CrossesAbove { left, right } | LogicOp::CrossesBelow { left, right } => {
                let above = matches!(op, LogicOp::CrossesAbove { .. });
                let left = Column::Slot(Column::slot(numeric, *left));
                let right = Column::of(numeric, *right);
                (0..length)
                    .map(|i| {
                        let before = i.checked_sub(1);
                        let values = (
                            left.at(before),
                            right.at(before),
                            left.at(Some(i)),
                            right.at(Some(i)),
                        );
                        match values {
                            (
                                Some(left_before),
                                Some(right_before),
                                Some(left_now),
                                Some(right_now),
                            ) => Some(if above {
                                left_before <= right_before && left_now > right_now
                            } else {
                                left_before >= right_before && left_now < right_now
                            }),
                            _ => None,
                        }
                    })
                    .collect()
            }
            LogicOp::And(inputs) | LogicOp::Or(inputs) => {
                let any = matches!(op, LogicOp::Or(_));
                let inputs: Option<Vec<&[Option<bool>]>> = inputs
                    .iter()
                    .map(|&input| columns.get(input).map(Vec::as_slice))
                    .collect();
                match inputs {
                    Some(inputs) => (0..length)
                        .map(|i| {
                            let mut result = !any;
                            for input in &inputs {
                                let value = input.get(i).copied().flatten()?;
                                if any {
                                    result |= value;
                                } else {
                                    result &= value;
                                }
                            }
                            Some(result)
                        })
                        .collect(),
                    None => vec![None; length],
                }
            }
            LogicOp::Not(input) => match columns.get(*input) {
                Some(values) => (0..length)
                    .map(|i| values.get(i).copied().flatten().map(|value| !value))
                    .collect(),
                None => vec![None; length],
            },
        };
        columns.push(column);
    }
    plan.actions
        .iter()
        .map(|action| {
            columns.get(action.when).map_or_else(Vec::new, |values| {
                values.iter().map(|value| *value == Some(true)).collect()
            })
        })
        .collect()
}

/// Evaluates the boolean nodes and actions with `counts[clock]` items of each clock known.
fn evaluate_at(
    plan: &CompiledPlan,
    numeric: &[Vec<Option<f64>>],
    counts: &[usize],
    booleans: &mut Vec<Option<bool>>,
) -> Evaluation {
    let reader = Reader::new(numeric, &plan.slot_clock, counts);
    evaluate_logic(plan, &reader, booleans);
    let booleans: &[Option<bool>] = booleans;
    let fired = |slot: usize| fired(booleans, slot);
    let actions = plan
        .actions
        .iter()
        .filter(|action| fired(action.when))
        .map(proposal)
        .collect();
    let llm_requests = plan
        .llm
        .iter()
        .filter(|llm| llm.when.is_none_or(fired))
        .map(|llm| LlmRequest {
            node: llm.node.clone(),
            model: llm.model.clone(),
            guidance: llm.guidance.clone(),
            allowed_actions: llm.allowed_actions.clone(),
            assets: llm.assets.clone(),
            context: llm
                .context
                .iter()
                .map(|(label, slot)| ContextValue {
                    label: label.clone(),
                    value: reader.value(*slot, 0).and_then(to_decimal),
                })
                .collect(),
            risk: llm.risk,
        })
        .collect();
    let shortfalls = plan
        .requirements
        .iter()
        .zip(counts)
        .filter(|(requirement, count)| {
            u32::try_from(**count).unwrap_or(u32::MAX) < requirement.warmup_bars
        })
        .map(|(requirement, &count)| DataShortfall {
            series: requirement.series.clone(),
            needed: requirement.warmup_bars,
            available: u32::try_from(count).unwrap_or(u32::MAX),
        })
        .collect();
    Evaluation {
        actions,
        llm_requests,
        shortfalls,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;

    use super::{POWERS_OF_TEN, decimal_to_f64, round_half_away, split_at_scale};

    fn reference(value: Decimal) -> Option<f64> {
        value.to_f64().filter(|value| value.is_finite())
    }

    fn same(value: Decimal) -> bool {
        decimal_to_f64(value).map(f64::to_bits) == reference(value).map(f64::to_bits)
    }

    #[test]
    fn rounding_halves_away_from_zero_as_f64_round_does() {
        let mut values = vec![
            0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1e300,
            f64::MAX,
        ];
        let mut state = 7_u64;
        for _ in 0..100_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let magnitude = f64::from(u32::try_from(state >> 40).unwrap());
            values.push(magnitude / 1024.0);
            values.push(f64::from_bits(state >> 2));
        }
        for value in values {
            assert_eq!(
                round_half_away(value).to_bits(),
                value.round().to_bits(),
                "{value}"
            );
        }
    }

    #[test]
    fn splitting_at_a_scale_divides_by_its_power_of_ten() {
        for magnitude in [0, 1, 9, 10, 11, 999_999, u64::MAX - 1, u64::MAX] {
            assert_eq!(split_at_scale(magnitude, 0), None);
            assert_eq!(split_at_scale(magnitude, 20), None);
            for (scale, power) in POWERS_OF_TEN.iter().enumerate().skip(1) {
                assert_eq!(
                    split_at_scale(magnitude, scale),
                    Some((magnitude / power, magnitude % power))
                );
            }
        }
    }

    #[test]
    fn powers_of_ten_are_exact_as_floats() {
        for (n, power) in POWERS_OF_TEN.iter().enumerate() {
            let n = i32::try_from(n).unwrap();
            assert_eq!((*power as f64).to_bits(), 10f64.powi(n).to_bits(), "10^{n}");
        }
    }

    #[test]
    fn edge_values_convert_as_rust_decimal_does() {
        let mut values = vec![
            Decimal::ZERO,
            Decimal::ONE,
            Decimal::NEGATIVE_ONE,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(-0, 5),
            Decimal::new(1, 28),
            Decimal::new(5, 1),
            Decimal::new(3_333_333_333_333, 13),
            Decimal::new(i64::MAX, 19),
            Decimal::new(i64::MIN + 1, 19),
            Decimal::from_i128_with_scale(i128::from(u64::MAX), 7),
            Decimal::from_i128_with_scale(i128::from(u64::MAX) + 1, 7),
        ];
        for scale in 0..=28 {
            values.push(Decimal::new(1, scale));
            values.push(Decimal::new(-7, scale));
            values.push(Decimal::new(123_456_789_012_345, scale));
        }
        for value in values {
            assert!(same(value), "{value:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

        #[test]
        fn any_decimal_converts_as_rust_decimal_does(
            mantissa in any::<i64>(),
            wide in any::<i128>(),
            scale in 0_u32..=28,
            use_wide in any::<bool>(),
        ) {
            let mantissa = if use_wide {
                wide % 79_228_162_514_264_337_593_543_950_335_i128
            } else {
                i128::from(mantissa)
            };
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            prop_assert!(same(value), "{:?}", value);
        }

        #[test]
        fn short_decimals_convert_as_rust_decimal_does(
            mantissa in 0_i64..(1 << 50),
            top in (1_i64 << 49)..(1 << 50),
            scale in 1_u32..=15,
            negative in any::<bool>(),
        ) {
            for m in [mantissa, top, mantissa % 1_000_000, top - mantissa % 1_000] {
                let m = if negative { -m } else { m };
                let value = Decimal::new(m, scale);
                prop_assert!(same(value), "{:?}", value);
            }
        }

        #[test]
        fn prices_convert_as_rust_decimal_does(
            cents in 0_i64..10_000_000_000,
            extra in 0_i64..1_000_000_000,
            scale in 1_u32..=12,
        ) {
            let value = Decimal::new(cents, 2);
            prop_assert!(same(value), "{:?}", value);
            let fine = Decimal::new(cents * 1_000 + extra % 1_000, scale.max(3));
            prop_assert!(same(fine), "{:?}", fine);
        }
    }
}
