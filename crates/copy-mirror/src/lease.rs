//! How mirror-worker replicas split the watched wallets (pure): each wallet belongs to the
//! live replica that ranks highest for it by rendezvous hashing, so every replica computes
//! the same owner without talking to the others, the wallets spread evenly, and a replica
//! that joins or leaves moves only the wallets it wins or held. The database's leases make
//! the split exclusive while replicas disagree (one replica has seen a newcomer, another has
//! not yet): a wallet is polled only by the replica holding its live lease.

use sha2::{Digest, Sha256};

/// The rank of `holder` for `wallet`: the first eight bytes of SHA-256(holder ":" wallet).
fn rank(holder: &str, wallet: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(holder.as_bytes())
        .chain_update(b":")
        .chain_update(wallet.as_bytes())
        .finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(head)
}

/// The live replica that owns `wallet` (ties, which need a hash collision, go to the
/// smaller name); `None` without replicas.
pub fn owner_of<'a>(wallet: &str, live: &'a [String]) -> Option<&'a str> {
    live.iter()
        .map(String::as_str)
        .max_by(|a, b| rank(a, wallet).cmp(&rank(b, wallet)).then(b.cmp(a)))
}

/// The wallets `me` should hold among `wallets`, given the live replicas (`me` among them).
pub fn mine(me: &str, wallets: &[String], live: &[String]) -> Vec<String> {
    wallets
        .iter()
        .filter(|wallet| owner_of(wallet, live) == Some(me))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallets(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("0x{i:040x}")).collect()
    }

    #[test]
    fn every_wallet_has_exactly_one_owner_and_the_split_is_even() {
        let live: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let all = wallets(3_000);
        let shares: Vec<Vec<String>> = live.iter().map(|me| mine(me, &all, &live)).collect();
        assert_eq!(shares.iter().map(Vec::len).sum::<usize>(), all.len());
        for share in &shares {
            assert!((850..=1_150).contains(&share.len()), "{}", share.len());
        }
    }

    #[test]
    fn a_replica_joining_moves_only_the_wallets_it_wins() {
        let all = wallets(1_000);
        let before: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let after: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        for wallet in &all {
            let (old, new) = (owner_of(wallet, &before), owner_of(wallet, &after));
            assert!(
                old == new || new == Some("c"),
                "{wallet} moved from {old:?} to {new:?}"
            );
        }
        assert!(owner_of("0x1", &[]).is_none());
    }
}
