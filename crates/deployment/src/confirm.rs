//! The on-chain confirmation flow: owners submit the hash of the transaction their wallet sent
//! for a pending signature step, and the deployment worker settles each submission from its
//! receipt. A settlement (the submission's new status and the deployment's transition) is one
//! database transaction under the deployment's and the submission's row locks, and only a
//! `pending` submission is settled: a confirmation seen twice, by two passes or two workers,
//! advances the deployment once. At most one submission per deployment and step is ever
//! `confirmed` (a partial unique index says so too).

use std::str::FromStr;

use alloy::primitives::{Address, B256};
use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::chain::{Expected, Verdict};
use crate::contract::clone_ref;
use crate::machine::{DeploymentEvent, DeploymentStatus};
use crate::models::{DeploymentRow, TransactionRow};
use crate::service::{PgDeploymentService, Who, address, apply, error_text, status_of};
use crate::signing::step_of;
use crate::views::{
    Actor, ConfirmReport, DeploymentStep, DeploymentTransactionView, TransactionStatus,
};
use crate::{DeploymentError, repo};

/// How long a leased submission is left to one worker before another may check it.
const LEASE: Duration = Duration::minutes(2);

fn transaction_view(row: &TransactionRow) -> Result<DeploymentTransactionView, DeploymentError> {
    Ok(DeploymentTransactionView {
        id: row.id,
        step: DeploymentStep::parse(&row.step)
            .ok_or_else(|| DeploymentError::Corrupt(format!("unknown step {:?}", row.step)))?,
        tx_hash: row.tx_hash.clone(),
        status: TransactionStatus::parse(&row.status)
            .ok_or_else(|| DeploymentError::Corrupt(format!("unknown status {:?}", row.status)))?,
        confirmations: row.confirmations,
        contract_address: address(row.contract_address.as_deref(), "contract_address")?
            .map(|address| address.to_checksum(None)),
        error: row.error.clone(),
        created_at: row.created_at,
        settled_at: row.settled_at,
    })
}

/// Records an owner's transaction hash for the pending signature step.
pub(crate) async fn submit(
    service: &PgDeploymentService,
    owner: Uuid,
    clone_id: Uuid,
    tx_hash: &str,
) -> Result<DeploymentTransactionView, DeploymentError> {
    service.clones.get_clone(owner, clone_id).await?;
    let tx_hash = clones_vault::parse_tx_hash(tx_hash).map_err(|_| {
        DeploymentError::InvalidInput("txHash: expected 0x followed by 64 hex digits".into())
    })?;
    let tx_hash = format!("{tx_hash:#x}");
    let now = service.clock.now();
    service
        .db
        .tenant_transaction(owner, move |conn| {
            let Some(deployment) = repo::lock(conn, clone_id)? else {
                return Err(DeploymentError::NotAwaitingSignature(
                    DeploymentStatus::Draft.as_str(),
                ));
            };
            let status = status_of(&deployment)?;
            let step =
                step_of(status).ok_or(DeploymentError::NotAwaitingSignature(status.as_str()))?;
            repo::insert_transaction(
                conn,
                &TransactionRow {
                    id: Uuid::new_v4(),
                    deployment_id: deployment.id,
                    owner_user_id: owner,
                    step: step.as_str().to_string(),
                    tx_hash: tx_hash.clone(),
                    status: TransactionStatus::Pending.as_str().to_string(),
                    confirmations: 0,
                    contract_address: None,
                    error: None,
                    next_check_at: now,
                    created_at: now,
                    settled_at: None,
                },
            )?;
            let row = repo::find_transaction(conn, deployment.id, &tx_hash)?
                .ok_or_else(|| DeploymentError::Corrupt("submitted transaction missing".into()))?;
            transaction_view(&row)
        })
        .await
}

/// What the chain (and the owner's wallets) said about one submission.
enum Outcome {
    Pending {
        confirmations: u64,
    },
    Confirmed {
        contract: Address,
        confirmations: u64,
    },
    Failed {
        reason: String,
    },
    /// The deployment lacks what the step needs (it moved on); settle without a change.
    Superseded,
}

