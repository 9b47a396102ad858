//! One quota across instances, on the machine's Redis: exact admissions,
//! the in-memory GCRA's decisions, keys that expire once full.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use steadfast_core::{Context, Error, ErrorKind, Inspect, Policy};
use steadfast_ratelimit::{KeyedRateLimiter, Quota};
use steadfast_redis::Source;
use support::{SHARED, config, connected};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_admit_exactly_the_burst_between_them() {
    // A unit per 6 minutes: nothing refills during the test.
    let config = config("exact", Quota::per_hour(10).burst(10));
    let a = connected(SHARED, config.clone()).await;
    let b = connected(SHARED, config).await;
    let admitted = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for (i, limiter) in [a.clone(), b.clone()]
        .into_iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        let admitted = Arc::clone(&admitted);
        tasks.push(tokio::spawn(async move {
            let key = "shared-user".to_owned();
            for _ in 0..5 + i % 3 {
                if limiter.check_n(&key, 1).await.is_ok() {
                    admitted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(admitted.load(Ordering::Relaxed), 10);
    let (sa, sb) = (a.snapshot(), b.snapshot());
    assert_eq!(sa.admitted + sb.admitted, 10);
    assert_eq!(sa.fallback_checks + sb.fallback_checks, 0);
}

#[tokio::test]
async fn decisions_match_the_in_memory_gcra() {
    let quota = Quota::per_hour(100).burst(20);
    let redis = connected(SHARED, config("model", quota)).await;
    let memory = KeyedRateLimiter::<String>::new(quota).unwrap();
    // A fixed pseudo-random sequence of keys and costs.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..400 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let key = format!("user-{}", state % 3);
        let cost = u32::try_from(state % 7).unwrap() + 1;
        let ours = redis.check_n(&key, cost).await;
        let model = memory.check_n(&key, cost);
        assert_eq!(ours.is_ok(), model.is_ok(), "key {key}, cost {cost}");
        if let Ok(admitted) = ours {
            assert_eq!(admitted.source, Source::Redis);
            assert_eq!(admitted.remaining, memory.peek(&key).remaining);
        }
    }
    assert_eq!(redis.snapshot().script_reloads, 0);
}

#[tokio::test]
async fn a_key_expires_from_redis_once_full_again() {
    let limiter = connected(SHARED, config("expiry", Quota::per_second(10).burst(5))).await;
    let key = "expiring".to_owned();
    limiter.check_n(&key, 3).await.unwrap();
    let client = redis::Client::open(SHARED).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(limiter.redis_key(&key))
        .query_async(&mut conn)
        .await
        .unwrap();
    // Three units at 100 ms each: full again within 300 ms.
    assert!((1..=300).contains(&ttl), "PTTL {ttl}");
}

#[tokio::test]
async fn a_refused_key_is_refused_locally_until_it_could_pass() {
    let limiter = connected(SHARED, config("local", Quota::per_hour(2).burst(2))).await;
    let key = "spender".to_owned();
    limiter.check_n(&key, 2).await.unwrap();
    let first = limiter.check_n(&key, 1).await.unwrap_err();
    let wait = first.retry_after().unwrap();
    assert!(wait > std::time::Duration::from_secs(1_700), "{wait:?}");
    let again = limiter.check_n(&key, 1).await.unwrap_err();
    assert!(again.retry_after().unwrap() <= wait);
    let s = limiter.snapshot();
    assert_eq!((s.round_trips, s.local_refusals, s.rejected), (2, 1, 2));
    // A cost above the burst can never pass, and costs no round trip.
    let never = limiter.check_n(&"other".to_owned(), 3).await.unwrap_err();
    assert!(never.is_never());
    assert_eq!(limiter.snapshot().round_trips, 2);
}

#[tokio::test]
async fn as_a_policy_it_reads_the_calls_key_and_cost() {
    let limiter = connected(SHARED, config("policy", Quota::per_hour(5).burst(5))).await;
    let user = "carol".to_owned();
    let call = |cost| {
        let user = user.clone();
        let limiter = limiter.clone();
        async move {
            limiter
                .call_with(Context::new().with_key(&user).with_cost(cost), || async {
                    Ok::<_, std::io::Error>(1)
                })
                .await
        }
    };
    assert_eq!(call(4).await.unwrap(), 1);
    assert_eq!(call(2).await.unwrap_err().kind(), ErrorKind::RateLimited);
    assert_eq!(call(1).await.unwrap(), 1);
    let missing: Result<u8, Error<std::io::Error>> = limiter.call(|| async { Ok(1) }).await;
    assert_eq!(missing.unwrap_err().kind(), ErrorKind::MissingKey);
}

#[tokio::test]
async fn odd_bytes_in_a_key_are_one_key() {
    let limiter = connected(SHARED, config("odd", Quota::per_hour(1).burst(1))).await;
    let key = "}{ tab\t newline\n ünïcödé \0".to_owned();
    limiter.check_n(&key, 1).await.unwrap();
    assert!(limiter.check_n(&key, 1).await.is_err());
    limiter.check_n(&"}{ tab".to_owned(), 1).await.unwrap();
}

#[tokio::test]
async fn in_shadow_mode_every_call_runs_and_refusals_are_counted() {
    let mut config = config("shadow", Quota::per_hour(2).burst(2));
    config.shadow = true;
    let limiter = connected(SHARED, config).await;
    let user = "dave".to_owned();
    for _ in 0..5 {
        let ran = limiter
            .call_with(Context::new().with_key(&user), || async {
                Ok::<_, std::io::Error>(1)
            })
            .await;
        assert_eq!(ran.unwrap(), 1);
    }
    let s = limiter.snapshot();
    assert_eq!((s.admitted, s.rejected), (2, 3));
    assert!(limiter.check_n(&user, 1).await.is_err());
}

/// Waits past the end of the current window of `w` on the wall clock when
/// it is less than `margin` away, so a test's checks share one window.
async fn away_from_a_window_edge(w: std::time::Duration, margin: std::time::Duration) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let into =
        std::time::Duration::from_nanos(u64::try_from(now.as_nanos() % w.as_nanos()).unwrap());
    let left = w.saturating_sub(into);
    if left < margin {
        tokio::time::sleep(left + std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn window_decisions_match_the_in_memory_windows() {
    use steadfast_ratelimit::{Algorithm, RateLimiterConfig};
    for algorithm in [Algorithm::SlidingWindow, Algorithm::FixedWindow] {
        let quota = Quota::new(20, std::time::Duration::from_secs(60));
        let mut ours = config("window", quota);
        ours.algorithm = algorithm;
        let redis = connected(SHARED, ours).await;
        let mut theirs = RateLimiterConfig::new(quota);
        theirs.algorithm = algorithm;
        let memory = KeyedRateLimiter::<String>::from_config(theirs).unwrap();
        away_from_a_window_edge(
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(5),
        )
        .await;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..120 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = format!("user-{}", state % 3);
            let cost = u32::try_from(state % 5).unwrap() + 1;
            let ours = redis.check_n(&key, cost).await;
            let model = memory.check_n(&key, cost);
            assert_eq!(
                ours.is_ok(),
                model.is_ok(),
                "{algorithm:?}: key {key}, cost {cost}"
            );
            if let Ok(admitted) = ours {
                assert_eq!(
                    admitted.remaining,
                    memory.peek(&key).remaining,
                    "{algorithm:?}"
                );
            }
        }
        // A cost above the limit can never pass.
        assert!(
            redis
                .check_n(&"x".to_owned(), 21)
                .await
                .unwrap_err()
                .is_never()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_from_many_tasks_go_in_batches_and_admit_exactly_the_quota() {
    // Forty units an hour for each of four keys, checked by 64 tasks at
    // once with local refusals off (every check reaches Redis).
    let mut config = config("batched", Quota::per_hour(40).burst(40));
    config.local_refusals = false;
    let limiter = connected(SHARED, config).await;
    let admitted: Arc<[AtomicU32; 4]> = Arc::new(Default::default());
    let mut tasks = Vec::new();
    for task in 0..64_u32 {
        let (limiter, admitted) = (limiter.clone(), Arc::clone(&admitted));
        tasks.push(tokio::spawn(async move {
            for round in 0..5 {
                let key = (task + round) % 4;
                if limiter.check_n(&format!("user-{key}"), 1).await.is_ok() {
                    admitted[key as usize].fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for key in admitted.iter() {
        assert_eq!(key.load(Ordering::Relaxed), 40);
    }
    let s = limiter.snapshot();
    assert_eq!(s.admitted + s.rejected, 320);
    assert_eq!((s.admitted, s.fallback_checks, s.redis_errors), (160, 0, 0));
    assert!(s.batched > 0, "some checks queued behind others: {s:?}");
    assert!(s.round_trips < 320, "fewer round trips than checks: {s:?}");
}

#[tokio::test]
async fn batched_decisions_match_the_in_memory_gcra() {
    // Checks queued together (each task's next check waits for the batch
    // in flight) decide as one by one: every batch's answers, in order,
    // against the model on the same arrivals.
    let quota = Quota::per_hour(100).burst(20);
    let mut config = config("batched-model", quota);
    config.local_refusals = false;
    let redis = connected(SHARED, config).await;
    let memory = KeyedRateLimiter::<String>::new(quota).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..40 {
        let mut wave = Vec::new();
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = format!("user-{}", state % 3);
            let cost = u32::try_from(state % 5).unwrap() + 1;
            wave.push((key, cost));
        }
        // Started in order on one thread: the first leads, the rest queue
        // in order behind it and go as one batch.
        let answers =
            futures::future::join_all(wave.iter().map(|(key, cost)| redis.check_n(key, *cost)))
                .await;
        for ((key, cost), ours) in wave.iter().zip(answers) {
            let model = memory.check_n(key, *cost);
            assert_eq!(ours.is_ok(), model.is_ok(), "key {key}, cost {cost}");
            if let Ok(admitted) = ours {
                assert_eq!(admitted.remaining, memory.peek(key).remaining);
            }
        }
    }
    assert!(redis.snapshot().batched > 0);
}
