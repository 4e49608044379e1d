//! The one read across tenants: every active target, and the tenants with claimed rows still
//! waiting for an outcome. It runs in the audited cross-tenant transaction; every other read
//! of a copy-trade table runs as one tenant.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::PgCopyTradeService;
use crate::models::TargetRow;
use crate::{CopyTradeError, repo};

/// What the worker watches.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    /// Active targets of every tenant, ordered by wallet.
    pub(crate) targets: Vec<TargetRow>,
    /// Tenants with rows pending past the recovery grace.
    pub stuck_owners: BTreeSet<Uuid>,
}

impl Watched {
    /// The distinct wallets to poll, lower-case.
    pub fn wallets(&self) -> Vec<String> {
        let wallets: BTreeSet<&str> = self.targets.iter().map(|row| row.wallet.as_str()).collect();
        wallets.into_iter().map(str::to_string).collect()
    }

    /// Active targets across tenants.
    pub fn target_count(&self) -> usize {
        self.targets.len()
    }
}

pub(super) async fn watched(
    service: &PgCopyTradeService,
    wallet: Option<String>,
) -> Result<Watched, CopyTradeError> {
    let before = service.clock.now() - service.settings.recovery_grace;
    service
        .db
        .cross_tenant_transaction(
            "copy-mirror enumerator: active targets and stuck claims",
            move |conn| {
                let targets = repo::active_targets(conn, wallet.as_deref())?;
                let stuck_owners = repo::stuck_owners(conn, before)?.into_iter().collect();
                Ok(Watched {
                    targets,
                    stuck_owners,
                })
            },
        )
        .await
}
