//! The fault-injecting policy: which calls it picks, what it does to them,
//! and how it is switched.

use std::time::Duration;

use proptest::prelude::*;
use steadfast_chaos::{Chaos, Fault, Latency};
use steadfast_core::{Context, ErrorKind, Inspect, Pipeline, Policy};
use tokio::time::{Instant, advance};

async fn ok(chaos: &Chaos<u32, &'static str>) -> Result<u32, steadfast_core::Error<&'static str>> {
    chaos.call(|| async { Ok(7) }).await
}

#[tokio::test(start_paused = true)]
async fn errors_rejections_and_outcomes_replace_the_call() {
    let error = Chaos::builder(Fault::error(|| "reset")).build().unwrap();
    assert!(matches!(
        ok(&error).await,
        Err(steadfast_core::Error::Inner("reset"))
    ));
    let rejection = Chaos::builder(Fault::rejection())
        .name("drill")
        .build()
        .unwrap();
    let err = ok(&rejection).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.policy_name().map(ToString::to_string)),
        (ErrorKind::Shed, Some("drill".to_owned()))
    );
    let outcome = Chaos::builder(Fault::outcome(|| 503)).build().unwrap();
    assert_eq!(ok(&outcome).await.unwrap(), 503);
    assert_eq!(outcome.snapshot().injected, 1);
}

#[tokio::test(start_paused = true)]
async fn a_fixed_delay_runs_the_call_after_it() {
    let slow = Chaos::builder(Fault::latency(Latency::fixed(Duration::from_millis(250))))
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(ok(&slow).await.unwrap(), 7);
    assert_eq!(started.elapsed(), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn delays_stay_within_their_distribution() {
    let uniform = Chaos::builder(Fault::latency(Latency::uniform(
        Duration::from_millis(10),
        Duration::from_millis(20),
    )))
    .seed(3)
    .build()
    .unwrap();
    let tail = Chaos::builder(Fault::latency(Latency::long_tail(
        Duration::from_millis(10),
        Duration::from_millis(100),
    )))
    .seed(3)
    .build()
    .unwrap();
    let mut tails = Vec::new();
    for _ in 0..400 {
        let started = Instant::now();
        ok(&uniform).await.unwrap();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(10) && took <= Duration::from_millis(20),
            "{took:?}"
        );
        let started = Instant::now();
        ok(&tail).await.unwrap();
        tails.push(started.elapsed());
    }
    tails.sort_unstable();
    let median = tails[200];
    assert!(
        median > Duration::from_millis(7) && median < Duration::from_millis(14),
        "{median:?}"
    );
    assert!(
        *tails.last().unwrap() <= Duration::from_secs(1),
        "capped at ten times the p99"
    );
}

#[tokio::test(start_paused = true)]
async fn it_injects_only_inside_its_window() {
    let chaos = Chaos::builder(Fault::error(|| "down"))
        .between(Duration::from_secs(10), Duration::from_secs(20))
        .build()
        .unwrap();
    assert!(ok(&chaos).await.is_ok());
    advance(Duration::from_secs(10)).await;
    assert!(ok(&chaos).await.is_err());
    advance(Duration::from_secs(10)).await;
    assert!(ok(&chaos).await.is_ok());
    assert_eq!(chaos.snapshot().seen, 1);
}

#[tokio::test(start_paused = true)]
async fn it_injects_only_into_the_keys_it_picks() {
    let chaos = Chaos::builder(Fault::error(|| "down"))
        .only_keys(|tenant: &u32| *tenant == 42)
        .build()
        .unwrap();
    let call = |tenant: u32| {
        let chaos = chaos.clone();
        async move {
            chaos
                .call_with(Context::new().with_key(&tenant), || async {
                    Ok::<_, &str>(1)
                })
                .await
        }
    };
    assert!(call(42).await.is_err());
    assert!(call(7).await.is_ok());
    assert!(ok(&chaos).await.is_ok(), "no key: left alone");
}

#[tokio::test(start_paused = true)]
async fn it_is_switched_and_tuned_at_run_time_on_every_clone() {
    let chaos = Chaos::builder(Fault::error(|| "down"))
        .enabled(false)
        .build()
        .unwrap();
    let pipeline = Pipeline::new(chaos.clone());
    assert!(pipeline.call(|| async { Ok::<u32, &str>(1) }).await.is_ok());
    chaos.set_enabled(true);
    assert!(
        pipeline
            .call(|| async { Ok::<u32, &str>(1) })
            .await
            .is_err()
    );
    chaos.set_rate(0.0).unwrap();
    assert!(pipeline.call(|| async { Ok::<u32, &str>(1) }).await.is_ok());
    assert_eq!(chaos.set_rate(1.5).unwrap_err().field(), "rate");
    let snapshot = chaos.snapshot();
    assert_eq!(
        (
            snapshot.enabled,
            snapshot.rate,
            snapshot.seen,
            snapshot.injected
        ),
        (true, 0.0, 2, 1)
    );
}

#[test]
fn bad_configs_name_their_field() {
    let field = |b: steadfast_chaos::ChaosBuilder<u32, &str>| b.build().unwrap_err().field();
    assert_eq!(
        field(Chaos::builder(Fault::error(|| "x")).rate(f64::NAN)),
        "rate"
    );
    assert_eq!(
        field(Chaos::builder(Fault::error(|| "x")).rate(-0.1)),
        "rate"
    );
    let backwards = Chaos::builder(Fault::error(|| "x"))
        .between(Duration::from_secs(2), Duration::from_secs(1));
    assert_eq!(field(backwards), "between");
    let uniform = Latency::uniform(Duration::from_secs(2), Duration::from_secs(1));
    assert_eq!(field(Chaos::builder(Fault::latency(uniform))), "latency");
    let tail = Latency::long_tail(Duration::from_secs(2), Duration::from_secs(1));
    assert_eq!(field(Chaos::builder(Fault::latency(tail))), "latency");
}

fn injected(seed: u64, rate: f64, calls: u32) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let chaos = Chaos::builder(Fault::error(|| "x"))
            .rate(rate)
            .seed(seed)
            .build()
            .unwrap();
        for _ in 0..calls {
            let _ = ok(&chaos).await;
        }
        chaos.snapshot().injected
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Over any seed, the injected share of 2,000 calls is within four
    /// standard deviations of the rate (a binomial bound a correct source
    /// fails about once in 16,000 cases).
    #[test]
    fn the_injected_fraction_holds_its_rate_over_seeds(seed in any::<u64>(), rate in 0.01_f64..0.99) {
        let calls = 2_000_u32;
        let n = f64::from(calls);
        let got = f64::from(u32::try_from(injected(seed, rate, calls)).unwrap());
        let sd = (n * rate * (1.0 - rate)).sqrt();
        prop_assert!((got - n * rate).abs() <= 4.0 * sd + 1.0, "{got} of {n} at rate {rate}");
    }

    /// The same seed picks the same calls.
    #[test]
    fn a_seed_replays(seed in any::<u64>()) {
        prop_assert_eq!(injected(seed, 0.3, 200), injected(seed, 0.3, 200));
    }
}
