//! Safety gates: pure checks an order must pass before it may execute.
//!
//! Each check reads an [`AccountSnapshot`] (taken inside the order's transaction) and the
//! account's [`RiskLimits`], and refuses with a [`GateRejection`] carrying a stable
//! [`RejectReason::code`]. Orders that only reduce an existing position pass the
//! risk-increasing checks (position, exposure, leverage, daily loss), so an account that hit
//! its daily loss limit can still get flat. No clock and no IO here.

use chrono::Duration;
use clones_market::{InstrumentKey, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::feed::InstrumentInfo;
use crate::position::Position;

/// An account's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Trading.
    Active,
    /// Stopped by an admin: no order executes until resumed.
    Halted,
    /// Finished: no order ever executes again.
    Closed,
}

impl AccountStatus {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Halted => "halted",
            AccountStatus::Closed => "closed",
        }
    }

    /// Parses the database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(AccountStatus::Active),
            "halted" => Some(AccountStatus::Halted),
            "closed" => Some(AccountStatus::Closed),
            _ => None,
        }
    }
}

/// Per-account risk limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskLimits {
    /// Largest notional one order may have.
    #[schema(value_type = String)]
    pub max_order_notional: Decimal,
    /// Largest gross exposure / equity.
    #[schema(value_type = String)]
    pub max_leverage: Decimal,
    /// Largest absolute notional of one instrument's position.
    #[schema(value_type = String)]
    pub max_position_notional: Decimal,
    /// Largest sum of absolute position notionals.
    #[schema(value_type = String)]
    pub max_gross_exposure: Decimal,
    /// Loss from the day's starting equity at which new risk stops (reduce-only from then).
    #[schema(value_type = String)]
    pub daily_loss_limit: Decimal,
    /// Most orders (accepted or not) per rolling minute.
    pub max_orders_per_minute: u32,
    /// Instrument keys the account may trade; an entry ending in `*` is a prefix
    /// (`hyperliquid:perp:*`). `None` allows every instrument.
    pub allowed_instruments: Option<Vec<String>>,
}

impl RiskLimits {
    /// Limits scaled to a starting balance: its full amount per order, twice it per position,
    /// three times it gross, 3x leverage, 5 % daily loss, 30 orders a minute, every instrument.
    pub fn for_balance(starting_balance: Decimal) -> Self {
        Self {
            max_order_notional: starting_balance,
            max_leverage: Decimal::from(3),
            max_position_notional: starting_balance * Decimal::from(2),
            max_gross_exposure: starting_balance * Decimal::from(3),
            daily_loss_limit: starting_balance * Decimal::new(5, 2),
            max_orders_per_minute: 30,
            allowed_instruments: None,
        }
    }

    /// Whether `instrument` is in the allowed list.
    pub fn allows(&self, instrument: &str) -> bool {
        match &self.allowed_instruments {
            None => true,
            Some(list) => list.iter().any(|allowed| match allowed.strip_suffix('*') {
                Some(prefix) => instrument.starts_with(prefix),
                None => allowed == instrument,
            }),
        }
    }
}

/// The state of an account as the gates see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// Status.
    pub status: AccountStatus,
    /// The platform-wide kill switch: when set, nothing executes anywhere.
    pub kill_switch: bool,
    /// Current equity (cash + unrealized PnL at marks).
    pub equity: Decimal,
    /// Equity at the start of the current UTC day.
    pub day_start_equity: Decimal,
    /// Current gross exposure at marks.
    pub gross_exposure: Decimal,
    /// The position in the order's instrument.
    pub position: Position,
    /// Orders placed in the last minute (before this one).
    pub orders_last_minute: u32,
}

/// The order as the gates see it.
#[derive(Debug, Clone)]
pub struct OrderCheck<'a> {
    /// The instrument.
    pub instrument: &'a InstrumentKey,
    /// What the feed knows of it (`None`: unknown).
    pub info: Option<&'a InstrumentInfo>,
    /// The reference price (mid) and its age, when there is one.
    pub price: Option<(Decimal, Duration)>,
    /// Side.
    pub side: Side,
    /// Size (positive).
    pub size: Decimal,
    /// Whether the order may only reduce.
    pub reduce_only: bool,
}

