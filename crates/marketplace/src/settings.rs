//! The marketplace worker's settings from the command line or the environment.

use crate::service::MarketplaceSettings;

/// How often the cycles run and how much each does.
#[derive(Debug, Clone, clap::Args)]
pub struct MarketplaceArgs {
    /// Seconds between monitoring cycles (duplicates, sanity, robustness).
    #[arg(long, env = "MARKETPLACE_MONITOR_EVERY_SECS", default_value_t = 900)]
    pub monitor_every_secs: u64,
    /// Seconds between evolution cycles (full backtests, promotions, mutations).
    #[arg(long, env = "MARKETPLACE_EVOLVE_EVERY_SECS", default_value_t = 480)]
    pub evolve_every_secs: u64,
    /// Pending strategies checked per monitoring cycle.
    #[arg(long, env = "MARKETPLACE_MONITOR_BATCH", default_value_t = 20)]
    pub monitor_batch: u32,
    /// Strategies backtested per evolution cycle.
    #[arg(long, env = "MARKETPLACE_EVOLVE_BATCH", default_value_t = 10)]
    pub evolve_batch: u32,
    /// Mutation children per evolution cycle, at most.
    #[arg(long, env = "MARKETPLACE_CHILDREN_PER_CYCLE", default_value_t = 5)]
    pub children_per_cycle: u32,
    /// The evolution seed: the same seed and cycle numbers breed the same children.
    #[arg(long, env = "MARKETPLACE_EVOLUTION_SEED", default_value_t = 2026)]
    pub evolution_seed: u64,
}

impl MarketplaceArgs {
    /// The service settings.
    pub fn to_settings(&self) -> MarketplaceSettings {
        MarketplaceSettings {
            monitor_batch: i64::from(self.monitor_batch.max(1)),
            evolve_batch: i64::from(self.evolve_batch.max(1)),
            children_per_cycle: usize::try_from(self.children_per_cycle).unwrap_or(usize::MAX),
            evolution_seed: self.evolution_seed,
            ..MarketplaceSettings::default()
        }
    }
}
