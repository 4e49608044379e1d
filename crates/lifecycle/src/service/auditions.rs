//! The owner's side of auditions: rule sets, fee quotes, starts, retries and the reads of a
//! clone's auditions.
//!
//! A start or retry checks the clone, the purchase and the rule set, opens the attempt's prop
//! account under an id derived from what it is for, and writes the run, its evaluation row and
//! its `started` event in one transaction. Repeats of the same purchase or retry answer the
//! run the first request created.

use chrono::{DateTime, Duration, Utc};
use clones_economy::{PurchaseView, QuoteRequest, SignedQuote};
use clones_kernel::{Cursor, Page, PageRequest};
use clones_prop_engine::{AccountContext, OpenAccount};
use clones_vault::Purpose;
use uuid::Uuid;

use super::mapping::{
    event_view, frozen_rules, load_view, rules_of_row, rules_view, run_view, status_of,
};
use super::{Actor, PgLifecycleService, corrupt, event, to_u32};
use crate::models::{EvaluationRow, RunRow};
use crate::rules::{FailureRule, RetryRefusal, Rules};
use crate::status::AuditionEventKind;
use crate::views::{
    AuditionDetail, AuditionStatus, AuditionView, RuleSetView, StartAudition, StartedAudition,
};
use crate::{LifecycleError, repo};

fn validate_code(code: &str) -> Result<(), LifecycleError> {
    let ok = (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(LifecycleError::InvalidInput(
            "ruleSetCode must be 2..=40 characters of a-z, 0-9 and _".into(),
        ))
    }
}

