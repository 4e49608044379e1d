//! Fixtures: a fresh database with real clone, market-memory and prop services over it, a
//! fixed clock, users, clones with published strategies, audition accounts, a candle history
//! whose last bar makes the default strategy go long, and a stub chat-completions server on
//! 127.0.0.1.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use clones_ai_decision::{
    Assignment, AssignmentContext, DecisionModel, DecisionSettings, OpenAiModel, OpenAiSettings,
    PgDecisionService, parse_prices,
};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{
    CloneService, EntitlementGrant, EntitlementSource, NoCompetitionFacts, PgCloneService, Tier,
};
use clones_ingest::{Batch, Candle, IngestService, NewInstrument, PgIngestService};
use clones_kernel::PageRequest;
use clones_kernel::{Clock, FixedClock};
use clones_market::InstrumentKey;
use clones_prop_engine::{
    AccountContext, MarketMemoryFeed, OpenAccount, OrderView, PgPropService, PropService,
    PropSettings, RiskLimits,
};
use clones_test_db::TestDb;
use rust_decimal::Decimal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use uuid::Uuid;

pub const BTC: &str = "replay:perp:BTC";

pub fn d(value: &str) -> Decimal {
    Decimal::from_str(value).unwrap()
}

/// 12:00:30 UTC: slot 12:00:00 with the default 60 s interval; the last complete hourly bar
/// opened at 11:00.
pub fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_str("2026-11-22T12:00:30Z").unwrap()
}

pub struct Fixture {
    pub db: TestDb,
    pub clock: FixedClock,
    pub clones: Arc<PgCloneService>,
    pub ingest: Arc<PgIngestService>,
    pub prop: Arc<PgPropService>,
    pub access: PgAccessAdmin,
}

pub async fn fixture() -> Fixture {
    clones_runtime::install_tls_provider();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(t0());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let clones = Arc::new(PgCloneService::new(
        db.db().clone(),
        shared.clone(),
        Arc::new(NoCompetitionFacts),
    ));
    let ingest = Arc::new(PgIngestService::new(db.db().clone(), shared.clone()));
    let prop = Arc::new(PgPropService::new(
        db.db().clone(),
        shared.clone(),
        Arc::new(MarketMemoryFeed::new(ingest.clone())),
        PropSettings::default(),
    ));
    let access = PgAccessAdmin::new(db.db().clone(), shared);
    Fixture {
        db,
        clock,
        clones,
        ingest,
        prop,
        access,
    }
}

impl Fixture {
    pub fn service(&self, llm: Option<Arc<dyn DecisionModel>>) -> PgDecisionService {
        PgDecisionService::new(
            self.db.db().clone(),
            Arc::new(self.clock.clone()),
            self.clones.clone(),
            self.ingest.clone(),
            self.prop.clone(),
            llm,
            DecisionSettings::default(),
        )
    }

