//! Serializing configs and snapshots as they are written: durations as `"30s"`, `"250ms"` (through [`steadfast_core::duration_serde`],
//! which reads them back), and the limiter's own spellings.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};
use steadfast_core::duration_serde::parse;
use steadfast_core::time::TimeSource;

pub(crate) use steadfast_core::duration_serde::{serialize as duration, to_text as text};

/// An interval that may be switched off (`sweep_interval`): `None` is
/// written `"off"`, which TOML can hold where it has no null (an absent
/// field means the default interval).
#[allow(clippy::ref_option)] // serde's `serialize_with` passes a reference
pub(crate) fn interval<S: Serializer>(
    interval: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match interval {
        Some(duration) => serializer.serialize_str(&text(*duration)),
        None => serializer.serialize_str(OFF),
    }
}

/// Reads what [`interval`] writes; `null` is `None` too.
pub(crate) fn deserialize_interval<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
    match text.as_deref() {
        None | Some(OFF) => Ok(None),
        Some(text) => parse(text).map(Some).map_err(serde::de::Error::custom),
    }
}

const OFF: &str = "off";

/// A time source as its config spelling (`"auto"`, `"tokio"`, `"precise"`):
/// core's enum reads snake_case names and has no `Serialize` of its own.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub(crate) fn time_source<S: Serializer>(
    source: &TimeSource,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&snake_case(&format!("{source:?}")))
}

/// `"PreciseCached"` → `"precise_cached"`, as serde's `rename_all` spells it.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_sources_are_written_as_they_are_read() {
        for source in [TimeSource::Auto, TimeSource::Tokio, TimeSource::Precise] {
            let written = snake_case(&format!("{source:?}"));
            let read: TimeSource = serde_json::from_str(&format!("\"{written}\"")).unwrap();
            assert_eq!(read, source);
        }
        assert_eq!(snake_case("PreciseCached"), "precise_cached");
    }
}
