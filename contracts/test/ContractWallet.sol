// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ContractWallet
/// @notice A minimal smart-contract wallet for tests: it accepts a signature (ERC-1271) when
/// the owner's key signed the hash. Real contract wallets (Safe and others) answer the same
/// question with their own rules.
contract ContractWallet {
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;

    address public immutable owner;

    constructor(address walletOwner) {
        owner = walletOwner;
    }

    /// @notice ERC-1271: returns the magic value when `signature` is the owner's signature of
    /// `hash` (65 bytes r, s, v), and 0xffffffff otherwise.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) {
            return 0xffffffff;
        }
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) {
            v += 27;
        }
        address signer = ecrecover(hash, v, r, s);
        if (signer != address(0) && signer == owner) {
            return MAGIC_VALUE;
        }
        return 0xffffffff;
    }
}
