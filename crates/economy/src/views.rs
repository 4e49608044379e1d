//! What economy returns to its callers (and, through the web layer, to clients).

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use clones_clone_service::Tier;
use clones_kernel::Page;
use clones_marketplace::CreatorPlan;
use clones_vault::{Purpose, Quote};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request for a priced, signed quote.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteRequest {
    /// `clone_creation`, `capacity_upgrade`, `audition_fee` or `creator_plan`.
    #[schema(value_type = String)]
    pub purpose: Purpose,
    /// The wallet that will pay (one of the caller's).
    pub payer_address: String,
    /// The clone an upgrade or audition fee is for.
    pub clone_id: Option<Uuid>,
    /// The tier a capacity upgrade buys (`pro` or `elite`).
    pub tier: Option<Tier>,
    /// The new clone's private name (clone creation only).
    pub clone_name: Option<String>,
    /// The creator plan a `creator_plan` quote buys (`pro` or `creator`).
    pub plan: Option<CreatorPlan>,
}

/// A quote signed by the platform, ready to pass to `SignedVault.deposit`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedQuote {
    /// The quote's id, for the deposit submission.
    pub quote_id: Uuid,
    /// The chain to pay on.
    pub chain_id: u64,
    /// The vault to pay into.
    #[schema(value_type = String)]
    pub vault: Address,
    /// The EIP-712 `Quote` fields (amount and nonce as decimal strings, deadline unix seconds).
    #[schema(value_type = Object)]
    pub quote: Quote,
    /// The platform's EIP-712 signature (`0x` + 130 hex digits).
    pub signature: String,
    /// When the quote can no longer be paid.
    pub expires_at: DateTime<Utc>,
}

/// A deposit transaction submitted for a quote.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DepositSubmission {
    /// The quote paid.
    pub quote_id: Uuid,
    /// The deposit transaction's hash.
    pub tx_hash: String,
}

/// Where a deposit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepositState {
    /// Not mined or not confirmed enough yet; re-checked automatically.
    Pending,
    /// Verified and recorded as a purchase.
    Confirmed,
    /// The chain says it did not pay the quote.
    Rejected,
}

/// A deposit's state and, once confirmed, its purchase.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepositOutcome {
    /// The submission's id (poll `GET /api/v1/economy/deposits/{id}`).
    pub deposit_id: Uuid,
    /// Where it stands.
    pub state: DepositState,
    /// Blocks seen so far.
    pub confirmations: u64,
    /// Blocks needed.
    pub required_confirmations: u64,
    /// The purchase, once confirmed.
    pub purchase: Option<PurchaseView>,
    /// True when this call created the purchase (false for replays).
    pub created: bool,
}

/// A purchase: a verified payment, or an operator's grant of a clone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseView {
    /// The purchase id.
    pub purchase_id: Uuid,
    /// What was bought.
    pub purpose: String,
    /// `vault_deposit` (paid into the vault) or `operator_grant` (granted, nothing paid).
    pub source: String,
    /// The clone created or paid for.
    pub clone_id: Option<Uuid>,
    /// The chain; none for a grant.
    pub chain_id: Option<u64>,
    /// The deposit transaction; none for a grant.
    pub tx_hash: Option<String>,
    /// The amount, in the token's base units (decimal string); none for a grant.
    pub amount: Option<String>,
    /// The token (`0x000…` for the native coin); none for a grant.
    pub token: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// An operator's grant of a clone to a user, recorded as a purchase without payment.
#[derive(Debug, Clone)]
pub struct CloneGrant {
    /// Who gets the clone.
    pub owner_user_id: Uuid,
    /// The clone's private name ([`crate::DEFAULT_CLONE_NAME`] when none).
    pub clone_name: Option<String>,
    /// The operator's reference (a ticket id, `seed-demo`); one grant per owner and reference.
    pub reference: String,
}

/// What a grant did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantOutcome {
    /// The grant's purchase, with the clone it created.
    pub purchase: PurchaseView,
    /// False when the owner already had a grant under this reference (nothing was created).
    pub created: bool,
}

