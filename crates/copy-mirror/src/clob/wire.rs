//! What the CLOB's REST endpoints answer and the filters its lists take: plain data, read
//! by [`ClobClient`](super::ClobClient) and by the executor that syncs orders.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::fill::TradeSide;

/// The cursor the venue answers after a list's last page.
pub const END_CURSOR: &str = "LTE=";

/// The answer to `POST /order` the venue accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlacement {
    /// Always true here (a false is [`ClobError::Rejected`](super::ClobError::Rejected)).
    pub success: bool,
    /// Empty on success.
    #[serde(default)]
    pub error_msg: String,
    /// The order id (`0x` + 64 hex).
    #[serde(default, rename = "orderID")]
    pub order_id: String,
    /// `live`, `matched`, `delayed` or `unmatched`.
    #[serde(default)]
    pub status: String,
    /// What the order gave so far (may be empty).
    #[serde(default)]
    pub making_amount: String,
    /// What the order received so far (may be empty).
    #[serde(default)]
    pub taking_amount: String,
    /// The settling transactions of immediate matches.
    #[serde(default)]
    pub transactions_hashes: Vec<String>,
}

/// An order as `GET /data/order/{id}` and `GET /data/orders` report it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenOrder {
    /// The order id.
    pub id: String,
    /// `LIVE`, `MATCHED`, `CANCELED`, …
    pub status: String,
    /// The API key that placed it.
    #[serde(default)]
    pub owner: String,
    /// The funding address.
    #[serde(default)]
    pub maker_address: String,
    /// The condition id.
    #[serde(default)]
    pub market: String,
    /// The outcome token id.
    pub asset_id: String,
    /// Buy or sell.
    pub side: TradeSide,
    /// Shares asked.
    pub original_size: Decimal,
    /// Shares filled.
    pub size_matched: Decimal,
    /// The limit price.
    pub price: Decimal,
    /// Trades that filled it.
    #[serde(default)]
    pub associate_trades: Vec<String>,
    /// The outcome's name.
    #[serde(default)]
    pub outcome: String,
    /// Unix seconds.
    #[serde(default)]
    pub created_at: i64,
    /// Unix seconds, `0` when it does not expire.
    #[serde(default)]
    pub expiration: String,
    /// GTC, GTD, FOK or FAK.
    #[serde(default)]
    pub order_type: String,
}

/// A trade of the account as `GET /data/trades` reports it (the fields the mirror reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClobTrade {
    /// The trade id.
    pub id: String,
    /// The taker order.
    #[serde(default)]
    pub taker_order_id: String,
    /// The condition id.
    #[serde(default)]
    pub market: String,
    /// The outcome token id.
    #[serde(default)]
    pub asset_id: String,
    /// The taker's side.
    pub side: TradeSide,
    /// Shares.
    pub size: Decimal,
    /// Price per share.
    pub price: Decimal,
    /// `MATCHED`, `MINED`, `CONFIRMED`, `RETRYING` or `FAILED`.
    #[serde(default)]
    pub status: String,
    /// Unix seconds, as text.
    #[serde(default)]
    pub match_time: String,
    /// The settling transaction.
    #[serde(default)]
    pub transaction_hash: String,
    /// `TAKER` or `MAKER`: which side of it the account was.
    #[serde(default)]
    pub trader_side: String,
}

/// One page of a CLOB list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClobPage<T> {
    /// The items.
    pub data: Vec<T>,
    /// The cursor of the next page, [`END_CURSOR`] after the last.
    pub next_cursor: String,
    /// The page size the venue used.
    #[serde(default)]
    pub limit: u64,
    /// Items on this page.
    #[serde(default)]
    pub count: u64,
}

impl<T> ClobPage<T> {
    /// The next page's cursor, or `None` after the last page.
    pub fn next(&self) -> Option<&str> {
        (!self.next_cursor.is_empty() && self.next_cursor != END_CURSOR)
            .then_some(self.next_cursor.as_str())
    }
}

/// Filters of `GET /data/orders` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// One order id.
    pub id: Option<String>,
    /// A condition id.
    pub market: Option<String>,
    /// An outcome token id.
    pub asset_id: Option<String>,
}

/// Filters of `GET /data/trades` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeFilter {
    /// One trade id.
    pub id: Option<String>,
    /// Trades where this address took.
    pub taker: Option<String>,
    /// Trades where this address made.
    pub maker: Option<String>,
    /// A condition id.
    pub market: Option<String>,
    /// An outcome token id.
    pub asset_id: Option<String>,
    /// Unix seconds, exclusive upper bound.
    pub before: Option<i64>,
    /// Unix seconds, exclusive lower bound.
    pub after: Option<i64>,
}

/// The answer to a cancel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CancelOutcome {
    /// Orders cancelled.
    #[serde(default)]
    pub canceled: Vec<String>,
    /// Orders not cancelled, with the venue's reason.
    #[serde(default)]
    pub not_canceled: BTreeMap<String, String>,
}

/// What an order on one token must respect, as the venue states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueMarket {
    /// The price tick.
    pub tick_size: Decimal,
    /// The smallest order, in shares.
    pub min_order_size: Decimal,
    /// Whether orders are signed for the NegRisk exchange.
    pub neg_risk: bool,
}

/// The fields of `GET /book` that carry a token's rules (numbers as strings or numbers).
#[derive(Debug, Clone, Deserialize)]
pub struct BookRules {
    /// The price tick.
    pub tick_size: Decimal,
    /// The smallest order, in shares.
    #[serde(default)]
    pub min_order_size: Option<Decimal>,
    /// Whether the market is NegRisk.
    #[serde(default)]
    pub neg_risk: bool,
}

impl From<BookRules> for VenueMarket {
    fn from(book: BookRules) -> Self {
        Self {
            tick_size: book.tick_size,
            min_order_size: book.min_order_size.unwrap_or(Decimal::ZERO),
            neg_risk: book.neg_risk,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_page_has_no_next_cursor() {
        let page = |cursor: &str| ClobPage::<u8> {
            data: vec![],
            next_cursor: cursor.into(),
            limit: 0,
            count: 0,
        };
        assert_eq!(page("MQ==").next(), Some("MQ=="));
        assert_eq!(page(END_CURSOR).next(), None);
        assert_eq!(page("").next(), None);
    }
}
