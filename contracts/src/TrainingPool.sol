// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title TrainingPool
/// @notice A clone's training pool: accepts deposits of the payment token and forwards each one
/// straight to the pool's deposit address, an account whose key the platform holds (encrypted).
/// The pool itself never holds funds. Created by `CloneTokenFactory.createPool`, which binds it
/// to the clone (`cloneRef`), its owner, its token, the payment token and the deposit address.
/// @dev `cloneRef` is the clone's UUID as `bytes32`: its 16 bytes left-aligned, the low 16 bytes
/// zero. Plain transfers of the native coin are refused (no `receive` or `fallback`).
contract TrainingPool {
    /// @notice The factory that created this pool.
    address public immutable factory;
    /// @notice The clone: its UUID, left-aligned and zero-padded.
    bytes32 public immutable cloneRef;
    /// @notice The clone owner's account that created the pool.
    address public immutable owner;
    /// @notice The clone's token (created by the same factory for the same clone and owner).
    address public immutable token;
    /// @notice The ERC-20 token deposits are paid in.
    address public immutable paymentToken;
    /// @notice Where every deposit is forwarded.
    address public immutable depositAddress;

    /// @notice The total deposited through this pool, in the payment token's base units.
    uint256 public totalDeposited;
    /// @notice What each account deposited through this pool.
    mapping(address account => uint256 amount) public deposited;

    /// @notice `depositor` paid `amount` of the payment token to the deposit address.
    event PoolDeposit(address indexed depositor, address indexed depositAddress, uint256 amount);

    /// @notice The deposit amount is zero.
    error ZeroAmount();
    /// @notice The token transfer failed, returned `false`, or moved a different amount.
    error TransferFailed();
    /// @notice An address argument that must be set is zero.
    error ZeroAddress();

    /// @param poolCloneRef The clone (its UUID as left-aligned `bytes32`).
    /// @param poolOwner The clone owner's account.
    /// @param poolToken The clone's token.
    /// @param poolPaymentToken The ERC-20 deposits are paid in.
    /// @param poolDepositAddress Where deposits go.
    constructor(
        bytes32 poolCloneRef,
        address poolOwner,
        address poolToken,
        address poolPaymentToken,
        address poolDepositAddress
    ) {
        if (
            poolOwner == address(0) || poolToken == address(0) || poolPaymentToken == address(0)
                || poolDepositAddress == address(0)
        ) {
            revert ZeroAddress();
        }
        factory = msg.sender;
        cloneRef = poolCloneRef;
        owner = poolOwner;
        token = poolToken;
        paymentToken = poolPaymentToken;
        depositAddress = poolDepositAddress;
    }

    /// @notice Pays `amount` of the payment token from the caller to the deposit address.
    /// @dev Approve this pool for `amount` on the payment token first. Tokens that take a fee
    /// on transfer are refused: exactly `amount` must arrive.
    function deposit(uint256 amount) external {
        if (amount == 0) {
            revert ZeroAmount();
        }
        uint256 before = balanceAtDeposit();
        (bool ok, bytes memory returned) = paymentToken.call(
            abi.encodeWithSignature("transferFrom(address,address,uint256)", msg.sender, depositAddress, amount)
        );
        if (!ok || (returned.length != 0 && (returned.length != 32 || abi.decode(returned, (uint256)) != 1))) {
            revert TransferFailed();
        }
        uint256 afterwards = balanceAtDeposit();
        if (afterwards < before || afterwards - before != amount) {
            revert TransferFailed();
        }
        totalDeposited += amount;
        deposited[msg.sender] += amount;
        emit PoolDeposit(msg.sender, depositAddress, amount);
    }

    /// @dev The deposit address's payment-token balance; a token without code or without
    /// `balanceOf` is refused (calling an address without code would "succeed").
    function balanceAtDeposit() private view returns (uint256) {
        if (paymentToken.code.length == 0) {
            revert TransferFailed();
        }
        (bool ok, bytes memory returned) =
            paymentToken.staticcall(abi.encodeWithSignature("balanceOf(address)", depositAddress));
        if (!ok || returned.length != 32) {
            revert TransferFailed();
        }
        return abi.decode(returned, (uint256));
    }
}
