//! Streaming indicator math on `f64`.
//!
//! Every indicator consumes one value at a time and answers its current output, so a whole
//! series costs one pass and the value at index `i` depends only on inputs `0..=i`. That is
//! what makes [`crate::replay`] equal to evaluating each prefix separately.
//!
//! Conventions shared by every indicator:
//! - an undefined input (`None`) resets the indicator, which outputs `None` until it has seen
//!   enough consecutive defined inputs again (its warm-up);
//! - an output that is not finite is reported as `None`.
//!
//! Money never reaches this module as `f64` from the outside: the evaluator converts `Decimal`
//! prices at the edge and converts results back to `Decimal` before they leave the crate.

use std::collections::VecDeque;

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// A fixed-size window with running sums, kept numerically stable by summing deviations from
/// a shift that is moved to the window mean (and the sums recomputed exactly) every
/// `capacity` pushes.
#[derive(Debug, Clone)]
pub(crate) struct Rolling {
    values: VecDeque<f64>,
    capacity: usize,
    shift: f64,
    sum: f64,
    sum_squares: f64,
    since_anchor: usize,
}

impl Rolling {
    pub(crate) fn new(capacity: usize) -> Self {
        Rolling {
            values: VecDeque::with_capacity(capacity.saturating_add(1)),
            capacity: capacity.max(1),
            shift: 0.0,
            sum: 0.0,
            sum_squares: 0.0,
            since_anchor: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.values.clear();
        self.sum = 0.0;
        self.sum_squares = 0.0;
        self.since_anchor = 0;
    }

    pub(crate) fn push(&mut self, value: f64) {
        if self.values.is_empty() {
            self.shift = value;
        }
        self.values.push_back(value);
        let deviation = value - self.shift;
        self.sum += deviation;
        self.sum_squares += deviation * deviation;
        if self.values.len() > self.capacity
            && let Some(old) = self.values.pop_front()
        {
            let deviation = old - self.shift;
            self.sum -= deviation;
            self.sum_squares -= deviation * deviation;
        }
        self.since_anchor += 1;
        if self.since_anchor >= self.capacity && self.is_full() {
            self.reanchor();
        }
    }

    fn reanchor(&mut self) {
        let count = self.values.len() as f64;
        self.shift = self.values.iter().sum::<f64>() / count;
        let shift = self.shift;
        self.sum = self.values.iter().map(|value| value - shift).sum();
        self.sum_squares = self
            .values
            .iter()
            .map(|value| (value - shift) * (value - shift))
            .sum();
        self.since_anchor = 0;
    }

    pub(crate) fn is_full(&self) -> bool {
        self.values.len() == self.capacity
    }

    pub(crate) fn mean(&self) -> f64 {
        self.shift + self.sum / self.values.len() as f64
    }

    fn squared_deviation_sum(&self) -> f64 {
        let count = self.values.len() as f64;
        (self.sum_squares - self.sum * self.sum / count).max(0.0)
    }

    pub(crate) fn population_variance(&self) -> f64 {
        self.squared_deviation_sum() / self.values.len() as f64
    }

    pub(crate) fn sample_variance(&self) -> f64 {
        self.squared_deviation_sum() / (self.values.len() as f64 - 1.0)
    }
}

/// Simple moving average of the last `period` values.
#[derive(Debug, Clone)]
pub(crate) struct Sma {
    window: Rolling,
}

impl Sma {
    pub(crate) fn new(period: usize) -> Self {
        Sma {
            window: Rolling::new(period),
        }
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> Option<f64> {
        let Some(value) = input else {
            self.window.reset();
            return None;
        };
        self.window.push(value);
        if self.window.is_full() {
            finite(self.window.mean())
        } else {
            None
        }
    }
}

/// Exponential moving average: `alpha = 2 / (period + 1)`; the first output (at the
/// `period`-th value) is the SMA of the first `period` values, then
/// `ema = alpha * value + (1 - alpha) * previous`.
#[derive(Debug, Clone)]
pub(crate) struct Ema {
    period: usize,
    alpha: f64,
    count: usize,
    sum: f64,
    value: Option<f64>,
}

impl Ema {
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Ema {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            count: 0,
            sum: 0.0,
            value: None,
        }
    }

    fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.value = None;
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> Option<f64> {
        let Some(value) = input else {
            self.reset();
            return None;
        };
        match self.value {
            Some(previous) => {
                self.value = Some(self.alpha * value + (1.0 - self.alpha) * previous);
            }
            None => {
                self.sum += value;
                self.count += 1;
                if self.count == self.period {
                    self.value = Some(self.sum / self.period as f64);
                }
            }
        }
        match self.value.and_then(finite) {
            Some(value) => Some(value),
            None if self.value.is_some() => {
                self.reset();
                None
            }
            None => None,
        }
    }
}

/// Wilder smoothing: the first average is the mean of the first `period` samples, then
/// `average = (previous * (period - 1) + sample) / period`.
#[derive(Debug, Clone)]
struct Wilder {
    period: usize,
    count: usize,
    sum: f64,
    value: Option<f64>,
}

impl Wilder {
    fn new(period: usize) -> Self {
        Wilder {
            period: period.max(1),
            count: 0,
            sum: 0.0,
            value: None,
        }
    }

    fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.value = None;
    }

    fn push(&mut self, sample: f64) -> Option<f64> {
        let period = self.period as f64;
        match self.value {
            Some(previous) => self.value = Some((previous * (period - 1.0) + sample) / period),
            None => {
                self.sum += sample;
                self.count += 1;
                if self.count == self.period {
                    self.value = Some(self.sum / period);
                }
            }
        }
        self.value
    }
}

/// Wilder's RSI over `period` changes: `100 - 100 / (1 + average gain / average loss)`; 100
/// when there were gains and no losses, 50 when the series did not move.
#[derive(Debug, Clone)]
pub(crate) struct Rsi {
    previous: Option<f64>,
    gains: Wilder,
    losses: Wilder,
}

impl Rsi {
    pub(crate) fn new(period: usize) -> Self {
        Rsi {
            previous: None,
            gains: Wilder::new(period),
            losses: Wilder::new(period),
        }
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> Option<f64> {
        let Some(value) = input else {
            self.previous = None;
            self.gains.reset();
            self.losses.reset();
            return None;
        };
        let previous = self.previous.replace(value)?;
        let change = value - previous;
        let gain = self.gains.push(change.max(0.0));
        let loss = self.losses.push((-change).max(0.0));
        let (gain, loss) = (gain?, loss?);
        if loss == 0.0 {
            Some(if gain == 0.0 { 50.0 } else { 100.0 })
        } else {
            finite(100.0 - 100.0 / (1.0 + gain / loss))
        }
    }
}

/// Wilder's average true range. The true range needs the previous close, so the first is
/// measured at the second candle: `max(high - low, |high - previous close|, |low - previous
/// close|)`; the ATR is the Wilder average of `period` true ranges.
#[derive(Debug, Clone)]
pub(crate) struct Atr {
    previous_close: Option<f64>,
    ranges: Wilder,
}

impl Atr {
    pub(crate) fn new(period: usize) -> Self {
        Atr {
            previous_close: None,
            ranges: Wilder::new(period),
        }
    }

