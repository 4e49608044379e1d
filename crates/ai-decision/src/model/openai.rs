//! The OpenAI-compatible chat-completions adapter (llama.cpp server, Ollama, vLLM, hosted).
//!
//! One `POST {base_url}/chat/completions` per decision, with a strict JSON schema of the
//! allowed tasks, assets, actions and sizes as `response_format`. Timeouts, connection
//! failures, 429 and 5xx are retried a bounded number of times with exponential backoff; other
//! statuses fail at once. Usage comes from the response's `usage`; cost from configured prices.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clones_kernel::Secret;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::validate::{output_schema, parse_output};
use super::{ArtifactDraft, DecisionModel, ModelInput, ModelOutcome, sha256_hex};
use crate::views::Adapter;

/// The system prompt: the contract the model is held to.
const SYSTEM_PROMPT: &str = "You are the decision model of an AI trading clone trading a \
synthetic prop account. Read the tasks, the account, positions and market context in the user \
message, and answer with one JSON object matching the given schema: the actions to take now, \
each naming its task, one of the task's assets and allowed actions, a size (percent of equity \
or notional; null for close; signed for target_position) and a short rationale. Answer \
{\"actions\": []} to do nothing.";

/// Price of a model per 1,000 tokens, in the account currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPrice {
    /// Per 1,000 prompt tokens.
    pub prompt_per_1k: Decimal,
    /// Per 1,000 completion tokens.
    pub completion_per_1k: Decimal,
}

/// Parses `model=prompt/completion,model2=prompt/completion` (prices per 1,000 tokens), e.g.
/// `gpt-4o-mini=0.00015/0.0006`. An empty text is an empty table.
///
/// # Errors
/// A message naming the malformed entry.
pub fn parse_prices(text: &str) -> Result<BTreeMap<String, ModelPrice>, String> {
    let mut prices = BTreeMap::new();
    for entry in text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let bad = || format!("price entry `{entry}` is not model=prompt/completion");
        let (model, pair) = entry.rsplit_once('=').ok_or_else(bad)?;
        let (prompt, completion) = pair.split_once('/').ok_or_else(bad)?;
        let prompt = Decimal::from_str(prompt.trim()).map_err(|_| bad())?;
        let completion = Decimal::from_str(completion.trim()).map_err(|_| bad())?;
        if model.trim().is_empty() || prompt < Decimal::ZERO || completion < Decimal::ZERO {
            return Err(bad());
        }
        prices.insert(
            model.trim().to_string(),
            ModelPrice {
                prompt_per_1k: prompt,
                completion_per_1k: completion,
            },
        );
    }
    Ok(prices)
}

/// How to reach the endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// The API base, including the version path (`http://127.0.0.1:8080/v1`).
    pub base_url: String,
    /// The bearer key, if the endpoint wants one.
    pub api_key: Option<Secret<String>>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Retries after the first attempt (timeouts, connection failures, 429, 5xx).
    pub max_retries: u32,
    /// Backoff before the first retry; doubled for each further one (at most 10 s).
    pub backoff: Duration,
    /// Prices per model id; models without one have no cost recorded.
    pub prices: BTreeMap<String, ModelPrice>,
    /// `max_tokens` sent with each request.
    pub max_tokens: u32,
}

impl Default for OpenAiSettings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080/v1".into(),
            api_key: None,
            timeout: Duration::from_secs(20),
            max_retries: 2,
            backoff: Duration::from_millis(500),
            prices: BTreeMap::new(),
            max_tokens: 1024,
        }
    }
}

/// The OpenAI-compatible chat-completions client.
///
/// Build it after the process installed its TLS provider (reqwest is built without one).
#[derive(Debug, Clone)]
pub struct OpenAiModel {
    client: reqwest::Client,
    settings: OpenAiSettings,
}

/// Why one attempt failed.
enum Attempt {
    Retryable {
        code: &'static str,
        detail: String,
        body: Option<String>,
        /// How long the endpoint asked us to wait (`Retry-After`, in seconds).
        retry_after: Option<Duration>,
    },
    Final {
        code: &'static str,
        detail: String,
        body: Option<String>,
    },
}

impl OpenAiModel {
    /// A client for `settings`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(settings: OpenAiSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()?;
        Ok(Self { client, settings })
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.settings.base_url.trim_end_matches('/')
        )
    }

    fn cost(&self, model: &str, prompt: Option<i32>, completion: Option<i32>) -> Option<Decimal> {
        let price = self.settings.prices.get(model)?;
        let thousand = Decimal::from(1000);
        let prompt = Decimal::from(prompt.unwrap_or(0)).checked_mul(price.prompt_per_1k)?;
        let completion =
            Decimal::from(completion.unwrap_or(0)).checked_mul(price.completion_per_1k)?;
        prompt
            .checked_add(completion)?
            .checked_div(thousand)
            .map(|cost| cost.round_dp(10))
    }

    async fn attempt(&self, body: &[u8]) -> Result<String, Attempt> {
        let mut request = self
            .client
            .post(self.url())
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|error| {
            if error.is_timeout() {
                Attempt::Retryable {
                    code: "model_timeout",
                    detail: "the model did not answer in time".into(),
                    body: None,
                    retry_after: None,
                }
            } else {
                Attempt::Retryable {
                    code: "model_unreachable",
                    detail: format!("request failed: {error}"),
                    body: None,
                    retry_after: None,
                }
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(|error| {
            if error.is_timeout() {
                Attempt::Retryable {
                    code: "model_timeout",
                    detail: "the model did not finish answering in time".into(),
                    body: None,
                    retry_after: None,
                }
            } else {
                Attempt::Retryable {
                    code: "model_unreachable",
                    detail: format!("reading the answer failed: {error}"),
                    body: None,
                    retry_after: None,
                }
            }
        })?;
        if status.is_success() {
            return Ok(text);
        }
        let detail = format!("HTTP {}", status.as_u16());
        if status.as_u16() == 429 {
            Err(Attempt::Retryable {
                code: "model_rate_limited",
                detail,
                body: Some(text),
                retry_after,
            })
        } else if status.is_server_error() {
            Err(Attempt::Retryable {
                code: "model_http_error",
                detail,
                body: Some(text),
                retry_after,
            })
        } else {
            Err(Attempt::Final {
                code: "model_http_error",
                detail,
                body: Some(text),
            })
        }
    }
}

fn usage_of(envelope: &Value, field: &str) -> Option<i32> {
    envelope
        .get("usage")
        .and_then(|usage| usage.get(field))
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 0)
}

