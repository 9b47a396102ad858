//! Tags and invalidation: O(1) invalidation by tag, and no value fetched
//! before an invalidation is ever served after it, however the two interleave.

mod common;

use std::collections::HashMap;

use common::{SECOND, builder, fetch, fetch_with, settle};
use proptest::prelude::*;
use steadfast_cache::{Cache, FetchOptions};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use tokio::sync::oneshot;
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn invalidating_a_tag_hides_every_entry_carrying_it() {
    let cache = builder().build().unwrap();
    for key in 0..1000 {
        let options = FetchOptions::new()
            .tag(format!("user:{}", key % 10))
            .tag("all");
        cache.insert_with(key, key, &options).await;
    }
    cache.invalidate_tag("user:3");
    for key in 0..1000 {
        assert_eq!(cache.get(&key).await.is_none(), key % 10 == 3, "key {key}");
    }
    cache.invalidate_tag("all");
    for key in 0..1000 {
        assert!(cache.get(&key).await.is_none());
    }
}

#[tokio::test(start_paused = true)]
async fn a_fetch_that_started_before_a_tag_invalidation_is_not_served_after_it() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(1).after(SECOND), Step::ok(2)]);
    let caller = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(
            async move { fetch_with(&cache, 7, FetchOptions::new().tag("user:7"), &op).await },
        )
    };
    settle().await;
    cache.invalidate_tag("user:7");
    advance(SECOND).await;
    // The caller asked before the invalidation: it gets what it asked for…
    assert!(caller.await.unwrap().unwrap().is_fetched());
    // …but nobody after the invalidation is served it.
    assert_eq!(cache.get(&7).await, None);
    let next = fetch_with(&cache, 7, FetchOptions::new().tag("user:7"), &op)
        .await
        .unwrap();
    assert_eq!((*next, next.is_fetched()), (2, true));
    assert_eq!(*cache.get(&7).await.unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn tags_computed_from_the_value_also_invalidate() {
    let cache = Cache::<u32, u32, TestError>::builder()
        .tags_by(|_key: &u32, value: &u32| vec![format!("owner:{}", value % 2)])
        .build()
        .unwrap();
    fetch(&cache, 1, &ScriptedOp::always_ok(11)).await.unwrap();
    fetch(&cache, 2, &ScriptedOp::always_ok(12)).await.unwrap();
    cache.invalidate_tag("owner:1");
    assert!(cache.get(&1).await.is_none());
    assert!(cache.get(&2).await.is_some());
}

#[tokio::test(start_paused = true)]
async fn invalidating_a_key_or_everything_races_a_fetch_safely() {
    let cache = builder().build().unwrap();
    for invalidate_all in [false, true] {
        let op = ScriptedOp::new([Step::<u32, TestError>::ok(1).after(SECOND)]);
        let caller = {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 3, &op).await })
        };
        settle().await;
        if invalidate_all {
            cache.invalidate_all().await;
        } else {
            cache.invalidate(&3).await;
        }
        advance(SECOND).await;
        assert!(caller.await.unwrap().unwrap().is_fetched());
        assert_eq!(
            cache.get(&3).await,
            None,
            "invalidate_all: {invalidate_all}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_insert_wins_over_a_fetch_in_flight() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(1).after(SECOND)]);
    let caller = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(async move { fetch(&cache, 3, &op).await })
    };
    settle().await;
    cache.insert(3, 99).await;
    advance(SECOND).await;
    caller.await.unwrap().unwrap();
    assert_eq!(*cache.get(&3).await.unwrap(), 99);
}

#[derive(Clone, Debug)]
enum Step_ {
    Start { key: u32, tags: Vec<u8> },
    Complete { key: u32 },
    InvalidateTag(u8),
    InvalidateKey(u32),
    InvalidateAll,
    Read(u32),
}

fn step() -> impl Strategy<Value = Step_> {
    prop_oneof![
        3 => (0..3u32, proptest::collection::vec(0..3u8, 0..3))
            .prop_map(|(key, tags)| Step_::Start { key, tags }),
        3 => (0..3u32).prop_map(|key| Step_::Complete { key }),
        2 => (0..3u8).prop_map(Step_::InvalidateTag),
        1 => (0..3u32).prop_map(Step_::InvalidateKey),
        1 => Just(Step_::InvalidateAll),
        3 => (0..3u32).prop_map(Step_::Read),
    ]
}

/// What happened, in the order of a logical clock: when each value's fetch
/// started, and when each invalidation returned.
#[derive(Default)]
struct History {
    started: HashMap<u32, (u64, u32, Vec<u8>)>, // value -> (time, key, tags)
    tags: HashMap<u8, Vec<u64>>,
    keys: HashMap<u32, Vec<u64>>,
    all: Vec<u64>,
}

