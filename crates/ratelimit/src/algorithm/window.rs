//! Window counters: `[window number: 24 bits | previous count: 20 | current count: 20]`.
//!
//! The window number is kept modulo 2^24; only the distance to the current
//! window matters (0: same, 1: the next, more: both counts expired). A key
//! idle for an exact multiple of 2^24 windows would read its old counts as
//! current; keyed limiters forget a key long before (its state is full two
//! windows after its last call), and for a direct limiter the error can only
//! refuse, never over-admit.
//!
//! The sliding counter estimates the calls in the window ending now as
//! `previous · (W − e) / W + current` where `e` is the time into the current
//! window: the previous window is assumed to have been evenly spread.

use super::{Decision, NEVER, Params, Peek};

const COUNT_MASK: u64 = (1 << 20) - 1;
const INDEX_MASK: u64 = (1 << 24) - 1;

fn pack(index: u64, previous: u64, current: u64) -> u64 {
    ((index & INDEX_MASK) << 40) | (previous << 20) | current
}

/// The window number now, the time into it, and the counts rolled forward to it.
#[inline]
fn roll(p: Params, state: u64, now: u64) -> (u64, u64, u64, u64) {
    let index = now / p.a;
    let into = now % p.a;
    let distance = index.wrapping_sub(state >> 40) & INDEX_MASK;
    let (previous, current) = ((state >> 20) & COUNT_MASK, state & COUNT_MASK);
    let (previous, current) = match distance {
        0 => (previous, current),
        1 => (current, 0),
        _ => (0, 0),
    };
    (index, into, previous, current)
}

#[inline]
pub(super) fn decide_sliding(p: Params, state: u64, now: u64, cost: u64) -> Decision {
    let (w, limit) = (u128::from(p.a), u128::from(p.b));
    let (index, into, previous, current) = roll(p, state, now);
    let (into, prev, cur, n) = (
        u128::from(into),
        u128::from(previous),
        u128::from(current),
        u128::from(cost),
    );
    if prev * (w - into) + (cur + n) * w <= limit * w {
        return Decision::Admit(pack(index, previous, current + cost));
    }
    if n > limit {
        return Decision::Deny(NEVER);
    }
    let wait = if cur + n <= limit {
        // Later in this window, once enough of the previous one has slid out:
        // prev · (W − e') <= (limit − cur − n) · W.
        let at = w - (limit - cur - n) * w / prev;
        at - into
    } else {
        // In the next window, where this window's count is the previous one:
        // cur · (W − e'') <= (limit − n) · W.
        let at = w - (limit - n) * w / cur;
        (w - into) + at
    };
    Decision::Deny(u64::try_from(wait).unwrap_or(NEVER))
}

#[inline]
pub(super) fn decide_fixed(p: Params, state: u64, now: u64, cost: u64) -> Decision {
    let (index, into, _, current) = roll(p, state, now);
    if current.saturating_add(cost) <= p.b {
        Decision::Admit(pack(index, 0, current + cost))
    } else if cost > p.b {
        Decision::Deny(NEVER)
    } else {
        Decision::Deny(p.a - into)
    }
}

pub(super) fn peek_sliding(p: Params, state: u64, now: u64) -> Peek {
    let (_, into, previous, current) = roll(p, state, now);
    let w = u128::from(p.a);
    let used = u128::from(previous) * (w - u128::from(into)) + u128::from(current) * w;
    let room = (u128::from(p.b) * w).saturating_sub(used);
    let reset_after = if current > 0 {
        p.a.saturating_mul(2) - into
    } else if previous > 0 {
        p.a - into
    } else {
        0
    };
    let retry_after = match decide_sliding(p, state, now, 1) {
        Decision::Admit(_) => 0,
        Decision::Deny(wait) => wait,
    };
    Peek {
        remaining: u64::try_from(room / w).unwrap_or(u64::MAX),
        reset_after,
        retry_after,
    }
}

pub(super) fn peek_fixed(p: Params, state: u64, now: u64) -> Peek {
    let (_, into, _, current) = roll(p, state, now);
    Peek {
        remaining: p.b.saturating_sub(current),
        reset_after: if current > 0 { p.a - into } else { 0 },
        retry_after: if current >= p.b { p.a - into } else { 0 },
    }
}

