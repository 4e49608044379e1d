//! Properties of the pure core over random operation sequences: the ledger stays zero-sum,
//! balances derived from events equal tracked balances, average-cost PnL (realized +
//! unrealized) equals cash-flow PnL, and replays are deterministic.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use clones_market::{InstrumentKey, Side};
use clones_prop_engine::fill::simulate;
use clones_prop_engine::{
    Balances, FeeSchedule, FillConfig, LedgerAccount, LedgerEvent, MarketQuote, OrderSpec,
    OrderType, PaperAccount, TimeInForce,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
enum Op {
    Trade {
        buy: bool,
        size_cents: i64,
        price_cents: i64,
    },
    Funding {
        rate_bp: i64,
        price_cents: i64,
    },
    Adjust {
        cents: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), 1i64..500, 5_000i64..15_000).prop_map(|(buy, size_cents, price_cents)| Op::Trade { buy, size_cents, price_cents }),
        1 => (-20i64..20, 5_000i64..15_000).prop_map(|(rate_bp, price_cents)| Op::Funding { rate_bp, price_cents }),
        1 => (-10_000i64..10_000).prop_map(|cents| Op::Adjust { cents }),
    ]
}

struct Run {
    account: PaperAccount,
    events: Vec<LedgerEvent>,
    cash_flow: Decimal,
    last_price: Decimal,
}

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000)
}

fn replay(ops: &[Op], fees: &FeeSchedule) -> Run {
    let btc = InstrumentKey::parse("hyperliquid:perp:BTC").unwrap();
    let config = FillConfig {
        fees: fees.clone(),
        ..FillConfig::default()
    };
    let (mut account, opening) = PaperAccount::open(Decimal::from(100_000));
    let mut events: Vec<LedgerEvent> = opening.into_iter().collect();
    let mut cash_flow = Decimal::ZERO;
    let mut last_price = Decimal::from(100);
    for op in ops {
        match *op {
            Op::Trade {
                buy,
                size_cents,
                price_cents,
            } => {
                let side = if buy { Side::Buy } else { Side::Sell };
                let quote = MarketQuote {
                    mid: Decimal::new(price_cents, 2),
                    mid_at: now(),
                    book: None,
                };
                let order = OrderSpec {
                    side,
                    size: Decimal::new(size_cents, 2),
                    order_type: OrderType::Market,
                    time_in_force: TimeInForce::Ioc,
                };
                let execution = simulate(&order, btc.kind(), &quote, now(), &config).unwrap();
                let outcome = account.execute(&btc, side, &execution, &config.fees);
                for fill in &outcome.fills {
                    cash_flow -= side.sign() * fill.size * fill.price + fill.fee;
                }
                events.extend(outcome.event);
                last_price = quote.mid;
            }
            Op::Funding {
                rate_bp,
                price_cents,
            } => {
                let (paid, event) = account.apply_funding(
                    &btc.to_string(),
                    Decimal::new(price_cents, 2),
                    Decimal::new(rate_bp, 4),
                );
                cash_flow -= paid;
                events.extend(event);
            }
            Op::Adjust { cents } => {
                let amount = Decimal::new(cents, 2);
                cash_flow += amount;
                events.extend(account.adjust(amount));
            }
        }
    }
    Run {
        account,
        events,
        cash_flow,
        last_price,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ledger_is_zero_sum_and_balances_derive_from_events(ops in prop::collection::vec(op(), 1..80), fee_bp in 0i64..20) {
        let run = replay(&ops, &FeeSchedule::flat(Decimal::new(fee_bp, 1)));
        let mut derived = Balances::new();
        for event in &run.events {
            prop_assert!(event.is_balanced());
            derived.apply(event);
        }
        prop_assert_eq!(&derived, &run.account.balances);
        prop_assert_eq!(derived.total(), Decimal::ZERO);
        // Cash is the starting balance plus every counterparty's flow into it.
        let counterparties: Decimal = LedgerAccount::ALL.iter().filter(|a| **a != LedgerAccount::Cash).map(|a| derived.get(*a)).sum();
        prop_assert_eq!(run.account.cash(), -counterparties);
    }

    #[test]
    fn average_cost_pnl_equals_cash_flow_pnl(ops in prop::collection::vec(op(), 1..80), fee_bp in 0i64..20) {
        let run = replay(&ops, &FeeSchedule::flat(Decimal::new(fee_bp, 1)));
        let key = "hyperliquid:perp:BTC".to_string();
        let position = run.account.position(&key);
        let marks = BTreeMap::from([(key, run.last_price)]);
        let equity_pnl = run.account.equity(&marks) - Decimal::from(100_000);
        let flow_pnl = run.cash_flow + position.size * run.last_price;
        // Average entries are kept to 10 decimal places; the drift is bounded by that rounding.
        let tolerance = Decimal::new(1, 6) * Decimal::from(ops.len() as i64 + 1);
        prop_assert!((equity_pnl - flow_pnl).abs() <= tolerance, "equity pnl {} vs cash flow {}", equity_pnl, flow_pnl);
    }

    #[test]
    fn replays_are_deterministic(ops in prop::collection::vec(op(), 1..40)) {
        let fees = FeeSchedule::flat(Decimal::new(45, 1));
        let first = replay(&ops, &fees);
        let second = replay(&ops, &fees);
        prop_assert_eq!(first.account, second.account);
        prop_assert_eq!(first.events, second.events);
    }
}

#[test]
fn outcome_settlement_pays_one_or_zero() {
    let token = InstrumentKey::parse("polymarket:outcome:42").unwrap();
    let fees = FeeSchedule::flat(Decimal::ZERO);
    let config = FillConfig {
        fees: fees.clone(),
        slippage_bps: Decimal::ZERO,
        ..FillConfig::default()
    };
    for (payout, expected) in [
        (Decimal::ONE, Decimal::from(60)),
        (Decimal::ZERO, Decimal::from(-40)),
    ] {
        let (mut account, _) = PaperAccount::open(Decimal::from(1000));
        let quote = MarketQuote {
            mid: Decimal::new(40, 2),
            mid_at: now(),
            book: None,
        };
        let order = OrderSpec {
            side: Side::Buy,
            size: Decimal::from(100),
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
        };
        let execution = simulate(&order, token.kind(), &quote, now(), &config).unwrap();
        account.execute(&token, Side::Buy, &execution, &fees);
        let (pnl, event) = account.settle(&token.to_string(), payout);
        assert_eq!(pnl, expected);
        assert!(event.unwrap().is_balanced());
        assert!(account.position(&token.to_string()).is_flat());
        assert_eq!(account.cash(), Decimal::from(1000) + expected);
        assert_eq!(account.balances.total(), Decimal::ZERO);
    }
}
