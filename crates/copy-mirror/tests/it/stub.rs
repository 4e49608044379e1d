//! A stub CLOB on 127.0.0.1 that checks what the real one checks: the L2 HMAC of every
//! trading request, the L1 `ClobAuth` signature of key requests and the EIP-712 signature of
//! every posted order (recovered with alloy and compared to the order's signer and maker).
//! It answers what the test asks: success, rejection, a delay past the client's timeout, a
//! 502 or a hang-up. Beside it, a stub Data API and a stub market channel (WebSocket).

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256, Signature, U256, address};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolStruct, eip712_domain};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// Anvil's first development key: public knowledge, never funded.
pub const ANVIL_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const API_KEY: &str = "9b3f5c0e-2d41-4a7e-8f11-5e6d7c8b9a01";
pub const PASSPHRASE: &str = "stub-passphrase";
pub const TOKEN: &str =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";
pub const CLIENT_ORDER_ID: &str =
    "0x5f1c7e0b3a9d4e2f8c6b1a0d9e8f7c6b5a4d3e2f1c0b9a8d7e6f5c4b3a2d1e0f";
pub const CTF: Address = address!("0xE111180000d2663C0091e4f400237545B87B996B");
pub const NEG_RISK: Address = address!("0xe2222d279d744050d28e00520010520000310F59");
pub const NOW: i64 = 1_764_979_200;

mod typed {
    alloy::sol! {
        struct Order {
            uint256 salt;
            address maker;
            address signer;
            uint256 tokenId;
            uint256 makerAmount;
            uint256 takerAmount;
            uint8 side;
            uint8 signatureType;
            uint256 timestamp;
            bytes32 metadata;
            bytes32 builder;
        }

        struct ClobAuth {
            address address;
            string timestamp;
            uint256 nonce;
            string message;
        }
    }
}

pub fn secret() -> String {
    URL_SAFE.encode(b"a stub CLOB secret of 32 bytes!!")
}

pub fn signer() -> PrivateKeySigner {
    ANVIL_0.parse().unwrap()
}

