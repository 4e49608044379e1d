//! Fixtures: a fresh database, a fixed clock and market feed, users and funded accounts.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_kernel::{Clock, FixedClock};
use clones_market::Side;
use clones_prop_engine::{
    AccountContext, AccountView, FillConfig, FixedMarketFeed, OpenAccount, OrderOutcome,
    OrderRequest, PgPropService, PropService, PropSettings, RiskLimits, TimeInForce,
};
use clones_test_db::TestDb;
use rust_decimal::Decimal;
use uuid::Uuid;

pub const BTC: &str = "hyperliquid:perp:BTC";
pub const PURR: &str = "hyperliquid:spot:PURR/USDC";

pub fn d(value: &str) -> Decimal {
    Decimal::from_str(value).unwrap()
}

pub struct Fixture {
    pub db: TestDb,
    pub clock: FixedClock,
    pub feed: FixedMarketFeed,
    pub prop: PgPropService,
    pub access: PgAccessAdmin,
}

pub async fn fixture() -> Fixture {
    fixture_with(PropSettings {
        fill: FillConfig {
            fees: clones_prop_engine::FeeSchedule::flat(d("5")),
            slippage_bps: d("10"),
            max_book_age: Duration::seconds(5),
            max_quote_age: Duration::seconds(60),
        },
        kill_switch: false,
    })
    .await
}

pub async fn fixture_with(settings: PropSettings) -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(DateTime::<Utc>::from_str("2026-11-22T12:00:00Z").unwrap());
    let feed = FixedMarketFeed::new();
    let prop = PgPropService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        Arc::new(feed.clone()),
        settings,
    );
    let access = PgAccessAdmin::new(db.db().clone(), Arc::new(clock.clone()));
    Fixture {
        db,
        clock,
        feed,
        prop,
        access,
    }
}

impl Fixture {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn user(&self) -> Uuid {
        let wallet = format!("0x{}", &Uuid::new_v4().simple().to_string()[..32]);
        let wallet = format!("{wallet}{}", &Uuid::new_v4().simple().to_string()[..8]);
        self.access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap()
            .0
    }

    pub async fn account(&self, owner: Uuid, limits: Option<RiskLimits>) -> AccountView {
        self.prop
            .open_account(
                owner,
                OpenAccount {
                    account_id: None,
                    clone_id: None,
                    context: AccountContext::Audition,
                    quote_currency: "USDC".into(),
                    starting_balance: d("100000"),
                    limits,
                },
            )
            .await
            .unwrap()
    }

    pub fn mid(&self, instrument: &str, mid: &str) {
        self.feed.set_mid(instrument, d(mid), self.now());
    }

    pub async fn order(
        &self,
        owner: Uuid,
        account: Uuid,
        instrument: &str,
        side: Side,
        size: &str,
    ) -> OrderOutcome {
        self.prop
            .place_order(owner, account, request(instrument, side, size))
            .await
            .unwrap()
    }
}

pub fn request(instrument: &str, side: Side, size: &str) -> OrderRequest {
    OrderRequest {
        decision_action_id: None,
        instrument: instrument.into(),
        side,
        size: d(size),
        limit_price: None,
        reduce_only: false,
        time_in_force: TimeInForce::Ioc,
    }
}

/// Generous limits for tests that are not about limits.
pub fn wide_limits() -> RiskLimits {
    RiskLimits {
        max_order_notional: d("1000000"),
        max_leverage: d("50"),
        max_position_notional: d("10000000"),
        max_gross_exposure: d("10000000"),
        daily_loss_limit: d("1000000"),
        max_orders_per_minute: 10_000,
        allowed_instruments: None,
    }
}
