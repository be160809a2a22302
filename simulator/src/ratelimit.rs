//! The fixed-window request-rate limiter shared by the FHIR, Bulk and
//! Enterprise surfaces (a profile's `rate_limits.*`, such as NextGen Office's
//! 20 requests a minute).
//!
//! A window opens at a key's first request and lasts `per`; the
//! `requests + 1`-th request inside it is refused with the number of whole
//! seconds (rounded up, at least 1) until the window closes, which the
//! surfaces send as `Retry-After` in delta-seconds with a 429. Time is
//! `tokio::time::Instant`, so tests drive it with `tokio::time::pause()`.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::profile::RateLimit;

/// Fixed-window counters: key → (window start, requests counted).
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Count one request for `key` against `limit`: `None` when it is
    /// allowed, `Some(seconds)` (the `Retry-After` value) when refused.
    pub fn check(&self, limit: &RateLimit, key: &str) -> Option<u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock();
        let w = match windows.get_mut(key) {
            Some(w) => w,
            None => windows.entry(key.to_owned()).or_insert((now, 0)),
        };
        if now.duration_since(w.0) >= limit.per {
            *w = (now, 0);
        }
        w.1 = w.1.saturating_add(1);
        (w.1 > limit.requests).then(|| {
            let left = limit.per.saturating_sub(now.duration_since(w.0));
            (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1)
        })
    }

    /// Forget every window (control-API reset).
    pub fn clear(&self) {
        self.windows.lock().clear();
    }
}

/// The counting key of a request: the client when the limit is per client,
/// else the peer address from the connection info.
pub fn key(limit: &RateLimit, client_id: Option<&str>, ext: &Extensions) -> String {
    if limit.per_client {
        format!("client:{}", client_id.unwrap_or("(none)"))
    } else {
        let peer = ext
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "(unknown)".to_owned(), |c| c.0.ip().to_string());
        format!("ip:{peer}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limit(requests: u32, secs: u64) -> RateLimit {
        RateLimit {
            requests,
            per: Duration::from_secs(secs),
            per_client: true,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn refuses_past_the_quota_until_the_window_closes() {
        let rl = RateLimiter::new();
        let l = limit(2, 60);
        assert_eq!(rl.check(&l, "a"), None);
        assert_eq!(rl.check(&l, "a"), None);
        assert_eq!(rl.check(&l, "a"), Some(60));
        tokio::time::advance(Duration::from_millis(20_500)).await;
        // 39.5 s left: rounded up.
        assert_eq!(rl.check(&l, "a"), Some(40));
        tokio::time::advance(Duration::from_millis(39_500)).await;
        assert_eq!(rl.check(&l, "a"), None, "a new window opens");
    }

    #[tokio::test(start_paused = true)]
    async fn keys_count_separately_and_clear_resets() {
        let rl = RateLimiter::new();
        let l = limit(1, 10);
        assert_eq!(rl.check(&l, "a"), None);
        assert_eq!(rl.check(&l, "b"), None);
        assert_eq!(rl.check(&l, "a"), Some(10));
        rl.clear();
        assert_eq!(rl.check(&l, "a"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_at_least_one_second() {
        let rl = RateLimiter::new();
        let l = RateLimit {
            requests: 1,
            per: Duration::from_millis(300),
            per_client: false,
        };
        assert_eq!(rl.check(&l, "ip:127.0.0.1"), None);
        assert_eq!(rl.check(&l, "ip:127.0.0.1"), Some(1));
    }

    #[test]
    fn key_is_client_or_peer() {
        let mut ext = Extensions::new();
        assert_eq!(key(&limit(1, 1), Some("c1"), &ext), "client:c1");
        let mut per_ip = limit(1, 1);
        per_ip.per_client = false;
        assert_eq!(key(&per_ip, Some("c1"), &ext), "ip:(unknown)");
        ext.insert(ConnectInfo::<SocketAddr>("127.0.0.1:9".parse().unwrap()));
        assert_eq!(key(&per_ip, None, &ext), "ip:127.0.0.1");
    }
}
