//! Deciding whether a transaction paid a quote.
//!
//! [`DepositVerifier::check`] reads the transaction's receipt from the chain RPC and accepts a
//! deposit only when all of this holds: the RPC serves the configured chain; the transaction
//! succeeded; it carries a `Deposited` log emitted by the configured vault address (topics
//! alone are forgeable: any contract can emit the same event); that log pays exactly the
//! expected quote; the block has the required confirmations; and the block at that height is
//! still the one the receipt names (no reorg). Anything not yet settled is
//! [`DepositStatus::Pending`]; the caller checks again later.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent;
use serde::{Deserialize, Serialize};

use crate::contract::Deposited;
use crate::{Purpose, Quote, VaultDomain, VaultError};

/// Where the vault lives and how cautious to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultConfig {
    /// The chain's JSON-RPC endpoint.
    pub rpc_url: url::Url,
    /// The chain id the RPC must report.
    pub chain_id: u64,
    /// The `SignedVault` deployment whose logs count.
    pub vault: Address,
    /// How many blocks, counting the deposit's own, must exist before a deposit is confirmed.
    /// Zero is treated as one: a deposit counts only once mined.
    pub required_confirmations: u64,
}

impl VaultConfig {
    /// The EIP-712 domain of the configured vault, for signing quotes.
    pub fn domain(&self) -> VaultDomain {
        VaultDomain {
            chain_id: self.chain_id,
            vault: self.vault,
        }
    }
}

/// A deposit that paid the expected quote and is final enough to credit.
///
/// `(chain id, tx_hash, log_index)` identifies it uniquely; credit each at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDeposit {
    /// The deposit transaction.
    pub tx_hash: B256,
    /// The block that includes it.
    pub block_number: u64,
    /// That block's hash, checked to be canonical.
    pub block_hash: B256,
    /// The `Deposited` log's index in the block.
    pub log_index: u64,
    /// The vault that accepted the payment (the configured one).
    pub resolver: Address,
    /// The paid quote's nonce.
    #[serde(with = "crate::quote::decimal")]
    pub nonce: U256,
    /// Who paid.
    pub payer: Address,
    /// What the payment was for.
    pub purpose: Purpose,
    /// The token paid in, or [`Address::ZERO`] for the native coin.
    pub token: Address,
    /// The amount paid, in base units.
    #[serde(with = "crate::quote::decimal")]
    pub amount: U256,
}

/// The answer to "did this transaction pay this quote?" when it is not a definite no.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DepositStatus {
    /// Not settled yet: the transaction is unknown or unmined (`confirmations` 0), its block was
    /// reorganized away (0), or it has fewer than `required` confirmations. Check again later.
    Pending {
        /// Blocks that exist from the deposit's block to the head, inclusive.
        confirmations: u64,
        /// The confirmations needed.
        required: u64,
    },
    /// The deposit paid the quote and is final enough to credit.
    Confirmed(VerifiedDeposit),
}

/// Checks deposit transactions against quotes on one chain and vault.
///
/// Cheap to clone; clones share the connection and the chain-id check.
#[derive(Debug, Clone)]
pub struct DepositVerifier {
    config: VaultConfig,
    provider: RootProvider,
    chain_checked: Arc<AtomicBool>,
}

