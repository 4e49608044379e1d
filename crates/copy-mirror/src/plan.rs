//! The pure mirror decision: given one observed fill, the target's policy, the tenant's
//! position and the market's rules, mirror it (with what size and limit price) or skip it
//! (with a stable reason). Caps are the smaller of the configured value and a hard-coded
//! safety cap, so a misconfigured policy can never exceed the safety cap.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::fill::{ObservedFill, TradeSide};

/// The most USDC one mirror order may spend or raise, whatever the policy says.
pub const SAFETY_MAX_USDC_PER_TRADE: Decimal = Decimal::from_parts(250, 0, 0, false, 0);

/// The largest position in one outcome token a mirror may build, in USDC at the fill's price.
pub const SAFETY_MAX_POSITION_USDC: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);

/// How much of a target's fill to mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Sizing {
    /// A fraction of the target's shares (`0.1` mirrors a tenth).
    Proportional {
        /// The fraction, in (0, 1].
        ratio: Decimal,
    },
    /// The same USDC amount for every fill.
    Fixed {
        /// USDC per mirrored fill.
        usdc: Decimal,
    },
}

/// What a tenant set for one target wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetPolicy {
    /// Mirror only fills whose notional is at least this percentile (0-99) of the target's
    /// recent fills: small trades are noise.
    pub filter_percentile: Option<u8>,
    /// The most USDC one mirror order may use.
    pub max_usdc_per_trade: Decimal,
    /// The largest position in one outcome token, in USDC; `None`: the safety cap.
    pub max_position_usdc: Option<Decimal>,
    /// How the size follows the target's.
    pub sizing: Sizing,
}

/// The venue's rules for the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketRules {
    /// The price tick (`0.01`, `0.001`, …).
    pub tick: Decimal,
    /// The smallest order, in shares.
    pub min_size: Decimal,
}

impl Default for MarketRules {
    fn default() -> Self {
        Self {
            tick: Decimal::new(1, 2),
            min_size: Decimal::from(5),
        }
    }
}

/// Everything one decision reads.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The target's fill.
    pub fill: &'a ObservedFill,
    /// The target's policy.
    pub policy: &'a TargetPolicy,
    /// Whether the target is still active (a target removed mid-poll stops).
    pub target_active: bool,
    /// Whether the tenant's kill switch is on.
    pub kill_switch: bool,
    /// Whether this fill's idempotency key is already in the ledger.
    pub already_recorded: bool,
    /// The tenant's shares of the token now.
    pub position_shares: Decimal,
    /// The target's recent fill notionals (for the percentile filter).
    pub recent_notionals: &'a [Decimal],
    /// The token's tick and minimum size.
    pub market: MarketRules,
}

/// A mirror order to authorise and place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorIntent {
    /// The outcome token.
    pub asset: String,
    /// Buy or sell.
    pub side: TradeSide,
    /// Shares, at most 2 decimals.
    pub size: Decimal,
    /// The limit: the target's price on the tick, never worse for the tenant.
    pub limit_price: Decimal,
}

impl MirrorIntent {
    /// Shares × limit price, in USDC.
    pub fn usdc(&self) -> Decimal {
        self.size * self.limit_price
    }
}

/// Why a fill was not mirrored. The codes are stable: they are stored and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The fill was already recorded (another poll, or the WebSocket, saw it first).
    AlreadyPlaced,
    /// The target was removed or disabled.
    TargetInactive,
    /// The tenant's kill switch is on.
    KillSwitch,
    /// Smaller than the policy's percentile of the target's fills.
    BelowPercentile,
    /// A sell with nothing to sell.
    NoPosition,
    /// The position cap leaves no room.
    PositionCapReached,
    /// Smaller than the market's minimum order after sizing and caps.
    BelowMinSize,
    /// The fill cannot be mirrored (malformed, or a price off the market's range).
    Unmirrorable,
    /// The tenant has no active grant for the mirror.
    NoGrant,
    /// Over the grant's per-order cap.
    PerOrderCap,
    /// Over the grant's daily USDC cap.
    DailyCap,
    /// Over the grant's fills-per-hour cap.
    HourlyCap,
}

impl SkipReason {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::AlreadyPlaced => "already_placed",
            SkipReason::TargetInactive => "target_inactive",
            SkipReason::KillSwitch => "kill_switch",
            SkipReason::BelowPercentile => "below_percentile",
            SkipReason::NoPosition => "no_position",
            SkipReason::PositionCapReached => "position_cap_reached",
            SkipReason::BelowMinSize => "below_min_size",
            SkipReason::Unmirrorable => "unmirrorable",
            SkipReason::NoGrant => "no_grant",
            SkipReason::PerOrderCap => "per_order_cap",
            SkipReason::DailyCap => "daily_cap",
            SkipReason::HourlyCap => "hourly_cap",
        }
    }
}