/// What settling one submission did.
enum Settled {
    Pending,
    Confirmed,
    Failed,
    Superseded,
}

fn expected(
    step: DeploymentStep,
    deployment: &DeploymentRow,
) -> Result<Option<Expected>, DeploymentError> {
    let clone_ref = clone_ref(deployment.clone_id);
    Ok(match step {
        DeploymentStep::Token => Some(Expected::Token { clone_ref }),
        DeploymentStep::Pool => {
            let token = address(deployment.token_address.as_deref(), "token_address")?;
            let deposit = address(deployment.deposit_address.as_deref(), "deposit_address")?;
            match (token, deposit) {
                (Some(token), Some(deposit_address)) => Some(Expected::Pool {
                    clone_ref,
                    token,
                    deposit_address,
                }),
                _ => None,
            }
        }
    })
}

/// Checks up to `limit` due submissions and settles each.
pub(crate) async fn confirm_pending(
    service: &PgDeploymentService,
    limit: u32,
) -> Result<ConfirmReport, DeploymentError> {
    let checker = service
        .chain
        .clone()
        .ok_or(DeploymentError::ChainNotConfigured)?;
    let now = service.clock.now();
    let until = now + LEASE;
    let leased = service
        .db
        .cross_tenant_transaction("deployment: lease submitted transactions", move |conn| {
            repo::lease_due_transactions(conn, now, until, i64::from(limit))
                .map_err(DeploymentError::from)
        })
        .await?;
    let recheck = Duration::from_std(checker.settings().recheck_interval)
        .unwrap_or_else(|_| Duration::seconds(5));
    let mut report = ConfirmReport::default();
    for (submission, deployment) in leased {
        report.checked += 1;
        let outcome = match check(service, &checker, &submission, &deployment).await {
            Ok(outcome) => outcome,
            Err(error) => {
                // Left pending: the lease runs out and a later pass checks again.
                tracing::warn!(
                    submission = %submission.id,
                    tx_hash = %submission.tx_hash,
                    error = %error,
                    "deployment transaction could not be checked"
                );
                report.errors += 1;
                continue;
            }
        };
        let keyring = service.keyring.clone();
        let at = service.clock.now();
        let settled = service
            .db
            .cross_tenant_transaction("deployment: settle transaction", move |conn| {
                settle(
                    conn,
                    submission.id,
                    outcome,
                    at,
                    at + recheck,
                    keyring.as_deref(),
                )
            })
            .await;
        match settled {
            Ok(Settled::Pending) => report.pending += 1,
            Ok(Settled::Confirmed) => report.confirmed += 1,
            Ok(Settled::Failed) => report.failed += 1,
            Ok(Settled::Superseded) => report.superseded += 1,
            Err(error) => {
                tracing::error!(error = %error, "deployment transaction could not be settled");
                report.errors += 1;
            }
        }
    }
    Ok(report)
}

/// Asks the chain about one submission and checks the creating account is the owner's.
async fn check(
    service: &PgDeploymentService,
    checker: &crate::chain::ReceiptChecker,
    submission: &TransactionRow,
    deployment: &DeploymentRow,
) -> Result<Outcome, DeploymentError> {
    let step = DeploymentStep::parse(&submission.step)
        .ok_or_else(|| DeploymentError::Corrupt(format!("unknown step {:?}", submission.step)))?;
    let Some(expected) = expected(step, deployment)? else {
        return Ok(Outcome::Superseded);
    };
    let tx_hash = B256::from_str(&submission.tx_hash)
        .map_err(|_| DeploymentError::Corrupt("stored tx_hash is not a hash".into()))?;
    let verdict = checker
        .check(tx_hash, &expected)
        .await
        .map_err(|error| DeploymentError::ChainRead(error.0))?;
    Ok(match verdict {
        Verdict::Pending { confirmations } => Outcome::Pending { confirmations },
        Verdict::Failed { reason } => Outcome::Failed { reason },
        Verdict::Confirmed {
            contract,
            owner,
            confirmations,
        } => {
            // The factory records its caller as the owner: it must be one of the clone
            // owner's wallets, not merely anyone who knew the clone id.
            let wallet = format!("{owner:#x}");
            if service.access.wallet_owner(&wallet).await? == Some(deployment.owner_user_id) {
                Outcome::Confirmed {
                    contract,
                    confirmations,
                }
            } else {
                Outcome::Failed {
                    reason: format!(
                        "the {} was created by {}, which is not a wallet of the clone's owner",
                        step.as_str(),
                        owner.to_checksum(None)
                    ),
                }
            }
        }
    })
}

