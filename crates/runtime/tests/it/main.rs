//! The worker loop and heartbeats against real PostgreSQL.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use clones_kernel::FixedClock;
use clones_runtime::{
    Cycle, CycleError, CycleReport, HeartbeatService, PgHeartbeatService, Shutdown, WorkerOptions,
    run_worker,
};
use clones_test_db::TestDb;

mod metrics;

/// Fails on the cycles listed, succeeds with `items` otherwise; can signal shutdown mid-cycle.
struct Scripted {
    runs: AtomicU32,
    fail_on: Vec<u32>,
    items: u64,
    shutdown_during: Option<(u32, tokio::sync::watch::Sender<bool>)>,
}

#[async_trait]
impl Cycle for Scripted {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((at, sender)) = &self.shutdown_during
            && *at == run
        {
            sender.send(true)?;
            // The cycle keeps working after the request; it must still complete.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if self.fail_on.contains(&run) {
            return Err(format!("cycle {run} failed").into());
        }
        Ok(CycleReport { items: self.items })
    }

    fn take_events(&self) -> Vec<(&'static str, u64)> {
        // Three placed and one wake-up per cycle; a zero is not written.
        vec![("decisions_placed", 3), ("wakeups", 1), ("tick_errors", 0)]
    }
}

fn scripted(fail_on: Vec<u32>) -> Scripted {
    Scripted {
        runs: AtomicU32::new(0),
        fail_on,
        items: 2,
        shutdown_during: None,
    }
}

fn options(once: bool) -> WorkerOptions {
    WorkerOptions {
        name: "test-worker".into(),
        interval: Duration::from_millis(10),
        once,
    }
}

async fn setup() -> (TestDb, FixedClock, Arc<PgHeartbeatService>) {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(Utc::now());
    let heartbeats = Arc::new(PgHeartbeatService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
    ));
    (db, clock, heartbeats)
}

#[tokio::test]
async fn once_runs_a_single_cycle_and_records_success() {
    let (_db, _clock, heartbeats) = setup().await;
    let (_sender, shutdown) = Shutdown::new();
    let summary = run_worker(
        &options(true),
        &scripted(vec![]),
        heartbeats.clone(),
        shutdown,
    )
    .await;
    assert_eq!(
        (summary.cycles, summary.failures, summary.last_failed),
        (1, 0, false)
    );
    let health = heartbeats.health(3).await.unwrap();
    let worker = &health.workers[0];
    assert!(health.healthy);
    assert_eq!(worker.status, "succeeded");
    assert_eq!(
        (worker.cycles_total, worker.items_total, worker.last_items),
        (1, 2, Some(2))
    );
    assert_eq!(worker.interval_ms, 10);
    assert!(worker.last_succeeded_at.is_some() && worker.last_error.is_none());
    assert_eq!(
        worker.events,
        std::collections::BTreeMap::from([
            ("decisions_placed".to_string(), 3),
            ("wakeups".to_string(), 1)
        ])
    );
}

#[tokio::test]
async fn failures_are_counted_and_a_success_resets_the_streak() {
    let (_db, _clock, heartbeats) = setup().await;
    let cycle = scripted(vec![1, 2]);
    for expected_streak in [1, 2] {
        let (_sender, shutdown) = Shutdown::new();
        let summary = run_worker(&options(true), &cycle, heartbeats.clone(), shutdown).await;
        assert!(summary.last_failed);
        let worker = heartbeats.health(3).await.unwrap().workers.remove(0);
        assert_eq!(worker.status, "failed");
        assert_eq!(worker.consecutive_errors, expected_streak);
        assert_eq!(
            worker.last_error.as_deref(),
            Some(format!("cycle {expected_streak} failed").as_str())
        );
    }
    let (_sender, shutdown) = Shutdown::new();
    run_worker(&options(true), &cycle, heartbeats.clone(), shutdown).await;
    let health = heartbeats.health(3).await.unwrap();
    let worker = &health.workers[0];
    assert_eq!(
        (worker.status.as_str(), worker.consecutive_errors),
        ("succeeded", 0)
    );
    assert_eq!((worker.cycles_total, worker.failures_total), (3, 2));
    assert!(worker.last_error_at.is_some());
    assert!(health.healthy);
}

#[tokio::test]
async fn shutdown_lets_the_running_cycle_finish_then_stops() {
    let (_db, _clock, heartbeats) = setup().await;
    let (sender, shutdown) = Shutdown::new();
    let cycle = Scripted {
        shutdown_during: Some((3, sender)),
        ..scripted(vec![])
    };
    let summary = run_worker(&options(false), &cycle, heartbeats.clone(), shutdown).await;
    // Event totals add up over cycles.
    let events = &heartbeats.health(3).await.unwrap().workers[0].events;
    assert_eq!(
        events["decisions_placed"],
        3 * i64::try_from(summary.cycles).unwrap()
    );
    assert_eq!(summary.cycles, 3);
    let worker = heartbeats.health(3).await.unwrap().workers.remove(0);
    assert_eq!(
        (worker.status.as_str(), worker.cycles_total),
        ("succeeded", 3)
    );
}

#[tokio::test]
async fn workers_go_stale_after_missing_their_intervals() {
    let (_db, clock, heartbeats) = setup().await;
    heartbeats
        .cycle_started("slow-worker", "i-1", Duration::from_secs(60))
        .await
        .unwrap();
    // A first cycle still running is measured from its start.
    clock.advance(chrono::Duration::seconds(179));
    assert!(!heartbeats.health(3).await.unwrap().workers[0].stale);
    clock.advance(chrono::Duration::seconds(2));
    let health = heartbeats.health(3).await.unwrap();
    assert!(health.workers[0].stale && !health.healthy);
    heartbeats
        .cycle_finished("slow-worker", Duration::from_millis(5), 0, None)
        .await
        .unwrap();
    assert!(heartbeats.health(3).await.unwrap().healthy);
}
