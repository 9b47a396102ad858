//! Presets: coherent defaults for common dependencies. `docs/breaker.md`
//! explains the choices against resilience4j's and Polly's.

use std::time::Duration;

use super::{BreakerConfig, FailureRate, HalfOpen, OpenDuration, TimeWindow, Window};

impl BreakerConfig {
    /// The default: for a dependency of unknown traffic.
    ///
    /// - trips after **5 consecutive failures** (a hard-down dependency at low
    ///   traffic), or at **50 % failures over the last 10 s** once at least
    ///   **20 calls** are in it (a partial outage at high traffic);
    /// - opens for **5 s**, doubling on each failed probe up to **2 min**,
    ///   with up to 10 % jitter;
    /// - half-open: **3 trials**, **2** of which must succeed, each within
    ///   **10 s**: one unlucky trial does not keep a recovered dependency
    ///   locked out for another, doubled, open.
    ///
    /// After the dependency recovers, the breaker closes within the open
    /// then in progress plus the trials: at most `min(2 min, 1.12 × the
    /// outage so far + 5 s)` plus the trials' own time, since each open
    /// lasts at most the sum of the earlier ones (less their jitter) plus
    /// 5 s.
    pub fn standard() -> Self {
        BreakerConfig {
            consecutive_failures: Some(5),
            failure_rates: vec![FailureRate::new(
                0.5,
                Window::Time(TimeWindow::new(Duration::from_secs(10), 20)),
            )],
            open_duration: OpenDuration::growing(
                Duration::from_secs(5),
                2.0,
                Duration::from_secs(120),
            )
            .with_jitter(0.1),
            half_open: HalfOpen::new(3)
                .with_success_rate(2.0 / 3.0)
                .with_trial_deadline(Duration::from_secs(10)),
            ..BreakerConfig::empty()
        }
    }

    /// A database: **5 consecutive failures**, open a fixed **30 s**, one
    /// trial within 10 s.
    ///
    /// A database either answers or is down (failover, connection storm);
    /// a fixed wait long enough for a failover is what helps it most.
    pub fn database() -> Self {
        BreakerConfig {
            name: "database".into(),
            consecutive_failures: Some(5),
            open_duration: OpenDuration::fixed(Duration::from_secs(30)),
            half_open: HalfOpen::new(1).with_trial_deadline(Duration::from_secs(10)),
            ..BreakerConfig::empty()
        }
    }

    /// A remote AI API: **3 consecutive failures**, open **60 s** doubling up
    /// to **10 min** with 20 % jitter, one trial within 2 min.
    ///
    /// Provider outages last minutes and calls are slow and costly, so the
    /// breaker gives up quickly and backs off hard.
    pub fn ai_api() -> Self {
        BreakerConfig {
            name: "ai-api".into(),
            consecutive_failures: Some(3),
            open_duration: OpenDuration::growing(
                Duration::from_secs(60),
                2.0,
                Duration::from_secs(600),
            )
            .with_jitter(0.2),
            half_open: HalfOpen::new(1).with_trial_deadline(Duration::from_secs(120)),
            ..BreakerConfig::empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate() {
        BreakerConfig::standard().validate().unwrap();
        BreakerConfig::database().validate().unwrap();
        BreakerConfig::ai_api().validate().unwrap();
        assert_eq!(
            BreakerConfig::empty().validate().unwrap_err().field(),
            "consecutive_failures"
        );
    }
}