/// Why the gates refused an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The platform kill switch is on.
    KillSwitch,
    /// The account is closed.
    AccountClosed,
    /// The account is halted.
    AccountHalted,
    /// Too many orders in the last minute.
    OrderRateLimited,
    /// The order itself is malformed (size, limit price).
    InvalidOrder,
    /// The instrument is not in the account's allowed list.
    InstrumentNotAllowed,
    /// The instrument is unknown or not trading.
    InstrumentInactive,
    /// There is no price for the instrument.
    NoPrice,
    /// The price is older than the maximum age.
    PriceStale,
    /// The order would open a short in a long-only instrument (spot, outcome).
    ShortNotAllowed,
    /// A reduce-only order would grow or flip the position.
    ReduceOnlyWouldIncrease,
    /// The order's notional is above the limit.
    MaxOrderNotional,
    /// The position's notional would be above the limit.
    MaxPosition,
    /// Gross exposure would be above the limit.
    MaxGrossExposure,
    /// Leverage would be above the limit.
    MaxLeverage,
    /// The daily loss limit is reached: reduce-only.
    DailyLossLimit,
}

impl RejectReason {
    /// The stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::KillSwitch => "kill_switch",
            RejectReason::AccountClosed => "account_closed",
            RejectReason::AccountHalted => "account_halted",
            RejectReason::OrderRateLimited => "order_rate_limited",
            RejectReason::InvalidOrder => "invalid_order",
            RejectReason::InstrumentNotAllowed => "instrument_not_allowed",
            RejectReason::InstrumentInactive => "instrument_inactive",
            RejectReason::NoPrice => "no_price",
            RejectReason::PriceStale => "price_stale",
            RejectReason::ShortNotAllowed => "short_not_allowed",
            RejectReason::ReduceOnlyWouldIncrease => "reduce_only_would_increase",
            RejectReason::MaxOrderNotional => "max_order_notional",
            RejectReason::MaxPosition => "max_position",
            RejectReason::MaxGrossExposure => "max_gross_exposure",
            RejectReason::MaxLeverage => "max_leverage",
            RejectReason::DailyLossLimit => "daily_loss_limit",
        }
    }
}

/// A refusal: the reason and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRejection {
    /// The reason.
    pub reason: RejectReason,
    /// What was checked against what.
    pub detail: String,
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Result<(), GateRejection> {
    Err(GateRejection {
        reason,
        detail: detail.into(),
    })
}

