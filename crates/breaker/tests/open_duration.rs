//! The open duration: fixed, or growing on each consecutive re-open, back to
//! base after a successful close; jitter only shortens it.

mod common;

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, OpenDuration, Reason, State};
use steadfast_core::Inspect;
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn grows_on_each_failed_probe_and_resets_after_a_close() {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_duration(OpenDuration::growing(secs(10), 2.0, secs(35))),
    );
    let b = builder.build().unwrap();
    fail(&b).await.unwrap_err();
    for expected in [10, 20, 35, 35] {
        assert_eq!(b.state(), State::Open);
        assert_eq!(retry_after(&ok(&b).await), Some(secs(expected)));
        advance(secs(expected).checked_sub(ms(1)).unwrap()).await;
        assert!(
            is_open(&ok(&b).await),
            "still open 1 ms before {expected} s"
        );
        advance(ms(1)).await;
        fail(&b).await.unwrap_err(); // the trial fails: re-open, longer
    }
    advance(secs(35)).await;
    ok(&b).await.unwrap(); // the trial succeeds: closed
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err(); // trips again: back to the base
    assert_eq!(retry_after(&ok(&b).await), Some(secs(10)));

    let opens: Vec<_> = log
        .take()
        .into_iter()
        .filter(|t| t.1 == State::Open)
        .map(|t| (t.2, t.3.unwrap().as_secs()))
        .collect();
    assert_eq!(
        opens,
        [
            (Reason::ConsecutiveFailures, 10),
            (Reason::TrialFailed, 20),
            (Reason::TrialFailed, 35),
            (Reason::TrialFailed, 35),
            (Reason::TrialFailed, 35),
            (Reason::ConsecutiveFailures, 10),
        ]
    );
    assert_eq!(b.snapshot().opened, 6);
}

#[tokio::test(start_paused = true)]
async fn fixed_duration_stays_fixed() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(secs(30))
        .build()
        .unwrap();
    fail(&b).await.unwrap_err();
    for _ in 0..3 {
        assert_eq!(b.snapshot().time_until_half_open, Some(secs(30)));
        advance(secs(30)).await;
        fail(&b).await.unwrap_err();
    }
}

#[tokio::test(start_paused = true)]
async fn jitter_shortens_within_bounds_and_is_seeded() {
    async fn opens(seed: u64) -> Vec<std::time::Duration> {
        let b = Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_duration(OpenDuration::fixed(secs(100)).with_jitter(0.2))
            .jitter_seed(seed)
            .build()
            .unwrap();
        let mut durations = Vec::new();
        fail(&b).await.unwrap_err();
        for _ in 0..20 {
            let d = b.snapshot().time_until_half_open.unwrap();
            durations.push(d);
            advance(d).await;
            fail(&b).await.unwrap_err();
        }
        durations
    }
    let a = opens(7).await;
    assert_eq!(a, opens(7).await, "the same seed gives the same durations");
    assert_ne!(a, opens(8).await);
    for d in &a {
        assert!(
            *d > secs(80) && *d <= secs(100),
            "{d:?} outside (80 s, 100 s]"
        );
    }
    assert!(a.iter().any(|d| *d != a[0]), "jitter varies");
}
