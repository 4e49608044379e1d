//! The live executor through the whole pipeline against a stateful stub CLOB that verifies
//! every signature: a FAK order placed once per fill, an answer lost after the venue took the
//! order found again by its hash (never resent), an order the venue never got sent on
//! recovery, and status sync following a resting order until it fills.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clones_copy_mirror::clob::{
    ApiCredentials, ClobAccount, ClobClient, ClobExecutor, ClobSettings, HouseAccount, OrderSigner,
    Wallet,
};
use clones_copy_mirror::{
    CopyTradeService, CopyTradeSettings, ExecutorKind, GrantRequest, PaperExecutor,
    PgCopyTradeService, TradeSide,
};
use clones_kernel::{Clock, PageRequest};
use uuid::Uuid;

use crate::stub::{API_KEY, PASSPHRASE, Reply, Request, Stub, order_or, secret, signer, stub};
use crate::support::{Fixture, WALLET, d, fill, fixture, target};

/// How the stub venue treats a posted order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Posting {
    /// Takes it and answers `matched`.
    Match,
    /// Takes it, rests it (`live`, nothing matched yet) and answers.
    Rest,
    /// Takes it and hangs up before answering.
    TakeAndHangUp,
    /// Hangs up without taking it.
    Drop,
}

/// Orders the stub venue holds, by hash: (original size, matched size, status).
type Book = Arc<Mutex<HashMap<String, (String, String, String)>>>;

struct Venue {
    stub: Stub,
    book: Book,
    posts: Arc<AtomicUsize>,
    posting: Arc<Mutex<Posting>>,
}

impl Venue {
    fn posting(&self, posting: Posting) {
        *self.posting.lock().unwrap() = posting;
    }

    fn fill_everything(&self) {
        for order in self.book.lock().unwrap().values_mut() {
            order.1 = order.0.clone();
            order.2 = "MATCHED".into();
        }
    }

    fn orders(&self) -> usize {
        self.book.lock().unwrap().len()
    }
}

fn open_order(hash: &str, original: &str, matched: &str, status: &str) -> serde_json::Value {
    serde_json::json!({
        "id": hash, "status": status, "owner": API_KEY,
        "maker_address": signer().address().to_checksum(None),
        "market": format!("0x{}", "d".repeat(64)), "asset_id": crate::support::TOKEN,
        "side": "BUY", "original_size": original, "size_matched": matched, "price": "0.5",
        "associate_trades": [], "outcome": "Yes", "created_at": 1_764_979_200,
        "expiration": "0", "order_type": "FAK"
    })
}

fn answer(request: &Request, book: &Book, posts: &AtomicUsize, posting: Posting) -> Reply {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/book") => Reply::json(
            200,
            serde_json::json!({
                "market": format!("0x{}", "d".repeat(64)), "asset_id": crate::support::TOKEN,
                "timestamp": "1764979200000", "hash": "0x1", "bids": [], "asks": [],
                "min_order_size": "5", "neg_risk": false, "tick_size": "0.01"
            }),
        ),
        ("POST", "/order") => order_or(request, || {
            posts.fetch_add(1, Ordering::SeqCst);
            let Some(hash) = request.order_hash().map(|hash| hash.to_string()) else {
                return Reply::json(400, serde_json::json!({"error": "bad order"}));
            };
            let order = &request.json()["order"];
            let shares = order["takerAmount"].as_str().unwrap_or("0");
            let shares = d(shares) / d("1000000");
            let (matched, status) = match posting {
                Posting::Rest => ("0".to_string(), "LIVE"),
                _ => (shares.to_string(), "MATCHED"),
            };
            if posting != Posting::Drop {
                book.lock().unwrap().insert(
                    hash.clone(),
                    (shares.to_string(), matched.clone(), status.into()),
                );
            }
            match posting {
                Posting::TakeAndHangUp | Posting::Drop => Reply::hang_up(),
                Posting::Match | Posting::Rest => Reply::json(
                    200,
                    serde_json::json!({
                        "success": true, "errorMsg": "", "orderID": hash,
                        "status": status.to_ascii_lowercase(),
                        "makingAmount": "", "takingAmount": matched,
                        "transactionsHashes": []
                    }),
                ),
            }
        }),
        ("GET", path) if path.starts_with("/data/order/") => crate::stub::l2_or(request, || {
            let hash = path.trim_start_matches("/data/order/");
            match book.lock().unwrap().get(hash) {
                Some((original, matched, status)) => {
                    Reply::json(200, open_order(hash, original, matched, status))
                }
                None => Reply::json(200, serde_json::Value::Null),
            }
        }),
        _ => Reply::json(404, serde_json::json!({"error": "not found"})),
    }
}

async fn venue() -> Venue {
    let book: Book = Arc::default();
    let posts = Arc::new(AtomicUsize::new(0));
    let posting = Arc::new(Mutex::new(Posting::Match));
    let (handler_book, handler_posts, handler_posting) =
        (book.clone(), posts.clone(), posting.clone());
    let stub = stub(move |request, _| {
        let posting = *handler_posting.lock().unwrap();
        answer(request, &handler_book, &handler_posts, posting)
    })
    .await;
    Venue {
        stub,
        book,
        posts,
        posting,
    }
}

