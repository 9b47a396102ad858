//! From a file's tree to a [`Config`]: presets, defaults, names, types,
//! validation; every problem collected with its path.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ConfigErrors, Problem, at};
use crate::presets;
use crate::spec::{Config, Kind, PipelineSpec, PolicyConfig, PolicySpec, SECTIONS, Stage};

const TOP: [&str; 4] = ["defaults", "presets", "policies", "pipelines"];
/// Keys of a section that are the config crate's, not the policy's.
const META: [&str; 3] = ["preset", "critical", "keyed"];
/// How many presets may start from one another before it is called a cycle.
const MAX_PRESET_DEPTH: usize = 8;

fn section_kind(key: &str) -> Option<Kind> {
    SECTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, kind)| *kind)
}

fn kind_named(key: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.as_str() == key)
}

fn expected(list: &[&str]) -> String {
    list.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table<'v>(
    value: &'v Value,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'v Map<String, Value>> {
    if let Value::Object(map) = value {
        Some(map)
    } else {
        problems.push(Problem::new(path, "must be a table"));
        None
    }
}

/// `over`'s fields on top of `base`'s, tables merged field by field;
/// anything else (a list, a number) replaced whole.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

struct Parser<'f> {
    presets: BTreeMap<(Kind, String), (&'f Value, String)>,
    problems: Vec<Problem>,
}

/// A section before its type is read: the merged fields, the meta keys.
struct Raw {
    fields: Map<String, Value>,
    critical: bool,
    keyed: bool,
}

impl Parser<'_> {
    /// The fields of preset `name` of `kind`, with the presets it starts from.
    fn preset(&mut self, kind: Kind, name: &str, path: &str, depth: usize) -> Option<Value> {
        if let Some(value) = presets::builtin(kind, name) {
            return Some(value);
        }
        let Some((own, own_path)) = self.presets.get(&(kind, name.to_owned())).cloned() else {
            let mut known: Vec<String> = presets::builtin_names(kind)
                .iter()
                .map(|n| (*n).to_owned())
                .collect();
            known.extend(
                self.presets
                    .keys()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, n)| n.clone()),
            );
            let known = if known.is_empty() {
                "there are none".to_owned()
            } else {
                format!(
                    "expected one of {}",
                    expected(&known.iter().map(String::as_str).collect::<Vec<_>>())
                )
            };
            self.problems.push(Problem::new(
                path,
                format!("no {} preset named `{name}`; {known}", kind.as_str()),
            ));
            return None;
        };
        if depth >= MAX_PRESET_DEPTH {
            self.problems.push(Problem::new(
                format!("{own_path}.preset"),
                "presets start from one another too deeply (is there a cycle?)",
            ));
            return None;
        }
        let map = table(own, &own_path, &mut self.problems)?;
        let mut base = match map.get("preset") {
            Some(Value::String(parent)) => {
                self.preset(kind, parent, &format!("{own_path}.preset"), depth + 1)?
            }
            Some(_) => {
                self.problems.push(Problem::new(
                    format!("{own_path}.preset"),
                    "must be a preset's name",
                ));
                return None;
            }
            None => Value::Object(Map::new()),
        };
        let mut own = map.clone();
        own.remove("preset");
        merge(&mut base, &Value::Object(own));
        Some(base)
    }

    /// A section's fields: from the preset it names (if any), else over
    /// `inherited`, then its own on top.
    fn section(
        &mut self,
        kind: Kind,
        path: &str,
        own: &Value,
        inherited: Option<Raw>,
    ) -> Option<Raw> {
        let own = match own {
            Value::String(name) => {
                let fields = self.preset(kind, name, path, 0)?;
                return Some(Raw {
                    fields: into_map(fields),
                    critical: false,
                    keyed: false,
                });
            }
            Value::Object(map) => map,
            _ => {
                self.problems.push(Problem::new(
                    path,
                    "must be a table, or the name of a preset",
                ));
                return None;
            }
        };
        let mut raw = match own.get("preset") {
            Some(Value::String(name)) => Raw {
                fields: into_map(self.preset(kind, name, &format!("{path}.preset"), 0)?),
                critical: false,
                keyed: false,
            },
            Some(_) => {
                self.problems.push(Problem::new(
                    format!("{path}.preset"),
                    "must be a preset's name",
                ));
                return None;
            }
            None => inherited.unwrap_or(Raw {
                fields: Map::new(),
                critical: false,
                keyed: false,
            }),
        };
        let mut ok = true;
        for (meta, slot) in [("critical", &mut raw.critical), ("keyed", &mut raw.keyed)] {
            match own.get(meta) {
                None => {}
                Some(Value::Bool(b)) if meta != "keyed" || kind == Kind::RateLimit => *slot = *b,
                Some(Value::Bool(_)) => {
                    self.problems.push(Problem::new(
                        format!("{path}.keyed"),
                        "only a rate limit is keyed",
                    ));
                    ok = false;
                }
                Some(_) => {
                    self.problems.push(Problem::new(
                        format!("{path}.{meta}"),
                        "must be true or false",
                    ));
                    ok = false;
                }
            }
        }
        let fields: Map<String, Value> = own
            .iter()
            .filter(|(k, _)| !META.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut merged = Value::Object(std::mem::take(&mut raw.fields));
        merge(&mut merged, &Value::Object(fields));
        raw.fields = into_map(merged);
        ok.then_some(raw)
    }

    /// The typed, validated policy of a resolved section.
    fn policy(
        &mut self,
        kind: Kind,
        path: &str,
        raw: Raw,
        default_name: &str,
    ) -> Option<PolicySpec> {
        let mut fields = raw.fields;
        fields
            .entry("name")
            .or_insert_with(|| Value::String(default_name.to_owned()));
        let value = Value::Object(fields);
        let config = match kind {
            Kind::Timeout => self
                .typed(path, value, |c: steadfast_core::TimeoutConfig| c.validate())
                .map(PolicyConfig::Timeout),
            Kind::Retry => self
                .typed(path, value, |c: steadfast_retry::RetryConfig| c.validate())
                .map(PolicyConfig::Retry),
            Kind::Breaker => self
                .typed(path, value, |c: steadfast_breaker::BreakerConfig| {
                    c.validate()
                })
                .map(PolicyConfig::Breaker),
            Kind::Bulkhead => self
                .typed(path, value, |c: steadfast_bulkhead::BulkheadConfig| {
                    c.validate()
                })
                .map(PolicyConfig::Bulkhead),
            Kind::RateLimit => {
                let keyed = raw.keyed;
                let config = if keyed {
                    self.typed(path, value, |c: steadfast_ratelimit::RateLimiterConfig| {
                        c.validate()
                    })
                } else {
                    self.typed(path, value, steadfast_ratelimit::RateLimiter::from_config)
                };
                config.map(|config| PolicyConfig::RateLimit { config, keyed })
            }
        }?;
        Some(PolicySpec {
            config,
            critical: raw.critical,
        })
    }

    /// `value` read as `C` (unknown fields and bad values at their path),
    /// then validated (a direct limiter's extra rules are checked by
    /// building it, which starts nothing).
    fn typed<C: DeserializeOwned + Clone, P>(
        &mut self,
        path: &str,
        value: Value,
        build: impl FnOnce(C) -> Result<P, steadfast_core::ConfigError>,
    ) -> Option<C> {
        let config: C = match serde_path_to_error::deserialize(value) {
            Ok(config) => config,
            Err(err) => {
                let inner = err.path().to_string();
                let at = if inner == "." {
                    path.to_owned()
                } else {
                    format!("{path}.{inner}")
                };
                self.problems
                    .push(Problem::new(at, err.into_inner().to_string()));
                return None;
            }
        };
        match build(config.clone()) {
            Ok(_) => Some(config),
            Err(err) => {
                self.problems.push(at(path, &err));
                None
            }
        }
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl Config {
    /// Reads a config from serde's data model: a file's tree as any serde
    /// format reads it (`serde_json::Value`, or
    /// `toml::from_str::<serde_json::Value>`). See the
    /// [crate docs](crate) for the layout.
    pub fn from_value(root: &Value) -> Result<Config, ConfigErrors> {
        let mut problems = Vec::new();
        let Some(root) = table(root, "", &mut problems) else {
            return Err(ConfigErrors::one("", "a config must be a table"));
        };
        for key in root.keys() {
            if !TOP.contains(&key.as_str()) {
                problems.push(Problem::new(
                    key,
                    format!("unknown field `{key}`, expected one of {}", expected(&TOP)),
                ));
            }
        }
        let mut parser = Parser {
            presets: BTreeMap::new(),
            problems,
        };
        if let Some(presets) = root
            .get("presets")
            .and_then(|v| table(v, "presets", &mut parser.problems))
        {
            for (kind_key, named) in presets {
                let path = format!("presets.{kind_key}");
                let Some(kind) = kind_named(kind_key) else {
                    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                    parser.problems.push(Problem::new(
                        path,
                        format!(
                            "unknown kind `{kind_key}`, expected one of {}",
                            expected(&kinds)
                        ),
                    ));
                    continue;
                };
                let Some(named) = table(named, &path, &mut parser.problems) else {
                    continue;
                };
                for (name, value) in named {
                    let path = format!("{path}.{name}");
                    if presets::builtin(kind, name).is_some() {
                        parser.problems.push(Problem::new(
                            path,
                            "a built-in preset has this name; choose another",
                        ));
                        continue;
                    }
                    parser.presets.insert((kind, name.clone()), (value, path));
                }
            }
        }
        let policies = root
            .get("policies")
            .map(|v| parser.policies(v))
            .unwrap_or_default();
        let empty = Value::Object(Map::new());
        let defaults = match root.get("defaults") {
            Some(v) => v,
            None => &empty,
        };
        let mut pipelines = BTreeMap::new();
        if let Some(all) = root
            .get("pipelines")
            .and_then(|v| table(v, "pipelines", &mut parser.problems))
        {
            for (name, value) in all {
                if let Some(spec) = parser.pipeline(name, value, defaults, &policies) {
                    pipelines.insert(name.clone(), spec);
                }
            }
        }
        if parser.problems.is_empty() {
            return Ok(Config {
                policies,
                pipelines,
            });
        }
        // `defaults` is read once per pipeline: say each of its problems once.
        let mut problems: Vec<Problem> = Vec::new();
        for problem in parser.problems {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        Err(ConfigErrors::new(problems))
    }

    /// Reads a TOML config. A syntax error is one problem with its line
    /// and column; otherwise every problem is reported (see [`ConfigErrors`]).
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Config, ConfigErrors> {
        let root: Value = toml::from_str(text).map_err(|e| ConfigErrors::one("", e.to_string()))?;
        Config::from_value(&root)
    }

    /// Reads the TOML file at `path`.
    #[cfg(feature = "toml")]
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Config, crate::LoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| crate::LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(Config::from_toml(&text)?)
    }
}

impl Parser<'_> {
    fn policies(&mut self, value: &Value) -> BTreeMap<String, PolicySpec> {
        let mut out = BTreeMap::new();
        let Some(all) = table(value, "policies", &mut self.problems) else {
            return out;
        };
        for (name, value) in all {
            let path = format!("policies.{name}");
            let Some(map) = table(value, &path, &mut self.problems) else {
                continue;
            };
            let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            let mut found = None;
            let mut ok = true;
            for key in map.keys() {
                if kind_named(key).is_none() {
                    self.problems.push(Problem::new(
                        format!("{path}.{key}"),
                        format!(
                            "unknown field `{key}`, expected one kind of policy: {}",
                            expected(&kinds)
                        ),
                    ));
                    ok = false;
                } else if found.replace(key).is_some() {
                    self.problems.push(Problem::new(
                        path.clone(),
                        "a named policy is one policy: set one kind only",
                    ));
                    ok = false;
                }
            }
            let Some(key) = found else {
                if ok {
                    self.problems.push(Problem::new(
                        path,
                        format!("set the policy's kind: one of {}", expected(&kinds)),
                    ));
                }
                continue;
            };
            if !ok {
                continue;
            }
            let kind = kind_named(key).expect("checked above");
            let section_path = format!("{path}.{key}");
            let Some(raw) = self.section(kind, &section_path, &map[key], None) else {
                continue;
            };
            if let Some(spec) = self.policy(kind, &section_path, raw, name) {
                out.insert(name.clone(), spec);
            }
        }
        out
    }

    // One pass over a pipeline, in the order its problems are reported.
    #[allow(clippy::too_many_lines)]
    fn pipeline(
        &mut self,
        name: &str,
        value: &Value,
        defaults: &Value,
        policies: &BTreeMap<String, PolicySpec>,
    ) -> Option<PipelineSpec> {
        let path = format!("pipelines.{name}");
        let own = table(value, &path, &mut self.problems)?;
        let defaults = table(defaults, "defaults", &mut self.problems)?;
        let allowed: Vec<&str> = SECTIONS
            .iter()
            .map(|(k, _)| *k)
            .chain(["stages", "trace", "histogram"])
            .collect();
        let mut ok = true;
        for (map, at) in [(defaults, "defaults"), (own, path.as_str())] {
            for key in map.keys() {
                if !allowed.contains(&key.as_str()) {
                    self.problems.push(Problem::new(
                        format!("{at}.{key}"),
                        format!(
                            "unknown field `{key}`, expected one of {}",
                            expected(&allowed)
                        ),
                    ));
                    ok = false;
                }
            }
        }
        let mut flag = |key: &str| match own.get(key).or_else(|| defaults.get(key)) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.problems.push(Problem::new(
                    format!("{path}.{key}"),
                    "must be true or false",
                ));
                ok = false;
                false
            }
        };
        let (trace, histogram) = (flag("trace"), flag("histogram"));
        // Each section: its own value over the default's, `false` for none.
        let mut sections = BTreeMap::new();
        for (key, kind) in SECTIONS {
            let section_path = format!("{path}.{key}");
            let inherited = match defaults.get(key) {
                None | Some(Value::Bool(false)) => None,
                Some(v) => {
                    let raw = self.section(kind, &format!("defaults.{key}"), v, None);
                    if raw.is_none() {
                        ok = false;
                    }
                    raw
                }
            };
            let raw = match own.get(key) {
                Some(Value::Bool(false)) => None,
                Some(v) => {
                    let raw = self.section(kind, &section_path, v, inherited);
                    if raw.is_none() {
                        ok = false;
                    }
                    raw
                }
                None => inherited,
            };
            if let Some(raw) = raw {
                // A section all inherited is at fault in `defaults`, once.
                let at = if own.contains_key(key) {
                    section_path
                } else {
                    format!("defaults.{key}")
                };
                sections.insert(key, (kind, at, raw));
            }
        }
        let explicit = own.get("stages").or_else(|| defaults.get("stages"));
        let stage_names: Vec<(String, String)> = match explicit {
            // Without `stages`, the sections run in the documented order.
            None => SECTIONS
                .iter()
                .filter(|(k, _)| sections.contains_key(k))
                .map(|(k, _)| ((*k).to_owned(), format!("{path}.{k}")))
                .collect(),
            Some(Value::Array(items)) => {
                let mut names = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}.stages[{i}]");
                    if let Value::String(s) = item {
                        names.push((s.clone(), at));
                    } else {
                        self.problems
                            .push(Problem::new(at, "must be a stage's or a policy's name"));
                        ok = false;
                    }
                }
                names
            }
            Some(_) => {
                self.problems.push(Problem::new(
                    format!("{path}.stages"),
                    "must be a list of names",
                ));
                return None;
            }
        };
        let mut stages = Vec::new();
        let mut used = Vec::new();
        for (stage, at) in stage_names {
            if used.contains(&stage) {
                self.problems.push(Problem::new(
                    at,
                    format!("`{stage}` is already a stage of this pipeline"),
                ));
                ok = false;
                continue;
            }
            used.push(stage.clone());
            if let Some((kind, section_path, raw)) = sections.remove(stage.as_str()) {
                let default_name = format!("{name}.{stage}");
                match self.policy(kind, &section_path, raw, &default_name) {
                    Some(spec) => stages.push(Stage::Inline {
                        section: stage,
                        spec: Box::new(spec),
                    }),
                    None => ok = false,
                }
            } else if policies.contains_key(&stage) {
                stages.push(Stage::Named(stage));
            } else if section_kind(&stage).is_some() {
                self.problems.push(Problem::new(
                    at,
                    format!("`{stage}` is not set: add a `{stage}` section to the pipeline or to `defaults`"),
                ));
                ok = false;
            } else {
                self.problems.push(Problem::new(
                    at,
                    format!("no section or named policy `{stage}`"),
                ));
                ok = false;
            }
        }
        // A section of the pipeline's own that no stage runs is a mistake.
        for (key, (_, section_path, _)) in &sections {
            if own.contains_key(*key) {
                self.problems.push(Problem::new(
                    section_path.clone(),
                    format!("set, but not in `stages`: add \"{key}\" to `stages` or remove it"),
                ));
                ok = false;
            }
        }
        ok.then_some(PipelineSpec {
            stages,
            trace,
            histogram,
        })
    }
}
