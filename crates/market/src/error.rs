//! The one error of every parser in this crate.
//!
//! Its messages are the texts contexts already showed their callers; they must not change
//! without a reason, since decision executions record them.

/// Text that is not a valid key, kind, side or timeframe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The key is longer than [`crate::MAX_KEY_LEN`] bytes.
    #[error("invalid instrument: key is too long")]
    KeyTooLong,
    /// The key has fewer than three `:`-separated parts.
    #[error("invalid instrument: `{0}` is not of the form venue:kind:symbol")]
    KeyShape(String),
    /// The venue breaks the grammar.
    #[error("invalid instrument: bad venue `{0}`")]
    Venue(String),
    /// The kind is not `perp`, `spot` or `outcome`.
    #[error("invalid instrument: unknown instrument kind `{0}`")]
    Kind(String),
    /// The symbol breaks the grammar.
    #[error("invalid instrument: bad symbol `{0}`")]
    Symbol(String),
    /// The side is not `buy` or `sell`.
    #[error("unknown side `{0}`")]
    Side(String),
    /// The timeframe is not one of [`crate::Timeframe::ALL`].
    #[error("unknown timeframe `{0}` (1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d 3d 1w 1M)")]
    Timeframe(String),
}
