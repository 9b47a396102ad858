//! The abuse hook fires exactly once per window for a key rejected more
//! than the threshold.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast_ratelimit::{KeyedRateLimiter, Quota};

#[tokio::test(start_paused = true)]
async fn fires_exactly_once_per_window() {
    let flagged = Arc::new(Mutex::new(Vec::new()));
    let limiter = KeyedRateLimiter::<&'static str>::builder(Quota::per_hour(1))
        .abuse(3, Duration::from_secs(10))
        .on_abuse({
            let flagged = flagged.clone();
            move |key, rejections| flagged.lock().unwrap().push((*key, rejections))
        })
        .build()
        .unwrap();
    limiter.check(&"mallory").unwrap();
    limiter.check(&"alice").unwrap();
    for _ in 0..3 {
        assert!(limiter.check(&"mallory").is_err());
    }
    assert!(
        flagged.lock().unwrap().is_empty(),
        "three rejections are tolerated"
    );
    for _ in 0..20 {
        assert!(limiter.check(&"mallory").is_err());
    }
    assert!(limiter.check(&"alice").is_err());
    assert_eq!(*flagged.lock().unwrap(), [("mallory", 4)]);
    // A new window: counted afresh, reported once more.
    tokio::time::advance(Duration::from_secs(10)).await;
    for _ in 0..10 {
        assert!(limiter.check(&"mallory").is_err());
    }
    assert_eq!(*flagged.lock().unwrap(), [("mallory", 4), ("mallory", 4)]);
}

#[tokio::test(start_paused = true)]
async fn counts_rejections_of_waiters_too() {
    let flagged = Arc::new(Mutex::new(0));
    let limiter = KeyedRateLimiter::<u8>::builder(Quota::per_hour(1))
        .wait(Duration::from_secs(1))
        .abuse(1, Duration::from_secs(60))
        .on_abuse({
            let flagged = flagged.clone();
            move |_, _| *flagged.lock().unwrap() += 1
        })
        .build()
        .unwrap();
    limiter.acquire(&1, 1).await.unwrap();
    assert!(limiter.acquire(&1, 1).await.is_err());
    assert!(limiter.acquire(&1, 1).await.is_err());
    assert!(limiter.acquire(&1, 1).await.is_err());
    assert_eq!(*flagged.lock().unwrap(), 1);
}