/// A request the stub saw.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the L2 headers are those of the stub's credentials and the HMAC covers
    /// `timestamp + method + path + body`.
    pub fn l2_valid(&self) -> bool {
        self.l2_valid_for(
            &Credentials {
                api_key: API_KEY.into(),
                secret: secret(),
                passphrase: PASSPHRASE.into(),
            },
            signer().address(),
        )
    }

    /// Whether the L2 headers are `credentials`' for `address` and the HMAC covers
    /// `timestamp + method + path + body`.
    pub fn l2_valid_for(&self, credentials: &Credentials, address: Address) -> bool {
        let (Some(signature), Some(timestamp)) =
            (self.header("POLY_SIGNATURE"), self.header("POLY_TIMESTAMP"))
        else {
            return false;
        };
        let key = URL_SAFE.decode(&credentials.secret).unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(format!("{timestamp}{}{}{}", self.method, self.path, self.body).as_bytes());
        let expected = URL_SAFE.encode(mac.finalize().into_bytes());
        signature == expected
            && self.header("POLY_API_KEY") == Some(credentials.api_key.as_str())
            && self.header("POLY_PASSPHRASE") == Some(credentials.passphrase.as_str())
            && self.header("POLY_ADDRESS") == Some(&address.to_checksum(None))
    }

    /// The `POLY_ADDRESS` header as an address.
    pub fn address(&self) -> Option<Address> {
        Address::from_str(self.header("POLY_ADDRESS")?).ok()
    }

    /// Whether the L1 signature recovers to `POLY_ADDRESS` over `ClobAuth` on chain 137.
    pub fn l1_valid(&self) -> bool {
        let (Some(address), Some(signature), Some(timestamp), Some(nonce)) = (
            self.header("POLY_ADDRESS"),
            self.header("POLY_SIGNATURE"),
            self.header("POLY_TIMESTAMP"),
            self.header("POLY_NONCE"),
        ) else {
            return false;
        };
        let Ok(address) = Address::from_str(address) else {
            return false;
        };
        let auth = typed::ClobAuth {
            address,
            timestamp: timestamp.to_string(),
            nonce: U256::from_str(nonce).unwrap_or_default(),
            message: "This message attests that I control the given wallet".into(),
        };
        let domain = eip712_domain! { name: "ClobAuthDomain", version: "1", chain_id: 137, };
        let hash = auth.eip712_signing_hash(&domain);
        Signature::from_str(signature)
            .ok()
            .and_then(|signature| signature.recover_address_from_prehash(&hash).ok())
            == Some(address)
    }

    /// The exchange whose domain the posted order's signature recovers to its signer in,
    /// when the signer is also the maker (an EOA order).
    pub fn order_exchange(&self) -> Option<Address> {
        self.verified_order().map(|(exchange, _)| exchange)
    }

    /// The posted order's EIP-712 hash (the venue's order id), when its signature verifies.
    pub fn order_hash(&self) -> Option<B256> {
        self.verified_order().map(|(_, hash)| hash)
    }

    /// The posted order's signer, when its signature verifies.
    pub fn order_signer(&self) -> Option<Address> {
        self.verified_order()?;
        Address::from_str(self.json()["order"]["signer"].as_str()?).ok()
    }

    fn verified_order(&self) -> Option<(Address, B256)> {
        let order = self.json()["order"].clone();
        let text = |field: &str| order[field].as_str().map(str::to_string);
        let signer = Address::from_str(&text("signer")?).ok()?;
        let maker = Address::from_str(&text("maker")?).ok()?;
        let typed = typed::Order {
            salt: U256::from(order["salt"].as_u64()?),
            maker,
            signer,
            tokenId: U256::from_str_radix(&text("tokenId")?, 10).ok()?,
            makerAmount: U256::from_str_radix(&text("makerAmount")?, 10).ok()?,
            takerAmount: U256::from_str_radix(&text("takerAmount")?, 10).ok()?,
            side: match text("side")?.as_str() {
                "BUY" => 0,
                "SELL" => 1,
                _ => return None,
            },
            signatureType: u8::try_from(order["signatureType"].as_u64()?).ok()?,
            timestamp: U256::from_str_radix(&text("timestamp")?, 10).ok()?,
            metadata: B256::from_str(&text("metadata")?).ok()?,
            builder: B256::from_str(&text("builder")?).ok()?,
        };
        let signature = Signature::from_str(&text("signature")?).ok()?;
        [CTF, NEG_RISK].into_iter().find_map(|exchange| {
            let domain = eip712_domain! {
                name: "Polymarket CTF Exchange",
                version: "2",
                chain_id: 137,
                verifying_contract: exchange,
            };
            let hash = typed.eip712_signing_hash(&domain);
            (signature.recover_address_from_prehash(&hash).ok() == Some(signer) && signer == maker)
                .then_some((exchange, hash))
        })
    }
}

/// L2 credentials a stub CLOB minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub api_key: String,
    pub secret: String,
    pub passphrase: String,
}

/// What the stub answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Option<Duration>,
    /// Close the connection without answering.
    pub hang_up: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            delay: None,
            hang_up: false,
        }
    }

    pub fn slow(self, delay: Duration) -> Self {
        Self {
            delay: Some(delay),
            ..self
        }
    }

    pub fn hang_up() -> Self {
        Self {
            hang_up: true,
            ..Self::json(200, serde_json::Value::Null)
        }
    }
}

pub struct Stub {
    pub url: String,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
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
    let mut lines = head.lines();
    let mut start = lines.next()?.split_whitespace();
    let method = start.next()?.to_string();
    let target = start.next()?.to_string();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (target, String::new()),
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
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
        path,
        query,
        headers,
        body,
    })
}