/// Settles one submission under the deployment's and its own row locks: nothing happens to
/// one that is no longer pending, so a confirmation seen twice advances once.
fn settle(
    conn: &mut PgConnection,
    submission_id: Uuid,
    outcome: Outcome,
    now: DateTime<Utc>,
    next_check_at: DateTime<Utc>,
    keyring: Option<&clones_secrets::Keyring>,
) -> Result<Settled, DeploymentError> {
    // Lock order: the deployment first, as every transition does, then the submission.
    let Some(peek) = repo::transaction(conn, submission_id)? else {
        return Err(DeploymentError::Corrupt(
            "submitted transaction missing".into(),
        ));
    };
    let deployment = repo::lock_by_id(conn, peek.deployment_id)?
        .ok_or_else(|| DeploymentError::Corrupt("deployment missing".into()))?;
    let mut submission = repo::lock_transaction(conn, submission_id)?
        .ok_or_else(|| DeploymentError::Corrupt("submitted transaction missing".into()))?;
    if submission.status != TransactionStatus::Pending.as_str() {
        return Ok(Settled::Superseded);
    }
    let step = DeploymentStep::parse(&submission.step)
        .ok_or_else(|| DeploymentError::Corrupt(format!("unknown step {:?}", submission.step)))?;
    let confirmations = |count: u64| i64::try_from(count).unwrap_or(i64::MAX);
    if let Outcome::Pending {
        confirmations: seen,
    } = outcome
    {
        submission.confirmations = confirmations(seen);
        submission.next_check_at = next_check_at;
        repo::update_transaction(conn, &submission)?;
        return Ok(Settled::Pending);
    }
    let in_step = step_of(status_of(&deployment)?) == Some(step);
    let who = Who {
        actor: Actor::System,
        user: None,
    };
    submission.settled_at = Some(now);
    let settled = match outcome {
        Outcome::Confirmed {
            contract,
            confirmations: seen,
        } if in_step => {
            let event = match step {
                DeploymentStep::Token => DeploymentEvent::TokenCreationSuccess {
                    token_address: contract,
                },
                DeploymentStep::Pool => DeploymentEvent::PoolCreationSuccess {
                    pool_address: contract,
                },
            };
            submission.status = TransactionStatus::Confirmed.as_str().to_string();
            submission.confirmations = confirmations(seen);
            submission.contract_address = Some(format!("{contract:#x}"));
            repo::update_transaction(conn, &submission)?;
            apply(conn, deployment, event, who, now, keyring)?;
            Settled::Confirmed
        }
        Outcome::Failed { reason } if in_step => {
            let error = error_text(&reason)?;
            submission.status = TransactionStatus::Failed.as_str().to_string();
            submission.error = Some(error.clone());
            repo::update_transaction(conn, &submission)?;
            apply(
                conn,
                deployment,
                DeploymentEvent::Fail { error },
                who,
                now,
                keyring,
            )?;
            Settled::Failed
        }
        // The deployment left the step (cancelled, or another submission settled it): this
        // one changes nothing.
        _ => {
            submission.status = TransactionStatus::Superseded.as_str().to_string();
            repo::update_transaction(conn, &submission)?;
            Settled::Superseded
        }
    };
    tracing::info!(
        submission = %submission.id,
        tx_hash = %submission.tx_hash,
        step = step.as_str(),
        status = %submission.status,
        "deployment transaction settled"
    );
    Ok(settled)
}