#[async_trait]
impl DecisionModel for OpenAiModel {
    fn adapter(&self) -> Adapter {
        Adapter::Openai
    }

    async fn decide(&self, input: &ModelInput) -> ModelOutcome {
        let user = json!({
            "tasks": input.tasks.iter().map(super::Task::to_json).collect::<Vec<_>>(),
            "strategySignals": input.evaluation.actions,
            "limits": {
                "maxPercentEquity": input.bounds.max_percent_equity.normalize().to_string(),
                "maxNotional": input.bounds.max_notional.normalize().to_string(),
                "maxActions": input.bounds.max_actions,
            },
            "context": input.packet,
        });
        let body = json!({
            "model": input.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user.to_string()},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "clone_decision",
                    "strict": true,
                    "schema": output_schema(&input.tasks, &input.bounds),
                },
            },
            "temperature": 0,
            "max_tokens": self.settings.max_tokens,
        });
        let body = body.to_string().into_bytes();
        let mut artifact = ArtifactDraft {
            model: input.model.clone(),
            prompt_hash: sha256_hex(&body),
            input_packet: input.packet.to_value(),
            raw_output: None,
            latency_ms: 0,
            prompt_tokens: None,
            completion_tokens: None,
            cost: None,
        };
        let started = Instant::now();
        let mut attempt = 0u32;
        let text = loop {
            let result = self.attempt(&body).await;
            match result {
                Ok(text) => break text,
                Err(Attempt::Retryable {
                    code,
                    detail,
                    body,
                    retry_after,
                }) if attempt < self.settings.max_retries => {
                    tracing::warn!(model = %input.model, attempt, code, %detail, "model call failed; retrying");
                    let _ = body;
                    let factor = 2u32.saturating_pow(attempt);
                    // The endpoint's own Retry-After wins over our backoff when it is longer;
                    // either way one wait stays within 10 s so a cycle cannot stall on it.
                    let wait = self
                        .settings
                        .backoff
                        .saturating_mul(factor)
                        .max(retry_after.unwrap_or_default())
                        .min(Duration::from_secs(10));
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(
                    Attempt::Retryable {
                        code, detail, body, ..
                    }
                    | Attempt::Final { code, detail, body },
                ) => {
                    artifact.raw_output = body;
                    artifact.latency_ms = elapsed_ms(started);
                    return ModelOutcome::Failed {
                        code: code.to_string(),
                        detail: format!("{detail} after {} attempt(s)", attempt + 1),
                        artifact,
                    };
                }
            }
        };
        artifact.latency_ms = elapsed_ms(started);
        let Ok(envelope) = serde_json::from_str::<Value>(&text) else {
            artifact.raw_output = Some(text);
            return ModelOutcome::Failed {
                code: "model_bad_response".into(),
                detail: "the endpoint's answer is not a chat completion".into(),
                artifact,
            };
        };
        artifact.prompt_tokens = usage_of(&envelope, "prompt_tokens");
        artifact.completion_tokens = usage_of(&envelope, "completion_tokens");
        artifact.cost = self.cost(
            &input.model,
            artifact.prompt_tokens,
            artifact.completion_tokens,
        );
        let message = envelope
            .get("choices")
            .and_then(|choices| choices.get(0))
            .and_then(|choice| choice.get("message"));
        if let Some(refusal) = message
            .and_then(|m| m.get("refusal"))
            .and_then(Value::as_str)
        {
            artifact.raw_output = Some(refusal.to_string());
            return ModelOutcome::Invalid {
                code: "model_refused".into(),
                detail: "the model refused to answer".into(),
                artifact,
            };
        }
        let Some(content) = message
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
        else {
            artifact.raw_output = Some(text);
            return ModelOutcome::Invalid {
                code: "invalid_shape".into(),
                detail: "the completion has no message content".into(),
                artifact,
            };
        };
        artifact.raw_output = Some(content.to_string());
        match parse_output(content, &input.tasks, &input.bounds) {
            Ok(proposals) => ModelOutcome::Proposed {
                proposals,
                artifact,
            },
            Err(invalid) => ModelOutcome::Invalid {
                code: invalid.code.to_string(),
                detail: invalid.detail,
                artifact,
            },
        }
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_per_model() {
        let prices = parse_prices("gpt-4o-mini=0.00015/0.0006, local=0/0").unwrap_or_default();
        assert_eq!(prices.len(), 2);
        assert_eq!(
            prices.get("gpt-4o-mini").map(|p| p.completion_per_1k),
            Decimal::from_str("0.0006").ok()
        );
        assert!(parse_prices("broken").is_err());
        assert!(parse_prices("").unwrap_or_default().is_empty());
    }
}
