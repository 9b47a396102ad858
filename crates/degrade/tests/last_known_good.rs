//! Last-known-good: values remembered per key, served stale with their age
//! while young enough, bounded in number.

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Error, Inspect, MissingKey, Outcome, Pipeline, Policy, Timeout};
use steadfast_degrade::{LastKnownGood, Served, fresh};

fn ok(v: u32) -> Step<u32, TestError> {
    Step::ok(v)
}

fn down() -> Step<u32, TestError> {
    Step::err(TestError::new("down"))
}

#[tokio::test(start_paused = true)]
async fn serves_the_last_good_value_with_its_age_until_max_age() {
    let lkg = LastKnownGood::<u32>::builder()
        .name("prices")
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap();
    let op = ScriptedOp::new([ok(1), ok(2), down()]);
    assert_eq!(lkg.call(fresh(op.clone())).await, Ok(Served::fresh(1)));
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(lkg.call(fresh(op.clone())).await, Ok(Served::fresh(2)));

    tokio::time::advance(Duration::from_secs(59)).await;
    let stale = lkg.call(fresh(op.clone())).await.unwrap();
    assert_eq!(stale, Served::stale(2, Duration::from_secs(59)));
    assert!(stale.is_stale());
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        lkg.call(fresh(op.clone())).await,
        Ok(Served::stale(2, Duration::from_secs(60))),
        "exactly max_age old is still served"
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(
        lkg.call(fresh(op.clone())).await,
        Err(Error::Inner(TestError::new("down"))),
        "older than max_age: the failure goes through"
    );
    let s = lkg.snapshot();
    assert_eq!(
        (
            s.stored,
            s.served_stale,
            s.misses,
            s.entries,
            s.serving_stale
        ),
        (2, 2, 1, 0, true)
    );
}

#[tokio::test(start_paused = true)]
async fn values_are_kept_per_key() {
    let lkg = LastKnownGood::<String>::builder()
        .keyed::<u64>()
        .build()
        .unwrap();
    let (alice, bob) = (1u64, 2u64);
    let profile = |name: &'static str| move || async move { Ok::<_, TestError>(name.to_owned()) };
    let failing = || async { Err::<String, _>(TestError::new("down")) };
    lkg.call_with(Context::new().with_key(&alice), fresh(profile("alice")))
        .await
        .unwrap();
    lkg.call_with(Context::new().with_key(&bob), fresh(profile("bob")))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(3)).await;
    let served = lkg
        .call_with(Context::new().with_key(&alice), fresh(failing))
        .await
        .unwrap();
    assert_eq!(
        served,
        Served::stale("alice".to_owned(), Duration::from_secs(3))
    );
    let served = lkg
        .call_with(Context::new().with_key(&bob), fresh(failing))
        .await
        .unwrap();
    assert_eq!(served.into_inner(), "bob");
}

#[tokio::test(start_paused = true)]
async fn a_keyed_call_without_a_key_is_refused_before_it_runs() {
    let lkg = LastKnownGood::<String>::builder()
        .name("profiles")
        .keyed::<u64>()
        .build()
        .unwrap();
    let alice = 1u64;
    let op = ScriptedOp::<String, TestError>::always_ok("alice".to_owned());
    lkg.call_with(Context::new().with_key(&alice), fresh(op.clone()))
        .await
        .unwrap();
    let refused = lkg.call(fresh(op.clone())).await;
    assert_eq!(
        refused,
        Err(Error::MissingKey(MissingKey::new::<u64>("profiles")))
    );
    // A key of another type is no key of this policy's.
    let name = "alice";
    let other = lkg
        .call_with(Context::new().with_key(&name), fresh(op.clone()))
        .await;
    assert!(matches!(other, Err(Error::MissingKey(_))), "{other:?}");
    assert_eq!(op.invocations(), 1, "refused calls never run");
    let s = lkg.snapshot();
    assert_eq!((s.stored, s.entries, s.missing_keys), (1, 1, 2));
}

