//! Paper fill simulation: how much of an order fills, at what prices, and what it costs.
//!
//! Pure functions over a [`MarketQuote`]: no clock (the caller passes "now"), no database. A
//! fresh book is walked level by level; without one the order fills at the mid moved against
//! the taker by a configured slippage. Limit orders fill only at or better than their limit;
//! a thin book fills partially (fill-or-kill then fills nothing). A quote older than the
//! configured age fills nothing.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use clones_market::{InstrumentKey, InstrumentKind, Side, VenueKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::feed::MarketQuote;
use crate::money;

/// Market or limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderType {
    /// Fill at whatever the market offers.
    Market,
    /// Fill only at `price` or better.
    Limit {
        /// The worst acceptable price.
        price: Decimal,
    },
}

/// How long the unfilled part of an order lives.
///
/// The paper engine executes on arrival: `ioc` fills what the market offers now and cancels the
/// rest; `fok` fills all or nothing. Resting orders are not simulated, so the service refuses
/// `gtc`; the pure fill simulation treats it like `ioc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

impl TimeInForce {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
            TimeInForce::Fok => "fok",
        }
    }
}

impl FromStr for TimeInForce {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "gtc" => Ok(TimeInForce::Gtc),
            "ioc" => Ok(TimeInForce::Ioc),
            "fok" => Ok(TimeInForce::Fok),
            _ => Err(format!("unknown time in force `{value}`")),
        }
    }
}

/// What is being executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderSpec {
    /// Buy or sell.
    pub side: Side,
    /// The size, positive, in instrument units.
    pub size: Decimal,
    /// Market or limit.
    pub order_type: OrderType,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

/// Taker fees in basis points, per venue and instrument kind, with a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSchedule {
    default_bps: Decimal,
    by_venue_kind: HashMap<VenueKind, Decimal>,
}

impl FeeSchedule {
    /// A schedule charging `default_bps` everywhere.
    pub fn flat(default_bps: Decimal) -> Self {
        Self {
            default_bps,
            by_venue_kind: HashMap::new(),
        }
    }

    /// Charges `bps` on the instruments of `family`.
    #[must_use]
    pub fn with(mut self, family: VenueKind, bps: Decimal) -> Self {
        self.by_venue_kind.insert(family, bps);
        self
    }

    /// Parses `default=4.5,hyperliquid:perp=4.5,hyperliquid:spot=7,polymarket:outcome=0`.
    ///
    /// # Errors
    /// A message naming the bad entry.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut schedule = FeeSchedule::flat(Decimal::ZERO);
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| format!("fee entry `{entry}` has no `=`"))?;
            let bps: Decimal = value
                .trim()
                .parse()
                .map_err(|_| format!("fee `{value}` is not a number"))?;
            if bps < Decimal::ZERO || bps > Decimal::from(1000) {
                return Err(format!("fee `{bps}` bps is out of range 0..=1000"));
            }
            if key.trim() == "default" {
                schedule.default_bps = bps;
            } else {
                let family = VenueKind::parse(key.trim())
                    .map_err(|error| format!("fee key `{key}` is not venue:kind: {error}"))?;
                schedule = schedule.with(family, bps);
            }
        }
        Ok(schedule)
    }

    /// The taker fee in bps for `instrument`.
    pub fn bps(&self, instrument: &InstrumentKey) -> Decimal {
        // A scan of the few families, comparing venue and kind in place: no `VenueKind` is
        // built (its venue is an owned string) and nothing is hashed, on every fill. Keys are
        // unique, so the first match is the only one.
        self.by_venue_kind
            .iter()
            .find(|(family, _)| {
                family.kind() == instrument.kind() && family.venue() == instrument.venue()
            })
            .map_or(self.default_bps, |(_, bps)| *bps)
    }

    /// The fee on `notional` for `instrument`, rounded to the ledger's scale.
    pub fn fee(&self, instrument: &InstrumentKey, notional: Decimal) -> Decimal {
        money(notional.abs() * self.bps(instrument) / Decimal::from(10_000))
    }
}

/// How fills are simulated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillConfig {
    /// A book older than this is ignored and the mid path is used.
    pub max_book_age: Duration,
    /// A mid older than this is stale: nothing fills and the price gate rejects.
    pub max_quote_age: Duration,
    /// The mid path's price moves this many bps against the taker.
    pub slippage_bps: Decimal,
    /// Taker fees.
    pub fees: FeeSchedule,
}

impl Default for FillConfig {
    fn default() -> Self {
        Self {
            max_book_age: Duration::seconds(5),
            max_quote_age: Duration::seconds(60),
            slippage_bps: Decimal::from(5),
            fees: FeeSchedule::flat(Decimal::new(45, 1)),
        }
    }
}

