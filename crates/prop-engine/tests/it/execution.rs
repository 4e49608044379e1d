//! Orders through the service: gates, fill paths, PnL, idempotency and tenant isolation.

use clones_kernel::DomainError;

use chrono::Duration;
use clones_kernel::PageRequest;
use clones_market::Side;
use clones_prop_engine::{
    AccountContext, Book, FillSource, Level, MarketQuote, OpenAccount, OrderStatus, PropError,
    PropService, RejectReason, RiskLimits,
};
use futures_util::future::join_all;

use crate::support::{BTC, PURR, d, fixture, request, wide_limits};

#[tokio::test]
async fn each_gate_rejects_with_its_code_and_records_the_order() {
    let f = fixture().await;
    let owner = f.user().await;
    let limits = RiskLimits {
        max_order_notional: d("10000"),
        max_leverage: d("2"),
        max_position_notional: d("15000"),
        max_gross_exposure: d("18000"),
        daily_loss_limit: d("1000"),
        max_orders_per_minute: 100,
        allowed_instruments: Some(vec!["hyperliquid:*".into()]),
    };
    let account = f.account(owner, Some(limits.clone())).await.id;
    f.mid(BTC, "100");
    f.mid(PURR, "1");
    f.mid("polymarket:outcome:7", "0.5");
    f.feed.list("hyperliquid:perp:DEAD", false);

    let code = |outcome: clones_prop_engine::OrderOutcome| {
        assert_eq!(outcome.order.status, OrderStatus::Rejected);
        assert!(outcome.fills.is_empty());
        outcome.order.reject_reason().unwrap()
    };
    let reject = |instrument: &str, side: Side, size: &str| {
        let request = request(instrument, side, size);
        let prop = &f.prop;
        async move { prop.place_order(owner, account, request).await.unwrap() }
    };
    assert_eq!(
        code(reject("polymarket:outcome:7", Side::Buy, "1").await),
        RejectReason::InstrumentNotAllowed
    );
    assert_eq!(
        code(reject("hyperliquid:perp:DEAD", Side::Buy, "1").await),
        RejectReason::InstrumentInactive
    );
    assert_eq!(
        code(reject("hyperliquid:perp:NOPE", Side::Buy, "1").await),
        RejectReason::InstrumentInactive
    );
    assert_eq!(
        code(reject(BTC, Side::Buy, "101").await),
        RejectReason::MaxOrderNotional
    );
    assert_eq!(
        code(reject(PURR, Side::Sell, "1").await),
        RejectReason::ShortNotAllowed
    );
    let mut reduce = request(BTC, Side::Sell, "1");
    reduce.reduce_only = true;
    assert_eq!(
        code(f.prop.place_order(owner, account, reduce).await.unwrap()),
        RejectReason::ReduceOnlyWouldIncrease
    );

    // Position and exposure limits.
    assert_eq!(
        f.order(owner, account, BTC, Side::Buy, "90")
            .await
            .order
            .status,
        OrderStatus::Filled
    );
    assert_eq!(
        code(reject(BTC, Side::Buy, "70").await),
        RejectReason::MaxPosition
    );
    f.mid("hyperliquid:perp:ETH", "100");
    assert_eq!(
        f.order(owner, account, "hyperliquid:perp:ETH", Side::Sell, "80")
            .await
            .order
            .status,
        OrderStatus::Filled
    );
    assert_eq!(
        code(reject("hyperliquid:perp:SOL", Side::Buy, "1").await),
        RejectReason::InstrumentInactive
    );
    f.mid("hyperliquid:perp:SOL", "100");
    assert_eq!(
        code(reject("hyperliquid:perp:SOL", Side::Buy, "20").await),
        RejectReason::MaxGrossExposure
    );

    // Daily loss: BTC falls 15 on 90 long = -1350 (beyond 1000): new risk refused, reducing allowed.
    f.clock.advance(Duration::seconds(1));
    f.mid(BTC, "85");
    f.mid("hyperliquid:perp:ETH", "100");
    f.mid("hyperliquid:perp:SOL", "100");
    assert_eq!(
        code(reject("hyperliquid:perp:SOL", Side::Buy, "1").await),
        RejectReason::DailyLossLimit
    );
    assert_eq!(
        f.order(owner, account, BTC, Side::Sell, "10")
            .await
            .order
            .status,
        OrderStatus::Filled
    );

    // Stale price.
    f.clock.advance(Duration::seconds(61));
    assert_eq!(
        code(reject(BTC, Side::Sell, "1").await),
        RejectReason::PriceStale
    );
    assert_eq!(
        code(reject("hyperliquid:perp:XRP", Side::Buy, "1").await),
        RejectReason::InstrumentInactive
    );
    f.feed.list("hyperliquid:perp:XRP", true);
    assert_eq!(
        code(reject("hyperliquid:perp:XRP", Side::Buy, "1").await),
        RejectReason::NoPrice
    );

    // Halted by an admin.
    let admin = f.user().await;
    f.prop.halt(admin, account, "review").await.unwrap();
    f.mid(BTC, "85");
    assert_eq!(
        code(reject(BTC, Side::Sell, "1").await),
        RejectReason::AccountHalted
    );
    f.prop.resume(admin, account, "done").await.unwrap();
    assert_eq!(
        f.order(owner, account, BTC, Side::Sell, "1")
            .await
            .order
            .status,
        OrderStatus::Filled
    );

    // Every refusal is on record with its reason.
    let orders = f
        .prop
        .orders(owner, account, PageRequest::first())
        .await
        .unwrap()
        .items;
    let rejected = orders
        .iter()
        .filter(|o| o.status == OrderStatus::Rejected)
        .count();
    assert_eq!(rejected, 14);
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
}

