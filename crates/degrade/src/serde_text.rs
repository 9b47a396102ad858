//! Durations in configs and snapshots, written as configs read them
//! (`"30s"`, `"250ms"`), through [`steadfast_core::duration_serde`].

pub(crate) use steadfast_core::duration_serde::{
    option::serialize as option_duration, serialize as duration,
};
