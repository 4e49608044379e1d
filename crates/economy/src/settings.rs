//! Payment settings from flags or environment variables. Payments are off unless the vault,
//! chain and quote key are all given; economy routes then answer `payments_not_configured`.

use std::time::Duration;

use alloy::primitives::Address;
use clap::Args;
use clones_kernel::Secret;
use clones_vault::{QuoteSigner, VaultConfig};

use crate::config::{PaymentSettings, PriceTable};
use crate::royalties::RoyaltySettings;

/// Payment settings shared by the API and the economy worker.
#[derive(Debug, Clone, Args)]
pub struct PaymentArgs {
    /// The SignedVault contract address; payments are off when unset.
    #[arg(long, env = "VAULT_ADDRESS")]
    pub vault_address: Option<Address>,
    /// JSON-RPC endpoint of the vault's chain.
    #[arg(long, env = "PAYMENTS_RPC_URL")]
    pub payments_rpc_url: Option<url::Url>,
    /// The vault's chain id (the RPC must report it).
    #[arg(long, env = "PAYMENTS_CHAIN_ID", default_value_t = 31337)]
    pub payments_chain_id: u64,
    /// The hex private key that signs quotes (the vault's quoteSigner).
    #[arg(long, env = "QUOTE_SIGNER_KEY", hide_env_values = true)]
    pub quote_signer_key: Option<Secret<String>>,
    /// The ERC-20 token quotes are priced in (`0x000…000` for the native coin).
    #[arg(
        long,
        env = "QUOTE_TOKEN",
        default_value = "0x0000000000000000000000000000000000000000"
    )]
    pub quote_token: Address,
    /// Prices in base units: `clone_creation=…,capacity_upgrade:pro=…,capacity_upgrade:elite=…,audition_fee=…,creator_plan:pro=…,creator_plan:creator=…`.
    #[arg(
        long,
        env = "PRICE_TABLE",
        default_value = "clone_creation=25000000,capacity_upgrade:pro=50000000,capacity_upgrade:elite=150000000,audition_fee=10000000,creator_plan:pro=20000000,creator_plan:creator=60000000"
    )]
    pub price_table: String,
    /// Blocks (counting the deposit's own) before a deposit counts.
    #[arg(long, env = "DEPOSIT_CONFIRMATIONS", default_value_t = 1)]
    pub deposit_confirmations: u64,
    /// How long a quote can be paid, in seconds.
    #[arg(long, env = "QUOTE_TTL_SECS", default_value_t = 1800)]
    pub quote_ttl_secs: u64,
    /// How long past a quote's deadline an unseen deposit is given up, in seconds.
    #[arg(long, env = "DEPOSIT_EXPIRY_GRACE_SECS", default_value_t = 3600)]
    pub deposit_expiry_grace_secs: u64,
    /// Delay between re-checks of a pending deposit, in seconds.
    #[arg(long, env = "DEPOSIT_RECHECK_SECS", default_value_t = 15)]
    pub deposit_recheck_secs: u64,
}

impl PaymentArgs {
    /// The payment settings, or `None` when payments are not configured.
    ///
    /// # Errors
    /// A message naming the bad setting (never the key).
    pub fn to_settings(&self) -> Result<Option<PaymentSettings>, String> {
        let (Some(vault), Some(rpc_url), Some(key)) = (
            self.vault_address,
            self.payments_rpc_url.clone(),
            self.quote_signer_key.as_ref(),
        ) else {
            if self.vault_address.is_some() || self.quote_signer_key.is_some() {
                return Err(
                    "VAULT_ADDRESS, PAYMENTS_RPC_URL and QUOTE_SIGNER_KEY go together".into(),
                );
            }
            return Ok(None);
        };
        let signer = QuoteSigner::from_hex(key.expose())
            .map_err(|_| "QUOTE_SIGNER_KEY is not a valid private key".to_string())?;
        let prices = PriceTable::parse(&self.price_table)
            .map_err(|error| format!("PRICE_TABLE: {error}"))?;
        if self.quote_ttl_secs < 60 {
            return Err("QUOTE_TTL_SECS must be at least 60".into());
        }
        Ok(Some(PaymentSettings {
            vault: VaultConfig {
                rpc_url,
                chain_id: self.payments_chain_id,
                vault,
                required_confirmations: self.deposit_confirmations.max(1),
            },
            signer,
            token: self.quote_token,
            prices,
            quote_ttl: Duration::from_secs(self.quote_ttl_secs),
            expiry_grace: Duration::from_secs(self.deposit_expiry_grace_secs),
            recheck_interval: Duration::from_secs(self.deposit_recheck_secs.max(1)),
        }))
    }
}

/// Royalty booking settings (the economy worker's).
#[derive(Debug, Clone, Args)]
pub struct RoyaltyArgs {
    /// How a royalty is shared: `original_only` (all to the adopted strategy's uploader) or
    /// `lineage_split` (along the lineage by each link's percentages).
    #[arg(long, env = "ROYALTY_POLICY", default_value = "original_only", value_parser = parse_policy)]
    pub royalty_policy: clones_marketplace::RoyaltyPolicy,
    /// Seconds a fill must be old before it is booked, so a fill whose transaction commits
    /// late is not passed over.
    #[arg(long, env = "ROYALTY_SETTLE_SECS", default_value_t = 60)]
    pub royalty_settle_secs: u64,
}

fn parse_policy(text: &str) -> Result<clones_marketplace::RoyaltyPolicy, String> {
    clones_marketplace::RoyaltyPolicy::parse(text)
        .ok_or_else(|| "ROYALTY_POLICY must be original_only or lineage_split".to_string())
}

impl RoyaltyArgs {
    /// The settings.
    pub fn to_settings(&self) -> RoyaltySettings {
        RoyaltySettings {
            policy: self.royalty_policy,
            settle_after: Duration::from_secs(self.royalty_settle_secs),
        }
    }
}
