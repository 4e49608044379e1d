//! What an order may be: the venue's rules for its type, price, size and expiration, and its
//! integer amounts. Pure arithmetic over the caller's numbers; nothing is signed here.

use alloy::primitives::U256;
use clones_kernel::{DomainError, ErrorKind};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::fill::TradeSide;

/// The most decimals a size (shares) may have.
pub const SIZE_DECIMALS: u32 = 2;

/// The venue refuses a GTD expiration closer than this to now.
pub const GTD_SECURITY_SECONDS: u64 = 60;

/// The tick sizes markets use.
const TICKS: [Decimal; 5] = [
    Decimal::from_parts(1, 0, 0, false, 1),
    Decimal::from_parts(1, 0, 0, false, 2),
    Decimal::from_parts(1, 0, 0, false, 3),
    Decimal::from_parts(1, 0, 0, false, 4),
    Decimal::from_parts(25, 0, 0, false, 4),
];

/// How long an order lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderType {
    /// Good till cancelled: rests on the book.
    Gtc,
    /// Good till date: rests until its expiration.
    Gtd,
    /// Fill or kill: fills in full at once or not at all.
    Fok,
    /// Fill and kill: fills what it can at once, the rest is cancelled.
    Fak,
}

impl OrderType {
    /// The venue's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Gtc => "GTC",
            OrderType::Gtd => "GTD",
            OrderType::Fok => "FOK",
            OrderType::Fak => "FAK",
        }
    }

    /// Whether the order may rest on the book (and so may be post-only).
    pub fn rests(self) -> bool {
        matches!(self, OrderType::Gtc | OrderType::Gtd)
    }
}

/// Why an order is not built. Each is the caller's input, refused before anything is signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The token id is not a decimal `uint256`.
    #[error("the token id is not a decimal uint256")]
    TokenId,
    /// The client order id is not `0x` + 64 hex digits.
    #[error("the client order id is not 0x + 64 hex digits")]
    ClientOrderId,
    /// The tick size is not one the venue uses.
    #[error("unknown tick size {0}")]
    UnknownTick(Decimal),
    /// The price has more decimals than the tick.
    #[error("price {price} has more decimals than tick {tick}")]
    PriceDecimals {
        /// The price asked.
        price: Decimal,
        /// The market's tick.
        tick: Decimal,
    },
    /// The price is outside `[tick, 1 - tick]`.
    #[error("price {price} is outside [{tick}, 1 - {tick}]")]
    PriceOutOfRange {
        /// The price asked.
        price: Decimal,
        /// The market's tick.
        tick: Decimal,
    },
    /// The size is zero or negative.
    #[error("size {0} is not positive")]
    NonPositiveSize(Decimal),
    /// The size has more than two decimals.
    #[error("size {0} has more than 2 decimals")]
    SizeDecimals(Decimal),
    /// An amount does not fit the venue's integers.
    #[error("the order's amounts overflow")]
    AmountOverflow,
    /// Post-only asked on an order that cannot rest.
    #[error("post-only needs GTC or GTD, not {0:?}")]
    PostOnlyNeedsRestingOrder(OrderType),
    /// An expiration on an order type other than GTD.
    #[error("only GTD orders expire, not {0:?}")]
    ExpirationNotAllowed(OrderType),
    /// A GTD expiration missing or inside the venue's security threshold.
    #[error("GTD expiration {expiration} is before {earliest}")]
    ExpirationTooSoon {
        /// The expiration asked, Unix seconds.
        expiration: u64,
        /// The first acceptable expiration, Unix seconds.
        earliest: u64,
    },
    /// The signer failed, or the body could not be written.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl DomainError for OrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            OrderError::Signing(_) => ErrorKind::Internal,
            _ => ErrorKind::InvalidInput,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            OrderError::TokenId => "invalid_token_id",
            OrderError::ClientOrderId => "invalid_client_order_id",
            OrderError::UnknownTick(_) => "unknown_tick_size",
            OrderError::PriceDecimals { .. } => "price_off_tick",
            OrderError::PriceOutOfRange { .. } => "price_out_of_range",
            OrderError::NonPositiveSize(_) => "non_positive_size",
            OrderError::SizeDecimals(_) => "size_too_precise",
            OrderError::AmountOverflow => "amount_overflow",
            OrderError::PostOnlyNeedsRestingOrder(_) => "post_only_not_resting",
            OrderError::ExpirationNotAllowed(_) => "expiration_not_allowed",
            OrderError::ExpirationTooSoon { .. } => "expiration_too_soon",
            OrderError::Signing(_) => "order_signing_failed",
        }
    }
}

