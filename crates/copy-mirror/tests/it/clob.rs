//! The CLOB client's paths: an order accepted, rejected (both shapes), timed out, answered
//! 502, reset, unreadable, never sent; lookups, pages, cancels and key creation.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use chrono::DateTime;
use clones_copy_mirror::TradeSide;
use clones_copy_mirror::clob::client::END_CURSOR;
use clones_copy_mirror::clob::{
    ApiCredentials, ClobClient, ClobError, ClobSettings, OrderArgs, OrderFilter, OrderSigner,
    OrderType, SignedOrder, TradeFilter, Wallet,
};
use clones_kernel::FixedClock;
use rust_decimal::Decimal;
use tokio::net::TcpListener;

use crate::stub::{
    API_KEY, CLIENT_ORDER_ID, CTF, NEG_RISK, NOW, PASSPHRASE, Reply, Request, TOKEN, accepted,
    l2_or, order_or, secret, signer, stub,
};

fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn client(url: &str, secret: String) -> ClobClient {
    tls();
    ClobClient::new(
        ClobSettings {
            base_url: url.to_string(),
            chain_id: 137,
            timeout: Duration::from_millis(400),
            connect_timeout: Duration::from_millis(400),
        },
        signer(),
        Arc::new(FixedClock::at(DateTime::from_timestamp(NOW, 0).unwrap())),
    )
    .unwrap()
    .with_credentials(ApiCredentials::new(API_KEY, secret, PASSPHRASE.into()))
}

fn args(neg_risk: bool) -> OrderArgs {
    OrderArgs {
        token_id: TOKEN.into(),
        side: TradeSide::Buy,
        price: Decimal::new(52, 2),
        size: Decimal::new(105, 1),
        tick_size: Decimal::new(1, 2),
        neg_risk,
        order_type: OrderType::Gtc,
        expiration: 0,
        post_only: false,
        client_order_id: CLIENT_ORDER_ID.into(),
        timestamp_ms: 1_764_979_200_123,
    }
}

fn signed(neg_risk: bool) -> SignedOrder {
    OrderSigner::new(signer(), Wallet::Eoa, 137)
        .sign(&args(neg_risk))
        .unwrap()
}

#[tokio::test]
async fn an_accepted_order_is_verified_by_the_venue_and_parsed() {
    let stub = stub(|request, _| order_or(request, accepted)).await;
    let placement = client(&stub.url, secret())
        .post_order(&signed(false))
        .await
        .unwrap();
    assert!(placement.success);
    assert_eq!(placement.status, "matched");
    assert_eq!(placement.making_amount, "5460000");
    assert_eq!(placement.transactions_hashes.len(), 1);

    let request = &stub.requests()[0];
    assert!(request.l2_valid());
    assert_eq!(request.order_exchange(), Some(CTF));
    assert_eq!(request.header("POLY_TIMESTAMP"), Some("1764979200"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["owner"], API_KEY);
    assert_eq!(body["orderType"], "GTC");
    assert_eq!(body["deferExec"], false);
    assert_eq!(body["postOnly"], false);
    assert_eq!(body["order"]["timestamp"], "1764979200123");
    assert_eq!(body["order"]["makerAmount"], "5460000");
    assert_eq!(body["order"]["takerAmount"], "10500000");
}

#[tokio::test]
async fn a_neg_risk_order_is_signed_for_the_neg_risk_exchange() {
    let stub = stub(|request, _| order_or(request, accepted)).await;
    client(&stub.url, secret())
        .post_order(&signed(true))
        .await
        .unwrap();
    assert_eq!(stub.requests()[0].order_exchange(), Some(NEG_RISK));
}

#[tokio::test]
async fn a_rejection_carries_the_venues_message_in_either_shape() {
    let stub = stub(|request, number| {
        order_or(request, || match number {
            0 => Reply::json(
                200,
                serde_json::json!({"success": false, "errorMsg": "not enough balance / allowance", "orderID": "", "status": "", "makingAmount": "", "takingAmount": "", "transactionsHashes": []}),
            ),
            _ => Reply::json(
                400,
                serde_json::json!({"error": "order_version_mismatch"}),
            ),
        })
    })
    .await;
    let client = client(&stub.url, secret());
    assert_eq!(
        client.post_order(&signed(false)).await,
        Err(ClobError::Rejected {
            status: 200,
            message: "not enough balance / allowance".into()
        })
    );
    assert_eq!(
        client.post_order(&signed(false)).await,
        Err(ClobError::Rejected {
            status: 400,
            message: "order_version_mismatch".into()
        })
    );
}

#[tokio::test]
async fn the_stub_refuses_a_wrong_secret_so_its_checks_are_real() {
    let stub = stub(|request, _| order_or(request, accepted)).await;
    let wrong = URL_SAFE.encode(b"another secret of thirty-two b!!");
    let error = client(&stub.url, wrong)
        .post_order(&signed(false))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ClobError::Rejected {
            status: 401,
            message: "Unauthorized/Invalid api key".into()
        }
    );
    assert!(!stub.requests()[0].l2_valid());
}

