//! Fixtures: a fresh database, a fixed clock and market feed, users, published clones,
//! verified `audition_fee` purchases, rule sets and equity snapshots.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{CloneService, PgCloneService, ProfileSubmission};
use clones_db::DbError;
use clones_economy::PgEconomyService;
use clones_kernel::{Clock, FixedClock};
use clones_lifecycle::{
    AuditionView, LifecycleService, LifecycleSettings, PgCompetitionFacts, PgLifecycleService,
    StartAudition, StartedAudition,
};
use clones_market::Side;
use clones_prop_engine::{
    Book, FillView, FixedMarketFeed, Level, MarketQuote, OrderRequest, PgPropService, PropService,
    PropSettings, TimeInForce,
};
use clones_test_db::TestDb;
use diesel::sql_types::{Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, RunQueryDsl};
use rust_decimal::Decimal;
use uuid::Uuid;

pub const BTC: &str = "hyperliquid:perp:BTC";

pub fn d(value: &str) -> Decimal {
    Decimal::from_str(value).unwrap()
}

pub fn at(value: &str) -> DateTime<Utc> {
    DateTime::<Utc>::from_str(value).unwrap()
}

pub struct Fixture {
    pub db: TestDb,
    pub clock: FixedClock,
    pub feed: FixedMarketFeed,
    pub prop: Arc<PgPropService>,
    pub clones: Arc<PgCloneService>,
    pub access: PgAccessAdmin,
    pub service: PgLifecycleService,
}

pub async fn fixture() -> Fixture {
    fixture_at("2026-03-02T12:00:00Z").await
}

pub async fn fixture_at(start: &str) -> Fixture {
    fixture_with(start, LifecycleSettings::default()).await
}

pub async fn fixture_with(start: &str, settings: LifecycleSettings) -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(at(start));
    let time: Arc<dyn Clock> = Arc::new(clock.clone());
    let feed = FixedMarketFeed::new();
    let prop = Arc::new(PgPropService::new(
        db.db().clone(),
        time.clone(),
        Arc::new(feed.clone()),
        PropSettings::default(),
    ));
    let clones = Arc::new(PgCloneService::new(
        db.db().clone(),
        time.clone(),
        Arc::new(PgCompetitionFacts),
    ));
    let access = PgAccessAdmin::new(db.db().clone(), time.clone());
    let economy = Arc::new(PgEconomyService::new(
        db.db().clone(),
        time.clone(),
        Arc::new(access.clone()),
        None,
    ));
    let service = PgLifecycleService::new(
        db.db().clone(),
        time,
        clones.clone(),
        prop.clone(),
        economy,
        settings,
    );
    Fixture {
        db,
        clock,
        feed,
        prop,
        clones,
        access,
        service,
    }
}

fn hex(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        out.push_str(&Uuid::new_v4().simple().to_string());
    }
    out.truncate(len);
    out
}

#[derive(QueryableByName)]
struct FillCursor {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_fill_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    last_fill_id: Option<Uuid>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl Fixture {
    pub async fn user(&self) -> Uuid {
        let wallet = format!("0x{}", hex(40));
        self.access
            .provision_wallet(&wallet, 31337)
            .await
            .unwrap()
            .0
    }

    pub async fn admin(&self) -> Uuid {
        let wallet = format!("0x{}", hex(40));
        let (user, _) = self.access.provision_wallet(&wallet, 31337).await.unwrap();
        self.access.grant_admin(&wallet, "test").await.unwrap();
        user
    }

    /// A paid clone of `owner`, with its default strategy published when `publish`.
    pub async fn clone_of(&self, owner: Uuid, publish: bool) -> Uuid {
        let now = self.clock.now();
        let (clone_id, _) = self
            .db
            .db()
            .tenant_transaction(owner, move |conn| {
                provisioning::create_paid_clone(
                    conn,
                    &PaidClone {
                        clone_id: Uuid::new_v4(),
                        owner_user_id: owner,
                        purchase_id: Uuid::new_v4(),
                        display_name: "Alpha".into(),
                    },
                    now,
                )
            })
            .await
            .unwrap();
        if publish {
            self.clones.publish(owner, clone_id).await.unwrap();
        }
        clone_id
    }

