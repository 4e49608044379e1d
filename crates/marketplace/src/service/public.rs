//! What creators and administrators do: upload (parse, compile, rate limit, fork lineage),
//! list, read with metrics, history and lineage, and review.

use chrono::Duration;
use clones_kernel::{Cursor, Page, PageError, PageRequest};
use clones_strategy::{
    Constraints, NodeKind, StrategyGraph, compile, fingerprint_hex, parse_value,
};
use diesel::PgConnection;
use uuid::Uuid;

use super::{PgMarketplaceService, change_status, record_creation, status_of};
use crate::models::{HistoryRow, LineageRow, StrategyRow};
use crate::mutate::MutationKind;
use crate::status::{StatusEvent, StrategyStatus};
use crate::views::{
    LineageLink, NewStrategy, Review, ReviewAction, StatusChange, StrategyDetail, StrategyFilter,
    StrategySort, StrategySummary,
};
use crate::{MarketplaceError, repo};

/// The largest graph document accepted, in bytes of JSON.
const MAX_GRAPH_BYTES: usize = 64 * 1024;

/// Lineage links read below a strategy, at most.
const MAX_DESCENDANTS: usize = 200;

/// `perp` (candles only), `outcome` (prediction markets only) or `mixed`.
pub(crate) fn asset_type(graph: &StrategyGraph) -> &'static str {
    let candles = graph
        .nodes
        .iter()
        .any(|node| matches!(node.kind, NodeKind::Price { .. }));
    let outcomes = graph
        .nodes
        .iter()
        .any(|node| matches!(node.kind, NodeKind::OutcomePrice { .. }));
    match (candles, outcomes) {
        (true, true) => "mixed",
        (false, true) => "outcome",
        _ => "perp",
    }
}

/// Parses and compiles an uploaded graph.
pub(crate) fn checked_graph(value: &serde_json::Value) -> Result<StrategyGraph, MarketplaceError> {
    if value.to_string().len() > MAX_GRAPH_BYTES {
        return Err(MarketplaceError::InvalidInput(format!(
            "graph is larger than {MAX_GRAPH_BYTES} bytes"
        )));
    }
    let graph =
        parse_value(value).map_err(|errors| MarketplaceError::InvalidGraph(errors.problems()))?;
    compile(&graph, &Constraints::unrestricted())
        .map_err(|errors| MarketplaceError::InvalidGraph(errors.problems()))?;
    Ok(graph)
}

fn summary(row: &StrategyRow) -> Result<StrategySummary, MarketplaceError> {
    Ok(StrategySummary {
        id: row.id,
        name: row.name.clone(),
        uploader_id: row.uploader_user_id,
        status: status_of(row)?,
        asset_type: row.asset_type.clone(),
        score: row.score,
        robustness: row.robustness,
        generation: row.generation,
        origin: row.origin.clone(),
        created_at: row.created_at,
    })
}

fn change(row: HistoryRow) -> StatusChange {
    StatusChange {
        from: row.from_status.as_deref().and_then(StrategyStatus::parse),
        to: StrategyStatus::parse(&row.to_status).unwrap_or(StrategyStatus::PendingReview),
        event: row.event,
        reason: row.reason,
        actor_id: row.actor_user_id,
        at: row.created_at,
    }
}

fn link(row: LineageRow) -> LineageLink {
    LineageLink {
        parent_id: row.parent_id,
        child_id: row.child_id,
        mutation_type: row.mutation_type,
        mutation_detail: row.mutation_detail,
        generation: row.generation,
        royalty_percent_parent: row.royalty_percent_parent,
        royalty_percent_child: row.royalty_percent_child,
    }
}