    pub(crate) fn push(
        &mut self,
        high: Option<f64>,
        low: Option<f64>,
        close: Option<f64>,
    ) -> Option<f64> {
        let (Some(high), Some(low), Some(close)) = (high, low, close) else {
            self.previous_close = None;
            self.ranges.reset();
            return None;
        };
        let previous_close = self.previous_close.replace(close)?;
        let range = (high - low)
            .max((high - previous_close).abs())
            .max((low - previous_close).abs());
        self.ranges.push(range).and_then(finite)
    }
}

/// MACD: `line = EMA(fast) - EMA(slow)`, `signal = EMA(signal)` of the line, `histogram =
/// line - signal`.
#[derive(Debug, Clone)]
pub(crate) struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    pub(crate) fn new(fast: usize, slow: usize, signal: usize) -> Self {
        Macd {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
        }
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> [Option<f64>; 3] {
        let fast = self.fast.push(input);
        let slow = self.slow.push(input);
        let line = match (fast, slow) {
            (Some(fast), Some(slow)) => finite(fast - slow),
            _ => None,
        };
        let signal = self.signal.push(line);
        let histogram = match (line, signal) {
            (Some(line), Some(signal)) => finite(line - signal),
            _ => None,
        };
        [line, signal, histogram]
    }
}

/// Bollinger bands: `middle = SMA(period)`, `upper/lower = middle ± multiplier * σ` with σ the
/// population standard deviation of the same window. Outputs `[upper, middle, lower]`.
#[derive(Debug, Clone)]
pub(crate) struct Bollinger {
    window: Rolling,
    multiplier: f64,
}

impl Bollinger {
    pub(crate) fn new(period: usize, multiplier: f64) -> Self {
        Bollinger {
            window: Rolling::new(period),
            multiplier,
        }
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> [Option<f64>; 3] {
        let Some(value) = input else {
            self.window.reset();
            return [None; 3];
        };
        self.window.push(value);
        if !self.window.is_full() {
            return [None; 3];
        }
        let middle = self.window.mean();
        let width = self.multiplier * self.window.population_variance().sqrt();
        [
            finite(middle + width),
            finite(middle),
            finite(middle - width),
        ]
    }
}

/// Simple return over `period` steps: `value / value[period steps ago] - 1`; undefined when
/// the earlier value is zero.
#[derive(Debug, Clone)]
pub(crate) struct Returns {
    period: usize,
    values: VecDeque<f64>,
}

impl Returns {
    pub(crate) fn new(period: usize) -> Self {
        Returns {
            period: period.max(1),
            values: VecDeque::with_capacity(period.saturating_add(2)),
        }
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> Option<f64> {
        let Some(value) = input else {
            self.values.clear();
            return None;
        };
        self.values.push_back(value);
        if self.values.len() > self.period + 1 {
            self.values.pop_front();
        }
        if self.values.len() <= self.period {
            return None;
        }
        let base = *self.values.front()?;
        if base == 0.0 {
            None
        } else {
            finite(value / base - 1.0)
        }
    }
}

/// Rolling volatility: the sample standard deviation (divisor `period - 1`) of the last
/// `period` one-step simple returns. Not annualized. A return from a zero value is undefined
/// and restarts the window.
#[derive(Debug, Clone)]
pub(crate) struct Volatility {
    previous: Option<f64>,
    returns: Rolling,
}

impl Volatility {
    pub(crate) fn new(period: usize) -> Self {
        Volatility {
            previous: None,
            returns: Rolling::new(period.max(2)),
        }
    }