/// A copy-trade service whose live executor trades on `venue` for every tenant.
fn live_service(f: &Fixture, venue: &Venue) -> PgCopyTradeService {
    let client = ClobClient::new(
        ClobSettings {
            base_url: venue.stub.url.clone(),
            chain_id: 137,
            timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_millis(500),
        },
        signer(),
        Arc::new(f.clock.clone()),
    )
    .unwrap()
    .with_credentials(ApiCredentials::new(API_KEY, secret(), PASSPHRASE.into()));
    let account = ClobAccount {
        client,
        signer: OrderSigner::new(signer(), Wallet::Eoa, 137),
    };
    PgCopyTradeService::new(
        f.db.db().clone(),
        Arc::new(f.clock.clone()),
        f.services.prop.clone(),
        Arc::new(PaperExecutor::new(f.services.prop.clone())),
        Some(Arc::new(ClobExecutor::new(Arc::new(HouseAccount(
            Arc::new(account),
        ))))),
        CopyTradeSettings::default(),
    )
}

async fn live_tenant(service: &PgCopyTradeService, f: &Fixture) -> Uuid {
    let owner = f.user().await;
    service
        .set_grant(
            owner,
            GrantRequest {
                executor: Some(ExecutorKind::Clob),
                ..crate::support::grant()
            },
        )
        .await
        .unwrap();
    service.add_target(owner, target()).await.unwrap();
    owner
}

fn page() -> PageRequest {
    PageRequest::new(Some(50), None).unwrap()
}

#[tokio::test]
async fn a_live_grant_places_one_signed_fak_order_per_fill() {
    let f = fixture().await;
    let venue = venue().await;
    let service = live_service(&f, &venue);
    let owner = live_tenant(&service, &f).await;
    let buy = fill(1, TradeSide::Buy, "40");
    let tick = service
        .mirror(WALLET, std::slice::from_ref(&buy))
        .await
        .unwrap();
    assert_eq!(tick.placed, 1, "{tick:?}");
    assert_eq!(service.mirror(WALLET, &[buy]).await.unwrap().duplicates, 1);
    assert_eq!(venue.posts.load(Ordering::SeqCst), 1);
    let posted = venue
        .stub
        .requests()
        .into_iter()
        .find(|request| request.path == "/order")
        .unwrap();
    assert_eq!(posted.json()["orderType"], "FAK");
    // The signed time is the claim time, so a lookup re-derives the same order.
    assert_eq!(
        posted.json()["order"]["timestamp"],
        f.clock.now().timestamp_millis().to_string()
    );
    let ledger = service.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "filled");
    assert_eq!(
        ledger[0].venue_order_id.as_deref(),
        Some(posted.order_hash().unwrap().to_string().as_str())
    );
    assert!(ledger[0].synced_at.is_some());
}

#[tokio::test]
async fn a_lost_answer_is_found_by_the_order_hash_and_never_resent() {
    let f = fixture().await;
    let venue = venue().await;
    let service = live_service(&f, &venue);
    let owner = live_tenant(&service, &f).await;
    venue.posting(Posting::TakeAndHangUp);
    let tick = service
        .mirror(WALLET, &[fill(2, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.unresolved, 1, "{tick:?}");
    assert_eq!(venue.orders(), 1);
    f.clock.advance(chrono::Duration::seconds(31));
    venue.posting(Posting::Match);
    let recovered = service.recover().await.unwrap();
    assert_eq!(recovered.placed, 1, "{recovered:?}");
    assert_eq!(venue.posts.load(Ordering::SeqCst), 1, "never resent");
    let ledger = service.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "filled");
    let decisions = service.decisions(owner, page()).await.unwrap().items;
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].outcome, "placed");
}

#[tokio::test]
async fn an_order_the_venue_never_got_is_sent_once_on_recovery() {
    let f = fixture().await;
    let venue = venue().await;
    let service = live_service(&f, &venue);
    let owner = live_tenant(&service, &f).await;
    venue.posting(Posting::Drop);
    let tick = service
        .mirror(WALLET, &[fill(3, TradeSide::Buy, "40")])
        .await
        .unwrap();
    assert_eq!(tick.unresolved, 1);
    assert_eq!(venue.orders(), 0);
    f.clock.advance(chrono::Duration::seconds(31));
    venue.posting(Posting::Match);
    assert_eq!(service.recover().await.unwrap().placed, 1);
    assert_eq!(venue.orders(), 1);
    // Recovery again finds nothing left to do.
    f.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(service.recover().await.unwrap().examined, 0);
    assert_eq!(venue.orders(), 1);
    let ledger = service.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "filled");
}

#[tokio::test]
async fn status_sync_follows_a_resting_order_until_it_fills() {
    let f = fixture().await;
    let venue = venue().await;
    let service = live_service(&f, &venue);
    let owner = live_tenant(&service, &f).await;
    venue.posting(Posting::Rest);
    assert_eq!(
        service
            .mirror(WALLET, &[fill(4, TradeSide::Buy, "40")])
            .await
            .unwrap()
            .placed,
        1
    );
    let ledger = service.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "placed");
    let placed_sync = ledger[0].synced_at.unwrap();
    assert_eq!(service.sync_health(owner).await.unwrap().open_orders, 1);
    // Confirmed just now: nothing to read back yet.
    assert_eq!(service.sync().await.unwrap().checked, 0);
    f.clock.advance(chrono::Duration::seconds(31));
    let still_live = service.sync().await.unwrap();
    assert_eq!((still_live.checked, still_live.changed), (1, 0));
    venue.fill_everything();
    f.clock.advance(chrono::Duration::seconds(31));
    let filled = service.sync().await.unwrap();
    assert_eq!((filled.checked, filled.changed), (1, 1), "{filled:?}");
    let ledger = service.fills(owner, page()).await.unwrap().items;
    assert_eq!(ledger[0].status, "filled");
    assert!(ledger[0].synced_at.unwrap() > placed_sync);
    assert_eq!(service.sync_health(owner).await.unwrap().open_orders, 0);
    assert_eq!(venue.posts.load(Ordering::SeqCst), 1);
}