/// The nearest-rank percentile `p` of `values`; `None` when there are none.
fn percentile(values: &[Decimal], p: u8) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = (usize::from(p.min(99)) * sorted.len()).div_ceil(100);
    sorted.get(rank.saturating_sub(1)).copied()
}

/// `price` on the tick: down for a buy, up for a sell, inside [tick, 1 − tick].
fn on_tick(price: Decimal, tick: Decimal, side: TradeSide) -> Option<Decimal> {
    if tick <= Decimal::ZERO || tick >= Decimal::ONE {
        return None;
    }
    let steps = price / tick;
    let steps = match side {
        TradeSide::Buy => steps.floor(),
        TradeSide::Sell => steps.ceil(),
    };
    let price = steps * tick;
    (price >= tick && price <= Decimal::ONE - tick).then_some(price.normalize())
}

/// Decides one fill.
///
/// # Errors
/// The [`SkipReason`] when the fill is not mirrored.
pub fn plan(input: &PlanInput<'_>) -> Result<MirrorIntent, SkipReason> {
    let fill = input.fill;
    if input.already_recorded {
        return Err(SkipReason::AlreadyPlaced);
    }
    if !input.target_active {
        return Err(SkipReason::TargetInactive);
    }
    if input.kill_switch {
        return Err(SkipReason::KillSwitch);
    }
    if let Some(p) = input.policy.filter_percentile
        && let Some(threshold) = percentile(input.recent_notionals, p)
        && fill.notional() < threshold
    {
        return Err(SkipReason::BelowPercentile);
    }
    let limit_price =
        on_tick(fill.price, input.market.tick, fill.side).ok_or(SkipReason::Unmirrorable)?;
    let wanted = match input.policy.sizing {
        Sizing::Proportional { ratio } => fill.size * ratio.clamp(Decimal::ZERO, Decimal::ONE),
        Sizing::Fixed { usdc } => usdc.max(Decimal::ZERO) / limit_price,
    };
    let per_trade = input
        .policy
        .max_usdc_per_trade
        .min(SAFETY_MAX_USDC_PER_TRADE)
        .max(Decimal::ZERO);
    let mut size = wanted.min(per_trade / limit_price);
    match fill.side {
        TradeSide::Buy => {
            let cap = input
                .policy
                .max_position_usdc
                .map_or(SAFETY_MAX_POSITION_USDC, |cap| {
                    cap.min(SAFETY_MAX_POSITION_USDC)
                });
            let room = cap - input.position_shares.max(Decimal::ZERO) * limit_price;
            if room <= Decimal::ZERO {
                return Err(SkipReason::PositionCapReached);
            }
            size = size.min(room / limit_price);
        }
        TradeSide::Sell => {
            if input.position_shares <= Decimal::ZERO {
                return Err(SkipReason::NoPosition);
            }
            size = size.min(input.position_shares);
        }
    }
    let size = size
        .round_dp_with_strategy(2, RoundingStrategy::ToZero)
        .normalize();
    if size <= Decimal::ZERO || size < input.market.min_size {
        return Err(SkipReason::BelowMinSize);
    }
    Ok(MirrorIntent {
        asset: fill.asset.clone(),
        side: fill.side,
        size,
        limit_price,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    fn fill(side: TradeSide, size: &str, price: &str) -> ObservedFill {
        ObservedFill {
            fill_id: "data-api:0x1:7:BUY:1".into(),
            wallet: "0x0000000000000000000000000000000000000001".into(),
            asset: "7".into(),
            condition_id: format!("0x{}", "a".repeat(64)),
            side,
            size: d(size),
            price: d(price),
            timestamp: 1,
        }
    }

    fn policy(sizing: Sizing) -> TargetPolicy {
        TargetPolicy {
            filter_percentile: None,
            max_usdc_per_trade: d("100"),
            max_position_usdc: None,
            sizing,
        }
    }

    fn input<'a>(fill: &'a ObservedFill, policy: &'a TargetPolicy) -> PlanInput<'a> {
        PlanInput {
            fill,
            policy,
            target_active: true,
            kill_switch: false,
            already_recorded: false,
            position_shares: Decimal::ZERO,
            recent_notionals: &[],
            market: MarketRules::default(),
        }
    }

    #[test]
    fn a_buy_is_mirrored_proportionally_on_the_tick() {
        let fill = fill(TradeSide::Buy, "100", "0.527");
        let policy = policy(Sizing::Proportional { ratio: d("0.1") });
        let intent = plan(&input(&fill, &policy)).unwrap();
        assert_eq!(intent.size, d("10"));
        assert_eq!(
            intent.limit_price,
            d("0.52"),
            "a buy never pays more than the target"
        );
    }

    #[test]
    fn the_smaller_of_the_policy_and_the_safety_cap_applies() {
        let fill = fill(TradeSide::Buy, "100000", "0.5");
        let generous = TargetPolicy {
            max_usdc_per_trade: d("1000000"),
            ..policy(Sizing::Proportional { ratio: d("1") })
        };
        let intent = plan(&input(&fill, &generous)).unwrap();
        assert_eq!(intent.usdc(), SAFETY_MAX_USDC_PER_TRADE);
        let tight = policy(Sizing::Fixed { usdc: d("500") });
        assert_eq!(plan(&input(&fill, &tight)).unwrap().usdc(), d("100"));
    }

    #[test]
    fn each_skip_has_its_reason() {
        let buy = fill(TradeSide::Buy, "100", "0.5");
        let sell = fill(TradeSide::Sell, "100", "0.5");
        let proportional = policy(Sizing::Proportional { ratio: d("0.5") });
        let base = input(&buy, &proportional);
        let recorded = PlanInput {
            already_recorded: true,
            ..base
        };
        assert_eq!(plan(&recorded), Err(SkipReason::AlreadyPlaced));
        let removed = PlanInput {
            target_active: false,
            ..base
        };
        assert_eq!(plan(&removed), Err(SkipReason::TargetInactive));
        let killed = PlanInput {
            kill_switch: true,
            ..base
        };
        assert_eq!(plan(&killed), Err(SkipReason::KillSwitch));
        assert_eq!(
            plan(&input(&sell, &proportional)),
            Err(SkipReason::NoPosition)
        );
        let full = PlanInput {
            position_shares: d("2000"),
            ..base
        };
        assert_eq!(plan(&full), Err(SkipReason::PositionCapReached));
        let tiny = fill(TradeSide::Buy, "6", "0.5");
        assert_eq!(
            plan(&input(&tiny, &proportional)),
            Err(SkipReason::BelowMinSize)
        );
        let filtered = TargetPolicy {
            filter_percentile: Some(50),
            ..proportional.clone()
        };
        let history = [d("10"), d("100"), d("1000")];
        let noisy = PlanInput {
            recent_notionals: &history,
            ..input(&buy, &filtered)
        };
        assert_eq!(plan(&noisy), Err(SkipReason::BelowPercentile));
        let edge = fill(TradeSide::Buy, "100", "0.005");
        assert_eq!(
            plan(&input(&edge, &proportional)),
            Err(SkipReason::Unmirrorable)
        );
    }

    #[test]
    fn a_sell_never_exceeds_the_position() {
        let sell = fill(TradeSide::Sell, "100", "0.4");
        let all = policy(Sizing::Proportional { ratio: d("1") });
        let held = PlanInput {
            position_shares: d("12.345"),
            ..input(&sell, &all)
        };
        let intent = plan(&held).unwrap();
        assert_eq!(intent.size, d("12.34"));
        assert_eq!(intent.limit_price, d("0.4"));
    }

    proptest! {
        #[test]
        fn no_intent_exceeds_a_cap_or_the_position(
            size in 1u32..1_000_000,
            cents in 1u32..99,
            ratio in 1u32..=100,
            held in 0u32..100_000,
            sell in any::<bool>(),
        ) {
            let side = if sell { TradeSide::Sell } else { TradeSide::Buy };
            let fill = fill(side, &size.to_string(), &format!("0.{cents:02}"));
            let policy = policy(Sizing::Proportional { ratio: Decimal::new(i64::from(ratio), 2) });
            let position = Decimal::from(held);
            let decided = plan(&PlanInput { position_shares: position, ..input(&fill, &policy) });
            if let Ok(intent) = decided {
                prop_assert!(intent.usdc() <= d("100"));
                prop_assert!(intent.size >= MarketRules::default().min_size);
                prop_assert_eq!(intent.size.scale() <= 2, true);
                if sell {
                    prop_assert!(intent.size <= position);
                } else {
                    prop_assert!(position * intent.limit_price + intent.usdc() <= SAFETY_MAX_POSITION_USDC);
                }
            }
        }
    }
}
