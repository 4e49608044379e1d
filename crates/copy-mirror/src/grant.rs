//! Authorising a mirror intent against the tenant's grant: a cap per order, a USDC cap per
//! UTC day and a cap of fills per hour, each the smaller of the grant's and a hard-coded
//! safety cap. Pure: the caller counts the usage.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::plan::{MirrorIntent, SAFETY_MAX_USDC_PER_TRADE, SkipReason};

/// The most USDC a tenant's mirror may trade in one UTC day, whatever its grant says.
pub const SAFETY_DAILY_USDC: Decimal = Decimal::from_parts(2_500, 0, 0, false, 0);

/// The most mirror fills in one hour, whatever the grant says.
pub const SAFETY_HOURLY_FILLS: u32 = 60;

/// What a tenant allowed its mirror to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The most USDC one order may use.
    pub per_order_usdc_cap: Decimal,
    /// The most USDC all orders of one UTC day may use.
    pub daily_usdc_cap: Decimal,
    /// The most orders in any hour.
    pub hourly_fills_cap: u32,
}

/// What the mirror already did under the grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantUsage {
    /// USDC of today's placed orders.
    pub usdc_today: Decimal,
    /// Orders placed in the last hour.
    pub fills_last_hour: u32,
}

/// Whether `intent` may be placed under `grant` given `usage`.
///
/// # Errors
/// [`SkipReason::NoGrant`], [`SkipReason::PerOrderCap`], [`SkipReason::DailyCap`] or
/// [`SkipReason::HourlyCap`].
pub fn authorize(
    intent: &MirrorIntent,
    grant: Option<&Grant>,
    usage: GrantUsage,
) -> Result<(), SkipReason> {
    let grant = grant.ok_or(SkipReason::NoGrant)?;
    let usdc = intent.usdc();
    if usdc > grant.per_order_usdc_cap.min(SAFETY_MAX_USDC_PER_TRADE) {
        return Err(SkipReason::PerOrderCap);
    }
    if usage.usdc_today + usdc > grant.daily_usdc_cap.min(SAFETY_DAILY_USDC) {
        return Err(SkipReason::DailyCap);
    }
    if usage.fills_last_hour >= grant.hourly_fills_cap.min(SAFETY_HOURLY_FILLS) {
        return Err(SkipReason::HourlyCap);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fill::TradeSide;

    fn intent(usdc: i64) -> MirrorIntent {
        MirrorIntent {
            asset: "7".into(),
            side: TradeSide::Buy,
            size: Decimal::from(usdc * 2),
            limit_price: Decimal::new(5, 1),
        }
    }

    fn grant() -> Grant {
        Grant {
            per_order_usdc_cap: Decimal::from(50),
            daily_usdc_cap: Decimal::from(100),
            hourly_fills_cap: 3,
        }
    }

    #[test]
    fn each_cap_refuses_with_its_reason() {
        let fresh = GrantUsage::default();
        assert_eq!(
            authorize(&intent(10), None, fresh),
            Err(SkipReason::NoGrant)
        );
        assert_eq!(authorize(&intent(10), Some(&grant()), fresh), Ok(()));
        assert_eq!(
            authorize(&intent(60), Some(&grant()), fresh),
            Err(SkipReason::PerOrderCap)
        );
        let spent = GrantUsage {
            usdc_today: Decimal::from(95),
            fills_last_hour: 0,
        };
        assert_eq!(
            authorize(&intent(10), Some(&grant()), spent),
            Err(SkipReason::DailyCap)
        );
        let busy = GrantUsage {
            usdc_today: Decimal::ZERO,
            fills_last_hour: 3,
        };
        assert_eq!(
            authorize(&intent(10), Some(&grant()), busy),
            Err(SkipReason::HourlyCap)
        );
    }

    #[test]
    fn a_generous_grant_is_held_to_the_safety_caps() {
        let generous = Grant {
            per_order_usdc_cap: Decimal::from(1_000_000),
            daily_usdc_cap: Decimal::from(1_000_000),
            hourly_fills_cap: 10_000,
        };
        let fresh = GrantUsage::default();
        assert_eq!(
            authorize(&intent(251), Some(&generous), fresh),
            Err(SkipReason::PerOrderCap)
        );
        let spent = GrantUsage {
            usdc_today: SAFETY_DAILY_USDC,
            fills_last_hour: 0,
        };
        assert_eq!(
            authorize(&intent(1), Some(&generous), spent),
            Err(SkipReason::DailyCap)
        );
        let busy = GrantUsage {
            usdc_today: Decimal::ZERO,
            fills_last_hour: SAFETY_HOURLY_FILLS,
        };
        assert_eq!(
            authorize(&intent(1), Some(&generous), busy),
            Err(SkipReason::HourlyCap)
        );
    }
}