/// Where a fill's price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FillSource {
    /// Walked a fresh order book.
    Book,
    /// The mid moved by the configured slippage.
    MidSlippage,
}

impl FillSource {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FillSource::Book => "book",
            FillSource::MidSlippage => "mid_slippage",
        }
    }
}

/// One simulated execution at one price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillLeg {
    /// Execution price.
    pub price: Decimal,
    /// Executed size (positive).
    pub size: Decimal,
}

/// What the market gave an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The executions, in order (one per book level consumed, or one at the slipped mid).
    pub legs: Vec<FillLeg>,
    /// Where the prices came from.
    pub source: FillSource,
}

impl Execution {
    /// Total executed size.
    pub fn filled_size(&self) -> Decimal {
        self.legs.iter().map(|leg| leg.size).sum()
    }

    /// Total executed notional.
    pub fn notional(&self) -> Decimal {
        self.legs.iter().map(|leg| leg.size * leg.price).sum()
    }
}

/// Why nothing filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoFill {
    /// The mid is older than the maximum quote age.
    StalePrice,
    /// The limit is worse than anything the market offers.
    LimitNotReached,
    /// Fill-or-kill and the book cannot fill it all.
    InsufficientDepth,
}

impl NoFill {
    /// A stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            NoFill::StalePrice => "price_stale",
            NoFill::LimitNotReached => "limit_not_reached",
            NoFill::InsufficientDepth => "insufficient_depth",
        }
    }
}

fn within_limit(side: Side, price: Decimal, order_type: OrderType) -> bool {
    match order_type {
        OrderType::Market => true,
        OrderType::Limit { price: limit } => match side {
            Side::Buy => price <= limit,
            Side::Sell => price >= limit,
        },
    }
}

/// The mid moved `slippage_bps` against the taker, kept inside 0..=1 for outcome shares.
pub fn slipped_mid(
    mid: Decimal,
    side: Side,
    slippage_bps: Decimal,
    kind: InstrumentKind,
) -> Decimal {
    let price = money(mid * (Decimal::ONE + side.sign() * slippage_bps / Decimal::from(10_000)));
    match kind {
        InstrumentKind::Outcome => price.clamp(Decimal::ZERO, Decimal::ONE),
        InstrumentKind::Perp | InstrumentKind::Spot => price.max(Decimal::ZERO),
    }
}

