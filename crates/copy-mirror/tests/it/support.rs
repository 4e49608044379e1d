//! Fixtures: a fresh database with every service wired over it (prop-engine on market
//! memory), a fixed clock, users, and an outcome token with a mid in market memory.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_copy_mirror::{
    CopyTradeService, DataApiTrade, GrantRequest, NewTarget, ObservedFill, Sizing, TradeSide,
    normalise,
};
use clones_ingest::{Batch, NewInstrument, NewPredictionMarket};
use clones_kernel::{Clock, FixedClock};
use clones_market::InstrumentKey;
use clones_test_db::TestDb;
use clones_wiring::{PropFeed, ServiceSettings, Services};
use rust_decimal::Decimal;
use uuid::Uuid;

pub const TOKEN: &str =
    "71321045679252212594626385532706912750332728571942532289631379312455583992563";
pub const WALLET: &str = "0x56687bf447db6ffa42ffe2204a05edaa20f55839";

pub fn d(value: &str) -> Decimal {
    Decimal::from_str(value).unwrap()
}

pub fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_str("2026-12-06T12:00:00Z").unwrap()
}

pub struct Fixture {
    pub db: TestDb,
    pub clock: FixedClock,
    pub services: Services,
    pub copy: Arc<dyn CopyTradeService>,
}

pub async fn fixture() -> Fixture {
    clones_runtime::install_tls_provider();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(t0());
    let services = Services::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        ServiceSettings {
            prop_feed: PropFeed::MarketMemory,
            ..ServiceSettings::default()
        },
    );
    let fixture = Fixture {
        db,
        clock,
        copy: services.copy_trade.clone(),
        services,
    };
    fixture.price(d("0.49")).await;
    fixture
}

impl Fixture {
    pub async fn user(&self) -> Uuid {
        let wallet = format!(
            "0x{}{}",
            Uuid::new_v4().simple(),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        self.services
            .access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap()
            .0
    }

    /// The outcome token's mid at the clock's now.
    pub async fn price(&self, mid: Decimal) {
        let key = InstrumentKey::outcome("polymarket", TOKEN).unwrap();
        let now = self.clock.now();
        let run = self
            .services
            .ingest
            .store_batch(
                "test",
                "price",
                now,
                1,
                Batch {
                    markets: vec![NewPredictionMarket {
                        market_id: "rain".into(),
                        venue: "polymarket".into(),
                        condition_id: Some(format!("0x{}", "d".repeat(64))),
                        question: "Will it rain?".into(),
                        slug: None,
                        end_date: None,
                        active: true,
                        closed: false,
                        resolved_outcome: None,
                        metadata: serde_json::Value::Null,
                    }],
                    instruments: vec![NewInstrument {
                        market: Some(("rain".into(), "Yes".into())),
                        ..NewInstrument::bare(key.clone())
                    }],
                    mids: vec![(key, now, mid)],
                    ..Batch::default()
                },
            )
            .await
            .unwrap();
        assert!(run.error.is_none(), "{:?}", run.error);
    }

    /// A tenant with a paper grant and the standard target on [`WALLET`].
    pub async fn tenant(&self) -> (Uuid, Uuid) {
        let owner = self.user().await;
        self.copy.set_grant(owner, grant()).await.unwrap();
        let target = self.copy.add_target(owner, target()).await.unwrap();
        (owner, target.id)
    }
}

pub fn grant() -> GrantRequest {
    GrantRequest {
        per_order_usdc_cap: d("50"),
        daily_usdc_cap: d("500"),
        hourly_fills_cap: 10,
        executor: None,
    }
}

pub fn target() -> NewTarget {
    NewTarget {
        wallet: WALLET.to_ascii_uppercase().replace("0X", "0x"),
        label: Some("whale".into()),
        filter_percentile: None,
        max_usdc_per_trade: d("25"),
        max_position_usdc: None,
        sizing: Sizing::Proportional { ratio: d("0.5") },
    }
}

/// The target's fill number `n`: a buy of `size` shares at 0.50.
pub fn fill(n: u32, side: TradeSide, size: &str) -> ObservedFill {
    normalise(&DataApiTrade {
        proxy_wallet: WALLET.into(),
        side,
        asset: TOKEN.into(),
        condition_id: format!("0x{}", "d".repeat(64)),
        size: d(size),
        price: d("0.50"),
        timestamp: 1_764_979_200 + i64::from(n),
        transaction_hash: format!("0x{n:064x}"),
        outcome: Some("Yes".into()),
    })
    .unwrap()
}
