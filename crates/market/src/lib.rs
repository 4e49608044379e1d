//! The market vocabulary every context speaks: instrument keys and kinds, order sides and candle
//! timeframes, with their one text form and their one parser.
//!
//! It owns [`InstrumentKey`], [`InstrumentKind`], [`VenueKind`], [`Side`], [`Timeframe`] and
//! [`ParseError`]. It is pure: no database, no IO, no clock, no async, and no dependency on
//! another crate of the workspace. It knows nothing of whether an instrument exists or trades;
//! that is market memory's answer.
//!
//! # Instrument key grammar
//!
//! An instrument is named by one text key, written here in EBNF:
//!
//! ```text
//! key     = venue ":" kind ":" symbol ;         (* at most 160 bytes in all *)
//! venue   = lower { lower | digit | "_" | "-" } ; (* at most 32 bytes *)
//! kind    = "perp" | "spot" | "outcome" ;
//! symbol  = graphic { graphic } ;               (* at most 128 bytes *)
//! lower   = "a" | ... | "z" ;
//! digit   = "0" | ... | "9" ;
//! graphic = "!" | ... | "~" ;                   (* printable ASCII but space *)
//! ```
//!
//! The symbol is everything after the second colon, so it may itself hold `:` or `/`.
//! Accepted: `hyperliquid:perp:BTC`, `hyperliquid:spot:PURR/USDC`, `hyperliquid:spot:@107`,
//! `polymarket:outcome:7132…2563` (a CLOB token id), `replay:perp:BTC`, `x-1:spot:A:B`.
//! Refused: `BTC` (no kind), `hyperliquid:perp:` (empty symbol), `Hyper:perp:BTC` (upper-case
//! venue), `1inch:spot:X` (venue starting with a digit), `hyperliquid:option:BTC` (unknown
//! kind), `x:perp:A B` (space in the symbol), `x:perp:Ä` (non-ASCII symbol).
//!
//! The grammar is the intersection of what every store accepts: market memory's venue check
//! (a letter first) and prop-engine's symbol and length limits (printable ASCII, 128 bytes,
//! 160 bytes in all, the width of an order's instrument column).
//!
//! Keys are built only through [`InstrumentKey::parse`] or the typed constructors
//! ([`InstrumentKey::perp`], [`InstrumentKey::spot`], [`InstrumentKey::outcome`],
//! [`VenueKind::key`]), which apply the same grammar, so `parse(key.to_string()) == key` for
//! every key and `parse(text).to_string() == text` for every accepted text.

mod error;
mod key;
mod side;
mod timeframe;

#[cfg(any(test, feature = "proptest"))]
pub mod arbitrary;
#[cfg(test)]
mod tests;

pub use error::ParseError;
pub use key::{
    InstrumentKey, InstrumentKind, MAX_KEY_LEN, MAX_SYMBOL_LEN, MAX_VENUE_LEN, VenueKind,
};
pub use side::Side;
pub use timeframe::Timeframe;
