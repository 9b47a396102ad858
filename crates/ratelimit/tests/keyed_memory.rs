//! Keyed memory stays bounded with no call from the user.

use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::{KeyedRateLimiter, MemoryStore, Quota};

/// A cheap multiplicative hash: this test is about memory, and SipHash in a
/// debug build would be most of its run time.
#[derive(Clone, Copy, Default)]
struct Multiply(u64);

impl Hasher for Multiply {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

#[tokio::test(start_paused = true)]
async fn a_million_keys_touched_once_are_forgotten_without_any_call() {
    // 10 per second, burst 10: a key touched once is full again 100 ms later.
    let limiter = KeyedRateLimiter::<u32>::builder(Quota::per_second(10))
        .sweep_interval(Some(Duration::from_secs(1)))
        .store(MemoryStore::with_hasher(
            BuildHasherDefault::<Multiply>::default(),
            None,
        ))
        .build_with_store()
        .unwrap();
    for key in 0..1_000_000u32 {
        limiter.check(&key).unwrap();
    }
    let touched = limiter.snapshot();
    assert_eq!(touched.keys_tracked, 1_000_000);
    assert_eq!(touched.admitted, 1_000_000);
    let per_key = touched.bytes_per_key().unwrap();
    assert!(per_key <= 40.0, "{per_key} bytes per tracked u32 key");

    // Idle past their reset: the background sweeper alone forgets them.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let idle = limiter.snapshot();
    assert_eq!(idle.keys_tracked, 0);
    assert_eq!(idle.heap_bytes, 0, "the tables gave their memory back");
    assert_eq!(idle.admitted, 1_000_000, "counters survive the keys");
}

#[tokio::test(start_paused = true)]
async fn new_keys_sweep_idle_ones_even_without_the_background_task() {
    let limiter = KeyedRateLimiter::<u32>::builder(Quota::per_second(10))
        .sweep_interval(None)
        .build()
        .unwrap();
    for key in 0..100_000u32 {
        limiter.check(&key).unwrap();
    }
    tokio::time::advance(Duration::from_millis(200)).await;
    // A second wave of keys: each shard sweeps the first wave as it grows.
    for key in 100_000..200_000u32 {
        limiter.check(&key).unwrap();
    }
    let tracked = limiter.snapshot().keys_tracked;
    assert!(
        tracked < 150_000,
        "{tracked} keys tracked after the second wave"
    );
    tokio::time::advance(Duration::from_millis(200)).await;
    assert_eq!(limiter.sweep(), tracked);
    assert_eq!(limiter.snapshot().keys_tracked, 0);
}

#[tokio::test(start_paused = true)]
async fn a_maximum_evicts_the_idlest_keys() {
    let limiter = KeyedRateLimiter::<u32>::builder(Quota::per_second(1).burst(5))
        .max_keys(1_000)
        .sweep_interval(None)
        .build()
        .unwrap();
    assert_eq!(limiter.store().max_keys(), Some(1_000));
    // Keys 0..500 spend 1..=5 units: a key spending c units is full again
    // after c seconds, so the fewer it spent, the idler it is. (Half the
    // maximum, so no shard is full of old keys whatever the hash seed.)
    for key in 0..500u32 {
        limiter.check_n(&key, 1 + key % 5).unwrap();
    }
    tokio::time::advance(Duration::from_millis(500)).await;
    // Newcomers spend 1 unit at 0.5 s: full again at 1.5 s. Idler than
    // them are only the old keys that spent 1 unit (full at 1 s).
    for key in 1_000..3_000u32 {
        limiter.check(&key).unwrap();
        assert!(limiter.snapshot().keys_tracked <= 1_000);
    }
    for key in 0..500u32 {
        let spent = 1 + key % 5;
        let remaining = limiter.peek(&key).remaining;
        if spent == 1 {
            assert_eq!(remaining, 5, "key {key} was evicted first");
        } else {
            assert_eq!(
                remaining,
                u64::from(5 - spent),
                "key {key} outlived the newcomers"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_check_on_a_tracked_key_never_changes_the_key_count() {
    let limiter = KeyedRateLimiter::<(String, u16)>::new(Quota::per_minute(60)).unwrap();
    let key = ("10.0.0.1".to_owned(), 443);
    for _ in 0..60 {
        limiter.check(&key).unwrap();
    }
    assert!(limiter.check(&key).is_err());
    let snapshot = limiter.snapshot();
    assert_eq!(snapshot.keys_tracked, 1);
    assert_eq!((snapshot.admitted, snapshot.rejected), (60, 1));
}
