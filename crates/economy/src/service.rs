//! The economy service: quotes, deposit verification and purchase facts over PostgreSQL and
//! the chain.

use std::str::FromStr;
use std::sync::Arc;

use alloy::primitives::{Address, U256};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_auth::AccessAdmin;
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{EntitlementGrant, EntitlementSource, Tier};
use clones_db::Db;
use clones_kernel::{Clock, Cursor, DomainError, ErrorKind, Page, PageRequest};
use clones_marketplace::CreatorPlan;
use clones_vault::{DepositStatus, DepositVerifier, Purpose, Quote, VerifiedDeposit};
use diesel::PgConnection;
use uuid::Uuid;

use crate::config::{PaymentSettings, PriceKey};
use crate::models::{CreatorPlanRow, DepositRow, PurchaseRow, QuoteRow};
use crate::views::{
    CloneGrant, CreatorPlanView, DepositOutcome, DepositState, GrantOutcome, PurchaseView,
    QuoteRequest, SignedQuote,
};
use crate::{EconomyError, EconomyService, RecheckReport, repo};

/// The name a clone gets when its buyer named none.
pub const DEFAULT_CLONE_NAME: &str = "My clone";

fn address_text(address: Address) -> String {
    format!("{address:#x}")
}

fn chain_id_i64(chain_id: u64) -> i64 {
    i64::try_from(chain_id).unwrap_or(i64::MAX)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn quote_view(row: &QuoteRow) -> Result<SignedQuote, EconomyError> {
    Ok(SignedQuote {
        quote_id: row.id,
        chain_id: u64::try_from(row.chain_id).unwrap_or_default(),
        vault: row
            .vault_address
            .parse()
            .map_err(|_| corrupt("vault address"))?,
        quote: vault_quote(row)?,
        signature: row.signature.clone(),
        expires_at: row.deadline,
    })
}

fn corrupt(what: &str) -> EconomyError {
    EconomyError::Db(clones_db::DbError::Migration(format!(
        "stored {what} is malformed"
    )))
}

/// The quote as the vault knows it.
fn vault_quote(row: &QuoteRow) -> Result<Quote, EconomyError> {
    Ok(Quote {
        payer: row.payer_address.parse().map_err(|_| corrupt("payer"))?,
        purpose: Purpose::from_str(&row.purpose).map_err(|_| corrupt("purpose"))?,
        token: row.token_address.parse().map_err(|_| corrupt("token"))?,
        amount: U256::from_str(&row.amount).map_err(|_| corrupt("amount"))?,
        nonce: U256::from_str(&row.nonce).map_err(|_| corrupt("nonce"))?,
        deadline: u64::try_from(row.deadline.timestamp()).unwrap_or_default(),
    })
}

/// The source of a purchase paid into the vault.
pub(crate) const SOURCE_VAULT_DEPOSIT: &str = "vault_deposit";
/// The source of a clone an operator granted.
pub(crate) const SOURCE_OPERATOR_GRANT: &str = "operator_grant";

fn purchase_view(row: &PurchaseRow) -> PurchaseView {
    PurchaseView {
        purchase_id: row.id,
        purpose: row.purpose.clone(),
        source: row.source.clone(),
        clone_id: row.clone_id,
        chain_id: row
            .chain_id
            .map(|chain_id| u64::try_from(chain_id).unwrap_or_default()),
        tx_hash: row.tx_hash.clone(),
        amount: row.amount.clone(),
        token: row.token_address.clone(),
        created_at: row.created_at,
    }
}

fn deposit_outcome(
    deposit: &DepositRow,
    purchase: Option<PurchaseView>,
    created: bool,
) -> DepositOutcome {
    DepositOutcome {
        deposit_id: deposit.id,
        state: match deposit.status.as_str() {
            "confirmed" => DepositState::Confirmed,
            "rejected" => DepositState::Rejected,
            _ => DepositState::Pending,
        },
        confirmations: u64::try_from(deposit.confirmations).unwrap_or_default(),
        required_confirmations: u64::try_from(deposit.required_confirmations).unwrap_or_default(),
        purchase,
        created,
    }
}

/// Records a verified deposit as a purchase and applies its effect, exactly once per
/// (resolver, nonce); a repeat finds the earlier purchase. Runs inside the caller's transaction.
fn record_purchase(
    conn: &mut PgConnection,
    quote: &QuoteRow,
    deposit: &DepositRow,
    verified: &VerifiedDeposit,
    confirmations: u64,
    now: DateTime<Utc>,
) -> Result<(PurchaseRow, bool), EconomyError> {
    let clone_id = match quote.purpose.as_str() {
        "clone_creation" => Some(Uuid::new_v4()),
        _ => quote.clone_id,
    };
    let resolver = address_text(verified.resolver);
    let nonce = verified.nonce.to_string();
    let row = PurchaseRow {
        id: Uuid::new_v4(),
        payer_user_id: quote.payer_user_id,
        quote_id: Some(quote.id),
        purpose: quote.purpose.clone(),
        clone_id,
        resolver: Some(resolver.clone()),
        nonce: Some(nonce.clone()),
        chain_id: Some(deposit.chain_id),
        tx_hash: Some(format!("{:#x}", verified.tx_hash)),
        block_number: Some(to_i64(verified.block_number)),
        log_index: Some(to_i64(verified.log_index)),
        payer_address: Some(address_text(verified.payer)),
        token_address: Some(address_text(verified.token)),
        amount: Some(verified.amount.to_string()),
        created_at: now,
        source: SOURCE_VAULT_DEPOSIT.into(),
    };
    let created = repo::insert_purchase(conn, &row)?;
    let purchase = if created {
        apply_effect(conn, quote, &row, now)?;
        row
    } else {
        repo::purchase_by_nonce(conn, &resolver, &nonce)?.ok_or(EconomyError::DepositNotFound)?
    };
    repo::mark_confirmed(conn, deposit.id, purchase.id, to_i64(confirmations), now)?;
    Ok((purchase, created))
}

/// What a purchase does: a new clone, a higher tier, or (audition fees) nothing yet; the
/// lifecycle context consumes audition purchases.
fn apply_effect(
    conn: &mut PgConnection,
    quote: &QuoteRow,
    purchase: &PurchaseRow,
    now: DateTime<Utc>,
) -> Result<(), EconomyError> {
    match quote.purpose.as_str() {
        "clone_creation" => create_clone(conn, purchase, quote.clone_name.clone(), now)?,
        "capacity_upgrade" => {
            let clone_id = quote.clone_id.ok_or_else(|| corrupt("quote clone id"))?;
            let tier = quote
                .target_tier
                .as_deref()
                .and_then(|tier| tier.parse::<Tier>().ok())
                .ok_or_else(|| corrupt("target tier"))?;
            // An older quote for a lower tier, paid after a higher one, must not downgrade the
            // clone: the purchase is recorded, the entitlement stays.
            let current = provisioning::owned_clone_tier(conn, clone_id, now)?
                .ok_or(EconomyError::CloneNotFound)?;
            if tier <= current {
                tracing::warn!(purchase_id = %purchase.id, %clone_id, "capacity purchase at or below the tier in force; entitlement unchanged");
                return Ok(());
            }
            provisioning::upsert_entitlement(
                conn,
                quote.payer_user_id,
                &EntitlementGrant {
                    clone_id,
                    tier,
                    source: EntitlementSource::Purchase,
                    source_purchase_id: Some(purchase.id),
                    source_reference: None,
                    expires_at: None,
                },
                now,
            )?;
        }
        "creator_plan" => {
            let plan = quote
                .target_plan
                .as_deref()
                .and_then(CreatorPlan::parse)
                .ok_or_else(|| corrupt("target plan"))?;
            set_creator_plan(conn, quote.payer_user_id, plan, purchase.id, now)?;
        }
        _ => {}
    }
    Ok(())
}

/// A `creator_plan` purchase's effect: the buyer's plan, unless the plan in force is already
/// as high (an older quote for a lower plan, paid later, never downgrades).
fn set_creator_plan(
    conn: &mut PgConnection,
    user: Uuid,
    plan: CreatorPlan,
    purchase_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), EconomyError> {
    let row = CreatorPlanRow {
        user_id: user,
        plan: plan.as_str().into(),
        purchase_id,
        updated_at: now,
    };
    if repo::insert_creator_plan(conn, &row)? {
        return Ok(());
    }
    let current = repo::lock_creator_plan(conn, user)?
        .map(|row| CreatorPlan::parse(&row.plan).ok_or_else(|| corrupt("creator plan")))
        .transpose()?
        .unwrap_or_default();
    if plan <= current {
        tracing::warn!(%purchase_id, "creator plan purchase at or below the plan in force; plan unchanged");
        return Ok(());
    }
    repo::update_creator_plan(conn, &row)?;
    Ok(())
}

/// The plan `user` is on, with the purchase and time that set it (Starter without one).
pub(crate) fn current_plan(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<(CreatorPlan, Option<CreatorPlanRow>), EconomyError> {
    match repo::creator_plan(conn, user)? {
        Some(row) => Ok((
            CreatorPlan::parse(&row.plan).ok_or_else(|| corrupt("creator plan"))?,
            Some(row),
        )),
        None => Ok((CreatorPlan::Starter, None)),
    }
}

/// A `clone_creation` purchase's effect, paid or granted: the clone with its default draft and
/// Starter entitlement, in the purchase's transaction.
fn create_clone(
    conn: &mut PgConnection,
    purchase: &PurchaseRow,
    name: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), EconomyError> {
    let clone_id = purchase
        .clone_id
        .ok_or_else(|| corrupt("purchase clone id"))?;
    provisioning::create_paid_clone(
        conn,
        &PaidClone {
            clone_id,
            owner_user_id: purchase.payer_user_id,
            purchase_id: purchase.id,
            display_name: name.unwrap_or_else(|| DEFAULT_CLONE_NAME.into()),
        },
        now,
    )?;
    Ok(())
}

/// [`EconomyService`] over PostgreSQL and the chain.
#[derive(Clone)]
pub struct PgEconomyService {
    db: Db,
    clock: Arc<dyn Clock>,
    access: Arc<dyn AccessAdmin>,
    payments: Option<Arc<(PaymentSettings, DepositVerifier)>>,
}

impl std::fmt::Debug for PgEconomyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgEconomyService")
            .field("payments_configured", &self.payments.is_some())
            .finish_non_exhaustive()
    }
}

