//! Operator and admin actions: reconciliation of tracked balances against the ledger, halt,
//! resume and cash adjustments with their append-only audit rows, and the audit log.
//!
//! Every action runs in an audited cross-tenant transaction; callers check roles before
//! calling.

use std::collections::{BTreeMap, BTreeSet};

use clones_kernel::{Cursor, Page, PageRequest};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::mapping::{audit_view, balances_from, status_of};
use super::{MAX_AMOUNT, PgPropService, corrupt, owned_account};
use crate::gates::AccountStatus;
use crate::ledger::{Balances, LedgerAccount};
use crate::models::{AuditRow, PositionRow};
use crate::views::{AuditEntry, ReconcileReport, ReconciledBalance, ReconciledPosition};
use crate::{PropError, repo};

impl PgPropService {
    /// Halts (`halt`) or resumes an account, with its audit row, in one transaction.
    pub(super) async fn admin_status(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
        halt: bool,
    ) -> Result<AuditEntry, PropError> {
        let reason = validate_reason(reason)?;
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction("prop_admin", move |conn| {
                let account =
                    repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
                let status = status_of(&account)?;
                let (next, reason_column, action) = match (status, halt) {
                    (AccountStatus::Closed, _) => return Err(PropError::AccountClosed),
                    (AccountStatus::Halted, true) => return Err(PropError::AlreadyHalted),
                    (AccountStatus::Active, false) => return Err(PropError::NotHalted),
                    (AccountStatus::Active, true) => {
                        (AccountStatus::Halted, Some(reason.as_str()), "halt")
                    }
                    (AccountStatus::Halted, false) => (AccountStatus::Active, None, "resume"),
                };
                repo::set_status(conn, account_id, next.as_str(), reason_column, now)?;
                let row = AuditRow {
                    id: Uuid::new_v4(),
                    admin_user_id: admin,
                    account_id,
                    action: action.into(),
                    reason: reason.clone(),
                    details: serde_json::json!({ "from": status.as_str(), "to": next.as_str() }),
                    created_at: now,
                };
                repo::insert_audit(conn, &row)?;
                Ok(audit_view(row))
            })
            .await
    }

    pub(super) async fn reconcile_impl(
        &self,
        account_id: Uuid,
    ) -> Result<ReconcileReport, PropError> {
        self.db
            .cross_tenant_transaction("prop_reconcile", move |conn| {
                owned_account(conn, account_id)?;
                let tracked = balances_from(&repo::balances_of(conn, account_id)?)?;
                let mut derived = Balances::new();
                let derived_rows = repo::derived_balances(conn, account_id)?;
                let mut ledger_total = Decimal::ZERO;
                let mut accounts = BTreeSet::new();
                for (name, amount) in derived_rows {
                    let account: LedgerAccount = name.parse().map_err(corrupt)?;
                    let amount = amount.unwrap_or_default();
                    ledger_total += amount;
                    accounts.insert(account);
                    derived = Balances::from_pairs(derived.iter().chain([(account, amount)]));
                }
                accounts.extend(tracked.iter().map(|(account, _)| account));
                let balances: Vec<ReconciledBalance> = accounts
                    .into_iter()
                    .map(|account| ReconciledBalance {
                        ledger_account: account,
                        tracked: tracked.get(account),
                        derived: derived.get(account),
                    })
                    .collect();
                let positions = reconcile_positions(
                    &repo::positions_of(conn, account_id)?,
                    repo::derived_positions(conn, account_id)?,
                );
                let balanced = ledger_total.is_zero()
                    && balances
                        .iter()
                        .all(|balance| balance.tracked == balance.derived)
                    && positions
                        .iter()
                        .all(|position| position.tracked == position.derived);
                Ok(ReconcileReport {
                    account_id,
                    balances,
                    positions,
                    ledger_total,
                    balanced,
                })
            })
            .await
    }

    pub(super) async fn adjust_impl(
        &self,
        admin: Uuid,
        account_id: Uuid,
        amount: Decimal,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        let reason = validate_reason(reason)?;
        if amount.is_zero() || amount.abs() > MAX_AMOUNT || amount.scale() > crate::SCALE {
            return Err(PropError::InvalidInput(format!(
                "amount must be non-zero, at most {MAX_AMOUNT} in size, with at most {} decimals",
                crate::SCALE
            )));
        }
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction("prop_admin", move |conn| {
                let account =
                    repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
                if status_of(&account)? == AccountStatus::Closed {
                    return Err(PropError::AccountClosed);
                }
                let audit_id = Uuid::new_v4();
                let event = crate::ledger::LedgerEvent::adjustment(amount)
                    .ok_or_else(|| corrupt("empty adjustment"))?;
                let event_id = repo::record_event(
                    conn,
                    account_id,
                    account.owner_user_id,
                    &event,
                    None,
                    Some(format!("audit:{audit_id}")),
                    now,
                )?;
                let row = AuditRow {
                    id: audit_id,
                    admin_user_id: admin,
                    account_id,
                    action: "adjustment".into(),
                    reason,
                    details: serde_json::json!({
                        "amount": amount.to_string(),
                        "ledger_event_id": event_id,
                    }),
                    created_at: now,
                };
                repo::insert_audit(conn, &row)?;
                Ok(audit_view(row))
            })
            .await
    }

    pub(super) async fn audit_log_impl(
        &self,
        account_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, PropError> {
        self.db
            .cross_tenant_transaction("prop_admin_audit_read", move |conn| {
                Ok(
                    Page::from_rows(repo::audit_log(conn, account_id, &page)?, &page, |row| {
                        Cursor::new(row.created_at, row.id)
                    })
                    .map(audit_view),
                )
            })
            .await
    }
}

/// Each instrument's stored size next to the signed sum of its fills; a settled position is
/// closed without a fill, so it must be flat (settled instruments are inactive and take no
/// further orders).
fn reconcile_positions(
    stored: &[PositionRow],
    derived: Vec<(String, Option<Decimal>)>,
) -> Vec<ReconciledPosition> {
    let mut by_instrument: BTreeMap<String, ReconciledPosition> = derived
        .into_iter()
        .map(|(instrument, sum)| {
            let position = ReconciledPosition {
                instrument: instrument.clone(),
                tracked: Decimal::ZERO,
                derived: sum.unwrap_or_default().normalize(),
            };
            (instrument, position)
        })
        .collect();
    for row in stored {
        let entry = by_instrument
            .entry(row.instrument.clone())
            .or_insert_with(|| ReconciledPosition {
                instrument: row.instrument.clone(),
                tracked: Decimal::ZERO,
                derived: Decimal::ZERO,
            });
        entry.tracked = row.size.normalize();
        if row.settled_at.is_some() {
            entry.derived = Decimal::ZERO;
        }
    }
    by_instrument.into_values().collect()
}

fn validate_reason(reason: &str) -> Result<String, PropError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(PropError::InvalidInput(
            "a reason of 1..=500 characters is required".into(),
        ));
    }
    Ok(reason.to_string())
}
