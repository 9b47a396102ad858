//! An optional feature behind a real circuit breaker: its failures become
//! `None`, and while the breaker is open the call is not made at all.

use std::time::Duration;

use steadfast::breaker::{Breaker, BreakerConfig, State};
use steadfast::degrade::{Optional, some};
use steadfast::testing::{ScriptedOp, Step, TestError};
use steadfast::{Inspect, Pipeline, Policy};

#[tokio::test(start_paused = true)]
async fn an_open_breaker_skips_the_optional_call() {
    let breaker = Breaker::builder_from(BreakerConfig::empty())
        .name("recommendations-breaker")
        .consecutive_failures(2)
        .open_for(Duration::from_secs(5))
        .build()
        .unwrap();
    let optional = Optional::builder()
        .name("recommendations")
        .skip_while_open({
            let breaker = breaker.clone();
            move || breaker.state() == State::Open
        })
        .build();
    let pipeline = Pipeline::new(optional.clone()).then(breaker.clone());
    let service = ScriptedOp::new([
        Step::err(TestError::new("recommendations down")).times(2),
        Step::ok(vec![7u32, 9]),
    ]);

    // Two failures: each becomes `None`, and the second opens the breaker.
    for _ in 0..2 {
        assert_eq!(pipeline.call(some(service.clone())).await, Ok(None));
    }
    assert_eq!(breaker.state(), State::Open);

    // While it is open the service is not called at all.
    for _ in 0..3 {
        assert_eq!(pipeline.call(some(service.clone())).await, Ok(None));
    }
    assert_eq!(service.invocations(), 2);
    assert_eq!(optional.snapshot().skipped, 3);
    assert_eq!(optional.snapshot().failed, 2);

    // Once the open period is over the breaker lets a probe through.
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(
        pipeline.call(some(service.clone())).await,
        Ok(Some(vec![7, 9]))
    );
    assert_eq!(service.invocations(), 3);
}
