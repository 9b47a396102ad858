//! The running policies of a config, and reloading them.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::error::{ConfigErrors, at};
use crate::handle::{Change, Handle};
use crate::pipeline::{ConfiguredPipeline, Rebuild};
use crate::spec::{Config, PolicySpec, Stage};

/// The policies built from one config, by key: a named policy's name, or
/// `pipeline.section` for a pipeline's own.
#[derive(Debug)]
pub(crate) struct Built {
    pub(crate) config: Config,
    pub(crate) policies: BTreeMap<String, (PolicySpec, Handle)>,
    pub(crate) pipelines: BTreeMap<String, Assembly>,
}

impl Built {
    /// Every policy of `config` with its key, the named ones first.
    fn specs(config: &Config) -> Vec<(String, &PolicySpec)> {
        let mut out: Vec<(String, &PolicySpec)> = config
            .policies
            .iter()
            .map(|(k, s)| (k.clone(), s))
            .collect();
        for (name, pipeline) in &config.pipelines {
            for stage in &pipeline.stages {
                if let Stage::Inline { section, spec } = stage {
                    out.push((format!("{name}.{section}"), spec));
                }
            }
        }
        out
    }

    fn stages(config: &Config) -> BTreeMap<String, Assembly> {
        config
            .pipelines
            .iter()
            .map(|(name, p)| {
                let keys = p
                    .stages
                    .iter()
                    .map(|s| match s {
                        Stage::Named(policy) => policy.clone(),
                        Stage::Inline { section, .. } => format!("{name}.{section}"),
                    })
                    .collect();
                (
                    name.clone(),
                    Assembly {
                        keys,
                        trace: p.trace,
                        histogram: p.histogram,
                    },
                )
            })
            .collect()
    }

    fn path_of(key: &str, config: &Config) -> String {
        if config.policies.contains_key(key) {
            let kind = config.policies[key].config.kind().as_str();
            format!("policies.{key}.{kind}")
        } else {
            format!("pipelines.{key}")
        }
    }
}

/// How to put a pipeline together.
#[derive(Debug)]
pub(crate) struct Assembly {
    /// Its stages (keys into `Built::policies`), outermost first.
    pub(crate) keys: Vec<String>,
    pub(crate) trace: bool,
    pub(crate) histogram: bool,
}

pub(crate) struct Shared {
    pub(crate) current: ArcSwap<Built>,
    /// The pipelines handed out, rebuilt at every reload.
    pipelines: Mutex<Vec<Weak<dyn Rebuild>>>,
    /// One reload at a time.
    reloading: Mutex<()>,
}

/// What a reload changed, by policy key (a named policy's name, or
/// `pipeline.section`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// Policies whose config is the same: untouched.
    pub unchanged: Vec<String>,
    /// Policies reconfigured keeping their state (breakers, bulkheads,
    /// rate limiters), or rebuilt (timeouts, retries: no state to keep).
    pub changed: Vec<String>,
    /// Policies new in this config.
    pub added: Vec<String>,
    /// Policies gone from it.
    pub removed: Vec<String>,
}

/// The running policies of a [`Config`]: pipelines to call through, a
/// registry for health and metrics, and [`reload`](Configured::reload).
///
/// Cheap to clone: clones share the policies.
///
/// ```
/// use steadfast_config::{Config, Configured};
/// use steadfast_core::{Error, Policy};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let config = Config::from_toml(r#"
///     [pipelines.payments]
///     timeout = { limit = "2s" }
///     breaker = { preset = "empty", consecutive_failures = 2 }
/// "#).unwrap();
/// let live = Configured::new(config).unwrap();
/// let payments = live.pipeline::<u32, std::io::Error>("payments").unwrap();
/// assert_eq!(payments.call(|| async { Ok(7) }).await.unwrap(), 7);
///
/// // Tighter limits, the same breaker.
/// let report = live.reload(Config::from_toml(r#"
///     [pipelines.payments]
///     timeout = { limit = "1s" }
///     breaker = { preset = "empty", consecutive_failures = 1 }
/// "#).unwrap()).unwrap();
/// assert_eq!(report.changed, ["payments.timeout", "payments.breaker"]);
/// # }
/// ```
#[derive(Clone)]
pub struct Configured {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Configured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = self.shared.current.load();
        f.debug_struct("Configured")
            .field("pipelines", &built.pipelines.keys().collect::<Vec<_>>())
            .field("policies", &built.policies.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Configured {
    /// Builds every policy of `config`.
    pub fn new(config: Config) -> Result<Configured, ConfigErrors> {
        let mut problems = Vec::new();
        let mut policies = BTreeMap::new();
        for (key, spec) in Built::specs(&config) {
            match Handle::build(&spec.config) {
                Ok(handle) => {
                    policies.insert(key, ((*spec).clone(), handle));
                }
                Err(err) => problems.push(at(&Built::path_of(&key, &config), &err)),
            }
        }
        if !problems.is_empty() {
            return Err(ConfigErrors::new(problems));
        }
        let built = Built {
            pipelines: Built::stages(&config),
            policies,
            config,
        };
        Ok(Configured {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(built),
                pipelines: Mutex::new(Vec::new()),
                reloading: Mutex::new(()),
            }),
        })
    }

