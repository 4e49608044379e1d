//! Creator plans bought through the vault, and royalties booked on the profitable Arena fills
//! of a clone trading an adopted strategy: once per fill, balanced, by either policy, with
//! each creator's plan fee.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use clones_clone_service::CloneService;
use clones_economy::{
    CloneGrant, EconomyError, EconomyService, PgRoyaltyService, QuoteRequest, RoyaltyService,
    RoyaltySettings,
};
use clones_kernel::PageRequest;
use clones_market::Side;
use clones_marketplace::{
    CreatorPlan, MarketplaceService, MarketplaceSettings, NewStrategy, PgMarketplaceService,
    RoyaltyPolicy,
};
use clones_prop_engine::{
    AccountContext, FeeSchedule, FillConfig, FixedMarketFeed, OpenAccount, OrderRequest,
    PgPropService, PropService, PropSettings, RiskLimits, TimeInForce,
};
use clones_vault::Purpose;
use diesel::RunQueryDsl;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::support::{Env, Payer, env};

const BTC: &str = "hyperliquid:perp:BTC";

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

async fn buy_plan(env: &Env, payer: &Payer, plan: CreatorPlan) {
    let quote = env
        .economy
        .quote(payer.user, plan_request(payer, Some(plan)))
        .await
        .unwrap();
    let tx = env.pay(payer, &quote).await.to_string();
    let outcome = env
        .economy
        .submit_deposit(payer.user, quote.quote_id, &tx)
        .await
        .unwrap();
    assert_eq!(outcome.purchase.unwrap().purpose, "creator_plan");
}

fn plan_request(payer: &Payer, plan: Option<CreatorPlan>) -> QuoteRequest {
    QuoteRequest {
        plan,
        purpose: Purpose::CreatorPlan,
        payer_address: payer.account.address().to_string(),
        clone_id: None,
        tier: None,
        clone_name: None,
    }
}

#[tokio::test]
async fn creator_plans_are_bought_through_the_vault_and_never_downgrade() {
    let env = env(1).await;
    let payer = env.payer().await;
    let starter = env.economy.creator_plan(payer.user).await.unwrap();
    assert_eq!(
        (starter.plan, starter.fee_percent, starter.purchase_id),
        (CreatorPlan::Starter, d("7"), None)
    );
    buy_plan(&env, &payer, CreatorPlan::Pro).await;
    let pro = env.economy.creator_plan(payer.user).await.unwrap();
    assert_eq!((pro.plan, pro.fee_percent), (CreatorPlan::Pro, d("5")));
    assert!(pro.purchase_id.is_some());
    assert!(matches!(
        env.economy
            .quote(payer.user, plan_request(&payer, Some(CreatorPlan::Pro)))
            .await,
        Err(EconomyError::NotAnUpgrade)
    ));
    for bad in [
        plan_request(&payer, Some(CreatorPlan::Starter)),
        plan_request(&payer, None),
        QuoteRequest {
            clone_id: Some(Uuid::new_v4()),
            ..plan_request(&payer, Some(CreatorPlan::Creator))
        },
        QuoteRequest {
            purpose: Purpose::AuditionFee,
            clone_id: Some(Uuid::new_v4()),
            ..plan_request(&payer, Some(CreatorPlan::Creator))
        },
    ] {
        assert!(matches!(
            env.economy.quote(payer.user, bad).await,
            Err(EconomyError::InvalidInput(_))
        ));
    }
    // An older Pro quote paid after Creator leaves Creator in force.
    let stale = env
        .economy
        .quote(payer.user, plan_request(&payer, Some(CreatorPlan::Creator)))
        .await
        .unwrap();
    buy_plan(&env, &payer, CreatorPlan::Creator).await;
    let tx = env.pay(&payer, &stale).await.to_string();
    env.economy
        .submit_deposit(payer.user, stale.quote_id, &tx)
        .await
        .unwrap();
    let creator = env.economy.creator_plan(payer.user).await.unwrap();
    assert_eq!(
        (creator.plan, creator.fee_percent),
        (CreatorPlan::Creator, d("3"))
    );
    assert_eq!(env.count("creator_plans"), 1);
}

