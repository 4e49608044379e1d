//! Turning a proposal into an order: pure arithmetic on equity, price and the current
//! position, shared by live decisions and backtests so both size a proposal alike.
//!
//! Sizes are in units of the asset, truncated towards zero to 10 decimal places (the prop
//! engine's scale). Overflow yields no order instead of a panic.

use clones_market::Side;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::{ActionKind, SizeSpec};

/// The order a proposal becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizedOrder {
    /// Buy or sell.
    pub side: Side,
    /// Units of the asset, positive.
    pub size: Decimal,
    /// Whether the order may only reduce the position (`close`).
    pub reduce_only: bool,
}

/// Signed units of `spec` at `mid` for an account worth `equity`, when trading costs
/// `fee_rate` of the traded value: `percent_equity` of equity less the fee on it, divided by
/// the mid (so 100% of equity plus its fee never costs more than the equity), or `notional`
/// divided by the mid. `None` for a share of an equity that is not positive: an account with
/// nothing left sizes nothing by percentage.
pub fn units(spec: &SizeSpec, equity: Decimal, mid: Decimal, fee_rate: Decimal) -> Option<Decimal> {
    if mid <= Decimal::ZERO || fee_rate < Decimal::ZERO {
        return None;
    }
    let notional = match spec {
        SizeSpec::PercentEquity(_) if equity <= Decimal::ZERO => return None,
        SizeSpec::PercentEquity(percent) => equity
            .checked_mul(*percent)?
            .checked_div(Decimal::ONE_HUNDRED)?
            .checked_div(Decimal::ONE.checked_add(fee_rate)?)?,
        SizeSpec::Notional(amount) => *amount,
    };
    notional
        .checked_div(mid)
        .map(|units| units.round_dp_with_strategy(10, RoundingStrategy::ToZero))
}

fn signed(delta: Decimal, reduce_only: bool) -> Option<SizedOrder> {
    if delta > Decimal::ZERO {
        Some(SizedOrder {
            side: Side::Buy,
            size: delta,
            reduce_only,
        })
    } else if delta < Decimal::ZERO {
        Some(SizedOrder {
            side: Side::Sell,
            size: -delta,
            reduce_only,
        })
    } else {
        None
    }
}

/// The order for `kind` with `size`, given the account's `equity`, the asset's `mid`, the
/// current signed `position` and the fee rate (see [`units`]). `None` when there is nothing
/// to do: a `close` while flat, a target equal to the position, a size that rounds to zero,
/// or an open without a size.
pub fn size_order(
    kind: ActionKind,
    size: Option<&SizeSpec>,
    equity: Decimal,
    mid: Decimal,
    position: Decimal,
    fee_rate: Decimal,
) -> Option<SizedOrder> {
    match kind {
        ActionKind::OpenLong => signed(units(size?, equity, mid, fee_rate)?.abs(), false),
        ActionKind::OpenShort => signed(-units(size?, equity, mid, fee_rate)?.abs(), false),
        ActionKind::Close => signed(-position, true),
        ActionKind::TargetPosition => {
            let target = units(size?, equity, mid, fee_rate)?;
            signed(target.checked_sub(position)?, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn percent_of_equity_and_notional_become_units_at_the_mid() {
        let order = size_order(
            ActionKind::OpenLong,
            Some(&SizeSpec::PercentEquity(d("10"))),
            d("100000"),
            d("50000"),
            d("0"),
            Decimal::ZERO,
        );
        assert_eq!(
            order,
            Some(SizedOrder {
                side: Side::Buy,
                size: d("0.2"),
                reduce_only: false
            })
        );
        let order = size_order(
            ActionKind::OpenShort,
            Some(&SizeSpec::Notional(d("1000"))),
            d("1"),
            d("3"),
            d("0"),
            Decimal::ZERO,
        );
        assert_eq!(
            order.map(|o| (o.side, o.size)),
            Some((Side::Sell, d("333.3333333333")))
        );
    }

    #[test]
    fn an_account_without_positive_equity_sizes_nothing_by_percentage() {
        let long_target = SizeSpec::PercentEquity(d("10"));
        for equity in ["0", "-2500"] {
            assert_eq!(
                units(&long_target, d(equity), d("100"), Decimal::ZERO),
                None
            );
            assert_eq!(
                size_order(
                    ActionKind::TargetPosition,
                    Some(&long_target),
                    d(equity),
                    d("100"),
                    d("3"),
                    Decimal::ZERO,
                ),
                None,
                "a long target must not close or flip the position"
            );
            assert_eq!(
                size_order(
                    ActionKind::OpenLong,
                    Some(&long_target),
                    d(equity),
                    d("100"),
                    d("0"),
                    Decimal::ZERO
                ),
                None
            );
        }
        // Fixed notionals do not depend on equity.
        assert_eq!(
            units(
                &SizeSpec::Notional(d("500")),
                d("-2500"),
                d("100"),
                Decimal::ZERO
            ),
            Some(d("5"))
        );
    }

    #[test]
    fn all_of_equity_leaves_room_for_the_fee() {
        let all = SizeSpec::PercentEquity(d("100"));
        let size = units(&all, d("1000"), d("10"), d("0.001")).unwrap_or_default();
        let cost = size * d("10") * d("1.001");
        assert!(cost <= d("1000") && cost > d("999.99"), "{cost}");
    }

    #[test]
    fn close_reduces_to_flat_and_does_nothing_when_flat() {
        assert_eq!(
            size_order(
                ActionKind::Close,
                None,
                d("1"),
                d("1"),
                d("-0.5"),
                Decimal::ZERO
            ),
            Some(SizedOrder {
                side: Side::Buy,
                size: d("0.5"),
                reduce_only: true
            })
        );
        assert_eq!(
            size_order(
                ActionKind::Close,
                None,
                d("1"),
                d("1"),
                d("0"),
                Decimal::ZERO
            ),
            None
        );
    }

    #[test]
    fn target_position_orders_the_difference() {
        let spec = SizeSpec::Notional(d("-100"));
        let order = size_order(
            ActionKind::TargetPosition,
            Some(&spec),
            d("1000"),
            d("10"),
            d("5"),
            Decimal::ZERO,
        );
        assert_eq!(order.map(|o| (o.side, o.size)), Some((Side::Sell, d("15"))));
        let spec = SizeSpec::Notional(d("50"));
        assert_eq!(
            size_order(
                ActionKind::TargetPosition,
                Some(&spec),
                d("1000"),
                d("10"),
                d("5"),
                Decimal::ZERO
            ),
            None
        );
    }
}
