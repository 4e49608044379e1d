//! Fixtures: a fresh database with every service wired over it, a fixed clock, users, paid
//! clones with the default strategy (EMA cross on BTC 1h), and 400 hourly BTC bars whose
//! waves make that strategy trade.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clones_backtest::{BacktestService, CreateBacktest, JobSettings};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_ingest::{Batch, Candle, NewInstrument};
use clones_kernel::{Clock, FixedClock};
use clones_market::{InstrumentKey, Timeframe};
use clones_test_db::TestDb;
use clones_wiring::{PropFeed, ServiceSettings, Services};
use rust_decimal::Decimal;
use uuid::Uuid;

pub fn d(value: &str) -> Decimal {
    Decimal::from_str(value).unwrap()
}

/// Noon, a while after the last seeded bar.
pub fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_str("2026-11-22T12:00:30Z").unwrap()
}

/// The first seeded bar's open.
pub fn first_bar() -> DateTime<Utc> {
    DateTime::<Utc>::from_str("2026-11-01T00:00:00Z").unwrap()
}

/// Hourly bars seeded.
pub const BARS: i64 = 400;

pub struct Fixture {
    pub _db: TestDb,
    pub clock: FixedClock,
    pub services: Services,
    pub backtests: Arc<dyn BacktestService>,
}

pub fn settings() -> JobSettings {
    JobSettings {
        heartbeat: std::time::Duration::from_millis(20),
        max_open_jobs: 100,
        max_attempts: 2,
        ..JobSettings::default()
    }
}

pub async fn fixture() -> Fixture {
    fixture_with(settings()).await
}

pub async fn fixture_with(backtests: JobSettings) -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(t0());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let services = Services::new(
        db.db().clone(),
        shared,
        ServiceSettings {
            backtests,
            prop_feed: PropFeed::MarketMemory,
            ..ServiceSettings::default()
        },
    );
    let fixture = Fixture {
        _db: db,
        clock,
        backtests: services.backtests.clone(),
        services,
    };
    fixture.seed_market().await;
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

    /// A paid clone with the default draft (EMA(12)/EMA(26) cross on BTC 1h).
    pub async fn clone(&self, owner: Uuid) -> Uuid {
        let at = self.clock.now();
        let clone_id = Uuid::new_v4();
        self.services
            .db
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

    /// 400 hourly BTC bars from [`first_bar`]: slow waves, so the EMAs cross both ways.
    async fn seed_market(&self) {
        let key = InstrumentKey::perp("replay", "BTC").unwrap();
        let mut batch = Batch {
            instruments: vec![NewInstrument::bare(key.clone())],
            ..Batch::default()
        };
        let mut previous = Decimal::from(1000);
        for i in 0..BARS {
            let wave = (i as f64 / 40.0 * std::f64::consts::TAU).sin() * 100.0;
            let close = Decimal::from(1000 + i64::from(wave.round() as i32));
            let (high, low) = (
                close.max(previous) + Decimal::ONE,
                close.min(previous) - Decimal::ONE,
            );
            batch.candles.push((
                key.clone(),
                Timeframe::H1,
                Candle {
                    open_time: first_bar() + Duration::hours(i),
                    open: previous,
                    high,
                    low,
                    close,
                    volume: Decimal::ONE,
                    trades: None,
                },
            ));
            previous = close;
        }
        let run = self
            .services
            .ingest
            .store_batch("test", "seed", self.clock.now(), 1, batch)
            .await
            .unwrap();
        assert!(run.error.is_none(), "{:?}", run.error);
    }
}

/// A backtest of the draft over every seeded bar after the warm-up.
pub fn request() -> CreateBacktest {
    CreateBacktest {
        from: Some(first_bar() + Duration::hours(50)),
        to: Some(first_bar() + Duration::hours(BARS)),
        commission: Some(d("0.001")),
        ..CreateBacktest::default()
    }
}
