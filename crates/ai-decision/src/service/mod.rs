//! The decision service over PostgreSQL: one decision per assignment and slot, recorded whole
//! and then handed to prop-engine action by action; owner reads and dry runs.
//!
//! It reads clones through `CloneService`, market memory through `MarketData` and account state
//! through `PropService`, and writes only its own tables (through `repo`). It never writes prop
//! tables: orders go through `PropService::place_order` with the action id as idempotency key.
//!
//! This module owns the settings, the service value and the helpers its parts share; the parts
//! are [`cycle`] (a slot's decision and the worker cycle), [`batch`] (a page of the roster
//! decided with set-based reads and batched writes), [`deliberation`] (asking the model and
//! sizing), [`inputs`] (account state and market memory read for a deliberation), [`recording`]
//! (rows of a run), [`execution`] (hand-over to prop-engine) and [`reads`] (owner reads, dry runs).

mod batch;
mod cycle;
mod deliberation;
mod execution;
mod inputs;
mod reads;
mod recording;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use clones_clone_service::CloneService;
use clones_db::Db;
use clones_ingest::{IngestError, MarketData};
use clones_kernel::Clock;
use clones_market::{InstrumentKey, InstrumentKind, ParseError};
use clones_prop_engine::PropService;
use rust_decimal::Decimal;

use crate::DecisionError;
use crate::model::DecisionModel;

/// How the decision service decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionSettings {
    /// The worker interval in seconds: a decision's slot is `now` truncated to it.
    pub interval_secs: u32,
    /// Venue of the instruments ordered (`replay` and [`InstrumentKind::Perp`] make `BTC` into
    /// `replay:perp:BTC`).
    pub venue: String,
    /// Kind of the instruments ordered.
    pub kind: InstrumentKind,
    /// Assignments decided at once by [`PgDecisionService::run_cycle`].
    pub concurrency: usize,
    /// Largest `percent_equity` a language model may ask for.
    pub max_percent_equity: Decimal,
    /// Largest notional a language model may ask for, as a multiple of equity.
    pub max_notional_to_equity: Decimal,
    /// Most actions in one model answer.
    pub max_model_actions: usize,
    /// Candles per series fetched, as a multiple of the plan's warm-up (at least the warm-up).
    pub history_multiple: u32,
    /// Candles per series copied into the context packet (the most recent ones).
    pub packet_bars: usize,
    /// Equity assumed by a dry run of a clone without an active prop account.
    pub dry_run_equity: Decimal,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        Self {
            interval_secs: 60,
            venue: "replay".into(),
            kind: InstrumentKind::Perp,
            concurrency: 8,
            max_percent_equity: Decimal::ONE_HUNDRED,
            max_notional_to_equity: Decimal::ONE,
            max_model_actions: 8,
            history_multiple: 2,
            packet_bars: 30,
            dry_run_equity: Decimal::from(100_000),
        }
    }
}

/// The PostgreSQL decision service.
#[derive(Clone)]
pub struct PgDecisionService {
    db: Db,
    clock: Arc<dyn Clock>,
    clones: Arc<dyn CloneService>,
    market: Arc<dyn MarketData>,
    prop: Arc<dyn PropService>,
    llm: Option<Arc<dyn DecisionModel>>,
    settings: Arc<DecisionSettings>,
}

impl std::fmt::Debug for PgDecisionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDecisionService")
            .field("settings", &self.settings)
            .field("llm", &self.llm.is_some())
            .finish_non_exhaustive()
    }
}

/// A strategy asset that names no instrument reads like any malformed key market memory is
/// asked for.
fn unreadable(error: ParseError) -> DecisionError {
    DecisionError::Market(IngestError::InvalidInput(error.to_string()))
}

/// `at` truncated to a multiple of `secs` seconds since the epoch.
fn floor_to(at: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let secs = secs.max(1);
    let ts = at.timestamp();
    DateTime::from_timestamp(ts - ts.rem_euclid(secs), 0).unwrap_or(at)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl PgDecisionService {
    /// A service deciding with the rule model, and with `llm` when a strategy or clone needs a
    /// language model (`None`: such runs are skipped with `llm_not_configured`).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        market: Arc<dyn MarketData>,
        prop: Arc<dyn PropService>,
        llm: Option<Arc<dyn DecisionModel>>,
        settings: DecisionSettings,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            market,
            prop,
            llm,
            settings: Arc::new(settings),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &DecisionSettings {
        &self.settings
    }

    /// The slot a decision made at `at` belongs to.
    pub fn slot_of(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        floor_to(at, i64::from(self.settings.interval_secs))
    }

    fn instrument_of(&self, asset: &str) -> Result<InstrumentKey, ParseError> {
        InstrumentKey::new(&self.settings.venue, self.settings.kind, asset)
    }
}
