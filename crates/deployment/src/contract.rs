//! Solidity bindings for `contracts/src/CloneTokenFactory.sol` and `TrainingPool.sol`, and
//! [`clone_ref`], the one mapping from a clone id to the contracts' `cloneRef`.

use alloy::primitives::B256;
use uuid::Uuid;

alloy::sol! {
    /// The factory's events and functions.
    #[derive(Debug, PartialEq, Eq)]
    interface CloneTokenFactory {
        /// `owner` created `token` for the clone `cloneRef`.
        event CloneTokenCreated(bytes32 indexed cloneRef, address indexed owner, address token);
        /// `owner` created `pool` for the clone, bound to `token`, forwarding to `depositAddress`.
        event TrainingPoolCreated(
            bytes32 indexed cloneRef,
            address indexed owner,
            address pool,
            address token,
            address depositAddress
        );

        /// `cloneRef` is zero.
        error ZeroCloneRef();
        /// The token was not created by the factory for this clone and the caller.
        error NotOwnersToken(address token);

        /// Creates the clone's token, minting the fixed supply to the caller.
        function createToken(bytes32 cloneRef, string calldata name, string calldata symbol, uint256 supply)
            external returns (address token);
        /// Creates the clone's pool, bound to the caller's token of that clone.
        function createPool(bytes32 cloneRef, address token, address paymentToken, address depositAddress)
            external returns (address pool);
        /// The clone a token created here belongs to.
        function tokenCloneRef(address token) external view returns (bytes32);
        /// The owner a token created here was minted to.
        function tokenOwner(address token) external view returns (address);
    }

    /// A training pool's events and functions.
    #[derive(Debug, PartialEq, Eq)]
    interface TrainingPool {
        /// `depositor` paid `amount` of the payment token to the deposit address.
        event PoolDeposit(address indexed depositor, address indexed depositAddress, uint256 amount);

        /// Pays `amount` of the payment token from the caller to the deposit address.
        function deposit(uint256 amount) external;
        /// The clone.
        function cloneRef() external view returns (bytes32);
        /// The clone's token.
        function token() external view returns (address);
        /// The payment token.
        function paymentToken() external view returns (address);
        /// Where deposits go.
        function depositAddress() external view returns (address);
        /// The total deposited.
        function totalDeposited() external view returns (uint256);
    }
}

/// The contracts' `cloneRef` of a clone: its UUID's 16 bytes left-aligned in 32, the low 16
/// bytes zero (`bytes32(bytes16(uuid))` in Solidity).
pub fn clone_ref(clone_id: Uuid) -> B256 {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(clone_id.as_bytes());
    B256::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolEvent;

    #[test]
    fn clone_ref_is_the_uuid_left_aligned() {
        let id = Uuid::parse_str("0191c9d2-7b3e-7a10-8c4f-123456789abc").unwrap();
        assert_eq!(
            format!("{:#x}", clone_ref(id)),
            "0x0191c9d27b3e7a108c4f123456789abc00000000000000000000000000000000"
        );
    }

    #[test]
    fn event_signatures_match_the_contracts() {
        assert_eq!(
            CloneTokenFactory::CloneTokenCreated::SIGNATURE,
            "CloneTokenCreated(bytes32,address,address)"
        );
        assert_eq!(
            CloneTokenFactory::TrainingPoolCreated::SIGNATURE,
            "TrainingPoolCreated(bytes32,address,address,address,address)"
        );
    }
}
