//! Durations in configs, written as people write them: `"250ms"`, `"30s"`, `"1.5s"`, `"2m"`.
//!
//! Use as `#[serde(with = "steadfast_core::duration_serde")]` on a `Duration`
//! field (and [`option`] for an `Option<Duration>`). Units: `ns`, `us`, `ms`,
//! `s`, `m`, `h`, `d`; a bare number is rejected, so a config never silently
//! means seconds where milliseconds were meant.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Deserializes a duration string such as `"250ms"`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// The same for an optional field: `null` or absent is `None`.
pub mod option {
    use super::{Deserialize, Deserializer, Duration, parse};

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
