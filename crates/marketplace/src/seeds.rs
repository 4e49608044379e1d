//! The seed strategies the project ships (`seeds/*.json`, in the strategy format): classics a
//! marketplace starts from. They are loaded at start-up, deduplicated by fingerprint, and
//! start at `experiment`.

use clones_strategy::{StrategyGraph, parse};

/// One shipped strategy.
#[derive(Debug, Clone)]
pub struct SeedStrategy {
    /// Its name in the marketplace.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Its graph.
    pub graph: StrategyGraph,
}

const SEEDS: [(&str, &str, &str); 5] = [
    (
        "SMA crossover 10/30",
        "Long when the 10-day SMA crosses above the 30-day SMA; flat when it crosses below.",
        include_str!("../seeds/sma_crossover.json"),
    ),
    (
        "EMA crossover 12/26, long and short",
        "Long on a 12/26 EMA golden cross, short on the death cross, with an 8 % stop.",
        include_str!("../seeds/ema_crossover.json"),
    ),
    (
        "RSI mean reversion",
        "Long when RSI(14) climbs back above 30, flat when it falls back below 70; 12 % take-profit.",
        include_str!("../seeds/rsi_reversion.json"),
    ),
    (
        "Bollinger band reversion",
        "Long when the close crosses below the lower band (20, 2), flat at the middle band; 10 % stop.",
        include_str!("../seeds/bollinger_reversion.json"),
    ),
    (
        "MACD trend follower",
        "Long when the MACD line crosses above its signal while the close is above its 50-day SMA; flat on the cross down.",
        include_str!("../seeds/macd_trend.json"),
    ),
];

/// Every shipped strategy that parses (a test holds that all do).
pub fn seed_strategies() -> Vec<SeedStrategy> {
    SEEDS
        .iter()
        .filter_map(|(name, description, text)| {
            parse(text).ok().map(|graph| SeedStrategy {
                name,
                description,
                graph,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use clones_strategy::{Constraints, compile, fingerprint};

    use super::*;

    #[test]
    fn every_seed_parses_compiles_and_is_distinct() {
        let seeds = seed_strategies();
        assert_eq!(seeds.len(), SEEDS.len());
        let prints: std::collections::BTreeSet<_> =
            seeds.iter().map(|seed| fingerprint(&seed.graph)).collect();
        assert_eq!(prints.len(), seeds.len());
        for seed in &seeds {
            assert!(
                compile(&seed.graph, &Constraints::unrestricted()).is_ok(),
                "{}",
                seed.name
            );
        }
    }
}
