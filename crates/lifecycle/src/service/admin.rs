//! Admin actions on auditions: voids (a running audition's prop account is halted after the
//! void commits), refund authorizations (one per purchase, voiding every running or failed
//! attempt in the same transaction) and their list.
//!
//! Every action runs in an audited cross-tenant transaction; callers check roles before
//! calling.

use chrono::{DateTime, Utc};
use clones_kernel::{Cursor, DomainError, Page, PageRequest};
use clones_prop_engine::PropError;
use diesel::PgConnection;
use uuid::Uuid;

use super::mapping::{load_view, refund_view, status_of};
use super::{Actor, PgLifecycleService, event};
use crate::models::{RefundRow, RunRow};
use crate::status::{AuditionEventKind, RefundStatus};
use crate::views::{AuditionStatus, AuditionView, RefundAuthorizationView};
use crate::{LifecycleError, repo};

impl PgLifecycleService {
    pub(super) async fn void_audition_impl(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<AuditionView, LifecycleError> {
        let reason = validate_reason(reason)?;
        let now = self.clock.now();
        let (view, was_running) = self
            .db
            .cross_tenant_transaction("lifecycle_admin_void", move |conn| {
                let run = repo::lock_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                let was_running = void_locked(conn, &run, admin, &reason, now)?;
                let voided =
                    repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                Ok::<_, LifecycleError>((load_view(conn, &voided, now)?, was_running))
            })
            .await?;
        if was_running {
            self.halt_account(admin, view.prop_account_id).await;
        }
        Ok(view)
    }

    pub(super) async fn authorize_refund_impl(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<RefundAuthorizationView, LifecycleError> {
        let reason = validate_reason(reason)?;
        let now = self.clock.now();
        let run = self
            .db
            .cross_tenant_transaction("lifecycle_admin_refund_read", move |conn| {
                repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)
            })
            .await?;
        let purchase = self
            .audition_purchase(run.owner_user_id, run.purchase_id, run.clone_id)
            .await?;
        // Audition fees are always paid into the vault; only clone creations are granted.
        let (Some(amount), Some(token), Some(chain_id)) =
            (purchase.amount, purchase.token, purchase.chain_id)
        else {
            return Err(LifecycleError::PurchaseNotForAudition);
        };
        let (view, running_accounts) = self
            .db
            .cross_tenant_transaction("lifecycle_admin_refund", move |conn| {
                let run = repo::lock_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                if repo::refund_of_purchase(conn, run.purchase_id)?.is_some() {
                    return Err(LifecycleError::RefundAlreadyAuthorized);
                }
                // The refund is for the purchase: every attempt of it counts. Locking twice
                // also catches a retry that committed while the first lock waited.
                repo::lock_runs_of_purchase(conn, run.purchase_id)?;
                let attempts = repo::lock_runs_of_purchase(conn, run.purchase_id)?;
                let mut running_accounts = Vec::new();
                for attempt in &attempts {
                    match status_of(attempt)? {
                        AuditionStatus::Passed => return Err(LifecycleError::RefundNotAllowed),
                        AuditionStatus::Voided => {}
                        AuditionStatus::Running | AuditionStatus::Failed => {
                            if void_locked(conn, attempt, admin, &reason, now)? {
                                running_accounts.push(attempt.prop_account_id);
                            }
                        }
                    }
                }
                let row = RefundRow {
                    id: Uuid::new_v4(),
                    purchase_id: run.purchase_id,
                    run_id: run.id,
                    owner_user_id: run.owner_user_id,
                    amount: amount.clone(),
                    token_address: token.clone(),
                    chain_id: i64::try_from(chain_id).unwrap_or(i64::MAX),
                    reason: reason.clone(),
                    authorized_by: admin,
                    status: RefundStatus::Authorized.as_str().into(),
                    created_at: now,
                };
                if !repo::insert_refund(conn, &row)? {
                    return Err(LifecycleError::RefundAlreadyAuthorized);
                }
                let details = serde_json::json!({
                    "refundAuthorizationId": row.id,
                    "purchaseId": row.purchase_id,
                    "amount": row.amount,
                    "token": row.token_address,
                });
                repo::insert_event(
                    conn,
                    &event(
                        &run,
                        AuditionEventKind::RefundAuthorized,
                        Actor::Admin(admin),
                        Some(&reason),
                        details,
                        now,
                    ),
                )?;
                Ok((refund_view(row)?, running_accounts))
            })
            .await?;
        for account in running_accounts {
            self.halt_account(admin, account).await;
        }
        Ok(view)
    }

    pub(super) async fn refund_authorizations_impl(
        &self,
        page: PageRequest,
    ) -> Result<Page<RefundAuthorizationView>, LifecycleError> {
        self.db
            .cross_tenant_transaction("lifecycle_admin_refund_list", move |conn| {
                Page::from_rows(repo::refunds(conn, &page)?, &page, |row| {
                    Cursor::new(row.created_at, row.id)
                })
                .try_map(refund_view)
            })
            .await
    }

    /// Halts a voided audition's prop account so nothing more executes on it. The void is
    /// already committed and trading assignments no longer list the account, so a failure
    /// here is logged, not returned.
    async fn halt_account(&self, admin: Uuid, account_id: Uuid) {
        match self.prop.halt(admin, account_id, "audition voided").await {
            Ok(_) | Err(PropError::AlreadyHalted | PropError::AccountClosed) => {}
            Err(error) => {
                tracing::warn!(%account_id, code = error.code(), %error, "could not halt a voided audition's account");
            }
        }
    }
}

/// Voids a locked running or failed run with its audit event; true when it was running.
fn void_locked(
    conn: &mut PgConnection,
    run: &RunRow,
    admin: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, LifecycleError> {
    let status = status_of(run)?;
    if !matches!(status, AuditionStatus::Running | AuditionStatus::Failed) {
        return Err(LifecycleError::AuditionNotVoidable);
    }
    repo::void_run(conn, run.id, run.ended_at.unwrap_or(now), now)?;
    let details = serde_json::json!({ "from": status.as_str() });
    repo::insert_event(
        conn,
        &event(
            run,
            AuditionEventKind::Voided,
            Actor::Admin(admin),
            Some(reason),
            details,
            now,
        ),
    )?;
    Ok(status == AuditionStatus::Running)
}

fn validate_reason(reason: &str) -> Result<String, LifecycleError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(LifecycleError::InvalidInput(
            "a reason of 1..=500 characters is required".into(),
        ));
    }
    Ok(reason.to_string())
}
