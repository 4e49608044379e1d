//! What a backtest produces: its fills, round-trip trades, equity curve, metrics and the hash
//! that pins them. Plain serializable values; money is `Decimal`, ratios `f64`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;

/// Why a fill happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Bought first.
    Long,
    /// Sold first.
    Short,
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    #[schema(value_type = String)]
    pub price: Decimal,
    /// Units, positive.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub size: Decimal,
    /// Fee charged.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub fee: Decimal,
    /// PnL realized by the fill (before fees).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub realized_pnl: Decimal,
    /// Why.
    pub reason: FillReason,
}

/// One round trip: from flat to flat (a flip ends one trade and starts the next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    #[schema(value_type = String)]
    pub entry_price: Decimal,
    /// Size-weighted exit price.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub exit_price: Decimal,
    /// Largest size held.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub size: Decimal,
    /// Realized PnL less every fee of the trade.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub pnl: Decimal,
    /// Fees of the trade's fills.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub fees: Decimal,
    /// Price return in the trade's direction, percent, before fees.
    pub return_pct: f64,
    /// Why it ended.
    pub exit_reason: FillReason,
}

/// The account after one bar close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BacktestEquityPoint)]
pub struct EquityPoint {
    /// The close time, Unix seconds.
    pub time: i64,
    /// Cash plus unrealized PnL at the closes.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub equity: Decimal,
    /// The ledger's cash balance.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub cash: Decimal,
    /// Whether any position was open.
    pub exposed: bool,
}

/// Everything a backtest produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// The JSON part of the result hash, as serde prints it: what [`hashed_json`] writes.
#[cfg(test)]
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
/// The JSON is the bytes `serde_json` prints for `{"metrics", "trades", "fills"}`;
/// [`hashed_json`] writes them directly (a test holds the two equal) and they are hashed as they are written, and the curve
/// is fed in blocks of points: the same bytes in the same order as hashing one JSON buffer and
/// then one point at a time, for a fraction of the cost.
pub(crate) fn result_hash(
    metrics: &Metrics,
    trades: &[Trade],
    fills: &[FillRecord],
    equity: &[EquityPoint],
) -> String {
    let mut hasher = Sha256::new();
    hashed_json(metrics, trades, fills, &mut |bytes| hasher.update(bytes));
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
/// Bytes of JSON handed on per call.
const JSON_BLOCK: usize = 8 * 1024;

/// Writes the compact JSON of `{"metrics", "trades", "fills"}` to `sink` in pieces of about [`JSON_BLOCK`] bytes:
/// exactly what `serde_json::to_vec` prints. The metrics (one object) go through serde; trades
/// and fills, which are many, are printed here field by field in the types' order and naming,
/// decimals as `rust_decimal` prints them, and everything that could need escaping or float
/// formatting (asset names, enums, `returnPct`) again through serde.
fn hashed_json(
    metrics: &Metrics,
    trades: &[Trade],
    fills: &[FillRecord],
    sink: &mut dyn FnMut(&[u8]),
) {
    let mut out: Vec<u8> = Vec::with_capacity(JSON_BLOCK + 1024);
    let flush = |out: &mut Vec<u8>, sink: &mut dyn FnMut(&[u8]), force: bool| {
        if force || out.len() >= JSON_BLOCK {
            sink(out);
            out.clear();
        }
    };
    out.extend_from_slice(b"{\"metrics\":");
    serde_into(&mut out, metrics);
    out.extend_from_slice(b",\"trades\":[");
    for (index, trade) in trades.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"asset\":");
        serde_into(&mut out, &trade.asset);
        out.extend_from_slice(b",\"direction\":");
        serde_into(&mut out, &trade.direction);
        out.extend_from_slice(b",\"entryTime\":");
        integer_into(&mut out, trade.entry_time);
        out.extend_from_slice(b",\"exitTime\":");
        integer_into(&mut out, trade.exit_time);
        out.extend_from_slice(b",\"entryPrice\":");
        decimal_into(&mut out, trade.entry_price);
        out.extend_from_slice(b",\"exitPrice\":");
        decimal_into(&mut out, trade.exit_price);
        out.extend_from_slice(b",\"size\":");
        decimal_into(&mut out, trade.size);
        out.extend_from_slice(b",\"pnl\":");
        decimal_into(&mut out, trade.pnl);
        out.extend_from_slice(b",\"fees\":");
        decimal_into(&mut out, trade.fees);
        out.extend_from_slice(b",\"returnPct\":");
        serde_into(&mut out, &trade.return_pct);
        out.extend_from_slice(b",\"exitReason\":");
        serde_into(&mut out, &trade.exit_reason);
        out.push(b'}');
        flush(&mut out, sink, false);
    }
    out.extend_from_slice(b"],\"fills\":[");
    for (index, fill) in fills.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"time\":");
        integer_into(&mut out, fill.time);
        out.extend_from_slice(b",\"asset\":");
        serde_into(&mut out, &fill.asset);
        out.extend_from_slice(b",\"side\":");
        serde_into(&mut out, &fill.side);
        out.extend_from_slice(b",\"price\":");
        decimal_into(&mut out, fill.price);
        out.extend_from_slice(b",\"size\":");
        decimal_into(&mut out, fill.size);
        out.extend_from_slice(b",\"fee\":");
        decimal_into(&mut out, fill.fee);
        out.extend_from_slice(b",\"realizedPnl\":");
        decimal_into(&mut out, fill.realized_pnl);
        out.extend_from_slice(b",\"reason\":");
        serde_into(&mut out, &fill.reason);
        out.push(b'}');
        flush(&mut out, sink, false);
    }
    out.extend_from_slice(b"]}");
    flush(&mut out, sink, true);
}

