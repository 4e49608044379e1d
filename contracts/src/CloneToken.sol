// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title CloneToken
/// @notice A clone's ERC-20 token: a fixed supply, minted once to the clone's owner when the
/// factory creates it; there is no mint, burn or admin function afterwards.
/// @dev Plain ERC-20 (EIP-20) with 18 decimals. `transferFrom` does not decrease an allowance of
/// `type(uint256).max` (an unlimited approval). Transfers to the zero address are refused.
contract CloneToken {
    /// @notice The token's name.
    string public name;
    /// @notice The token's symbol.
    string public symbol;
    /// @notice The token's decimals.
    uint8 public constant decimals = 18;
    /// @notice The fixed supply, all of it minted to the owner at creation.
    uint256 public immutable totalSupply;

    /// @notice The balance of each account.
    mapping(address account => uint256 amount) public balanceOf;
    /// @notice What a spender may still move from an owner's balance.
    mapping(address account => mapping(address spender => uint256 amount)) public allowance;

    /// @notice Tokens moved (from the zero address for the mint).
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice An owner set a spender's allowance.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice The sender's balance is too small.
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @notice The spender's allowance is too small.
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    /// @notice An address argument that must be set is zero.
    error ZeroAddress();

    /// @param tokenName The token's name.
    /// @param tokenSymbol The token's symbol.
    /// @param supply The fixed supply in base units.
    /// @param owner The account the whole supply is minted to.
    constructor(string memory tokenName, string memory tokenSymbol, uint256 supply, address owner) {
        if (owner == address(0)) {
            revert ZeroAddress();
        }
        name = tokenName;
        symbol = tokenSymbol;
        totalSupply = supply;
        balanceOf[owner] = supply;
        emit Transfer(address(0), owner, supply);
    }

    /// @notice Moves `amount` from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool) {
        move(msg.sender, to, amount);
        return true;
    }

    /// @notice Lets `spender` move up to `amount` of the caller's tokens.
    function approve(address spender, uint256 amount) external returns (bool) {
        if (spender == address(0)) {
            revert ZeroAddress();
        }
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice Moves `amount` from `from` to `to` within the caller's allowance.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < amount) {
                revert InsufficientAllowance(msg.sender, allowed, amount);
            }
            allowance[from][msg.sender] = allowed - amount;
        }
        move(from, to, amount);
        return true;
    }

    function move(address from, address to, uint256 amount) private {
        if (to == address(0)) {
            revert ZeroAddress();
        }
        uint256 balance = balanceOf[from];
        if (balance < amount) {
            revert InsufficientBalance(from, balance, amount);
        }
        unchecked {
            // Cannot underflow (checked above) or overflow (the sum of balances is the supply).
            balanceOf[from] = balance - amount;
            balanceOf[to] += amount;
        }
        emit Transfer(from, to, amount);
    }
}
