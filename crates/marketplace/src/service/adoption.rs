//! Adoption of a `proposable` strategy by a clone (through clone-service's trait, which
//! records the origin on the draft and the version published from it), and the lineage path
//! economy shares a royalty along.

use clones_clone_service::DraftView;
use uuid::Uuid;

use super::{PgMarketplaceService, status_of};
use crate::royalty::LineageStep;
use crate::status::StrategyStatus;
use crate::{MarketplaceError, repo};

/// Lineage links followed up from a strategy, at most (a longer chain is corrupt).
const MAX_PATH: usize = 1_000;

pub(super) async fn adopt(
    service: &PgMarketplaceService,
    owner: Uuid,
    strategy_id: Uuid,
    clone_id: Uuid,
) -> Result<DraftView, MarketplaceError> {
    let row = service
        .db
        .tenant_transaction(owner, move |conn| {
            repo::strategy(conn, strategy_id)?.ok_or(MarketplaceError::NotFound)
        })
        .await?;
    if status_of(&row)? != StrategyStatus::Proposable {
        return Err(MarketplaceError::NotProposable);
    }
    Ok(service
        .clones
        .adopt_draft(owner, clone_id, row.graph, row.id)
        .await?)
}

pub(super) async fn royalty_path(
    service: &PgMarketplaceService,
    strategy_id: Uuid,
) -> Result<Vec<LineageStep>, MarketplaceError> {
    service
        .db
        .cross_tenant_transaction("marketplace: royalty path for economy", move |conn| {
            let mut row = repo::strategy(conn, strategy_id)?.ok_or(MarketplaceError::NotFound)?;
            let mut path = Vec::new();
            while let Some(uploader) = row.uploader_user_id {
                let link = repo::parent_link(conn, row.id)?;
                path.push(LineageStep {
                    uploader,
                    parent_percent: link.as_ref().map(|link| link.royalty_percent_parent),
                });
                let Some(link) = link else { break };
                if path.len() > MAX_PATH {
                    return Err(MarketplaceError::Corrupt(format!(
                        "lineage of {strategy_id} loops"
                    )));
                }
                row = repo::strategy(conn, link.parent_id)?.ok_or_else(|| {
                    MarketplaceError::Corrupt(format!("parent {} is missing", link.parent_id))
                })?;
            }
            Ok(path)
        })
        .await
}
