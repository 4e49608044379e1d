//! Audition rules: the pure evaluation of a prop account's equity snapshots and fills against a
//! prop-firm style rule set.
//!
//! This module owns the rule arithmetic: trading days (which start at a local time of day in an
//! IANA time zone, daylight saving included), the daily loss and total drawdown limits, the
//! profit target, minimum trading days and the window. Evaluation is incremental: new
//! observations are fed in time order into a stored [`EvalState`], so a worker never re-reads
//! what it has already judged.
//!
//! It must not touch the database, read a clock or recompute execution math: equity and cash
//! come from prop-engine's mark-to-market snapshots, fills only tell which days were traded.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod coverage;

pub use coverage::{AfterJudging, Coverage, Pages};

/// Which value a limit is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Cash (the balance: realized results only).
    Balance,
    /// Equity (cash plus unrealized profit and loss).
    Equity,
}

impl Basis {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Balance => "balance",
            Basis::Equity => "equity",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "balance" => Some(Basis::Balance),
            "equity" => Some(Basis::Equity),
            _ => None,
        }
    }
}

/// How the total drawdown limit is anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DrawdownMode {
    /// Measured from the starting balance.
    Static,
    /// Measured from the highest value seen so far.
    Trailing,
}

impl DrawdownMode {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DrawdownMode::Static => "static",
            DrawdownMode::Trailing => "trailing",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "static" => Some(DrawdownMode::Static),
            "trailing" => Some(DrawdownMode::Trailing),
            _ => None,
        }
    }
}

/// The rule that failed an audition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureRule {
    /// The loss since the start of the trading day reached the daily limit.
    MaxDailyLoss,
    /// The drawdown (static or trailing) reached the total limit.
    MaxTotalDrawdown,
    /// The window ended before the profit target was reached.
    WindowExpired,
    /// The window ended with the target reached but too few trading days.
    MinTradingDaysNotMet,
}

impl FailureRule {
    /// Every rule, in a stable order.
    pub const ALL: [FailureRule; 4] = [
        FailureRule::MaxDailyLoss,
        FailureRule::MaxTotalDrawdown,
        FailureRule::WindowExpired,
        FailureRule::MinTradingDaysNotMet,
    ];

    /// The stable rule code.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureRule::MaxDailyLoss => "max_daily_loss",
            FailureRule::MaxTotalDrawdown => "max_total_drawdown",
            FailureRule::WindowExpired => "window_expired",
            FailureRule::MinTradingDaysNotMet => "min_trading_days_not_met",
        }
    }

    /// Parses a rule code.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.as_str() == value)
    }
}

impl fmt::Display for FailureRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule set as an audition runs it (frozen into the run when it starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    /// The prop account's quote currency.
    pub quote_currency: String,
    /// The prop account's starting balance; every percentage limit is a share of it.
    pub starting_balance: Decimal,
    /// Profit needed to pass, in percent of the starting balance (measured on equity). `None`:
    /// no target; the audition passes when its window ends without a breach.
    pub profit_target_pct: Option<Decimal>,
    /// Largest loss within one trading day, in percent of the starting balance.
    pub max_daily_loss_pct: Decimal,
    /// What the daily loss is measured on.
    pub daily_loss_basis: Basis,
    /// Largest total drawdown, in percent of the starting balance.
    pub max_drawdown_pct: Decimal,
    /// What the drawdown is measured on.
    pub drawdown_basis: Basis,
    /// Static (from the starting balance) or trailing (from the highest value seen).
    pub drawdown_mode: DrawdownMode,
    /// The local time of day at which a trading day starts.
    pub daily_reset_time: NaiveTime,
    /// The IANA time zone of the reset time, e.g. `America/New_York`.
    #[serde(with = "tz_name")]
    pub time_zone: Tz,
    /// Trading days (with at least one fill) needed to pass.
    pub min_trading_days: u32,
    /// The window's length in minutes.
    pub max_window_minutes: u32,
    /// Free retries after a failure.
    pub free_retries: u32,
    /// The failure rules after which a free retry is allowed.
    pub retry_on: Vec<FailureRule>,
}

mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(tz: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(tz.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses an IANA time zone name.
///
/// # Errors
/// A message naming the zone when it is unknown.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    Tz::from_str(name).map_err(|_| format!("unknown time zone {name}"))
}

fn pct_of(base: Decimal, pct: Decimal) -> Decimal {
    base * pct / Decimal::ONE_HUNDRED
}

impl Rules {
    /// The equity at which the profit target is reached, if there is a target.
    pub fn target_equity(&self) -> Option<Decimal> {
        self.profit_target_pct
            .map(|pct| self.starting_balance + pct_of(self.starting_balance, pct))
    }

    /// The daily loss limit as an amount.
    pub fn daily_loss_limit(&self) -> Decimal {
        pct_of(self.starting_balance, self.max_daily_loss_pct)
    }

    /// The total drawdown limit as an amount.
    pub fn drawdown_limit(&self) -> Decimal {
        pct_of(self.starting_balance, self.max_drawdown_pct)
    }

    /// The trading day `at` belongs to, named by the local date on which it starts: with a
    /// 17:00 reset, 16:59 local on the 8th belongs to the day of the 7th.
    pub fn trading_day(&self, at: DateTime<Utc>) -> NaiveDate {
        let local = at.with_timezone(&self.time_zone).naive_local();
        (local - self.reset_offset()).date()
    }

    /// The instant the trading day `day` starts. A reset time that falls into a daylight
    /// saving gap starts the day when the local clock resumes; in a repeated hour, at the
    /// first occurrence.
    pub fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        let local: NaiveDateTime = day.and_time(self.daily_reset_time);
        let mut probe = local;
        // A gap is at most a few hours; step forward a minute at a time until the local time
        // exists.
        for _ in 0..(24 * 60) {
            if let Some(at) = self.time_zone.from_local_datetime(&probe).earliest() {
                return at.with_timezone(&Utc);
            }
            probe += Duration::minutes(1);
        }
        local.and_utc()
    }

    fn reset_offset(&self) -> Duration {
        self.daily_reset_time - NaiveTime::MIN
    }

    /// Whether a retry is allowed after a failure of `rule` on attempt `attempt` (1-based).
    ///
    /// # Errors
    /// [`RetryRefusal`] saying why not.
    pub fn may_retry(&self, rule: FailureRule, attempt: u32) -> Result<(), RetryRefusal> {
        if !self.retry_on.contains(&rule) {
            return Err(RetryRefusal::RuleNotRetryable(rule));
        }
        if attempt > self.free_retries {
            return Err(RetryRefusal::NoRetriesLeft {
                allowed: self.free_retries,
            });
        }
        Ok(())
    }

    fn value(basis: Basis, equity: Decimal, cash: Decimal) -> Decimal {
        match basis {
            Basis::Balance => cash,
            Basis::Equity => equity,
        }
    }
}

/// Why a retry is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryRefusal {
    /// The rule set allows no retry after this rule.
    RuleNotRetryable(FailureRule),
    /// Every free retry is used.
    NoRetriesLeft {
        /// Free retries the rule set allows.
        allowed: u32,
    },
}

/// The audition window: snapshots after its end are not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When the audition started.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
}

/// One mark-to-market observation of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// Equity (cash plus unrealized PnL).
    pub equity: Decimal,
    /// Cash.
    pub cash: Decimal,
}

/// One fill as evaluation sees it: when it was made, and its id, which orders the fills that
/// share a timestamp (every fill of one order does). Fills are fed in (time, id) order, the
/// order prop-engine reads them forward in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fill {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// Its id.
    pub id: Uuid,
}

/// What evaluation has learned so far; stored with the run between worker passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalState {
    /// The last snapshot judged.
    pub last_snapshot_at: Option<DateTime<Utc>>,
    /// The last fill read, counted or passed over: the next pass reads the fills after it.
    pub last_fill: Option<Fill>,
    /// The current trading day (of the last snapshot).
    pub trading_day: Option<NaiveDate>,
    /// The daily-loss basis value at the start of the current trading day.
    pub day_start_value: Decimal,
    /// The highest drawdown-basis value seen (the starting balance at first).
    pub peak_value: Decimal,
    /// The trading day of the last counted fill.
    pub last_fill_day: Option<NaiveDate>,
    /// Trading days with at least one fill.
    pub trading_days: u32,
    /// Equity of the last snapshot.
    pub latest_equity: Decimal,
    /// Cash of the last snapshot.
    pub latest_cash: Decimal,
}

impl EvalState {
    /// The state of a fresh run: nothing seen, everything at the starting balance.
    pub fn new(rules: &Rules) -> Self {
        Self {
            last_snapshot_at: None,
            last_fill: None,
            trading_day: None,
            day_start_value: rules.starting_balance,
            peak_value: rules.starting_balance,
            last_fill_day: None,
            trading_days: 0,
            latest_equity: rules.starting_balance,
            latest_cash: rules.starting_balance,
        }
    }
}

/// The outcome of an evaluation step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing decided yet.
    Running,
    /// The profit target and the minimum trading days were met inside the window.
    Passed,
    /// A rule failed the audition.
    Failed {
        /// The rule.
        rule: FailureRule,
        /// What was observed, for people.
        detail: String,
    },
}

impl Verdict {
    /// True for a final verdict.
    pub fn is_final(&self) -> bool {
        !matches!(self, Verdict::Running)
    }
}

