//! The opt-in latency histogram: one sample per call, by outcome, exact on
//! the paused clock.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use steadfast_core::{Pipeline, Policy, Timeout};
use steadfast_observe::CallDuration;

#[test]
fn each_call_is_one_sample_labelled_by_its_outcome() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let pipeline = Pipeline::new(CallDuration::new("payments"))
                .then(Timeout::new(Duration::from_millis(500)).unwrap());
            for wait in [250, 125] {
                let ok = pipeline
                    .call(|| async move {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        Ok::<_, std::io::Error>(1)
                    })
                    .await;
                assert!(ok.is_ok());
            }
            let slow = pipeline
                .call(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok::<_, std::io::Error>(1)
                })
                .await;
            assert!(slow.is_err());
        });
    });
    let text = handle.render();
    // The exporter renders series in no fixed order.
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("steadfast_call_duration_seconds_"))
        .collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            r#"steadfast_call_duration_seconds_count{policy="payments",outcome="ok"} 2"#,
            r#"steadfast_call_duration_seconds_count{policy="payments",outcome="timeout"} 1"#,
            r#"steadfast_call_duration_seconds_sum{policy="payments",outcome="ok"} 0.375"#,
            r#"steadfast_call_duration_seconds_sum{policy="payments",outcome="timeout"} 0.5"#,
        ]
    );
}