impl PgEconomyService {
    /// A service over `db`; payments work only when `payments` is given.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        access: Arc<dyn AccessAdmin>,
        payments: Option<PaymentSettings>,
    ) -> Self {
        let payments = payments.map(|settings| {
            let verifier = DepositVerifier::new(settings.vault.clone());
            Arc::new((settings, verifier))
        });
        Self {
            db,
            clock,
            access,
            payments,
        }
    }

    fn payments(&self) -> Result<&(PaymentSettings, DepositVerifier), EconomyError> {
        self.payments.as_deref().ok_or(EconomyError::NotConfigured)
    }

    /// Checks one deposit on chain and settles it (pending, rejected, or purchased) in a
    /// transaction of the given scope.
    async fn settle(
        &self,
        quote: QuoteRow,
        deposit: DepositRow,
        scope: Settlement,
    ) -> Result<DepositOutcome, EconomyError> {
        let (settings, verifier) = self.payments()?;
        let expected = vault_quote(&quote)?;
        let tx_hash = clones_vault::parse_tx_hash(&deposit.tx_hash)?;
        let checked = verifier.check(tx_hash, &expected).await;
        let now = self.clock.now();
        let recheck_at =
            now + Duration::from_std(settings.recheck_interval).unwrap_or(Duration::seconds(15));
        let give_up_at = quote.deadline
            + Duration::from_std(settings.expiry_grace).unwrap_or(Duration::hours(1));
        // The inner result is the answer; the outer one only database failures, so a rejection
        // commits with its deposit row before it is reported.
        type Answer = Result<DepositOutcome, EconomyError>;
        let run = move |conn: &mut PgConnection| -> Result<Answer, EconomyError> {
            Ok(match checked {
                Ok(DepositStatus::Confirmed(verified)) => {
                    let confirmations = settings_required(&deposit);
                    let (purchase, created) =
                        record_purchase(conn, &quote, &deposit, &verified, confirmations, now)?;
                    let settled = repo::find_deposit(conn, deposit.id)?
                        .ok_or(EconomyError::DepositNotFound)?;
                    Ok(deposit_outcome(
                        &settled,
                        Some(purchase_view(&purchase)),
                        created,
                    ))
                }
                Ok(DepositStatus::Pending { confirmations, .. })
                    if confirmations == 0 && now > give_up_at =>
                {
                    let error = EconomyError::QuoteExpired;
                    repo::mark_rejected(conn, deposit.id, error.code(), &error.to_string(), now)?;
                    Err(error)
                }
                Ok(DepositStatus::Pending { confirmations, .. }) => {
                    repo::mark_pending(conn, deposit.id, to_i64(confirmations), recheck_at, now)?;
                    let pending = repo::find_deposit(conn, deposit.id)?
                        .ok_or(EconomyError::DepositNotFound)?;
                    Ok(deposit_outcome(&pending, None, false))
                }
                // The chain could not be asked, or our side is misconfigured (wrong chain
                // behind the RPC URL, an undecodable log): the payment may well be good, so
                // the deposit stays pending for the worker instead of being refused for good.
                Err(error) if !is_payer_fault(&error) => {
                    if error.is_retryable() {
                        tracing::warn!(deposit_id = %deposit.id, %error, "deposit check deferred");
                    } else {
                        tracing::error!(deposit_id = %deposit.id, %error, "deposit check failed on our side; deferred");
                    }
                    repo::mark_pending(conn, deposit.id, deposit.confirmations, recheck_at, now)?;
                    let pending = repo::find_deposit(conn, deposit.id)?
                        .ok_or(EconomyError::DepositNotFound)?;
                    Ok(deposit_outcome(&pending, None, false))
                }
                Err(error) => {
                    repo::mark_rejected(conn, deposit.id, error.code(), &error.to_string(), now)?;
                    Err(EconomyError::DepositRejected {
                        code: error.code(),
                        detail: error.to_string(),
                    })
                }
            })
        };
        match scope {
            Settlement::Payer(user) => self.db.tenant_transaction(user, run).await?,
            Settlement::Worker => {
                self.db
                    .cross_tenant_transaction("economy: settle pending deposit", run)
                    .await?
            }
        }
    }
}

