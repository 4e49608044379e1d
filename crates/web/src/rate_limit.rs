//! Rate limiting: a token bucket per key. The sign-in routes are limited per client IP (the
//! scope middleware below); costly per-user routes (decision dry runs) per user id, checked
//! by their handler.
//!
//! Buckets live in this process's memory, so each API replica limits independently; the limit
//! is a brake on brute force and nonce flooding, not a global quota. The client is the TCP
//! peer, unless the deployment says a proxy in front sets `Forwarded`/`X-Forwarded-For`
//! (`TRUST_FORWARDED_FOR`): without a proxy any client could pick its own address that way.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::ResponseError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
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

/// The address a request is counted against.
fn client_ip(req: &ServiceRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for && let Some(forwarded) = req.connection_info().realip_remote_addr() {
        let host = forwarded
            .parse::<std::net::SocketAddr>()
            .map(|address| address.ip())
            .or_else(|_| forwarded.trim_matches(['[', ']']).parse::<IpAddr>());
        if let Ok(ip) = host {
            return Some(ip);
        }
    }
    req.peer_addr().map(|peer| peer.ip())
}

/// The 429 for a caller who must wait `wait`, rounded up to whole seconds for `Retry-After`.
pub(crate) fn refused(wait: Duration) -> ApiError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::rate_limited(seconds.max(1))
}

/// Middleware for a scope: answers 429 with `Retry-After` when the caller's IP is over its
/// budget.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = state
        && let Some(client) = client_ip(&req, state.trust_forwarded_for)
        && let Err(wait) = state.auth_rate_limiter.check(client, Instant::now())
    {
        let refusal = refused(wait).error_response();
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
}
