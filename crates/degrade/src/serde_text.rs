//! Serializing configs and snapshots as they are written: names as strings,
//! durations as `"30s"`, `"250ms"` — what
//! [`steadfast_core::duration_serde`] reads back.

use std::time::Duration;

use serde::Serializer;
use steadfast_core::Name;

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

/// An optional duration; `None` is skipped by the field's `skip_serializing_if`.
#[allow(clippy::ref_option)] // serde's `serialize_with` passes a reference
pub(crate) fn option_duration<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_some(&text(*duration)),
        None => serializer.serialize_none(),
    }
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
    use steadfast_core::duration_serde::parse;

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
