//! Owner reads and cancel. Every read runs as the owner, so row-level security hides other
//! users' jobs; a job is also looked up under its clone, so another clone's job is 404.

use std::collections::HashMap;

use clones_kernel::{Cursor, Page, PageRequest};
use uuid::Uuid;

use super::PgBacktestService;
use super::spec::{job_view, status_of};
use crate::consistency::Consistency;
use crate::metrics::Metrics;
use crate::models::MetricsRow;
use crate::views::{Artifact, ArtifactKind, ArtifactView, JobDetail, JobView};
use crate::walk::WalkForwardReport;
use crate::{JobError, repo};

/// Fails with `clone_not_found` unless the owner can see the clone.
async fn owned_clone(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
) -> Result<(), JobError> {
    service.clones.get_clone(owner, clone_id).await?;
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(
    job_id: Uuid,
    what: &str,
    value: &serde_json::Value,
) -> Result<T, JobError> {
    serde_json::from_value(value.clone())
        .map_err(|error| JobError::Corrupt(format!("job {job_id} {what}: {error}")))
}

pub(super) async fn jobs(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    page: PageRequest,
) -> Result<Page<JobView>, JobError> {
    owned_clone(service, owner, clone_id).await?;
    service
        .as_owner(owner, move |conn, now| {
            let rows = repo::jobs_page(conn, clone_id, &page)?;
            let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
            let metrics: HashMap<Uuid, MetricsRow> = repo::metrics_of_jobs(conn, &ids)?
                .into_iter()
                .map(|row| (row.job_id, row))
                .collect();
            let page = Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id));
            let mut items = Vec::with_capacity(page.items.len());
            for row in page.items {
                let summary = metrics.get(&row.id);
                items.push(job_view(row, summary, now)?);
            }
            Ok(Page {
                items,
                next_cursor: page.next_cursor,
            })
        })
        .await
}

pub(super) async fn job(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    job_id: Uuid,
) -> Result<JobDetail, JobError> {
    owned_clone(service, owner, clone_id).await?;
    let retention = service.settings.retention;
    service
        .as_owner(owner, move |conn, now| {
            let row = repo::find_job(conn, clone_id, job_id)?.ok_or(JobError::JobNotFound)?;
            let metrics = repo::metrics_of(conn, job_id)?;
            let artifacts = artifact_views(repo::artifact_list(conn, job_id)?, retention);
            let (full, walk, consistency) = match &metrics {
                Some(stored) => (
                    Some(parse::<Metrics>(job_id, "metrics", &stored.metrics)?),
                    stored
                        .walk_forward
                        .as_ref()
                        .map(|value| parse::<WalkForwardReport>(job_id, "folds", value))
                        .transpose()?,
                    stored
                        .consistency
                        .as_ref()
                        .map(|value| parse::<Consistency>(job_id, "consistency", value))
                        .transpose()?,
                ),
                None => (None, None, None),
            };
            Ok(JobDetail {
                job: job_view(row, metrics.as_ref(), now)?,
                metrics: full,
                walk_forward_report: walk,
                consistency,
                artifacts,
            })
        })
        .await
}

fn artifact_views(
    rows: Vec<crate::models::ArtifactMeta>,
    retention: chrono::Duration,
) -> Vec<ArtifactView> {
    rows.into_iter()
        .filter_map(|row| {
            Some(ArtifactView {
                kind: ArtifactKind::parse(&row.kind)?,
                content_type: row.content_type,
                size: u64::try_from(row.size).unwrap_or(0),
                created_at: row.created_at,
                expires_at: row.created_at + retention,
            })
        })
        .collect()
}

pub(super) async fn cancel(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    job_id: Uuid,
) -> Result<JobView, JobError> {
    owned_clone(service, owner, clone_id).await?;
    service
        .as_owner(owner, move |conn, now| {
            let row = repo::lock_job(conn, clone_id, job_id)?.ok_or(JobError::JobNotFound)?;
            let status = status_of(&row)?;
            let row = if status.is_finished() {
                return Err(JobError::JobFinished);
            } else if row.status == repo::QUEUED {
                repo::cancel_queued(conn, job_id, now)?
            } else {
                repo::request_cancel(conn, job_id)?
            };
            job_view(row, None, now)
        })
        .await
}

pub(super) async fn artifacts(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    job_id: Uuid,
) -> Result<Vec<ArtifactView>, JobError> {
    owned_clone(service, owner, clone_id).await?;
    let retention = service.settings.retention;
    service
        .as_owner(owner, move |conn, _| {
            repo::find_job(conn, clone_id, job_id)?.ok_or(JobError::JobNotFound)?;
            Ok(artifact_views(
                repo::artifact_list(conn, job_id)?,
                retention,
            ))
        })
        .await
}

pub(super) async fn artifact(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    job_id: Uuid,
    kind: ArtifactKind,
) -> Result<Artifact, JobError> {
    owned_clone(service, owner, clone_id).await?;
    service
        .as_owner(owner, move |conn, _| {
            repo::find_job(conn, clone_id, job_id)?.ok_or(JobError::JobNotFound)?;
            match repo::artifact(conn, job_id, kind.as_str())? {
                Some(row) => Ok(Artifact {
                    content_type: row.content_type,
                    body: row.body,
                }),
                // A succeeded job stored every artifact: a missing one was deleted by
                // retention.
                None if repo::metrics_of(conn, job_id)?.is_some() => Err(JobError::ArtifactExpired),
                None => Err(JobError::ArtifactNotFound),
            }
        })
        .await
}
