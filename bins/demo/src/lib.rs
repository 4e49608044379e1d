//! The whole paid-audition path, driven over HTTP the way a web app would drive it.
//!
//! [`run`] signs in with a freshly generated wallet (funded on the local development chain),
//! pays for a clone on chain, edits and publishes its strategy, submits a public profile, pays
//! for an audition and starts it, then watches decisions, fills, mark-to-market snapshots, the
//! evaluation, the Promotion Queue and the Arena admission happen. Every step is reported to a
//! [`Narrator`]; any failure ends the run with a [`DemoError`] naming the step.
//!
//! Waiting is delegated to a [`Pace`]: against running processes it sleeps ([`WallClockPace`]);
//! a test passes one that advances a fixed clock and runs the workers' cycles in process, so
//! the same path runs with a compressed clock. This module is an HTTP and JSON-RPC client only:
//! it must not reach into the database or the domain crates.

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use async_trait::async_trait;
use clones_vault::{Quote, contract};
use serde_json::{Value, json};

/// Where the demo talks to.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The API's base URL, e.g. `http://127.0.0.1:8080`.
    pub api: url::Url,
    /// The local chain's JSON-RPC URL.
    pub chain: url::Url,
    /// The audition rule set to start (`None`: the platform's default).
    pub rule_set: Option<String>,
    /// How many times to wait for one expected state before giving up.
    pub max_waits: u32,
}

/// A failed step.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {reason}")]
pub struct DemoError {
    /// The step that failed.
    pub step: &'static str,
    /// What went wrong.
    pub reason: String,
}

fn fail(step: &'static str, reason: impl std::fmt::Display) -> DemoError {
    DemoError {
        step,
        reason: reason.to_string(),
    }
}

/// Receives each completed step.
pub trait Narrator: Send + Sync {
    /// A step finished; `detail` is what it produced.
    fn step(&self, name: &str, detail: &Value);
}

/// Prints each step as one line of JSON.
#[derive(Debug, Default, Clone, Copy)]
pub struct PrintNarrator;

impl Narrator for PrintNarrator {
    fn step(&self, name: &str, detail: &Value) {
        println!("==> {name}: {detail}");
    }
}

/// How the demo waits for the system to move on.
#[async_trait]
pub trait Pace: Send + Sync {
    /// Called when the expected state (`waiting_for`) is not there yet; returns once it is
    /// worth looking again.
    async fn wait(&self, waiting_for: &str);
}

/// Sleeps a fixed interval: for a system whose workers run on their own.
#[derive(Debug, Clone, Copy)]
pub struct WallClockPace(pub Duration);

#[async_trait]
impl Pace for WallClockPace {
    async fn wait(&self, _waiting_for: &str) {
        tokio::time::sleep(self.0).await;
    }
}

/// What the run ended with.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    /// The wallet that signed in and paid.
    pub wallet: Address,
    /// The clone created.
    pub clone_id: String,
    /// The audition run.
    pub audition_id: String,
    /// The clone as its owner finally sees it.
    pub clone: Value,
    /// The audition as finally evaluated.
    pub audition: Value,
    /// The clone's lifecycle state (display state, queue entry, Arena membership).
    pub state: Value,
}

/// The strategy the demo publishes: hold a BTC position worth 10 % of equity whenever there is
/// a price, so the first decision trades at once and later ones hold.
pub fn demo_strategy() -> Value {
    json!({
        "version": 1,
        "nodes": [
            { "id": "btc_close", "kind": "price",
              "params": { "asset": "BTC", "timeframe": "1m", "field": "close" } },
            { "id": "has_price", "kind": "compare", "params": { "op": "gt", "threshold": "0" } },
            { "id": "hold_btc", "kind": "target_position",
              "params": { "asset": "BTC", "size": { "percent_equity": "10" } } },
            { "id": "stop", "kind": "stop_loss", "params": { "percent": "5" } }
        ],
        "edges": [
            { "from": "btc_close", "to": "has_price", "input": "left" },
            { "from": "has_price", "to": "hold_btc", "input": "when" },
            { "from": "hold_btc", "to": "stop", "input": "actions" }
        ]
    })
}

