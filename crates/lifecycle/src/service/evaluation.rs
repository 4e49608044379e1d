//! The evaluation pass: leases running auditions, reads each account's snapshots and fills
//! after the stored cursors through [`PropService`](clones_prop_engine::PropService), has the
//! pure [`rules`](crate::rules) judge them, and stores the new state and any verdict (with its
//! event, and a Promotion Queue entry on a pass) in one transaction that applies only if
//! nobody judged newer snapshots meanwhile.

use chrono::{DateTime, Utc};
use clones_kernel::{Cursor, DomainError, PageRequest};
use clones_prop_engine::EquityPoint;
use uuid::Uuid;

use super::mapping::{frozen_rules, state_of, status_of};
use super::{Actor, PgLifecycleService, corrupt, event};
use crate::models::{EntryRow, EvaluationRow, RunRow};
use crate::rules::{Coverage, Evaluator, Fill, Pages, Snapshot, Verdict, Window};
use crate::status::AuditionEventKind;
use crate::views::{AuditionStatus, EvaluationReport, PromotionStatus};
use crate::{LifecycleError, repo};

/// A forward page of `limit` rows (clamped to the page policy) after `cursor`.
fn page(limit: u32, cursor: Option<Cursor>) -> Result<PageRequest, LifecycleError> {
    PageRequest::new(Some(limit.clamp(1, PageRequest::MAX_LIMIT)), cursor)
        .map_err(|error| LifecycleError::InvalidInput(error.to_string()))
}

impl PgLifecycleService {
    pub(super) async fn evaluate_running_impl(
        &self,
        batch: u32,
    ) -> Result<EvaluationReport, LifecycleError> {
        let now = self.clock.now();
        let until = now + self.settings.lease;
        let limit = i64::from(batch.clamp(1, 10_000));
        let leased = self
            .db
            .cross_tenant_transaction("lifecycle_evaluate_lease", move |conn| {
                repo::lease_running(conn, now, until, limit).map_err(LifecycleError::from)
            })
            .await?;
        let mut report = EvaluationReport::default();
        for run in leased {
            let run_id = run.0.id;
            if let Err(error) = self.evaluate_run(run, now, &mut report).await {
                // The lease expires and a later pass tries again.
                tracing::warn!(%run_id, code = error.code(), %error, "audition evaluation failed");
                report.errors += 1;
            }
        }
        Ok(report)
    }

    /// Evaluates one leased run and stores the result.
    async fn evaluate_run(
        &self,
        (run, evaluation): (RunRow, EvaluationRow),
        now: DateTime<Utc>,
        report: &mut EvaluationReport,
    ) -> Result<(), LifecycleError> {
        let rules = frozen_rules(&run)?;
        let owner = run.owner_user_id;
        let account = run.prop_account_id;
        let mut state = state_of(&evaluation)?;
        let points = self
            .prop
            .equity_after(
                owner,
                account,
                page(
                    self.settings.snapshot_page,
                    evaluation.last_snapshot_at.map(EquityPoint::position_at),
                )?,
            )
            .await?;
        let fills = self
            .prop
            .fills_after(
                owner,
                account,
                page(
                    self.settings.fill_page,
                    state.last_fill.map(|fill| Cursor::new(fill.at, fill.id)),
                )?,
            )
            .await?;
        let snapshots: Vec<Snapshot> = points
            .items
            .iter()
            .map(|point| Snapshot {
                at: point.at,
                equity: point.equity,
                cash: point.cash,
            })
            .collect();
        let snapshot_times: Vec<DateTime<Utc>> =
            points.items.iter().map(|point| point.at).collect();
        let fills_read: Vec<Fill> = fills
            .items
            .iter()
            .map(|fill| Fill {
                at: fill.created_at,
                id: fill.id,
            })
            .collect();
        let coverage = Coverage::of(
            Pages {
                snapshots: &snapshot_times,
                more_snapshots: points.next_cursor.is_some(),
                fills: &fills_read,
                more_fills: fills.next_cursor.is_some(),
            },
            run.window_end,
            now,
            self.settings.close_grace,
        );
        let evaluator = Evaluator::new(
            &rules,
            Window {
                start: run.window_start,
                end: run.window_end,
            },
        );
        let verdict = evaluator.pass(&mut state, coverage, &fills_read, &snapshots, now);
        let judged = snapshots.len().min(coverage.snapshots);
        report.evaluated += 1;
        report.snapshots += u64::try_from(judged).unwrap_or_default();
        let seen = (evaluation.last_snapshot_at, evaluation.last_fill_id);
        let held = evaluation.lease_expires_at;
        let stored = self
            .db
            .cross_tenant_transaction("lifecycle_evaluate_write", move |conn| {
                let Some(current) = repo::lock_run(conn, run.id)? else {
                    return Err(LifecycleError::AuditionNotFound);
                };
                let stored = repo::evaluation_of(conn, run.id)?
                    .ok_or_else(|| corrupt("run without evaluation"))?;
                // A void or another evaluator got there first: keep what they stored.
                if status_of(&current)? != AuditionStatus::Running
                    || (stored.last_snapshot_at, stored.last_fill_id) != seen
                {
                    if let Some(held) = held {
                        repo::release_run(conn, run.id, held)?;
                    }
                    return Ok(Verdict::Running);
                }
                match &verdict {
                    Verdict::Running => {
                        repo::save_evaluation(conn, run.id, &state, now)?;
                    }
                    Verdict::Passed => {
                        repo::save_evaluation(conn, run.id, &state, now)?;
                        repo::set_outcome(
                            conn,
                            run.id,
                            AuditionStatus::Passed.as_str(),
                            None,
                            None,
                            now,
                        )?;
                        let details = serde_json::json!({
                            "equity": state.latest_equity.to_string(),
                            "tradingDays": state.trading_days,
                            "at": state.last_snapshot_at,
                        });
                        repo::insert_event(
                            conn,
                            &event(
                                &current,
                                AuditionEventKind::Passed,
                                Actor::Worker,
                                None,
                                details,
                                now,
                            ),
                        )?;
                        repo::insert_entry(
                            conn,
                            &EntryRow {
                                id: Uuid::new_v4(),
                                run_id: run.id,
                                clone_id: run.clone_id,
                                owner_user_id: run.owner_user_id,
                                status: PromotionStatus::Queued.as_str().into(),
                                last_skip_reason: None,
                                last_attempt_at: None,
                                admitted_at: None,
                                lease_expires_at: None,
                                created_at: now,
                                updated_at: now,
                            },
                        )?;
                    }
                    Verdict::Failed { rule, detail } => {
                        repo::save_evaluation(conn, run.id, &state, now)?;
                        repo::set_outcome(
                            conn,
                            run.id,
                            AuditionStatus::Failed.as_str(),
                            Some(rule.as_str()),
                            Some(detail.as_str()),
                            now,
                        )?;
                        let details = serde_json::json!({
                            "rule": rule.as_str(),
                            "detail": detail,
                            "at": state.last_snapshot_at,
                        });
                        repo::insert_event(
                            conn,
                            &event(
                                &current,
                                AuditionEventKind::Failed,
                                Actor::Worker,
                                None,
                                details,
                                now,
                            ),
                        )?;
                    }
                }
                Ok(verdict)
            })
            .await?;
        match stored {
            Verdict::Passed => report.passed += 1,
            Verdict::Failed { .. } => report.failed += 1,
            Verdict::Running => {}
        }
        Ok(())
    }
}