impl History {
    /// Checks that `value`, served for `key` to a caller that started at
    /// `asked`, was not fetched before an invalidation that returned before
    /// the caller asked.
    fn check(&self, value: u32, key: u32, asked: u64) {
        let latest = |times: Option<&Vec<u64>>| {
            times.map_or(0, |times| {
                times
                    .iter()
                    .copied()
                    .filter(|t| *t < asked)
                    .max()
                    .unwrap_or(0)
            })
        };
        let (at, of_key, tags) = &self.started[&value];
        assert_eq!(*of_key, key);
        assert!(
            *at > latest(Some(&self.all)),
            "served {value} from before invalidate_all"
        );
        assert!(
            *at > latest(self.keys.get(&key)),
            "served {value} from before invalidate({key})"
        );
        for tag in tags {
            assert!(
                *at > latest(self.tags.get(tag)),
                "served {value} from before invalidate_tag(t{tag})"
            );
        }
    }
}

/// A caller of get-or-fetch: when it asked, for which key, and its answer.
struct Caller {
    asked: u64,
    key: u32,
    answer: tokio::task::JoinHandle<Option<u32>>,
}

/// Runs `steps` against a cache and checks every answer — of a read and of
/// every get-or-fetch caller, leader or follower — against the history.
async fn check(steps: Vec<Step_>) {
    let cache = Cache::<u32, u32, TestError>::builder().build().unwrap();
    let mut clock = 0u64;
    let mut history = History::default();
    let mut fetches: Vec<(u32, u32, oneshot::Sender<u32>)> = Vec::new(); // (key, value, send)
    let mut callers: Vec<Caller> = Vec::new();
    let mut next_value = 1u32;
    for step in steps {
        clock += 1;
        match step {
            Step_::Start { key, tags } => {
                let value = next_value;
                next_value += 1;
                let (send, receive) = oneshot::channel::<u32>();
                let options = FetchOptions::new().tags(tags.iter().map(|t| format!("t{t}")));
                let cache2 = cache.clone();
                let answer = tokio::spawn(async move {
                    cache2
                        .get_or_fetch_with(&key, options, move || async move {
                            receive.await.map_err(|_| TestError::new("dropped"))
                        })
                        .await
                        .ok()
                        .map(|cached| *cached)
                });
                settle().await;
                // The closure was dropped unused unless this caller leads a fetch.
                if !send.is_closed() {
                    history.started.insert(value, (clock, key, tags));
                    fetches.push((key, value, send));
                }
                callers.push(Caller {
                    asked: clock,
                    key,
                    answer,
                });
            }
            Step_::Complete { key } => {
                if let Some(i) = fetches.iter().position(|(k, _, _)| *k == key) {
                    let (_, value, send) = fetches.remove(i);
                    let _ = send.send(value);
                    settle().await;
                }
            }
            Step_::InvalidateTag(tag) => {
                cache.invalidate_tag(&format!("t{tag}"));
                history.tags.entry(tag).or_default().push(clock);
            }
            Step_::InvalidateKey(key) => {
                cache.invalidate(&key).await;
                history.keys.entry(key).or_default().push(clock);
            }
            Step_::InvalidateAll => {
                cache.invalidate_all().await;
                history.all.push(clock);
            }
            Step_::Read(key) => {
                if let Some(hit) = cache.get(&key).await {
                    history.check(*hit, key, clock);
                }
            }
        }
    }
    // Finish every fetch, then check every caller's answer.
    for (_, value, send) in fetches.drain(..) {
        let _ = send.send(value);
        settle().await;
    }
    for caller in callers {
        if let Some(value) = caller.answer.await.unwrap() {
            history.check(value, caller.key, caller.asked);
        }
    }
}

/// Found by the proptest: a fetch superseded after a tag invalidation (its
/// key's next caller started a new one) was out of the map when
/// `invalidate(key)` came, and stored its value after it.
#[tokio::test]
async fn a_superseded_fetch_stores_nothing() {
    check(vec![
        Step_::Start {
            key: 1,
            tags: vec![],
        },
        Step_::InvalidateTag(0),
        Step_::Start {
            key: 1,
            tags: vec![],
        },
        Step_::InvalidateKey(1),
        Step_::Complete { key: 1 },
        Step_::Start {
            key: 1,
            tags: vec![],
        },
    ])
    .await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_value_fetched_before_an_invalidation_is_served_after_it(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(check(steps));
    }
}