    /// A verified purchase (a quote and its purchase fact, as economy records them).
    pub async fn purchase(&self, owner: Uuid, clone_id: Uuid, purpose: &'static str) -> Uuid {
        let now = self.clock.now();
        let quote_id = Uuid::new_v4();
        let purchase_id = Uuid::new_v4();
        let payer = format!("0x{}", hex(40));
        let nonce = u64::from_str_radix(&hex(12), 16).unwrap().to_string();
        self.db
            .db()
            .cross_tenant_transaction("test_purchase", move |conn| {
                diesel::sql_query(
                    "INSERT INTO economy_quotes (id, payer_user_id, payer_address, purpose, clone_id, \
                     target_tier, chain_id, vault_address, token_address, amount, nonce, deadline, signature, created_at) \
                     VALUES ($1, $2, $3, $4, $5, CASE WHEN $4 = 'capacity_upgrade' THEN 'pro' END, \
                     31337, $6, $7, '7000000', $8, $9, $10, $9)",
                )
                .bind::<SqlUuid, _>(quote_id)
                .bind::<SqlUuid, _>(owner)
                .bind::<Text, _>(&payer)
                .bind::<Text, _>(purpose)
                .bind::<SqlUuid, _>(clone_id)
                .bind::<Text, _>(format!("0x{}", "1".repeat(40)))
                .bind::<Text, _>(format!("0x{}", "2".repeat(40)))
                .bind::<Text, _>(&nonce)
                .bind::<Timestamptz, _>(now)
                .bind::<Text, _>(format!("0x{}", "3".repeat(130)))
                .execute(conn)?;
                diesel::sql_query(
                    "INSERT INTO economy_purchases (id, payer_user_id, quote_id, purpose, clone_id, resolver, \
                     nonce, chain_id, tx_hash, block_number, log_index, payer_address, token_address, amount, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 31337, $8, 1, 0, $9, $10, '7000000', $11)",
                )
                .bind::<SqlUuid, _>(purchase_id)
                .bind::<SqlUuid, _>(owner)
                .bind::<SqlUuid, _>(quote_id)
                .bind::<Text, _>(purpose)
                .bind::<SqlUuid, _>(clone_id)
                .bind::<Text, _>(format!("0x{}", "1".repeat(40)))
                .bind::<Text, _>(&nonce)
                .bind::<Text, _>(format!("0x{}", hex(64)))
                .bind::<Text, _>(&payer)
                .bind::<Text, _>(format!("0x{}", "2".repeat(40)))
                .bind::<Timestamptz, _>(now)
                .execute(conn)?;
                Ok::<_, DbError>(())
            })
            .await
            .unwrap();
        purchase_id
    }

    /// A rule set (rule sets are migration-owned data: inserted as the schema owner).
    #[expect(clippy::too_many_arguments, reason = "one argument per rule")]
    pub fn rule_set(
        &self,
        code: &str,
        daily_loss_basis: &str,
        drawdown_mode: &str,
        reset: &str,
        zone: &str,
        min_trading_days: i32,
        free_retries: i32,
        retry_on: &str,
    ) {
        let sql = format!(
            "INSERT INTO audition_rule_sets (code, quote_currency, starting_balance, profit_target_pct, \
             max_daily_loss_pct, daily_loss_basis, max_drawdown_pct, drawdown_basis, drawdown_mode, \
             daily_reset_time, time_zone, min_trading_days, max_window_minutes, free_retries, retry_on, active) \
             VALUES ('{code}', 'USDC', 100000, 10, 5, '{daily_loss_basis}', 10, 'equity', '{drawdown_mode}', \
             '{reset}', '{zone}', {min_trading_days}, 43200, {free_retries}, ARRAY[{retry_on}]::text[], true)"
        );
        diesel::sql_query(sql)
            .execute(&mut self.db.owner_connection().unwrap())
            .unwrap();
    }

    /// An equity snapshot of `account`, as mark-to-market writes it.
    pub async fn snapshot(
        &self,
        audition: &AuditionView,
        owner: Uuid,
        when: &str,
        equity: &str,
        cash: &str,
    ) {
        let account = audition.prop_account_id;
        let when = at(when);
        let (equity, cash) = (d(equity), d(cash));
        self.db
            .db()
            .cross_tenant_transaction("test_snapshot", move |conn| {
                diesel::sql_query(
                    "INSERT INTO prop_equity_snapshots (id, account_id, owner_user_id, at, equity, cash, \
                     unrealized_pnl, used_margin, gross_exposure, peak_equity, drawdown) \
                     VALUES ($1, $2, $3, $4, $5, $6, $5 - $6, 0, 0, $5, 0)",
                )
                .bind::<SqlUuid, _>(Uuid::new_v4())
                .bind::<SqlUuid, _>(account)
                .bind::<SqlUuid, _>(owner)
                .bind::<Timestamptz, _>(when)
                .bind::<Numeric, _>(equity)
                .bind::<Numeric, _>(cash)
                .execute(conn)?;
                Ok::<_, DbError>(())
            })
            .await
            .unwrap();
    }