/// Serves `handler` on 127.0.0.1:0, one request per connection.
pub async fn stub(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Stub {
    let handler = Arc::new(handler);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
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
                if reply.hang_up {
                    drop(stream);
                    return;
                }
                let head = format!(
                    "HTTP/1.1 {} Stub\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
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

/// Refuses any trading request whose L2 headers do not verify, as the venue does.
pub fn l2_or(request: &Request, reply: impl FnOnce() -> Reply) -> Reply {
    if request.l2_valid() {
        reply()
    } else {
        Reply::json(
            401,
            serde_json::json!({"error": "Unauthorized/Invalid api key"}),
        )
    }
}

/// `POST /order`: 400 unless the HMAC and the order's signature verify, then `reply`.
pub fn order_or(request: &Request, reply: impl FnOnce() -> Reply) -> Reply {
    l2_or(request, || {
        if request.method == "POST"
            && request.path == "/order"
            && request.order_exchange().is_some()
        {
            reply()
        } else {
            Reply::json(400, serde_json::json!({"error": "invalid order signature"}))
        }
    })
}

pub fn accepted() -> Reply {
    Reply::json(
        200,
        serde_json::json!({
            "success": true,
            "errorMsg": "",
            "orderID": "0x8d9c6b3e7a1f2d4c5b6a7980e1f2d3c4b5a69788e1f2d3c4b5a6978812345678",
            "status": "matched",
            "makingAmount": "5460000",
            "takingAmount": "10500000",
            "transactionsHashes": ["0x3a1f000000000000000000000000000000000000000000000000000000000001"]
        }),
    )
}

/// A Data API serving `trades` (all on one page) and recording the queries it saw.
pub async fn data_api(
    trades: Arc<Mutex<Vec<serde_json::Value>>>,
    seen: Arc<Mutex<Vec<String>>>,
) -> String {
    data_api_with_positions(trades, Arc::default(), seen).await
}

/// A Data API serving `trades` at `/trades` and, at `/positions`, the positions of the
/// `user` the query names from `positions` (by lower-case address; none: an empty list).
pub async fn data_api_with_positions(
    trades: Arc<Mutex<Vec<serde_json::Value>>>,
    positions: Positions,
    seen: Arc<Mutex<Vec<String>>>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (trades, seen, positions) = (trades.clone(), seen.clone(), positions.clone());
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let read = stream.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..read]).to_string();
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                seen.lock().unwrap().push(target.clone());
                let body = if target.starts_with("/positions") {
                    let user = target
                        .split(['?', '&'])
                        .find_map(|pair| pair.strip_prefix("user="))
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    let held = positions.lock().unwrap().get(&user).cloned();
                    serde_json::Value::Array(held.unwrap_or_default()).to_string()
                } else {
                    serde_json::Value::Array(trades.lock().unwrap().clone()).to_string()
                };
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

/// Data API positions by lower-case wallet address.
pub type Positions = Arc<Mutex<std::collections::HashMap<String, Vec<serde_json::Value>>>>;

/// A stub CLOB with one wallet per tenant: it mints L2 credentials per address on
/// `POST /auth/api-key` (once; a second create is refused, as the venue does) and hands them
/// back on `GET /auth/derive-api-key`, both only with a valid L1 signature; it checks every
/// trading request's HMAC against the credentials it minted for `POLY_ADDRESS`, and takes an
/// order only when its signature verifies and its signer is that address. While `down`, it
/// answers 503 to everything.
pub struct WalletVenue {
    pub stub: Stub,
    pub minted: Arc<Mutex<std::collections::HashMap<Address, Credentials>>>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
    /// The signer of every order taken.
    pub signers: Arc<Mutex<Vec<Address>>>,
}

impl WalletVenue {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn signers(&self) -> Vec<Address> {
        self.signers.lock().unwrap().clone()
    }

    /// The L1 key requests the stub answered (create or derive).
    pub fn key_requests(&self) -> Vec<Request> {
        self.stub
            .requests()
            .into_iter()
            .filter(|request| request.path.starts_with("/auth/"))
            .collect()
    }
}

pub async fn wallet_venue() -> WalletVenue {
    let minted: Arc<Mutex<std::collections::HashMap<Address, Credentials>>> = Arc::default();
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signers: Arc<Mutex<Vec<Address>>> = Arc::default();
    let (task_minted, task_down, task_signers) = (minted.clone(), down.clone(), signers.clone());
    let stub = stub(move |request, number| {
        if task_down.load(Ordering::SeqCst) {
            return Reply::json(503, serde_json::json!({"error": "down"}));
        }
        let refused = || {
            Reply::json(
                401,
                serde_json::json!({"error": "Unauthorized/Invalid api key"}),
            )
        };
        let as_json = |credentials: &Credentials| {
            Reply::json(
                200,
                serde_json::json!({
                    "apiKey": credentials.api_key,
                    "secret": credentials.secret,
                    "passphrase": credentials.passphrase
                }),
            )
        };
        let mut minted = task_minted.lock().unwrap();
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/auth/api-key") | ("GET", "/auth/derive-api-key") => {
                let (true, Some(address)) = (request.l1_valid(), request.address()) else {
                    return refused();
                };
                match (request.method.as_str(), minted.get(&address)) {
                    ("POST", Some(_)) => Reply::json(
                        400,
                        serde_json::json!({"error": "Could not create api key"}),
                    ),
                    ("GET", Some(credentials)) => as_json(credentials),
                    ("GET", None) => Reply::json(404, serde_json::json!({"error": "not found"})),
                    _ => {
                        let credentials = Credentials {
                            api_key: uuid::Uuid::new_v4().to_string(),
                            secret: URL_SAFE.encode(format!("secret {number:>25}").as_bytes()),
                            passphrase: format!("passphrase-{number}"),
                        };
                        minted.insert(address, credentials.clone());
                        as_json(&credentials)
                    }
                }
            }
            ("GET", "/book") => Reply::json(
                200,
                serde_json::json!({
                    "market": format!("0x{}", "d".repeat(64)), "asset_id": TOKEN,
                    "timestamp": "1764979200000", "hash": "0x1", "bids": [], "asks": [],
                    "min_order_size": "5", "neg_risk": false, "tick_size": "0.01"
                }),
            ),
            ("POST", "/order") => {
                let valid = request.address().is_some_and(|address| {
                    minted
                        .get(&address)
                        .is_some_and(|credentials| request.l2_valid_for(credentials, address))
                });
                if !valid {
                    return refused();
                }
                let signer = request.order_signer();
                if signer.is_none() || signer != request.address() {
                    return Reply::json(
                        400,
                        serde_json::json!({"error": "invalid order signature"}),
                    );
                }
                task_signers.lock().unwrap().extend(signer);
                // A buy matched in full: the shares it took, as the live stub answers.
                let taker = request.json()["order"]["takerAmount"]
                    .as_str()
                    .and_then(|amount| rust_decimal::Decimal::from_str(amount).ok())
                    .unwrap_or_default();
                let shares = taker / rust_decimal::Decimal::from(1_000_000);
                Reply::json(
                    200,
                    serde_json::json!({
                        "success": true, "errorMsg": "",
                        "orderID": request.order_hash().unwrap().to_string(),
                        "status": "matched", "makingAmount": "",
                        "takingAmount": shares.normalize().to_string(), "transactionsHashes": []
                    }),
                )
            }
            _ => Reply::json(404, serde_json::json!({"error": "not found"})),
        }
    })
    .await;
    WalletVenue {
        stub,
        minted,
        down,
        signers,
    }
}

