//! Checking that a wallet signed a message: EIP-191 for externally owned accounts, and
//! ERC-1271 `isValidSignature` for contract wallets when a chain RPC is configured.

use alloy::primitives::{Address, Bytes, FixedBytes, Signature, eip191_hash_message};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;

use crate::AuthError;

alloy::sol! {
    /// ERC-1271: contract wallets answer whether a signature is valid for a hash.
    function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
}

/// The ERC-1271 success value (the function's selector).
pub const ERC1271_MAGIC_VALUE: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// Decodes a `0x`-prefixed hex signature.
///
/// # Errors
/// [`AuthError::MalformedSignature`] when the text is not hex or is empty.
pub fn decode_signature(text: &str) -> Result<Vec<u8>, AuthError> {
    let hex_digits = text
        .strip_prefix("0x")
        .ok_or_else(|| AuthError::MalformedSignature("signature must start with 0x".into()))?;
    let bytes = hex::decode(hex_digits)
        .map_err(|_| AuthError::MalformedSignature("signature is not hex".into()))?;
    if bytes.is_empty() || bytes.len() > 4096 {
        return Err(AuthError::MalformedSignature(
            "signature length is out of range".into(),
        ));
    }
    Ok(bytes)
}

/// Verifies that `address` signed `message` (EIP-191 personal-sign).
///
/// A 65-byte signature that recovers to `address` passes without any network call. Otherwise,
/// when `rpc_url` is given, the address is asked as an ERC-1271 contract wallet on that chain.
///
/// # Errors
/// [`AuthError::MalformedSignature`], [`AuthError::SignatureMismatch`], or
/// [`AuthError::ChainUnavailable`] when the RPC cannot be reached.
pub async fn verify_personal_signature(
    message: &str,
    address: Address,
    signature: &[u8],
    rpc_url: Option<&url::Url>,
) -> Result<(), AuthError> {
    if signature.len() == 65 {
        let recovered = Signature::try_from(signature)
            .ok()
            .and_then(|sig| sig.recover_address_from_msg(message.as_bytes()).ok());
        if recovered == Some(address) {
            return Ok(());
        }
    }
    match rpc_url {
        Some(url) => {
            if contract_wallet_accepts(url, address, message, signature).await? {
                Ok(())
            } else {
                Err(AuthError::SignatureMismatch)
            }
        }
        None if signature.len() != 65 => Err(AuthError::MalformedSignature(
            "expected 65 bytes (r, s, v)".into(),
        )),
        None => Err(AuthError::SignatureMismatch),
    }
}

async fn contract_wallet_accepts(
    rpc_url: &url::Url,
    address: Address,
    message: &str,
    signature: &[u8],
) -> Result<bool, AuthError> {
    let provider = ProviderBuilder::new().connect_http(rpc_url.clone());
    let call = isValidSignatureCall {
        hash: eip191_hash_message(message.as_bytes()),
        signature: Bytes::copy_from_slice(signature),
    };
    let request = TransactionRequest::default()
        .to(address)
        .input(call.abi_encode().into());
    match provider.call(request).await {
        // An account without code returns empty data; a reverting wallet means "not valid".
        Ok(output) => Ok(output.len() >= 4
            && FixedBytes::<4>::from_slice(&output[..4]) == FixedBytes(ERC1271_MAGIC_VALUE)),
        Err(alloy::transports::RpcError::ErrorResp(_)) => Ok(false),
        Err(error) => Err(AuthError::ChainUnavailable(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;

    #[test]
    fn erc1271_magic_value_is_the_selector() {
        assert_eq!(isValidSignatureCall::SELECTOR, ERC1271_MAGIC_VALUE);
    }

    #[tokio::test]
    async fn eoa_signatures_verify_and_others_do_not() {
        let signer = PrivateKeySigner::random();
        let signature = signer.sign_message_sync(b"hello").unwrap().as_bytes();
        verify_personal_signature("hello", signer.address(), &signature, None)
            .await
            .unwrap();
        let other = PrivateKeySigner::random().address();
        assert!(matches!(
            verify_personal_signature("hello", other, &signature, None).await,
            Err(AuthError::SignatureMismatch)
        ));
        assert!(matches!(
            verify_personal_signature("hello", signer.address(), &signature[..64], None).await,
            Err(AuthError::MalformedSignature(_))
        ));
    }

    #[test]
    fn signature_text_must_be_prefixed_hex() {
        assert!(decode_signature("abcd").is_err());
        assert!(decode_signature("0xzz").is_err());
        assert!(decode_signature("0x").is_err());
        assert_eq!(decode_signature("0x0a0b").unwrap(), vec![10, 11]);
    }
}
