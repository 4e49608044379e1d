//! Chain settings of deployments, from flags or environment variables. The on-chain part is
//! off unless the factory, the RPC endpoint and the payment token are all given: the views
//! then carry no transaction to sign and the confirmation check answers
//! `deployment_chain_not_configured`.

use std::time::Duration;

use alloy::primitives::{Address, U256};
use clap::Args;

/// The deployment chain settings shared by the API and the deployment worker.
#[derive(Debug, Clone, Args)]
pub struct DeploymentArgs {
    /// The `CloneTokenFactory` contract; the on-chain steps are off when unset.
    #[arg(long, env = "DEPLOYMENT_FACTORY_ADDRESS")]
    pub deployment_factory_address: Option<Address>,
    /// JSON-RPC endpoint of the factory's chain.
    #[arg(long, env = "DEPLOYMENT_RPC_URL")]
    pub deployment_rpc_url: Option<url::Url>,
    /// The factory's chain id (the RPC must report it; transactions to sign name it).
    #[arg(long, env = "DEPLOYMENT_CHAIN_ID", default_value_t = 31337)]
    pub deployment_chain_id: u64,
    /// The ERC-20 token training pools accept deposits in.
    #[arg(long, env = "DEPLOYMENT_PAYMENT_TOKEN")]
    pub deployment_payment_token: Option<Address>,
    /// Blocks (counting the transaction's own) before a token or pool creation counts.
    #[arg(long, env = "DEPLOYMENT_CONFIRMATIONS", default_value_t = 1)]
    pub deployment_confirmations: u64,
    /// A clone token's fixed supply in whole tokens (18 decimals), minted to the owner.
    #[arg(long, env = "DEPLOYMENT_TOKEN_SUPPLY", default_value_t = 1_000_000)]
    pub deployment_token_supply: u64,
    /// Delay between checks of a submitted transaction that is not yet settled, in seconds.
    #[arg(long, env = "DEPLOYMENT_RECHECK_SECS", default_value_t = 5)]
    pub deployment_recheck_secs: u64,
}

/// Where the deployment contracts live and how cautious to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSettings {
    /// The chain's JSON-RPC endpoint.
    pub rpc_url: url::Url,
    /// The chain id the RPC must report.
    pub chain_id: u64,
    /// The `CloneTokenFactory` whose events count.
    pub factory: Address,
    /// The ERC-20 training pools accept.
    pub payment_token: Address,
    /// How many blocks, counting the transaction's own, must exist; at least one.
    pub required_confirmations: u64,
    /// A clone token's fixed supply in base units.
    pub token_supply: U256,
    /// Delay between checks of an unsettled transaction.
    pub recheck_interval: Duration,
}

impl DeploymentArgs {
    /// The chain settings, or `None` when the on-chain steps are not configured.
    ///
    /// # Errors
    /// A message naming the bad setting.
    pub fn to_settings(&self) -> Result<Option<ChainSettings>, String> {
        let (Some(factory), Some(rpc_url), Some(payment_token)) = (
            self.deployment_factory_address,
            self.deployment_rpc_url.clone(),
            self.deployment_payment_token,
        ) else {
            if self.deployment_factory_address.is_some()
                || self.deployment_rpc_url.is_some()
                || self.deployment_payment_token.is_some()
            {
                return Err("DEPLOYMENT_FACTORY_ADDRESS, DEPLOYMENT_RPC_URL and \
                     DEPLOYMENT_PAYMENT_TOKEN go together"
                    .into());
            }
            return Ok(None);
        };
        if factory == Address::ZERO || payment_token == Address::ZERO {
            return Err(
                "DEPLOYMENT_FACTORY_ADDRESS and DEPLOYMENT_PAYMENT_TOKEN must not be zero".into(),
            );
        }
        if self.deployment_token_supply == 0 {
            return Err("DEPLOYMENT_TOKEN_SUPPLY must be positive".into());
        }
        Ok(Some(ChainSettings {
            rpc_url,
            chain_id: self.deployment_chain_id,
            factory,
            payment_token,
            required_confirmations: self.deployment_confirmations.max(1),
            token_supply: U256::from(self.deployment_token_supply)
                * U256::from(10u64).pow(U256::from(18u64)),
            recheck_interval: Duration::from_secs(self.deployment_recheck_secs.max(1)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: DeploymentArgs,
    }

    fn parse(args: &[&str]) -> Result<Option<ChainSettings>, String> {
        let mut argv = vec!["test"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().args.to_settings()
    }

    #[test]
    fn off_unless_all_three_are_given() {
        assert_eq!(parse(&[]), Ok(None));
        assert!(
            parse(&[
                "--deployment-factory-address",
                "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            ])
            .is_err()
        );
        let settings = parse(&[
            "--deployment-factory-address",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "--deployment-rpc-url",
            "http://127.0.0.1:8545",
            "--deployment-payment-token",
            "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            "--deployment-token-supply",
            "5",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.chain_id, 31337);
        assert_eq!(settings.required_confirmations, 1);
        assert_eq!(
            settings.token_supply,
            U256::from(5u64) * U256::from(10u64).pow(U256::from(18u64))
        );
    }
}