/// Evaluates observations of one audition against its rules.
#[derive(Debug, Clone, Copy)]
pub struct Evaluator<'a> {
    rules: &'a Rules,
    window: Window,
}

impl<'a> Evaluator<'a> {
    /// An evaluator of `rules` over `window`.
    pub fn new(rules: &'a Rules, window: Window) -> Self {
        Self { rules, window }
    }

    /// Reads a fill: it becomes the last fill read, and inside the window its trading day
    /// becomes a traded day. A fill not after the last one read changes nothing; one outside
    /// the window is passed over (read, not counted), so the cursor still moves past it.
    pub fn apply_fill(&self, state: &mut EvalState, fill: Fill) {
        if state.last_fill.is_some_and(|last| fill <= last) {
            return;
        }
        state.last_fill = Some(fill);
        let at = fill.at;
        if at > self.window.end || at < self.window.start {
            return;
        }
        let day = self.rules.trading_day(at);
        // Days only move forward: when a repeated local hour moves the wall clock back across
        // the reset time, the day already counted stays the current one.
        if state.last_fill_day.is_none_or(|last| day > last) {
            state.last_fill_day = Some(day);
            state.trading_days += 1;
        }
    }

    /// Judges one snapshot. Snapshots outside the window or not after the last judged one
    /// change nothing and return [`Verdict::Running`].
    pub fn apply_snapshot(&self, state: &mut EvalState, snapshot: Snapshot) -> Verdict {
        let rules = self.rules;
        if snapshot.at > self.window.end
            || snapshot.at < self.window.start
            || state
                .last_snapshot_at
                .is_some_and(|last| snapshot.at <= last)
        {
            return Verdict::Running;
        }
        let day = rules.trading_day(snapshot.at);
        match state.trading_day {
            None => state.trading_day = Some(day),
            Some(current) if day > current => {
                // The value in force when the day started is the last one seen before it.
                state.day_start_value = Rules::value(
                    rules.daily_loss_basis,
                    state.latest_equity,
                    state.latest_cash,
                );
                state.trading_day = Some(day);
            }
            Some(_) => {}
        }
        state.last_snapshot_at = Some(snapshot.at);
        state.latest_equity = snapshot.equity;
        state.latest_cash = snapshot.cash;

        let daily_value = Rules::value(rules.daily_loss_basis, snapshot.equity, snapshot.cash);
        let daily_loss = state.day_start_value - daily_value;
        let drawdown_value = Rules::value(rules.drawdown_basis, snapshot.equity, snapshot.cash);
        state.peak_value = state.peak_value.max(drawdown_value);
        let reference = match rules.drawdown_mode {
            DrawdownMode::Static => rules.starting_balance,
            DrawdownMode::Trailing => state.peak_value,
        };
        let drawdown = reference - drawdown_value;

        // A breach fails at once, even when the same snapshot also reaches the target.
        if daily_loss >= rules.daily_loss_limit() {
            return Verdict::Failed {
                rule: FailureRule::MaxDailyLoss,
                detail: format!(
                    "{basis} fell from {start} to {daily_value} on the trading day of {day}: a loss of {daily_loss}, limit {limit}",
                    basis = rules.daily_loss_basis.as_str(),
                    start = state.day_start_value.normalize(),
                    daily_value = daily_value.normalize(),
                    daily_loss = daily_loss.normalize(),
                    limit = rules.daily_loss_limit().normalize(),
                ),
            };
        }
        if drawdown >= rules.drawdown_limit() {
            return Verdict::Failed {
                rule: FailureRule::MaxTotalDrawdown,
                detail: format!(
                    "{basis} {drawdown_value} is {drawdown} below the {mode} reference {reference}, limit {limit}",
                    basis = rules.drawdown_basis.as_str(),
                    drawdown_value = drawdown_value.normalize(),
                    drawdown = drawdown.normalize(),
                    mode = rules.drawdown_mode.as_str(),
                    reference = reference.normalize(),
                    limit = rules.drawdown_limit().normalize(),
                ),
            };
        }
        let target_reached = rules
            .target_equity()
            .is_some_and(|target| snapshot.equity >= target);
        if target_reached && state.trading_days >= rules.min_trading_days {
            return Verdict::Passed;
        }
        Verdict::Running
    }

    /// Feeds a batch in time order: each snapshot is judged after the fills at or before it.
    /// Fills later than the last judged snapshot are left for the next pass (they stay
    /// uncounted in `state`). Stops at the first final verdict.
    pub fn run(&self, state: &mut EvalState, fills: &[Fill], snapshots: &[Snapshot]) -> Verdict {
        let mut fills = fills.iter().copied().peekable();
        for snapshot in snapshots {
            while let Some(fill) = fills.next_if(|fill| fill.at <= snapshot.at) {
                self.apply_fill(state, fill);
            }
            let verdict = self.apply_snapshot(state, *snapshot);
            if verdict.is_final() {
                return verdict;
            }
        }
        Verdict::Running
    }

