//! Fixtures: a fresh database with every service wired over it, a fixed clock and users.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_kernel::FixedClock;
use clones_marketplace::{MarketplaceService, NewStrategy};
use clones_test_db::TestDb;
use clones_wiring::{ServiceSettings, Services};
use uuid::Uuid;

pub struct Fixture {
    /// Held so the database lives as long as the fixture.
    _db: TestDb,
    pub clock: FixedClock,
    pub services: Services,
    pub market: Arc<dyn MarketplaceService>,
}

pub async fn fixture() -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at("2026-12-06T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
    let services = Services::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        ServiceSettings::default(),
    );
    Fixture {
        _db: db,
        clock,
        market: services.marketplace.clone(),
        services,
    }
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
}

/// The SMA crossover with `fast`/`slow` periods, plus `extra` JSON nodes (unconnected).
pub fn sma_cross(fast: u32, slow: u32, extra: &[serde_json::Value]) -> serde_json::Value {
    let mut nodes = vec![
        serde_json::json!({ "id": "close", "kind": "price", "params": { "asset": "BTC", "timeframe": "1d", "field": "close" } }),
        serde_json::json!({ "id": "fast", "kind": "sma", "params": { "period": fast } }),
        serde_json::json!({ "id": "slow", "kind": "sma", "params": { "period": slow } }),
        serde_json::json!({ "id": "up", "kind": "crosses_above", "params": {} }),
        serde_json::json!({ "id": "down", "kind": "crosses_below", "params": {} }),
        serde_json::json!({ "id": "buy", "kind": "open_long", "params": { "asset": "BTC", "size": { "percent_equity": "90" } } }),
        serde_json::json!({ "id": "sell", "kind": "close", "params": { "asset": "BTC" } }),
    ];
    nodes.extend(extra.iter().cloned());
    serde_json::json!({
        "version": 1,
        "nodes": nodes,
        "edges": [
            { "from": "close", "to": "fast", "input": "source" },
            { "from": "close", "to": "slow", "input": "source" },
            { "from": "fast", "to": "up", "input": "left" },
            { "from": "slow", "to": "up", "input": "right" },
            { "from": "fast", "to": "down", "input": "left" },
            { "from": "slow", "to": "down", "input": "right" },
            { "from": "up", "to": "buy", "input": "when" },
            { "from": "down", "to": "sell", "input": "when" }
        ]
    })
}

pub fn upload(name: &str, graph: serde_json::Value) -> NewStrategy {
    NewStrategy {
        name: name.into(),
        description: "a test strategy".into(),
        graph,
        parent_id: None,
    }
}

impl Fixture {
    /// Sets a strategy's status directly: the pipeline's promotions take many backtests.
    pub fn set_status(&self, id: Uuid, status: &str) {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE user_strategies SET status = '{status}' WHERE id = '{id}'"
        ))
        .execute(&mut self._db.owner_connection().unwrap())
        .unwrap();
    }
}