#[tokio::test(start_paused = true)]
async fn calls_without_a_key_share_one_value_only_when_opted_in() {
    let lkg = LastKnownGood::<String>::builder()
        .keyed::<u64>()
        .share_unkeyed()
        .build()
        .unwrap();
    assert!(lkg.config().share_unkeyed);
    let failing = || async { Err::<String, _>(TestError::new("down")) };
    lkg.call(fresh(|| async { Ok::<_, TestError>("anyone".to_owned()) }))
        .await
        .unwrap();
    let served = lkg.call(fresh(failing)).await.unwrap();
    assert_eq!(served.into_inner(), "anyone");
    // A keyed caller has its own value, and none yet.
    let alice = 1u64;
    let keyed = lkg
        .call_with(Context::new().with_key(&alice), fresh(failing))
        .await;
    assert_eq!(keyed, Err(Error::Inner(TestError::new("down"))));
    assert_eq!(lkg.snapshot().missing_keys, 0);
}

#[tokio::test(start_paused = true)]
async fn a_single_value_policy_reads_no_key() {
    let lkg = LastKnownGood::<u32>::builder().build().unwrap();
    let user = 9u64;
    lkg.call_with(
        Context::new().with_key(&user),
        fresh(|| async { Ok::<_, TestError>(4) }),
    )
    .await
    .unwrap();
    let served = lkg
        .call(fresh(|| async { Err::<u32, _>(TestError::new("down")) }))
        .await
        .unwrap();
    assert_eq!(
        served.into_inner(),
        4,
        "one value for every call, key or not"
    );
    assert_eq!(lkg.snapshot().missing_keys, 0);
}

#[tokio::test(start_paused = true)]
async fn memory_is_bounded_and_the_oldest_write_goes_first() {
    let lkg = LastKnownGood::<u64>::builder()
        .keyed::<u64>()
        .max_entries(3)
        .build()
        .unwrap();
    for key in 0..5u64 {
        let op = move || async move { Ok::<_, TestError>(key * 10) };
        lkg.call_with(Context::new().with_key(&key), fresh(op))
            .await
            .unwrap();
    }
    assert_eq!(lkg.snapshot().entries, 3);
    let failing = || async { Err::<u64, _>(TestError::new("down")) };
    for key in 0..2u64 {
        assert!(
            lkg.call_with(Context::new().with_key(&key), fresh(failing))
                .await
                .is_err()
        );
    }
    for key in 2..5u64 {
        let served = lkg
            .call_with(Context::new().with_key(&key), fresh(failing))
            .await
            .unwrap();
        assert_eq!(served, Served::stale(key * 10, Duration::ZERO));
    }
}

#[tokio::test(start_paused = true)]
async fn an_ok_classified_as_failure_is_covered_and_not_remembered() {
    // Status codes inside Ok: 503 is a failure.
    let classifier = |r: &Result<u16, TestError>| match r {
        Ok(503) | Err(_) => Outcome::Failure,
        Ok(_) => Outcome::Success,
    };
    let lkg = LastKnownGood::<u16>::builder()
        .classifier(classifier)
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(200u16), Step::ok(503)]);
    assert_eq!(lkg.call(fresh(op.clone())).await, Ok(Served::fresh(200)));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        lkg.call(fresh(op.clone())).await,
        Ok(Served::stale(200, Duration::from_secs(1)))
    );
    lkg.clear();
    assert_eq!(
        lkg.call(fresh(op.clone())).await,
        Ok(Served::fresh(503)),
        "nothing to cover with: the 503 goes through"
    );
    assert_eq!(lkg.snapshot().stored, 1);
}

#[tokio::test(start_paused = true)]
async fn covers_rejections_inside_a_pipeline() {
    let lkg = LastKnownGood::<u32>::builder().build().unwrap();
    let pipeline =
        Pipeline::new(lkg.clone()).then(Timeout::new(Duration::from_millis(100)).unwrap());
    let op = ScriptedOp::new([ok(9), Step::hang()]);
    assert_eq!(pipeline.call(fresh(op.clone())).await, Ok(Served::fresh(9)));
    let served = pipeline.call(fresh(op.clone())).await.unwrap();
    assert_eq!(served, Served::stale(9, Duration::from_millis(100)));
}

#[test]
fn config_is_validated() {
    let err = LastKnownGood::<u8>::builder()
        .max_age(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_age");
    let err = LastKnownGood::<u8>::builder()
        .max_entries(0)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_entries");
}
