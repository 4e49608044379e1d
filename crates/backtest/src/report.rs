//! What a backtest produces: its fills, round-trip trades, equity curve, metrics and the hash
//! that pins them. Plain serializable values; money is `Decimal`, ratios `f64`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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
    /// The result hash, version 2: `v2:` and the BLAKE3 (hex) of the metrics, trades, fills
    /// and curve (see the module page).
    pub result_hash: String,
}

/// The version marker the result hash starts with: `v2:` and 64 hex digits. Version 1
/// hashes (SHA-256 of the JSON of metrics, trades and fills and 41 bytes per curve point,
/// stored before this definition) are 64 hex digits without a marker, so the two never
/// compare equal by accident.
pub const RESULT_HASH_VERSION: &str = "v2:";

/// The hash of a result, version 2 (the module page's "Determinism" section): BLAKE3 over
///
/// 1. the metrics' JSON (`serde_json`, field order fixed by the type, floats printed
///    shortest-round-trip), after its length;
/// 2. the number of trades, then each trade in binary ([`hash_trade`]);
/// 3. the number of fills, then each fill in binary ([`hash_fill`]);
/// 4. every curve point in binary ([`hash_curve`]).
///
/// Lengths and counts are 8 bytes big-endian, times 8 bytes big-endian, decimals their 16
/// bytes of `Decimal::serialize` (mantissa, scale and sign), floats their 8 bytes of
/// `f64::to_bits` big-endian, texts their length and UTF-8 bytes, enums one byte. Written as
/// [`RESULT_HASH_VERSION`] and the digest in hex.
///
/// Binary rather than printed: printing thousands of trades and fills and a point per bar
/// as text costs more than hashing them. BLAKE3 rather than SHA-256: on the vector units of
/// an ordinary x86 core it hashes several 1 KiB chunks at once, several times SHA-256's speed
/// on the CPU's hash instructions; the curve is fed in blocks of [`CURVE_BLOCK`] bytes so the
/// hasher sees many whole chunks per call.
pub(crate) fn result_hash(
    metrics: &Metrics,
    trades: &[Trade],
    fills: &[FillRecord],
    equity: &[EquityPoint],
) -> String {
    let mut hasher = blake3::Hasher::new();
    // Serializing a struct of numbers and strings into memory cannot fail.
    let metrics = serde_json::to_vec(metrics).unwrap_or_default();
    let mut out: Vec<u8> = Vec::with_capacity(metrics.len() + 16 + RECORD_BYTES * 2);
    length_into(&mut out, metrics.len());
    out.extend_from_slice(&metrics);
    length_into(&mut out, trades.len());
    for trade in trades {
        hash_trade(&mut out, trade);
        flush(&mut out, &mut hasher);
    }
    length_into(&mut out, fills.len());
    for fill in fills {
        hash_fill(&mut out, fill);
        flush(&mut out, &mut hasher);
    }
    hasher.update(&out);
    hash_curve(equity, &mut |bytes| {
        hasher.update(bytes);
    });
    let mut text = String::with_capacity(RESULT_HASH_VERSION.len() + 64);
    text.push_str(RESULT_HASH_VERSION);
    text.push_str(&clones_strategy::to_hex(hasher.finalize().as_bytes()));
    text
}

/// Hands `out` to the hasher once it holds a block of records.
fn flush(out: &mut Vec<u8>, hasher: &mut blake3::Hasher) {
    if out.len() >= RECORD_BLOCK {
        hasher.update(out);
        out.clear();
    }
}

fn length_into(out: &mut Vec<u8>, length: usize) {
    out.extend_from_slice(&(length as u64).to_be_bytes());
}

