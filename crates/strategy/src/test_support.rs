//! Shared helpers for the unit tests.

use clones_market::Timeframe;
use rust_decimal::Decimal;

use crate::model::{ActionKind, CompareOp, NodeKind, PriceField, SizeSpec};

/// One node kind of each variant, in catalog order, with valid parameters.
pub(crate) fn one_of_each_kind() -> Vec<NodeKind> {
    let btc = || "BTC".to_owned();
    let percent = SizeSpec::PercentEquity(Decimal::from(10));
    vec![
        NodeKind::Price {
            asset: btc(),
            timeframe: Timeframe::H1,
            field: PriceField::Close,
        },
        NodeKind::OutcomePrice {
            market: "m1".to_owned(),
            outcome: "yes".to_owned(),
        },
        NodeKind::Sma { period: 3 },
        NodeKind::Ema { period: 3 },
        NodeKind::Rsi { period: 3 },
        NodeKind::Macd {
            fast: 2,
            slow: 4,
            signal: 2,
        },
        NodeKind::Atr { period: 3 },
        NodeKind::Bollinger {
            period: 3,
            multiplier: Decimal::from(2),
        },
        NodeKind::Returns { period: 1 },
        NodeKind::Volatility { period: 3 },
        NodeKind::Compare {
            op: CompareOp::Gt,
            threshold: Some(Decimal::ONE),
        },
        NodeKind::CrossesAbove {
            threshold: Some(Decimal::ONE),
        },
        NodeKind::CrossesBelow {
            threshold: Some(Decimal::ONE),
        },
        NodeKind::And,
        NodeKind::Or,
        NodeKind::Not,
        NodeKind::OpenLong {
            asset: btc(),
            size: percent,
        },
        NodeKind::OpenShort {
            asset: btc(),
            size: percent,
        },
        NodeKind::Close { asset: btc() },
        NodeKind::TargetPosition {
            asset: btc(),
            size: percent,
        },
        NodeKind::StopLoss {
            percent: Decimal::from(5),
        },
        NodeKind::TakeProfit {
            percent: Decimal::from(5),
        },
        NodeKind::MaxPosition { size: percent },
        NodeKind::LlmInstruction {
            model: "gpt-4o-mini".to_owned(),
            guidance: "Trade carefully.".to_owned(),
            allowed_actions: vec![ActionKind::OpenLong, ActionKind::Close],
            assets: vec![btc()],
        },
    ]
}