    /// The config now.
    pub fn config(&self) -> Config {
        self.shared.current.load().config.clone()
    }

    /// The pipeline named `name`, for calls returning `Result<T, E>`.
    ///
    /// It follows reloads: each call runs under the pipeline as it is when
    /// the call starts, and finishes under it. `None` when the config has
    /// no such pipeline. Ask once (at start-up) and clone the handle: each
    /// handle is rebuilt at every reload.
    pub fn pipeline<T: Send + 'static, E: Send + 'static>(
        &self,
        name: &str,
    ) -> Option<ConfiguredPipeline<T, E>> {
        let built = self.shared.current.load();
        built.pipelines.get(name)?;
        let pipeline = ConfiguredPipeline::new(name, &built);
        let mut handed = self.shared.pipelines.lock();
        handed.retain(|w| w.strong_count() > 0);
        handed.push(pipeline.weak());
        Some(pipeline)
    }

    /// Applies `config` to the running policies, all of it or none.
    ///
    /// - A policy whose config is unchanged is untouched.
    /// - Breakers and bulkheads are reconfigured in place: a breaker keeps
    ///   its state and windows, a bulkhead its permits and queue.
    /// - Rate limiters are replaced by ones that carry on from them (a keyed
    ///   limiter shares its keys with the new one).
    /// - Timeouts and retries are rebuilt (a retry's budget starts full).
    /// - A policy whose kind changed is built afresh; one gone is dropped
    ///   once the calls inside it finish.
    ///
    /// Calls started before the reload finish under the pipeline they
    /// started with; calls after it run under the new one. If any policy
    /// refuses its new config (invalid, or a change of what its state is
    /// made of: see `Breaker::reconfigure`), nothing changes, an ERROR
    /// event says why, and the errors come back, each at its path.
    pub fn reload(&self, config: Config) -> Result<ReloadReport, ConfigErrors> {
        let _one = self.shared.reloading.lock();
        let old = self.shared.current.load_full();
        let mut problems = Vec::new();
        let mut report = ReloadReport::default();
        let mut plans = Vec::new();
        for (key, spec) in Built::specs(&config) {
            let path = Built::path_of(&key, &config);
            let plan = if let Some((old_spec, handle)) = old.policies.get(&key) {
                match handle.plan(&old_spec.config, &spec.config) {
                    Some(Ok(Change::Keep)) if old_spec.critical == spec.critical => {
                        report.unchanged.push(key.clone());
                        Ok((handle.clone(), false))
                    }
                    Some(Ok(Change::Keep)) => {
                        report.changed.push(key.clone());
                        Ok((handle.clone(), false))
                    }
                    Some(Ok(Change::InPlace)) => {
                        report.changed.push(key.clone());
                        Ok((handle.clone(), true))
                    }
                    Some(Ok(Change::Replace(new))) => {
                        report.changed.push(key.clone());
                        Ok((new, false))
                    }
                    Some(Err(err)) => Err(err),
                    None => {
                        report.changed.push(key.clone());
                        Handle::build(&spec.config).map(|h| (h, false))
                    }
                }
            } else {
                report.added.push(key.clone());
                Handle::build(&spec.config).map(|h| (h, false))
            };
            match plan {
                Ok((handle, in_place)) => plans.push((key, (*spec).clone(), handle, in_place)),
                Err(err) => problems.push(at(&path, &err)),
            }
        }
        if !problems.is_empty() {
            let errors = ConfigErrors::new(problems);
            tracing::error!(errors = %errors, "config reload rejected; the running config stays");
            return Err(errors);
        }
        report.removed = old
            .policies
            .keys()
            .filter(|k| !plans.iter().any(|(key, ..)| key == *k))
            .cloned()
            .collect();
        let mut policies = BTreeMap::new();
        for (key, spec, handle, in_place) in plans {
            if in_place && let Err(err) = handle.apply_in_place(&spec.config) {
                // Checked above under the reload lock, so not expected.
                tracing::error!(policy = %key, error = %err, "a checked reconfiguration failed");
            }
            policies.insert(key, (spec, handle));
        }
        let built = Arc::new(Built {
            pipelines: Built::stages(&config),
            policies,
            config,
        });
        self.shared.current.store(Arc::clone(&built));
        let mut handed = self.shared.pipelines.lock();
        handed.retain(|w| match w.upgrade() {
            Some(pipeline) => {
                pipeline.rebuild(&built);
                true
            }
            None => false,
        });
        tracing::info!(
            changed = report.changed.len(),
            added = report.added.len(),
            removed = report.removed.len(),
            unchanged = report.unchanged.len(),
            "config reloaded"
        );
        Ok(report)
    }
}