#[tokio::test]
async fn a_venue_slower_than_the_timeout_is_ambiguous_and_not_resent() {
    let stub =
        stub(|request, _| order_or(request, || accepted().slow(Duration::from_secs(2)))).await;
    let error = client(&stub.url, secret())
        .post_order(&signed(false))
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stub.hits(), 1);
}

#[tokio::test]
async fn a_502_is_ambiguous_and_not_resent() {
    let stub = stub(|request, _| {
        order_or(request, || {
            Reply::json(502, serde_json::json!({"error": "bad gateway"}))
        })
    })
    .await;
    let error = client(&stub.url, secret())
        .post_order(&signed(false))
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    assert!(error.to_string().contains("502"));
    assert_eq!(stub.hits(), 1);
}

#[tokio::test]
async fn a_reset_connection_is_ambiguous() {
    let stub = stub(|_, _| Reply::hang_up()).await;
    let error = client(&stub.url, secret())
        .post_order(&signed(false))
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    assert_eq!(stub.hits(), 1);
}

#[tokio::test]
async fn an_unreadable_success_is_ambiguous() {
    let stub =
        stub(|request, _| order_or(request, || Reply::json(200, serde_json::json!("ok")))).await;
    let error = client(&stub.url, secret())
        .post_order(&signed(false))
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
}

#[tokio::test]
async fn a_closed_port_is_unavailable_because_nothing_was_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = client(&url, secret())
        .post_order(&signed(false))
        .await
        .unwrap_err();
    assert!(matches!(error, ClobError::Unavailable { .. }), "{error:?}");
}

#[tokio::test]
async fn an_order_is_looked_up_by_id_and_a_missing_one_is_not_found() {
    let stub = stub(|request, _| {
        l2_or(request, || match request.path.as_str() {
            "/data/order/0xabc" => Reply::json(
                200,
                serde_json::json!({
                    "id": "0xabc", "status": "LIVE", "owner": API_KEY,
                    "maker_address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                    "market": "0xdd22", "asset_id": TOKEN, "side": "BUY",
                    "original_size": "10.5", "size_matched": "2", "price": "0.52",
                    "associate_trades": ["t1"], "outcome": "Yes", "created_at": 1764979200,
                    "expiration": "0", "order_type": "GTC"
                }),
            ),
            "/data/order/0xnull" => Reply::json(200, serde_json::Value::Null),
            _ => Reply::json(404, serde_json::json!({"error": "not found"})),
        })
    })
    .await;
    let client = client(&stub.url, secret());
    let order = client.order("0xabc").await.unwrap();
    assert_eq!(order.status, "LIVE");
    assert_eq!(order.side, TradeSide::Buy);
    assert_eq!(order.original_size, Decimal::new(105, 1));
    assert_eq!(order.size_matched, Decimal::from(2));
    assert_eq!(order.associate_trades, ["t1"]);
    assert_eq!(client.order("0xnull").await, Err(ClobError::NotFound));
    assert_eq!(client.order("0xdef").await, Err(ClobError::NotFound));
    assert_eq!(client.order("../admin").await, Err(ClobError::NotFound));
    assert_eq!(stub.hits(), 3);
    assert!(stub.requests().iter().all(Request::l2_valid));
}