/// The marketplace, a prop engine on a fixed feed without fees or slippage, and one clone
/// whose Arena account trades BTC.
struct Arena {
    market: Arc<dyn MarketplaceService>,
    prop: PgPropService,
    feed: FixedMarketFeed,
    trader: Uuid,
    account: Uuid,
}

impl Arena {
    async fn round_trip(&self, env: &Env, open: &str, close: &str) {
        for (side, mid) in [(Side::Buy, open), (Side::Sell, close)] {
            self.feed
                .set_mid(BTC, d(mid), clones_kernel::Clock::now(&env.clock));
            let outcome = self
                .prop
                .place_order(
                    self.trader,
                    self.account,
                    OrderRequest {
                        decision_action_id: None,
                        instrument: BTC.into(),
                        side,
                        size: d("10"),
                        limit_price: None,
                        reduce_only: false,
                        time_in_force: TimeInForce::Ioc,
                    },
                )
                .await
                .unwrap();
            assert!(!outcome.fills.is_empty(), "{outcome:?}");
        }
    }

    fn royalties(&self, env: &Env, policy: RoyaltyPolicy) -> PgRoyaltyService {
        PgRoyaltyService::new(
            env.db.db().clone(),
            Arc::new(env.clock.clone()),
            Arc::new(self.prop.clone()),
            self.market.clone(),
            RoyaltySettings {
                policy,
                settle_after: Duration::ZERO,
            },
        )
    }
}

fn upload(name: &str, parent: Option<Uuid>) -> NewStrategy {
    NewStrategy {
        name: name.into(),
        description: String::new(),
        graph: crate::support::strategy_graph(name.len() as u32 + 5),
        parent_id: parent,
    }
}

fn sql(env: &Env, statement: &str) {
    diesel::sql_query(statement)
        .execute(&mut env.db.owner_connection().unwrap())
        .unwrap();
}

/// One booking entry: (kind, user, amount, gross, booking).
type Booked = (String, Option<Uuid>, Decimal, Option<Decimal>, Uuid);

/// Every booking's entries, by fill time and sequence.
fn entries(env: &Env) -> Vec<Booked> {
    #[derive(diesel::QueryableByName)]
    struct Entry {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
        user_id: Option<Uuid>,
        #[diesel(sql_type = diesel::sql_types::Numeric)]
        amount: Decimal,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Numeric>)]
        gross: Option<Decimal>,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        booking_id: Uuid,
    }
    diesel::sql_query(
        "SELECT e.kind, e.user_id, e.amount, e.gross, e.booking_id FROM royalty_entries e \
         JOIN royalty_bookings b ON b.id = e.booking_id ORDER BY b.fill_at, b.id, e.seq",
    )
    .load::<Entry>(&mut env.db.owner_connection().unwrap())
    .unwrap()
    .into_iter()
    .map(|entry| {
        (
            entry.kind,
            entry.user_id,
            entry.amount,
            entry.gross,
            entry.booking_id,
        )
    })
    .collect()
}

