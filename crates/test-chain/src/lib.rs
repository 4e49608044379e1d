//! The local EVM chain (`scripts/chain start`: hardhat on loopback, chain id 31337) as tests
//! use it: every test gets its own freshly funded account, so parallel tests never contend for
//! nonces, and deploys the project's compiled contracts from `contracts/out/`.
//!
//! The chain comes from `CHAIN_RPC_URL` (default `http://127.0.0.1:8545`). This crate is for
//! tests only and must never be a dependency of a binary.

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder, SendableTx};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;

/// The chain id of the local chain.
pub const CHAIN_ID: u64 = 31337;
/// Where the chain listens unless `CHAIN_RPC_URL` says otherwise.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8545";

/// Why the chain could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// `CHAIN_RPC_URL` is not a URL.
    #[error("invalid CHAIN_RPC_URL: {0}")]
    Url(String),
    /// A JSON-RPC call failed; is `scripts/chain start` running?
    #[error("chain RPC failed: {0}")]
    Rpc(String),
    /// A contract artifact is missing or malformed; run `node scripts/compile-contracts.js`.
    #[error("contract artifact {name}: {reason}")]
    Artifact {
        /// The contract name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

fn rpc<E: std::fmt::Display>(error: E) -> ChainError {
    ChainError::Rpc(error.to_string())
}

/// A connection to the local chain.
#[derive(Debug, Clone)]
pub struct TestChain {
    url: url::Url,
}

/// An account funded with 100 ETH, whose key only this test knows.
#[derive(Debug, Clone)]
pub struct FundedAccount {
    /// The account's key.
    pub signer: PrivateKeySigner,
    url: url::Url,
}

impl TestChain {
    /// Connects to `CHAIN_RPC_URL` (or the default) and checks the chain id.
    ///
    /// # Errors
    /// [`ChainError`] when the chain is unreachable or is not the local chain.
    pub async fn connect() -> Result<Self, ChainError> {
        // HTTP clients need a TLS provider even for plain-HTTP loopback URLs.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let raw = std::env::var("CHAIN_RPC_URL").unwrap_or_else(|_| DEFAULT_RPC_URL.into());
        let url = url::Url::parse(&raw).map_err(|error| ChainError::Url(error.to_string()))?;
        let provider = ProviderBuilder::new().connect_http(url.clone());
        let chain_id = provider.get_chain_id().await.map_err(rpc)?;
        if chain_id != CHAIN_ID {
            return Err(ChainError::Rpc(format!(
                "expected chain id {CHAIN_ID}, found {chain_id}"
            )));
        }
        Ok(Self { url })
    }

    /// The JSON-RPC URL.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// A new random account with 100 ETH (set directly with `hardhat_setBalance`).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] when the chain refuses.
    pub async fn funded_account(&self) -> Result<FundedAccount, ChainError> {
        let signer = PrivateKeySigner::random();
        let provider = ProviderBuilder::new().connect_http(self.url.clone());
        let balance = U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64));
        provider
            .raw_request::<_, serde_json::Value>(
                "hardhat_setBalance".into(),
                (signer.address(), format!("{balance:#x}")),
            )
            .await
            .map_err(rpc)?;
        Ok(FundedAccount {
            signer,
            url: self.url.clone(),
        })
    }
}

impl TestChain {
    /// Mines `blocks` empty blocks (`hardhat_mine`) without moving the chain's clock: the
    /// blocks share the latest timestamp. With the default one-second interval, mining
    /// thousands of blocks would push chain time hours past the wall clock and make every
    /// later quote on the shared chain look expired to the vault.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] when the chain refuses.
    pub async fn mine(&self, blocks: u64) -> Result<(), ChainError> {
        ProviderBuilder::new()
            .connect_http(self.url.clone())
            .raw_request::<_, serde_json::Value>(
                "hardhat_mine".into(),
                (format!("{blocks:#x}"), "0x0"),
            )
            .await
            .map(drop)
            .map_err(rpc)
    }
}

/// The creation bytecode of a compiled contract in `contracts/out/<name>.json`.
///
/// # Errors
/// [`ChainError::Artifact`] when the artifact is missing or malformed.
pub fn creation_bytecode(name: &str) -> Result<Bytes, ChainError> {
    let artifact_error = |reason: String| ChainError::Artifact {
        name: name.to_string(),
        reason,
    };
    let path = format!(
        "{}/../../contracts/out/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).map_err(|error| artifact_error(error.to_string()))?;
    let artifact: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| artifact_error(error.to_string()))?;
    let hex = artifact["bytecode"]
        .as_str()
        .ok_or_else(|| artifact_error("no bytecode".into()))?;
    hex.parse::<Bytes>()
        .map_err(|error| artifact_error(error.to_string()))
}

impl FundedAccount {
    /// The account's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The account's key, for signing messages (for example a wallet sign-in) as this account.
    pub fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }

    /// Signs `request` locally, sends it and waits for its receipt, also when it reverts: the
    /// hash is known before submission, so a node that answers a failing transaction with an
    /// error (hardhat does, and still mines it) cannot hide the receipt.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] when signing fails or the transaction is not mined within 5 s.
    pub async fn send(
        &self,
        request: TransactionRequest,
    ) -> Result<TransactionReceipt, ChainError> {
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.signer.clone()))
            .connect_http(self.url.clone());
        let request = request.with_from(self.address());
        let SendableTx::Envelope(envelope) = provider.fill(request).await.map_err(rpc)? else {
            return Err(ChainError::Rpc(
                "the wallet did not sign the transaction".into(),
            ));
        };
        let hash = *envelope.tx_hash();
        let submitted = provider.send_tx_envelope(envelope).await;
        for _ in 0..100 {
            if let Some(receipt) = provider.get_transaction_receipt(hash).await.map_err(rpc)? {
                return Ok(receipt);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(ChainError::Rpc(format!(
            "transaction {hash} was not mined; submission said {submitted:?}"
        )))
    }

    /// Deploys contract `name` with ABI-encoded constructor arguments and returns its address.
    ///
    /// # Errors
    /// [`ChainError`] when the artifact is missing or the deployment fails.
    pub async fn deploy(&self, name: &str, constructor_args: &[u8]) -> Result<Address, ChainError> {
        let mut code = creation_bytecode(name)?.to_vec();
        code.extend_from_slice(constructor_args);
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.signer.clone()))
            .connect_http(self.url.clone());
        let request = TransactionRequest::default().with_deploy_code(Bytes::from(code));
        let receipt = provider
            .send_transaction(request)
            .await
            .map_err(rpc)?
            .get_receipt()
            .await
            .map_err(rpc)?;
        if !receipt.status() {
            return Err(ChainError::Rpc(format!("deploying {name} reverted")));
        }
        receipt
            .contract_address
            .ok_or_else(|| ChainError::Rpc(format!("deploying {name} created no contract")))
    }
}