/// A new run's row, its state at the rules' starting balance.
#[expect(
    clippy::too_many_arguments,
    reason = "one field each of the run's identity"
)]
pub(super) fn new_run(
    clone_id: Uuid,
    owner: Uuid,
    purchase_id: Uuid,
    attempt: i32,
    rule_set_code: &str,
    rules: &Rules,
    prop_account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(RunRow, EvaluationRow), LifecycleError> {
    let frozen = serde_json::to_value(rules).map_err(|_| corrupt("audition rules"))?;
    let id = Uuid::new_v4();
    let run = RunRow {
        id,
        clone_id,
        owner_user_id: owner,
        purchase_id,
        attempt,
        rule_set_code: rule_set_code.into(),
        rules: frozen,
        prop_account_id,
        window_start: now,
        window_end: now + Duration::minutes(i64::from(rules.max_window_minutes)),
        status: AuditionStatus::Running.as_str().into(),
        failure_rule: None,
        failure_detail: None,
        ended_at: None,
        created_at: now,
        updated_at: now,
    };
    let evaluation = EvaluationRow {
        run_id: id,
        owner_user_id: owner,
        last_snapshot_at: None,
        last_fill_at: None,
        trading_day: None,
        day_start_value: rules.starting_balance,
        peak_value: rules.starting_balance,
        last_fill_day: None,
        trading_days: 0,
        latest_equity: rules.starting_balance,
        latest_cash: rules.starting_balance,
        evaluated_at: None,
        lease_expires_at: None,
        updated_at: now,
        last_fill_id: None,
    };
    Ok((run, evaluation))
}

/// A stable id for an account lifecycle opens, derived from what the account is for.
pub(super) fn derived_id(purpose: &str) -> Uuid {
    Uuid::new_v5(&ACCOUNT_NAMESPACE, purpose.as_bytes())
}

/// The UUID namespace of lifecycle's prop account ids.
const ACCOUNT_NAMESPACE: Uuid = Uuid::from_u128(0x5f0c_2a8e_6b1d_4c3a_9e7f_1a2b_3c4d_5e6f);

impl PgLifecycleService {
    /// The caller's clone, which must have an active strategy version.
    pub(super) async fn publishable_clone(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<(), LifecycleError> {
        let clone = self.owned_clone(user, clone_id).await?;
        if clone.active_version.is_none() {
            return Err(LifecycleError::StrategyNotPublished);
        }
        Ok(())
    }

    /// The caller's `audition_fee` purchase for `clone_id`.
    pub(super) async fn audition_purchase(
        &self,
        user: Uuid,
        purchase_id: Uuid,
        clone_id: Uuid,
    ) -> Result<PurchaseView, LifecycleError> {
        let purchase = self
            .economy
            .purchase(user, purchase_id)
            .await?
            .ok_or(LifecycleError::PurchaseNotFound)?;
        if purchase.purpose != Purpose::AuditionFee.as_str() || purchase.clone_id != Some(clone_id)
        {
            return Err(LifecycleError::PurchaseNotForAudition);
        }
        Ok(purchase)
    }

    /// Opens the attempt's prop account under an id derived from (purchase, attempt, rule
    /// set), so a repeated or concurrent start opens one account, not one each, and a start
    /// under other rules never reuses an account funded for different ones.
    pub(super) async fn open_audition_account(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        purchase_id: Uuid,
        attempt: i32,
        rule_set_code: &str,
        rules: &Rules,
    ) -> Result<Uuid, LifecycleError> {
        let account = self
            .prop
            .open_account(
                owner,
                OpenAccount {
                    account_id: Some(derived_id(&format!(
                        "audition:{purchase_id}:{attempt}:{rule_set_code}"
                    ))),
                    clone_id: Some(clone_id),
                    context: AccountContext::Audition,
                    quote_currency: rules.quote_currency.clone(),
                    starting_balance: rules.starting_balance,
                    limits: None,
                },
            )
            .await?;
        Ok(account.id)
    }

    /// Inserts a run with its `started` event (and `retried` on the run it retries), or
    /// finds the run an earlier or concurrent request created for the same attempt.
    pub(super) async fn insert_run(
        &self,
        (run, evaluation): (RunRow, EvaluationRow),
        retry_of: Option<Uuid>,
        actor: Actor,
    ) -> Result<StartedAudition, LifecycleError> {
        let now = run.created_at;
        let owner = run.owner_user_id;
        self.db
            .tenant_transaction(owner, move |conn| {
                if let Some(previous) = retry_of {
                    // A void or refund of the failed attempt may have committed since the
                    // retry was checked; holding its lock serialises the two.
                    let old =
                        repo::lock_run(conn, previous)?.ok_or(LifecycleError::AuditionNotFound)?;
                    if repo::run_by_attempt(conn, run.purchase_id, run.attempt)?.is_none() {
                        if repo::refund_of_purchase(conn, run.purchase_id)?.is_some() {
                            return Err(LifecycleError::PurchaseRefunded);
                        }
                        if status_of(&old)? != AuditionStatus::Failed {
                            return Err(LifecycleError::AuditionNotFailed);
                        }
                    }
                }
                if repo::insert_run(conn, &run, &evaluation)? {
                    let details = serde_json::json!({
                        "attempt": run.attempt,
                        "ruleSet": run.rule_set_code,
                        "propAccountId": run.prop_account_id,
                        "windowEnd": run.window_end,
                        "retryOf": retry_of,
                    });
                    repo::insert_event(
                        conn,
                        &event(&run, AuditionEventKind::Started, actor, None, details, now),
                    )?;
                    if let Some(previous) = retry_of {
                        let old = repo::find_run(conn, previous)?
                            .ok_or(LifecycleError::AuditionNotFound)?;
                        let details =
                            serde_json::json!({ "retryRunId": run.id, "attempt": run.attempt });
                        repo::insert_event(
                            conn,
                            &event(&old, AuditionEventKind::Retried, actor, None, details, now),
                        )?;
                    }
                    return Ok(StartedAudition {
                        audition: run_view(&run, &evaluation, now)?,
                        created: true,
                    });
                }
                if let Some(existing) = repo::run_by_attempt(conn, run.purchase_id, run.attempt)? {
                    return Ok(StartedAudition {
                        audition: load_view(conn, &existing, now)?,
                        created: false,
                    });
                }
                Err(LifecycleError::AuditionAlreadyRunning)
            })
            .await
    }

    pub(super) async fn rule_sets_impl(&self) -> Result<Vec<RuleSetView>, LifecycleError> {
        self.db
            .run(|conn| {
                repo::rule_sets(conn)?
                    .iter()
                    .map(|row| {
                        Ok(RuleSetView {
                            code: row.code.clone(),
                            active: row.active,
                            rules: rules_view(&rules_of_row(row)?),
                        })
                    })
                    .collect()
            })
            .await
    }

    pub(super) async fn audition_quote_impl(
        &self,
        user: Uuid,
        clone_id: Uuid,
        payer_address: &str,
    ) -> Result<SignedQuote, LifecycleError> {
        self.publishable_clone(user, clone_id).await?;
        Ok(self
            .economy
            .quote(
                user,
                QuoteRequest {
                    plan: None,
                    purpose: Purpose::AuditionFee,
                    payer_address: payer_address.to_string(),
                    clone_id: Some(clone_id),
                    tier: None,
                    clone_name: None,
                },
            )
            .await?)
    }

    pub(super) async fn start_audition_impl(
        &self,
        user: Uuid,
        clone_id: Uuid,
        request: StartAudition,
    ) -> Result<StartedAudition, LifecycleError> {
        let code = request
            .rule_set_code
            .clone()
            .unwrap_or_else(|| self.settings.default_rule_set.clone());
        validate_code(&code)?;
        // Someone else's clone is not found before anything about the purchase is said.
        self.owned_clone(user, clone_id).await?;
        let purchase = self
            .audition_purchase(user, request.purchase_id, clone_id)
            .await?;
        let purchase_id = purchase.purchase_id;
        let now = self.clock.now();
        let lookup = code.clone();
        let (existing, rule_set, running) = self
            .db
            .tenant_transaction(user, move |conn| {
                let running = repo::running_run_of_clone(conn, clone_id)?;
                // Read after the running run: a concurrent start of this same purchase that
                // committed in between is then found here, not taken for another audition.
                let existing = match repo::run_by_attempt(conn, purchase_id, 1)? {
                    Some(run) => Some(load_view(conn, &run, now)?),
                    None => None,
                };
                Ok::<_, LifecycleError>((existing, repo::rule_set(conn, &lookup)?, running))
            })
            .await?;
        // A repeat of the same purchase is answered with the run it created.
        if let Some(existing) = existing {
            return Ok(StartedAudition {
                audition: existing,
                created: false,
            });
        }
        self.publishable_clone(user, clone_id).await?;
        let rule_set = rule_set.ok_or_else(|| LifecycleError::RuleSetNotFound(code.clone()))?;
        if !rule_set.active {
            return Err(LifecycleError::RuleSetInactive(code));
        }
        if running.is_some() {
            return Err(LifecycleError::AuditionAlreadyRunning);
        }
        let rules = rules_of_row(&rule_set)?;
        let account = self
            .open_audition_account(user, clone_id, purchase_id, 1, &code, &rules)
            .await?;
        let run = new_run(
            clone_id,
            user,
            purchase_id,
            1,
            &rule_set.code,
            &rules,
            account,
            now,
        )?;
        self.insert_run(run, None, Actor::Owner(user)).await
    }

    pub(super) async fn auditions_impl(
        &self,
        user: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<AuditionView>, LifecycleError> {
        self.owned_clone(user, clone_id).await?;
        let now = self.clock.now();
        self.db
            .tenant_transaction(user, move |conn| {
                let runs =
                    Page::from_rows(repo::runs_of_clone(conn, clone_id, &page)?, &page, |run| {
                        Cursor::new(run.created_at, run.id)
                    });
                let ids: Vec<Uuid> = runs.items.iter().map(|run| run.id).collect();
                let evaluations: std::collections::BTreeMap<Uuid, EvaluationRow> =
                    repo::evaluations_of(conn, &ids)?
                        .into_iter()
                        .map(|evaluation| (evaluation.run_id, evaluation))
                        .collect();
                runs.try_map(|run| {
                    let evaluation = evaluations
                        .get(&run.id)
                        .ok_or_else(|| corrupt("run without evaluation"))?;
                    run_view(&run, evaluation, now)
                })
            })
            .await
    }

    pub(super) async fn audition_impl(
        &self,
        user: Uuid,
        run_id: Uuid,
    ) -> Result<AuditionDetail, LifecycleError> {
        let now = self.clock.now();
        self.db
            .tenant_transaction(user, move |conn| {
                let run = repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                let rules = frozen_rules(&run)?;
                let attempts = to_u32(repo::last_attempt(conn, run.purchase_id)?.unwrap_or(1));
                let refunded = repo::refund_of_purchase(conn, run.purchase_id)?.is_some();
                let retries_left = if refunded {
                    0
                } else {
                    rules
                        .free_retries
                        .saturating_sub(attempts.saturating_sub(1))
                };
                Ok(AuditionDetail {
                    audition: load_view(conn, &run, now)?,
                    events: repo::events_of(conn, run_id)?
                        .into_iter()
                        .map(event_view)
                        .collect::<Result<_, _>>()?,
                    retries_left,
                })
            })
            .await
    }

    pub(super) async fn retry_impl(
        &self,
        user: Uuid,
        run_id: Uuid,
    ) -> Result<StartedAudition, LifecycleError> {
        let now = self.clock.now();
        let (run, next, refunded, running) = self
            .db
            .tenant_transaction(user, move |conn| {
                let run = repo::find_run(conn, run_id)?.ok_or(LifecycleError::AuditionNotFound)?;
                let next = match repo::run_by_attempt(conn, run.purchase_id, run.attempt + 1)? {
                    Some(next) => Some(load_view(conn, &next, now)?),
                    None => None,
                };
                let refunded = repo::refund_of_purchase(conn, run.purchase_id)?.is_some();
                let running = repo::running_run_of_clone(conn, run.clone_id)?;
                Ok::<_, LifecycleError>((run, next, refunded, running))
            })
            .await?;
        // A repeated retry is answered with the attempt the first one created.
        if let Some(next) = next {
            return Ok(StartedAudition {
                audition: next,
                created: false,
            });
        }
        if status_of(&run)? != AuditionStatus::Failed {
            return Err(LifecycleError::AuditionNotFailed);
        }
        let rule = run
            .failure_rule
            .as_deref()
            .and_then(FailureRule::parse)
            .ok_or_else(|| corrupt("failed audition without a rule"))?;
        let rules = frozen_rules(&run)?;
        rules
            .may_retry(rule, to_u32(run.attempt))
            .map_err(|refusal| match refusal {
                RetryRefusal::RuleNotRetryable(rule) => {
                    LifecycleError::RetryNotAllowed(rule.as_str().into())
                }
                RetryRefusal::NoRetriesLeft { allowed } => LifecycleError::NoRetriesLeft(allowed),
            })?;
        if refunded {
            return Err(LifecycleError::PurchaseRefunded);
        }
        if running.is_some() {
            return Err(LifecycleError::AuditionAlreadyRunning);
        }
        self.publishable_clone(user, run.clone_id).await?;
        let account = self
            .open_audition_account(
                user,
                run.clone_id,
                run.purchase_id,
                run.attempt + 1,
                &run.rule_set_code,
                &rules,
            )
            .await?;
        let (mut next, evaluation) = new_run(
            run.clone_id,
            user,
            run.purchase_id,
            run.attempt + 1,
            &run.rule_set_code,
            &rules,
            account,
            now,
        )?;
        // The retry runs under the rules frozen at the first start.
        next.rules = run.rules.clone();
        self.insert_run((next, evaluation), Some(run.id), Actor::Owner(user))
            .await
    }
}