/// Runs every gate, in a fixed order, for `order` against `account`.
///
/// # Errors
/// The first [`GateRejection`].
pub fn check_order(
    account: &AccountSnapshot,
    limits: &RiskLimits,
    order: &OrderCheck<'_>,
    max_price_age: Duration,
) -> Result<(), GateRejection> {
    if account.kill_switch {
        return reject(RejectReason::KillSwitch, "trading is stopped platform-wide");
    }
    match account.status {
        AccountStatus::Closed => {
            return reject(RejectReason::AccountClosed, "the account is closed");
        }
        AccountStatus::Halted => {
            return reject(RejectReason::AccountHalted, "the account is halted");
        }
        AccountStatus::Active => {}
    }
    if account.orders_last_minute >= limits.max_orders_per_minute {
        return reject(
            RejectReason::OrderRateLimited,
            format!(
                "{} orders in the last minute (limit {})",
                account.orders_last_minute, limits.max_orders_per_minute
            ),
        );
    }
    if order.size <= Decimal::ZERO {
        return reject(RejectReason::InvalidOrder, "size must be positive");
    }
    let key = order.instrument.to_string();
    if !limits.allows(&key) {
        return reject(
            RejectReason::InstrumentNotAllowed,
            format!("{key} is not allowed for this account"),
        );
    }
    match order.info {
        Some(info) if info.active && info.kind == order.instrument.kind() => {}
        Some(_) => {
            return reject(
                RejectReason::InstrumentInactive,
                format!("{key} is not trading"),
            );
        }
        None => {
            return reject(
                RejectReason::InstrumentInactive,
                format!("{key} is unknown"),
            );
        }
    }
    let Some((mark, age)) = order.price else {
        return reject(RejectReason::NoPrice, format!("no price for {key}"));
    };
    if age > max_price_age {
        return reject(
            RejectReason::PriceStale,
            format!(
                "the price is {}s old (limit {}s)",
                age.num_seconds(),
                max_price_age.num_seconds()
            ),
        );
    }
    let delta = order.side.sign() * order.size;
    let after = account.position.size + delta;
    if after < Decimal::ZERO && !order.instrument.kind().allows_short() {
        return reject(
            RejectReason::ShortNotAllowed,
            format!("{} positions cannot be short", order.instrument.kind()),
        );
    }
    let reducing = account.position.is_reducing(delta);
    if order.reduce_only && !reducing {
        return reject(
            RejectReason::ReduceOnlyWouldIncrease,
            "the order would grow or flip the position",
        );
    }
    let notional = order.size * mark;
    if notional > limits.max_order_notional {
        return reject(
            RejectReason::MaxOrderNotional,
            format!(
                "order notional {notional} is above {}",
                limits.max_order_notional
            ),
        );
    }
    if reducing {
        return Ok(());
    }
    let loss = account.day_start_equity - account.equity;
    if loss >= limits.daily_loss_limit {
        return reject(
            RejectReason::DailyLossLimit,
            format!(
                "today's loss {loss} reached the limit {}; only reducing orders are accepted",
                limits.daily_loss_limit
            ),
        );
    }
    let position_after = (after * mark).abs();
    if position_after > limits.max_position_notional {
        return reject(
            RejectReason::MaxPosition,
            format!(
                "position notional {position_after} would be above {}",
                limits.max_position_notional
            ),
        );
    }
    let gross_after =
        account.gross_exposure - (account.position.size * mark).abs() + position_after;
    if gross_after > limits.max_gross_exposure {
        return reject(
            RejectReason::MaxGrossExposure,
            format!(
                "gross exposure {gross_after} would be above {}",
                limits.max_gross_exposure
            ),
        );
    }
    if account.equity <= Decimal::ZERO || gross_after > account.equity * limits.max_leverage {
        return reject(
            RejectReason::MaxLeverage,
            format!(
                "exposure {gross_after} on equity {} is above {}x",
                account.equity, limits.max_leverage
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clones_market::InstrumentKind;

    fn snapshot() -> AccountSnapshot {
        AccountSnapshot {
            status: AccountStatus::Active,
            kill_switch: false,
            equity: dec!(10000),
            day_start_equity: dec!(10000),
            gross_exposure: Decimal::ZERO,
            position: Position::default(),
            orders_last_minute: 0,
        }
    }

    fn limits() -> RiskLimits {
        RiskLimits {
            max_order_notional: dec!(5000),
            max_leverage: dec!(2),
            max_position_notional: dec!(8000),
            max_gross_exposure: dec!(15000),
            daily_loss_limit: dec!(500),
            max_orders_per_minute: 5,
            allowed_instruments: Some(vec![
                "hyperliquid:perp:*".into(),
                "hyperliquid:spot:PURR/USDC".into(),
            ]),
        }
    }

    fn run(
        account: &AccountSnapshot,
        limits: &RiskLimits,
        key: &str,
        side: Side,
        size: Decimal,
        reduce_only: bool,
    ) -> Result<(), RejectReason> {
        let instrument = InstrumentKey::parse(key).unwrap();
        let info = InstrumentInfo {
            key: key.into(),
            kind: instrument.kind(),
            active: true,
        };
        let order = OrderCheck {
            instrument: &instrument,
            info: Some(&info),
            price: Some((dec!(100), Duration::seconds(1))),
            side,
            size,
            reduce_only,
        };
        check_order(account, limits, &order, Duration::seconds(30)).map_err(|r| r.reason)
    }

    #[test]
    fn each_gate_has_its_reason() {
        let l = limits();
        let btc = "hyperliquid:perp:BTC";
        assert_eq!(
            run(&snapshot(), &l, btc, Side::Buy, dec!(10), false),
            Ok(())
        );
        let halted = AccountSnapshot {
            status: AccountStatus::Halted,
            ..snapshot()
        };
        assert_eq!(
            run(&halted, &l, btc, Side::Buy, dec!(1), false),
            Err(RejectReason::AccountHalted)
        );
        let closed = AccountSnapshot {
            status: AccountStatus::Closed,
            ..snapshot()
        };
        assert_eq!(
            run(&closed, &l, btc, Side::Buy, dec!(1), false),
            Err(RejectReason::AccountClosed)
        );
        let killed = AccountSnapshot {
            kill_switch: true,
            ..snapshot()
        };
        assert_eq!(
            run(&killed, &l, btc, Side::Buy, dec!(1), false),
            Err(RejectReason::KillSwitch)
        );
        let busy = AccountSnapshot {
            orders_last_minute: 5,
            ..snapshot()
        };
        assert_eq!(
            run(&busy, &l, btc, Side::Buy, dec!(1), false),
            Err(RejectReason::OrderRateLimited)
        );
        assert_eq!(
            run(&snapshot(), &l, btc, Side::Buy, Decimal::ZERO, false),
            Err(RejectReason::InvalidOrder)
        );
        assert_eq!(
            run(
                &snapshot(),
                &l,
                "polymarket:outcome:1",
                Side::Buy,
                dec!(1),
                false
            ),
            Err(RejectReason::InstrumentNotAllowed)
        );
        assert_eq!(
            run(
                &snapshot(),
                &l,
                "hyperliquid:spot:PURR/USDC",
                Side::Sell,
                dec!(1),
                false
            ),
            Err(RejectReason::ShortNotAllowed)
        );
        assert_eq!(
            run(&snapshot(), &l, btc, Side::Buy, dec!(1), true),
            Err(RejectReason::ReduceOnlyWouldIncrease)
        );
        assert_eq!(
            run(&snapshot(), &l, btc, Side::Buy, dec!(51), false),
            Err(RejectReason::MaxOrderNotional)
        );
        let long = AccountSnapshot {
            position: Position::new(dec!(50), dec!(100)),
            gross_exposure: dec!(5000),
            ..snapshot()
        };
        assert_eq!(
            run(&long, &l, btc, Side::Buy, dec!(31), false),
            Err(RejectReason::MaxPosition)
        );
        let exposed = AccountSnapshot {
            gross_exposure: dec!(14000),
            ..snapshot()
        };
        assert_eq!(
            run(&exposed, &l, btc, Side::Buy, dec!(20), false),
            Err(RejectReason::MaxGrossExposure)
        );
        let levered = AccountSnapshot {
            gross_exposure: dec!(13000),
            equity: dec!(7000),
            day_start_equity: dec!(7000),
            ..snapshot()
        };
        assert_eq!(
            run(&levered, &l, btc, Side::Buy, dec!(20), false),
            Err(RejectReason::MaxLeverage)
        );
        let losing = AccountSnapshot {
            equity: dec!(9500),
            position: Position::new(dec!(10), dec!(150)),
            gross_exposure: dec!(1000),
            ..snapshot()
        };
        assert_eq!(
            run(&losing, &l, btc, Side::Buy, dec!(1), false),
            Err(RejectReason::DailyLossLimit)
        );
        // Reducing is still allowed after the daily loss limit.
        assert_eq!(run(&losing, &l, btc, Side::Sell, dec!(5), true), Ok(()));
    }

    #[test]
    fn price_and_instrument_gates() {
        let l = limits();
        let instrument = InstrumentKey::parse("hyperliquid:perp:ETH").unwrap();
        let inactive = InstrumentInfo {
            key: instrument.to_string(),
            kind: InstrumentKind::Perp,
            active: false,
        };
        let base = OrderCheck {
            instrument: &instrument,
            info: Some(&inactive),
            price: Some((dec!(100), Duration::seconds(1))),
            side: Side::Buy,
            size: dec!(1),
            reduce_only: false,
        };
        let code = |order: &OrderCheck<'_>| {
            check_order(&snapshot(), &l, order, Duration::seconds(30)).map_err(|r| r.reason)
        };
        assert_eq!(code(&base), Err(RejectReason::InstrumentInactive));
        assert_eq!(
            code(&OrderCheck {
                info: None,
                ..base.clone()
            }),
            Err(RejectReason::InstrumentInactive)
        );
        let active = InstrumentInfo {
            active: true,
            ..inactive.clone()
        };
        assert_eq!(
            code(&OrderCheck {
                info: Some(&active),
                price: None,
                ..base.clone()
            }),
            Err(RejectReason::NoPrice)
        );
        assert_eq!(
            code(&OrderCheck {
                info: Some(&active),
                price: Some((dec!(100), Duration::seconds(31))),
                ..base.clone()
            }),
            Err(RejectReason::PriceStale)
        );
        assert_eq!(
            code(&OrderCheck {
                info: Some(&active),
                ..base
            }),
            Ok(())
        );
    }
}