    pub async fn user(&self) -> Uuid {
        let wallet = format!(
            "0x{}{}",
            Uuid::new_v4().simple(),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        self.access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap()
            .0
    }

    /// A paid clone with the default draft (no published version).
    pub async fn unpublished_clone(&self, owner: Uuid) -> Uuid {
        let at = self.clock.now();
        let clone_id = Uuid::new_v4();
        self.db
            .db()
            .tenant_transaction(owner, move |conn| {
                provisioning::create_paid_clone(
                    conn,
                    &PaidClone {
                        clone_id,
                        owner_user_id: owner,
                        purchase_id: Uuid::new_v4(),
                        display_name: "Alpha".into(),
                    },
                    at,
                )
            })
            .await
            .unwrap();
        clone_id
    }

    /// A paid clone whose default strategy is published.
    pub async fn clone(&self, owner: Uuid) -> Uuid {
        let clone_id = self.unpublished_clone(owner).await;
        self.clones.publish(owner, clone_id).await.unwrap();
        clone_id
    }

    /// A clone with a published strategy `graph`, under `tier`.
    pub async fn clone_with(&self, owner: Uuid, tier: Tier, graph: serde_json::Value) -> Uuid {
        let clone_id = self.unpublished_clone(owner).await;
        self.grant(clone_id, tier).await;
        self.clones
            .save_draft(owner, clone_id, graph)
            .await
            .unwrap();
        self.clones.publish(owner, clone_id).await.unwrap();
        clone_id
    }

    pub async fn grant(&self, clone_id: Uuid, tier: Tier) {
        self.clones
            .grant_entitlement(EntitlementGrant {
                clone_id,
                tier,
                source: EntitlementSource::Manual,
                source_purchase_id: None,
                source_reference: Some("test".into()),
                expires_at: None,
            })
            .await
            .unwrap();
    }

    /// An audition account for the clone, with generous limits.
    pub async fn account(&self, owner: Uuid, clone_id: Uuid) -> Uuid {
        self.prop
            .open_account(
                owner,
                OpenAccount {
                    account_id: None,
                    clone_id: Some(clone_id),
                    context: AccountContext::Audition,
                    quote_currency: "USDC".into(),
                    starting_balance: d("100000"),
                    limits: Some(RiskLimits {
                        max_order_notional: d("1000000"),
                        max_leverage: d("50"),
                        max_position_notional: d("10000000"),
                        max_gross_exposure: d("10000000"),
                        daily_loss_limit: d("1000000"),
                        max_orders_per_minute: 10_000,
                        allowed_instruments: None,
                    }),
                },
            )
            .await
            .unwrap()
            .id
    }

    pub async fn assignment(&self) -> Assignment {
        let owner = self.user().await;
        let clone_id = self.clone(owner).await;
        let account_id = self.account(owner, clone_id).await;
        assignment(owner, clone_id, account_id)
    }

    /// 60 hourly BTC bars ending with the bar that opened at 11:00: a steady decline, then a
    /// jump on the last bar, so EMA(12) crosses above EMA(26) there; and a mid at now.
    pub async fn seed_market(&self) {
        seed_market(&self.ingest, self.clock.now()).await;
    }

    pub async fn orders(&self, owner: Uuid, account_id: Uuid) -> Vec<OrderView> {
        self.prop
            .orders(
                owner,
                account_id,
                PageRequest::new(Some(500), None).unwrap(),
            )
            .await
            .unwrap()
            .items
    }
}

pub fn assignment(owner: Uuid, clone_id: Uuid, account_id: Uuid) -> Assignment {
    Assignment {
        clone_id,
        owner_user_id: owner,
        account_id,
        context: AssignmentContext::Audition,
        reference_id: Uuid::new_v4(),
    }
}

pub async fn seed_market(ingest: &PgIngestService, now: DateTime<Utc>) {
    let key = InstrumentKey::perp("replay", "BTC").unwrap();
    let last_open =
        DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(3600) - 3600, 0)
            .unwrap();
    let mut batch = Batch {
        instruments: vec![NewInstrument::bare(key.clone())],
        ..Batch::default()
    };
    for i in 0..60i64 {
        let open_time = last_open - Duration::hours(59 - i);
        let price = if i == 59 {
            Decimal::from(500)
        } else {
            Decimal::from(200 - i)
        };
        batch.candles.push((
            key.clone(),
            clones_market::Timeframe::H1,
            Candle {
                open_time,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: Decimal::ONE,
                trades: None,
            },
        ));
    }
    batch.mids.push((key, now, Decimal::from(500)));
    let run = ingest
        .store_batch("test", "seed", now, 1, batch)
        .await
        .unwrap();
    assert!(run.error.is_none(), "{:?}", run.error);
}

/// A mid of BTC at `at` (market memory).
pub async fn mid_at(ingest: &PgIngestService, at: DateTime<Utc>, price: Decimal) {
    let key = InstrumentKey::perp("replay", "BTC").unwrap();
    let batch = Batch {
        mids: vec![(key, at, price)],
        ..Batch::default()
    };
    ingest
        .store_batch("test", "mid", at, 1, batch)
        .await
        .unwrap();
}

pub fn llm(base_url: &str) -> Arc<dyn DecisionModel> {
    Arc::new(
        OpenAiModel::new(OpenAiSettings {
            base_url: base_url.to_string(),
            api_key: Some("sk-test".parse().unwrap()),
            timeout: StdDuration::from_millis(400),
            max_retries: 2,
            backoff: StdDuration::from_millis(10),
            prices: parse_prices("gpt-4o-mini=0.15/0.6").unwrap(),
            max_tokens: 256,
        })
        .unwrap(),
    )
}

/// A request the stub saw.
#[derive(Debug, Clone)]
pub struct Request {
    pub target: String,
    pub head: String,
    pub body: String,
}

impl Request {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What the stub answers, after an optional delay.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Option<StdDuration>,
    /// A `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
}

impl Reply {
    /// A chat completion whose message content is `content`.
    pub fn completion(content: &str) -> Self {
        Self {
            status: 200,
            body: serde_json::json!({
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
            })
            .to_string(),
            delay: None,
            retry_after: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: "{\"error\":\"stub\"}".into(),
            delay: None,
            retry_after: None,
        }
    }

    pub fn retry_after(self, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..self
        }
    }

    pub fn slow(self, delay: StdDuration) -> Self {
        Self {
            delay: Some(delay),
            ..self
        }
    }
}

pub struct Stub {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let target = head.lines().next()?.split_whitespace().nth(1)?.to_string();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).to_string();
    Some(Request { target, head, body })
}

/// Serves `handler` on 127.0.0.1:0 under `/v1`, one request per connection. The handler gets
/// the request and its zero-based number.
pub async fn stub(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Stub {
    let handler = Arc::new(handler);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (task_hits, task_requests) = (hits.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let hits = task_hits.clone();
            let requests = task_requests.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut stream).await else {
                    return;
                };
                let number = hits.fetch_add(1, Ordering::SeqCst);
                let reply = handler(&request, number);
                requests.lock().unwrap().push(request);
                if let Some(delay) = reply.delay {
                    tokio::time::sleep(delay).await;
                }
                let retry_after = reply
                    .retry_after
                    .map(|seconds| format!("Retry-After: {seconds}\r\n"))
                    .unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 {} Stub\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry_after}Connection: close\r\n\r\n",
                    reply.status,
                    reply.body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(reply.body.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Stub {
        url,
        hits,
        requests,
    }
}
