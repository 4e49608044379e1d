//! Backtests of compiled strategies on historical bars.
//!
//! The engine ([`run`]) is pure: it replays a [`MarketWindow`](clones_strategy::MarketWindow)
//! through the strategy crate's rule model and fills the resulting orders through prop-engine's
//! fill simulation and paper account, so a backtest and a paper account share one definition of
//! sizing, fills, fees, positions and the ledger. [`walk_forward`] splits a range into
//! in-sample and out-of-sample folds. The crate owns no tables and does no I/O here; bar
//! semantics and metric formulas are on its module page (docs/modules/backtest.md).

mod artifacts;
mod chart;
pub mod consistency;
mod data;
mod engine;
mod metrics;
mod report;
mod settings;
mod walk;

pub use artifacts::{DrawdownPoint, TRADES_CSV_HEADER, drawdown_series, trades_csv};
pub use chart::{CHART_SIZE, chart_svg};
pub use consistency::{Consistency, PaperFill, PaperPoint, compare};
pub use data::{bars_of, parse_bars, single_series};
pub use engine::{
    BacktestError, BacktestInput, PROGRESS_EVERY, Progress, run, run_observed, run_with_ledger,
};
pub use metrics::Metrics;
pub use report::{BacktestReport, Direction, EquityPoint, FillReason, FillRecord, Trade};
pub use settings::{BacktestSettings, EndAt, FillAt, TradedInstrument};
pub use walk::{Fold, FoldMode, FoldReport, WalkForward, WalkForwardReport, walk_forward};
