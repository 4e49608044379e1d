//! The context packet: what a model is told about one decision (clone, time, strategy version,
//! account, per asset its mid and position, recent candles, data shortfalls).
//!
//! Its JSON is a contract: it is stored verbatim in `decision_artifacts`, hashed by the rule
//! model and sent to language models, so field names, decimal formats (normalized strings) and
//! the bar layout must not change. It only describes the shape; the service fills it.

use chrono::{DateTime, Utc};
use clones_market::Timeframe;
use clones_strategy::{Bar, DataShortfall};
use rust_decimal::Decimal;
use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

/// Everything a model is told about one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextPacket {
    /// The clone deciding.
    pub clone_id: Uuid,
    /// The decision time.
    pub at: DateTime<Utc>,
    /// The clone's model.
    pub model: String,
    /// The active strategy version.
    pub strategy: PacketStrategy,
    /// The account the decision is sized on.
    pub account: PacketAccount,
    /// Every asset the plan references.
    pub assets: Vec<PacketAsset>,
    /// The most recent candles of every series the plan reads.
    pub series: Vec<PacketSeries>,
    /// Series with fewer items than the plan needs.
    pub shortfalls: Vec<DataShortfall>,
}

impl ContextPacket {
    /// The packet as a JSON value, the form stored and hashed (keys in sorted order).
    pub fn to_value(&self) -> Value {
        // Serializing plain structs with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The strategy version decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketStrategy {
    /// Version number.
    pub version: i32,
    /// Fingerprint of the version's graph.
    pub fingerprint: String,
}

/// Account state at decision time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PacketAccount {
    /// The prop account, or `None` for a dry run without one.
    pub id: Option<Uuid>,
    /// Equity the decision is sized on.
    #[serde(serialize_with = "normalized")]
    pub equity: Decimal,
    /// Where the equity comes from: `snapshot`, `cash` or `nominal`.
    pub equity_source: &'static str,
}

/// One asset the plan references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PacketAsset {
    /// The strategy's asset name.
    pub asset: String,
    /// The instrument it is traded as.
    pub instrument: String,
    /// Latest mid in market memory.
    #[serde(serialize_with = "normalized_opt")]
    pub mid: Option<Decimal>,
    /// When that mid was observed.
    pub mid_at: Option<DateTime<Utc>>,
    /// The account's position in the instrument, when it holds one.
    #[serde(serialize_with = "normalized_opt")]
    pub position: Option<Decimal>,
}

/// The most recent candles of one series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketSeries {
    /// The strategy's asset name.
    pub asset: String,
    /// The candle interval.
    pub timeframe: Timeframe,
    /// Oldest first.
    pub bars: Vec<PacketBar>,
}

/// One candle, written as `[open time (Unix seconds), open, high, low, close, volume]` with
/// decimals as normalized strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketBar(pub Bar);

impl Serialize for PacketBar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bar = &self.0;
        let mut tuple = serializer.serialize_tuple(6)?;
        tuple.serialize_element(&bar.time)?;
        for value in [bar.open, bar.high, bar.low, bar.close, bar.volume] {
            tuple.serialize_element(&value.normalize().to_string())?;
        }
        tuple.end()
    }
}

fn normalized<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.normalize())
}

fn normalized_opt<S: Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => normalized(value, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use clones_strategy::{CandleKey, SeriesKey};
    use serde_json::json;

    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn a_packet_serializes_to_its_documented_json() {
        let at = DateTime::<Utc>::from_str("2026-11-22T12:00:30Z").unwrap();
        let clone_id = Uuid::from_u128(1);
        let account_id = Uuid::from_u128(2);
        let packet = ContextPacket {
            clone_id,
            at,
            model: "rule".into(),
            strategy: PacketStrategy {
                version: 3,
                fingerprint: "ab".into(),
            },
            account: PacketAccount {
                id: Some(account_id),
                equity: d("1000.500"),
                equity_source: "snapshot",
            },
            assets: vec![
                PacketAsset {
                    asset: "BTC".into(),
                    instrument: "replay:perp:BTC".into(),
                    mid: Some(d("500.10")),
                    mid_at: Some(at),
                    position: Some(d("-2.50")),
                },
                PacketAsset {
                    asset: "ETH".into(),
                    instrument: "replay:perp:ETH".into(),
                    mid: None,
                    mid_at: None,
                    position: None,
                },
            ],
            series: vec![PacketSeries {
                asset: "BTC".into(),
                timeframe: Timeframe::H1,
                bars: vec![PacketBar(Bar {
                    time: 1_795_345_200,
                    open: d("1.0"),
                    high: d("2.00"),
                    low: d("0.5"),
                    close: d("1.5"),
                    volume: d("10"),
                })],
            }],
            shortfalls: vec![DataShortfall {
                series: SeriesKey::Candles(CandleKey {
                    asset: "ETH".into(),
                    timeframe: Timeframe::H4,
                }),
                needed: 26,
                available: 3,
            }],
        };
        let expected = json!({
            "cloneId": clone_id,
            "at": "2026-11-22T12:00:30Z",
            "model": "rule",
            "strategy": {"version": 3, "fingerprint": "ab"},
            "account": {"id": account_id, "equity": "1000.5", "equitySource": "snapshot"},
            "assets": [
                {
                    "asset": "BTC",
                    "instrument": "replay:perp:BTC",
                    "mid": "500.1",
                    "midAt": "2026-11-22T12:00:30Z",
                    "position": "-2.5",
                },
                {
                    "asset": "ETH",
                    "instrument": "replay:perp:ETH",
                    "mid": null,
                    "midAt": null,
                    "position": null,
                },
            ],
            "series": [{
                "asset": "BTC",
                "timeframe": "1h",
                "bars": [[1_795_345_200i64, "1", "2", "0.5", "1.5", "10"]],
            }],
            "shortfalls": [{
                "series": {"type": "candles", "asset": "ETH", "timeframe": "4h"},
                "needed": 26,
                "available": 3,
            }],
        });
        assert_eq!(packet.to_value(), expected);
    }
}