impl DepositVerifier {
    /// A verifier for `config`. Nothing is sent until the first [`check`](Self::check).
    ///
    /// HTTP clients need a process-wide TLS crypto provider; binaries install one at start-up.
    /// If none is installed yet, this installs the `ring` provider the workspace uses.
    pub fn new(config: VaultConfig) -> Self {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another installer is fine: either provider serves.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let provider = RootProvider::new_http(config.rpc_url.clone());
        Self {
            config,
            provider,
            chain_checked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// The EIP-712 domain of the configured vault.
    pub fn domain(&self) -> VaultDomain {
        self.config.domain()
    }

    /// Whether transaction `tx_hash` paid `expected` into the configured vault, and whether it
    /// is final enough to credit.
    ///
    /// # Errors
    /// - [`VaultError::ChainMismatch`] when the RPC serves another chain (checked once, then
    ///   remembered);
    /// - [`VaultError::Reverted`] when the transaction failed;
    /// - [`VaultError::NotAVaultDeposit`] when it has no `Deposited` log from the vault;
    /// - [`VaultError::QuoteMismatch`] when it paid something else;
    /// - [`VaultError::MalformedLog`] when a vault log with the event's topic does not decode;
    /// - [`VaultError::Rpc`] when the RPC fails (retryable).
    pub async fn check(
        &self,
        tx_hash: B256,
        expected: &Quote,
    ) -> Result<DepositStatus, VaultError> {
        self.ensure_chain().await?;
        let required = self.config.required_confirmations.max(1);
        let pending = |confirmations| DepositStatus::Pending {
            confirmations,
            required,
        };

        let receipt = self
            .provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(rpc)?;
        let Some(receipt) = receipt else {
            return Ok(pending(0));
        };
        if receipt.transaction_hash != tx_hash {
            return Err(VaultError::Rpc(format!(
                "asked for the receipt of {tx_hash}, got {}",
                receipt.transaction_hash
            )));
        }
        let Some(deposit) = find_deposit(&receipt, self.config.vault, expected)? else {
            return Ok(pending(0));
        };

        let head = self.provider.get_block_number().await.map_err(rpc)?;
        let confirmations = confirmations(head, deposit.block_number);
        if confirmations < required {
            return Ok(pending(confirmations));
        }

        // The receipt may come from a block that has since been replaced: only a deposit whose
        // block is still canonical at its height counts.
        let canonical = self
            .provider
            .get_block_by_number(deposit.block_number.into())
            .await
            .map_err(rpc)?
            .map(|block| block.header.hash);
        if canonical != Some(deposit.block_hash) {
            tracing::warn!(
                %tx_hash,
                block_number = deposit.block_number,
                receipt_block = %deposit.block_hash,
                canonical_block = ?canonical,
                "deposit block is no longer canonical; treating the deposit as pending",
            );
            return Ok(pending(0));
        }
        Ok(DepositStatus::Confirmed(deposit))
    }

    async fn ensure_chain(&self) -> Result<(), VaultError> {
        if self.chain_checked.load(Ordering::Acquire) {
            return Ok(());
        }
        let actual = self.provider.get_chain_id().await.map_err(rpc)?;
        if actual != self.config.chain_id {
            return Err(VaultError::ChainMismatch {
                expected: self.config.chain_id,
                actual,
            });
        }
        self.chain_checked.store(true, Ordering::Release);
        Ok(())
    }
}

fn rpc<E: std::fmt::Display>(error: E) -> VaultError {
    VaultError::Rpc(error.to_string())
}

/// The number of blocks from `block` to `head`, both included; zero when the head is behind
/// the block (a lagging RPC node).
pub fn confirmations(head: u64, block: u64) -> u64 {
    if head < block { 0 } else { head - block + 1 }
}

/// Parses a transaction hash: `0x` followed by exactly 64 hex digits.
///
/// # Errors
/// [`VaultError::InvalidTxHash`] for anything else.
pub fn parse_tx_hash(text: &str) -> Result<B256, VaultError> {
    let invalid = || VaultError::InvalidTxHash("expected 0x followed by 64 hex digits".into());
    let digits = text.strip_prefix("0x").ok_or_else(invalid)?;
    if digits.len() != 64 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    text.parse::<B256>().map_err(|_| invalid())
}

/// Finds the vault's `Deposited` log in a mined receipt and matches it against `expected`.
///
/// `Ok(None)` means "not settled": the receipt has no block yet, or its log was removed by a
/// reorg. Logs from any other address are ignored, whatever their topics.
fn find_deposit(
    receipt: &TransactionReceipt,
    vault: Address,
    expected: &Quote,
) -> Result<Option<VerifiedDeposit>, VaultError> {
    let (Some(block_number), Some(block_hash)) = (receipt.block_number, receipt.block_hash) else {
        return Ok(None);
    };
    if !receipt.status() {
        return Err(VaultError::Reverted(receipt.transaction_hash));
    }
    let mut candidates = Vec::new();
    for log in receipt.inner.logs() {
        if log.address() != vault || log.topic0() != Some(&Deposited::SIGNATURE_HASH) {
            continue;
        }
        let decoded = log
            .log_decode_validate::<Deposited>()
            .map_err(|error| VaultError::MalformedLog(error.to_string()))?;
        candidates.push(decoded);
    }
    // A contract payer may pay several quotes in one transaction: take the log for this quote's
    // nonce, or else the first one, which then reports what differs.
    let Some(log) = candidates
        .iter()
        .find(|log| log.inner.data.nonce == expected.nonce)
        .or_else(|| candidates.first())
    else {
        return Err(VaultError::NotAVaultDeposit);
    };
    if log.removed {
        return Ok(None);
    }
    let event = &log.inner.data;
    let mismatch = [
        ("resolver", event.resolver == vault),
        ("nonce", event.nonce == expected.nonce),
        ("payer", event.payer == expected.payer),
        ("purpose", event.purpose == expected.purpose.to_bytes32()),
        ("token", event.token == expected.token),
        ("amount", event.amount == expected.amount),
    ]
    .into_iter()
    .find(|(_, equal)| !equal);
    if let Some((field, _)) = mismatch {
        return Err(VaultError::QuoteMismatch { field });
    }
    let log_index = log
        .log_index
        .ok_or_else(|| VaultError::MalformedLog("mined log without a log index".into()))?;
    Ok(Some(VerifiedDeposit {
        tx_hash: receipt.transaction_hash,
        block_number,
        block_hash,
        log_index,
        resolver: event.resolver,
        nonce: event.nonce,
        payer: event.payer,
        purpose: expected.purpose,
        token: event.token,
        amount: event.amount,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{LogData, address, b256};
    use serde_json::json;

    const VAULT: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const PAYER: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    const TX: B256 = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
    const BLOCK: B256 = b256!("0x2222222222222222222222222222222222222222222222222222222222222222");

    fn quote() -> Quote {
        Quote {
            payer: PAYER,
            purpose: Purpose::CloneCreation,
            token: Address::ZERO,
            amount: U256::from(1_000u64),
            nonce: U256::from(42u64),
            deadline: 1_900_000_000,
        }
    }

    fn deposited_log(address: Address, event: &Deposited, removed: bool) -> serde_json::Value {
        let data: LogData = event.encode_log_data();
        json!({
            "address": address,
            "topics": data.topics(),
            "data": data.data,
            "blockNumber": "0x10",
            "blockHash": BLOCK,
            "transactionHash": TX,
            "transactionIndex": "0x0",
            "logIndex": "0x3",
            "removed": removed,
        })
    }

    fn receipt(status: bool, logs: Vec<serde_json::Value>) -> TransactionReceipt {
        serde_json::from_value(json!({
            "transactionHash": TX,
            "transactionIndex": "0x0",
            "blockHash": BLOCK,
            "blockNumber": "0x10",
            "from": PAYER,
            "to": VAULT,
            "contractAddress": null,
            "cumulativeGasUsed": "0x1",
            "gasUsed": "0x1",
            "effectiveGasPrice": "0x1",
            "logsBloom": format!("0x{}", "0".repeat(512)),
            "type": "0x2",
            "status": if status { "0x1" } else { "0x0" },
            "logs": logs,
        }))
        .unwrap()
    }

    fn event_for(quote: &Quote) -> Deposited {
        Deposited {
            resolver: VAULT,
            nonce: quote.nonce,
            payer: quote.payer,
            purpose: quote.purpose.to_bytes32(),
            token: quote.token,
            amount: quote.amount,
        }
    }

    #[test]
    fn a_matching_log_yields_the_deposit() {
        let receipt = receipt(
            true,
            vec![deposited_log(VAULT, &event_for(&quote()), false)],
        );
        let deposit = find_deposit(&receipt, VAULT, &quote()).unwrap().unwrap();
        assert_eq!(deposit.tx_hash, TX);
        assert_eq!((deposit.block_number, deposit.block_hash), (16, BLOCK));
        assert_eq!(deposit.log_index, 3);
        assert_eq!(deposit.nonce, U256::from(42u64));
        assert_eq!(deposit.purpose, Purpose::CloneCreation);
    }

    #[test]
    fn logs_from_other_addresses_do_not_count() {
        let forged = deposited_log(PAYER, &event_for(&quote()), false);
        let receipt = receipt(true, vec![forged]);
        assert_eq!(
            find_deposit(&receipt, VAULT, &quote()),
            Err(VaultError::NotAVaultDeposit)
        );
    }

    #[test]
    fn reverted_and_removed_receipts() {
        let log = deposited_log(VAULT, &event_for(&quote()), false);
        assert_eq!(
            find_deposit(&receipt(false, vec![log]), VAULT, &quote()),
            Err(VaultError::Reverted(TX))
        );
        let removed = deposited_log(VAULT, &event_for(&quote()), true);
        assert_eq!(
            find_deposit(&receipt(true, vec![removed]), VAULT, &quote()),
            Ok(None)
        );
    }

    #[test]
    fn the_first_differing_field_is_named() {
        let mut event = event_for(&quote());
        event.resolver = PAYER;
        event.amount = U256::from(1u64);
        let receipt = receipt(true, vec![deposited_log(VAULT, &event, false)]);
        assert_eq!(
            find_deposit(&receipt, VAULT, &quote()),
            Err(VaultError::QuoteMismatch { field: "resolver" })
        );
    }

    #[test]
    fn several_deposits_in_one_transaction_pick_the_quotes_nonce() {
        let mut other = quote();
        other.nonce = U256::from(7u64);
        let receipt = receipt(
            true,
            vec![
                deposited_log(VAULT, &event_for(&other), false),
                deposited_log(VAULT, &event_for(&quote()), false),
            ],
        );
        let deposit = find_deposit(&receipt, VAULT, &quote()).unwrap().unwrap();
        assert_eq!(deposit.nonce, quote().nonce);
        let mut unknown = quote();
        unknown.nonce = U256::from(8u64);
        assert_eq!(
            find_deposit(&receipt, VAULT, &unknown),
            Err(VaultError::QuoteMismatch { field: "nonce" })
        );
    }

    #[test]
    fn a_vault_log_with_the_topic_but_bad_data_is_malformed() {
        let mut log = deposited_log(VAULT, &event_for(&quote()), false);
        log["data"] = json!("0x1234");
        assert!(matches!(
            find_deposit(&receipt(true, vec![log]), VAULT, &quote()),
            Err(VaultError::MalformedLog(_))
        ));
    }

    #[test]
    fn confirmations_count_the_deposit_block() {
        assert_eq!(confirmations(10, 10), 1);
        assert_eq!(confirmations(12, 10), 3);
        assert_eq!(confirmations(9, 10), 0);
    }

    #[test]
    fn tx_hashes_are_strict() {
        let text = format!("0x{}", "ab".repeat(32));
        assert_eq!(parse_tx_hash(&text).unwrap(), B256::repeat_byte(0xab));
        assert_eq!(
            parse_tx_hash(&text.to_uppercase().replacen("0X", "0x", 1)).unwrap(),
            B256::repeat_byte(0xab)
        );
        for bad in [
            "ab".repeat(32),
            format!("0x{}", "ab".repeat(31)),
            format!("0x{}", "ab".repeat(33)),
            format!("0x{}zz", "ab".repeat(31)),
            String::new(),
        ] {
            assert!(
                matches!(parse_tx_hash(&bad), Err(VaultError::InvalidTxHash(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn statuses_serialize_with_a_tag() {
        let pending = DepositStatus::Pending {
            confirmations: 1,
            required: 3,
        };
        assert_eq!(
            serde_json::to_value(&pending).unwrap(),
            json!({"status": "pending", "confirmations": 1, "required": 3})
        );
    }
}
