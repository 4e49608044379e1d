//! The one composition root against a real database: every service it builds shares the pool
//! and answers on a freshly migrated schema.

use std::sync::Arc;

use clones_kernel::{FixedClock, PageRequest};
use clones_test_db::TestDb;
use clones_wiring::{ServiceSettings, Services};

#[tokio::test]
async fn every_service_is_built_on_one_pool_and_answers() {
    let db = TestDb::new().unwrap();
    let clock = Arc::new(FixedClock::at(chrono::DateTime::UNIX_EPOCH));
    let services = Services::new(db.db().clone(), clock, ServiceSettings::default());
    // The migrations seed the audition rule sets lifecycle serves.
    assert!(!services.lifecycle.rule_sets().await.unwrap().is_empty());
    let stranger = uuid::Uuid::new_v4();
    let clones = services
        .clones
        .list_clones(stranger, PageRequest::first())
        .await
        .unwrap();
    assert!(clones.items.is_empty());
    let purchases = services
        .economy
        .purchases(stranger, PageRequest::first())
        .await
        .unwrap();
    assert!(purchases.items.is_empty());
    assert!(
        services
            .heartbeats
            .health(3)
            .await
            .unwrap()
            .workers
            .is_empty()
    );
}
