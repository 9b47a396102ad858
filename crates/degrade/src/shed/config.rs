//! A load shedder's classes and configuration.

use std::time::Duration;

use steadfast_core::{ConfigError, Name, Priority};

/// One priority class of a [`LoadShedder`](crate::LoadShedder): the calls whose
/// priority is at least `min_priority` (and below the next class's), and the
/// load at which they are shed.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::Priority;
/// use steadfast_degrade::ShedClass;
///
/// let free = ShedClass::new("free", Priority::LOW).max_in_flight(50);
/// let paid = ShedClass::new("paid", Priority::HIGH)
///     .max_in_flight(80)
///     .max_latency(Duration::from_millis(500));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct ShedClass {
    /// The class's name, the user's own ("free", "paid", "critical").
    pub name: Name,
    /// The lowest priority in the class (0–255 in configs).
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "priority_from_u8",
            serialize_with = "priority_to_u8"
        )
    )]
    pub min_priority: Priority,
    /// Calls of this class are shed while at least this many calls (of any
    /// class) are in flight; `None` never sheds on load. At least 1.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_in_flight: Option<u32>,
    /// Calls of this class are shed while the measured latency is at least
    /// this; `None` never sheds on latency.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            deserialize_with = "steadfast_core::duration_serde::option::deserialize",
            serialize_with = "crate::serde_text::option_duration",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub max_latency: Option<Duration>,
}

#[cfg(feature = "serde")]
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
fn priority_to_u8<S: serde::Serializer>(priority: &Priority, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(priority.0)
}

#[cfg(feature = "serde")]
fn priority_from_u8<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
    <u8 as serde::Deserialize>::deserialize(d).map(Priority)
}

impl ShedClass {
    /// A class from `min_priority` up, never shed until a threshold is set.
    pub fn new(name: impl Into<Name>, min_priority: Priority) -> Self {
        ShedClass {
            name: name.into(),
            min_priority,
            max_in_flight: None,
            max_latency: None,
        }
    }

    /// Sheds the class while at least `max` calls are in flight.
    #[must_use]
    pub fn max_in_flight(mut self, max: u32) -> Self {
        self.max_in_flight = Some(max);
        self
    }

    /// Sheds the class while measured latency is at least `max`.
    #[must_use]
    pub fn max_latency(mut self, max: Duration) -> Self {
        self.max_latency = Some(max);
        self
    }
}

/// A [`LoadShedder`](crate::LoadShedder)'s configuration.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct LoadShedderConfig {
    /// The name shown in errors, events and snapshots. Default `"shedder"`.
    pub name: Name,
    /// The classes, in any order. At least one.
    pub classes: Vec<ShedClass>,
    /// How far each call's latency moves the measured latency, in `(0, 1]`
    /// (an exponential average). Default 0.2.
    pub latency_smoothing: f64,
    /// A latency measurement older than this is forgotten, so a class shed
    /// on latency is tried again once nothing has been measured for a while.
    /// Default 1 s.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub latency_expiry: Duration,
    /// A wait to suggest to shed callers, if any. Default `None`.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::option::deserialize",
            serialize_with = "crate::serde_text::option_duration",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub retry_after: Option<Duration>,
}

impl Default for LoadShedderConfig {
    fn default() -> Self {
        LoadShedderConfig {
            name: Name::new_static("shedder"),
            classes: Vec::new(),
            latency_smoothing: 0.2,
            latency_expiry: Duration::from_secs(1),
            retry_after: None,
        }
    }
}

impl LoadShedderConfig {
    /// Checks every field; the first broken rule is returned.
    ///
    /// Besides each value's range, a more important class must never be shed
    /// before a less important one: its thresholds must be at least as high.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.classes.is_empty() {
            return Err(ConfigError::new(
                "shedder",
                "classes",
                "must hold at least one class",
            ));
        }
        if !(self.latency_smoothing > 0.0 && self.latency_smoothing <= 1.0) {
            return Err(ConfigError::new(
                "shedder",
                "latency_smoothing",
                "must be greater than 0 and at most 1",
            )
            .with_value(self.latency_smoothing));
        }
        if self.latency_expiry.is_zero() {
            return Err(
                ConfigError::new("shedder", "latency_expiry", "must be greater than zero")
                    .with_value(self.latency_expiry),
            );
        }
        for class in &self.classes {
            if class.max_in_flight == Some(0) {
                return Err(ConfigError::new(
                    "shedder",
                    "max_in_flight",
                    format!("of class {} must be at least 1", class.name),
                )
                .with_value(0));
            }
            if class.max_latency.is_some_and(|d| d.is_zero()) {
                return Err(ConfigError::new(
                    "shedder",
                    "max_latency",
                    format!("of class {} must be greater than zero", class.name),
                )
                .with_value(Duration::ZERO));
            }
        }
        let sorted = self.sorted();
        for pair in sorted.windows(2) {
            let (low, high) = (&pair[0], &pair[1]);
            if low.min_priority == high.min_priority {
                return Err(ConfigError::new(
                    "shedder",
                    "min_priority",
                    format!("of classes {} and {} must differ", low.name, high.name),
                )
                .with_value(high.min_priority.0));
            }
            if sheds_earlier(high.max_in_flight, low.max_in_flight) {
                return Err(ConfigError::new(
                    "shedder",
                    "max_in_flight",
                    format!(
                        "of class {} must be at least that of the less important class {}",
                        high.name, low.name
                    ),
                )
                .with_value(high.max_in_flight));
            }
            if sheds_earlier(high.max_latency, low.max_latency) {
                return Err(ConfigError::new(
                    "shedder",
                    "max_latency",
                    format!(
                        "of class {} must be at least that of the less important class {}",
                        high.name, low.name
                    ),
                )
                .with_value(high.max_latency));
            }
        }
        Ok(())
    }

    /// The classes, least important first.
    pub(crate) fn sorted(&self) -> Vec<ShedClass> {
        let mut classes = self.classes.clone();
        classes.sort_by_key(|c| c.min_priority);
        classes
    }
}

/// Whether a threshold `high` would shed before `low` (`None` = never).
fn sheds_earlier<T: PartialOrd>(high: Option<T>, low: Option<T>) -> bool {
    match (high, low) {
        (Some(_), None) => true,
        (Some(high), Some(low)) => high < low,
        (None, _) => false,
    }
}
