//! Status sync: placed orders that are not final are read back from the venue they went to,
//! and the ledger's status and `synced_at` follow what the venue reports. The decision of a
//! row never changes here (the order was placed); only the order's state moves.
//!
//! A venue that does not know an order it accepted is logged and left for the next pass: the
//! ledger keeps its last confirmed state rather than guessing.

use uuid::Uuid;

use super::PgCopyTradeService;
use super::enumerator::{Enumerate, watched};
use super::pipeline::{executor_for, order_status};
use crate::executor::{ExecError, Placement, Route};
use crate::views::SyncReport;
use crate::{CopyTradeError, repo};

/// Rows read back per tenant per pass, so one tenant with many open orders cannot hold the
/// worker.
const ROWS_PER_TENANT: i64 = 200;

pub(super) async fn sync(service: &PgCopyTradeService) -> Result<SyncReport, CopyTradeError> {
    let before = service.clock.now() - service.settings.sync_every;
    let owners = watched(service, Enumerate::Unsynced).await?.unsynced_owners;
    let mut report = SyncReport::default();
    for owner in owners {
        sync_owner(service, owner, before, &mut report).await?;
    }
    Ok(report)
}

async fn sync_owner(
    service: &PgCopyTradeService,
    owner: Uuid,
    before: chrono::DateTime<chrono::Utc>,
    report: &mut SyncReport,
) -> Result<(), CopyTradeError> {
    let (rows, grant) = service
        .as_owner(owner, move |conn, _| {
            Ok((
                repo::unsynced(conn, owner, before, ROWS_PER_TENANT)?,
                repo::grant(conn, owner)?,
            ))
        })
        .await?;
    for row in rows {
        report.checked += 1;
        let (Some(venue_order_id), Some(size)) = (row.venue_order_id.clone(), row.size) else {
            continue;
        };
        let name = row
            .executor
            .clone()
            .or_else(|| grant.as_ref().map(|grant| grant.executor.clone()))
            .unwrap_or_default();
        let Some(executor) = executor_for(service, &name) else {
            report.unreachable += 1;
            continue;
        };
        let route = Route {
            owner,
            paper_account: grant.as_ref().and_then(|grant| grant.paper_account_id),
            claimed_at: row.observed_at,
        };
        let (status, filled) = match executor.status(route, &venue_order_id).await {
            Ok(Some(Placement::Accepted { filled, done, .. })) => {
                (order_status(filled, size, done), Some(filled))
            }
            Ok(Some(Placement::Rejected { .. })) => ("rejected", None),
            Ok(None) => {
                tracing::warn!(ledger = %row.id, venue_order_id, "the venue does not know a placed order");
                report.unknown += 1;
                continue;
            }
            Err(ExecError::Ambiguous(reason) | ExecError::NotSent(reason)) => {
                tracing::warn!(ledger = %row.id, %reason, "copy-mirror status sync could not ask the venue");
                report.unreachable += 1;
                continue;
            }
        };
        let (id, previous) = (row.id, row.status.clone());
        service
            .as_owner(owner, move |conn, now| {
                Ok(repo::resync(conn, id, status, filled, now)?)
            })
            .await?;
        if status != previous {
            report.changed += 1;
        }
    }
    Ok(())
}
