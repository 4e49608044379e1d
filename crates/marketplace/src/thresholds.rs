//! The documented thresholds of the pipeline (pure). Every verdict names the rule that made
//! it, and the history stores that reason.
//!
//! | step | rule | outcome |
//! |---|---|---|
//! | sanity (monitoring) | no trade on the first 500 reference bars | `rejected`: `no_trades` |
//! | sanity | maximum drawdown above 80 % | `rejected`: `ruinous_drawdown` |
//! | evolution, `experiment` | ≥ 10 trades, Sharpe ≥ 0.5, drawdown ≤ 35 %, return > 0 | `candidate` |
//! | evolution, any evolving status | Sharpe < 0 or drawdown > 60 % | `discarded` |
//! | monitoring, `candidate` | robustness ≥ 0.5 and Sharpe ≥ 0.5 | `proposable` |
//!
//! The score is Sharpe × (1 − drawdown / 100): return per unit of risk, discounted by the
//! worst loss a follower would have sat through.

use clones_backtest::Metrics;

use crate::status::{StatusEvent, StrategyStatus};

/// Bars of the sanity backtest.
pub const SANITY_BARS: usize = 500;

/// A verdict and the rule behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The event to apply.
    pub event: StatusEvent,
    /// The rule, as stored in the history.
    pub reason: &'static str,
}

/// The sanity check of a new strategy: `None` when it passes.
pub fn sanity(metrics: &Metrics) -> Option<Verdict> {
    if metrics.trades == 0 {
        return Some(Verdict {
            event: StatusEvent::Reject,
            reason: "no_trades",
        });
    }
    if metrics.max_drawdown_pct > 80.0 {
        return Some(Verdict {
            event: StatusEvent::Reject,
            reason: "ruinous_drawdown",
        });
    }
    None
}

/// The evolution cycle's verdict on a full backtest.
pub fn evolution(status: StrategyStatus, metrics: &Metrics) -> Option<Verdict> {
    if !status.evolves() {
        return None;
    }
    if metrics.sharpe < 0.0 || metrics.max_drawdown_pct > 60.0 {
        return Some(Verdict {
            event: StatusEvent::Discard,
            reason: "below_discard_threshold",
        });
    }
    let promotable = metrics.trades >= 10
        && metrics.sharpe >= 0.5
        && metrics.max_drawdown_pct <= 35.0
        && metrics.total_return_pct > 0.0;
    (status == StrategyStatus::Experiment && promotable).then_some(Verdict {
        event: StatusEvent::Promote,
        reason: "met_candidate_thresholds",
    })
}

/// The monitoring cycle's robustness verdict on a candidate.
pub fn robustness(status: StrategyStatus, sharpe: f64, robustness: f64) -> Option<Verdict> {
    (status == StrategyStatus::Candidate && robustness >= 0.5 && sharpe >= 0.5).then_some(Verdict {
        event: StatusEvent::Promote,
        reason: "robust",
    })
}

/// The ranking score.
pub fn score(metrics: &Metrics) -> f64 {
    let score = metrics.sharpe * (1.0 - metrics.max_drawdown_pct / 100.0);
    if score.is_finite() { score } else { 0.0 }
}
