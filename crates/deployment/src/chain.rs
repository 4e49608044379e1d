//! Reading what the chain says about a submitted deployment transaction.
//!
//! [`ReceiptChecker::check`] reads the transaction's receipt and decides: not settled yet
//! ([`Verdict::Pending`]: unknown, unmined, under-confirmed, or its block reorganized away), a
//! definite failure ([`Verdict::Failed`]: reverted, or no matching event from the configured
//! factory), or confirmed ([`Verdict::Confirmed`]: the factory's event for the expected clone,
//! token and deposit address, with the required confirmations on a canonical block). Whether
//! the event's owner is the clone owner's wallet is the service's question; this module knows
//! no database and no user.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent;

use crate::contract::CloneTokenFactory::{CloneTokenCreated, TrainingPoolCreated};
use crate::settings::ChainSettings;

/// What a transaction of a step must have created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The token step: a `CloneTokenCreated` for the clone.
    Token {
        /// The clone's `cloneRef`.
        clone_ref: B256,
    },
    /// The pool step: a `TrainingPoolCreated` for the clone, its token and deposit address.
    Pool {
        /// The clone's `cloneRef`.
        clone_ref: B256,
        /// The clone's recorded token.
        token: Address,
        /// The deployment's deposit address.
        deposit_address: Address,
    },
}

/// The answer about one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not settled: check again later.
    Pending {
        /// Blocks from the transaction's block to the head, inclusive (0 when unmined).
        confirmations: u64,
    },
    /// The expected event, final enough.
    Confirmed {
        /// The created token or pool.
        contract: Address,
        /// The event's owner (the account that called the factory).
        owner: Address,
        /// Confirmations when checked.
        confirmations: u64,
    },
    /// The transaction will never create what the step needs.
    Failed {
        /// Why, for the deployment's `last_error`.
        reason: String,
    },
}

/// An RPC failure or a chain that is not the configured one; retry later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChainReadError(pub String);

fn rpc<E: std::fmt::Display>(error: E) -> ChainReadError {
    ChainReadError(format!("chain RPC failed: {error}"))
}

/// Checks deployment transactions against the configured factory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReceiptChecker {
    settings: ChainSettings,
    provider: RootProvider,
    chain_checked: Arc<AtomicBool>,
}

impl ReceiptChecker {
    /// A checker for `settings`. Nothing is sent until the first [`check`](Self::check).
    pub fn new(settings: ChainSettings) -> Self {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another installer is fine: either provider serves.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let provider = RootProvider::new_http(settings.rpc_url.clone());
        Self {
            settings,
            provider,
            chain_checked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// What transaction `tx_hash` did for the step `expected`.
    ///
    /// # Errors
    /// [`ChainReadError`] when the RPC fails or serves another chain (retryable).
    pub async fn check(
        &self,
        tx_hash: B256,
        expected: &Expected,
    ) -> Result<Verdict, ChainReadError> {
        self.ensure_chain().await?;
        let Some(receipt) = self
            .provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(rpc)?
        else {
            return Ok(Verdict::Pending { confirmations: 0 });
        };
        if receipt.transaction_hash != tx_hash {
            return Err(ChainReadError(format!(
                "asked for the receipt of {tx_hash}, got {}",
                receipt.transaction_hash
            )));
        }
        let (Some(block_number), Some(block_hash)) = (receipt.block_number, receipt.block_hash)
        else {
            return Ok(Verdict::Pending { confirmations: 0 });
        };
        let head = self.provider.get_block_number().await.map_err(rpc)?;
        let confirmations = clones_vault::confirmations(head, block_number);
        if confirmations < self.settings.required_confirmations.max(1) {
            return Ok(Verdict::Pending { confirmations });
        }
        // A receipt from a block that has since been replaced does not count yet.
        let canonical = self
            .provider
            .get_block_by_number(block_number.into())
            .await
            .map_err(rpc)?
            .map(|block| block.header.hash);
        if canonical != Some(block_hash) {
            tracing::warn!(%tx_hash, block_number, "deployment transaction's block is no longer canonical");
            return Ok(Verdict::Pending { confirmations: 0 });
        }
        Ok(decide(
            &receipt,
            self.settings.factory,
            expected,
            confirmations,
        ))
    }

    async fn ensure_chain(&self) -> Result<(), ChainReadError> {
        if self.chain_checked.load(Ordering::Acquire) {
            return Ok(());
        }
        let actual = self.provider.get_chain_id().await.map_err(rpc)?;
        if actual != self.settings.chain_id {
            return Err(ChainReadError(format!(
                "the RPC serves chain {actual}, expected {}",
                self.settings.chain_id
            )));
        }
        self.chain_checked.store(true, Ordering::Release);
        Ok(())
    }
}

/// The verdict on a mined, confirmed receipt. Only logs emitted by `factory` count: any
/// contract can emit an event with the same topics.
fn decide(
    receipt: &TransactionReceipt,
    factory: Address,
    expected: &Expected,
    confirmations: u64,
) -> Verdict {
    let failed = |reason: String| Verdict::Failed { reason };
    if !receipt.status() {
        return failed(format!("transaction {} reverted", receipt.transaction_hash));
    }
    let from_factory = |topic: B256| {
        receipt
            .inner
            .logs()
            .iter()
            .filter(move |log| log.address() == factory && log.topic0() == Some(&topic))
    };
    match *expected {
        Expected::Token { clone_ref } => {
            let Some(log) = from_factory(CloneTokenCreated::SIGNATURE_HASH).next() else {
                return failed(format!(
                    "transaction {} emitted no CloneTokenCreated from the factory {factory:#x}",
                    receipt.transaction_hash
                ));
            };
            let Ok(event) = log.log_decode_validate::<CloneTokenCreated>() else {
                return failed("the factory's CloneTokenCreated event does not decode".into());
            };
            let event = event.inner.data;
            if event.cloneRef != clone_ref {
                return failed(format!(
                    "the token was created for another clone ({:#x})",
                    event.cloneRef
                ));
            }
            Verdict::Confirmed {
                contract: event.token,
                owner: event.owner,
                confirmations,
            }
        }
        Expected::Pool {
            clone_ref,
            token,
            deposit_address,
        } => {
            let Some(log) = from_factory(TrainingPoolCreated::SIGNATURE_HASH).next() else {
                return failed(format!(
                    "transaction {} emitted no TrainingPoolCreated from the factory {factory:#x}",
                    receipt.transaction_hash
                ));
            };
            let Ok(event) = log.log_decode_validate::<TrainingPoolCreated>() else {
                return failed("the factory's TrainingPoolCreated event does not decode".into());
            };
            let event = event.inner.data;
            if event.cloneRef != clone_ref {
                return failed(format!(
                    "the pool was created for another clone ({:#x})",
                    event.cloneRef
                ));
            }
            if event.token != token {
                return failed(format!(
                    "the pool is bound to token {:#x}, expected {token:#x}",
                    event.token
                ));
            }
            if event.depositAddress != deposit_address {
                return failed(format!(
                    "the pool forwards to {:#x}, expected the deposit address {deposit_address:#x}",
                    event.depositAddress
                ));
            }
            Verdict::Confirmed {
                contract: event.pool,
                owner: event.owner,
                confirmations,
            }
        }
    }
}
