//! The quotas of a limiter, one per tier, changeable at run time.
//!
//! One keyed limiter serves every tier (anonymous, authenticated, pro…): the
//! tier is chosen per call from the key, and a key's state word means the
//! same thing under any quota (a GCRA arrival time, window counts), so a
//! quota can change without losing any key's state.
//!
//! With a window algorithm only the limit may change: a key's window number
//! is counted in periods.
//!
//! Each tier's compiled quota sits in two atomics read with relaxed loads
//! on the hot path. A change writes both under a lock; a check racing it may
//! pair the old refill interval with the new burst (or the reverse) once.
//! Every check that starts after the change returns sees the new quota.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use steadfast_core::{ConfigError, Name};

use crate::algorithm::Params;
use crate::quota::{Algorithm, Quota};

#[derive(Debug)]
struct Cell {
    a: AtomicU64,
    b: AtomicU64,
}

/// The tiers' names and quotas.
#[derive(Debug)]
pub(crate) struct Tiers {
    algorithm: Algorithm,
    names: Box<[Name]>,
    cells: Box<[Cell]>,
    quotas: Mutex<Vec<Quota>>,
}

impl Tiers {
    /// Tiers from validated `(name, quota)` pairs; the first is the default.
    pub(crate) fn new(algorithm: Algorithm, tiers: Vec<(Name, Quota)>) -> Tiers {
        let cells = tiers
            .iter()
            .map(|(_, quota)| {
                let p = Params::new(algorithm, quota);
                Cell {
                    a: AtomicU64::new(p.a),
                    b: AtomicU64::new(p.b),
                }
            })
            .collect();
        let (names, quotas): (Vec<Name>, Vec<Quota>) = tiers.into_iter().unzip();
        Tiers {
            algorithm,
            names: names.into(),
            cells,
            quotas: Mutex::new(quotas),
        }
    }

    /// The compiled quota of `tier` (the default tier when out of range).
    // Part of every check: measured faster forced inline (see Engine::begin).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn params(&self, tier: usize) -> Params {
        let cell = self.cells.get(tier).unwrap_or(&self.cells[0]);
        Params {
            a: cell.a.load(Ordering::Relaxed),
            b: cell.b.load(Ordering::Relaxed),
        }
    }

    /// The index of the tier named `name`.
    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The tiers' names, default first.
    pub(crate) fn names(&self) -> &[Name] {
        &self.names
    }

    /// The quota of `tier`.
    pub(crate) fn quota(&self, tier: usize) -> Option<Quota> {
        self.quotas.lock().get(tier).copied()
    }

    /// Replaces the quota of `tier`, validated; keys keep their state.
    pub(crate) fn set(&self, tier: usize, quota: Quota) -> Result<(), ConfigError> {
        quota.validate(self.algorithm, "ratelimit", "quota")?;
        let mut quotas = self.quotas.lock();
        let Some(slot) = quotas.get_mut(tier) else {
            return Err(
                ConfigError::new("ratelimit", "tier", "must name a configured tier")
                    .with_value(tier),
            );
        };
        let p = Params::new(self.algorithm, &quota);
        if self.algorithm != Algorithm::Gcra && slot.period() != quota.period() {
            // A window key's state holds its window number, counted in
            // periods: under another period it would point at the wrong window.
            return Err(ConfigError::new(
                "ratelimit",
                "quota",
                "period cannot change at run time with a window algorithm (the limit can)",
            )
            .with_value(quota.period()));
        }
        self.cells[tier].a.store(p.a, Ordering::Relaxed);
        self.cells[tier].b.store(p.b, Ordering::Relaxed);
        *slot = quota;
        Ok(())
    }
}
