//! Deploying a vault and a token per test, signing quotes and sending transactions.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolInterface, SolValue};
use clones_test_chain::{FundedAccount, TestChain};
use clones_vault::contract::SignedVault::{self, SignedVaultErrors};
use clones_vault::{
    DepositStatus, DepositVerifier, Purpose, Quote, QuoteSigner, VaultConfig, VaultDomain,
};

alloy::sol! {
    /// The ERC-20 functions the tests call on `TestToken`.
    interface TestToken {
        function mint(address to, uint256 amount) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address account) external view returns (uint256);
        function decimals() external view returns (uint8);
    }
}

/// Gas for transactions sent without estimation, so that reverting ones are still mined.
const MANUAL_GAS: u64 = 500_000;

/// One test's vault, token, quote signer and chain.
pub struct Env {
    pub chain: TestChain,
    pub owner: FundedAccount,
    pub signer: QuoteSigner,
    pub vault: Address,
    pub token: Address,
}

impl Env {
    /// Deploys a `TestToken` and a `SignedVault` (owned by the deployer) with a random signer.
    pub async fn new() -> Self {
        let chain = TestChain::connect()
            .await
            .expect("is `scripts/chain start` running?");
        let owner = chain.funded_account().await.unwrap();
        let signer = QuoteSigner::random();
        let token = owner.deploy("TestToken", &[]).await.unwrap();
        let vault = deploy_vault(&owner, signer.address()).await;
        Self {
            chain,
            owner,
            signer,
            vault,
            token,
        }
    }

    pub fn domain(&self) -> VaultDomain {
        VaultDomain {
            chain_id: clones_test_chain::CHAIN_ID,
            vault: self.vault,
        }
    }

    pub fn reader(&self) -> RootProvider {
        RootProvider::new_http(self.chain.url().clone())
    }

    pub async fn account(&self) -> FundedAccount {
        self.chain.funded_account().await.unwrap()
    }

    pub fn verifier(&self, required_confirmations: u64) -> DepositVerifier {
        DepositVerifier::new(VaultConfig {
            rpc_url: self.chain.url().clone(),
            chain_id: clones_test_chain::CHAIN_ID,
            vault: self.vault,
            required_confirmations,
        })
    }

    /// A quote with a random nonce that expires in an hour of chain time.
    pub async fn quote(&self, payer: Address, token: Address, amount: u64) -> Quote {
        Quote {
            payer,
            purpose: Purpose::CloneCreation,
            token,
            amount: U256::from(amount),
            nonce: U256::from_be_bytes(random_b256().0),
            deadline: self.chain_time().await + 3600,
        }
    }

    pub fn sign(&self, quote: &Quote) -> Bytes {
        self.signer
            .sign(quote, &self.domain())
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The latest block's timestamp.
    pub async fn chain_time(&self) -> u64 {
        self.reader()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp
    }

    /// The `deposit` transaction for `quote`, sending `value` of the native coin.
    pub fn deposit_request(
        &self,
        quote: &Quote,
        signature: Bytes,
        value: U256,
    ) -> TransactionRequest {
        call_request(
            self.vault,
            &SignedVault::depositCall {
                quote: quote.to_sol(),
                signature,
            },
        )
        .value(value)
    }

    /// Pays `quote` with the signer's signature and the right native value; must succeed.
    pub async fn pay(&self, payer: &FundedAccount, quote: &Quote) -> TransactionReceipt {
        let value = if quote.is_native() {
            quote.amount
        } else {
            U256::ZERO
        };
        let request = self.deposit_request(quote, self.sign(quote), value);
        let receipt = send(payer, request).await;
        assert!(receipt.status(), "deposit reverted: {receipt:?}");
        receipt
    }

    /// Mints `amount` test tokens to `to` and has `to` approve the vault for `allowance`.
    pub async fn fund_tokens(
        &self,
        token: Address,
        to: &FundedAccount,
        amount: u64,
        allowance: u64,
    ) {
        let mint = TestToken::mintCall {
            to: to.address(),
            amount: U256::from(amount),
        };
        assert!(send(&self.owner, call_request(token, &mint)).await.status());
        if allowance > 0 {
            let approve = TestToken::approveCall {
                spender: self.vault,
                amount: U256::from(allowance),
            };
            assert!(send(to, call_request(token, &approve)).await.status());
        }
    }

    pub async fn token_balance(&self, token: Address, account: Address) -> U256 {
        let call = TestToken::balanceOfCall { account };
        let output = self
            .reader()
            .call(call_request(token, &call))
            .await
            .unwrap();
        TestToken::balanceOfCall::abi_decode_returns(&output).unwrap()
    }

    /// Asserts that `request` from `from` reverts with `expected`: first as a call, which
    /// returns the custom error, then as a mined transaction with a failed status. Returns the
    /// reverted transaction's hash.
    pub async fn assert_reverts(
        &self,
        from: &FundedAccount,
        request: TransactionRequest,
        expected: SignedVaultErrors,
    ) -> B256 {
        let call = request.clone().from(from.address());
        match self.reader().call(call).await {
            Ok(output) => panic!("expected {expected:?}, the call returned {output}"),
            Err(error) => {
                let payload = error
                    .as_error_resp()
                    .unwrap_or_else(|| panic!("expected a revert, got {error}"));
                let data = payload
                    .as_revert_data()
                    .unwrap_or_else(|| panic!("no revert data in {payload:?}"));
                let decoded = SignedVaultErrors::abi_decode(&data)
                    .unwrap_or_else(|_| panic!("unknown revert data {data}"));
                assert_eq!(decoded, expected);
            }
        }
        let receipt = send(from, request.gas_limit(MANUAL_GAS)).await;
        assert!(!receipt.status(), "the transaction did not revert");
        receipt.transaction_hash
    }

    /// Mines `blocks` empty blocks.
    pub async fn mine(&self, blocks: u64) {
        self.chain.mine(blocks).await.unwrap();
    }
}

/// Deploys a `SignedVault` owned by `owner` that accepts quotes signed by `signer`.
pub async fn deploy_vault(owner: &FundedAccount, signer: Address) -> Address {
    owner
        .deploy(
            "SignedVault",
            &(signer, owner.address()).abi_encode_params(),
        )
        .await
        .unwrap()
}

pub fn call_request<C: SolCall>(to: Address, call: &C) -> TransactionRequest {
    TransactionRequest::default()
        .to(to)
        .input(call.abi_encode().into())
}

/// Sends `request` from `from` and waits for its receipt, also when it reverts.
pub async fn send(from: &FundedAccount, request: TransactionRequest) -> TransactionReceipt {
    from.send(request).await.unwrap()
}

/// The `Confirmed` deposit, or a panic naming what came back instead.
pub fn confirmed(status: DepositStatus) -> clones_vault::VerifiedDeposit {
    match status {
        DepositStatus::Confirmed(deposit) => deposit,
        other => panic!("expected a confirmed deposit, got {other:?}"),
    }
}

/// 32 random bytes (from a fresh key, so no extra random-number crate is needed).
pub fn random_b256() -> B256 {
    alloy::primitives::keccak256(alloy::signers::local::PrivateKeySigner::random().to_bytes())
}
