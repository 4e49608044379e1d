//! Royalties on adopted marketplace strategies: each profitable closing fill of an Arena
//! account whose clone traded a version adopted from the marketplace books one royalty,
//! computed by the marketplace's pure calculator ([`clones_marketplace::royalty::split`]) with
//! each creator's plan fee, as append-only, balanced entries in economy's tables; and each
//! creator's statement of what they were credited.
//!
//! The fills come from prop-engine's trait ([`PropService::arena_profits_after`]), the version
//! in force from clone-service's provisioning read, the lineage path from the marketplace's
//! trait; economy reads none of their tables. Idempotency is the unique fill of a booking.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Duration as ChronoDuration;
use clones_clone_service::provisioning;
use clones_db::Db;
use clones_kernel::{Clock, Cursor, Page, PageRequest};
use clones_marketplace::MarketplaceService;
use clones_marketplace::royalty::{self, CreatorPlan, LineageStep, RoyaltyPolicy};
use clones_prop_engine::{AccountContext, AccountView, ArenaProfit, PropService};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{BookingRow, EntryRow};
use crate::views::{
    AccountReturns, ClonePerformance, RoyaltyCredit, RoyaltyReport, RoyaltyStatement, RoyaltyTotal,
};
use crate::{EconomyError, repo};

/// How royalties are booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoyaltySettings {
    /// How a royalty is shared along the lineage.
    pub policy: RoyaltyPolicy,
    /// How old a fill must be before it is read: a fill stamped earlier than one already read
    /// but committed later would otherwise be passed over by the cursor.
    pub settle_after: Duration,
}

impl Default for RoyaltySettings {
    fn default() -> Self {
        Self {
            policy: RoyaltyPolicy::OriginalOnly,
            settle_after: Duration::from_secs(60),
        }
    }
}

/// Royalty booking and statements.
#[async_trait]
pub trait RoyaltyService: Send + Sync {
    /// Worker: books the royalties of up to `limit` profitable Arena fills after the cursor.
    ///
    /// # Errors
    /// Database, prop-engine or marketplace failures; the cursor stays before the fill that
    /// failed, so the next pass tries it again.
    async fn book_royalties(&self, limit: u32) -> Result<RoyaltyReport, EconomyError>;

    /// The royalties credited to `creator`, newest first by (time, id), one page at a time,
    /// with totals per currency.
    ///
    /// # Errors
    /// `invalid_page`, database failures.
    async fn statement(
        &self,
        creator: Uuid,
        page: PageRequest,
    ) -> Result<RoyaltyStatement, EconomyError>;

    /// The returns of `owner`'s clone on each of its audition and Arena accounts, gross and net
    /// of trading fees and of the royalties booked on them. The caller checks that the clone
    /// is the owner's; another owner's accounts are never read.
    ///
    /// # Errors
    /// Database and prop-engine failures.
    async fn performance(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<ClonePerformance, EconomyError>;
}

/// [`RoyaltyService`] over PostgreSQL.
pub struct PgRoyaltyService {
    db: Db,
    clock: Arc<dyn Clock>,
    prop: Arc<dyn PropService>,
    marketplace: Arc<dyn MarketplaceService>,
    settings: RoyaltySettings,
}

impl std::fmt::Debug for PgRoyaltyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRoyaltyService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PgRoyaltyService {
    /// A service over `db`, reading fills from `prop` and lineage from `marketplace`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        prop: Arc<dyn PropService>,
        marketplace: Arc<dyn MarketplaceService>,
        settings: RoyaltySettings,
    ) -> Self {
        Self {
            db,
            clock,
            prop,
            marketplace,
            settings,
        }
    }

