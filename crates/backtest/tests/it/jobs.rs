//! The queue: a job runs to metrics and artifacts, two workers never lease one job, an
//! expired lease runs again, spent attempts fail, cancels stop, retention deletes artifacts.

use chrono::Duration;
use clones_backtest::{ArtifactKind, JobError, JobOutcome, JobStatus, TRADES_CSV_HEADER};

use crate::support::{fixture, request};

#[tokio::test]
async fn a_job_runs_to_metrics_and_artifacts_and_repeats_its_hash() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let first = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    assert_eq!(first.status, JobStatus::Queued);
    assert!(first.progress.bars_total > 0);
    f.clock.advance(Duration::seconds(1));
    let second = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();

    let report = f.backtests.work(4).await.unwrap();
    assert_eq!((report.leased, report.succeeded), (2, 2));

    let one = f.backtests.job(owner, clone_id, first.id).await.unwrap();
    let two = f.backtests.job(owner, clone_id, second.id).await.unwrap();
    assert_eq!(one.job.status, JobStatus::Succeeded);
    assert_eq!(one.job.progress.percent, 100.0);
    assert_eq!(one.job.attempts, 1);
    let metrics = one.metrics.unwrap();
    assert!(metrics.trades > 0, "the waves make the EMA cross trade");
    let summary = one.job.summary.clone().unwrap();
    assert_eq!(summary.trades, metrics.trades);
    assert_eq!(summary.result_hash.len(), 67);
    assert!(summary.result_hash.starts_with("v2:"));
    assert_eq!(
        two.job.summary.unwrap().result_hash,
        summary.result_hash,
        "the same strategy, data and settings give the same hash"
    );
    assert_eq!(one.artifacts.len(), 5);

    let csv = f
        .backtests
        .artifact(owner, clone_id, first.id, ArtifactKind::TradesCsv)
        .await
        .unwrap();
    assert!(
        String::from_utf8(csv.body)
            .unwrap()
            .starts_with(TRADES_CSV_HEADER)
    );
    let svg = f
        .backtests
        .artifact(owner, clone_id, first.id, ArtifactKind::ChartSvg)
        .await
        .unwrap();
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(String::from_utf8(svg.body).unwrap().contains("<svg"));
    let trades: serde_json::Value = serde_json::from_slice(
        &f.backtests
            .artifact(owner, clone_id, first.id, ArtifactKind::TradesJson)
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(trades.as_array().unwrap().len() as u32, metrics.trades);

    let page = f
        .backtests
        .jobs(
            owner,
            clone_id,
            clones_kernel::PageRequest::new(Some(1), None).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.items[0].id, second.id, "newest first");
    let rest = f
        .backtests
        .jobs(
            owner,
            clone_id,
            clones_kernel::PageRequest::new(Some(1), page.next_cursor).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(rest.items[0].id, first.id);
    assert!(rest.next_cursor.is_none());
}

#[tokio::test]
async fn two_workers_never_lease_one_job() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    for _ in 0..5 {
        f.backtests
            .create(owner, clone_id, request())
            .await
            .unwrap();
    }
    let (a, b) = tokio::join!(f.backtests.lease(3), f.backtests.lease(3));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 5);
    let mut ids: Vec<_> = a.iter().chain(&b).map(|job| job.id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no job leased twice");
    assert!(f.backtests.lease(3).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_lease_is_run_again_and_spent_attempts_fail() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let job = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    let lost = f.backtests.lease(1).await.unwrap().remove(0);
    assert_eq!(lost.attempt(), 1);
    // The worker holding attempt 1 dies; its lease runs out.
    f.clock.advance(Duration::seconds(61));
    let report = f.backtests.work(1).await.unwrap();
    assert_eq!((report.requeued, report.succeeded), (1, 1));
    let done = f.backtests.job(owner, clone_id, job.id).await.unwrap();
    assert_eq!(done.job.status, JobStatus::Succeeded);
    assert_eq!(done.job.attempts, 2);
    // The first worker comes back: its attempt no longer holds the lease and writes nothing.
    assert_eq!(f.backtests.run_leased(lost).await, JobOutcome::LeaseLost);
    assert_eq!(
        f.backtests.job(owner, clone_id, job.id).await.unwrap(),
        done
    );

    // Two attempts (the fixture's limit) whose leases both expire: failed, with the reason.
    let doomed = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    for _ in 0..2 {
        f.backtests.expire_leases().await.unwrap();
        assert_eq!(f.backtests.lease(1).await.unwrap().len(), 1);
        f.clock.advance(Duration::seconds(61));
    }
    let (requeued, failed, _) = f.backtests.expire_leases().await.unwrap();
    assert_eq!((requeued, failed), (0, 1));
    let failed = f
        .backtests
        .job(owner, clone_id, doomed.id)
        .await
        .unwrap()
        .job;
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.unwrap().code, "backtest_attempts_exhausted");
    assert!(failed.finished_at.is_some());
}

#[tokio::test]
async fn cancelled_jobs_stop() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    // Queued: cancelled at once, and never leased.
    let queued = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    let cancelled = f
        .backtests
        .cancel(owner, clone_id, queued.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(f.backtests.lease(1).await.unwrap().is_empty());
    assert!(matches!(
        f.backtests.cancel(owner, clone_id, queued.id).await,
        Err(JobError::JobFinished)
    ));

    // Running: the worker stops at its heartbeat and stores nothing.
    let running = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    let leased = f.backtests.lease(1).await.unwrap().remove(0);
    let asked = f
        .backtests
        .cancel(owner, clone_id, running.id)
        .await
        .unwrap();
    assert_eq!(asked.status, JobStatus::Running);
    assert!(asked.cancel_requested);
    assert_eq!(f.backtests.run_leased(leased).await, JobOutcome::Cancelled);
    let detail = f.backtests.job(owner, clone_id, running.id).await.unwrap();
    assert_eq!(detail.job.status, JobStatus::Cancelled);
    assert!(detail.metrics.is_none());
    assert!(detail.artifacts.is_empty());
}

#[tokio::test]
async fn retention_deletes_artifacts_and_keeps_the_job_and_its_metrics() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let job = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    f.backtests.work(1).await.unwrap();
    f.clock.advance(Duration::days(29));
    assert_eq!(f.backtests.work(1).await.unwrap().artifacts_deleted, 0);
    f.clock.advance(Duration::days(2));
    assert_eq!(f.backtests.work(1).await.unwrap().artifacts_deleted, 5);
    assert!(matches!(
        f.backtests
            .artifact(owner, clone_id, job.id, ArtifactKind::Equity)
            .await,
        Err(JobError::ArtifactExpired)
    ));
    let detail = f.backtests.job(owner, clone_id, job.id).await.unwrap();
    assert!(detail.artifacts.is_empty());
    assert!(detail.metrics.is_some());
    assert_eq!(detail.job.status, JobStatus::Succeeded);
}
