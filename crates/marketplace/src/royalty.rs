//! Royalty arithmetic (pure): what a profitable closing fill of a clone trading an adopted
//! strategy owes, and to whom. Amounts are in the account's quote currency, rounded down to
//! cents; the root uploader takes the rounding remainder, so the shares always add up to the
//! royalty and the booking balances.
//!
//! - royalty = floor_cents(profit × 5 %);
//! - `original_only` (the default): all of it to the strategy's original uploader;
//! - `lineage_split`: walking from the adopted strategy to its root, each link keeps
//!   `royalty_percent_child` % of what reaches it for the child's uploader and passes
//!   `royalty_percent_parent` % up; the root's uploader takes what reaches the root;
//! - each creator's share is then split between the creator and the platform by the
//!   creator's plan: the platform keeps `floor_cents(share × fee)` (Starter 7 %, Pro 5 %,
//!   Creator 3 %).

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The share of realised profit paid as royalty: 5 %.
pub const ROYALTY_RATE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// How a royalty is shared along a strategy's lineage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoyaltyPolicy {
    /// All to the original uploader of the adopted strategy.
    #[default]
    OriginalOnly,
    /// Shared among the uploaders along the lineage by each link's percentages.
    LineageSplit,
}

impl RoyaltyPolicy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoyaltyPolicy::OriginalOnly => "original_only",
            RoyaltyPolicy::LineageSplit => "lineage_split",
        }
    }

    /// The policy stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [RoyaltyPolicy::OriginalOnly, RoyaltyPolicy::LineageSplit]
            .into_iter()
            .find(|policy| policy.as_str() == text)
    }
}

/// A creator's plan, which sets the platform's fee on the creator's royalties. Ordered from
/// the default up.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CreatorPlan {
    /// The default plan: 7 % fee.
    #[default]
    Starter,
    /// 5 % fee.
    Pro,
    /// 3 % fee.
    Creator,
}

impl CreatorPlan {
    /// Every plan.
    pub const ALL: [CreatorPlan; 3] =
        [CreatorPlan::Starter, CreatorPlan::Pro, CreatorPlan::Creator];

    /// The platform's fee on a royalty, as a fraction.
    pub fn fee(self) -> Decimal {
        match self {
            CreatorPlan::Starter => Decimal::new(7, 2),
            CreatorPlan::Pro => Decimal::new(5, 2),
            CreatorPlan::Creator => Decimal::new(3, 2),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CreatorPlan::Starter => "starter",
            CreatorPlan::Pro => "pro",
            CreatorPlan::Creator => "creator",
        }
    }

    /// The plan stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|plan| plan.as_str() == text)
    }
}

/// One strategy on the path from the adopted strategy to its root, with the link to its
/// parent (none for the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageStep {
    /// The strategy's original uploader.
    pub uploader: Uuid,
    /// Percent of what reaches this step passed to the parent; `None` at the root.
    pub parent_percent: Option<Decimal>,
}

/// One creator's part of a royalty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatorShare {
    /// The creator.
    pub creator: Uuid,
    /// The creator's part before the platform fee.
    pub gross: Decimal,
    /// The platform's fee on it.
    pub platform_fee: Decimal,
    /// What the creator receives.
    pub net: Decimal,
}

/// A royalty and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoyaltySplit {
    /// What the clone's account pays.
    pub royalty: Decimal,
    /// Each creator's part, by creator id.
    pub shares: Vec<CreatorShare>,
    /// The platform's fees, summed.
    pub platform_total: Decimal,
}

fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::ToZero)
}

