//! The FIFO queue of callers waiting for a permit.
//!
//! A slab of nodes linked in arrival order, so a waiter that gives up (its
//! future dropped, its queue time spent) leaves from the middle in O(1), and
//! the nodes are reused: once the slab has grown to the longest queue seen, a
//! waiter allocates nothing. A node is addressed by its slot and a generation,
//! so a stale key can never touch a node that was reused for another waiter.
//!
//! The queue is only touched under the semaphore's lock.

use std::task::Waker;

/// "No node": the end of a list.
const NIL: u32 = u32::MAX;

/// Where one waiter's node lives, and which use of that slot it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    slot: u32,
    generation: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeState {
    /// In the free list.
    Free,
    /// Linked in the queue, waiting for a permit.
    Waiting,
    /// Unlinked and handed a permit its future has not collected yet.
    Granted,
}

#[derive(Debug)]
struct Node {
    prev: u32,
    next: u32,
    generation: u32,
    state: NodeState,
    waker: Option<Waker>,
}

/// What a waiter finds when it looks at its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Still queued.
    Waiting,
    /// A permit was handed to it.
    Granted,
}

/// Waiters in arrival order; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct WaitQueue {
    nodes: Vec<Node>,
    head: u32,
    tail: u32,
    free: u32,
    len: u32,
}

impl WaitQueue {
    pub(crate) const fn new() -> Self {
        WaitQueue {
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            len: 0,
        }
    }

    /// Waiters linked in the queue (granted ones excluded).
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    fn node(&mut self, slot: u32) -> &mut Node {
        &mut self.nodes[slot as usize]
    }

    /// Queues a waiter at the back.
    pub(crate) fn push_back(&mut self, waker: Waker) -> WaiterKey {
        let slot = if self.free == NIL {
            let slot = u32::try_from(self.nodes.len())
                .expect("a bulkhead queue never holds 2^32 waiters (its length is a u32)");
            self.nodes.push(Node {
                prev: NIL,
                next: NIL,
                generation: 0,
                state: NodeState::Free,
                waker: None,
            });
            slot
        } else {
            let slot = self.free;
            self.free = self.nodes[slot as usize].next;
            slot
        };
        let tail = self.tail;
        let node = self.node(slot);
        node.prev = tail;
        node.next = NIL;
        node.state = NodeState::Waiting;
        node.waker = Some(waker);
        let generation = node.generation;
        if tail == NIL {
            self.head = slot;
        } else {
            self.node(tail).next = slot;
        }
        self.tail = slot;
        self.len += 1;
        WaiterKey { slot, generation }
    }

    /// Hands a permit to the waiter at the front: unlinks it, marks it granted
    /// and returns its waker, to be woken once the lock is released.
    pub(crate) fn grant_front(&mut self) -> Option<Waker> {
        let slot = self.head;
        if slot == NIL {
            return None;
        }
        self.unlink(slot);
        let node = self.node(slot);
        node.state = NodeState::Granted;
        node.waker.take()
    }

    /// The waiter's status; `key` must be live (not yet [`remove`](Self::remove)d).
    pub(crate) fn status(&self, key: WaiterKey) -> Status {
        let node = &self.nodes[key.slot as usize];
        debug_assert_eq!(node.generation, key.generation, "a stale waiter key");
        match node.state {
            NodeState::Waiting => Status::Waiting,
            NodeState::Granted => Status::Granted,
            NodeState::Free => unreachable!("a live waiter key points at a free node"),
        }
    }

    /// Replaces the waker of a queued waiter when it changed.
    pub(crate) fn set_waker(&mut self, key: WaiterKey, waker: &Waker) {
        let node = self.node(key.slot);
        debug_assert_eq!(node.generation, key.generation, "a stale waiter key");
        match &mut node.waker {
            Some(current) if current.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// Frees the waiter's node, unlinking it if still queued. Returns the
    /// status it had: `Granted` means the caller now owns a permit.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> Status {
        let status = self.status(key);
        if status == Status::Waiting {
            self.unlink(key.slot);
        }
        let free = self.free;
        let node = self.node(key.slot);
        node.state = NodeState::Free;
        node.waker = None;
        node.generation = node.generation.wrapping_add(1);
        node.next = free;
        node.prev = NIL;
        self.free = key.slot;
        status
    }

    fn unlink(&mut self, slot: u32) {
        let (prev, next) = {
            let node = self.node(slot);
            (node.prev, node.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node(next).prev = prev;
        }
        let node = self.node(slot);
        node.prev = NIL;
        node.next = NIL;
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::task::Waker;

    fn waker() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn grants_in_arrival_order_and_reuses_slots() {
        let mut q = WaitQueue::new();
        let first = q.push_back(waker());
        let second = q.push_back(waker());
        let third = q.push_back(waker());
        assert_eq!(q.remove(second), Status::Waiting);
        assert!(q.grant_front().is_some());
        assert_eq!(q.status(first), Status::Granted);
        assert_eq!(q.status(third), Status::Waiting);
        assert_eq!(q.len(), 1);
        assert_eq!(q.remove(first), Status::Granted);
        let fourth = q.push_back(waker());
        assert_eq!(q.nodes.len(), 3, "freed slots are reused");
        assert!(q.grant_front().is_some());
        assert_eq!(q.status(third), Status::Granted);
        assert_eq!(q.status(fourth), Status::Waiting);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push,
        Grant,
        Remove(usize),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                3 => Just(Op::Push),
                2 => Just(Op::Grant),
                2 => any::<usize>().prop_map(Op::Remove),
            ],
            0..64,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The slab list behaves as a plain FIFO of ids with removal anywhere.
        #[test]
        fn matches_a_vecdeque_model(ops in ops()) {
            let mut q = WaitQueue::new();
            let mut model: VecDeque<usize> = VecDeque::new();
            let mut live: Vec<(usize, WaiterKey, bool)> = Vec::new(); // id, key, granted
            let mut next_id = 0;
            for op in ops {
                match op {
                    Op::Push => {
                        let key = q.push_back(waker());
                        model.push_back(next_id);
                        live.push((next_id, key, false));
                        next_id += 1;
                    }
                    Op::Grant => {
                        let granted = q.grant_front().is_some();
                        let expected = model.pop_front();
                        prop_assert_eq!(granted, expected.is_some());
                        if let Some(id) = expected {
                            live.iter_mut().find(|(i, _, _)| *i == id).unwrap().2 = true;
                        }
                    }
                    Op::Remove(i) if !live.is_empty() => {
                        let (id, key, granted) = live.remove(i % live.len());
                        let status = q.remove(key);
                        prop_assert_eq!(status == Status::Granted, granted);
                        model.retain(|x| *x != id);
                    }
                    Op::Remove(_) => {}
                }
                prop_assert_eq!(q.len() as usize, model.len());
                for (_, key, granted) in &live {
                    let expected = if *granted { Status::Granted } else { Status::Waiting };
                    prop_assert_eq!(q.status(*key), expected);
                }
            }
        }
    }
}
