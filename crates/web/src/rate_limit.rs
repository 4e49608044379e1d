//! Rate limiting: a token bucket per key. The sign-in routes are limited per client address
//! (the scope middleware below); costly per-user routes (decision dry runs) per user id,
//! checked by their handler.
//!
//! Buckets live in this process's memory, so each API replica limits independently; the limit
//! is a brake on brute force and nonce flooding, not a global quota. The client is the TCP
//! peer, unless that peer is a configured trusted proxy (`TRUSTED_PROXIES`): then it is the
//! rightmost address of `Forwarded` (or `X-Forwarded-For`) that is not itself a trusted proxy,
//! so a client cannot pick its own bucket by sending these headers. An IPv6 client is counted
//! by its /64, the block one subscriber usually holds.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::ResponseError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::web;

use crate::{ApiError, AppState};

/// More tracked addresses than this triggers pruning of idle (full) buckets.
const PRUNE_ABOVE: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by client IP (the default) or any other key, such as a user id.
#[derive(Debug)]
pub struct RateLimiter<K = IpAddr> {
    capacity: f64,
    refill_per_sec: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// Allows bursts of `burst` requests and `per_minute` sustained requests per key.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            capacity: f64::from(burst.max(1)),
            refill_per_sec: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now`; on refusal returns how long until one is available.
    pub fn check(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            let (capacity, rate) = (self.capacity, self.refill_per_sec);
            buckets.retain(|_, bucket| {
                let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
                bucket.tokens + elapsed * rate < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.refill_per_sec).min(self.capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.refill_per_sec,
            ))
        }
    }
}

/// A block of addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a
/// block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in this block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?
            .to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max)
                .ok_or_else(|| format!("`{text}` has a prefix length outside 0-{max}"))?
        };
        Ok(Self { network, prefix })
    }
}

/// The bucket a request is counted against: its client address (see the module docs), with
/// IPv6 addresses cut to their /64.
pub fn client_key(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[Cidr]) -> IpAddr {
    let trusted = |ip: IpAddr| trusted_proxies.iter().any(|block| block.contains(ip));
    let mut client = peer;
    if trusted(peer) {
        // Walk back from the nearest hop; each trusted proxy vouches for the one before it.
        for hop in forwarded_hops(headers).into_iter().rev() {
            let Some(hop) = hop else { break };
            client = hop;
            if !trusted(hop) {
                break;
            }
        }
    }
    match client.to_canonical() {
        IpAddr::V6(ip) => IpAddr::V6(Ipv6Addr::from(u128::from(ip) & !u128::from(u64::MAX))),
        ip => ip,
    }
}

/// The client addresses proxies recorded, nearest last: the `for=` of each `Forwarded`
/// element, or else each `X-Forwarded-For` entry. `None` marks one that is not an address
/// (`unknown`, an obfuscated name, garbage).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .map(|value| value.to_str().unwrap_or("\u{0}"))
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .into_iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| parse_hop(value))
                        .flatten()
                })
            })
            .collect();
    }
    values("x-forwarded-for")
        .into_iter()
        .map(parse_hop)
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`, or
/// `"[2001:db8::1]:443"`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    text.parse().ok().or_else(|| {
        let (host, port) = text.split_once(':')?;
        port.parse::<u16>().ok()?;
        host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

/// Which limiter refused, as the `limiter` label of `http_rate_limited_total`.
pub(crate) const AUTH_LIMITER: &str = "auth";
/// The per-user limiter of decision dry runs and backtest previews.
pub(crate) const DRY_RUN_LIMITER: &str = "dry_run";

/// The 429 for a caller who must wait `wait`, rounded up to whole seconds for `Retry-After`;
/// counted under `limiter`.
pub(crate) fn refused(limiter: &'static str, wait: Duration) -> ApiError {
    crate::http_metrics::rate_limited(limiter);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::rate_limited(seconds.max(1))
}

/// Middleware for a scope: answers 429 with `Retry-After` when the caller's address is over
/// its budget.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = state
        && let Some(peer) = req.peer_addr()
        && let Err(wait) = state.auth_rate_limiter.check(
            client_key(peer.ip(), req.headers(), &state.trusted_proxies),
            Instant::now(),
        )
    {
        let refusal = refused(AUTH_LIMITER, wait).error_response();
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses_then_refills() {
        let limiter = RateLimiter::new(60, 2);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        let start = Instant::now();
        assert!(limiter.check(ip, start).is_ok());
        assert!(limiter.check(ip, start).is_ok());
        let wait = limiter.check(ip, start).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert!(limiter.check(other, start).is_ok());
        assert!(limiter.check(ip, start + Duration::from_secs(1)).is_ok());
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                actix_web::http::header::HeaderName::from_static(name),
                actix_web::http::header::HeaderValue::from_static(value),
            );
        }
        map
    }

    fn key(peer: &str, pairs: &[(&'static str, &'static str)], trusted: &[&str]) -> String {
        let trusted: Vec<Cidr> = trusted.iter().map(|block| block.parse().unwrap()).collect();
        client_key(peer.parse().unwrap(), &headers(pairs), &trusted).to_string()
    }

    #[test]
    fn cidr_blocks_parse_and_match() {
        let block: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(block.contains("10.200.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        let host: Cidr = "2001:db8::1".parse().unwrap();
        assert!(host.contains("2001:db8::1".parse().unwrap()));
        assert!(!host.contains("2001:db8::2".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains([8, 8, 8, 8].into())
        );
        for bad in ["", "10.0.0.0/33", "::/129", "example.com", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(key("2001:db8:1:2:3:4:5:6", &[], &[]), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::ffff", &[], &[]), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:3::1", &[], &[]), "2001:db8:1:3::");
        assert_eq!(key("::ffff:192.0.2.7", &[], &[]), "192.0.2.7");
        assert_eq!(key("192.0.2.7", &[], &[]), "192.0.2.7");
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let xff = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(key("198.51.100.1", &xff, &[]), "198.51.100.1");
        assert_eq!(key("198.51.100.1", &xff, &["10.0.0.0/8"]), "198.51.100.1");
        assert_eq!(key("10.0.0.2", &xff, &["10.0.0.0/8"]), "203.0.113.9");
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8"];
        // The leftmost entry is whatever the client wrote; the proxies appended the rest.
        let chain = [("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.7")];
        assert_eq!(key("10.0.0.2", &chain, &trusted), "203.0.113.9");
        let split = [
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9:5555"),
        ];
        assert_eq!(key("10.0.0.2", &split, &trusted), "203.0.113.9");
        // Only proxies: the farthest one is the client.
        let proxies = [("x-forwarded-for", "10.0.0.9, 10.0.0.7")];
        assert_eq!(key("10.0.0.2", &proxies, &trusted), "10.0.0.9");
        // Garbage stops the walk at the proxy that wrote it.
        let garbage = [("x-forwarded-for", "203.0.113.9, nonsense, 10.0.0.7")];
        assert_eq!(key("10.0.0.2", &garbage, &trusted), "10.0.0.7");
        assert_eq!(key("10.0.0.2", &[], &trusted), "10.0.0.2");
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for() {
        let trusted = ["10.0.0.0/8"];
        let both = [
            (
                "forwarded",
                "for=1.2.3.4, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.7",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ];
        assert_eq!(key("10.0.0.2", &both, &trusted), "2001:db8:cafe::");
        let unknown = [("forwarded", "for=203.0.113.9, for=unknown")];
        assert_eq!(key("10.0.0.2", &unknown, &trusted), "10.0.0.2");
        let ported = [("forwarded", "by=10.0.0.1;For=\"203.0.113.9:80\"")];
        assert_eq!(key("10.0.0.2", &ported, &trusted), "203.0.113.9");
    }
}
