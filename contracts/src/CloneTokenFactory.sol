// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CloneToken} from "./CloneToken.sol";
import {TrainingPool} from "./TrainingPool.sol";

/// @title CloneTokenFactory
/// @notice Creates clones' tokens and training pools for their owners. The platform returns an
/// unsigned call of `createToken` or `createPool` to the clone's owner, who signs and sends it;
/// the platform then reads `CloneTokenCreated` or `TrainingPoolCreated` from the receipt, checks
/// that this factory emitted it for the expected clone and owner, and advances the clone's
/// deployment.
/// @dev `cloneRef` is the clone's UUID as `bytes32`: the UUID's 16 bytes left-aligned, the low
/// 16 bytes zero (`bytes32(bytes16(uuid))`). The factory keeps no per-clone uniqueness: the
/// platform records the first confirmed token and pool of a clone. It only remembers which
/// tokens it created, for whom and for which clone, so a pool can only be bound to its own
/// owner's token of the same clone.
contract CloneTokenFactory {
    /// @notice The clone a token created here belongs to (zero for any other address).
    mapping(address token => bytes32 cloneRef) public tokenCloneRef;
    /// @notice The owner a token created here was minted to (zero for any other address).
    mapping(address token => address owner) public tokenOwner;

    /// @notice `owner` created `token` for the clone `cloneRef`.
    event CloneTokenCreated(bytes32 indexed cloneRef, address indexed owner, address token);
    /// @notice `owner` created `pool` for the clone `cloneRef`, bound to its `token`, forwarding
    /// deposits to `depositAddress`.
    event TrainingPoolCreated(
        bytes32 indexed cloneRef, address indexed owner, address pool, address token, address depositAddress
    );

    /// @notice `cloneRef` is zero.
    error ZeroCloneRef();
    /// @notice The token was not created here for this clone and the caller.
    error NotOwnersToken(address token);

    /// @notice Creates the clone's token, minting the fixed `supply` to the caller.
    /// @param cloneRef The clone (its UUID as left-aligned `bytes32`).
    /// @param name The token's name.
    /// @param symbol The token's symbol.
    /// @param supply The fixed supply in base units (18 decimals).
    /// @return token The new token.
    function createToken(bytes32 cloneRef, string calldata name, string calldata symbol, uint256 supply)
        external
        returns (address token)
    {
        if (cloneRef == bytes32(0)) {
            revert ZeroCloneRef();
        }
        token = address(new CloneToken(name, symbol, supply, msg.sender));
        tokenCloneRef[token] = cloneRef;
        tokenOwner[token] = msg.sender;
        emit CloneTokenCreated(cloneRef, msg.sender, token);
    }

    /// @notice Creates the clone's training pool, bound to the caller's token of that clone.
    /// @param cloneRef The clone (its UUID as left-aligned `bytes32`).
    /// @param token The clone's token, created here by the caller for `cloneRef`.
    /// @param paymentToken The ERC-20 deposits are paid in.
    /// @param depositAddress Where deposits are forwarded.
    /// @return pool The new pool.
    function createPool(bytes32 cloneRef, address token, address paymentToken, address depositAddress)
        external
        returns (address pool)
    {
        if (cloneRef == bytes32(0)) {
            revert ZeroCloneRef();
        }
        if (tokenCloneRef[token] != cloneRef || tokenOwner[token] != msg.sender) {
            revert NotOwnersToken(token);
        }
        pool = address(new TrainingPool(cloneRef, msg.sender, token, paymentToken, depositAddress));
        emit TrainingPoolCreated(cloneRef, msg.sender, pool, token, depositAddress);
    }
}
