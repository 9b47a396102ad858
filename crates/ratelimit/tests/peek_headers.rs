//! Reading a key's state without consuming, and the HTTP headers.

use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::headers::{retry_after, retry_after_of};
use steadfast_ratelimit::{KeyedRateLimiter, Quota};

#[tokio::test(start_paused = true)]
async fn peek_consumes_nothing() {
    // 60 per minute, bursts of 10: one unit a second.
    let limiter = KeyedRateLimiter::<u32>::new(Quota::per_minute(60).burst(10)).unwrap();
    let fresh = limiter.peek(&1);
    assert_eq!((fresh.limit, fresh.remaining), (10, 10));
    assert_eq!(fresh.reset_after, Duration::ZERO);
    assert_eq!(limiter.snapshot().keys_tracked, 0, "peeking tracks nothing");
    limiter.check_n(&1, 7).unwrap();
    for _ in 0..3 {
        let state = limiter.peek(&1);
        assert_eq!(state.remaining, 3);
        assert_eq!(state.reset_after, Duration::from_secs(7));
        assert_eq!(state.retry_after, Duration::ZERO);
    }
    limiter.check_n(&1, 3).unwrap();
    let spent = limiter.peek(&1);
    assert_eq!(spent.retry_after, Duration::from_secs(1));
    assert_eq!(
        spent.headers(),
        [
            ("RateLimit-Limit", "10".to_owned()),
            ("RateLimit-Remaining", "0".to_owned()),
            ("RateLimit-Reset", "10".to_owned()),
        ]
    );
    tokio::time::advance(Duration::from_millis(2_500)).await;
    let later = limiter.peek(&1);
    assert_eq!(later.remaining, 2);
    assert_eq!(later.reset_header(), "8");
    let refused = limiter.check_n(&1, 3).unwrap_err();
    assert_eq!(refused.retry_after(), Some(Duration::from_millis(500)));
    assert_eq!(retry_after_of(&refused).as_deref(), Some("1"));
    // More than the burst: no wait helps, so no Retry-After.
    let never = limiter.check_n(&1, 11).unwrap_err();
    assert!(never.is_never());
    assert_eq!(retry_after_of(&never), None);
    assert_eq!(retry_after(Duration::from_secs(61)), "61");
}
