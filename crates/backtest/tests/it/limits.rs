//! Usage and size limits refuse with stable codes and queue nothing; another user's clone or
//! job is 404; previews run synchronously within their bound.

use chrono::Duration;
use clones_backtest::{CreateBacktest, JobError, JobSettings, PreviewBacktest, TierLimits};
use clones_clone_service::Tier;
use clones_kernel::{DomainError, PageRequest};

use crate::support::{d, first_bar, fixture, fixture_with, request, settings};

async fn count(f: &crate::support::Fixture, owner: uuid::Uuid, clone_id: uuid::Uuid) -> usize {
    f.backtests
        .jobs(owner, clone_id, PageRequest::new(Some(500), None).unwrap())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn the_daily_job_limit_refuses_with_429_and_queues_nothing() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let limit = TierLimits::of(Tier::Starter).jobs_per_day;
    for _ in 0..limit {
        f.backtests
            .create(owner, clone_id, request())
            .await
            .unwrap();
    }
    let refused = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "backtest_usage_exceeded");
    assert_eq!(refused.kind(), clones_kernel::ErrorKind::RateLimited);
    // 12:00:30 UTC: the day resets in 11 h 59 min 30 s.
    assert_eq!(refused.retry_after_secs(), Some(43_170));
    assert_eq!(count(&f, owner, clone_id).await, limit as usize);
    // The next UTC day has a fresh budget.
    f.clock.advance(Duration::hours(12));
    f.backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
}

#[tokio::test]
async fn size_limits_refuse_with_422_naming_each_limit() {
    let f = fixture_with(JobSettings {
        max_bars_per_job: 100,
        max_open_jobs: 1,
        ..settings()
    })
    .await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let too_long = CreateBacktest {
        from: Some(first_bar() - Duration::days(400)),
        ..request()
    };
    let refused = f
        .backtests
        .create(owner, clone_id, too_long)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "backtest_too_large");
    let problems: Vec<_> = refused
        .problems()
        .unwrap()
        .iter()
        .map(|problem| problem.code.as_str())
        .collect();
    assert_eq!(problems, ["too_many_bars", "range_too_long"]);
    assert_eq!(count(&f, owner, clone_id).await, 0);

    // One job fits; a second while the first is queued finds the queue full.
    let small = CreateBacktest {
        from: Some(first_bar() + Duration::hours(350)),
        ..request()
    };
    f.backtests
        .create(owner, clone_id, small.clone())
        .await
        .unwrap();
    let full = f
        .backtests
        .create(owner, clone_id, small)
        .await
        .unwrap_err();
    assert_eq!(full.code(), "backtest_queue_full");

    let invalid = f
        .backtests
        .create(
            owner,
            clone_id,
            CreateBacktest {
                to: None,
                cash: Some(d("-1")),
                ..request()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), "invalid_backtest_request");
    assert_eq!(invalid.kind(), clones_kernel::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn another_users_clone_and_job_are_not_found() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let job = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    let other = f.user().await;
    let others_clone = f.clone(other).await;
    assert!(matches!(
        f.backtests.create(other, clone_id, request()).await,
        Err(JobError::CloneNotFound)
    ));
    assert!(matches!(
        f.backtests.job(other, clone_id, job.id).await,
        Err(JobError::CloneNotFound)
    ));
    assert!(matches!(
        f.backtests.cancel(other, clone_id, job.id).await,
        Err(JobError::CloneNotFound)
    ));
    // Their own clone does not reach the job either.
    assert!(matches!(
        f.backtests.job(other, others_clone, job.id).await,
        Err(JobError::JobNotFound)
    ));
    assert!(matches!(
        f.backtests.artifacts(other, others_clone, job.id).await,
        Err(JobError::JobNotFound)
    ));
    let missing_version = f
        .backtests
        .create(
            owner,
            clone_id,
            clones_backtest::CreateBacktest {
                version: Some(7),
                ..request()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(missing_version.code(), "strategy_version_not_found");
}

#[tokio::test]
async fn a_preview_runs_now_and_is_bounded() {
    let f = fixture().await;
    let owner = f.user().await;
    let clone_id = f.clone(owner).await;
    let preview = PreviewBacktest {
        from: first_bar() + Duration::hours(50),
        to: first_bar() + Duration::hours(crate::support::BARS),
        graph: None,
        cash: None,
        commission: Some(d("0.001")),
        slippage_bps: None,
        fill_at: None,
        end_at: None,
    };
    let view = f
        .backtests
        .preview(owner, clone_id, preview.clone())
        .await
        .unwrap();
    assert!(view.report.metrics.trades > 0);
    assert_eq!(view.strategy_fingerprint.len(), 64);
    // The same settings as a job give the job's hash.
    let job = f
        .backtests
        .create(owner, clone_id, request())
        .await
        .unwrap();
    f.backtests.work(1).await.unwrap();
    let detail = f.backtests.job(owner, clone_id, job.id).await.unwrap();
    assert_eq!(
        detail.job.summary.unwrap().result_hash,
        view.report.result_hash
    );

    let too_long = PreviewBacktest {
        from: first_bar() - Duration::days(3_000),
        ..preview
    };
    let refused = f
        .backtests
        .preview(owner, clone_id, too_long)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "backtest_too_large");
}
