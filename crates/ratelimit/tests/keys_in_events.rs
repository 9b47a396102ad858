//! Events name the policy, not the key (user names, IPs, emails), unless
//! the config opts in with `log_keys`.

use std::time::Duration;

use steadfast_core::testing::{EventRecord, Events};
use steadfast_ratelimit::{KeyedRateLimiter, Lockout, Quota};

fn lock_alice(log_keys: bool) -> Vec<EventRecord> {
    let (events, _guard) = Events::capture();
    let lockout = Lockout::<String>::builder()
        .name("login")
        .max_failures(1)
        .log_keys(log_keys)
        .build()
        .unwrap();
    assert!(lockout.record_failure(&"alice".to_owned()).is_some());
    events
        .records()
        .into_iter()
        .filter(|e| e.message == "key locked out")
        .collect()
}

fn abuse_by_mallory(log_keys: bool) -> Vec<EventRecord> {
    let (events, _guard) = Events::capture();
    let limiter = KeyedRateLimiter::<String>::builder(Quota::per_hour(1))
        .name("per-user")
        .abuse(1, Duration::from_secs(10))
        .log_keys(log_keys)
        .build()
        .unwrap();
    let mallory = "mallory@example.com".to_owned();
    limiter.check(&mallory).unwrap();
    for _ in 0..2 {
        assert!(limiter.check(&mallory).is_err());
    }
    events
        .records()
        .into_iter()
        .filter(|e| {
            e.message
                .starts_with("key rejected more than the abuse threshold")
        })
        .collect()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_lockout_event_names_the_policy_and_not_the_key() {
    let quiet = lock_alice(false);
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0].level, tracing::Level::INFO);
    assert_eq!(quiet[0].field("policy"), Some("login"));
    assert_eq!(quiet[0].field("key"), None);
    assert!(
        quiet[0].fields.iter().all(|(_, v)| !v.contains("alice")),
        "{quiet:?}"
    );

    let opted_in = lock_alice(true);
    assert_eq!(opted_in.len(), 1);
    assert_eq!(opted_in[0].field("key"), Some(r#""alice""#));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_abuse_event_names_the_policy_and_not_the_key() {
    let quiet = abuse_by_mallory(false);
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0].level, tracing::Level::WARN);
    assert_eq!(quiet[0].field("policy"), Some("per-user"));
    assert_eq!(quiet[0].field("key"), None);
    assert!(
        quiet[0].fields.iter().all(|(_, v)| !v.contains("mallory")),
        "{quiet:?}"
    );

    let opted_in = abuse_by_mallory(true);
    assert_eq!(opted_in.len(), 1);
    assert_eq!(opted_in[0].field("key"), Some(r#""mallory@example.com""#));
}
