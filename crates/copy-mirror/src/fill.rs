//! A target wallet's trade as the Data API reports it (`GET /trades?user=`), and the
//! normalised fill the pipeline works on. Normalising decides nothing and writes nothing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `BUY` or `SELL`, as the Data API and the CLOB spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradeSide {
    /// Bought outcome shares.
    Buy,
    /// Sold outcome shares.
    Sell,
}

impl TradeSide {
    /// The venue's spelling, as it appears in a fill id.
    pub fn as_str(self) -> &'static str {
        match self {
            TradeSide::Buy => "BUY",
            TradeSide::Sell => "SELL",
        }
    }

    /// The market vocabulary's side.
    pub fn side(self) -> clones_market::Side {
        match self {
            TradeSide::Buy => clones_market::Side::Buy,
            TradeSide::Sell => clones_market::Side::Sell,
        }
    }
}

/// One item of the Data API's `GET /trades` answer (the fields the mirror reads; numbers may
/// arrive as JSON numbers or strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataApiTrade {
    /// The trading wallet (the target's proxy wallet).
    pub proxy_wallet: String,
    /// Buy or sell.
    pub side: TradeSide,
    /// The outcome token id (a decimal string).
    pub asset: String,
    /// The market's condition id (`0x` + 64 hex).
    pub condition_id: String,
    /// Shares traded.
    pub size: Decimal,
    /// Price per share, 0..1.
    pub price: Decimal,
    /// When it traded, Unix seconds.
    pub timestamp: i64,
    /// The settling transaction.
    pub transaction_hash: String,
    /// The outcome's name (`Yes`), when given.
    #[serde(default)]
    pub outcome: Option<String>,
}

/// A target's fill, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedFill {
    /// `data-api:<tx>:<asset>:<side>:<ts>`: frozen; the idempotency key is built from it.
    pub fill_id: String,
    /// The target wallet, lower-case `0x` hex.
    pub wallet: String,
    /// The outcome token id.
    pub asset: String,
    /// The market's condition id.
    pub condition_id: String,
    /// Buy or sell.
    pub side: TradeSide,
    /// Shares.
    pub size: Decimal,
    /// Price per share.
    pub price: Decimal,
    /// When it traded, Unix seconds.
    pub timestamp: i64,
}

impl ObservedFill {
    /// Shares × price, in USDC.
    pub fn notional(&self) -> Decimal {
        self.size * self.price
    }
}

/// Why a trade cannot be mirrored at all (it is recorded and skipped, never retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// A field the id or the order needs is malformed.
    #[error("malformed trade: {0}")]
    Malformed(&'static str),
}

fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == 2 + digits
        && text.starts_with("0x")
        && text[2..].bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Normalises a Data API trade. The wallet and transaction are lower-cased so two spellings of
/// one trade give one fill id.
///
/// # Errors
/// [`FillError::Malformed`] for a wallet, transaction, token or condition id of the wrong
/// shape, a non-positive size, a price outside (0, 1), or a negative timestamp.
pub fn normalise(trade: &DataApiTrade) -> Result<ObservedFill, FillError> {
    let wallet = trade.proxy_wallet.to_ascii_lowercase();
    if !is_hex(&wallet, 40) {
        return Err(FillError::Malformed("proxyWallet"));
    }
    let tx = trade.transaction_hash.to_ascii_lowercase();
    if !is_hex(&tx, 64) {
        return Err(FillError::Malformed("transactionHash"));
    }
    if trade.asset.is_empty()
        || trade.asset.len() > 78
        || !trade.asset.bytes().all(|byte| byte.is_ascii_digit())
    {
        return Err(FillError::Malformed("asset"));
    }
    if !is_hex(&trade.condition_id.to_ascii_lowercase(), 64) {
        return Err(FillError::Malformed("conditionId"));
    }
    if trade.size <= Decimal::ZERO {
        return Err(FillError::Malformed("size"));
    }
    if trade.price <= Decimal::ZERO || trade.price >= Decimal::ONE {
        return Err(FillError::Malformed("price"));
    }
    if trade.timestamp < 0 {
        return Err(FillError::Malformed("timestamp"));
    }
    Ok(ObservedFill {
        fill_id: format!(
            "data-api:{tx}:{}:{}:{}",
            trade.asset,
            trade.side.as_str(),
            trade.timestamp
        ),
        wallet,
        asset: trade.asset.clone(),
        condition_id: trade.condition_id.to_ascii_lowercase(),
        side: trade.side,
        size: trade.size,
        price: trade.price,
        timestamp: trade.timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `/trades` item in the Data API's shape (numbers as JSON numbers).
    pub(crate) const TRADE: &str = r#"{
        "proxyWallet": "0x56687BF447DB6FFA42FFE2204A05EDAA20F55839",
        "side": "BUY",
        "asset": "71321045679252212594626385532706912750332728571942532289631379312455583992563",
        "conditionId": "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917",
        "size": 10.5,
        "price": 0.52,
        "timestamp": 1764979200,
        "title": "Will it rain?",
        "slug": "will-it-rain",
        "eventSlug": "rain",
        "outcome": "Yes",
        "outcomeIndex": 0,
        "transactionHash": "0xABCDEF0000000000000000000000000000000000000000000000000000000001"
    }"#;

    #[test]
    fn a_trade_normalises_to_the_frozen_fill_id() {
        let trade: DataApiTrade = serde_json::from_str(TRADE).unwrap();
        let fill = normalise(&trade).unwrap();
        assert_eq!(
            fill.fill_id,
            "data-api:0xabcdef0000000000000000000000000000000000000000000000000000000001:\
             71321045679252212594626385532706912750332728571942532289631379312455583992563:BUY:1764979200"
        );
        assert_eq!(fill.wallet, "0x56687bf447db6ffa42ffe2204a05edaa20f55839");
        assert_eq!(fill.size, Decimal::new(105, 1));
        assert_eq!(fill.notional(), Decimal::new(546, 2));
    }

    #[test]
    fn malformed_trades_are_refused_by_field() {
        let trade: DataApiTrade = serde_json::from_str(TRADE).unwrap();
        let cases: [(&str, DataApiTrade); 4] = [
            (
                "proxyWallet",
                DataApiTrade {
                    proxy_wallet: "0x12".into(),
                    ..trade.clone()
                },
            ),
            (
                "asset",
                DataApiTrade {
                    asset: "12a".into(),
                    ..trade.clone()
                },
            ),
            (
                "price",
                DataApiTrade {
                    price: Decimal::ONE,
                    ..trade.clone()
                },
            ),
            (
                "size",
                DataApiTrade {
                    size: Decimal::ZERO,
                    ..trade.clone()
                },
            ),
        ];
        for (field, bad) in cases {
            assert_eq!(normalise(&bad), Err(FillError::Malformed(field)));
        }
    }
}