/// A stub market channel: records every text message, answers `PING` with `PONG`, sends
/// whatever the test pushes to every open connection, and can drop the first connection
/// right after its subscription.
pub struct Channel {
    pub url: String,
    pub received: Arc<Mutex<Vec<String>>>,
    pub connections: Arc<AtomicUsize>,
    pub push: tokio::sync::broadcast::Sender<String>,
}

impl Channel {
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    pub fn subscriptions(&self) -> Vec<serde_json::Value> {
        self.received()
            .iter()
            .filter_map(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .collect()
    }
}

pub async fn channel(drop_first: bool) -> Channel {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/market", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let (push, _) = tokio::sync::broadcast::channel::<String>(16);
    let (task_received, task_connections, task_push) =
        (received.clone(), connections.clone(), push.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let number = task_connections.fetch_add(1, Ordering::SeqCst);
            let (received, mut pushed) = (task_received.clone(), task_push.subscribe());
            tokio::spawn(async move {
                let Ok(socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let (mut sink, mut frames) = socket.split();
                loop {
                    tokio::select! {
                        frame = frames.next() => {
                            let Some(Ok(Message::Text(text))) = frame else { return };
                            let text = text.to_string();
                            received.lock().unwrap().push(text.clone());
                            if text == "PING" {
                                let _ = sink.send(Message::text("PONG")).await;
                            } else if drop_first && number == 0 {
                                return;
                            }
                        }
                        Ok(event) = pushed.recv() => {
                            let _ = sink.send(Message::text(event)).await;
                        }
                    }
                }
            });
        }
    });
    Channel {
        url,
        received,
        connections,
        push,
    }
}