/// A user's creator plan, which sets the platform's fee on their royalties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatorPlanView {
    /// `starter` (the default, never bought), `pro` or `creator`.
    pub plan: CreatorPlan,
    /// The platform's fee on each royalty, in percent (7, 5 or 3).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub fee_percent: Decimal,
    /// The purchase that set it; `null` on Starter.
    pub purchase_id: Option<Uuid>,
    /// When it was bought; `null` on Starter.
    pub since: Option<DateTime<Utc>>,
}

/// One royalty credited to a creator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoyaltyCredit {
    /// The credit's id.
    pub id: Uuid,
    /// The booking (one per profitable closing fill).
    pub booking_id: Uuid,
    /// The adopted marketplace strategy the clone traded.
    pub strategy_id: Uuid,
    /// The account's quote currency.
    pub currency: String,
    /// The creator's share of the royalty before the platform fee.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub gross: Decimal,
    /// The platform's fee on it.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub platform_fee: Decimal,
    /// What the creator receives.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub net: Decimal,
    /// The creator's plan when it was booked.
    pub plan: CreatorPlan,
    /// When it was booked.
    pub created_at: DateTime<Utc>,
}

/// A creator's royalties in one currency, over all time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoyaltyTotal {
    /// The currency.
    pub currency: String,
    /// How many credits.
    pub count: i64,
    /// Their shares before fees.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub gross: Decimal,
    /// The platform's fees.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub platform_fee: Decimal,
    /// What the creator received.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub net: Decimal,
}

/// A creator's royalty statement: one page of credits, newest first, and the totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoyaltyStatement {
    /// The page.
    pub credits: Page<RoyaltyCredit>,
    /// Totals per currency over every credit.
    pub totals: Vec<RoyaltyTotal>,
}

/// One account's returns, gross and net of trading fees and royalties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountReturns {
    /// The prop account.
    pub account_id: Uuid,
    /// `audition` or `arena`.
    pub context: String,
    /// The account's quote currency.
    pub currency: String,
    /// What the account started with.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub starting_balance: Decimal,
    /// Its equity now: the cash when it holds nothing, else its latest mark-to-market snapshot
    /// (the cash before the first one).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub equity: Decimal,
    /// Trading fees paid.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub fees_paid: Decimal,
    /// Royalties booked on its profitable closing fills (adopted strategies only).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub royalties_paid: Decimal,
    /// Profit before fees and royalties: `equity - startingBalance + feesPaid`.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub gross_pnl: Decimal,
    /// Profit after both: `equity - startingBalance - royaltiesPaid`.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub net_pnl: Decimal,
    /// `grossPnl / startingBalance`, to 8 decimals.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub gross_return: Decimal,
    /// `netPnl / startingBalance`, to 8 decimals.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub net_return: Decimal,
}

impl AccountReturns {
    /// The returns of an account from its figures.
    pub fn new(
        account: &clones_prop_engine::AccountView,
        equity: Decimal,
        fees_paid: Decimal,
        royalties_paid: Decimal,
    ) -> Self {
        let start = account.starting_balance;
        let gross_pnl = equity - start + fees_paid;
        let net_pnl = equity - start - royalties_paid;
        let ratio = |pnl: Decimal| {
            pnl.checked_div(start)
                .unwrap_or_default()
                .round_dp(8)
                .normalize()
        };
        Self {
            account_id: account.id,
            context: account.context.as_str().to_string(),
            currency: account.quote_currency.clone(),
            starting_balance: start,
            equity,
            fees_paid,
            royalties_paid,
            gross_pnl,
            net_pnl,
            gross_return: ratio(gross_pnl),
            net_return: ratio(net_pnl),
        }
    }
}

/// A clone's returns on each of its audition and Arena accounts, newest account first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClonePerformance {
    /// The clone.
    pub clone_id: Uuid,
    /// One entry per account.
    pub accounts: Vec<AccountReturns>,
}

/// What one royalty booking pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RoyaltyReport {
    /// Profitable Arena fills read.
    pub fills: u64,
    /// Royalties booked by this pass.
    pub booked: u64,
    /// Fills already booked (a repeated or concurrent pass).
    pub already_booked: u64,
    /// Fills that owe nothing: no adopted strategy, a strategy without an uploader, or a
    /// royalty under a cent.
    pub exempt: u64,
}
