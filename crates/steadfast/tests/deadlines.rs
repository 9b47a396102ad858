//! Deadlines reach every policy that reads them.
//!
//! An enclosing `Timeout` passes its deadline down only when something
//! inside declares `Policy::READS_DEADLINE` (otherwise it saves the clock
//! read). A policy that reads `ctx.deadline()` without declaring it never
//! sees a deadline, silently. So this file keeps two lists in step: the
//! source files that read the deadline (found by scanning `crates/*/src`),
//! and the policy types they belong to, each asserted to declare it. A new
//! reader fails `every_file_that_reads_the_deadline_is_listed` until its
//! policy is added to `READERS` and asserted below.

use std::path::{Path, PathBuf};
use std::time::Duration;

use steadfast::bulkhead::{Bulkhead, KeyedBulkhead};
use steadfast::ratelimit::{KeyedRateLimiter, Quota, RateLimiter};
use steadfast::retry::Retry;
use steadfast::{Context, Error, Pipeline, Policy, Timeout, time};

type T = u32;
type E = std::io::Error;

const fn reads<P: Policy<T, E>>() -> bool {
    P::READS_DEADLINE
}

/// Every source file (outside core, which defines and sets the deadline)
/// that reads a deadline, with the policy types that read it there.
const READERS: &[(&str, &[&str])] = &[
    (
        "crates/ratelimit/src/policy.rs",
        &["RateLimiter", "KeyedRateLimiter"],
    ),
    ("crates/retry/src/sequential.rs", &["Retry"]),
    (
        "crates/bulkhead/src/future.rs",
        &["Bulkhead", "KeyedBulkhead"],
    ),
];

#[test]
fn every_policy_that_reads_the_deadline_declares_it() {
    // crates/ratelimit/src/policy.rs: wait mode cuts its wait to the deadline.
    assert!(reads::<RateLimiter>());
    assert!(reads::<KeyedRateLimiter<u64>>());
    // crates/retry/src/sequential.rs: never sleeps past the deadline.
    assert!(reads::<Retry>());
    // crates/bulkhead/src/future.rs: the queue refuses at once a wait that
    // cannot fit the deadline.
    assert!(reads::<Bulkhead>());
    assert!(reads::<KeyedBulkhead<u64>>());
    // Composition forwards the declaration.
    assert!(reads::<Pipeline<RateLimiter>>());
    assert!(reads::<&RateLimiter>());
    assert!(reads::<std::sync::Arc<KeyedRateLimiter<String>>>());
}

/// The `.rs` files under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory reads") {
        let path = entry.expect("a directory entry reads").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_that_reads_the_deadline_is_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).expect("crates/ reads") {
        let krate = krate.expect("a crate directory reads").path();
        if krate.ends_with("core") {
            continue;
        }
        if krate.join("src").is_dir() {
            sources(&krate.join("src"), &mut files);
        }
    }
    let mut readers: Vec<String> = files
        .iter()
        .filter(|file| {
            std::fs::read_to_string(file)
                .expect("a source file reads")
                .lines()
                .map(str::trim_start)
                .filter(|line| !line.starts_with("//"))
                .any(|line| line.contains(".deadline()"))
        })
        .map(|file| {
            file.strip_prefix(&root)
                .expect("under the workspace")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    readers.sort();
    let mut listed: Vec<String> = READERS.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(
        readers, listed,
        "a file reads `.deadline()`: list it in READERS and assert its policies declare \
         READS_DEADLINE in every_policy_that_reads_the_deadline_declares_it"
    );
}

const MS: Duration = Duration::from_millis(1);

/// The reproducer: 1 per second, burst 1, waiting up to 10 s,
/// under a 100 ms timeout.
#[tokio::test(start_paused = true)]
async fn a_waiting_limiter_under_a_timeout_refuses_at_once() {
    let pipeline = Pipeline::new(Timeout::new(100 * MS).unwrap()).then(
        RateLimiter::builder(Quota::per_second(1).burst(1))
            .wait(Duration::from_secs(10))
            .build()
            .unwrap(),
    );
    let op = || async { Ok::<T, E>(1) };
    assert_eq!(pipeline.call(op).await.unwrap(), 1);
    let start = time::now();
    match pipeline.call(op).await {
        Err(Error::RateLimited(refused)) => {
            assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));
        }
        other => panic!("expected an immediate RateLimited, got {other:?}"),
    }
    assert_eq!(time::now(), start, "refused without waiting");
}

#[tokio::test(start_paused = true)]
async fn a_keyed_waiting_limiter_under_a_timeout_waits_only_what_fits() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_millis(1_500)).unwrap()).then(
        KeyedRateLimiter::<u64>::builder(Quota::per_second(1).burst(1))
            .wait(Duration::from_secs(10))
            .build()
            .unwrap(),
    );
    let op = || async { Ok::<T, E>(1) };
    let user = 7u64;
    let call = || pipeline.call_with(Context::new().with_key(&user), op);
    let start = time::now();
    assert_eq!(call().await.unwrap(), 1);
    // The 1 s wait fits the 1.5 s deadline: waits exactly that.
    assert_eq!(call().await.unwrap(), 1);
    assert_eq!(time::now() - start, Duration::from_secs(1));
    // Two waiters queued: the second's turn (2 s away) is past its deadline.
    let (first, second) = tokio::join!(call(), async {
        tokio::task::yield_now().await;
        let at = time::now();
        (call().await, time::now() - at)
    });
    assert_eq!(first.unwrap(), 1);
    assert!(matches!(second.0, Err(Error::RateLimited(_))));
    assert_eq!(second.1, Duration::ZERO, "refused at once");
}
