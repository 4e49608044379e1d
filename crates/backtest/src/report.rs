//! What a backtest produces: its fills, round-trip trades, equity curve, metrics and the hash
//! that pins them. Plain serializable values; money is `Decimal`, ratios `f64`.

use std::io::{BufWriter, Write};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;

/// Why a fill happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillReason {
    /// A strategy action.
    Signal,
    /// The position's stop-loss triggered inside a bar.
    StopLoss,
    /// The position's take-profit triggered inside a bar.
    TakeProfit,
    /// Closed after the last bar.
    End,
}

/// Long or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Bought first.
    Long,
    /// Sold first.
    Short,
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FillRecord {
    /// When it filled, Unix seconds.
    pub time: i64,
    /// The asset.
    pub asset: String,
    /// `buy` or `sell`.
    pub side: clones_market::Side,
    /// Execution price (after slippage).
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    /// Units, positive.
    #[serde(with = "rust_decimal::serde::str")]
    pub size: Decimal,
    /// Fee charged.
    #[serde(with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// PnL realized by the fill (before fees).
    #[serde(with = "rust_decimal::serde::str")]
    pub realized_pnl: Decimal,
    /// Why.
    pub reason: FillReason,
}

/// One round trip: from flat to flat (a flip ends one trade and starts the next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    /// The asset.
    pub asset: String,
    /// Long or short.
    pub direction: Direction,
    /// First entry fill, Unix seconds.
    pub entry_time: i64,
    /// Last exit fill, Unix seconds.
    pub exit_time: i64,
    /// Size-weighted entry price.
    #[serde(with = "rust_decimal::serde::str")]
    pub entry_price: Decimal,
    /// Size-weighted exit price.
    #[serde(with = "rust_decimal::serde::str")]
    pub exit_price: Decimal,
    /// Largest size held.
    #[serde(with = "rust_decimal::serde::str")]
    pub size: Decimal,
    /// Realized PnL less every fee of the trade.
    #[serde(with = "rust_decimal::serde::str")]
    pub pnl: Decimal,
    /// Fees of the trade's fills.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    /// Price return in the trade's direction, percent, before fees.
    pub return_pct: f64,
    /// Why it ended.
    pub exit_reason: FillReason,
}

/// The account after one bar close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EquityPoint {
    /// The close time, Unix seconds.
    pub time: i64,
    /// Cash plus unrealized PnL at the closes.
    #[serde(with = "rust_decimal::serde::str")]
    pub equity: Decimal,
    /// The ledger's cash balance.
    #[serde(with = "rust_decimal::serde::str")]
    pub cash: Decimal,
    /// Whether any position was open.
    pub exposed: bool,
}

/// Everything a backtest produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BacktestReport {
    /// The metrics.
    pub metrics: Metrics,
    /// Round trips, in exit order.
    pub trades: Vec<Trade>,
    /// Every fill, in time order.
    pub fills: Vec<FillRecord>,
    /// The equity curve, one point per bar close inside the tested range.
    pub equity: Vec<EquityPoint>,
    /// SHA-256 (hex) of the metrics, trades, fills and curve (see the module page).
    pub result_hash: String,
}

#[derive(Serialize)]
struct Hashed<'a> {
    metrics: &'a Metrics,
    trades: &'a [Trade],
    fills: &'a [FillRecord],
}

/// The hash of a result: SHA-256 over the JSON of the metrics, trades and fills (field order
/// fixed by the types, floats printed shortest-round-trip), then each curve point as its time
/// (8 bytes, big-endian), equity and cash (16 bytes each, `Decimal::serialize`) and exposure
/// (1 byte). The curve, one point per bar, is hashed in binary because printing it as text
/// would cost more than the backtest itself. SHA-256 rather than the SHA3 of strategy
/// fingerprints: it runs on the CPU's hash instructions, and the curve is large.
///
/// The JSON is written into the hash as it is produced and the curve is fed in blocks of
/// points: the same bytes in the same order as hashing one JSON buffer and then one point at
/// a time, without building the buffer or paying the per-call overhead once per bar.
pub(crate) fn result_hash(
    metrics: &Metrics,
    trades: &[Trade],
    fills: &[FillRecord],
    equity: &[EquityPoint],
) -> String {
    let mut hasher = Sha256::new();
    {
        let mut writer = BufWriter::with_capacity(
            HASH_BLOCK,
            HashWriter {
                hasher: &mut hasher,
            },
        );
        // Writing into a hash cannot fail, and serializing these types cannot either.
        let _ = serde_json::to_writer(
            &mut writer,
            &Hashed {
                metrics,
                trades,
                fills,
            },
        );
        let _ = writer.flush();
    }
    let mut block = [0u8; POINT_BYTES * POINTS_PER_BLOCK];
    for points in equity.chunks(POINTS_PER_BLOCK) {
        for (point, bytes) in points.iter().zip(block.chunks_exact_mut(POINT_BYTES)) {
            bytes[..8].copy_from_slice(&point.time.to_be_bytes());
            bytes[8..24].copy_from_slice(&point.equity.serialize());
            bytes[24..40].copy_from_slice(&point.cash.serialize());
            bytes[40] = u8::from(point.exposed);
        }
        hasher.update(&block[..points.len() * POINT_BYTES]);
    }
    clones_strategy::to_hex(&hasher.finalize())
}

/// Bytes of one hashed curve point.
const POINT_BYTES: usize = 8 + 16 + 16 + 1;
/// Curve points hashed per call.
const POINTS_PER_BLOCK: usize = 128;
/// Bytes of JSON buffered per call.
const HASH_BLOCK: usize = 8 * 1024;

/// Feeds what is written into a hash.
struct HashWriter<'a> {
    hasher: &'a mut Sha256,
}

impl Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
