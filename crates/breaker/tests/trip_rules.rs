//! Each trip rule opens the breaker at exactly the call it should, on tokio's paused clock.

mod common;

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, Reason, State, TimeWindow, Window};
use steadfast_core::Inspect;
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn consecutive_failures_open_after_n_in_a_row() {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(3)
            .open_for(secs(10)),
    );
    let b = builder.build().unwrap();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap(); // a success breaks the run
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    assert_eq!(b.snapshot().consecutive_failures, 2);
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        log.take(),
        [(
            State::Closed,
            State::Open,
            Reason::ConsecutiveFailures,
            Some(secs(10))
        )]
    );
    let refused = ok(&b).await;
    assert!(is_open(&refused));
    assert_eq!(retry_after(&refused), Some(secs(10)));
    advance(secs(4)).await;
    assert_eq!(retry_after(&ok(&b).await), Some(secs(6)));
    advance(secs(6)).await;
    ok(&b).await.unwrap(); // the trial
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().rejected, 2);
}

#[tokio::test(start_paused = true)]
async fn count_window_judges_only_from_min_calls() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(0.5, 4, 4)
        .build()
        .unwrap();
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err(); // 2 of 3: 67 %, but only 3 calls
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().calls_in_window, 3);
    ok(&b).await.unwrap(); // 2 of 4: 50 %, judged now, on a success
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn count_window_slides_over_the_last_n() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(0.5, 4, 4)
        .build()
        .unwrap();
    fail(&b).await.unwrap_err(); // [F]
    for _ in 0..4 {
        ok(&b).await.unwrap(); // [F S S S] 25 %, then the failure slides out
    }
    let snap = b.snapshot();
    assert_eq!((snap.calls_in_window, snap.failure_rate), (4, Some(0.0)));
    fail(&b).await.unwrap_err(); // [S S S F] 25 %
    assert_eq!(b.snapshot().failure_rate, Some(0.25));
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err(); // [S S F F] 50 %
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn time_window_counts_only_the_last_t() {
    // 10 s in 10 buckets of 1 s, judged from 4 calls.
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty()).failure_rate_over_time(0.5, secs(10), 4),
    );
    let b = builder.build().unwrap();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err(); // 3 failures at t = 0: below the minimum
    advance(secs(10)).await; // … and out of the window
    fail(&b).await.unwrap_err();
    assert_eq!(b.snapshot().calls_in_window, 1);
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err(); // 4 failures within 10 s
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.take()[0].2, Reason::FailureRate(0));
}

#[tokio::test(start_paused = true)]
async fn time_window_places_waiting_calls_exactly() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_time(0.5, secs(10), 4)
        .build()
        .unwrap();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err(); // t = 0
    advance(ms(9_500)).await;
    ok_after(&b, ms(100)).await.unwrap(); // t = 9.6 s: 3 calls
    assert_eq!(b.state(), State::Closed);
    ok_after(&b, ms(100)).await.unwrap(); // t = 9.7 s: 4 calls, 50 %
    assert_eq!(b.state(), State::Open);

    // The same, with the failures just out of the window.
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_time(0.5, secs(10), 4)
        .build()
        .unwrap();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err(); // t = 0, bucket 0
    advance(ms(9_950)).await;
    ok_after(&b, ms(100)).await.unwrap(); // t = 10.05 s: bucket 0 has expired
    ok_after(&b, ms(100)).await.unwrap();
    assert_eq!(b.snapshot().calls_in_window, 2);
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn slow_calls_trip_whether_they_succeed_or_fail() {
    let (builder, log) =
        logged(Breaker::builder_from(BreakerConfig::empty()).slow_calls(ms(100), 0.5, 4, 4));
    let b = builder.build().unwrap();
    ok_after(&b, ms(150)).await.unwrap(); // slow
    ok_after(&b, ms(50)).await.unwrap();
    ok(&b).await.unwrap(); // ready at once: took no time
    assert_eq!(b.snapshot().slow_call_rate, Some(1.0 / 3.0));
    fail_after(&b, ms(101)).await.unwrap_err(); // slow, and failed: 2 of 4
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.take()[0].2, Reason::SlowCallRate);
}

#[tokio::test(start_paused = true)]
async fn slow_calls_over_a_time_window() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .slow_call_rate(
            ms(100),
            1.0,
            Window::Time(TimeWindow::new(secs(2), 2).with_buckets(2)),
        )
        .build()
        .unwrap();
    ok_after(&b, ms(200)).await.unwrap();
    advance(secs(3)).await; // that slow call leaves the window
    ok_after(&b, ms(200)).await.unwrap();
    assert_eq!(b.state(), State::Closed);
    ok_after(&b, ms(200)).await.unwrap();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn combined_rules_first_to_fire_trips() {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(3)
            .failure_rate_over_calls(0.5, 10, 6),
    );
    let b = builder.build().unwrap();
    // F S F S F S: 50 % of 6 fires the rate rule; never 3 in a row.
    for _ in 0..3 {
        fail(&b).await.unwrap_err();
        ok(&b).await.unwrap();
    }
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.take()[0].2, Reason::FailureRate(0));

    b.reset();
    log.take();
    // Three in a row fire the consecutive rule before the rate has 6 calls.
    for _ in 0..3 {
        fail(&b).await.unwrap_err();
    }
    assert_eq!(log.take()[0].2, Reason::ConsecutiveFailures);
}

#[tokio::test(start_paused = true)]
async fn a_count_and_a_time_window_combine() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(1.0, 100, 50)
        .failure_rate_over_time(0.5, secs(10), 2)
        .build()
        .unwrap();
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err(); // the time window fires: 1 of 2
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn ready_successes_take_the_latest_clock_reading() {
    // The documented trade: a success that completed in its first poll does
    // not read the clock; a time window counts it at the breaker's latest
    // clock reading. Waiting calls, failures and snapshots read the clock.
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_time(0.5, secs(10), 100)
        .build()
        .unwrap();
    ok(&b).await.unwrap(); // t = 0
    advance(secs(20)).await;
    ok(&b).await.unwrap(); // t = 20, counted at the latest reading: t = 0
    assert_eq!(
        b.snapshot().calls_in_window,
        0,
        "both counted at t = 0, now out of the window"
    );
    // The snapshot read the clock: ready calls from now on count at t = 20.
    ok(&b).await.unwrap();
    ok_after(&b, ms(10)).await.unwrap(); // waited: placed exactly
    assert_eq!(b.snapshot().calls_in_window, 2);
}
