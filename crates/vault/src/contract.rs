//! Solidity bindings for `contracts/src/SignedVault.sol`: the EIP-712 `Quote` struct, the
//! events, the custom errors and the functions the platform and its tests call.
//!
//! The names mirror the contract exactly; the EIP-712 type string of [`Quote`] is derived from
//! this declaration, so it must stay field-for-field identical to the Solidity struct.

alloy::sol! {
    /// A priced payment as the contract sees it (`purpose` is the left-aligned ASCII name).
    #[derive(Debug, PartialEq, Eq)]
    struct Quote {
        address payer;
        bytes32 purpose;
        address token;
        uint256 amount;
        uint256 nonce;
        uint256 deadline;
    }

    /// Emitted once per paid quote; `resolver` is the vault that accepted it.
    #[derive(Debug, PartialEq, Eq)]
    event Deposited(
        address indexed resolver,
        uint256 indexed nonce,
        address indexed payer,
        bytes32 purpose,
        address token,
        uint256 amount
    );

    /// The owner replaced the quote signer.
    #[derive(Debug, PartialEq, Eq)]
    event QuoteSignerChanged(address indexed previousSigner, address indexed newSigner);

    /// The owner moved funds out of the vault.
    #[derive(Debug, PartialEq, Eq)]
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    /// The contract's functions and custom errors.
    #[derive(Debug, PartialEq, Eq)]
    interface SignedVault {
        /// The signature is not 65 bytes, is malleable, or was not made by the quote signer.
        error BadSignature();
        /// The quote's deadline has passed.
        error QuoteExpired(uint256 deadline, uint256 timestamp);
        /// The caller is not the quote's payer.
        error WrongPayer(address payer, address caller);
        /// The quote's nonce has already been paid.
        error NonceUsed(uint256 nonce);
        /// The quote's amount is zero.
        error ZeroAmount();
        /// The native coin sent does not match the quote.
        error WrongAmount(uint256 expected, uint256 sent);
        /// A token or native transfer failed, returned `false`, or moved a different amount.
        error TransferFailed();
        /// The caller is not the owner.
        error NotOwner();
        /// An address argument that must be set is zero.
        error ZeroAddress();

        /// Pays `quote`; send `quote.amount` of the native coin or approve the token first.
        function deposit(Quote calldata quote, bytes calldata signature) external payable;
        /// Replaces the quote signer (owner only).
        function setQuoteSigner(address newSigner) external;
        /// Sends funds out of the vault (owner only; `token` zero for the native coin).
        function withdraw(address token, address to, uint256 amount) external;
        /// Whether a quote nonce has been paid.
        function nonceUsed(uint256 nonce) external view returns (bool);
        /// The address whose signatures make quotes payable.
        function quoteSigner() external view returns (address);
        /// The account allowed to change the signer and withdraw.
        function owner() external view returns (address);
        /// The EIP-712 domain separator.
        function DOMAIN_SEPARATOR() external view returns (bytes32);
        /// The EIP-712 type hash of `Quote`.
        function QUOTE_TYPEHASH() external view returns (bytes32);
        /// The EIP-712 digest the quote signer signs for `quote`.
        function quoteDigest(Quote calldata quote) external view returns (bytes32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{b256, keccak256};
    use alloy::sol_types::{SolCall, SolEvent};

    #[test]
    fn event_topics_are_the_documented_ones() {
        assert_eq!(
            Deposited::SIGNATURE,
            "Deposited(address,uint256,address,bytes32,address,uint256)"
        );
        assert_eq!(
            Deposited::SIGNATURE_HASH,
            b256!("0x91ee9bcff777903db5c6635ea64b2c8b5e8ce1d938900f6e913d6c88f726d2a0")
        );
        assert_eq!(
            QuoteSignerChanged::SIGNATURE_HASH,
            keccak256("QuoteSignerChanged(address,address)")
        );
    }

    #[test]
    fn the_deploy_script_reads_the_signer_with_the_right_selector() {
        let script = include_str!("../../../scripts/deploy-contracts.js");
        let selector = alloy::hex::encode_prefixed(SignedVault::quoteSignerCall::SELECTOR);
        assert!(script.contains(&format!("'{selector}'")), "{selector}");
    }
}
