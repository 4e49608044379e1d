//! What backtest jobs may cost: the per-tier daily usage and size limits, the hard limits on
//! top of them, and the job settings (`BacktestJobArgs`, flattened by the binaries).
//!
//! Plain values and a pure check; the service counts usage in the same transaction that
//! queues the job, so a refused job queues and counts nothing.

use clones_clone_service::entitlement::Tier;
use clones_kernel::FieldProblem;
use clones_market::InstrumentKind;
use rust_decimal::Decimal;

/// What one tier may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// Jobs queued per clone per UTC day.
    pub jobs_per_day: u32,
    /// Bars replayed per clone per UTC day.
    pub bars_per_day: u64,
    /// Bars one job may replay.
    pub bars_per_job: u64,
    /// Days one job's range may span.
    pub range_days: u32,
}

impl TierLimits {
    /// The limits of `tier`.
    pub fn of(tier: Tier) -> Self {
        match tier {
            Tier::Starter => Self {
                jobs_per_day: 20,
                bars_per_day: 2_000_000,
                bars_per_job: 500_000,
                range_days: 366,
            },
            Tier::Pro => Self {
                jobs_per_day: 200,
                bars_per_day: 50_000_000,
                bars_per_job: 2_000_000,
                range_days: 5 * 366,
            },
            Tier::Elite => Self {
                jobs_per_day: 1_000,
                bars_per_day: 250_000_000,
                bars_per_job: 5_000_000,
                range_days: 20 * 366,
            },
        }
    }
}

/// How the backtest service runs and bounds jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSettings {
    /// Venue of the instruments a strategy's assets map to (`replay` makes `BTC` into
    /// `replay:perp:BTC` with [`InstrumentKind::Perp`]); the decision worker's venue.
    pub venue: String,
    /// Kind of those instruments.
    pub kind: InstrumentKind,
    /// Bars any job may replay, whatever its tier.
    pub max_bars_per_job: u64,
    /// Jobs one user may have queued or running at once.
    pub max_open_jobs: u32,
    /// Bars a synchronous preview may replay.
    pub preview_max_bars: u64,
    /// Leases a job gets before it fails.
    pub max_attempts: u32,
    /// How long a lease holds without a heartbeat.
    pub lease: chrono::Duration,
    /// How often a running job writes its progress and renews its lease.
    pub heartbeat: std::time::Duration,
    /// How long artifacts are kept.
    pub retention: chrono::Duration,
    /// Starting cash when a request names none.
    pub default_cash: Decimal,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            venue: "replay".into(),
            kind: InstrumentKind::Perp,
            max_bars_per_job: 5_000_000,
            max_open_jobs: 4,
            preview_max_bars: 20_000,
            max_attempts: 3,
            lease: chrono::Duration::seconds(60),
            heartbeat: std::time::Duration::from_secs(2),
            retention: chrono::Duration::days(30),
            default_cash: Decimal::from(10_000),
        }
    }
}

/// The job settings from the command line or the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct BacktestJobArgs {
    /// Bars any backtest job may replay, whatever its tier.
    #[arg(long, env = "BACKTEST_MAX_BARS_PER_JOB", default_value_t = 5_000_000)]
    pub backtest_max_bars_per_job: u64,
    /// Backtest jobs one user may have queued or running at once.
    #[arg(long, env = "BACKTEST_MAX_OPEN_JOBS", default_value_t = 4)]
    pub backtest_max_open_jobs: u32,
    /// Bars a synchronous backtest preview may replay.
    #[arg(long, env = "BACKTEST_PREVIEW_MAX_BARS", default_value_t = 20_000)]
    pub backtest_preview_max_bars: u64,
    /// Leases a backtest job gets before it fails.
    #[arg(long, env = "BACKTEST_MAX_ATTEMPTS", default_value_t = 3)]
    pub backtest_max_attempts: u32,
    /// Seconds a backtest lease holds without a heartbeat.
    #[arg(long, env = "BACKTEST_LEASE_SECS", default_value_t = 60)]
    pub backtest_lease_secs: u32,
    /// Days backtest artifacts are kept (job rows and metrics stay).
    #[arg(long, env = "BACKTEST_ARTIFACT_RETENTION_DAYS", default_value_t = 30)]
    pub backtest_artifact_retention_days: u32,
}

impl BacktestJobArgs {
    /// The settings these arguments give, on top of `base` (venue and kind come from there).
    ///
    /// # Errors
    /// A message naming the setting out of range.
    pub fn apply(&self, base: JobSettings) -> Result<JobSettings, String> {
        if self.backtest_max_attempts == 0 {
            return Err("BACKTEST_MAX_ATTEMPTS must be at least 1".into());
        }
        if self.backtest_lease_secs < 5 {
            return Err("BACKTEST_LEASE_SECS must be at least 5".into());
        }
        let lease = chrono::Duration::seconds(i64::from(self.backtest_lease_secs));
        Ok(JobSettings {
            max_bars_per_job: self.backtest_max_bars_per_job,
            max_open_jobs: self.backtest_max_open_jobs,
            preview_max_bars: self.backtest_preview_max_bars,
            max_attempts: self.backtest_max_attempts,
            lease,
            // A third of the lease: two heartbeats may be late before another worker may
            // take the job.
            heartbeat: std::time::Duration::from_secs(u64::from(self.backtest_lease_secs / 3)),
            retention: chrono::Duration::days(i64::from(self.backtest_artifact_retention_days)),
            ..base
        })
    }
}

/// The size problems of a job of `bars` bars over `range_days` days trading `instruments`
/// assets, for a clone of `tier` that may trade `max_instruments` at once.
pub fn size_problems(
    settings: &JobSettings,
    tier: Tier,
    max_instruments: u32,
    bars: u64,
    range_days: i64,
    instruments: usize,
) -> Vec<FieldProblem> {
    let limits = TierLimits::of(tier);
    let mut problems = Vec::new();
    let bar_limit = limits.bars_per_job.min(settings.max_bars_per_job);
    if bars > bar_limit {
        problems.push(problem(
            "too_many_bars",
            "bars",
            format!("the job would replay {bars} bars; at most {bar_limit} are allowed"),
        ));
    }
    if range_days > i64::from(limits.range_days) {
        problems.push(problem(
            "range_too_long",
            "range",
            format!(
                "the range spans {range_days} days; a {} clone may backtest at most {} days",
                tier.as_str(),
                limits.range_days
            ),
        ));
    }
    if instruments > max_instruments as usize {
        problems.push(problem(
            "too_many_instruments",
            "instruments",
            format!(
                "the strategy trades {instruments} assets; at most {max_instruments} are allowed"
            ),
        ));
    }
    problems
}

/// A problem of code `code` about the request's `field`.
pub(crate) fn problem(code: &str, field: &str, message: String) -> FieldProblem {
    FieldProblem {
        code: code.to_string(),
        node: Some(field.to_string()),
        message,
    }
}
