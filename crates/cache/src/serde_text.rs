//! Serializing configs and snapshots as they are written: names as strings,
//! durations as `"30s"`, `"250ms"`, through
//! [`steadfast_core::duration_serde`], which reads them back.

pub(crate) use steadfast_core::duration_serde::{
    option::serialize as option_duration, serialize as duration, serialize_name as name,
};