    /// A real fill on the audition's account at the clock's current time.
    pub async fn trade(&self, audition: &AuditionView, owner: Uuid, side: Side, size: &str) {
        self.feed.set_mid(BTC, d("100"), self.clock.now());
        let outcome = self
            .prop
            .place_order(
                owner,
                audition.prop_account_id,
                OrderRequest {
                    decision_action_id: None,
                    instrument: BTC.into(),
                    side,
                    size: d(size),
                    limit_price: None,
                    reduce_only: false,
                    time_in_force: TimeInForce::Ioc,
                },
            )
            .await
            .unwrap();
        assert!(!outcome.fills.is_empty(), "{:?}", outcome.order);
    }

    /// A buy of `levels` units on the audition's account that walks a book of `levels` asks of
    /// one unit each: one order, `levels` fills, all stamped with the clock's current time.
    pub async fn trade_through_book(
        &self,
        audition: &AuditionView,
        owner: Uuid,
        levels: u32,
    ) -> Vec<FillView> {
        let now = self.clock.now();
        let asks = (0..levels)
            .map(|step| Level {
                price: d("100") + d("0.1") * Decimal::from(step),
                size: d("1"),
            })
            .collect();
        self.feed.set_quote(
            BTC,
            MarketQuote {
                mid: d("100"),
                mid_at: now,
                book: Some(Book {
                    observed_at: now,
                    bids: Vec::new(),
                    asks,
                }),
            },
        );
        let outcome = self
            .prop
            .place_order(
                owner,
                audition.prop_account_id,
                OrderRequest {
                    decision_action_id: None,
                    instrument: BTC.into(),
                    side: Side::Buy,
                    size: Decimal::from(levels),
                    limit_price: None,
                    reduce_only: false,
                    time_in_force: TimeInForce::Ioc,
                },
            )
            .await
            .unwrap();
        assert_eq!(outcome.fills.len(), levels as usize, "{:?}", outcome.order);
        // The book is consumed; later marks use the mid alone.
        self.feed.set_mid(BTC, d("100"), now);
        outcome.fills
    }

    /// The stored position of the last fill the run's evaluation read.
    pub fn fill_cursor(&self, run_id: Uuid) -> Option<(DateTime<Utc>, Uuid)> {
        let row = diesel::sql_query(
            "SELECT last_fill_at, last_fill_id FROM audition_run_evaluations WHERE run_id = $1",
        )
        .bind::<SqlUuid, _>(run_id)
        .get_result::<FillCursor>(&mut self.db.owner_connection().unwrap())
        .unwrap();
        row.last_fill_at.zip(row.last_fill_id)
    }

    /// A user with a published clone, an audition purchase and a started audition.
    pub async fn started(&self, rule_set: Option<&str>) -> (Uuid, Uuid, StartedAudition) {
        let owner = self.user().await;
        let clone_id = self.clone_of(owner, true).await;
        let purchase_id = self.purchase(owner, clone_id, "audition_fee").await;
        let started = self
            .service
            .start_audition(
                owner,
                clone_id,
                StartAudition {
                    purchase_id,
                    rule_set_code: rule_set.map(str::to_string),
                },
            )
            .await
            .unwrap();
        (owner, clone_id, started)
    }

    pub async fn approve_profile(&self, owner: Uuid, clone_id: Uuid) {
        self.clones
            .submit_profile(
                owner,
                clone_id,
                ProfileSubmission {
                    display_name: "Alpha".into(),
                    username: format!("alpha_{}", &hex(8)),
                    bio: String::new(),
                    avatar_url: None,
                },
            )
            .await
            .unwrap();
    }

    /// Rows in `table` as the schema owner sees them.
    pub fn count(&self, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.db.owner_connection().unwrap())
            .unwrap()
            .n
    }
}