/// Appends the compact JSON of `value`. Serializing these types into memory cannot fail.
fn serde_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Appends an integer as JSON prints it.
fn integer_into(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut magnitude = value.unsigned_abs();
    let mut length = 0;
    loop {
        digits[length] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        length += 1;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend(digits[..length].iter().rev());
}

/// Appends a decimal as the quoted string `rust_decimal::serde::str` prints: the mantissa's
/// digits with the point `scale` digits from the right (a `0` before a leading point, every
/// trailing zero kept), a `-` for a negative sign (negative zero too), and `0` for a zero of
/// scale zero.
fn decimal_into(out: &mut Vec<u8>, value: Decimal) {
    // A mantissa has at most 29 digits, and the scale at most 28.
    let mut digits = [b'0'; 32];
    let mut length = 0;
    let mantissa = value.mantissa().unsigned_abs();
    match u64::try_from(mantissa) {
        Ok(mut small) => {
            while small != 0 {
                digits[length] = b'0' + (small % 10) as u8;
                small /= 10;
                length += 1;
            }
        }
        Err(_) => {
            let mut large = mantissa;
            while large != 0 {
                digits[length] = b'0' + (large % 10) as u8;
                large /= 10;
                length += 1;
            }
        }
    }
    let scale = value.scale() as usize;
    // Zeros below the point up to the scale (the array is filled with them).
    length = length.max(scale);
    out.push(b'"');
    if value.is_sign_negative() {
        out.push(b'-');
    }
    if length == 0 {
        out.push(b'0');
    }
    let whole = length - scale;
    for position in 0..length {
        if position == whole {
            if position == 0 {
                out.push(b'0');
            }
            out.push(b'.');
        }
        out.push(digits[length - 1 - position]);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use clones_market::Side;
    use rust_decimal::Decimal;

    use super::*;
    use crate::metrics::Metrics;

    fn metrics() -> Metrics {
        serde_json::from_value(serde_json::json!({
            "start": 0, "end": 60, "durationSecs": 60, "exposureTimePct": 12.5,
            "finalEquity": "10001.5", "peakEquity": "10002", "totalReturnPct": 0.015,
            "buyAndHoldReturnPct": -1.25, "cagrPct": 1e300, "volatilityAnnPct": 0.1,
            "sharpe": 1.0, "sortino": -0.0, "calmar": 0.0, "maxDrawdownPct": 3.0,
            "avgDrawdownPct": 1.0, "maxDrawdownDurationSecs": 5, "trades": 2,
            "winRatePct": 50.0, "bestTradePct": 1.0, "worstTradePct": -1.0,
            "avgTradePct": 0.0, "avgTradeDurationSecs": 3, "maxTradeDurationSecs": 4,
            "profitFactor": null, "expectancy": "-0.5", "sqn": 0.3, "feesPaid": "1.25"
        }))
        .unwrap()
    }

    fn decimals() -> Vec<Decimal> {
        let mut values = vec![
            Decimal::ZERO,
            Decimal::ONE,
            Decimal::NEGATIVE_ONE,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(-0, 0),
            Decimal::new(-0, 4),
            Decimal::new(0, 10),
            Decimal::new(5, 1),
            Decimal::new(-5, 3),
            Decimal::new(1, 28),
            Decimal::new(-1, 28),
            Decimal::new(123_456_789, 4),
            Decimal::from_i128_with_scale(79_228_162_514_264_337_593_543_950_335, 0),
            Decimal::from_i128_with_scale(-79_228_162_514_264_337_593_543_950_335, 28),
            Decimal::from_i128_with_scale(18_446_744_073_709_551_616, 10),
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for scale in 0..=28 {
            for _ in 0..50 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let wide = i128::from(state).wrapping_mul(i128::from(state >> (state % 64)));
                values.push(Decimal::from_i128_with_scale(
                    wide % 79_228_162_514_264_337_593_543_950_335,
                    scale,
                ));
                values.push(Decimal::new(
                    i64::try_from(state >> 40).unwrap() - 8_000_000,
                    scale,
                ));
            }
        }
        values
    }

    #[test]
    fn decimals_print_as_rust_decimal_serializes_them() {
        for value in decimals() {
            let mut ours = Vec::new();
            decimal_into(&mut ours, value);
            let theirs = serde_json::to_vec(&FillRecordDecimal(value)).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "{value:?}"
            );
        }
    }

    #[derive(Serialize)]
    struct FillRecordDecimal(#[serde(with = "rust_decimal::serde::str")] Decimal);

    #[test]
    fn hashed_json_is_what_serde_json_prints() {
        let reasons = [
            FillReason::Signal,
            FillReason::StopLoss,
            FillReason::TakeProfit,
            FillReason::End,
        ];
        let assets = ["BTC", "IBM", "a\"b\\c\u{1}é"];
        let returns = [
            0.0,
            -0.0,
            1.5,
            -2.25e-7,
            1e21,
            f64::NAN,
            f64::INFINITY,
            0.1 + 0.2,
        ];
        let decimals = decimals();
        let pick = |index: usize| decimals[index % decimals.len()];
        let mut trades = Vec::new();
        let mut fills = Vec::new();
        for index in 0..400 {
            let time = i64::try_from(index).unwrap() * 7_919 - 1_000_000;
            trades.push(Trade {
                asset: assets[index % assets.len()].to_string(),
                direction: if index % 2 == 0 {
                    Direction::Long
                } else {
                    Direction::Short
                },
                entry_time: time,
                exit_time: if index == 3 {
                    i64::MIN
                } else {
                    i64::MAX - time.abs()
                },
                entry_price: pick(index),
                exit_price: pick(index + 1),
                size: pick(index + 2),
                pnl: pick(index + 3),
                fees: pick(index + 4),
                return_pct: returns[index % returns.len()],
                exit_reason: reasons[index % reasons.len()],
            });
            fills.push(FillRecord {
                time: if index == 5 { i64::MIN } else { time },
                asset: assets[(index + 1) % assets.len()].to_string(),
                side: if index % 3 == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                },
                price: pick(index + 5),
                size: pick(index + 6),
                fee: pick(index + 7),
                realized_pnl: pick(index + 8),
                reason: reasons[(index + 1) % reasons.len()],
            });
        }
        let metrics = metrics();
        for (trades, fills) in [
            (&trades[..], &fills[..]),
            (&trades[..1], &fills[..0]),
            (&trades[..0], &fills[..1]),
            (&trades[..0], &fills[..0]),
        ] {
            let mut ours = Vec::new();
            hashed_json(&metrics, trades, fills, &mut |bytes| {
                ours.extend_from_slice(bytes);
            });
            let theirs = serde_json::to_vec(&Hashed {
                metrics: &metrics,
                trades,
                fills,
            })
            .unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }
}
