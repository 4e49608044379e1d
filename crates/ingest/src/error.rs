//! Ingestion failures, each with a stable machine code, and the failures of a source fetch.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind};

/// A failure of the ingest service. [`IngestError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A parameter is invalid (a malformed instrument key, an unknown timeframe, a bad range).
    #[error("{0}")]
    InvalidInput(String),
    /// The instrument is not known.
    #[error("instrument not found")]
    InstrumentNotFound,
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for IngestError {
    fn from(error: diesel::result::Error) -> Self {
        IngestError::Db(DbError::Query(error))
    }
}

impl IngestError {
    /// The answer to a key that breaks `clones_market`'s grammar.
    pub fn invalid_key(text: &str) -> Self {
        IngestError::InvalidInput(format!(
            "instrument key `{text}` is not `venue:kind:symbol`"
        ))
    }
}

impl DomainError for IngestError {
    fn kind(&self) -> ErrorKind {
        match self {
            IngestError::InvalidInput(_) => ErrorKind::InvalidInput,
            IngestError::InstrumentNotFound => ErrorKind::NotFound,
            IngestError::Db(error) => error.kind(),
        }
    }

    /// The stable machine code.
    fn code(&self) -> &'static str {
        match self {
            IngestError::InvalidInput(_) => "invalid_input",
            IngestError::InstrumentNotFound => "instrument_not_found",
            IngestError::Db(error) => error.code(),
        }
    }
}

/// Why a source could not produce a batch. Recorded on the failed ingestion run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    /// The remote answered with a status that retrying will not fix (4xx other than 429), or
    /// kept answering 5xx until the retries ran out.
    #[error("HTTP {status} from {url}")]
    Status {
        /// The last status.
        status: u16,
        /// The URL asked.
        url: String,
    },
    /// The remote kept rate-limiting us (429) beyond the retry budget.
    #[error("rate limited by {url}")]
    RateLimited {
        /// The URL asked.
        url: String,
    },
    /// Timeouts or connection failures until the retries ran out.
    #[error("transport failure for {url}: {detail}")]
    Transport {
        /// The URL asked.
        url: String,
        /// The last failure.
        detail: String,
    },
    /// The response is not the documented shape, or a value in it is out of range.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// Local files (the replay source) could not be read or parsed.
    #[error("replay data: {0}")]
    Replay(String),
    /// The source is misconfigured.
    #[error("configuration: {0}")]
    Config(String),
}

impl SourceError {
    /// A short machine code for logs and run rows.
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::Status { .. } => "http_status",
            SourceError::RateLimited { .. } => "rate_limited",
            SourceError::Transport { .. } => "transport",
            SourceError::Malformed(_) => "malformed_response",
            SourceError::Replay(_) => "replay_data",
            SourceError::Config(_) => "config",
        }
    }
}

/// Shorthand for a validation failure.
pub(crate) fn malformed(detail: impl Into<String>) -> SourceError {
    SourceError::Malformed(detail.into())
}
