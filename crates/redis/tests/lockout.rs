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

type Login = steadfast_core::Pipeline<steadfast_core::Last<RedisLockout<String>>>;

/// One login attempt through `pipeline` as `user`.
async fn attempt(
    pipeline: &Login,
    user: &String,
    password_ok: bool,
) -> Result<&'static str, steadfast_core::Error<&'static str>> {
    use steadfast_core::{Context, Policy};
    pipeline
        .call_with(Context::new().with_key(user), move || async move {
            if password_ok {
                Ok("welcome")
            } else {
                Err("wrong password")
            }
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_policy_failed_calls_lock_the_key_out_and_a_success_forgets() {
    use steadfast_core::{Error, ErrorKind, Pipeline, Policy};

    let prefix = prefix("lockout-policy");
    let (a, b) = (
        instance(SHARED, &prefix).await,
        instance(SHARED, &prefix).await,
    );
    // A login on two instances: each guards its own calls with its pipeline.
    let (login_a, login_b) = (Pipeline::new(a.clone()), Pipeline::new(b.clone()));
    let (mallory, alice) = ("mallory".to_owned(), "alice".to_owned());
    // Three wrong passwords, split across instances, lock mallory out on both.
    for pipeline in [&login_a, &login_b, &login_a] {
        let err = attempt(pipeline, &mallory, false).await.unwrap_err();
        assert!(matches!(err, Error::Inner("wrong password")), "{err:?}");
    }
    for pipeline in [&login_a, &login_b] {
        let err = attempt(pipeline, &mallory, true).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert!(
            err.retry_after()
                .is_some_and(|wait| wait <= Duration::from_millis(200))
        );
    }
    // Alice's two failures and a success: forgotten, two more failures do
    // not lock her out.
    for ok in [false, false, true, false, false] {
        let answer = attempt(&login_b, &alice, ok).await;
        assert_eq!(answer.is_ok(), ok);
    }
    assert!(attempt(&login_a, &alice, true).await.is_ok());
    let (lockouts, _, fallback) = a.counts();
    let (lockouts_b, _, fallback_b) = b.counts();
    assert_eq!((lockouts + lockouts_b, fallback + fallback_b), (1, 0));
    // A call without a key is refused: the lockout cannot tell whose it is.
    let err = login_a
        .call(|| async { Ok::<_, &str>("anyone") })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingKey);
}