/// What to order. For FOK and FAK the price is the worst acceptable price and the amounts
/// follow the same rule as a limit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderArgs {
    /// The outcome token id (a decimal string).
    pub token_id: String,
    /// Buy or sell.
    pub side: TradeSide,
    /// The limit price per share, on the tick.
    pub price: Decimal,
    /// Shares, at most two decimals.
    pub size: Decimal,
    /// The market's tick size.
    pub tick_size: Decimal,
    /// Whether the market is a NegRisk (multi-outcome) market.
    pub neg_risk: bool,
    /// GTC, GTD, FOK or FAK.
    pub order_type: OrderType,
    /// Unix seconds for GTD; 0 for every other type.
    pub expiration: u64,
    /// Refuse to take liquidity (GTC and GTD only).
    pub post_only: bool,
    /// The caller's idempotency key, `0x` + 64 hex: the salt derives from it.
    pub client_order_id: String,
    /// The signed creation time, Unix milliseconds; store it with the intent so a retry
    /// signs the same order.
    pub timestamp_ms: u64,
}

/// The numbers an order is signed with, once its arguments passed every rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderNumbers {
    /// The outcome token id.
    pub token_id: U256,
    /// From the client order id.
    pub salt: u64,
    /// What the maker gives, 1e-6 units.
    pub maker_amount: u128,
    /// What the maker receives, 1e-6 units.
    pub taker_amount: u128,
}

/// Checks every rule and computes the numbers to sign.
///
/// # Errors
/// The first [`OrderError`] that applies.
pub fn check(args: &OrderArgs) -> Result<OrderNumbers, OrderError> {
    let token_id = token_id(&args.token_id)?;
    let salt = salt_of(&args.client_order_id)?;
    validate(args)?;
    let (maker_amount, taker_amount) = amounts(args.side, args.price, args.size)?;
    Ok(OrderNumbers {
        token_id,
        salt,
        maker_amount,
        taker_amount,
    })
}

/// shares, a sell the reverse.
///
/// # Errors
/// [`OrderError::AmountOverflow`] when an amount is not a whole number of 1e-6 units or
/// does not fit.
pub fn amounts(side: TradeSide, price: Decimal, size: Decimal) -> Result<(u128, u128), OrderError> {
    let usdc = units(size.checked_mul(price).ok_or(OrderError::AmountOverflow)?)?;
    let shares = units(size)?;
    Ok(match side {
        TradeSide::Buy => (usdc, shares),
        TradeSide::Sell => (shares, usdc),
    })
}

fn units(value: Decimal) -> Result<u128, OrderError> {
    let scaled = value
        .checked_mul(Decimal::from(1_000_000))
        .ok_or(OrderError::AmountOverflow)?;
    if !scaled.fract().is_zero() {
        return Err(OrderError::AmountOverflow);
    }
    scaled.to_u128().ok_or(OrderError::AmountOverflow)
}

/// The salt of a client order id: its first 53 bits, so it stays exact as a JSON number.
///
/// # Errors
/// [`OrderError::ClientOrderId`] unless the id is `0x` + 64 hex digits.
pub fn salt_of(client_order_id: &str) -> Result<u64, OrderError> {
    let digits = client_order_id
        .strip_prefix("0x")
        .filter(|digits| digits.len() == 64)
        .ok_or(OrderError::ClientOrderId)?;
    let bytes = hex::decode(digits).map_err(|_| OrderError::ClientOrderId)?;
    let mut head = [0u8; 8];
    head.copy_from_slice(&bytes[..8]);
    Ok(u64::from_be_bytes(head) & ((1u64 << 53) - 1))
}

/// Checks `args` against the venue's rules, in the order a person would fix them.
///
/// # Errors
/// The first [`OrderError`] that applies.
pub fn validate(args: &OrderArgs) -> Result<(), OrderError> {
    if !TICKS.contains(&args.tick_size) {
        return Err(OrderError::UnknownTick(args.tick_size));
    }
    let tick = args.tick_size;
    if args.price.normalize().scale() > tick.normalize().scale() {
        return Err(OrderError::PriceDecimals {
            price: args.price,
            tick,
        });
    }
    if args.price < tick || args.price > Decimal::ONE - tick {
        return Err(OrderError::PriceOutOfRange {
            price: args.price,
            tick,
        });
    }
    if args.size <= Decimal::ZERO {
        return Err(OrderError::NonPositiveSize(args.size));
    }
    if args.size.normalize().scale() > SIZE_DECIMALS {
        return Err(OrderError::SizeDecimals(args.size));
    }
    if args.post_only && !args.order_type.rests() {
        return Err(OrderError::PostOnlyNeedsRestingOrder(args.order_type));
    }
    if args.order_type == OrderType::Gtd {
        let earliest = args.timestamp_ms / 1000 + GTD_SECURITY_SECONDS + 1;
        if args.expiration < earliest {
            return Err(OrderError::ExpirationTooSoon {
                expiration: args.expiration,
                earliest,
            });
        }
    } else if args.expiration != 0 {
        return Err(OrderError::ExpirationNotAllowed(args.order_type));
    }
    Ok(())
}

