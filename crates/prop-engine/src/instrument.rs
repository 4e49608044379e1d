//! Instrument keys (`venue:kind:symbol`) and instrument kinds.
//!
//! This module only parses and names instruments; whether an instrument exists and is active is
//! the market feed's answer ([`crate::MarketFeed::instrument`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What sort of market an instrument trades in; it decides fees, funding, shorting and
/// settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    /// A perpetual future: long or short, pays or receives funding.
    Perp,
    /// A spot pair: long only.
    Spot,
    /// A prediction-market outcome share priced 0..1, settled to 1 or 0: long only.
    Outcome,
}

impl InstrumentKind {
    /// The kind's name in instrument keys and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentKind::Perp => "perp",
            InstrumentKind::Spot => "spot",
            InstrumentKind::Outcome => "outcome",
        }
    }

    /// Whether a position in this kind may be negative.
    pub fn allows_short(self) -> bool {
        matches!(self, InstrumentKind::Perp)
    }
}

impl FromStr for InstrumentKind {
    type Err = InvalidInstrument;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "perp" => Ok(InstrumentKind::Perp),
            "spot" => Ok(InstrumentKind::Spot),
            "outcome" => Ok(InstrumentKind::Outcome),
            _ => Err(InvalidInstrument(format!(
                "unknown instrument kind `{value}`"
            ))),
        }
    }
}

impl fmt::Display for InstrumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A malformed instrument key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid instrument: {0}")]
pub struct InvalidInstrument(pub String);

/// A parsed instrument key such as `hyperliquid:perp:BTC` or `polymarket:outcome:1234`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrumentKey {
    venue: String,
    kind: InstrumentKind,
    symbol: String,
}

/// The longest instrument key accepted.
pub const MAX_INSTRUMENT_KEY_LEN: usize = 160;

impl InstrumentKey {
    /// Parses `venue:kind:symbol`. The venue is lower-case ASCII letters, digits, `_` or `-`;
    /// the symbol is 1..=128 printable ASCII characters without whitespace (it may contain `:`
    /// or `/`, as in `PURR/USDC`).
    ///
    /// # Errors
    /// [`InvalidInstrument`] naming what is wrong.
    pub fn parse(key: &str) -> Result<Self, InvalidInstrument> {
        if key.len() > MAX_INSTRUMENT_KEY_LEN {
            return Err(InvalidInstrument("key is too long".into()));
        }
        let mut parts = key.splitn(3, ':');
        let (Some(venue), Some(kind), Some(symbol)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidInstrument(format!(
                "`{key}` is not of the form venue:kind:symbol"
            )));
        };
        let venue_ok = !venue.is_empty()
            && venue.len() <= 32
            && venue
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !venue_ok {
            return Err(InvalidInstrument(format!("bad venue `{venue}`")));
        }
        let kind = kind.parse()?;
        let symbol_ok = !symbol.is_empty()
            && symbol.len() <= 128
            && symbol.bytes().all(|b| b.is_ascii_graphic());
        if !symbol_ok {
            return Err(InvalidInstrument(format!("bad symbol `{symbol}`")));
        }
        Ok(Self {
            venue: venue.to_string(),
            kind,
            symbol: symbol.to_string(),
        })
    }

    /// The venue, e.g. `hyperliquid`.
    pub fn venue(&self) -> &str {
        &self.venue
    }

    /// The kind.
    pub fn kind(&self) -> InstrumentKind {
        self.kind
    }

    /// The venue's symbol, e.g. `BTC` or `PURR/USDC`.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }
}

impl FromStr for InstrumentKey {
    type Err = InvalidInstrument;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for InstrumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.venue, self.kind, self.symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shapes() {
        for key in [
            "hyperliquid:perp:BTC",
            "hyperliquid:spot:PURR/USDC",
            "polymarket:outcome:71321045679252212594626385532706912750332728571942532289631379312455583992563",
            "replay:perp:BTC",
        ] {
            let parsed = InstrumentKey::parse(key).unwrap();
            assert_eq!(parsed.to_string(), key);
        }
        assert_eq!(
            InstrumentKey::parse("hyperliquid:spot:PURR/USDC")
                .unwrap()
                .kind(),
            InstrumentKind::Spot
        );
    }

    #[test]
    fn rejects_malformed_keys() {
        for key in [
            "",
            "BTC",
            "hyperliquid:perp",
            "hyperliquid:future:BTC",
            "Hyper:perp:BTC",
            "hl:perp:",
            "hl:perp:B TC",
        ] {
            assert!(InstrumentKey::parse(key).is_err(), "{key}");
        }
    }
}
