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
    /// GCRA's `a * b` (saturating), so the hot path multiplies nothing.
    cap: AtomicU64,
}

impl Cell {
    fn new(p: Params) -> Cell {
        Cell {
            a: AtomicU64::new(p.a),
            b: AtomicU64::new(p.b),
            cap: AtomicU64::new(p.a.saturating_mul(p.b)),
        }
    }
}

/// The tiers' names and quotas.
#[derive(Debug)]
pub(crate) struct Tiers {
    algorithm: Algorithm,
    names: Box<[Name]>,
    /// The default tier's quota, apart so reading it needs no bounds check.
    first: Cell,
    /// The other tiers' quotas: tier `i` is `rest[i - 1]`.
    rest: Box<[Cell]>,
    quotas: Mutex<Vec<Quota>>,
}

impl Tiers {
    /// Tiers from validated `(name, quota)` pairs; the first is the default.
    pub(crate) fn new(algorithm: Algorithm, tiers: Vec<(Name, Quota)>) -> Tiers {
        let mut cells = tiers
            .iter()
            .map(|(_, quota)| Cell::new(Params::new(algorithm, quota)));
        let first = cells.next().expect("a limiter has a default tier");
        let rest = cells.collect();
        let (names, quotas): (Vec<Name>, Vec<Quota>) = tiers.into_iter().unzip();
        Tiers {
            algorithm,
            names: names.into(),
            first,
            rest,
            quotas: Mutex::new(quotas),
        }
    }

    /// The compiled quota of `tier` (the default tier when out of range).
    // Part of every check: measured faster forced inline (see Engine::begin).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn params(&self, tier: usize) -> Params {
        let cell = self.cell(tier);
        Params {
            a: cell.a.load(Ordering::Relaxed),
            b: cell.b.load(Ordering::Relaxed),
        }
    }

    /// The default tier's refill interval and capacity (`a * b`), for the
    /// GCRA fast path: no bounds check (a direct limiter has one tier).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn default_gcra(&self) -> (u64, u64) {
        let cell = self.default();
        (
            cell.a.load(Ordering::Relaxed),
            cell.cap.load(Ordering::Relaxed),
        )
    }

    /// The default tier's burst (GCRA) or limit (windows).
    pub(crate) fn default_b(&self) -> u64 {
        self.default().b.load(Ordering::Relaxed)
    }

    #[inline]
    fn default(&self) -> &Cell {
        &self.first
    }

    /// The cell of `tier` (the default tier's when out of range).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn cell(&self, tier: usize) -> &Cell {
        match tier.checked_sub(1) {
            None => &self.first,
            Some(i) => self.rest.get(i).unwrap_or(&self.first),
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
        let cell = self.cell(tier);
        cell.a.store(p.a, Ordering::Relaxed);
        cell.b.store(p.b, Ordering::Relaxed);
        cell.cap.store(p.a.saturating_mul(p.b), Ordering::Relaxed);
        *slot = quota;
        Ok(())
    }
}