fn token_id(text: &str) -> Result<U256, OrderError> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(OrderError::TokenId);
    }
    U256::from_str_radix(text, 10).map_err(|_| OrderError::TokenId)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    const TOKEN: &str =
        "71321045679252212594626385532706912750332728571942532289631379312455583992563";
    const KEY: &str = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn args() -> OrderArgs {
        OrderArgs {
            token_id: TOKEN.into(),
            side: TradeSide::Buy,
            price: d("0.52"),
            size: d("10.5"),
            tick_size: d("0.01"),
            neg_risk: false,
            order_type: OrderType::Gtc,
            expiration: 0,
            post_only: false,
            client_order_id: KEY.into(),
            timestamp_ms: 1_764_979_200_000,
        }
    }

    #[test]
    fn a_buy_gives_usdc_for_shares_and_a_sell_the_reverse() {
        assert_eq!(
            amounts(TradeSide::Buy, d("0.52"), d("10.5")).unwrap(),
            (5_460_000, 10_500_000)
        );
        assert_eq!(
            amounts(TradeSide::Sell, d("0.52"), d("10.5")).unwrap(),
            (10_500_000, 5_460_000)
        );
        assert_eq!(
            amounts(TradeSide::Buy, d("0.0001"), d("0.01")).unwrap(),
            (1, 10_000)
        );
    }

    #[test]
    fn the_salt_is_the_first_53_bits_of_the_client_order_id() {
        assert_eq!(
            salt_of(KEY).unwrap(),
            0x0123_4567_89ab_cdef & ((1u64 << 53) - 1)
        );
        assert_eq!(
            salt_of(&format!("0x{}", "f".repeat(64))).unwrap(),
            (1u64 << 53) - 1
        );
        let numbers = check(&args()).unwrap();
        assert_eq!(numbers.salt, salt_of(KEY).unwrap());
        assert_eq!(numbers.token_id, U256::from_str_radix(TOKEN, 10).unwrap());
        assert_eq!(
            (numbers.maker_amount, numbers.taker_amount),
            (5_460_000, 10_500_000)
        );
    }

    #[test]
    fn each_broken_rule_is_refused_with_its_error() {
        let now_s = args().timestamp_ms / 1000;
        let cases: Vec<(OrderArgs, OrderError)> = vec![
            (
                OrderArgs {
                    token_id: "12a".into(),
                    ..args()
                },
                OrderError::TokenId,
            ),
            (
                OrderArgs {
                    client_order_id: "0x12".into(),
                    ..args()
                },
                OrderError::ClientOrderId,
            ),
            (
                OrderArgs {
                    client_order_id: format!("0x{}", "g".repeat(64)),
                    ..args()
                },
                OrderError::ClientOrderId,
            ),
            (
                OrderArgs {
                    tick_size: d("0.05"),
                    ..args()
                },
                OrderError::UnknownTick(d("0.05")),
            ),
            (
                OrderArgs {
                    price: d("0.525"),
                    ..args()
                },
                OrderError::PriceDecimals {
                    price: d("0.525"),
                    tick: d("0.01"),
                },
            ),
            (
                OrderArgs {
                    price: d("1.00"),
                    ..args()
                },
                OrderError::PriceOutOfRange {
                    price: d("1.00"),
                    tick: d("0.01"),
                },
            ),
            (
                OrderArgs {
                    price: d("0.9995"),
                    tick_size: d("0.001"),
                    ..args()
                },
                OrderError::PriceDecimals {
                    price: d("0.9995"),
                    tick: d("0.001"),
                },
            ),
            (
                OrderArgs {
                    price: d("0.00"),
                    ..args()
                },
                OrderError::PriceOutOfRange {
                    price: d("0.00"),
                    tick: d("0.01"),
                },
            ),
            (
                OrderArgs {
                    size: Decimal::ZERO,
                    ..args()
                },
                OrderError::NonPositiveSize(Decimal::ZERO),
            ),
            (
                OrderArgs {
                    size: d("1.005"),
                    ..args()
                },
                OrderError::SizeDecimals(d("1.005")),
            ),
            (
                OrderArgs {
                    order_type: OrderType::Fok,
                    post_only: true,
                    ..args()
                },
                OrderError::PostOnlyNeedsRestingOrder(OrderType::Fok),
            ),
            (
                OrderArgs {
                    order_type: OrderType::Fak,
                    post_only: true,
                    ..args()
                },
                OrderError::PostOnlyNeedsRestingOrder(OrderType::Fak),
            ),
            (
                OrderArgs {
                    expiration: now_s + 3600,
                    ..args()
                },
                OrderError::ExpirationNotAllowed(OrderType::Gtc),
            ),
            (
                OrderArgs {
                    order_type: OrderType::Gtd,
                    expiration: now_s + 60,
                    ..args()
                },
                OrderError::ExpirationTooSoon {
                    expiration: now_s + 60,
                    earliest: now_s + 61,
                },
            ),
            (
                OrderArgs {
                    order_type: OrderType::Gtd,
                    ..args()
                },
                OrderError::ExpirationTooSoon {
                    expiration: 0,
                    earliest: now_s + 61,
                },
            ),
        ];
        for (bad, error) in cases {
            assert_eq!(check(&bad).map(|_| ()), Err(error.clone()), "{error}");
            assert_eq!(error.kind(), ErrorKind::InvalidInput);
        }
    }
}