#[tokio::test]
async fn rate_limit_and_kill_switch() {
    let f = fixture().await;
    let owner = f.user().await;
    let limits = RiskLimits {
        max_orders_per_minute: 3,
        ..wide_limits()
    };
    let account = f.account(owner, Some(limits)).await.id;
    f.mid(BTC, "100");
    for _ in 0..3 {
        assert_eq!(
            f.order(owner, account, BTC, Side::Buy, "1")
                .await
                .order
                .status,
            OrderStatus::Filled
        );
    }
    let limited = f.order(owner, account, BTC, Side::Buy, "1").await;
    assert_eq!(
        limited.order.reject_reason(),
        Some(RejectReason::OrderRateLimited)
    );
    f.clock.advance(Duration::seconds(61));
    f.mid(BTC, "100");
    assert_eq!(
        f.order(owner, account, BTC, Side::Buy, "1")
            .await
            .order
            .status,
        OrderStatus::Filled
    );

    let killed = crate::support::fixture_with(clones_prop_engine::PropSettings {
        kill_switch: true,
        ..Default::default()
    })
    .await;
    let owner = killed.user().await;
    let account = killed.account(owner, None).await.id;
    killed.mid(BTC, "100");
    let outcome = killed.order(owner, account, BTC, Side::Buy, "1").await;
    assert_eq!(
        outcome.order.reject_reason(),
        Some(RejectReason::KillSwitch)
    );
}