    /// One evaluation pass over pages read after the state's cursors, as `coverage` allows:
    /// judges the covered snapshots (each after the fills at or before it), then counts the
    /// page's fills or closes the window when `coverage` says so and no snapshot ended the
    /// audition first.
    pub fn pass(
        &self,
        state: &mut EvalState,
        coverage: Coverage,
        fills: &[Fill],
        snapshots: &[Snapshot],
        now: DateTime<Utc>,
    ) -> Verdict {
        let covered = snapshots.get(..coverage.snapshots).unwrap_or(snapshots);
        let verdict = self.run(state, fills, covered);
        if verdict.is_final() {
            return verdict;
        }
        match coverage.then {
            AfterJudging::Wait => verdict,
            AfterJudging::CountFills => {
                // Fills already read while judging are skipped.
                for fill in fills {
                    self.apply_fill(state, *fill);
                }
                verdict
            }
            AfterJudging::Close => {
                // The trades made after the window's last snapshot but inside it still count.
                for fill in fills {
                    self.apply_fill(state, *fill);
                }
                self.close(state, now)
            }
        }
    }

    /// The verdict once the window is over at `now` and every snapshot of it was judged.
    /// With a target: [`FailureRule::MinTradingDaysNotMet`] when the latest equity is at the
    /// target, [`FailureRule::WindowExpired`] otherwise. Without one: [`Verdict::Passed`] when
    /// the minimum trading days were traded, [`FailureRule::MinTradingDaysNotMet`] otherwise.
    /// Before the end, [`Verdict::Running`].
    pub fn close(&self, state: &EvalState, now: DateTime<Utc>) -> Verdict {
        if now < self.window.end {
            return Verdict::Running;
        }
        let rules = self.rules;
        let Some(target) = rules.target_equity() else {
            if state.trading_days >= rules.min_trading_days {
                return Verdict::Passed;
            }
            return Verdict::Failed {
                rule: FailureRule::MinTradingDaysNotMet,
                detail: format!(
                    "the window ended without a breach but only {} of {} trading days were traded",
                    state.trading_days, rules.min_trading_days
                ),
            };
        };
        if state.latest_equity >= target {
            Verdict::Failed {
                rule: FailureRule::MinTradingDaysNotMet,
                detail: format!(
                    "the profit target was reached but only {} of {} trading days were traded",
                    state.trading_days, rules.min_trading_days
                ),
            }
        } else {
            Verdict::Failed {
                rule: FailureRule::WindowExpired,
                detail: format!(
                    "the window ended with equity {} below the target {}",
                    state.latest_equity.normalize(),
                    target.normalize()
                ),
            }
        }
    }
}

/// Where an audition stands against its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Profit (or loss) in percent of the starting balance, on equity.
    pub profit_pct: Decimal,
    /// Loss since the start of the current trading day (zero when up).
    pub daily_loss: Decimal,
    /// The daily loss in percent of its limit.
    pub daily_loss_used_pct: Decimal,
    /// The current drawdown against the static or trailing reference (zero when above it).
    pub drawdown: Decimal,
    /// The drawdown in percent of its limit.
    pub drawdown_used_pct: Decimal,
}

/// The standing of `state` under `rules`.
pub fn standing(rules: &Rules, state: &EvalState) -> Standing {
    let hundred = Decimal::ONE_HUNDRED;
    let share = |part: Decimal, whole: Decimal| {
        if whole.is_zero() {
            Decimal::ZERO
        } else {
            (part * hundred / whole).round_dp(4)
        }
    };
    let daily_value = Rules::value(
        rules.daily_loss_basis,
        state.latest_equity,
        state.latest_cash,
    );
    let daily_loss = (state.day_start_value - daily_value).max(Decimal::ZERO);
    let drawdown_value = Rules::value(rules.drawdown_basis, state.latest_equity, state.latest_cash);
    let reference = match rules.drawdown_mode {
        DrawdownMode::Static => rules.starting_balance,
        DrawdownMode::Trailing => state.peak_value,
    };
    let drawdown = (reference - drawdown_value).max(Decimal::ZERO);
    Standing {
        profit_pct: share(
            state.latest_equity - rules.starting_balance,
            rules.starting_balance,
        ),
        daily_loss,
        daily_loss_used_pct: share(daily_loss, rules.daily_loss_limit()),
        drawdown,
        drawdown_used_pct: share(drawdown, rules.drawdown_limit()),
    }
}

#[cfg(test)]
mod tests;
