//! A database with an ingest service over it, and a tiny HTTP/1.1 stub server on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use clones_ingest::PgIngestService;
use clones_kernel::FixedClock;
use clones_test_db::TestDb;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

pub struct Env {
    pub db: TestDb,
    pub clock: FixedClock,
    pub service: Arc<PgIngestService>,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

pub async fn env() -> Env {
    clones_runtime::install_tls_provider();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(t0());
    let service = Arc::new(PgIngestService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
    ));
    Env { db, clock, service }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Env {
    pub fn count(&self, table: &str) -> i64 {
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<Count>(&mut self.db.owner_connection().unwrap())
            .unwrap()
            .n
    }

    /// Rows in every market-memory table.
    pub fn market_rows(&self) -> i64 {
        [
            "market_instruments",
            "market_candles",
            "market_mids",
            "market_books",
            "market_funding_rates",
            "prediction_markets",
            "prediction_outcome_prices",
            "defi_metrics",
        ]
        .iter()
        .map(|table| self.count(table))
        .sum()
    }
}

/// A request the stub saw.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub body: String,
}

impl Request {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What the stub answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(value: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body: value.to_string(),
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: "{\"error\":\"stub\"}".into(),
        }
    }
}

pub type Handler = Arc<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

pub struct Stub {
    pub url: Url,
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
    let mut chunk = [0u8; 4096];
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
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let length = lines
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
    Some(Request {
        method,
        target,
        body,
    })
}

/// Serves `handler` on 127.0.0.1:0, one request per connection. The handler gets the request
/// and its zero-based number.
pub async fn stub(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Stub {
    let handler: Handler = Arc::new(handler);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
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
                let mut head = format!(
                    "HTTP/1.1 {} Stub\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    reply.status,
                    reply.body.len()
                );
                for (name, value) in &reply.headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
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

/// A fast retry policy for tests.
pub fn policy() -> clones_ingest::http::HttpPolicy {
    clones_ingest::http::HttpPolicy {
        timeout: std::time::Duration::from_secs(2),
        max_attempts: 3,
        base_backoff: std::time::Duration::from_millis(20),
        max_backoff: std::time::Duration::from_secs(2),
        max_body_bytes: 1024 * 1024,
    }
}