#[tokio::test]
async fn fill_paths_book_partial_mid_slippage_limit_and_fok() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    let book = |at| MarketQuote {
        mid: d("100"),
        mid_at: at,
        book: Some(Book {
            observed_at: at,
            bids: vec![Level {
                price: d("99.5"),
                size: d("1"),
            }],
            asks: vec![
                Level {
                    price: d("100.5"),
                    size: d("1"),
                },
                Level {
                    price: d("101"),
                    size: d("2"),
                },
            ],
        }),
    };
    f.feed.set_quote(BTC, book(f.now()));
    let walked = f.order(owner, account, BTC, Side::Buy, "5").await;
    assert_eq!(walked.order.status, OrderStatus::PartiallyFilled);
    assert_eq!(walked.order.filled_size, d("3"));
    assert_eq!(walked.order.fill_source, Some(FillSource::Book));
    assert_eq!(walked.fills.len(), 2);
    assert_eq!(walked.fills[0].price, d("100.5"));
    assert_eq!(walked.fills[1].price, d("101"));
    // 5 bps on 302.5 notional.
    assert_eq!(walked.order.fees, d("0.15125"));

    let mut fok = request(BTC, Side::Sell, "2");
    fok.time_in_force = clones_prop_engine::TimeInForce::Fok;
    let killed = f.prop.place_order(owner, account, fok).await.unwrap();
    assert_eq!(killed.order.status, OrderStatus::Unfilled);
    assert_eq!(
        killed.order.rejection_code.as_deref(),
        Some("insufficient_depth")
    );

    // The book ages out; the mid moves 10 bps against the taker.
    f.clock.advance(Duration::seconds(10));
    let slipped = f.order(owner, account, BTC, Side::Sell, "1").await;
    assert_eq!(slipped.order.fill_source, Some(FillSource::MidSlippage));
    assert_eq!(slipped.fills[0].price, d("99.9"));

    let mut limit = request(BTC, Side::Buy, "1");
    limit.limit_price = Some(d("100"));
    let unfilled = f.prop.place_order(owner, account, limit).await.unwrap();
    assert_eq!(unfilled.order.status, OrderStatus::Unfilled);
    assert_eq!(
        unfilled.order.rejection_code.as_deref(),
        Some("limit_not_reached")
    );

    let positions = f.prop.positions(owner, account).await.unwrap();
    assert_eq!(positions[0].size, d("2"));
    assert!(f.prop.reconcile(account).await.unwrap().balanced);
}

#[tokio::test]
async fn pnl_long_short_reduce_and_flip() {
    let settings = clones_prop_engine::PropSettings {
        fill: clones_prop_engine::FillConfig {
            slippage_bps: d("0"),
            fees: clones_prop_engine::FeeSchedule::flat(d("0")),
            ..Default::default()
        },
        kill_switch: false,
    };
    let f = crate::support::fixture_with(settings).await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    f.mid(BTC, "100");
    f.order(owner, account, BTC, Side::Buy, "2").await;
    f.mid(BTC, "110");
    let reduce = f.order(owner, account, BTC, Side::Sell, "1").await;
    assert_eq!(reduce.order.realized_pnl, d("10"));
    f.mid(BTC, "90");
    let flip = f.order(owner, account, BTC, Side::Sell, "3").await;
    // Closes 1 long from 100 at 90 (-10) and opens 2 short at 90.
    assert_eq!(flip.order.realized_pnl, d("-10"));
    let position = &f.prop.positions(owner, account).await.unwrap()[0];
    assert_eq!((position.size, position.avg_entry), (d("-2"), d("90")));
    f.mid(BTC, "80");
    let cover = f.order(owner, account, BTC, Side::Buy, "2").await;
    assert_eq!(cover.order.realized_pnl, d("20"));
    let position = &f.prop.positions(owner, account).await.unwrap()[0];
    assert_eq!(position.size, d("0"));
    assert_eq!(position.realized_pnl, d("20"));
    let view = f.prop.account(owner, account).await.unwrap();
    assert_eq!(view.cash, d("100020"));
}

#[tokio::test]
async fn one_decision_action_executes_once_even_when_delivered_concurrently() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    f.mid(BTC, "100");
    let mut req = request(BTC, Side::Buy, "1");
    req.decision_action_id = Some("decision-42:action-0".into());
    let results = join_all((0..6).map(|_| f.prop.place_order(owner, account, req.clone()))).await;
    let outcomes: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|o| o.created).count(), 1);
    assert!(outcomes.iter().all(|o| o.order.id == outcomes[0].order.id));
    let orders = f
        .prop
        .orders(owner, account, PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(orders.len(), 1);
    assert_eq!(
        f.prop.positions(owner, account).await.unwrap()[0].size,
        d("1")
    );
    // A later replay returns the same result too.
    let again = f.prop.place_order(owner, account, req).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.order, outcomes[0].order);
}