struct Api {
    http: reqwest::Client,
    base: url::Url,
    token: Option<String>,
}

impl Api {
    async fn call(
        &self,
        step: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), DemoError> {
        let url = self.base.join(path).map_err(|error| fail(step, error))?;
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| fail(step, format!("{path}: {error}")))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|error| fail(step, format!("{path}: {error}")))?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, body))
    }

    /// A call that must answer one of `expected`.
    async fn send_expecting(
        &self,
        step: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        expected: &[u16],
    ) -> Result<Value, DemoError> {
        let (status, reply) = self.call(step, method.clone(), path, body).await?;
        if expected.contains(&status) {
            Ok(reply)
        } else {
            Err(fail(
                step,
                format!("{method} {path} answered {status}: {reply}"),
            ))
        }
    }

    async fn get(&self, step: &'static str, path: &str) -> Result<Value, DemoError> {
        self.send_expecting(step, reqwest::Method::GET, path, None, &[200])
            .await
    }
}

fn text<'a>(step: &'static str, value: &'a Value, field: &str) -> Result<&'a str, DemoError> {
    value[field]
        .as_str()
        .ok_or_else(|| fail(step, format!("no `{field}` in {value}")))
}

/// The local development chain, spoken to over JSON-RPC.
struct Chain {
    url: url::Url,
}

impl Chain {
    /// Gives `address` 100 of the native coin (`hardhat_setBalance`: development chains only).
    async fn fund(&self, address: Address) -> Result<(), DemoError> {
        let provider = ProviderBuilder::new().connect_http(self.url.clone());
        let balance = U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64));
        provider
            .raw_request::<_, Value>(
                "hardhat_setBalance".into(),
                (address, format!("{balance:#x}")),
            )
            .await
            .map(drop)
            .map_err(|error| fail("fund wallet", error))
    }

    /// Pays a signed quote into the vault named in it; returns the transaction hash.
    async fn pay(
        &self,
        step: &'static str,
        wallet: &PrivateKeySigner,
        signed: &Value,
    ) -> Result<B256, DemoError> {
        let quote: Quote =
            serde_json::from_value(signed["quote"].clone()).map_err(|error| fail(step, error))?;
        let vault: Address = text(step, signed, "vault")?
            .parse()
            .map_err(|error| fail(step, format!("vault address: {error}")))?;
        let signature = text(step, signed, "signature")?
            .parse()
            .map_err(|error| fail(step, format!("signature: {error}")))?;
        let call = contract::SignedVault::depositCall {
            quote: quote.to_sol(),
            signature,
        };
        let mut request = TransactionRequest::default()
            .with_to(vault)
            .with_input(call.abi_encode())
            .with_gas_limit(500_000);
        if quote.is_native() {
            request = request.with_value(quote.amount);
        }
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(wallet.clone()))
            .connect_http(self.url.clone());
        let receipt = provider
            .send_transaction(request)
            .await
            .map_err(|error| fail(step, error))?
            .get_receipt()
            .await
            .map_err(|error| fail(step, error))?;
        if !receipt.status() {
            return Err(fail(step, "the deposit transaction reverted"));
        }
        Ok(receipt.transaction_hash)
    }
}

/// Polls `probe` until it answers `Some`, waiting through `pace` in between.
async fn until<T, F, Fut>(
    pace: &dyn Pace,
    max_waits: u32,
    step: &'static str,
    mut probe: F,
) -> Result<T, DemoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, DemoError>>,
{
    for _ in 0..=max_waits {
        if let Some(found) = probe().await? {
            return Ok(found);
        }
        pace.wait(step).await;
    }
    Err(fail(step, format!("not reached after {max_waits} waits")))
}

/// Who pays, and how the payment is waited for.
#[derive(Clone, Copy)]
struct Payer<'a> {
    api: &'a Api,
    chain: &'a Chain,
    wallet: &'a PrivateKeySigner,
    pace: &'a dyn Pace,
    max_waits: u32,
}

