//! Built-in presets, by kind and name.

use serde_json::Value;
use steadfast_breaker::BreakerConfig;

use crate::spec::Kind;

/// The built-in presets of `kind`: breaker `standard`, `database`,
/// `ai_api` and `empty` (no trip rule: a base for one's own).
pub(crate) fn builtin(kind: Kind, name: &str) -> Option<Value> {
    let config = match (kind, name) {
        (Kind::Breaker, "standard") => BreakerConfig::standard(),
        (Kind::Breaker, "database") => BreakerConfig::database(),
        (Kind::Breaker, "ai_api") => BreakerConfig::ai_api(),
        (Kind::Breaker, "empty") => BreakerConfig::empty(),
        _ => return None,
    };
    let mut value = serde_json::to_value(config).ok()?;
    // The preset's own name is not the policy's: the stage names it.
    if let Value::Object(map) = &mut value {
        map.remove("name");
    }
    Some(value)
}

/// The built-in presets' names, for error messages.
pub(crate) fn builtin_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Breaker => &["standard", "database", "ai_api", "empty"],
        _ => &[],
    }
}