#[tokio::test]
async fn another_user_sees_nothing() {
    let f = fixture().await;
    let owner = f.user().await;
    let stranger = f.user().await;
    let account = f.account(owner, None).await.id;
    f.mid(BTC, "100");
    f.order(owner, account, BTC, Side::Buy, "1").await;
    assert!(matches!(
        f.prop.account(stranger, account).await,
        Err(PropError::AccountNotFound)
    ));
    assert!(matches!(
        f.prop.positions(stranger, account).await,
        Err(PropError::AccountNotFound)
    ));
    assert!(matches!(
        f.prop.ledger(stranger, account, PageRequest::first()).await,
        Err(PropError::AccountNotFound)
    ));
    assert!(matches!(
        f.prop
            .place_order(stranger, account, request(BTC, Side::Buy, "1"))
            .await,
        Err(PropError::AccountNotFound)
    ));
    assert!(f.prop.accounts(stranger).await.unwrap().is_empty());

    // Row-level security itself: the stranger's transaction sees no prop row at all.
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let counts: i64 =
        f.db.db()
            .tenant_transaction(stranger, |conn| {
                let mut total = 0;
                for table in [
                    "prop_accounts",
                    "prop_account_limits",
                    "prop_orders",
                    "prop_fills",
                    "prop_positions",
                    "prop_account_balances",
                    "prop_ledger_events",
                    "prop_ledger_entries",
                    "prop_admin_audit_log",
                ] {
                    total += diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
                        .get_result::<Count>(conn)?
                        .n;
                }
                Ok::<_, clones_db::DbError>(total)
            })
            .await
            .unwrap();
    assert_eq!(counts, 0);
}

