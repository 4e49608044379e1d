//! What payments cost and where they go: the price table, the vault, the quote signer.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use clones_clone_service::Tier;
use clones_marketplace::CreatorPlan;
use clones_vault::{Purpose, QuoteSigner, VaultConfig};

/// What is being bought, as priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriceKey {
    /// A new clone.
    CloneCreation,
    /// Raising a clone to a tier.
    CapacityUpgrade(Tier),
    /// One audition.
    AuditionFee,
    /// A creator plan (Pro or Creator; Starter is never sold).
    CreatorPlan(CreatorPlan),
}

impl PriceKey {
    /// The key's text in `PRICE_TABLE`.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceKey::CloneCreation => "clone_creation",
            PriceKey::CapacityUpgrade(Tier::Starter) => "capacity_upgrade:starter",
            PriceKey::CapacityUpgrade(Tier::Pro) => "capacity_upgrade:pro",
            PriceKey::CapacityUpgrade(Tier::Elite) => "capacity_upgrade:elite",
            PriceKey::AuditionFee => "audition_fee",
            PriceKey::CreatorPlan(CreatorPlan::Starter) => "creator_plan:starter",
            PriceKey::CreatorPlan(CreatorPlan::Pro) => "creator_plan:pro",
            PriceKey::CreatorPlan(CreatorPlan::Creator) => "creator_plan:creator",
        }
    }

    /// The on-chain purpose.
    pub fn purpose(self) -> Purpose {
        match self {
            PriceKey::CloneCreation => Purpose::CloneCreation,
            PriceKey::CapacityUpgrade(_) => Purpose::CapacityUpgrade,
            PriceKey::AuditionFee => Purpose::AuditionFee,
            PriceKey::CreatorPlan(_) => Purpose::CreatorPlan,
        }
    }
}

/// Prices in the quote token's base units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTable(BTreeMap<PriceKey, U256>);

impl PriceTable {
    /// Parses `key=amount[,key=amount…]` with keys `clone_creation`, `capacity_upgrade:pro`,
    /// `capacity_upgrade:elite`, `audition_fee`, `creator_plan:pro`, `creator_plan:creator` and
    /// positive integer amounts in base units.
    ///
    /// # Errors
    /// A message naming the bad entry.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut prices = BTreeMap::new();
        for entry in spec
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let (key, amount) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not key=amount"))?;
            let key = match key.trim() {
                "clone_creation" => PriceKey::CloneCreation,
                "capacity_upgrade:pro" => PriceKey::CapacityUpgrade(Tier::Pro),
                "capacity_upgrade:elite" => PriceKey::CapacityUpgrade(Tier::Elite),
                "audition_fee" => PriceKey::AuditionFee,
                "creator_plan:pro" => PriceKey::CreatorPlan(CreatorPlan::Pro),
                "creator_plan:creator" => PriceKey::CreatorPlan(CreatorPlan::Creator),
                other => return Err(format!("unknown price key `{other}`")),
            };
            let amount = amount
                .trim()
                .parse::<U256>()
                .ok()
                .filter(|amount| !amount.is_zero())
                .ok_or_else(|| format!("price of `{}` must be a positive integer", key.as_str()))?;
            prices.insert(key, amount);
        }
        Ok(Self(prices))
    }

    /// The price of `key`, if configured.
    pub fn price(&self, key: PriceKey) -> Option<U256> {
        self.0.get(&key).copied()
    }
}

/// Everything economy needs to take payments.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// The chain, vault and confirmation depth.
    pub vault: VaultConfig,
    /// The key that signs quotes (the vault's `quoteSigner`).
    pub signer: QuoteSigner,
    /// The token quotes are priced in ([`Address::ZERO`] for the native coin).
    pub token: Address,
    /// Prices.
    pub prices: PriceTable,
    /// How long a quote can be paid.
    pub quote_ttl: Duration,
    /// How long after a quote's deadline an unseen deposit is given up.
    pub expiry_grace: Duration,
    /// Delay between re-checks of a pending deposit.
    pub recheck_interval: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_table_parses_and_refuses_nonsense() {
        let table =
            PriceTable::parse("clone_creation=25000000, capacity_upgrade:pro=5, audition_fee=7, creator_plan:creator=9")
                .unwrap();
        assert_eq!(
            table.price(PriceKey::CreatorPlan(CreatorPlan::Creator)),
            Some(U256::from(9u64))
        );
        assert_eq!(table.price(PriceKey::CreatorPlan(CreatorPlan::Pro)), None);
        assert_eq!(
            table.price(PriceKey::CloneCreation),
            Some(U256::from(25_000_000u64))
        );
        assert_eq!(table.price(PriceKey::CapacityUpgrade(Tier::Elite)), None);
        for bad in [
            "clone_creation",
            "clone_creation=0",
            "clone_creation=-1",
            "other=1",
            "audition_fee=1.5",
            "creator_plan:starter=1",
        ] {
            assert!(PriceTable::parse(bad).is_err(), "{bad}");
        }
    }
}