/// Whether a failed check is a definite answer about the transaction (it reverted, paid
/// something else, or is no vault deposit), as opposed to a fault on the platform's side.
fn is_payer_fault(error: &clones_vault::VaultError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::RuleViolation | ErrorKind::InvalidInput
    )
}

fn settings_required(deposit: &DepositRow) -> u64 {
    u64::try_from(deposit.required_confirmations).unwrap_or(1)
}

#[derive(Debug, Clone, Copy)]
enum Settlement {
    Payer(Uuid),
    Worker,
}

#[async_trait]
impl EconomyService for PgEconomyService {
    async fn quote(&self, user: Uuid, request: QuoteRequest) -> Result<SignedQuote, EconomyError> {
        let (settings, _) = self.payments()?;
        let payer: Address = request.payer_address.trim().parse().map_err(|_| {
            EconomyError::InvalidInput("payerAddress must be 0x followed by 40 hex digits".into())
        })?;
        if self.access.wallet_owner(&address_text(payer)).await? != Some(user) {
            return Err(EconomyError::PayerNotYours);
        }
        let key = match request.purpose {
            Purpose::CapacityUpgrade | Purpose::AuditionFee | Purpose::CloneCreation
                if request.plan.is_some() =>
            {
                return Err(EconomyError::InvalidInput(
                    "only a creator plan takes a plan".into(),
                ));
            }
            Purpose::CloneCreation => {
                if request.clone_id.is_some() || request.tier.is_some() {
                    return Err(EconomyError::InvalidInput(
                        "clone creation takes neither cloneId nor tier".into(),
                    ));
                }
                PriceKey::CloneCreation
            }
            Purpose::CreatorPlan => {
                if request.clone_id.is_some() || request.tier.is_some() {
                    return Err(EconomyError::InvalidInput(
                        "a creator plan takes neither cloneId nor tier".into(),
                    ));
                }
                match request.plan {
                    Some(plan @ (CreatorPlan::Pro | CreatorPlan::Creator)) => {
                        PriceKey::CreatorPlan(plan)
                    }
                    _ => {
                        return Err(EconomyError::InvalidInput(
                            "a creator plan needs a plan: pro or creator".into(),
                        ));
                    }
                }
            }
            Purpose::CapacityUpgrade => {
                if request.clone_id.is_none() {
                    return Err(EconomyError::InvalidInput(
                        "a capacity upgrade needs the cloneId it upgrades".into(),
                    ));
                }
                PriceKey::CapacityUpgrade(request.tier.ok_or_else(|| {
                    EconomyError::InvalidInput("a capacity upgrade needs a tier".into())
                })?)
            }
            Purpose::AuditionFee => {
                if request.clone_id.is_none() || request.tier.is_some() {
                    return Err(EconomyError::InvalidInput(
                        "an audition fee takes the cloneId of the auditioning clone and no tier"
                            .into(),
                    ));
                }
                PriceKey::AuditionFee
            }
        };
        if request.purpose != Purpose::CloneCreation && request.clone_name.is_some() {
            return Err(EconomyError::InvalidInput(
                "only clone creation takes cloneName".into(),
            ));
        }
        if let Some(name) = &request.clone_name {
            clones_clone_service::profile::validate_text("cloneName", name, 1, 80)?;
        }
        let amount = settings
            .prices
            .price(key)
            .ok_or_else(|| EconomyError::NoPrice(key.as_str().into()))?;
        let now = self.clock.now();
        let deadline =
            now + Duration::from_std(settings.quote_ttl).unwrap_or(Duration::minutes(30));
        let nonce = {
            use rand::RngCore;
            let mut bytes = [0u8; 16];
            rand::rng().fill_bytes(&mut bytes);
            U256::from_be_slice(&bytes)
        };
        let quote = Quote {
            payer,
            purpose: request.purpose,
            token: settings.token,
            amount,
            nonce,
            deadline: u64::try_from(deadline.timestamp()).unwrap_or_default(),
        };
        let domain = settings.vault.domain();
        let signature = settings.signer.sign(&quote, &domain)?;
        let row = QuoteRow {
            id: Uuid::new_v4(),
            payer_user_id: user,
            payer_address: address_text(payer),
            purpose: request.purpose.as_str().into(),
            clone_id: request.clone_id,
            target_tier: match key {
                PriceKey::CapacityUpgrade(tier) => Some(tier.as_str().into()),
                _ => None,
            },
            clone_name: request.clone_name,
            target_plan: match key {
                PriceKey::CreatorPlan(plan) => Some(plan.as_str().into()),
                _ => None,
            },
            chain_id: chain_id_i64(domain.chain_id),
            vault_address: address_text(domain.vault),
            token_address: address_text(settings.token),
            amount: amount.to_string(),
            nonce: nonce.to_string(),
            // The row keeps the deadline the signature covers (whole seconds).
            deadline: DateTime::from_timestamp(deadline.timestamp(), 0).unwrap_or(deadline),
            signature,
            created_at: now,
        };
        let stored = row.clone();
        self.db
            .tenant_transaction(user, move |conn| {
                if let PriceKey::CreatorPlan(target) = key
                    && current_plan(conn, user)?.0 >= target
                {
                    return Err(EconomyError::NotAnUpgrade);
                }
                if let Some(clone_id) = stored.clone_id {
                    let current = provisioning::owned_clone_tier(conn, clone_id, now)?
                        .ok_or(EconomyError::CloneNotFound)?;
                    if let PriceKey::CapacityUpgrade(target) = key
                        && target <= current
                    {
                        return Err(EconomyError::NotAnUpgrade);
                    }
                }
                repo::insert_quote(conn, &stored)?;
                Ok(())
            })
            .await?;
        quote_view(&row)
    }

