//! The bounds every strategy document must respect.
//!
//! They keep validation, storage and evaluation cheap and predictable. Changing one can make a
//! stored strategy invalid, so they only ever grow.

use rust_decimal::Decimal;

/// The longest document [`crate::parse`] reads, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The most nodes in a graph.
pub const MAX_NODES: usize = 200;
/// The most edges in a graph.
pub const MAX_EDGES: usize = 1_000;
/// The longest node id, in characters (`[A-Za-z0-9_-]`).
pub const MAX_NODE_ID_CHARS: usize = 64;
/// The longest asset symbol, in characters (`[A-Z0-9]` first, then `[A-Z0-9._-]`).
pub const MAX_ASSET_CHARS: usize = 20;
/// The longest prediction-market or outcome id, in characters (printable ASCII, no spaces).
pub const MAX_MARKET_ID_CHARS: usize = 128;
/// The longest model id, in characters (printable ASCII, no spaces).
pub const MAX_MODEL_ID_CHARS: usize = 100;
/// The longest `llm_instruction` guidance, in characters (Unicode scalar values).
pub const MAX_GUIDANCE_CHARS: usize = 4_000;
/// The largest indicator period.
pub const MAX_PERIOD: u32 = 1_000;
/// The most candles (or outcome prices) a plan may need before its first defined value.
pub const MAX_WARMUP_BARS: u32 = 10_000;
/// The largest Bollinger multiplier.
pub const MAX_BOLLINGER_MULTIPLIER: Decimal = Decimal::from_parts(10, 0, 0, false, 0);
/// The largest stop-loss percent (a stop at 100 % is a total loss).
pub const MAX_STOP_LOSS_PERCENT: Decimal = Decimal::from_parts(100, 0, 0, false, 0);
/// The largest take-profit percent.
pub const MAX_TAKE_PROFIT_PERCENT: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);
/// The largest size in percent of equity (1000 % = 10x leverage); sizes are positive except
/// for `target_position`, where the bound applies to the absolute value.
pub const MAX_PERCENT_EQUITY: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);
/// The largest notional size (10^12 in the account currency).
pub const MAX_NOTIONAL: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_constants_have_their_documented_values() {
        assert_eq!(MAX_BOLLINGER_MULTIPLIER, Decimal::from(10));
        assert_eq!(MAX_STOP_LOSS_PERCENT, Decimal::from(100));
        assert_eq!(MAX_TAKE_PROFIT_PERCENT, Decimal::from(1_000));
        assert_eq!(MAX_PERCENT_EQUITY, Decimal::from(1_000));
        assert_eq!(MAX_NOTIONAL, Decimal::from(1_000_000_000_000_i64));
    }
}