#[tokio::test]
async fn invalid_orders_change_nothing() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, None).await.id;
    for bad in [
        request("BTC", Side::Buy, "1"),
        request(BTC, Side::Buy, "0"),
        request(BTC, Side::Buy, "0.00000000001"),
        clones_prop_engine::OrderRequest {
            limit_price: Some(d("100")),
            time_in_force: clones_prop_engine::TimeInForce::Gtc,
            ..request(BTC, Side::Buy, "1")
        },
    ] {
        let error = f.prop.place_order(owner, account, bad).await.unwrap_err();
        assert_eq!(error.code(), "invalid_input");
    }
    assert!(
        f.prop
            .orders(owner, account, PageRequest::first())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    f.feed.set_failing(true);
    let error = f
        .prop
        .place_order(owner, account, request(BTC, Side::Buy, "1"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "market_feed_unavailable");
    assert!(
        f.prop
            .orders(owner, account, PageRequest::first())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn an_account_opened_under_a_chosen_id_is_opened_once() {
    let f = fixture().await;
    let owner = f.user().await;
    let stranger = f.user().await;
    let id = uuid::Uuid::new_v4();
    let request = |context| OpenAccount {
        account_id: Some(id),
        clone_id: None,
        context,
        quote_currency: "USDC".into(),
        starting_balance: d("5000"),
        limits: None,
    };
    let (a, b) = tokio::join!(
        f.prop
            .open_account(owner, request(AccountContext::Audition)),
        f.prop
            .open_account(owner, request(AccountContext::Audition))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.id, b.id), (id, id));
    assert_eq!(b.cash, d("5000"));
    assert_eq!(f.prop.accounts(owner).await.unwrap().len(), 1);
    // The opening ledger event was written once: cash is the starting balance, not twice it.
    let report = f.prop.reconcile(id).await.unwrap();
    assert!(report.balanced, "{report:?}");
    // The id cannot be taken over by another owner or for another purpose.
    for (user, context) in [
        (stranger, AccountContext::Audition),
        (owner, AccountContext::Arena),
    ] {
        let refused = f
            .prop
            .open_account(user, request(context))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_input");
    }
    assert!(f.prop.accounts(stranger).await.unwrap().is_empty());
    // Nor reused for an account funded differently.
    let refused = f
        .prop
        .open_account(
            owner,
            OpenAccount {
                starting_balance: d("50000"),
                ..request(AccountContext::Audition)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_input");
}

#[tokio::test]
async fn an_outcome_reads_exactly_as_the_stored_order_and_fills() {
    let f = fixture().await;
    let owner = f.user().await;
    let account = f.account(owner, Some(wide_limits())).await.id;
    f.feed.set_quote(
        BTC,
        MarketQuote {
            mid: d("100"),
            mid_at: f.now(),
            book: Some(Book {
                observed_at: f.now(),
                bids: vec![],
                asks: vec![
                    Level {
                        price: d("100.5"),
                        size: d("1"),
                    },
                    Level {
                        price: d("101"),
                        size: d("2"),
                    },
                ],
            }),
        },
    );
    let mut limit = request(BTC, Side::Buy, "2.5");
    limit.limit_price = Some(d("101"));
    limit.decision_action_id = Some("stored-1".into());
    let placed = f.prop.place_order(owner, account, limit).await.unwrap();
    assert_eq!(placed.fills.len(), 2);
    let rejected = f.order(owner, account, PURR, Side::Sell, "1").await;
    assert_eq!(rejected.order.status, OrderStatus::Rejected);

    // What the caller was answered is what a later read gives, down to the decimal scale
    // and the timestamps' precision.
    let orders = f
        .prop
        .orders(owner, account, PageRequest::first())
        .await
        .unwrap();
    let stored_order = |id| orders.items.iter().find(|order| order.id == id).unwrap();
    for outcome in [&placed, &rejected] {
        assert_eq!(
            serde_json::to_value(&outcome.order).unwrap(),
            serde_json::to_value(stored_order(outcome.order.id)).unwrap()
        );
    }
    let mut fills = f
        .prop
        .fills(owner, account, PageRequest::first())
        .await
        .unwrap()
        .items;
    fills.sort_by_key(|fill| fill.seq);
    assert_eq!(
        serde_json::to_value(&placed.fills).unwrap(),
        serde_json::to_value(&fills).unwrap()
    );
    // A repeated delivery answers the same order, read back.
    let mut again = request(BTC, Side::Buy, "2.5");
    again.limit_price = Some(d("101"));
    again.decision_action_id = Some("stored-1".into());
    let replay = f.prop.place_order(owner, account, again).await.unwrap();
    assert!(!replay.created);
    assert_eq!(
        serde_json::to_value(&replay.order).unwrap(),
        serde_json::to_value(&placed.order).unwrap()
    );
}

#[tokio::test]
async fn an_order_values_positions_the_service_has_not_seen_at_their_marks() {
    let f = fixture().await;
    let owner = f.user().await;
    let limits = RiskLimits {
        daily_loss_limit: d("1000"),
        ..wide_limits()
    };
    let account = f.account(owner, Some(limits)).await.id;
    let eth = "hyperliquid:perp:ETH";
    f.mid(eth, "100");
    f.mid(BTC, "100");
    assert_eq!(
        f.order(owner, account, eth, Side::Buy, "100")
            .await
            .order
            .status,
        OrderStatus::Filled
    );
    // ETH falls 20 %: about 2 000 lost, over the daily limit, but only if ETH is marked.
    f.mid(eth, "80");
    // A service that never saw this account (another replica, a restart) has no hint of
    // what it holds; the order's transaction finds ETH and asks for its mark.
    let fresh = clones_prop_engine::PgPropService::new(
        f.db.db().clone(),
        std::sync::Arc::new(f.clock.clone()),
        std::sync::Arc::new(f.feed.clone()),
        clones_prop_engine::PropSettings::default(),
    );
    let refused = fresh
        .place_order(owner, account, request(BTC, Side::Buy, "1"))
        .await
        .unwrap();
    assert_eq!(
        refused.order.reject_reason(),
        Some(RejectReason::DailyLossLimit)
    );
    // The service that placed the ETH order knows it from its hint.
    let refused = f.order(owner, account, BTC, Side::Buy, "1").await;
    assert_eq!(
        refused.order.reject_reason(),
        Some(RejectReason::DailyLossLimit)
    );
    // Reducing is still allowed, and the ledger and positions reconcile.
    let reduced = f.order(owner, account, eth, Side::Sell, "50").await;
    assert_eq!(reduced.order.status, OrderStatus::Filled);
    let report = f.prop.reconcile(account).await.unwrap();
    assert!(report.balanced);
    assert_eq!(report.positions.len(), 1);
    assert_eq!(report.positions[0].tracked, d("50"));
}