    async fn submit_deposit(
        &self,
        user: Uuid,
        quote_id: Uuid,
        tx_hash: &str,
    ) -> Result<DepositOutcome, EconomyError> {
        let (settings, _) = self.payments()?;
        let tx_hash = format!("{:#x}", clones_vault::parse_tx_hash(tx_hash)?);
        let required = to_i64(settings.vault.required_confirmations.max(1));
        let now = self.clock.now();
        let (quote, deposit) = self
            .db
            .tenant_transaction(user, move |conn| {
                let quote = repo::find_quote(conn, quote_id)?
                    .filter(|quote| quote.payer_user_id == user)
                    .ok_or(EconomyError::QuoteNotFound)?;
                let deposit = repo::register_deposit(
                    conn,
                    &DepositRow {
                        id: Uuid::new_v4(),
                        quote_id: quote.id,
                        payer_user_id: user,
                        chain_id: quote.chain_id,
                        tx_hash,
                        status: "pending".into(),
                        confirmations: 0,
                        required_confirmations: required,
                        rejection_code: None,
                        rejection_detail: None,
                        attempts: 0,
                        next_check_at: now,
                        lease_expires_at: None,
                        purchase_id: None,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                Ok::<_, EconomyError>((quote, deposit))
            })
            .await?;
        match deposit.status.as_str() {
            // A replay of a settled submission answers as the first did.
            "confirmed" => {
                let purchase_id = deposit.purchase_id;
                let purchase = self
                    .db
                    .tenant_transaction(user, move |conn| match purchase_id {
                        Some(id) => Ok(repo::find_purchase(conn, id)?),
                        None => Ok::<_, EconomyError>(None),
                    })
                    .await?;
                Ok(deposit_outcome(
                    &deposit,
                    purchase.as_ref().map(purchase_view),
                    false,
                ))
            }
            "rejected" => Err(EconomyError::DepositRejected {
                code: match deposit.rejection_code.as_deref() {
                    Some("quote_expired") => "quote_expired",
                    Some("deposit_reverted") => "deposit_reverted",
                    Some("quote_mismatch") => "quote_mismatch",
                    Some("unknown_purpose") => "unknown_purpose",
                    // Only the codes above and this one are ever stored.
                    _ => "not_a_vault_deposit",
                },
                detail: deposit.rejection_detail.clone().unwrap_or_default(),
            }),
            _ => self.settle(quote, deposit, Settlement::Payer(user)).await,
        }
    }

    async fn deposit(&self, user: Uuid, deposit_id: Uuid) -> Result<DepositOutcome, EconomyError> {
        self.db
            .tenant_transaction(user, move |conn| {
                let deposit = repo::find_deposit(conn, deposit_id)?
                    .filter(|deposit| deposit.payer_user_id == user)
                    .ok_or(EconomyError::DepositNotFound)?;
                let purchase = match deposit.purchase_id {
                    Some(id) => repo::find_purchase(conn, id)?,
                    None => None,
                };
                Ok(deposit_outcome(
                    &deposit,
                    purchase.as_ref().map(purchase_view),
                    false,
                ))
            })
            .await
    }

    async fn purchases(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<PurchaseView>, EconomyError> {
        self.db
            .tenant_transaction(user, move |conn| {
                let rows = repo::purchases_page(conn, user, &page)?;
                Ok(
                    Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                        .map(|row| purchase_view(&row)),
                )
            })
            .await
    }

    async fn purchase(
        &self,
        user: Uuid,
        purchase_id: Uuid,
    ) -> Result<Option<PurchaseView>, EconomyError> {
        self.db
            .tenant_transaction(user, move |conn| {
                Ok(repo::find_purchase(conn, purchase_id)?
                    .filter(|row| row.payer_user_id == user)
                    .as_ref()
                    .map(purchase_view))
            })
            .await
    }

    async fn creator_plan(&self, user: Uuid) -> Result<CreatorPlanView, EconomyError> {
        self.db
            .tenant_transaction(user, move |conn| {
                let (plan, row) = current_plan(conn, user)?;
                Ok(CreatorPlanView {
                    plan,
                    fee_percent: plan.fee() * rust_decimal::Decimal::ONE_HUNDRED,
                    purchase_id: row.as_ref().map(|row| row.purchase_id),
                    since: row.map(|row| row.updated_at),
                })
            })
            .await
    }

    async fn grant_clone(&self, grant: CloneGrant) -> Result<GrantOutcome, EconomyError> {
        let reference = grant.reference.trim().to_string();
        if reference.is_empty() || reference.chars().count() > 200 {
            return Err(EconomyError::InvalidInput(
                "a grant reference is 1 to 200 characters".into(),
            ));
        }
        let owner = grant.owner_user_id;
        let now = self.clock.now();
        self.db
            .tenant_transaction(owner, move |conn| {
                let row = PurchaseRow {
                    id: Uuid::new_v4(),
                    payer_user_id: owner,
                    quote_id: None,
                    purpose: Purpose::CloneCreation.as_str().into(),
                    clone_id: Some(Uuid::new_v4()),
                    resolver: None,
                    // A grant's nonce is its reference, unique per owner.
                    nonce: Some(reference.clone()),
                    chain_id: None,
                    tx_hash: None,
                    block_number: None,
                    log_index: None,
                    payer_address: None,
                    token_address: None,
                    amount: None,
                    created_at: now,
                    source: SOURCE_OPERATOR_GRANT.into(),
                };
                let created = repo::insert_purchase(conn, &row)?;
                let purchase = if created {
                    create_clone(conn, &row, grant.clone_name, now)?;
                    row
                } else {
                    repo::grant_by_reference(conn, owner, &reference)?
                        .ok_or_else(|| corrupt("operator grant"))?
                };
                Ok(GrantOutcome {
                    purchase: purchase_view(&purchase),
                    created,
                })
            })
            .await
    }

    async fn recheck_pending(&self, limit: u32) -> Result<RecheckReport, EconomyError> {
        self.payments()?;
        let now = self.clock.now();
        let lease_until = now + Duration::minutes(2);
        let limit = i64::from(limit.clamp(1, 1000));
        let leased = self
            .db
            .cross_tenant_transaction("economy: lease pending deposits", move |conn| {
                let deposits = repo::lease_due_deposits(conn, now, lease_until, limit)?;
                let mut work = Vec::with_capacity(deposits.len());
                for deposit in deposits {
                    let quote = repo::find_quote(conn, deposit.quote_id)?
                        .ok_or(EconomyError::QuoteNotFound)?;
                    work.push((quote, deposit));
                }
                Ok::<_, EconomyError>(work)
            })
            .await?;
        let mut report = RecheckReport::default();
        for (quote, deposit) in leased {
            report.checked += 1;
            match self.settle(quote, deposit, Settlement::Worker).await {
                Ok(outcome) if outcome.state == DepositState::Confirmed => report.confirmed += 1,
                Ok(_) => report.still_pending += 1,
                Err(EconomyError::DepositRejected { .. } | EconomyError::QuoteExpired) => {
                    report.rejected += 1
                }
                // One deposit's failure must not hold up the others in the batch.
                Err(error) => {
                    tracing::error!(%error, "settling a pending deposit failed");
                    report.failed += 1
                }
            }
        }
        Ok(report)
    }
}