/// Quotes, pays and submits one deposit; returns the purchase once it is recorded.
async fn pay_for(
    payer: &Payer<'_>,
    step: &'static str,
    quote_path: &str,
    quote_body: &Value,
) -> Result<Value, DemoError> {
    let Payer {
        api,
        chain,
        wallet,
        pace,
        max_waits,
    } = *payer;
    let signed = api
        .send_expecting(
            step,
            reqwest::Method::POST,
            quote_path,
            Some(quote_body),
            &[201],
        )
        .await?;
    let tx = chain.pay(step, wallet, &signed).await?;
    let submission = json!({ "quoteId": signed["quoteId"], "txHash": tx.to_string() });
    let outcome = api
        .send_expecting(
            step,
            reqwest::Method::POST,
            "/api/v1/economy/deposits",
            Some(&submission),
            &[200, 201, 202],
        )
        .await?;
    let deposit_id = text(step, &outcome, "depositId")?.to_string();
    until(pace, max_waits, step, || async {
        let deposit = api
            .get(step, &format!("/api/v1/economy/deposits/{deposit_id}"))
            .await?;
        match deposit["state"].as_str() {
            Some("confirmed") => Ok(Some(deposit["purchase"].clone())),
            Some("pending") => Ok(None),
            _ => Err(fail(step, format!("deposit not accepted: {deposit}"))),
        }
    })
    .await
}

