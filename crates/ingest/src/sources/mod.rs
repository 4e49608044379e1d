//! Source clients. Each implements [`crate::Source`]: a fixed list of channels, each fetched
//! and validated whole into a [`crate::Batch`] before anything is written.
//!
//! - [`hyperliquid`]: `POST /info` (`metaAndAssetCtxs`, `allMids`, `candleSnapshot`, `l2Book`,
//!   `fundingHistory`);
//! - [`polymarket`]: Gamma `GET /markets`, CLOB `GET /book` and `GET /midpoint`;
//! - [`defillama`]: `GET /protocol/{slug}` and `GET /v2/historicalChainTvl/{chain}`;
//! - [`replay`]: OHLCV files and a seeded generator, for running without a network.

pub mod defillama;
pub mod hyperliquid;
pub mod polymarket;
pub mod replay;
