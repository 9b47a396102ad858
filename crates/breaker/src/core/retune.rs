//! Changing a running breaker's thresholds without losing its state.

use std::sync::atomic::Ordering::Relaxed;

use steadfast_core::ConfigError;

use super::Core;
use crate::config::{BreakerConfig, Window};

/// Whether two windows have one shape: the same kind and size (the minimum
/// calls may differ: they are a threshold).
fn same_shape(a: &Window, b: &Window) -> bool {
    match (a, b) {
        (Window::Count(a), Window::Count(b)) => a.calls == b.calls,
        (Window::Time(a), Window::Time(b)) => a.length == b.length && a.buckets == b.buckets,
        _ => false,
    }
}

fn fixed(field: &'static str, what: &str) -> ConfigError {
    ConfigError::new(
        "breaker",
        field,
        format!("cannot change on a running breaker ({what}); build a new breaker for that"),
    )
}

impl Core {
    /// Checks that `config` may replace the current one: valid, and with
    /// the name, the mode and the windows' shapes of the one built.
    pub(crate) fn check_retune(&self, config: &BreakerConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let built = &self.built;
        if config.name != built.name {
            return Err(fixed("name", "its name").with_value(config.name.as_str()));
        }
        if config.metrics_only != built.metrics_only {
            return Err(fixed("metrics_only", "its mode"));
        }
        let rates_fit = config.failure_rates.len() == built.failure_rates.len()
            && config
                .failure_rates
                .iter()
                .zip(&built.failure_rates)
                .all(|(a, b)| same_shape(&a.window, &b.window));
        if !rates_fit {
            return Err(fixed(
                "failure_rates",
                "the number of windows and their sizes; each `rate` and minimum may change",
            ));
        }
        let slow_fits = match (&config.slow_call_rate, &built.slow_call_rate) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.slower_than == b.slower_than && same_shape(&a.window, &b.window)
            }
            _ => false,
        };
        if !slow_fits {
            return Err(fixed(
                "slow_call_rate",
                "whether it is set, `slower_than` and the window's size; `rate` and the minimum may change",
            ));
        }
        Ok(())
    }

    /// Applies a config [`check_retune`](Self::check_retune) accepted. The
    /// state, the windows' counts and any running trial are kept.
    pub(crate) fn retune(&self, config: BreakerConfig) {
        let mut l = self.locked.lock();
        let limit = config.consecutive_failures.unwrap_or(0);
        if self.consecutive_limit.swap(limit, Relaxed) == 0 && limit > 0 {
            // The run was not counted while the rule was off: start it afresh.
            let period = self.word().period();
            self.consecutive.store(
                (period & 0xFFFF_FFFF) << 32,
                std::sync::atomic::Ordering::Release,
            );
        }
        self.count_local_refusals
            .store(config.count_local_refusals, Relaxed);
        for (tracker, rule) in self.failure.iter().zip(&config.failure_rates) {
            tracker.retune(rule.rate, &rule.window);
        }
        if let (Some((_, tracker)), Some(rule)) = (&self.slow, &config.slow_call_rate) {
            tracker.retune(rule.rate, &rule.window);
        }
        let trials = config.half_open.trials as usize;
        if l.trials.len() < trials {
            l.trials.resize(trials, None);
        }
        l.config = config;
    }

    /// The configuration now.
    pub(crate) fn current_config(&self) -> BreakerConfig {
        self.locked.lock().config.clone()
    }
}
