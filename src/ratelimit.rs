//! Fixed-window rate limiting, as pure arithmetic over a stored window.
//!
//! A window opens at the first request after the previous one closed and lasts
//! `window_ms`, so "100 per minute" means exactly 100 admitted, the 101st refused, however
//! the requests fall against the wall clock. The state lives in the SQLite of the actor
//! that owns the key (one owner per key, so counts are exact, never eventually
//! consistent).

use serde::{Deserialize, Serialize};

/// Anonymous requests per client IP per minute.
pub const ANONYMOUS_PER_MINUTE: u32 = 100;
/// Authenticated requests per workspace per minute, counted in the workspace's actor.
pub const WORKSPACE_PER_MINUTE: u32 = 1_000;
/// Sign-in attempts per email per 15 minutes (password guessing).
pub const LOGIN_ATTEMPTS: u32 = 20;
pub const LOGIN_WINDOW_MS: u64 = 15 * 60 * 1000;
pub const MINUTE_MS: u64 = 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: u64,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds at which the window closes.
    pub reset_at: u64,
    /// Seconds until then (at least 1), for `Retry-After`.
    pub retry_after: u64,
}

/// Counts one request at `now_ms` against `window` and returns the new window and the
/// decision. A refused request is not counted.
pub fn hit(window: Option<Window>, now_ms: u64, limit: u32, window_ms: u64) -> (Window, Decision) {
    hit_n(window, now_ms, limit, window_ms, 1)
}

/// Counts `cost` requests at once (the operations of a batch): admitted only if all of them
/// fit, and then all are counted.
pub fn hit_n(
    window: Option<Window>,
    now_ms: u64,
    limit: u32,
    window_ms: u64,
    cost: u32,
) -> (Window, Decision) {
    let current = match window {
        Some(w) if now_ms < w.start_ms.saturating_add(window_ms) => w,
        _ => Window {
            start_ms: now_ms,
            count: 0,
        },
    };
    let cost = cost.max(1);
    let allowed = current.count.saturating_add(cost) <= limit;
    let next = Window {
        start_ms: current.start_ms,
        count: if allowed {
            current.count + cost
        } else {
            current.count
        },
    };
    let reset_ms = current.start_ms + window_ms;
    let decision = Decision {
        allowed,
        limit,
        remaining: limit.saturating_sub(next.count),
        reset_at: reset_ms.div_ceil(1000),
        retry_after: reset_ms.saturating_sub(now_ms).div_ceil(1000).max(1),
    };
    (next, decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_limit_is_admitted() {
        let mut w = None;
        for i in 0..100 {
            let (next, d) = hit(w, 1_000 + i, 100, MINUTE_MS);
            assert!(d.allowed, "request {}", i + 1);
            assert_eq!(d.remaining, 99 - i as u32);
            w = Some(next);
        }
        let (next, d) = hit(w, 2_000, 100, MINUTE_MS);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(next.count, 100, "refused requests are not counted");
        assert_eq!(d.reset_at, 61);
        assert_eq!(d.retry_after, 59);
    }

    #[test]
    fn a_batch_counts_each_operation() {
        let (w, d) = hit_n(None, 0, 10, MINUTE_MS, 8);
        assert!(d.allowed);
        assert_eq!((w.count, d.remaining), (8, 2));
        let (w, d) = hit_n(Some(w), 1, 10, MINUTE_MS, 3);
        assert!(!d.allowed, "3 more do not fit in the 2 left");
        assert_eq!(w.count, 8);
        let (w, d) = hit_n(Some(w), 2, 10, MINUTE_MS, 2);
        assert!(d.allowed);
        assert_eq!(w.count, 10);
    }

    #[test]
    fn a_new_window_opens_after_the_old_one() {
        let (w, _) = hit(None, 0, 1, MINUTE_MS);
        let (w, d) = hit(Some(w), 59_999, 1, MINUTE_MS);
        assert!(!d.allowed);
        let (w, d) = hit(Some(w), 60_000, 1, MINUTE_MS);
        assert!(d.allowed);
        assert_eq!(w.start_ms, 60_000);
    }
}
