// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title SignedVault
/// @notice Accepts payments that the platform has priced in advance. The platform signs an
/// EIP-712 `Quote` (who pays, for what, in which token, how much, until when) with its quote
/// key; the payer submits the quote and the signature together with the funds. Each quote nonce
/// can be paid once. Every accepted payment emits `Deposited`, which the platform's backend
/// reads from the transaction receipt to credit the payment.
/// @dev Plain transfers of the native coin are refused (there is no `receive` or `fallback`),
/// so funds only arrive through `deposit`.
contract SignedVault {
    /// @notice A priced payment, signed by the quote signer.
    /// @param payer The only account allowed to pay this quote (`msg.sender` of `deposit`).
    /// @param purpose The ASCII purpose name, left-aligned and zero-padded
    /// (`bytes32("clone_creation")`); the platform decides the values.
    /// @param token The ERC-20 token to pay in, or `address(0)` for the native coin.
    /// @param amount The exact amount in the token's base units (wei for the native coin).
    /// @param nonce A platform-chosen number that identifies the quote; usable once.
    /// @param deadline The last block timestamp (unix seconds) at which the quote can be paid.
    struct Quote {
        address payer;
        bytes32 purpose;
        address token;
        uint256 amount;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice The EIP-712 type hash of `Quote`.
    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(address payer,bytes32 purpose,address token,uint256 amount,uint256 nonce,uint256 deadline)"
    );

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("SignedVault");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @dev Half the secp256k1 group order: signatures with a larger `s` are the malleable twin
    /// of a valid one and are refused (EIP-2).
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice The account allowed to change the quote signer and to withdraw funds.
    address public immutable owner;

    /// @notice The address whose EIP-712 signature makes a quote payable.
    address public quoteSigner;

    /// @notice Whether a quote nonce has been paid.
    mapping(uint256 nonce => bool used) public nonceUsed;

    uint256 private immutable cachedChainId;
    bytes32 private immutable cachedDomainSeparator;

    /// @notice A quote was paid. `resolver` is this vault, so a reader can tell the emitter from
    /// the event alone; verifiers must still check the log's address.
    event Deposited(
        address indexed resolver,
        uint256 indexed nonce,
        address indexed payer,
        bytes32 purpose,
        address token,
        uint256 amount
    );

    /// @notice The owner replaced the quote signer. Quotes signed by the previous key stop being
    /// payable at once.
    event QuoteSignerChanged(address indexed previousSigner, address indexed newSigner);

    /// @notice The owner moved funds out of the vault.
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    /// @notice The signature is not 65 bytes, is malleable, or was not made by the quote signer.
    error BadSignature();
    /// @notice The quote's deadline has passed.
    error QuoteExpired(uint256 deadline, uint256 timestamp);
    /// @notice The caller is not the quote's payer.
    error WrongPayer(address payer, address caller);
    /// @notice The quote's nonce has already been paid.
    error NonceUsed(uint256 nonce);
    /// @notice The quote's amount is zero.
    error ZeroAmount();
    /// @notice The native coin sent does not match the quote: exactly `amount` for a native
    /// quote, nothing for a token quote.
    error WrongAmount(uint256 expected, uint256 sent);
    /// @notice A token or native transfer failed, returned `false`, or moved a different amount.
    error TransferFailed();
    /// @notice The caller is not the owner.
    error NotOwner();
    /// @notice An address argument that must be set is zero.
    error ZeroAddress();

    /// @param initialQuoteSigner The address whose signatures make quotes payable.
    /// @param vaultOwner The account that may change the signer and withdraw funds.
    constructor(address initialQuoteSigner, address vaultOwner) {
        if (initialQuoteSigner == address(0) || vaultOwner == address(0)) {
            revert ZeroAddress();
        }
        quoteSigner = initialQuoteSigner;
        owner = vaultOwner;
        cachedChainId = block.chainid;
        cachedDomainSeparator = buildDomainSeparator();
        emit QuoteSignerChanged(address(0), initialQuoteSigner);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) {
            revert NotOwner();
        }
        _;
    }

    /// @notice Pays `quote` with the signature the platform issued for it.
    /// @dev For the native coin send exactly `quote.amount`; for a token send no native coin and
    /// approve the vault for `quote.amount` first.
    function deposit(Quote calldata quote, bytes calldata signature) external payable {
        if (quote.amount == 0) {
            revert ZeroAmount();
        }
        if (block.timestamp > quote.deadline) {
            revert QuoteExpired(quote.deadline, block.timestamp);
        }
        if (msg.sender != quote.payer) {
            revert WrongPayer(quote.payer, msg.sender);
        }
        if (nonceUsed[quote.nonce]) {
            revert NonceUsed(quote.nonce);
        }
        if (recover(quoteDigest(quote), signature) != quoteSigner) {
            revert BadSignature();
        }
        // Mark the nonce before any external call, so a re-entering token cannot pay it twice.
        nonceUsed[quote.nonce] = true;

        if (quote.token == address(0)) {
            if (msg.value != quote.amount) {
                revert WrongAmount(quote.amount, msg.value);
            }
        } else {
            if (msg.value != 0) {
                revert WrongAmount(0, msg.value);
            }
            pullToken(quote.token, quote.payer, quote.amount);
        }

        emit Deposited(address(this), quote.nonce, quote.payer, quote.purpose, quote.token, quote.amount);
    }

    /// @notice Replaces the quote signer.
    function setQuoteSigner(address newSigner) external onlyOwner {
        if (newSigner == address(0)) {
            revert ZeroAddress();
        }
        address previous = quoteSigner;
        quoteSigner = newSigner;
        emit QuoteSignerChanged(previous, newSigner);
    }

    /// @notice Sends `amount` of `token` (`address(0)` for the native coin) to `to`.
    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        if (to == address(0)) {
            revert ZeroAddress();
        }
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) {
                revert TransferFailed();
            }
        } else {
            callToken(token, abi.encodeWithSignature("transfer(address,uint256)", to, amount));
        }
        emit Withdrawn(token, to, amount);
    }

    /// @notice The EIP-712 domain separator for this chain and vault.
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        if (block.chainid == cachedChainId) {
            return cachedDomainSeparator;
        }
        return buildDomainSeparator();
    }

    /// @notice The EIP-712 digest the quote signer signs for `quote`.
    function quoteDigest(Quote calldata quote) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                QUOTE_TYPEHASH, quote.payer, quote.purpose, quote.token, quote.amount, quote.nonce, quote.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
    }

    function buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev Recovers the signer of `digest` from a 65-byte `r || s || v` signature, refusing
    /// anything that is not a canonical signature (wrong length, high `s`, `v` other than 27 or
    /// 28, or no recoverable address).
    function recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) {
            revert BadSignature();
        }
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) {
            revert BadSignature();
        }
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) {
            revert BadSignature();
        }
        return signer;
    }

    /// @dev Moves `amount` of `token` from `from` to this vault and checks that exactly that
    /// much arrived (tokens that take a fee on transfer are refused).
    function pullToken(address token, address from, uint256 amount) private {
        uint256 before = tokenBalance(token);
        callToken(
            token, abi.encodeWithSignature("transferFrom(address,address,uint256)", from, address(this), amount)
        );
        uint256 afterwards = tokenBalance(token);
        if (afterwards < before || afterwards - before != amount) {
            revert TransferFailed();
        }
    }

    /// @dev Calls a token and accepts success only when the call did not revert and returned
    /// either nothing or an ABI-encoded `true` (some tokens return no value at all). An address
    /// without code is refused: calling it would "succeed" with no return data.
    function callToken(address token, bytes memory data) private {
        if (token.code.length == 0) {
            revert TransferFailed();
        }
        (bool ok, bytes memory returned) = token.call(data);
        if (!ok || (returned.length != 0 && (returned.length != 32 || abi.decode(returned, (uint256)) != 1))) {
            revert TransferFailed();
        }
    }

    /// @dev This vault's balance of `token`; a token without code or without `balanceOf` is refused.
    function tokenBalance(address token) private view returns (uint256) {
        if (token.code.length == 0) {
            revert TransferFailed();
        }
        (bool ok, bytes memory returned) =
            token.staticcall(abi.encodeWithSignature("balanceOf(address)", address(this)));
        if (!ok || returned.length != 32) {
            revert TransferFailed();
        }
        return abi.decode(returned, (uint256));
    }
}