#[tokio::test]
async fn royalties_are_booked_once_per_profitable_fill_balanced_by_either_policy() {
    let env = env(1).await;
    let clock = Arc::new(env.clock.clone());
    let clones: Arc<dyn CloneService> = Arc::new(env.clones.clone());
    let market: Arc<dyn MarketplaceService> = Arc::new(PgMarketplaceService::new(
        env.db.db().clone(),
        clock.clone(),
        clones.clone(),
        MarketplaceSettings::default(),
    ));
    // A three-generation chain: C forked from B forked from A, 20 % up each link. A is on
    // the Creator plan, B on Pro, C on Starter.
    let (a, b, c) = (env.payer().await, env.payer().await, env.payer().await);
    buy_plan(&env, &a, CreatorPlan::Creator).await;
    buy_plan(&env, &b, CreatorPlan::Pro).await;
    // The pipeline's promotions take many backtests; the test sets the statuses it needs
    // (a fork needs a parent others can see, adoption a proposable strategy).
    let promote = |id: Uuid, status: &str| {
        sql(
            &env,
            &format!("UPDATE user_strategies SET status = '{status}' WHERE id = '{id}'"),
        )
    };
    let first = market.upload(a.user, upload("Alpha", None)).await.unwrap();
    promote(first.summary.id, "experiment");
    let second = market
        .upload(b.user, upload("Bravo fork", Some(first.summary.id)))
        .await
        .unwrap();
    promote(second.summary.id, "experiment");
    let third = market
        .upload(
            c.user,
            upload("Charlie fork of a fork", Some(second.summary.id)),
        )
        .await
        .unwrap();
    let adopted = third.summary.id;
    promote(adopted, "proposable");

    let trader = env.payer().await.user;
    let clone_id = env
        .economy
        .grant_clone(CloneGrant {
            owner_user_id: trader,
            clone_name: Some("Adopter".into()),
            reference: "royalty test".into(),
        })
        .await
        .unwrap()
        .purchase
        .clone_id
        .unwrap();
    market.adopt(trader, adopted, clone_id).await.unwrap();
    let version = clones.publish(trader, clone_id).await.unwrap();
    assert_eq!(version.marketplace_strategy_id, Some(adopted));

    let feed = FixedMarketFeed::new();
    let prop = PgPropService::new(
        env.db.db().clone(),
        clock.clone(),
        Arc::new(feed.clone()),
        PropSettings {
            fill: FillConfig {
                fees: FeeSchedule::flat(Decimal::ZERO),
                slippage_bps: Decimal::ZERO,
                max_book_age: chrono::Duration::seconds(5),
                max_quote_age: chrono::Duration::seconds(60),
            },
            kill_switch: false,
        },
    );
    let account = prop
        .open_account(
            trader,
            OpenAccount {
                account_id: None,
                clone_id: Some(clone_id),
                context: AccountContext::Arena,
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
        .id;
    let arena = Arena {
        market,
        prop,
        feed,
        trader,
        account,
    };

    // A profit of 1 000 under `original_only`: 50.00 to C, less Starter's 7 %.
    env.clock.advance(chrono::Duration::seconds(1));
    arena.round_trip(&env, "100", "200").await;
    let original = arena.royalties(&env, RoyaltyPolicy::OriginalOnly);
    let report = original.book_royalties(100).await.unwrap();
    assert_eq!((report.fills, report.booked), (1, 1));
    let booked = entries(&env);
    let rows: Vec<_> = booked
        .iter()
        .map(|(kind, user, amount, gross, _)| (kind.as_str(), *user, *amount, *gross))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("clone_debit", Some(trader), d("50.00"), None),
            ("creator_credit", Some(c.user), d("46.50"), Some(d("50.00"))),
            ("platform_credit", None, d("3.50"), None),
        ]
    );

    // The clone's performance: 1 000 gross (no fees on this feed), 950 net of the royalty.
    let performance = original.performance(trader, clone_id).await.unwrap();
    assert_eq!(performance.accounts.len(), 1);
    let returns = &performance.accounts[0];
    assert_eq!(returns.account_id, arena.account);
    assert_eq!(
        (
            returns.gross_pnl,
            returns.fees_paid,
            returns.royalties_paid,
            returns.net_pnl
        ),
        (d("1000"), d("0"), d("50"), d("950"))
    );
    assert_eq!(
        (returns.gross_return, returns.net_return),
        (d("0.01"), d("0.0095"))
    );
    // Another owner sees none of the clone's accounts.
    let stranger = original.performance(c.user, clone_id).await.unwrap();
    assert!(stranger.accounts.is_empty());

    // A loss books nothing; a second pass over the same fills books nothing again.
    env.clock.advance(chrono::Duration::seconds(1));
    arena.round_trip(&env, "200", "150").await;
    let again = original.book_royalties(100).await.unwrap();
    assert_eq!(again.booked, 0);
    assert_eq!(env.count("royalty_bookings"), 1);
    sql(&env, "DELETE FROM royalty_cursor");
    let replay = original.book_royalties(100).await.unwrap();
    assert_eq!(
        (replay.fills, replay.booked, replay.already_booked),
        (1, 0, 1)
    );
    assert_eq!(env.count("royalty_entries"), 3);

    // The same profit under `lineage_split`, booked by two passes at once: C keeps 40.00,
    // B 8.00, A 2.00, each less their plan's fee (7 %, 5 %, 3 %).
    env.clock.advance(chrono::Duration::seconds(1));
    arena.round_trip(&env, "100", "200").await;
    let split = arena.royalties(&env, RoyaltyPolicy::LineageSplit);
    let split_again = arena.royalties(&env, RoyaltyPolicy::LineageSplit);
    let (one, two) = tokio::join!(split.book_royalties(100), split_again.book_royalties(100));
    assert_eq!(one.unwrap().booked + two.unwrap().booked, 1);
    assert_eq!(env.count("royalty_bookings"), 2);
    let booked = entries(&env);
    let last = booked.last().unwrap().4;
    let mut rows: Vec<_> = booked
        .iter()
        .filter(|entry| entry.4 == last)
        .map(|(kind, user, amount, gross, _)| (kind.clone(), *user, *amount, *gross))
        .collect();
    rows.sort_by_key(|row| (row.0.clone(), row.2));
    assert_eq!(
        rows,
        vec![
            ("clone_debit".to_string(), Some(trader), d("50.00"), None),
            (
                "creator_credit".to_string(),
                Some(a.user),
                d("1.94"),
                Some(d("2.00"))
            ),
            (
                "creator_credit".to_string(),
                Some(b.user),
                d("7.60"),
                Some(d("8.00"))
            ),
            (
                "creator_credit".to_string(),
                Some(c.user),
                d("37.20"),
                Some(d("40.00"))
            ),
            ("platform_credit".to_string(), None, d("3.26"), None),
        ]
    );
    // Every booking balances: its debit equals its credits.
    for booking in booked.iter().map(|entry| entry.4) {
        let of = |debit: bool| -> Decimal {
            booked
                .iter()
                .filter(|entry| entry.4 == booking && (entry.0 == "clone_debit") == debit)
                .map(|entry| entry.2)
                .sum()
        };
        assert_eq!(of(true), of(false));
    }
    // The database refuses an entry that breaks the balance, and any change to a booking.
    let mut conn = env.db.owner_connection().unwrap();
    assert!(
        diesel::sql_query("UPDATE royalty_entries SET amount = amount + 1")
            .execute(&mut conn)
            .is_err()
    );

    // C's statement: two credits, newest first, with totals.
    let statement = arena
        .royalties(&env, RoyaltyPolicy::OriginalOnly)
        .statement(c.user, PageRequest::new(Some(1), None).unwrap())
        .await
        .unwrap();
    assert_eq!(statement.credits.items.len(), 1);
    assert_eq!(statement.credits.items[0].net, d("37.20"));
    assert_eq!(statement.credits.items[0].platform_fee, d("2.80"));
    assert!(statement.credits.next_cursor.is_some());
    assert_eq!(statement.totals.len(), 1);
    assert_eq!(
        (
            statement.totals[0].count,
            statement.totals[0].gross,
            statement.totals[0].net
        ),
        (2, d("90.00"), d("83.70"))
    );
    let next = arena
        .royalties(&env, RoyaltyPolicy::OriginalOnly)
        .statement(
            c.user,
            PageRequest::new(Some(1), statement.credits.next_cursor).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(next.credits.items[0].net, d("46.50"));
    assert!(next.credits.next_cursor.is_none());
    // The trader is credited nothing.
    let none = arena
        .royalties(&env, RoyaltyPolicy::OriginalOnly)
        .statement(trader, PageRequest::first())
        .await
        .unwrap();
    assert!(none.credits.items.is_empty() && none.totals.is_empty());

    // A hand-edited draft published later carries no origin: its profits owe nothing.
    let draft = clones.get_draft(trader, clone_id).await.unwrap();
    let mut graph = draft.graph;
    graph["nodes"][1]["params"]["period"] = serde_json::json!(7);
    clones.save_draft(trader, clone_id, graph).await.unwrap();
    env.clock.advance(chrono::Duration::seconds(1));
    let hand = clones.publish(trader, clone_id).await.unwrap();
    assert_eq!(hand.marketplace_strategy_id, None);
    env.clock.advance(chrono::Duration::seconds(1));
    arena.round_trip(&env, "100", "300").await;
    let exempt = original.book_royalties(100).await.unwrap();
    assert_eq!((exempt.fills, exempt.booked, exempt.exempt), (1, 0, 1));
    assert_eq!(env.count("royalty_bookings"), 2);
}