/// Simulates `order` against `quote` at `now`.
///
/// # Errors
/// [`NoFill`] when nothing executes.
pub fn simulate(
    order: &OrderSpec,
    kind: InstrumentKind,
    quote: &MarketQuote,
    now: DateTime<Utc>,
    config: &FillConfig,
) -> Result<Execution, NoFill> {
    if now - quote.mid_at > config.max_quote_age {
        return Err(NoFill::StalePrice);
    }
    let fresh_book = quote
        .book
        .as_ref()
        .filter(|book| now - book.observed_at <= config.max_book_age);
    let execution = match fresh_book {
        Some(book) => {
            let levels = match order.side {
                Side::Buy => &book.asks,
                Side::Sell => &book.bids,
            };
            let mut remaining = order.size;
            let mut legs = Vec::new();
            for level in levels {
                if remaining <= Decimal::ZERO {
                    break;
                }
                if level.size <= Decimal::ZERO {
                    continue;
                }
                if !within_limit(order.side, level.price, order.order_type) {
                    break;
                }
                let take = remaining.min(level.size);
                legs.push(FillLeg {
                    price: level.price,
                    size: take,
                });
                remaining -= take;
            }
            if remaining > Decimal::ZERO && order.time_in_force == TimeInForce::Fok {
                return Err(NoFill::InsufficientDepth);
            }
            Execution {
                legs,
                source: FillSource::Book,
            }
        }
        None => {
            let price = slipped_mid(quote.mid, order.side, config.slippage_bps, kind);
            let legs = if within_limit(order.side, price, order.order_type) {
                vec![FillLeg {
                    price,
                    size: order.size,
                }]
            } else {
                Vec::new()
            };
            Execution {
                legs,
                source: FillSource::MidSlippage,
            }
        }
    };
    if execution.legs.is_empty() {
        return Err(NoFill::LimitNotReached);
    }
    Ok(execution)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Book, Level};

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000)
    }

    fn book_quote(at: DateTime<Utc>) -> MarketQuote {
        MarketQuote {
            mid: dec!(100),
            mid_at: at,
            book: Some(Book {
                observed_at: at,
                bids: vec![
                    Level {
                        price: dec!(99.5),
                        size: dec!(1),
                    },
                    Level {
                        price: dec!(99),
                        size: dec!(2),
                    },
                ],
                asks: vec![
                    Level {
                        price: dec!(100.5),
                        size: dec!(1),
                    },
                    Level {
                        price: dec!(101),
                        size: dec!(2),
                    },
                ],
            }),
        }
    }

    fn market(side: Side, size: Decimal) -> OrderSpec {
        OrderSpec {
            side,
            size,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
        }
    }

    #[test]
    fn walks_a_fresh_book() {
        let config = FillConfig::default();
        let run = simulate(
            &market(Side::Buy, dec!(2)),
            InstrumentKind::Perp,
            &book_quote(t0()),
            t0(),
            &config,
        )
        .unwrap();
        assert_eq!(run.source, FillSource::Book);
        assert_eq!(
            run.legs,
            vec![
                FillLeg {
                    price: dec!(100.5),
                    size: dec!(1)
                },
                FillLeg {
                    price: dec!(101),
                    size: dec!(1)
                },
            ]
        );
        assert_eq!(run.notional(), dec!(201.5));
    }

    #[test]
    fn thin_book_fills_partially_and_fok_not_at_all() {
        let config = FillConfig::default();
        let quote = book_quote(t0());
        let run = simulate(
            &market(Side::Sell, dec!(10)),
            InstrumentKind::Perp,
            &quote,
            t0(),
            &config,
        )
        .unwrap();
        assert_eq!(run.filled_size(), dec!(3));
        let fok = OrderSpec {
            time_in_force: TimeInForce::Fok,
            ..market(Side::Sell, dec!(10))
        };
        assert_eq!(
            simulate(&fok, InstrumentKind::Perp, &quote, t0(), &config),
            Err(NoFill::InsufficientDepth)
        );
    }

    #[test]
    fn limits_fill_only_at_or_better() {
        let config = FillConfig::default();
        let quote = book_quote(t0());
        let limit = OrderSpec {
            order_type: OrderType::Limit { price: dec!(100.5) },
            ..market(Side::Buy, dec!(3))
        };
        let run = simulate(&limit, InstrumentKind::Perp, &quote, t0(), &config).unwrap();
        assert_eq!(run.filled_size(), dec!(1));
        let too_low = OrderSpec {
            order_type: OrderType::Limit { price: dec!(100) },
            ..limit
        };
        assert_eq!(
            simulate(&too_low, InstrumentKind::Perp, &quote, t0(), &config),
            Err(NoFill::LimitNotReached)
        );
    }

    #[test]
    fn old_book_uses_mid_with_slippage_and_stale_mid_fills_nothing() {
        let config = FillConfig::default();
        let quote = book_quote(t0());
        let later = t0() + Duration::seconds(30);
        let run = simulate(
            &market(Side::Buy, dec!(2)),
            InstrumentKind::Perp,
            &quote,
            later,
            &config,
        )
        .unwrap();
        assert_eq!(run.source, FillSource::MidSlippage);
        assert_eq!(
            run.legs,
            vec![FillLeg {
                price: dec!(100.05),
                size: dec!(2)
            }]
        );
        let sell = simulate(
            &market(Side::Sell, dec!(2)),
            InstrumentKind::Perp,
            &quote,
            later,
            &config,
        )
        .unwrap();
        assert_eq!(sell.legs[0].price, dec!(99.95));
        let stale = t0() + Duration::seconds(61);
        assert_eq!(
            simulate(
                &market(Side::Buy, dec!(1)),
                InstrumentKind::Perp,
                &quote,
                stale,
                &config
            ),
            Err(NoFill::StalePrice)
        );
    }

    #[test]
    fn outcome_prices_stay_within_zero_and_one() {
        let config = FillConfig {
            slippage_bps: dec!(500),
            ..FillConfig::default()
        };
        let quote = MarketQuote {
            mid: dec!(0.99),
            mid_at: t0(),
            book: None,
        };
        let run = simulate(
            &market(Side::Buy, dec!(10)),
            InstrumentKind::Outcome,
            &quote,
            t0(),
            &config,
        )
        .unwrap();
        assert_eq!(run.legs[0].price, dec!(1));
    }

    #[test]
    fn fee_schedule_by_venue_and_kind() {
        let fees =
            FeeSchedule::parse("default=5,hyperliquid:perp=4.5,polymarket:outcome=0").unwrap();
        let btc = InstrumentKey::parse("hyperliquid:perp:BTC").unwrap();
        let purr = InstrumentKey::parse("hyperliquid:spot:PURR/USDC").unwrap();
        let poly = InstrumentKey::parse("polymarket:outcome:1").unwrap();
        assert_eq!(fees.fee(&btc, dec!(10000)), dec!(4.5));
        assert_eq!(fees.fee(&purr, dec!(10000)), dec!(5));
        assert_eq!(fees.fee(&poly, dec!(10000)), dec!(0));
        assert!(FeeSchedule::parse("default=-1").is_err());
        assert!(FeeSchedule::parse("hyperliquid=1").is_err());
    }
}
