//! A lockout shared through Redis: failures on any instance count, a
//! lockout holds on every one, doubling as in memory.

mod support;

use std::time::{Duration, Instant};

use steadfast_ratelimit::LockoutConfig;
use steadfast_redis::{RedisLockout, WhenDown};
use support::{SHARED, free_port, prefix};

fn config() -> LockoutConfig {
    let mut config = LockoutConfig::default();
    config.max_failures = 3;
    config.window = Duration::from_secs(10);
    config.lockout = Duration::from_millis(200);
    config.max_lockout = Duration::from_secs(1);
    config.forget_after = Duration::from_secs(10);
    config
}

async fn instance(url: &str, prefix: &str) -> RedisLockout<String> {
    let lockout = RedisLockout::new(
        url,
        prefix,
        config(),
        Duration::from_millis(100),
        WhenDown::Local { instances: 1 },
    )
    .unwrap();
    lockout.ready(Duration::from_secs(5)).await;
    lockout
}

async fn until_unlocked(lockout: &RedisLockout<String>, key: &String) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while lockout.check(key).await.is_err() {
        assert!(Instant::now() < deadline, "still locked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_either_instance_lock_the_key_on_both_and_lockouts_double() {
    let prefix = prefix("lockout");
    let (a, b) = (
        instance(SHARED, &prefix).await,
        instance(SHARED, &prefix).await,
    );
    let key = "mallory".to_owned();
    assert_eq!(a.record_failure(&key).await, None);
    assert_eq!(b.record_failure(&key).await, None);
    assert_eq!(
        a.record_failure(&key).await,
        Some(Duration::from_millis(200))
    );
    let refused = b.check(&key).await.unwrap_err();
    assert!(refused.retry_after().unwrap() <= Duration::from_millis(200));

    until_unlocked(&b, &key).await;
    for _ in 0..2 {
        assert_eq!(b.record_failure(&key).await, None);
    }
    // The second lockout doubles.
    assert_eq!(
        a.record_failure(&key).await,
        Some(Duration::from_millis(400))
    );
    until_unlocked(&a, &key).await;

    // A success forgets everything: the next lockout is the first again.
    b.record_success(&key).await;
    for _ in 0..2 {
        assert_eq!(a.record_failure(&key).await, None);
    }
    assert_eq!(
        a.record_failure(&key).await,
        Some(Duration::from_millis(200))
    );
    // Every lockout was started by A's calls; B only saw them.
    assert_eq!((a.counts().0, b.counts().0), (3, 0));
    assert!(b.counts().1 >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_local_record_locks_the_key_here() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let lockout = RedisLockout::<String>::new(
        &url,
        "fallback",
        config(),
        Duration::from_millis(50),
        WhenDown::Local { instances: 1 },
    )
    .unwrap();
    let key = "mallory".to_owned();
    for _ in 0..2 {
        assert_eq!(lockout.record_failure(&key).await, None);
    }
    assert_eq!(
        lockout.record_failure(&key).await,
        Some(Duration::from_millis(200))
    );
    assert!(lockout.check(&key).await.is_err());
    assert!(lockout.counts().2 >= 4);
}
