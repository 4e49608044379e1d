//! What the owner's wallet signs: the unsigned factory call of a pending signature step. The
//! platform never signs these; it only confirms what the owner sent.

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use uuid::Uuid;

use crate::DeploymentError;
use crate::contract::{CloneTokenFactory, clone_ref};
use crate::machine::{DeploymentContext, DeploymentStatus};
use crate::models::DeploymentRow;
use crate::service::address;
use crate::settings::ChainSettings;
use crate::views::{DeploymentStep, TransactionRequestView};

/// The token's name and symbol for a clone: derived from its id, never from its private
/// display name (everything on chain is public). `Clone 0191c9d2` / `CL0191C9`.
pub fn token_name_and_symbol(clone_id: Uuid) -> (String, String) {
    let hex = clone_id.simple().to_string();
    let short = hex.get(..8).unwrap_or(&hex);
    let symbol = hex.get(..6).unwrap_or(&hex).to_ascii_uppercase();
    (format!("Clone {short}"), format!("CL{symbol}"))
}

/// The step a pending signature status waits for.
pub fn step_of(status: DeploymentStatus) -> Option<DeploymentStep> {
    match status {
        DeploymentStatus::PendingTokenSignature => Some(DeploymentStep::Token),
        DeploymentStatus::PendingPoolSignature => Some(DeploymentStep::Pool),
        _ => None,
    }
}

/// The transaction to sign in `status`, or `None` outside a pending signature step.
///
/// # Errors
/// A corrupt-row error when the pool step lacks its token or deposit address.
pub fn request(
    chain: &ChainSettings,
    clone_id: Uuid,
    status: DeploymentStatus,
    context: &DeploymentContext,
    row: &DeploymentRow,
) -> Result<Option<TransactionRequestView>, DeploymentError> {
    let Some(step) = step_of(status) else {
        return Ok(None);
    };
    let data = match step {
        DeploymentStep::Token => {
            let (name, symbol) = token_name_and_symbol(clone_id);
            CloneTokenFactory::createTokenCall {
                cloneRef: clone_ref(clone_id),
                name,
                symbol,
                supply: chain.token_supply,
            }
            .abi_encode()
        }
        DeploymentStep::Pool => {
            let token = context
                .token_address
                .ok_or_else(|| DeploymentError::Corrupt("pool step without a token".into()))?;
            let deposit: Address = address(row.deposit_address.as_deref(), "deposit_address")?
                .ok_or_else(|| {
                    DeploymentError::Corrupt("pool step without a deposit address".into())
                })?;
            CloneTokenFactory::createPoolCall {
                cloneRef: clone_ref(clone_id),
                token,
                paymentToken: chain.payment_token,
                depositAddress: deposit,
            }
            .abi_encode()
        }
    };
    Ok(Some(TransactionRequestView {
        step,
        to: chain.factory.to_checksum(None),
        data: format!("0x{}", alloy::hex::encode(data)),
        value: "0".into(),
        chain_id: chain.chain_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_clone_id() {
        let id = Uuid::parse_str("0191c9d2-7b3e-7a10-8c4f-123456789abc").unwrap();
        assert_eq!(
            token_name_and_symbol(id),
            ("Clone 0191c9d2".to_string(), "CL0191C9".to_string())
        );
    }
}
