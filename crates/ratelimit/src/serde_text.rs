//! Serializing configs and snapshots as they are written: names as strings,
//! durations as `"30s"`, `"250ms"` — what
//! [`steadfast_core::duration_serde`] reads back.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};
use steadfast_core::Name;
use steadfast_core::duration_serde::parse;
use steadfast_core::time::TimeSource;

/// A name, as its text.
pub(crate) fn name<S: Serializer>(name: &Name, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(name.as_str())
}

/// A duration in the largest unit that keeps it exact: `"90s"`, `"5m"`, `"250ms"`.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub(crate) fn duration<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&text(*duration))
}

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

/// `"<whole number><unit>"`: whole seconds in d, h, m or s; anything finer
/// in ms, us or ns.
pub(crate) fn text(duration: Duration) -> String {
    const SECONDS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    if duration.subsec_nanos() == 0 {
        let secs = duration.as_secs();
        if secs == 0 {
            return "0s".to_owned();
        }
        for (per, unit) in SECONDS {
            if secs.is_multiple_of(per) {
                return format!("{}{unit}", secs / per);
            }
        }
    }
    let nanos = duration.as_nanos();
    for (per, unit) in [(1_000_000, "ms"), (1_000, "us")] {
        if nanos.is_multiple_of(per) {
            return format!("{}{unit}", nanos / per);
        }
    }
    format!("{nanos}ns")
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

    #[test]
    fn durations_are_written_exactly_and_read_back() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(3_600), "1h"),
            (Duration::from_secs(2 * 86_400), "2d"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(1_500), "1500ms"),
            (Duration::from_micros(7), "7us"),
            (Duration::from_nanos(1_000_000_001), "1000000001ns"),
        ];
        for (duration, written) in cases {
            assert_eq!(text(duration), written);
            assert_eq!(parse(written), Ok(duration), "{written}");
        }
    }
}
