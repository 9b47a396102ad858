//! Helpers shared by the degrade crate's behaviour tests.

#![allow(dead_code, unreachable_pub)]