/// When the counts of `state` have all expired; `windows` is how many
/// windows a count lives (2 for sliding, 1 for fixed).
pub(super) fn full_at(p: Params, state: u64, now: u64, windows: u64) -> u64 {
    let (index_now, previous, current) =
        (now / p.a, (state >> 20) & COUNT_MASK, state & COUNT_MASK);
    let index = index_now - (index_now.wrapping_sub(state >> 40) & INDEX_MASK).min(index_now);
    let last = if current > 0 {
        index
    } else if previous > 0 {
        index.saturating_sub(1)
    } else {
        return 0;
    };
    last.saturating_add(windows).saturating_mul(p.a)
}

/// Hands `cost` units back to a window counter: from the current window's
/// count first, the rest from the previous one's (a refund made after the
/// window turned).
pub(super) fn give_back(p: Params, state: u64, now: u64, cost: u64) -> u64 {
    let (index, _, previous, current) = roll(p, state, now);
    let from_current = current.min(cost);
    let from_previous = previous.min(cost - from_current);
    pack(index, previous - from_previous, current - from_current)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Params = Params { a: 1_000, b: 10 };

    fn admit(d: Decision) -> u64 {
        match d {
            Decision::Admit(s) => s,
            Decision::Deny(w) => panic!("denied, wait {w}"),
        }
    }

    #[test]
    fn sliding_weights_the_previous_window() {
        let mut s = 0;
        for _ in 0..10 {
            s = admit(decide_sliding(P, s, 500, 1));
        }
        // Full in window 0: at 500 the next unit waits for window 1 plus
        // enough of it that 10 · (1000 − e) <= 9 · 1000, e >= 100.
        assert_eq!(decide_sliding(P, s, 500, 1), Decision::Deny(500 + 100));
        assert!(matches!(decide_sliding(P, s, 1_099, 1), Decision::Deny(1)));
        let s2 = admit(decide_sliding(P, s, 1_100, 1));
        assert_eq!(peek_sliding(P, s2, 1_100).remaining, 0);
        assert_eq!(peek_sliding(P, s2, 1_600).remaining, 5);
        assert_eq!(decide_sliding(P, s, 1_000, 11), Decision::Deny(NEVER));
        // Two windows later everything has expired.
        assert_eq!(peek_sliding(P, s2, 3_000).remaining, 10);
        assert_eq!(full_at(P, s2, 1_100, 2), 3_000);
    }

    #[test]
    fn sliding_waits_inside_the_window_when_the_current_count_fits() {
        // 8 in window 0, 1 in window 1 at e = 0: 8 · (1000 − e) + 2 · 1000 <= 10 000 ⇒ e >= 0.
        let mut s = 0;
        for _ in 0..8 {
            s = admit(decide_sliding(P, s, 0, 1));
        }
        let s = admit(decide_sliding(P, s, 1_000, 2));
        // prev 8, cur 2: one more needs 8 · (1000 − e) <= 7000, e >= 125.
        assert_eq!(decide_sliding(P, s, 1_000, 1), Decision::Deny(125));
        assert!(matches!(decide_sliding(P, s, 1_125, 1), Decision::Admit(_)));
    }

    #[test]
    fn fixed_resets_at_the_boundary() {
        let mut s = 0;
        for _ in 0..10 {
            s = admit(decide_fixed(P, s, 900, 1));
        }
        assert_eq!(decide_fixed(P, s, 900, 1), Decision::Deny(100));
        assert_eq!(
            peek_fixed(P, s, 900),
            Peek {
                remaining: 0,
                reset_after: 100,
                retry_after: 100
            }
        );
        assert!(matches!(decide_fixed(P, s, 1_000, 10), Decision::Admit(_)));
        assert_eq!(full_at(P, s, 900, 1), 1_000);
        assert_eq!(full_at(P, 0, 900, 1), 0);
    }

    #[test]
    fn the_window_number_wraps() {
        let s = admit(decide_fixed(P, 0, (INDEX_MASK + 5) * 1_000, 3));
        assert_eq!(peek_fixed(P, s, (INDEX_MASK + 5) * 1_000).remaining, 7);
        assert_eq!(peek_fixed(P, s, (INDEX_MASK + 6) * 1_000).remaining, 10);
        assert_eq!(
            full_at(P, s, (INDEX_MASK + 5) * 1_000, 1),
            (INDEX_MASK + 6) * 1_000
        );
    }
}
