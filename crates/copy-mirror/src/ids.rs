//! The two identities the mirror's at-most-once rests on, both frozen:
//!
//! - the target id, the UUIDv5 of the lower-cased target wallet in [`TARGET_NAMESPACE`]: the
//!   same wallet has the same id for every tenant and every row, unlike the rows' own keys;
//! - the idempotency key, `keccak256(target_id ":" fill_id)`: unique in the fills ledger and
//!   sent to the venue as the client order id, so two sightings of one fill place once.

use sha3::{Digest, Keccak256};
use uuid::Uuid;

/// The UUIDv5 namespace of target wallets (a fixed random UUID; never change it).
pub const TARGET_NAMESPACE: Uuid = Uuid::from_u128(0x8f3b_1c52_6d0e_4a7b_9c11_2f64_5e8d_a031);

/// The stable id of a target wallet.
pub fn target_id(wallet: &str) -> Uuid {
    Uuid::new_v5(&TARGET_NAMESPACE, wallet.to_ascii_lowercase().as_bytes())
}

/// `keccak256(target_id ":" fill_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey([u8; 32]);

impl IdempotencyKey {
    /// The key of `fill_id` seen on the target `target_id`.
    pub fn of(target_id: Uuid, fill_id: &str) -> Self {
        let mut hasher = Keccak256::new();
        hasher.update(target_id.to_string().as_bytes());
        hasher.update(b":");
        hasher.update(fill_id.as_bytes());
        Self(hasher.finalize().into())
    }

    /// `0x` + 64 lower-case hex digits: the ledger column and the client order id.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_id_ignores_the_wallets_case() {
        let lower = target_id("0x56687bf447db6ffa42ffe2204a05edaa20f55839");
        assert_eq!(
            lower,
            target_id("0x56687BF447DB6FFA42FFE2204A05EDAA20F55839")
        );
        assert_eq!(lower.get_version_num(), 5);
    }

    #[test]
    fn the_key_is_keccak256_of_target_colon_fill() {
        // keccak256("") is the well-known c5d246…a470; the key hashes the joined text.
        let empty: [u8; 32] = Keccak256::digest(b"").into();
        assert_eq!(
            hex::encode(empty),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        let target = Uuid::nil();
        let key = IdempotencyKey::of(target, "data-api:0x1:2:BUY:3");
        let expected: [u8; 32] =
            Keccak256::digest(b"00000000-0000-0000-0000-000000000000:data-api:0x1:2:BUY:3").into();
        assert_eq!(key.to_hex(), format!("0x{}", hex::encode(expected)));
        assert_ne!(key, IdempotencyKey::of(target, "data-api:0x1:2:SELL:3"));
    }
}
