//! Durations in configs, written as people write them: `"250ms"`, `"30s"`, `"1.5s"`, `"2m"`.
//!
//! Use as `#[serde(with = "steadfast_core::duration_serde")]` on a `Duration`
//! field (and [`option`] for an `Option<Duration>`): it reads them, and
//! writes them back in the largest unit that keeps them exact ([`to_text`]). Units: `ns`, `us`, `ms`,
//! `s`, `m`, `h`, `d`; a bare number is rejected, so a config never silently
//! means seconds where milliseconds were meant.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Deserializes a duration string such as `"250ms"`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// Serializes a duration as [`to_text`] writes it.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_text(*duration))
}

/// A duration as `"<whole number><unit>"`, in the largest unit that keeps it
/// exact: whole seconds in d, h, m or s; anything finer in ms, us or ns.
/// [`parse`] reads it back.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::duration_serde::to_text;
///
/// assert_eq!(to_text(Duration::from_secs(300)), "5m");
/// assert_eq!(to_text(Duration::from_millis(1_500)), "1500ms");
/// ```
pub fn to_text(duration: Duration) -> String {
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

/// The same for an optional field: `null` or absent is `None`.
pub mod option {
    use super::{Deserialize, Deserializer, Duration, Serializer, parse, to_text};

    /// Serializes an optional duration; `None` as none (skip it with
    /// `skip_serializing_if` for formats with no null, such as TOML).
    #[allow(clippy::ref_option)] // serde's `serialize_with` passes a reference
    pub fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => serializer.serialize_some(&to_text(*duration)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes an optional duration string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|t| parse(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Parses `"<number><unit>"`, the number possibly fractional.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::duration_serde::parse;
///
/// assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1_500)));
/// assert!(parse("30").is_err());
/// ```
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("duration `{text}` has no unit (write \"30s\", \"250ms\")"))?;
    let (number, unit) = text.split_at(split);
    let nanos_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3_600e9,
        "d" => 86_400e9,
        other => {
            return Err(format!(
                "duration `{text}` has an unknown unit `{other}` (use ns, us, ms, s, m, h, d)"
            ));
        }
    };
    if number.is_empty() {
        return Err(format!("duration `{text}` has no number"));
    }
    // Whole numbers go through integers so "18446744073ms" is exact.
    if let Ok(whole) = number.parse::<u64>() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let per = nanos_per_unit as u64;
        return whole
            .checked_mul(per)
            .map(Duration::from_nanos)
            .or_else(|| {
                (per >= 1_000_000_000)
                    .then(|| {
                        whole
                            .checked_mul(per / 1_000_000_000)
                            .map(Duration::from_secs)
                    })
                    .flatten()
            })
            .ok_or_else(|| format!("duration `{text}` is too large"));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("duration `{text}` has an invalid number `{number}`"))?;
    Duration::try_from_secs_f64(value * nanos_per_unit / 1e9)
        .map_err(|_| format!("duration `{text}` is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(to_text(duration), written);
            assert_eq!(parse(written), Ok(duration), "{written}");
        }
    }

    #[test]
    fn parses_units() {
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse("3us"), Ok(Duration::from_micros(3)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse(" 1d "), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("0.25s"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn rejects_bad_text() {
        for bad in ["", "s", "30", "30 parsecs", "1..2s", "-1s"] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