#[tokio::test]
async fn orders_and_trades_page_from_the_first_cursor_to_the_end() {
    let stub = stub(|request, _| {
        l2_or(request, || {
            let order = serde_json::json!({
                "id": "0x1", "status": "LIVE", "asset_id": TOKEN, "side": "SELL",
                "original_size": "5", "size_matched": "0", "price": "0.4"
            });
            let trade = serde_json::json!({
                "id": "t1", "taker_order_id": "0x1", "market": "0xdd22", "asset_id": TOKEN,
                "side": "BUY", "size": "10", "price": "0.52", "status": "CONFIRMED",
                "match_time": "1764979200", "transaction_hash": "0x3a1f", "trader_side": "TAKER",
                "fee_rate_bps": "0", "maker_orders": []
            });
            let item = if request.path == "/data/orders" {
                order
            } else {
                trade
            };
            let next = if request.query.contains("next_cursor=MA%3D%3D") {
                "MQ=="
            } else {
                END_CURSOR
            };
            Reply::json(
                200,
                serde_json::json!({"data": [item], "next_cursor": next, "limit": 1, "count": 1}),
            )
        })
    })
    .await;
    let client = client(&stub.url, secret());
    let filter = OrderFilter {
        asset_id: Some(TOKEN.into()),
        ..OrderFilter::default()
    };
    let first = client.orders(&filter, None).await.unwrap();
    assert_eq!(first.next(), Some("MQ=="));
    assert_eq!(first.data[0].side, TradeSide::Sell);
    let last = client.orders(&filter, first.next()).await.unwrap();
    assert_eq!(last.next(), None);

    let trades = client
        .trades(
            &TradeFilter {
                maker: Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".into()),
                after: Some(NOW - 60),
                ..TradeFilter::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(trades.data[0].price, Decimal::new(52, 2));
    assert_eq!(trades.data[0].trader_side, "TAKER");

    let requests = stub.requests();
    assert!(requests.iter().all(Request::l2_valid));
    let queries: Vec<_> = requests.iter().map(|r| r.query.clone()).collect();
    assert!(queries.contains(&format!("asset_id={TOKEN}&next_cursor=MA%3D%3D")));
    assert!(queries.contains(&format!("asset_id={TOKEN}&next_cursor=MQ%3D%3D")));
    assert!(queries.contains(&format!(
        "maker=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266&after={}&next_cursor=MA%3D%3D",
        NOW - 60
    )));
}

#[tokio::test]
async fn cancel_sends_the_order_id_signed() {
    let stub = stub(|request, _| {
        l2_or(request, || {
            let id = request.json()["orderId"].as_str().unwrap_or("").to_string();
            Reply::json(
                200,
                serde_json::json!({"canceled": [id], "not_canceled": {"0xgone": "order not found"}}),
            )
        })
    })
    .await;
    let outcome = client(&stub.url, secret()).cancel("0xabc").await.unwrap();
    assert_eq!(outcome.canceled, ["0xabc"]);
    assert_eq!(outcome.not_canceled["0xgone"], "order not found");
    let request = &stub.requests()[0];
    assert_eq!(request.method, "DELETE");
    assert_eq!(request.path, "/order");
    assert_eq!(request.body, r#"{"orderId":"0xabc"}"#);
}

#[tokio::test]
async fn keys_are_created_or_derived_with_a_verified_l1_signature() {
    let stub = stub(|request, _| {
        if !request.l1_valid() {
            return Reply::json(401, serde_json::json!({"error": "Invalid L1 Request headers"}));
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/auth/api-key") => Reply::json(
                400,
                serde_json::json!({"error": "Could not create api key"}),
            ),
            ("GET", "/auth/derive-api-key") => Reply::json(
                200,
                serde_json::json!({"apiKey": API_KEY, "secret": secret(), "passphrase": PASSPHRASE}),
            ),
            _ => Reply::json(404, serde_json::json!({})),
        }
    })
    .await;
    tls();
    let client = ClobClient::new(
        ClobSettings {
            base_url: stub.url.clone(),
            chain_id: 137,
            timeout: Duration::from_millis(400),
            connect_timeout: Duration::from_millis(400),
        },
        signer(),
        Arc::new(FixedClock::at(DateTime::from_timestamp(NOW, 0).unwrap())),
    )
    .unwrap();
    let credentials = client.create_or_derive_api_key(7).await.unwrap();
    assert_eq!(credentials.api_key, API_KEY);
    assert_eq!(credentials.secret.expose(), &secret());
    assert!(!format!("{credentials:?}").contains(PASSPHRASE));
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(Request::l1_valid));
    assert_eq!(requests[0].header("POLY_NONCE"), Some("7"));
    assert_eq!(requests[1].header("POLY_TIMESTAMP"), Some("1764979200"));

    // The derived credentials sign L2 requests the stub accepts.
    let placed = stub_with_credentials(credentials).await;
    assert!(placed);
}

async fn stub_with_credentials(credentials: ApiCredentials) -> bool {
    let stub = stub(|request, _| order_or(request, accepted)).await;
    tls();
    let client = client(&stub.url, String::new()).with_credentials(credentials);
    client.post_order(&signed(false)).await.is_ok()
}

#[tokio::test]
async fn l2_calls_without_credentials_send_nothing() {
    let stub = stub(|request, _| order_or(request, accepted)).await;
    tls();
    let client = ClobClient::new(
        ClobSettings {
            base_url: stub.url.clone(),
            ..ClobSettings::default()
        },
        signer(),
        Arc::new(FixedClock::at(DateTime::from_timestamp(NOW, 0).unwrap())),
    )
    .unwrap();
    assert_eq!(
        client.post_order(&signed(false)).await,
        Err(ClobError::NoCredentials)
    );
    assert_eq!(client.order("0x1").await, Err(ClobError::NoCredentials));
    assert_eq!(stub.hits(), 0);
}