/// The royalty on `profit` realised by a clone trading the first strategy of `path` (the
/// adopted one, then its parent, up to the root); `None` when there is nothing to pay (no
/// profit, or a royalty under one cent).
pub fn split(
    profit: Decimal,
    path: &[LineageStep],
    policy: RoyaltyPolicy,
    plan_of: impl Fn(Uuid) -> CreatorPlan,
) -> Option<RoyaltySplit> {
    let first = path.first()?;
    let royalty = cents(profit * ROYALTY_RATE);
    if royalty <= Decimal::ZERO {
        return None;
    }
    let mut gross: BTreeMap<Uuid, Decimal> = BTreeMap::new();
    match policy {
        RoyaltyPolicy::OriginalOnly => {
            gross.insert(first.uploader, royalty);
        }
        RoyaltyPolicy::LineageSplit => {
            let mut reaching = royalty;
            for (index, step) in path.iter().enumerate() {
                let last = index + 1 == path.len();
                let kept = match step.parent_percent {
                    Some(up) if !last => {
                        let passed = cents(reaching * up / Decimal::ONE_HUNDRED);
                        let kept = reaching - passed;
                        reaching = passed;
                        kept
                    }
                    _ => std::mem::take(&mut reaching),
                };
                *gross.entry(step.uploader).or_default() += kept;
                if reaching.is_zero() {
                    break;
                }
            }
        }
    }
    let shares: Vec<CreatorShare> = gross
        .into_iter()
        .filter(|(_, amount)| *amount > Decimal::ZERO)
        .map(|(creator, gross)| {
            let platform_fee = cents(gross * plan_of(creator).fee());
            CreatorShare {
                creator,
                gross,
                platform_fee,
                net: gross - platform_fee,
            }
        })
        .collect();
    let platform_total = shares.iter().map(|share| share.platform_fee).sum();
    Some(RoyaltySplit {
        royalty,
        shares,
        platform_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// A three-generation chain: C (uploaded by 3) forked from B (by 2) forked from A (by 1),
    /// each link passing 20 % up.
    fn chain() -> Vec<LineageStep> {
        vec![
            LineageStep {
                uploader: id(3),
                parent_percent: Some(d("20")),
            },
            LineageStep {
                uploader: id(2),
                parent_percent: Some(d("20")),
            },
            LineageStep {
                uploader: id(1),
                parent_percent: None,
            },
        ]
    }

    #[test]
    fn the_original_uploader_takes_five_percent_less_the_plan_fee() {
        let split = split(d("1234.56"), &chain(), RoyaltyPolicy::OriginalOnly, |_| {
            CreatorPlan::Starter
        })
        .unwrap();
        assert_eq!(split.royalty, d("61.72"));
        assert_eq!(split.shares.len(), 1);
        assert_eq!(split.shares[0].creator, id(3));
        assert_eq!(split.shares[0].platform_fee, d("4.32"));
        assert_eq!(split.shares[0].net, d("57.40"));
        assert_eq!(split.platform_total + split.shares[0].net, split.royalty);
    }

    #[test]
    fn lineage_split_shares_by_the_links_and_balances() {
        let split = split(
            d("1000"),
            &chain(),
            RoyaltyPolicy::LineageSplit,
            |creator| {
                if creator == id(1) {
                    CreatorPlan::Creator
                } else {
                    CreatorPlan::Pro
                }
            },
        )
        .unwrap();
        assert_eq!(split.royalty, d("50.00"));
        let gross: BTreeMap<Uuid, Decimal> = split
            .shares
            .iter()
            .map(|share| (share.creator, share.gross))
            .collect();
        assert_eq!(gross[&id(3)], d("40.00"));
        assert_eq!(gross[&id(2)], d("8.00"));
        assert_eq!(gross[&id(1)], d("2.00"));
        let nets: Decimal = split.shares.iter().map(|share| share.net).sum();
        assert_eq!(nets + split.platform_total, split.royalty);
        assert_eq!(split.platform_total, d("2.00") + d("0.40") + d("0.06"));
    }

    #[test]
    fn nothing_is_owed_on_a_loss_or_under_a_cent() {
        for profit in ["-10", "0", "0.19"] {
            assert!(
                split(d(profit), &chain(), RoyaltyPolicy::LineageSplit, |_| {
                    CreatorPlan::Pro
                })
                .is_none()
            );
        }
    }

    #[test]
    fn rounding_never_creates_or_loses_a_cent() {
        for cents_profit in 1_i64..2_000 {
            let profit = Decimal::new(cents_profit * 37, 2);
            if let Some(split) = split(profit, &chain(), RoyaltyPolicy::LineageSplit, |_| {
                CreatorPlan::Starter
            }) {
                let gross: Decimal = split.shares.iter().map(|share| share.gross).sum();
                assert_eq!(gross, split.royalty, "{profit}");
                let nets: Decimal = split.shares.iter().map(|share| share.net).sum();
                assert_eq!(nets + split.platform_total, split.royalty);
            }
        }
    }
}
