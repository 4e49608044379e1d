//! The one read across tenants: every active target, the tenants with claimed rows still
//! waiting for an outcome, the tenants with placed orders to read back from the venue, and the
//! tenants whose CLOB wallet's positions are due for a cross-check. It runs in the audited
//! cross-tenant transaction; every other read of a copy-trade table runs as one tenant.

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
    /// Tenants with placed orders the venue has not confirmed for a sync interval.
    pub unsynced_owners: BTreeSet<Uuid>,
    /// Tenants with a CLOB wallet whose positions were not checked for a check interval.
    pub clob_owners: BTreeSet<Uuid>,
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

/// What one enumeration reads.
#[derive(Debug, Clone)]
pub(super) enum Enumerate {
    /// Every active target and every tenant with stuck claims (the worker's cycle).
    Everything,
    /// The active targets of one wallet (a poll's fan-out).
    Wallet(String),
    /// Only the tenants with stuck claims (recovery).
    Stuck,
    /// Only the tenants with placed orders to read back (status sync).
    Unsynced,
    /// Only the tenants whose CLOB wallet's positions are due for a check.
    ClobAccounts,
}

pub(super) async fn watched(
    service: &PgCopyTradeService,
    scope: Enumerate,
) -> Result<Watched, CopyTradeError> {
    let now = service.clock.now();
    let before = now - service.settings.recovery_grace;
    let unconfirmed_since = now - service.settings.sync_every;
    let unchecked_since = now - service.settings.positions_every;
    service
        .db
        .cross_tenant_transaction(
            "copy-mirror enumerator: active targets, stuck claims, unconfirmed orders and CLOB wallets due for a positions check",
            move |conn| {
                let (targets, stuck, unsynced, accounts) = match &scope {
                    Enumerate::Everything => (true, true, false, false),
                    Enumerate::Wallet(_) => (true, false, false, false),
                    Enumerate::Stuck => (false, true, false, false),
                    Enumerate::Unsynced => (false, false, true, false),
                    Enumerate::ClobAccounts => (false, false, false, true),
                };
                let wallet = match &scope {
                    Enumerate::Wallet(wallet) => Some(crate::ids::target_id(wallet)),
                    _ => None,
                };
                Ok(Watched {
                    targets: if targets {
                        repo::active_targets(conn, wallet)?
                    } else {
                        Vec::new()
                    },
                    stuck_owners: if stuck {
                        repo::stuck_owners(conn, before)?.into_iter().collect()
                    } else {
                        BTreeSet::new()
                    },
                    unsynced_owners: if unsynced {
                        repo::unsynced_owners(conn, unconfirmed_since)?
                            .into_iter()
                            .collect()
                    } else {
                        BTreeSet::new()
                    },
                    clob_owners: if accounts {
                        repo::clob_account_owners(conn, unchecked_since)?
                            .into_iter()
                            .collect()
                    } else {
                        BTreeSet::new()
                    },
                })
            },
        )
        .await
}
