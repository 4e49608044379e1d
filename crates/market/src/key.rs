//! Instrument kinds and keys (`venue:kind:symbol`), and the `venue:kind` prefix that names a
//! family of keys. The grammar is in the crate documentation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 160;
/// The longest venue accepted, in bytes.
pub const MAX_VENUE_LEN: usize = 32;
/// The longest symbol accepted, in bytes.
pub const MAX_SYMBOL_LEN: usize = 128;

/// What an instrument is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum InstrumentKind {
    /// A perpetual future.
    Perp,
    /// A spot pair.
    Spot,
    /// A prediction-market outcome token (priced 0..1, pays 1 if it wins).
    Outcome,
}

impl InstrumentKind {
    /// Every kind.
    pub const ALL: [InstrumentKind; 3] = [
        InstrumentKind::Perp,
        InstrumentKind::Spot,
        InstrumentKind::Outcome,
    ];

    /// The kind's spelling in keys, JSON and database columns.
    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentKind::Perp => "perp",
            InstrumentKind::Spot => "spot",
            InstrumentKind::Outcome => "outcome",
        }
    }

    /// Whether a position in this kind may be negative: perps may be short, spot pairs and
    /// outcome tokens are long only.
    pub fn allows_short(self) -> bool {
        matches!(self, InstrumentKind::Perp)
    }
}

impl FromStr for InstrumentKind {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        InstrumentKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| ParseError::Kind(text.to_string()))
    }
}

impl fmt::Display for InstrumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn check_venue(venue: &str) -> Result<(), ParseError> {
    let ok = venue.len() <= MAX_VENUE_LEN
        && venue.starts_with(|c: char| c.is_ascii_lowercase())
        && venue
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ParseError::Venue(venue.to_string()))
    }
}

fn check_symbol(symbol: &str) -> Result<(), ParseError> {
    let ok = !symbol.is_empty()
        && symbol.len() <= MAX_SYMBOL_LEN
        && symbol.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ParseError::Symbol(symbol.to_string()))
    }
}

/// An instrument key such as `hyperliquid:perp:BTC` or `polymarket:outcome:1234`: valid by
/// construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrumentKey {
    venue: String,
    kind: InstrumentKind,
    symbol: String,
}

impl InstrumentKey {
    /// The key of `symbol` of `kind` on `venue`.
    ///
    /// # Errors
    /// [`ParseError`] when a part, or the whole key, breaks the grammar.
    pub fn new(venue: &str, kind: InstrumentKind, symbol: &str) -> Result<Self, ParseError> {
        check_venue(venue)?;
        check_symbol(symbol)?;
        // Two colons join the parts.
        if venue.len() + kind.as_str().len() + symbol.len() + 2 > MAX_KEY_LEN {
            return Err(ParseError::KeyTooLong);
        }
        Ok(Self {
            venue: venue.to_string(),
            kind,
            symbol: symbol.to_string(),
        })
    }

    /// A perpetual future's key, e.g. `hyperliquid:perp:BTC`.
    ///
    /// # Errors
    /// As [`InstrumentKey::new`].
    pub fn perp(venue: &str, symbol: &str) -> Result<Self, ParseError> {
        Self::new(venue, InstrumentKind::Perp, symbol)
    }

    /// A spot pair's key, e.g. `hyperliquid:spot:PURR/USDC`.
    ///
    /// # Errors
    /// As [`InstrumentKey::new`].
    pub fn spot(venue: &str, symbol: &str) -> Result<Self, ParseError> {
        Self::new(venue, InstrumentKind::Spot, symbol)
    }

    /// A prediction-market outcome token's key, e.g. `polymarket:outcome:<token id>`.
    ///
    /// # Errors
    /// As [`InstrumentKey::new`].
    pub fn outcome(venue: &str, token: &str) -> Result<Self, ParseError> {
        Self::new(venue, InstrumentKind::Outcome, token)
    }

    /// Parses `venue:kind:symbol`.
    ///
    /// # Errors
    /// [`ParseError`] naming the first part that breaks the grammar.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.len() > MAX_KEY_LEN {
            return Err(ParseError::KeyTooLong);
        }
        let mut parts = text.splitn(3, ':');
        let (Some(venue), Some(kind), Some(symbol)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseError::KeyShape(text.to_string()));
        };
        check_venue(venue)?;
        let kind = kind.parse()?;
        Self::new(venue, kind, symbol)
    }

    /// The venue, e.g. `hyperliquid`.
    pub fn venue(&self) -> &str {
        &self.venue
    }

    /// The kind.
    pub fn kind(&self) -> InstrumentKind {
        self.kind
    }

    /// The venue's symbol, e.g. `BTC`, `PURR/USDC` or an outcome token id.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    /// The venue and kind, the prefix the key shares with its family.
    pub fn venue_kind(&self) -> VenueKind {
        VenueKind {
            venue: self.venue.clone(),
            kind: self.kind,
        }
    }

    /// Whether the key names a prediction-market outcome token.
    pub fn is_outcome(&self) -> bool {
        self.kind == InstrumentKind::Outcome
    }

    /// The outcome token id of a prediction-market key; `None` for other kinds.
    pub fn outcome_token(&self) -> Option<&str> {
        self.is_outcome().then_some(self.symbol.as_str())
    }
}

impl FromStr for InstrumentKey {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for InstrumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.venue, self.kind, self.symbol)
    }
}

/// A venue and kind, `venue:kind` (e.g. `replay:perp`): the family of keys a setting names,
/// completed into keys by [`VenueKind::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VenueKind {
    venue: String,
    kind: InstrumentKind,
}

impl VenueKind {
    /// The family of `kind` on `venue`.
    ///
    /// # Errors
    /// [`ParseError::Venue`] when the venue breaks the grammar.
    pub fn new(venue: &str, kind: InstrumentKind) -> Result<Self, ParseError> {
        check_venue(venue)?;
        Ok(Self {
            venue: venue.to_string(),
            kind,
        })
    }

    /// Parses `venue:kind`.
    ///
    /// # Errors
    /// [`ParseError`] naming the part that breaks the grammar.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let Some((venue, kind)) = text.split_once(':') else {
            return Err(ParseError::KeyShape(text.to_string()));
        };
        Self::new(venue, kind.parse()?)
    }

    /// The venue.
    pub fn venue(&self) -> &str {
        &self.venue
    }

    /// The kind.
    pub fn kind(&self) -> InstrumentKind {
        self.kind
    }

    /// The key of `symbol` in this family.
    ///
    /// # Errors
    /// As [`InstrumentKey::new`].
    pub fn key(&self, symbol: &str) -> Result<InstrumentKey, ParseError> {
        InstrumentKey::new(&self.venue, self.kind, symbol)
    }
}

impl FromStr for VenueKind {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for VenueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.venue, self.kind)
    }
}
