//! What a payment is for. On chain the purpose is its ASCII name, left-aligned and zero-padded
//! in a `bytes32` (Solidity `bytes32("clone_creation")`).

use std::fmt;
use std::str::FromStr;

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};

use crate::VaultError;

/// What a payment is for. Serialized as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The deposit that creates a trading clone.
    CloneCreation,
    /// Raising a clone's capacity.
    CapacityUpgrade,
    /// The fee for entering an audition.
    AuditionFee,
    /// A creator plan (Pro or Creator), which lowers the platform's fee on royalties.
    CreatorPlan,
}

impl Purpose {
    /// Every purpose, in declaration order.
    pub const ALL: [Purpose; 4] = [
        Purpose::CloneCreation,
        Purpose::CapacityUpgrade,
        Purpose::AuditionFee,
        Purpose::CreatorPlan,
    ];

    /// The snake_case name, as stored, serialized and signed.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::CloneCreation => "clone_creation",
            Purpose::CapacityUpgrade => "capacity_upgrade",
            Purpose::AuditionFee => "audition_fee",
            Purpose::CreatorPlan => "creator_plan",
        }
    }

    /// The on-chain form: the name's ASCII bytes, left-aligned, zero-padded to 32 bytes.
    pub fn to_bytes32(self) -> B256 {
        let name = self.as_str().as_bytes();
        let mut bytes = [0u8; 32];
        bytes[..name.len()].copy_from_slice(name);
        B256::from(bytes)
    }

    /// The purpose whose on-chain form is exactly `value`, if any.
    pub fn from_bytes32(value: B256) -> Option<Purpose> {
        Purpose::ALL
            .into_iter()
            .find(|purpose| purpose.to_bytes32() == value)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = VaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == text)
            .ok_or_else(|| VaultError::UnknownPurpose(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::b256;

    #[test]
    fn names_round_trip_through_text_bytes32_and_serde() {
        for purpose in Purpose::ALL {
            assert_eq!(purpose.as_str().parse::<Purpose>().unwrap(), purpose);
            assert_eq!(Purpose::from_bytes32(purpose.to_bytes32()), Some(purpose));
            let json = serde_json::to_string(&purpose).unwrap();
            assert_eq!(json, format!("\"{}\"", purpose.as_str()));
            assert_eq!(serde_json::from_str::<Purpose>(&json).unwrap(), purpose);
        }
        assert!(matches!(
            "CloneCreation".parse::<Purpose>(),
            Err(VaultError::UnknownPurpose(_))
        ));
        assert_eq!(Purpose::from_bytes32(B256::ZERO), None);
    }

    #[test]
    fn bytes32_is_solidity_left_aligned_ascii() {
        // Solidity: bytes32("clone_creation").
        assert_eq!(
            Purpose::CloneCreation.to_bytes32(),
            b256!("0x636c6f6e655f6372656174696f6e000000000000000000000000000000000000")
        );
        // A trailing byte after the name is a different purpose, not a match.
        let mut bytes = Purpose::AuditionFee.to_bytes32();
        bytes[31] = 1;
        assert_eq!(Purpose::from_bytes32(bytes), None);
    }
}