    /// Books one fill (or finds it booked, or exempt) and moves the cursor past it, in one
    /// transaction.
    async fn book(&self, fill: ArenaProfit) -> Result<Outcome, EconomyError> {
        let (clone_id, at) = (fill.clone_id, fill.created_at);
        let strategy = self
            .db
            .cross_tenant_transaction("economy: adopted strategy of a fill", move |conn| {
                Ok::<_, EconomyError>(provisioning::adopted_strategy_at(conn, clone_id, at)?)
            })
            .await?;
        let path = match strategy {
            Some(strategy) => self.marketplace.royalty_path(strategy).await?,
            None => Vec::new(),
        };
        let policy = self.settings.policy;
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction("economy: book a royalty", move |conn| {
                let outcome = match strategy {
                    Some(strategy) if !path.is_empty() => {
                        book_one(conn, &fill, strategy, &path, policy, now)?
                    }
                    _ => Outcome::Exempt,
                };
                repo::advance_royalty_cursor(conn, fill.created_at, fill.fill_id, now)?;
                Ok(outcome)
            })
            .await
    }
}

enum Outcome {
    Booked,
    AlreadyBooked,
    Exempt,
}

/// The booking and its entries: the clone's owner is debited the royalty, each creator
/// credited their share net of their plan's fee, the platform the fees. Checked to balance
/// here, and again by the database at commit.
fn book_one(
    conn: &mut diesel::PgConnection,
    fill: &ArenaProfit,
    strategy: Uuid,
    path: &[LineageStep],
    policy: RoyaltyPolicy,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Outcome, EconomyError> {
    let creators: Vec<Uuid> = path.iter().map(|step| step.uploader).collect();
    let mut plans = BTreeMap::new();
    for (user, plan) in repo::creator_plans_of(conn, &creators)? {
        let plan = CreatorPlan::parse(&plan).ok_or_else(|| {
            EconomyError::Unbalanced(format!("creator plan `{plan}` of {user} does not parse"))
        })?;
        plans.insert(user, plan);
    }
    let Some(split) = royalty::split(fill.realized_pnl, path, policy, |creator| {
        plans.get(&creator).copied().unwrap_or_default()
    }) else {
        return Ok(Outcome::Exempt);
    };
    let booking = BookingRow {
        id: Uuid::new_v4(),
        fill_id: fill.fill_id,
        account_id: fill.account_id,
        clone_id: fill.clone_id,
        clone_owner_user_id: fill.owner_user_id,
        strategy_id: strategy,
        policy: policy.as_str().into(),
        quote_currency: fill.quote_currency.clone(),
        realized_pnl: fill.realized_pnl,
        royalty: split.royalty,
        fill_at: fill.created_at,
        created_at: now,
    };
    if !repo::insert_booking(conn, &booking)? {
        return Ok(Outcome::AlreadyBooked);
    }
    let entry = |seq: usize, kind: &str, user: Option<Uuid>, amount: Decimal| EntryRow {
        id: Uuid::new_v4(),
        booking_id: booking.id,
        seq: i32::try_from(seq).unwrap_or(i32::MAX),
        kind: kind.into(),
        user_id: user,
        strategy_id: strategy,
        amount,
        gross: None,
        creator_plan: None,
        quote_currency: fill.quote_currency.clone(),
        created_at: now,
    };
    let mut entries = vec![entry(
        0,
        "clone_debit",
        Some(fill.owner_user_id),
        split.royalty,
    )];
    for share in split
        .shares
        .iter()
        .filter(|share| share.net > Decimal::ZERO)
    {
        entries.push(EntryRow {
            gross: Some(share.gross),
            creator_plan: Some(
                plans
                    .get(&share.creator)
                    .copied()
                    .unwrap_or_default()
                    .as_str()
                    .into(),
            ),
            ..entry(
                entries.len(),
                "creator_credit",
                Some(share.creator),
                share.net,
            )
        });
    }
    if split.platform_total > Decimal::ZERO {
        entries.push(entry(
            entries.len(),
            "platform_credit",
            None,
            split.platform_total,
        ));
    }
    let credits: Decimal = entries.iter().skip(1).map(|entry| entry.amount).sum();
    if credits != split.royalty {
        return Err(EconomyError::Unbalanced(format!(
            "fill {}: royalty {}, credits {credits}",
            fill.fill_id, split.royalty
        )));
    }
    repo::insert_entries(conn, &entries)?;
    Ok(Outcome::Booked)
}

fn credit_view(row: EntryRow) -> Result<RoyaltyCredit, EconomyError> {
    let gross = row
        .gross
        .ok_or_else(|| EconomyError::Unbalanced(format!("credit {} has no gross", row.id)))?;
    let plan = row
        .creator_plan
        .as_deref()
        .and_then(CreatorPlan::parse)
        .ok_or_else(|| EconomyError::Unbalanced(format!("credit {} has no plan", row.id)))?;
    Ok(RoyaltyCredit {
        id: row.id,
        booking_id: row.booking_id,
        strategy_id: row.strategy_id,
        currency: row.quote_currency,
        gross,
        platform_fee: gross - row.amount,
        net: row.amount,
        plan,
        created_at: row.created_at,
    })
}

#[async_trait]
impl RoyaltyService for PgRoyaltyService {
    async fn book_royalties(&self, limit: u32) -> Result<RoyaltyReport, EconomyError> {
        let until = self.clock.now()
            - ChronoDuration::from_std(self.settings.settle_after)
                .unwrap_or(ChronoDuration::minutes(1));
        let cursor = self
            .db
            .cross_tenant_transaction("economy: royalty cursor", |conn| {
                Ok::<_, EconomyError>(repo::royalty_cursor(conn)?)
            })
            .await?;
        let page = PageRequest::new(
            Some(limit.clamp(1, 500)),
            cursor.map(|(at, id)| Cursor::new(at, id)),
        )
        .map_err(|error| EconomyError::InvalidInput(error.to_string()))?;
        let fills = self.prop.arena_profits_after(page, until).await?;
        let mut report = RoyaltyReport::default();
        for fill in fills.items {
            report.fills += 1;
            match self.book(fill).await? {
                Outcome::Booked => report.booked += 1,
                Outcome::AlreadyBooked => report.already_booked += 1,
                Outcome::Exempt => report.exempt += 1,
            }
        }
        Ok(report)
    }

    async fn statement(
        &self,
        creator: Uuid,
        page: PageRequest,
    ) -> Result<RoyaltyStatement, EconomyError> {
        self.db
            .tenant_transaction(creator, move |conn| {
                let rows = repo::credits_page(conn, creator, &page)?;
                let credits =
                    Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                        .try_map(credit_view)?;
                let totals = repo::credit_totals(conn, creator)?
                    .into_iter()
                    .map(|(currency, count, gross, net)| {
                        let (gross, net) = (gross.unwrap_or_default(), net.unwrap_or_default());
                        RoyaltyTotal {
                            currency,
                            count,
                            gross,
                            platform_fee: gross - net,
                            net,
                        }
                    })
                    .collect();
                Ok(RoyaltyStatement { credits, totals })
            })
            .await
    }

    async fn performance(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<ClonePerformance, EconomyError> {
        let accounts: Vec<AccountView> = self
            .prop
            .accounts(owner)
            .await?
            .into_iter()
            .filter(|account| {
                account.clone_id == Some(clone_id)
                    && matches!(
                        account.context,
                        AccountContext::Audition | AccountContext::Arena
                    )
            })
            .collect();
        let ids: Vec<Uuid> = accounts.iter().map(|account| account.id).collect();
        let royalties: BTreeMap<Uuid, Decimal> = self
            .db
            .tenant_transaction(owner, move |conn| {
                Ok::<_, EconomyError>(repo::royalties_by_account(conn, &ids)?)
            })
            .await?
            .into_iter()
            .map(|(account, total)| (account, total.unwrap_or_default()))
            .collect();
        let mut returns = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let holds = self
                .prop
                .positions(owner, account.id)
                .await?
                .iter()
                .any(|position| !position.size.is_zero());
            // A flat account's cash is its exact equity; a snapshot may predate the last fill.
            let equity = if holds {
                self.prop
                    .latest_equity(owner, account.id)
                    .await?
                    .map_or(account.cash, |point| point.equity)
            } else {
                account.cash
            };
            let fees = self.prop.fees_paid(owner, account.id).await?;
            let paid = royalties.get(&account.id).copied().unwrap_or_default();
            returns.push(AccountReturns::new(account, equity, fees, paid));
        }
        Ok(ClonePerformance {
            clone_id,
            accounts: returns,
        })
    }
}
