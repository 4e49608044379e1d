//! Replicas split the watched wallets: each polls only the wallets it wins by rendezvous and
//! leases; a newcomer gets its share once the holder gives it up, never while the holder's
//! lease is live; a replica that stops renewing loses its wallets to the others.

use std::collections::BTreeSet;

use chrono::Duration;

use crate::support::fixture;

fn wallets() -> Vec<String> {
    (0..60).map(|i| format!("0x{i:040x}")).collect()
}

#[tokio::test]
async fn replicas_split_the_wallets_exclusively_and_take_over_from_a_stopped_one() {
    let f = fixture().await;
    let all = wallets();
    let ttl = Duration::seconds(30);
    let lease = |holder: &'static str| {
        let (copy, all) = (f.copy.clone(), all.clone());
        async move {
            copy.lease_wallets(holder, &all, ttl)
                .await
                .unwrap()
                .into_iter()
                .collect::<BTreeSet<String>>()
        }
    };
    assert_eq!(lease("a").await.len(), 60, "alone, a polls everything");
    // b joins: a's leases are live, so b takes nothing yet.
    assert!(lease("b").await.is_empty());
    f.clock.advance(Duration::seconds(10));
    let a = lease("a").await;
    let b = lease("b").await;
    assert!(a.is_disjoint(&b), "no wallet is polled by two replicas");
    assert_eq!(a.len() + b.len(), 60, "every wallet has a poller");
    assert!((15..=45).contains(&b.len()), "b got its share: {}", b.len());
    // a stops renewing; once its presence and leases expire, b takes everything.
    f.clock.advance(Duration::seconds(31));
    assert_eq!(lease("b").await.len(), 60);
}
