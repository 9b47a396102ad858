//! HTTP header values: `Retry-After` and the IETF `RateLimit-Limit`,
//! `RateLimit-Remaining`, `RateLimit-Reset` fields.
//!
//! Durations become whole seconds rounded up (a client told "0" would retry
//! at once and be refused again); `Retry-After` is at least 1.

use std::time::Duration;

use steadfast_core::RateLimited;
use steadfast_core::time::ceil_secs;

use crate::snapshot::RateLimitState;

/// The `Retry-After` value (delay-seconds) for a wait: rounded up, at least 1.
///
/// ```
/// use std::time::Duration;
/// use steadfast_ratelimit::headers::retry_after;
///
/// assert_eq!(retry_after(Duration::from_millis(2_400)), "3");
/// assert_eq!(retry_after(Duration::ZERO), "1");
/// ```
pub fn retry_after(wait: Duration) -> String {
    ceil_secs(wait).max(1).to_string()
}

/// The `Retry-After` value of a rejection; `None` for a call that can never
/// be admitted ([`RateLimited::is_never`]): no wait helps, so answer without
/// a `Retry-After` (a 413, or a 429 saying the request is too large).
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::RateLimited;
/// use steadfast_ratelimit::headers::retry_after_of;
///
/// let wait = RateLimited::new("api", Duration::from_millis(1_500));
/// assert_eq!(retry_after_of(&wait).as_deref(), Some("2"));
/// assert_eq!(retry_after_of(&RateLimited::never("api")), None);
/// ```
pub fn retry_after_of(rejection: &RateLimited) -> Option<String> {
    rejection.retry_after().map(retry_after)
}

impl RateLimitState {
    /// `RateLimit-Limit`: the most units a full state admits at once.
    pub fn limit_header(&self) -> String {
        self.limit.to_string()
    }

    /// `RateLimit-Remaining`: units available now.
    pub fn remaining_header(&self) -> String {
        self.remaining.to_string()
    }

    /// `RateLimit-Reset`: seconds until the state is full again, rounded up.
    pub fn reset_header(&self) -> String {
        ceil_secs(self.reset_after).to_string()
    }

    /// The three headers as `(name, value)` pairs, ready for a response.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_ratelimit::{Quota, RateLimiter};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let limiter = RateLimiter::new(Quota::per_minute(60).burst(10)).unwrap();
    /// limiter.check_n(4).unwrap();
    /// let headers = limiter.peek().headers();
    /// assert_eq!(headers, [
    ///     ("RateLimit-Limit", "10".to_owned()),
    ///     ("RateLimit-Remaining", "6".to_owned()),
    ///     ("RateLimit-Reset", "4".to_owned()),
    /// ]);
    /// # }
    /// ```
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("RateLimit-Limit", self.limit_header()),
            ("RateLimit-Remaining", self.remaining_header()),
            ("RateLimit-Reset", self.reset_header()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_up() {
        assert_eq!(retry_after(Duration::from_secs(3)), "3");
        assert_eq!(retry_after(Duration::from_nanos(1)), "1");
        assert_eq!(
            retry_after_of(&RateLimited::new("api", Duration::from_millis(1_500))).as_deref(),
            Some("2")
        );
        let state = RateLimitState {
            limit: 5,
            remaining: 0,
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        };
        assert_eq!(state.reset_header(), "0");
    }
}