fn text_into(out: &mut Vec<u8>, text: &str) {
    length_into(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn reason_byte(reason: FillReason) -> u8 {
    match reason {
        FillReason::Signal => 0,
        FillReason::StopLoss => 1,
        FillReason::TakeProfit => 2,
        FillReason::End => 3,
    }
}

/// A trade's hashed bytes: asset, direction (0 long, 1 short), entry and exit time, entry
/// and exit price, size, PnL, fees, return and exit reason (0 signal, 1 stop-loss, 2
/// take-profit, 3 end), in the type's field order.
fn hash_trade(out: &mut Vec<u8>, trade: &Trade) {
    text_into(out, &trade.asset);
    out.push(match trade.direction {
        Direction::Long => 0,
        Direction::Short => 1,
    });
    out.extend_from_slice(&trade.entry_time.to_be_bytes());
    out.extend_from_slice(&trade.exit_time.to_be_bytes());
    for value in [
        trade.entry_price,
        trade.exit_price,
        trade.size,
        trade.pnl,
        trade.fees,
    ] {
        out.extend_from_slice(&value.serialize());
    }
    out.extend_from_slice(&trade.return_pct.to_bits().to_be_bytes());
    out.push(reason_byte(trade.exit_reason));
}

/// A fill's hashed bytes: time, asset, side (0 buy, 1 sell), price, size, fee, realized PnL
/// and reason (as a trade's), in the type's field order.
fn hash_fill(out: &mut Vec<u8>, fill: &FillRecord) {
    out.extend_from_slice(&fill.time.to_be_bytes());
    text_into(out, &fill.asset);
    out.push(match fill.side {
        clones_market::Side::Buy => 0,
        clones_market::Side::Sell => 1,
    });
    for value in [fill.price, fill.size, fill.fee, fill.realized_pnl] {
        out.extend_from_slice(&value.serialize());
    }
    out.push(reason_byte(fill.reason));
}

/// Writes the hashed bytes of the curve to `sink` in blocks of [`CURVE_BLOCK`] bytes, the
/// last one shorter: for each point its time (8 bytes, big-endian) and equity (16 bytes), a
/// byte of flags (bit 0: a position was open; bit 1: the cash follows), and the cash (16
/// bytes) when its bytes differ from the previous point's (always for the first point). Cash
/// moves only on fills, so most points take 25 bytes rather than 41, and the whole curve can
/// still be read back from the bytes.
fn hash_curve(equity: &[EquityPoint], sink: &mut dyn FnMut(&[u8])) {
    let mut block = vec![0u8; CURVE_BLOCK + POINT_BYTES];
    let mut at = 0;
    let mut cash_before: Option<[u8; 16]> = None;
    for point in equity {
        let Some(bytes) = block.get_mut(at..at + POINT_BYTES) else {
            break;
        };
        bytes[..8].copy_from_slice(&point.time.to_be_bytes());
        bytes[8..24].copy_from_slice(&point.equity.serialize());
        let cash = point.cash.serialize();
        let changed = cash_before != Some(cash);
        bytes[24] = u8::from(point.exposed) | (u8::from(changed) << 1);
        at += 25;
        if changed {
            bytes[25..].copy_from_slice(&cash);
            cash_before = Some(cash);
            at += 16;
        }
        if at >= CURVE_BLOCK {
            sink(&block[..CURVE_BLOCK]);
            block.copy_within(CURVE_BLOCK..at, 0);
            at -= CURVE_BLOCK;
        }
    }
    sink(&block[..at]);
}

/// The most bytes one curve point hashes to.
const POINT_BYTES: usize = 8 + 16 + 1 + 16;
/// Curve bytes handed to the hasher per call: 64 BLAKE3 chunks.
const CURVE_BLOCK: usize = 64 * 1024;
/// Trade and fill bytes gathered before they are handed to the hasher.
const RECORD_BLOCK: usize = 64 * 1024;
/// Room for one record beyond a block (an asset name is short).
const RECORD_BYTES: usize = 256;

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

    /// The curve's hashed bytes read back, point by point: they hold the whole curve.
    fn read_curve(bytes: &[u8]) -> Vec<EquityPoint> {
        let mut points = Vec::new();
        let mut rest = bytes;
        let mut cash = None;
        while !rest.is_empty() {
            let time = i64::from_be_bytes(rest[..8].try_into().unwrap());
            let equity = Decimal::deserialize(rest[8..24].try_into().unwrap());
            let flags = rest[24];
            rest = &rest[25..];
            if flags & 2 != 0 {
                cash = Some(Decimal::deserialize(rest[..16].try_into().unwrap()));
                rest = &rest[16..];
            }
            points.push(EquityPoint {
                time,
                equity,
                cash: cash.unwrap(),
                exposed: flags & 1 != 0,
            });
        }
        points
    }

    #[test]
    fn the_hashed_curve_holds_every_point_in_blocks() {
        let decimals = decimals();
        // Long enough for several blocks; cash repeats in runs, as between fills.
        let curve: Vec<EquityPoint> = (0..5_000)
            .map(|index: usize| EquityPoint {
                time: i64::try_from(index).unwrap() * 60 - 7,
                equity: decimals[index % decimals.len()],
                cash: decimals[(index / 7) % decimals.len()],
                exposed: index.is_multiple_of(3),
            })
            .collect();
        let mut calls = Vec::new();
        hash_curve(&curve, &mut |bytes| calls.push(bytes.to_vec()));
        let (last, whole) = calls.split_last().unwrap();
        assert!(whole.len() > 1);
        assert!(whole.iter().all(|block| block.len() == CURVE_BLOCK));
        assert!(last.len() < CURVE_BLOCK);
        let read = read_curve(&calls.concat());
        assert_eq!(read.len(), curve.len());
        for (read, point) in read.iter().zip(&curve) {
            assert_eq!(read.time, point.time);
            assert_eq!(read.equity.serialize(), point.equity.serialize());
            assert_eq!(read.cash.serialize(), point.cash.serialize());
            assert_eq!(read.exposed, point.exposed);
        }
        let hash = result_hash(&metrics(), &[], &[], &curve);
        assert_eq!(hash.len(), 67);
        assert!(hash.starts_with(RESULT_HASH_VERSION));
        assert!(hash[3..].bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!(hash, result_hash(&metrics(), &[], &[], &curve));
        assert_ne!(hash, result_hash(&metrics(), &[], &[], &curve[1..]));
    }

    #[test]
    fn every_field_of_trades_and_fills_moves_the_hash() {
        let trade = Trade {
            asset: "BTC".into(),
            direction: Direction::Long,
            entry_time: 60,
            exit_time: 120,
            entry_price: Decimal::new(1005, 1),
            exit_price: Decimal::new(101, 0),
            size: Decimal::new(2, 0),
            pnl: Decimal::new(9, 1),
            fees: Decimal::new(1, 1),
            return_pct: 0.5,
            exit_reason: FillReason::Signal,
        };
        let fill = FillRecord {
            time: 60,
            asset: "BTC".into(),
            side: Side::Buy,
            price: Decimal::new(1005, 1),
            size: Decimal::new(2, 0),
            fee: Decimal::new(5, 2),
            realized_pnl: Decimal::ZERO,
            reason: FillReason::Signal,
        };
        let hash = |trade: &Trade, fill: &FillRecord| {
            result_hash(
                &metrics(),
                std::slice::from_ref(trade),
                std::slice::from_ref(fill),
                &[],
            )
        };
        let base = hash(&trade, &fill);
        let trades: Vec<fn(&mut Trade)> = vec![
            |t| t.asset = "ETH".into(),
            |t| t.direction = Direction::Short,
            |t| t.entry_time += 1,
            |t| t.exit_time += 1,
            |t| t.entry_price = Decimal::new(10050, 2),
            |t| t.exit_price += Decimal::ONE,
            |t| t.size += Decimal::ONE,
            |t| t.pnl = -t.pnl,
            |t| t.fees += Decimal::ONE,
            |t| t.return_pct = -0.5,
            |t| t.exit_reason = FillReason::End,
        ];
        for change in &trades {
            let mut changed = trade.clone();
            change(&mut changed);
            assert_ne!(hash(&changed, &fill), base, "{changed:?}");
        }
        let fills: Vec<fn(&mut FillRecord)> = vec![
            |f| f.time += 1,
            |f| f.asset = "BTC ".into(),
            |f| f.side = Side::Sell,
            |f| f.price += Decimal::ONE,
            |f| f.size = Decimal::new(20, 1),
            |f| f.fee += Decimal::ONE,
            |f| f.realized_pnl = Decimal::new(-0, 3),
            |f| f.reason = FillReason::StopLoss,
        ];
        for change in &fills {
            let mut changed = fill.clone();
            change(&mut changed);
            assert_ne!(hash(&trade, &changed), base, "{changed:?}");
        }
        // A trade moved to the fills' side of the count changes the hash too.
        assert_ne!(
            result_hash(&metrics(), &[], std::slice::from_ref(&fill), &[]),
            result_hash(&metrics(), std::slice::from_ref(&trade), &[], &[])
        );
    }
}
