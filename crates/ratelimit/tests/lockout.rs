//! Lockout: N failures within a window lock a key; repeated lockouts double
//! up to a maximum; a success resets.

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Error, Inspect, Policy};
use steadfast_ratelimit::Lockout;

const MIN: Duration = Duration::from_secs(60);

fn lockout() -> Lockout<String> {
    Lockout::builder()
        .name("login")
        .max_failures(3)
        .window(10 * MIN)
        .lockout(MIN, 5 * MIN)
        .forget_after(60 * MIN)
        .build()
        .unwrap()
}

fn fail_three_times(lockout: &Lockout<String>, user: &String) -> Option<Duration> {
    assert_eq!(lockout.record_failure(user), None);
    assert_eq!(lockout.record_failure(user), None);
    lockout.record_failure(user)
}

#[tokio::test(start_paused = true)]
async fn lockouts_double_up_to_the_maximum() {
    let lockout = lockout();
    let user = "alice".to_owned();
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for minutes in [1, 2, 4, 5, 5] {
        expected.push(minutes * MIN);
        let locked = fail_three_times(&lockout, &user).expect("the third failure locks");
        got.push(locked);
        let refused = lockout.check(&user).unwrap_err();
        assert!(refused.is_lockout());
        assert_eq!(refused.retry_after(), Some(locked));
        assert_eq!(refused.policy_name(), "login");
        // Still locked a second before the end, free at the end.
        tokio::time::advance(locked.checked_sub(Duration::from_secs(1)).unwrap()).await;
        assert_eq!(lockout.locked_for(&user), Some(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(lockout.check(&user).is_ok());
    }
    assert_eq!(got, expected);
    assert_eq!(lockout.snapshot().lockouts, 5);
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_failures_and_doubling() {
    let lockout = lockout();
    let user = "bob".to_owned();
    assert_eq!(fail_three_times(&lockout, &user), Some(MIN));
    tokio::time::advance(MIN).await;
    lockout.record_success(&user);
    assert_eq!(lockout.snapshot().keys_tracked, 0);
    // Two failures, a success, two more: never three in a row, never locked.
    lockout.record_failure(&user);
    lockout.record_failure(&user);
    lockout.record_success(&user);
    lockout.record_failure(&user);
    assert_eq!(lockout.record_failure(&user), None);
    // And the next lockout is the first again, not doubled.
    assert_eq!(lockout.record_failure(&user), Some(MIN));
}

#[tokio::test(start_paused = true)]
async fn failures_outside_the_window_do_not_add_up() {
    let lockout = lockout();
    let user = "carol".to_owned();
    lockout.record_failure(&user);
    lockout.record_failure(&user);
    tokio::time::advance(10 * MIN).await;
    assert_eq!(
        lockout.record_failure(&user),
        None,
        "the window started over"
    );
    assert_eq!(lockout.record_failure(&user), None);
    assert_eq!(lockout.record_failure(&user), Some(MIN));
}

#[tokio::test(start_paused = true)]
async fn doubling_is_forgotten_after_a_quiet_period() {
    let lockout = lockout();
    let user = "dave".to_owned();
    assert_eq!(fail_three_times(&lockout, &user), Some(MIN));
    tokio::time::advance(MIN).await;
    assert_eq!(fail_three_times(&lockout, &user), Some(2 * MIN));
    tokio::time::advance(2 * MIN + 60 * MIN).await;
    assert_eq!(fail_three_times(&lockout, &user), Some(MIN));
}

#[tokio::test(start_paused = true)]
async fn as_a_policy_it_guards_the_login_call() {
    let lockout = lockout();
    let user = "erin".to_owned();
    let wrong_password =
        ScriptedOp::new([Step::<u32, TestError>::err(TestError::new("bad password"))]);
    for _ in 0..3 {
        let result = lockout
            .call_with(Context::new().with_key(&user), wrong_password.clone())
            .await;
        assert_eq!(result, Err(Error::Inner(TestError::new("bad password"))));
    }
    let locked = lockout
        .call_with(Context::new().with_key(&user), wrong_password.clone())
        .await;
    match locked {
        Err(Error::RateLimited(r)) => {
            assert!(r.is_lockout());
            assert_eq!(r.retry_after(), Some(MIN));
            assert_eq!(r.message(), "Too many failed attempts. Try again in 60 s.");
        }
        other => panic!("expected a lockout, got {other:?}"),
    }
    assert_eq!(
        wrong_password.invocations(),
        3,
        "a locked key never reaches the call"
    );
    tokio::time::advance(MIN).await;
    let right_password = ScriptedOp::new([Step::<u32, TestError>::ok(7)]);
    let ok = lockout
        .call_with(Context::new().with_key(&user), right_password)
        .await;
    assert_eq!(ok, Ok(7));
    assert_eq!(
        lockout.snapshot().keys_tracked,
        0,
        "the success reset the key"
    );
    assert_eq!(lockout.snapshot().rejected, 1);
    // Without a key of its type the call is refused, and never runs.
    let unkeyed = ScriptedOp::new([Step::<u32, TestError>::ok(1)]);
    assert!(matches!(
        lockout.call(unkeyed.clone()).await,
        Err(Error::MissingKey(m)) if m.key_type() == std::any::type_name::<String>()
    ));
    assert_eq!(unkeyed.invocations(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_unkeyed_call_runs_unguarded_where_the_lockout_opts_in() {
    let lockout = Lockout::<String>::builder()
        .pass_through_unkeyed(true)
        .build()
        .unwrap();
    let unkeyed = ScriptedOp::new([Step::<u32, TestError>::ok(1)]);
    assert_eq!(lockout.call(unkeyed).await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn idle_records_are_forgotten() {
    let lockout = lockout();
    for user in 0..100 {
        lockout.record_failure(&format!("user-{user}"));
    }
    assert_eq!(lockout.snapshot().keys_tracked, 100);
    // The default background sweep runs every 10 s; the window is 10 min.
    tokio::time::sleep(10 * MIN + Duration::from_secs(10)).await;
    assert_eq!(lockout.snapshot().keys_tracked, 0);
}

#[test]
fn config_is_validated() {
    let err = Lockout::<u32>::builder()
        .max_failures(0)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_failures");
    let err = Lockout::<u32>::builder()
        .lockout(Duration::from_secs(60), Duration::from_secs(30))
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_lockout");
    let err = Lockout::<u32>::builder()
        .window(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "window");
}