/// The links from `id` up to its root, nearest first.
pub(crate) fn ancestors(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<LineageRow>, MarketplaceError> {
    let mut links = Vec::new();
    let mut current = id;
    while let Some(parent) = repo::parent_link(conn, current)? {
        current = parent.parent_id;
        links.push(parent);
        if links.len() > 1_000 {
            return Err(MarketplaceError::Corrupt(format!("lineage of {id} loops")));
        }
    }
    Ok(links)
}

pub(crate) fn detail(
    conn: &mut PgConnection,
    row: StrategyRow,
) -> Result<StrategyDetail, MarketplaceError> {
    let history = repo::history(conn, row.id)?
        .into_iter()
        .map(change)
        .collect();
    let metrics = repo::evaluation(conn, row.id, "full")?
        .map(|evaluation| serde_json::from_value(evaluation.metrics))
        .transpose()
        .map_err(|error| MarketplaceError::Corrupt(format!("metrics of {}: {error}", row.id)))?;
    let ancestors = ancestors(conn, row.id)?.into_iter().map(link).collect();
    let mut descendants = Vec::new();
    let mut frontier = vec![row.id];
    while !frontier.is_empty() && descendants.len() < MAX_DESCENDANTS {
        let links = repo::child_links(conn, &frontier)?;
        frontier = links.iter().map(|link| link.child_id).collect();
        descendants.extend(links.into_iter().map(link));
    }
    descendants.truncate(MAX_DESCENDANTS);
    Ok(StrategyDetail {
        summary: summary(&row)?,
        description: row.description,
        graph: row.graph,
        fingerprint: row.fingerprint,
        duplicate_of: row.duplicate_of,
        metrics,
        history,
        ancestors,
        descendants,
    })
}

pub(super) async fn upload(
    service: &PgMarketplaceService,
    uploader: Uuid,
    upload: NewStrategy,
) -> Result<StrategyDetail, MarketplaceError> {
    let name = upload.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(MarketplaceError::InvalidInput(
            "name must be 1 to 120 characters".into(),
        ));
    }
    if upload.description.chars().count() > 2_000 {
        return Err(MarketplaceError::InvalidInput(
            "description must be at most 2000 characters".into(),
        ));
    }
    let graph = checked_graph(&upload.graph)?;
    let document = serde_json::to_value(&graph)
        .map_err(|error| MarketplaceError::Corrupt(error.to_string()))?;
    let limit = service.settings.uploads_per_hour;
    let fork_percent = service.settings.fork_parent_percent;
    let now = service.clock.now();
    service
        .db
        .tenant_transaction(uploader, move |conn| {
            let recent = repo::uploads_since(conn, uploader, now - Duration::hours(1))?;
            if recent.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
                let oldest = recent.first().copied().unwrap_or(now);
                let wait = (oldest + Duration::hours(1) - now).num_seconds().max(1);
                return Err(MarketplaceError::UploadLimit {
                    retry_after_secs: u64::try_from(wait).unwrap_or(1),
                });
            }
            let parent = match upload.parent_id {
                Some(parent) => {
                    Some(repo::strategy(conn, parent)?.ok_or(MarketplaceError::NotFound)?)
                }
                None => None,
            };
            let row = StrategyRow {
                id: Uuid::new_v4(),
                uploader_user_id: Some(uploader),
                name,
                description: upload.description,
                graph: document,
                fingerprint: fingerprint_hex(&graph),
                asset_type: asset_type(&graph).into(),
                status: StrategyStatus::PendingReview.as_str().into(),
                score: None,
                robustness: None,
                generation: parent.as_ref().map_or(0, |parent| parent.generation + 1),
                origin: "upload".into(),
                duplicate_of: None,
                created_at: now,
                updated_at: now,
            };
            repo::insert_strategy(conn, &row)?;
            record_creation(conn, &row, "upload", "uploaded")?;
            if let Some(parent) = &parent {
                repo::insert_lineage(
                    conn,
                    &LineageRow {
                        id: Uuid::new_v4(),
                        parent_id: parent.id,
                        child_id: row.id,
                        mutation_type: MutationKind::Fork.as_str().into(),
                        mutation_detail: format!("forked from {}", parent.name),
                        generation: row.generation,
                        royalty_percent_parent: fork_percent,
                        royalty_percent_child: rust_decimal::Decimal::ONE_HUNDRED - fork_percent,
                        created_at: now,
                    },
                )?;
            }
            detail(conn, row)
        })
        .await
}

pub(super) async fn list(
    service: &PgMarketplaceService,
    viewer: Uuid,
    filter: StrategyFilter,
    page: PageRequest,
) -> Result<Page<StrategySummary>, MarketplaceError> {
    service
        .db
        .tenant_transaction(viewer, move |conn| {
            // The score order keeps the kernel's cursor: it names the last row by (creation,
            // id), and the next page starts at that row's score, looked up here.
            let after_score = match (filter.sort, page.cursor()) {
                (StrategySort::Score, Some(cursor)) => {
                    let score = repo::score_position(conn, cursor.id())?
                        .filter(|(at, _)| *at == cursor.at())
                        .map(|(_, score)| score)
                        .ok_or(PageError::MalformedCursor)?;
                    Some((score, cursor.id()))
                }
                _ => None,
            };
            let rows = repo::page(conn, viewer, &filter, &page, after_score)?;
            Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                .try_map(|row| summary(&row))
        })
        .await
}

pub(super) async fn read(
    service: &PgMarketplaceService,
    viewer: Uuid,
    id: Uuid,
) -> Result<StrategyDetail, MarketplaceError> {
    service
        .db
        .tenant_transaction(viewer, move |conn| {
            let row = repo::strategy(conn, id)?.ok_or(MarketplaceError::NotFound)?;
            detail(conn, row)
        })
        .await
}

pub(super) async fn review(
    service: &PgMarketplaceService,
    admin: Uuid,
    id: Uuid,
    review: Review,
) -> Result<StrategyDetail, MarketplaceError> {
    let reason = review.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(MarketplaceError::InvalidInput(
            "reason must be 1 to 500 characters".into(),
        ));
    }
    let event = match review.action {
        ReviewAction::Reject => StatusEvent::Reject,
        ReviewAction::Reinstate => StatusEvent::Reinstate,
        ReviewAction::Discard => StatusEvent::Discard,
    };
    let now = service.clock.now();
    service
        .db
        .cross_tenant_transaction("marketplace review by an administrator", move |conn| {
            let row = repo::lock_strategy(conn, id)?.ok_or(MarketplaceError::NotFound)?;
            change_status(
                conn,
                &row,
                event,
                &reason,
                Some(admin),
                row.duplicate_of,
                now,
            )?;
            let row = repo::strategy(conn, id)?.ok_or(MarketplaceError::NotFound)?;
            detail(conn, row)
        })
        .await
}
