//! Single flight: one fetch per key at a time, shared by every caller that
//! misses while it runs.
//!
//! The caller that finds no flight for its key registers one and leads it;
//! the others follow: they wait for its [`Landing`]. A leader that goes away
//! without landing (its future dropped, its task cancelled) lands
//! [`Landing::Abandoned`], so no follower waits forever: each looks again and
//! one of them leads the next flight.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use steadfast_core::{Error, Outcome};
use tokio::sync::Notify;

use crate::Entry;

/// How a flight ended, as every caller of it sees it.
#[derive(Debug)]
pub(crate) enum Landing<V, E> {
    /// The fetch finished: its result and its classification.
    Done {
        result: Result<V, Error<E>>,
        outcome: Outcome,
        /// An inner policy (not the fetch itself) refused the call.
        rejected: bool,
    },
    /// The leader went away before the fetch finished.
    Abandoned,
}

impl<V: Clone, E: Clone> Clone for Landing<V, E> {
    fn clone(&self) -> Self {
        match self {
            Landing::Done {
                result,
                outcome,
                rejected,
            } => Landing::Done {
                result: result.clone(),
                outcome: *outcome,
                rejected: *rejected,
            },
            Landing::Abandoned => Landing::Abandoned,
        }
    }
}

/// One fetch in progress.
pub(crate) struct Flight<V, E> {
    /// The tag generation when the fetch started.
    generation: u64,
    state: Mutex<FlightState<V, E>>,
    landed: Notify,
    /// Woken when a store this flight began is done.
    stored: Notify,
}

struct FlightState<V, E> {
    landing: Option<Landing<V, E>>,
    /// `invalidate(key)` ran while the fetch was in flight: store nothing.
    poisoned: bool,
    /// The entry being stored, so an invalidation racing the store revokes it.
    storing: Option<Arc<Entry<V>>>,
}

impl<V: Clone, E: Clone> Flight<V, E> {
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Waits for the landing.
    pub(crate) async fn wait(&self) -> Landing<V, E> {
        loop {
            let mut notified = pin!(self.landed.notified());
            notified.as_mut().enable();
            if let Some(landing) = &self.state.lock().landing {
                return landing.clone();
            }
            notified.await;
        }
    }

    /// Registers `entry` as about to be stored; `false` when an invalidation
    /// of the key came first and nothing may be stored.
    pub(crate) fn begin_store(&self, entry: &Arc<Entry<V>>) -> bool {
        let mut state = self.state.lock();
        if state.poisoned {
            return false;
        }
        state.storing = Some(Arc::clone(entry));
        true
    }

    /// Marks the store begun by [`begin_store`](Self::begin_store) as done.
    pub(crate) fn end_store(&self) {
        self.state.lock().storing = None;
        self.stored.notify_waiters();
    }

    /// Waits until no store of this flight is in progress.
    pub(crate) async fn wait_stored(&self) {
        loop {
            let mut notified = pin!(self.stored.notified());
            notified.as_mut().enable();
            if self.state.lock().storing.is_none() {
                return;
            }
            notified.await;
        }
    }
}

/// The flights in progress, by key.
pub(crate) struct Flights<K, V, E> {
    map: Mutex<HashMap<K, Arc<Flight<V, E>>>>,
}

/// The caller's part in a flight.
pub(crate) enum Role<K: Hash + Eq, V, E> {
    /// Run the fetch and land the flight.
    Lead(Leader<K, V, E>),
    /// Wait for the flight another caller leads.
    Follow(Arc<Flight<V, E>>),
}

impl<K: Hash + Eq + Clone, V, E> Flights<K, V, E> {
    pub(crate) fn new() -> Self {
        Flights {
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Joins the flight for `key`, or registers one and leads it.
    ///
    /// `generation` is the tag generation now. A flight that started before
    /// an invalidation since (a lower generation), or whose key was
    /// invalidated, is not joined: what it fetched may be exactly what the
    /// invalidation was for. A new flight replaces it in the map; the old one
    /// lands only for the callers it already has, and stores nothing.
    pub(crate) fn join_or_lead(self: &Arc<Self>, key: &K, generation: u64) -> Role<K, V, E> {
        let mut map = self.map.lock();
        if let Some(flight) = map.get(key) {
            let mut state = flight.state.lock();
            if flight.generation >= generation && !state.poisoned {
                return Role::Follow(Arc::clone(flight));
            }
            // Superseded: it still answers its own callers but stores nothing
            // (out of the map, no later `invalidate(key)` could reach it), and
            // an entry it is storing right now is never served.
            state.poisoned = true;
            if let Some(entry) = &state.storing {
                entry.revoke();
            }
        }
        let flight = Arc::new(Flight {
            generation,
            state: Mutex::new(FlightState {
                landing: None,
                poisoned: false,
                storing: None,
            }),
            landed: Notify::new(),
            stored: Notify::new(),
        });
        map.insert(key.clone(), Arc::clone(&flight));
        Role::Lead(Leader {
            flights: Arc::clone(self),
            key: key.clone(),
            flight,
            landed: AtomicBool::new(false),
        })
    }

    /// Stops the flight for `key`, if any, from storing what it fetches,
    /// revokes an entry it is storing right now, and returns the flight when
    /// it is: the caller waits for that store to end before it writes the
    /// key itself, so the store cannot land on top of its write.
    pub(crate) fn poison(&self, key: &K) -> Option<Arc<Flight<V, E>>> {
        let map = self.map.lock();
        let flight = map.get(key)?;
        let mut state = flight.state.lock();
        state.poisoned = true;
        let entry = state.storing.as_ref()?;
        entry.revoke();
        Some(Arc::clone(flight))
    }

    /// How many flights are in progress.
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }
}

/// The leader's hold on a flight: lands it, or abandons it when dropped first.
pub(crate) struct Leader<K: Hash + Eq, V, E> {
    flights: Arc<Flights<K, V, E>>,
    key: K,
    flight: Arc<Flight<V, E>>,
    landed: AtomicBool,
}

impl<K: Hash + Eq, V, E> Leader<K, V, E> {
    pub(crate) fn flight(&self) -> &Arc<Flight<V, E>> {
        &self.flight
    }

    pub(crate) fn key(&self) -> &K {
        &self.key
    }

    /// Ends the flight with `landing` and wakes every follower.
    pub(crate) fn land(&self, landing: Landing<V, E>) {
        if self.landed.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut map = self.flights.map.lock();
            if map
                .get(&self.key)
                .is_some_and(|flight| Arc::ptr_eq(flight, &self.flight))
            {
                map.remove(&self.key);
            }
        }
        let mut state = self.flight.state.lock();
        state.storing = None;
        state.landing = Some(landing);
        drop(state);
        self.flight.landed.notify_waiters();
    }
}

impl<K: Hash + Eq, V, E> Drop for Leader<K, V, E> {
    fn drop(&mut self) {
        self.land(Landing::Abandoned);
    }
}

impl<K: Hash + Eq, V, E> fmt::Debug for Leader<K, V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leader").finish_non_exhaustive()
    }
}
