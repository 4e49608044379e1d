//! Command-line and environment settings of the language-model endpoint, shared by every
//! process that decides (the decision worker, and the API for dry runs), so both read the
//! same variables the same way.
//!
//! This module only parses settings and builds the adapter; it holds no decision rule.

use std::sync::Arc;
use std::time::Duration;

use clones_kernel::Secret;

use crate::model::{DecisionModel, OpenAiModel, OpenAiSettings, parse_prices};

/// The OpenAI-compatible endpoint, if any (clap, flattened into a binary's settings).
#[derive(Debug, Clone, clap::Args)]
pub struct LlmArgs {
    /// OpenAI-compatible API base including the version path (`http://127.0.0.1:8080/v1`);
    /// none: strategies that need a language model are skipped (`llm_not_configured`).
    #[arg(long, env = "LLM_BASE_URL")]
    pub llm_base_url: Option<String>,
    /// Bearer key of the endpoint.
    #[arg(long, env = "LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<Secret<String>>,
    /// Timeout of one model request, in milliseconds.
    #[arg(long, env = "LLM_TIMEOUT_MS", default_value_t = 20_000)]
    pub llm_timeout_ms: u64,
    /// Retries after a timeout, connection failure, 429 or 5xx.
    #[arg(long, env = "LLM_MAX_RETRIES", default_value_t = 2)]
    pub llm_max_retries: u32,
    /// Prices per 1,000 tokens: `model=prompt/completion,…`.
    #[arg(long, env = "LLM_PRICES", default_value = "")]
    pub llm_prices: String,
}

impl LlmArgs {
    /// The model adapter these settings describe; `None` without a base URL. Needs a TLS
    /// provider installed first (`clones_runtime::install_tls_provider`).
    ///
    /// # Errors
    /// A message naming the setting that is unusable (bad prices, no HTTP client).
    pub fn model(&self) -> Result<Option<Arc<dyn DecisionModel>>, String> {
        let Some(base_url) = &self.llm_base_url else {
            return Ok(None);
        };
        if self.llm_timeout_ms == 0 {
            return Err("LLM_TIMEOUT_MS must be positive".into());
        }
        let prices =
            parse_prices(&self.llm_prices).map_err(|error| format!("LLM_PRICES: {error}"))?;
        let model = OpenAiModel::new(OpenAiSettings {
            base_url: base_url.clone(),
            api_key: self.llm_api_key.clone(),
            timeout: Duration::from_millis(self.llm_timeout_ms),
            max_retries: self.llm_max_retries,
            prices,
            ..OpenAiSettings::default()
        })
        .map_err(|error| format!("LLM client: {error}"))?;
        Ok(Some(Arc::new(model)))
    }
}
