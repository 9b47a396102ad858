//! `trace = true`: a span per call, a child span per attempt, outcomes recorded.

use steadfast_config::{Config, Configured};
use steadfast_core::Policy;
use steadfast_core::testing::{Events, ScriptedOp, Step, TestError};

#[tokio::test(start_paused = true)]
async fn a_retried_call_shows_its_attempts_under_its_span() {
    let live = Configured::new(
        Config::from_toml(
            r#"
            [pipelines.payments]
            trace = true
            retry = { max_attempts = 3, backoff = { kind = "constant", delay = "10ms" } }
            "#,
        )
        .unwrap(),
    )
    .unwrap();
    let payments = live.pipeline::<u32, TestError>("payments").unwrap();
    let (events, _guard) = Events::capture();
    let op = ScriptedOp::new([Step::err(TestError("flaky")), Step::ok(7)]);
    assert_eq!(payments.call(op.clone()).await.unwrap(), 7);

    let spans: Vec<_> = events
        .spans()
        .into_iter()
        .filter(|s| s.name.starts_with("steadfast."))
        .collect();
    let summary: Vec<(String, Option<String>, Option<String>)> = spans
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.field("attempt").map(str::to_owned),
                s.field("outcome").map(str::to_owned),
            )
        })
        .collect();
    let row = |name: &str, attempt: Option<&str>, outcome: &str| {
        (
            name.to_owned(),
            attempt.map(str::to_owned),
            Some(outcome.to_owned()),
        )
    };
    assert_eq!(
        summary,
        [
            row("steadfast.call", None, "ok"),
            row("steadfast.attempt", Some("1"), "error"),
            row("steadfast.attempt", Some("2"), "ok"),
        ]
    );
    assert_eq!(spans[0].field("pipeline"), Some("payments"));
    assert_eq!(spans[0].level, tracing::Level::INFO);
    assert_eq!(spans[1].level, tracing::Level::DEBUG);
    for attempt in &spans[1..] {
        assert_eq!(attempt.parent, Some(spans[0].id));
    }
}

#[test]
fn histogram_true_records_each_call_of_the_pipeline() {
    let live = Configured::new(
        Config::from_toml(
            r#"
            [pipelines.search]
            histogram = true
            timeout = { limit = "1s" }
            "#,
        )
        .unwrap(),
    )
    .unwrap();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let search = live.pipeline::<u32, TestError>("search").unwrap();
            let op = ScriptedOp::new([Step::ok(1).after(std::time::Duration::from_millis(40))]);
            assert_eq!(search.call(op).await.unwrap(), 1);
        });
    });
    let text = handle.render();
    assert!(
        text.contains(r#"steadfast_call_duration_seconds_sum{policy="search",outcome="ok"} 0.04"#),
        "{text}"
    );
    assert!(
        text.contains(r#"steadfast_call_duration_seconds_count{policy="search",outcome="ok"} 1"#)
    );
}