    pub(crate) fn push(&mut self, input: Option<f64>) -> Option<f64> {
        let Some(value) = input else {
            self.previous = None;
            self.returns.reset();
            return None;
        };
        let previous = self.previous.replace(value)?;
        match finite(value / previous - 1.0) {
            Some(change) if previous != 0.0 => self.returns.push(change),
            _ => {
                self.returns.reset();
                return None;
            }
        }
        if self.returns.is_full() {
            finite(self.returns.sample_variance().sqrt())
        } else {
            None
        }
    }
}

/// Runs a single-output indicator over a whole series.
pub(crate) fn series(
    input: &[Option<f64>],
    mut step: impl FnMut(Option<f64>) -> Option<f64>,
) -> Vec<Option<f64>> {
    input.iter().map(|value| step(*value)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-9;

    fn defined(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().copied().map(Some).collect()
    }

    fn assert_close(actual: &[Option<f64>], expected: &[Option<f64>]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
            match (a, e) {
                (Some(a), Some(e)) => assert!(
                    (a - e).abs() <= TOLERANCE * e.abs().max(1.0),
                    "index {index}: {a} vs {e}"
                ),
                (None, None) => {}
                _ => panic!("index {index}: {a:?} vs {e:?}"),
            }
        }
    }

    #[test]
    fn sma_by_hand() {
        let mut sma = Sma::new(3);
        let out = series(&defined(&[1.0, 2.0, 3.0, 4.0, 5.0]), |v| sma.push(v));
        assert_close(&out, &[None, None, Some(2.0), Some(3.0), Some(4.0)]);
    }

    #[test]
    fn sma_resets_on_gaps() {
        let mut sma = Sma::new(2);
        let input = [Some(1.0), Some(3.0), None, Some(5.0), Some(7.0)];
        let out = series(&input, |v| sma.push(v));
        assert_close(&out, &[None, Some(2.0), None, None, Some(6.0)]);
    }

    #[test]
    fn ema_by_hand() {
        // alpha = 0.5; seed = (1 + 2 + 3) / 3 = 2; then 0.5*4 + 0.5*2 = 3; 0.5*5 + 0.5*3 = 4.
        let mut ema = Ema::new(3);
        let out = series(&defined(&[1.0, 2.0, 3.0, 4.0, 5.0]), |v| ema.push(v));
        assert_close(&out, &[None, None, Some(2.0), Some(3.0), Some(4.0)]);
        // alpha = 2/3; seed = 15; 2/3*20 + 1/3*15 = 18.333…
        let mut ema = Ema::new(2);
        let out = series(&defined(&[10.0, 20.0, 20.0]), |v| ema.push(v));
        assert_close(&out, &[None, Some(15.0), Some(55.0 / 3.0)]);
    }

    #[test]
    fn rsi_by_hand() {
        // Changes: +1, -0.5, +1; period 2.
        // First averages (index 2): gain (1 + 0)/2 = 0.5, loss (0 + 0.5)/2 = 0.25 → RS 2 → 66.67.
        // Index 3: gain (0.5 + 1)/2 = 0.75, loss (0.25 + 0)/2 = 0.125 → RS 6 → 85.714….
        let mut rsi = Rsi::new(2);
        let out = series(&defined(&[10.0, 11.0, 10.5, 11.5]), |v| rsi.push(v));
        assert_close(
            &out,
            &[None, None, Some(200.0 / 3.0), Some(100.0 - 100.0 / 7.0)],
        );
    }

    #[test]
    fn rsi_extremes() {
        let mut rsi = Rsi::new(2);
        let out = series(&defined(&[1.0, 2.0, 3.0]), |v| rsi.push(v));
        assert_close(&out, &[None, None, Some(100.0)]);
        let mut rsi = Rsi::new(2);
        let out = series(&defined(&[3.0, 2.0, 1.0]), |v| rsi.push(v));
        assert_close(&out, &[None, None, Some(0.0)]);
        let mut rsi = Rsi::new(2);
        let out = series(&defined(&[2.0, 2.0, 2.0]), |v| rsi.push(v));
        assert_close(&out, &[None, None, Some(50.0)]);
    }

    #[test]
    fn atr_by_hand() {
        // Candles (h, l, c): (10, 8, 9), (11, 9, 10), (12, 9, 11), (11, 7, 8).
        // True ranges from the second: max(2, 2, 0) = 2; max(3, 2, 1) = 3; max(4, 0, 4) = 4.
        // Period 2: first ATR (index 2) = (2 + 3)/2 = 2.5; then (2.5*1 + 4)/2 = 3.25.
        let mut atr = Atr::new(2);
        let candles = [
            (10.0, 8.0, 9.0),
            (11.0, 9.0, 10.0),
            (12.0, 9.0, 11.0),
            (11.0, 7.0, 8.0),
        ];
        let out: Vec<Option<f64>> = candles
            .iter()
            .map(|(h, l, c)| atr.push(Some(*h), Some(*l), Some(*c)))
            .collect();
        assert_close(&out, &[None, None, Some(2.5), Some(3.25)]);
    }

    #[test]
    fn bollinger_by_hand() {
        // Window [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, population σ 2; multiplier 2 → 9 and 1.
        let mut bands = Bollinger::new(8, 2.0);
        let outs: Vec<[Option<f64>; 3]> = defined(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
            .into_iter()
            .map(|v| bands.push(v))
            .collect();
        assert_eq!(outs[6], [None; 3]);
        let last = outs[7];
        assert_close(&last, &[Some(9.0), Some(5.0), Some(1.0)]);
    }

    #[test]
    fn macd_by_hand() {
        // fast 1 (EMA(1) is the value itself), slow 2, signal 2.
        // Input 1, 3, 6, 10.
        // EMA2: seed (1+3)/2 = 2 at index 1; index 2: 2/3*6 + 1/3*2 = 14/3; index 3: 2/3*10 + 1/3*14/3 = 74/9.
        // Line: index 1: 3 - 2 = 1; index 2: 6 - 14/3 = 4/3; index 3: 10 - 74/9 = 16/9.
        // Signal EMA2 of line: seed (1 + 4/3)/2 = 7/6 at index 2; index 3: 2/3*16/9 + 1/3*7/6 = 85/54.
        let mut macd = Macd::new(1, 2, 2);
        let outs: Vec<[Option<f64>; 3]> = defined(&[1.0, 3.0, 6.0, 10.0])
            .into_iter()
            .map(|v| macd.push(v))
            .collect();
        assert_eq!(outs[0], [None; 3]);
        assert_close(&outs[1], &[Some(1.0), None, None]);
        assert_close(
            &outs[2],
            &[Some(4.0 / 3.0), Some(7.0 / 6.0), Some(1.0 / 6.0)],
        );
        assert_close(
            &outs[3],
            &[
                Some(16.0 / 9.0),
                Some(85.0 / 54.0),
                Some(16.0 / 9.0 - 85.0 / 54.0),
            ],
        );
    }

    #[test]
    fn returns_by_hand() {
        let mut returns = Returns::new(2);
        let out = series(&defined(&[100.0, 110.0, 121.0, 0.0, 5.0]), |v| {
            returns.push(v)
        });
        assert_close(
            &out,
            &[None, None, Some(0.21), Some(-1.0), Some(5.0 / 121.0 - 1.0)],
        );
        let mut returns = Returns::new(1);
        let out = series(&defined(&[0.0, 1.0, 2.0]), |v| returns.push(v));
        assert_close(&out, &[None, None, Some(1.0)]);
    }

    #[test]
    fn volatility_by_hand() {
        // One-step returns of 100, 110, 99, 108.9: 0.1, -0.1, 0.1.
        // Period 2: sample σ of (0.1, -0.1) = sqrt(0.02) = 0.141421…; same for (-0.1, 0.1).
        // Period 3 over (0.1, -0.1, 0.1): mean 1/30, σ² = ((2/30)²·2 + (4/30)²)/2 = 0.013333….
        let input = defined(&[100.0, 110.0, 99.0, 108.9]);
        let mut vol = Volatility::new(2);
        let out = series(&input, |v| vol.push(v));
        let sigma = 0.02_f64.sqrt();
        assert_close(&out, &[None, None, Some(sigma), Some(sigma)]);
        let mut vol = Volatility::new(3);
        let out = series(&input, |v| vol.push(v));
        assert_close(&out, &[None, None, None, Some((0.04 / 3.0_f64).sqrt())]);
    }

    #[test]
    fn rolling_stays_accurate_over_long_series() {
        let mut window = Rolling::new(20);
        let mut reference = VecDeque::new();
        for i in 0..100_000 {
            let value = 60_000.0 + ((i * 7_919) % 1_000) as f64 * 0.37;
            window.push(value);
            reference.push_back(value);
            if reference.len() > 20 {
                reference.pop_front();
            }
        }
        let mean = reference.iter().sum::<f64>() / 20.0;
        let variance = reference
            .iter()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>()
            / 20.0;
        assert!((window.mean() - mean).abs() < 1e-6);
        assert!((window.population_variance() - variance).abs() < 1e-6);
    }

    #[test]
    fn constant_series_have_zero_spread() {
        let mut bands = Bollinger::new(3, 2.0);
        let outs: Vec<[Option<f64>; 3]> = defined(&[5.0; 6])
            .into_iter()
            .map(|v| bands.push(v))
            .collect();
        assert_close(&outs[5], &[Some(5.0), Some(5.0), Some(5.0)]);
    }
}
