//! The timeout's snapshot as text: its name as a string and its limit as a
//! duration written the way configs read it (`"250ms"`, `"30s"`).

use std::time::Duration;

use serde::Serializer;

use crate::Name;

pub(super) fn name<S: Serializer>(name: &Name, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(name.as_str())
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub(super) fn duration<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&text(*duration))
}

/// `"<whole number><unit>"` in the largest unit that keeps it exact, which
/// [`duration_serde::parse`](crate::duration_serde::parse) reads back.
fn text(duration: Duration) -> String {
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
    use crate::duration_serde::parse;

    #[test]
    fn limits_are_written_exactly_and_read_back() {
        for (duration, written) in [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_micros(1_500), "1500us"),
            (Duration::from_nanos(7), "7ns"),
        ] {
            assert_eq!(text(duration), written);
            assert_eq!(parse(written), Ok(duration));
        }
    }
}