/// Runs the whole path. See the module documentation for the steps.
///
/// # Errors
/// [`DemoError`] naming the first step that failed.
pub async fn run(
    config: &DemoConfig,
    pace: &dyn Pace,
    narrator: &dyn Narrator,
) -> Result<DemoOutcome, DemoError> {
    let waits = config.max_waits;
    let wallet = PrivateKeySigner::random();
    let chain = Chain {
        url: config.chain.clone(),
    };
    chain.fund(wallet.address()).await?;
    narrator.step(
        "generated and funded a wallet",
        &json!({ "address": wallet.address().to_string() }),
    );

    let mut api = Api {
        http: reqwest::Client::new(),
        base: config.api.clone(),
        token: None,
    };
    let challenge = api
        .send_expecting(
            "sign in",
            reqwest::Method::POST,
            "/api/v1/auth/challenge",
            Some(&json!({ "address": wallet.address().to_string(), "chainId": 31337 })),
            &[200],
        )
        .await?;
    let message = text("sign in", &challenge, "message")?;
    let signature = wallet
        .sign_message_sync(message.as_bytes())
        .map_err(|error| fail("sign in", error))?;
    let session = api
        .send_expecting(
            "sign in",
            reqwest::Method::POST,
            "/api/v1/auth/verify",
            Some(&json!({
                "message": message,
                "signature": format!("0x{}", hex::encode(signature.as_bytes())),
            })),
            &[200],
        )
        .await?;
    api.token = Some(text("sign in", &session, "accessToken")?.to_string());
    let me = api.get("sign in", "/api/v1/me").await?;
    narrator.step("signed in with SIWE", &me);

    let payer = Payer {
        api: &api,
        chain: &chain,
        wallet: &wallet,
        pace,
        max_waits: waits,
    };
    let purchase = pay_for(
        &payer,
        "pay for a clone",
        "/api/v1/economy/quotes",
        &json!({
            "purpose": "clone_creation",
            "payerAddress": wallet.address().to_string(),
            "cloneName": "Demo clone",
        }),
    )
    .await?;
    let clone_id = text("pay for a clone", &purchase, "cloneId")?.to_string();
    narrator.step("deposit verified, clone created", &purchase);

    let clone_path = format!("/api/v1/clone/clones/{clone_id}");
    api.send_expecting(
        "edit the strategy",
        reqwest::Method::PUT,
        &format!("{clone_path}/strategy/draft"),
        Some(&json!({ "graph": demo_strategy() })),
        &[200],
    )
    .await?;
    let version = api
        .send_expecting(
            "publish the strategy",
            reqwest::Method::POST,
            &format!("{clone_path}/strategy/publish"),
            None,
            &[201],
        )
        .await?;
    narrator.step(
        "strategy edited and published",
        &json!({ "version": version["version"], "fingerprint": version["fingerprint"] }),
    );

    let username = format!("demo_{}", &hex::encode(wallet.address())[..8]);
    let profile = api
        .send_expecting(
            "submit a public profile",
            reqwest::Method::PUT,
            &format!("{clone_path}/public-profile"),
            Some(
                &json!({ "displayName": "Demo clone", "username": username, "bio": "Holds BTC." }),
            ),
            &[200],
        )
        .await?;
    narrator.step("public profile approved", &profile);

    let lifecycle_path = format!("/api/v1/lifecycle/clones/{clone_id}");
    let fee = pay_for(
        &payer,
        "pay the audition fee",
        &format!("{lifecycle_path}/audition-quote"),
        &json!({ "payerAddress": wallet.address().to_string() }),
    )
    .await?;
    narrator.step("audition fee paid", &fee);
    let mut start = json!({ "purchaseId": fee["purchaseId"] });
    if let Some(rule_set) = &config.rule_set {
        start["ruleSetCode"] = json!(rule_set);
    }
    let audition = api
        .send_expecting(
            "start the audition",
            reqwest::Method::POST,
            &format!("{lifecycle_path}/auditions"),
            Some(&start),
            &[200, 201],
        )
        .await?;
    let audition_id = text("start the audition", &audition, "id")?.to_string();
    let account_id = text("start the audition", &audition, "propAccountId")?.to_string();
    narrator.step("audition started on a fresh prop account", &audition);

    let decision = until(pace, waits, "decisions", || async {
        let runs = api
            .get(
                "decisions",
                &format!("/api/v1/clones/{clone_id}/decision-runs"),
            )
            .await?;
        Ok(runs["items"]
            .as_array()
            .and_then(|items| items.iter().find(|run| run["status"] == "decided"))
            .cloned())
    })
    .await?;
    narrator.step("the model decided", &decision);

    let fill = until(pace, waits, "fills", || async {
        let fills = api
            .get(
                "fills",
                &format!("/api/v1/prop/accounts/{account_id}/fills"),
            )
            .await?;
        Ok(fills["items"]
            .as_array()
            .and_then(|items| items.first())
            .cloned())
    })
    .await?;
    narrator.step("the prop engine filled the order", &fill);

    let snapshot = until(pace, waits, "mark-to-market", || async {
        let curve = api
            .get(
                "mark-to-market",
                &format!("/api/v1/prop/accounts/{account_id}/equity"),
            )
            .await?;
        Ok(curve["items"]
            .as_array()
            .and_then(|items| items.first())
            .cloned())
    })
    .await?;
    narrator.step("marked to market", &snapshot);

    let audition_path = format!("/api/v1/lifecycle/auditions/{audition_id}");
    let evaluated = until(pace, waits, "evaluation", || async {
        let run = api.get("evaluation", &audition_path).await?;
        match run["audition"]["status"].as_str() {
            Some("running") => Ok(None),
            Some("passed") => Ok(Some(run)),
            _ => Err(fail(
                "evaluation",
                format!("the audition did not pass: {run}"),
            )),
        }
    })
    .await?;
    narrator.step("audition evaluated: passed", &evaluated);

    let state = until(pace, waits, "arena admission", || async {
        let state = api
            .get("arena admission", &format!("{lifecycle_path}/state"))
            .await?;
        Ok((state["displayState"] == "competing").then_some(state))
    })
    .await?;
    narrator.step("promoted and admitted to the Arena", &state);

    let clone = api.get("final state", &clone_path).await?;
    narrator.step("final state", &clone);
    Ok(DemoOutcome {
        wallet: wallet.address(),
        clone_id,
        audition_id,
        clone,
        audition: evaluated,
        state,
    })
}
