//! Rate-limit response headers: the IETF draft's structured fields and the
//! widely deployed `RateLimit-*` and `X-RateLimit-*` triples.

use std::ops::BitOr;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use steadfast_core::{Context, OwnedContext, OwnedKeys};
use steadfast_ratelimit::{Key, KeyedRateLimiter, RateLimiter, StateStore};

use steadfast_core::time::ceil_secs;

/// One limiter's quota and where a client stands in it, for its headers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuotaReport {
    /// The policy's name (the draft's policy item).
    pub policy: String,
    /// Units the quota allows per window (the draft's `q`).
    pub quota: u64,
    /// The quota's window (the draft's `w`, in seconds).
    pub window: Duration,
    /// The most units a client may use at once (the legacy `RateLimit-Limit`:
    /// a GCRA limiter's burst, a window limiter's limit).
    pub limit: u64,
    /// Units available now (`r`, `RateLimit-Remaining`).
    pub remaining: u64,
    /// Time until the client's allowance is full again (`t`, `RateLimit-Reset`).
    pub reset: Duration,
}

impl QuotaReport {
    /// A report from its parts.
    pub fn new(
        policy: impl Into<String>,
        quota: u64,
        window: Duration,
        limit: u64,
        remaining: u64,
        reset: Duration,
    ) -> Self {
        QuotaReport {
            policy: policy.into(),
            quota,
            window,
            limit,
            remaining,
            reset,
        }
    }
}

/// Where a layer finds the [`QuotaReport`] of a call: a limiter, read with
/// `peek` (nothing consumed) after the call, with the call's key.
pub trait QuotaSource<K>: Send + Sync + 'static {
    /// Whether this source reports at all; `false` lets the layer skip
    /// keeping the call's keys.
    const ACTIVE: bool = true;

    /// The report for the call whose context is `ctx`; `None` when there is
    /// nothing to say (no key of the limiter's type).
    fn report(&self, ctx: &OwnedContext<K>) -> Option<QuotaReport>;
}

/// No rate-limit headers.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoQuota;

impl<K: OwnedKeys> QuotaSource<K> for NoQuota {
    const ACTIVE: bool = false;

    #[inline]
    fn report(&self, _ctx: &OwnedContext<K>) -> Option<QuotaReport> {
        None
    }
}

impl<K: OwnedKeys> QuotaSource<K> for RateLimiter {
    fn report(&self, _ctx: &OwnedContext<K>) -> Option<QuotaReport> {
        use steadfast_core::Inspect;
        let quota = self.quota();
        let state = self.peek();
        Some(QuotaReport::new(
            self.name(),
            u64::from(quota.limit()),
            quota.period(),
            state.limit,
            state.remaining,
            state.reset_after,
        ))
    }
}

impl<K, KK, S> QuotaSource<K> for KeyedRateLimiter<KK, S>
where
    K: OwnedKeys,
    KK: Key,
    S: StateStore<KK>,
{
    fn report(&self, ctx: &OwnedContext<K>) -> Option<QuotaReport> {
        let context = ctx.keys().add_to(Context::new());
        let key = context.key::<KK>()?;
        let (tier, quota) = self.tier_of(key);
        let state = self.peek(key);
        // The policy item is the tier a client is in ("free", "pro"), so
        // clients of different tiers read different quotas.
        Some(QuotaReport::new(
            tier,
            u64::from(quota.limit()),
            quota.period(),
            state.limit,
            state.remaining,
            state.reset_after,
        ))
    }
}

/// Which rate-limit headers a response carries; combine with `|`.
///
/// ```
/// use steadfast_tower::http::RateLimitHeaders;
///
/// let both = RateLimitHeaders::IETF | RateLimitHeaders::X_RATELIMIT;
/// assert!(both.contains(RateLimitHeaders::IETF));
/// assert!(!both.contains(RateLimitHeaders::LEGACY));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimitHeaders(u8);

impl RateLimitHeaders {
    /// None.
    pub const NONE: RateLimitHeaders = RateLimitHeaders(0);
    /// The structured fields of draft-ietf-httpapi-ratelimit-headers-11:
    /// `RateLimit-Policy: "name";q=60;w=60` and `RateLimit: "name";r=6;t=4`.
    pub const IETF: RateLimitHeaders = RateLimitHeaders(1);
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds
    /// from now), as earlier drafts defined and many gateways send.
    pub const LEGACY: RateLimitHeaders = RateLimitHeaders(2);
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`
    /// (seconds from now), the same values under the older prefix.
    pub const X_RATELIMIT: RateLimitHeaders = RateLimitHeaders(4);

    /// The sets as bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The sets whose bits are `bits` (unknown bits are ignored).
    pub const fn from_bits(bits: u8) -> RateLimitHeaders {
        RateLimitHeaders(bits & 7)
    }

    /// Whether every header set of `other` is in this one.
    pub const fn contains(self, other: RateLimitHeaders) -> bool {
        self.0 & other.0 == other.0
    }

    /// Writes `report` as the selected headers, replacing any already there.
    ///
    /// ```
    /// use std::time::Duration;
    /// use http::HeaderMap;
    /// use steadfast_tower::http::{QuotaReport, RateLimitHeaders};
    ///
    /// let report = QuotaReport::new("per-user", 60, Duration::from_secs(60), 10, 6, Duration::from_millis(3_500));
    /// let mut headers = HeaderMap::new();
    /// (RateLimitHeaders::IETF | RateLimitHeaders::LEGACY).write(&report, &mut headers);
    /// assert_eq!(headers["ratelimit-policy"], r#""per-user";q=60;w=60"#);
    /// assert_eq!(headers["ratelimit"], r#""per-user";r=6;t=4"#);
    /// assert_eq!(headers["ratelimit-limit"], "10");
    /// assert_eq!(headers["ratelimit-remaining"], "6");
    /// assert_eq!(headers["ratelimit-reset"], "4");
    /// ```
    pub fn write(self, report: &QuotaReport, headers: &mut HeaderMap) {
        let reset = ceil_secs(report.reset);
        if self.contains(RateLimitHeaders::IETF) {
            let name = sf_string(&report.policy);
            let window = ceil_secs(report.window).max(1);
            insert(
                headers,
                RATELIMIT_POLICY,
                format!("{name};q={};w={window}", report.quota),
            );
            insert(
                headers,
                RATELIMIT,
                format!("{name};r={};t={reset}", report.remaining),
            );
        }
        if self.contains(RateLimitHeaders::LEGACY) {
            insert(headers, RATELIMIT_LIMIT, report.limit.to_string());
            insert(headers, RATELIMIT_REMAINING, report.remaining.to_string());
            insert(headers, RATELIMIT_RESET, reset.to_string());
        }
        if self.contains(RateLimitHeaders::X_RATELIMIT) {
            insert(headers, X_RATELIMIT_LIMIT, report.limit.to_string());
            insert(headers, X_RATELIMIT_REMAINING, report.remaining.to_string());
            insert(headers, X_RATELIMIT_RESET, reset.to_string());
        }
    }
}

impl Default for RateLimitHeaders {
    /// The IETF draft's fields and the legacy `RateLimit-*` triple.
    fn default() -> Self {
        RateLimitHeaders::IETF | RateLimitHeaders::LEGACY
    }
}

impl BitOr for RateLimitHeaders {
    type Output = RateLimitHeaders;

    fn bitor(self, rhs: RateLimitHeaders) -> RateLimitHeaders {
        RateLimitHeaders(self.0 | rhs.0)
    }
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

fn insert(headers: &mut HeaderMap, name: HeaderName, value: String) {
    // Every value here is digits, `;`, `=` and an escaped sf-string: valid.
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

/// `name` as a structured-field string (RFC 8941 §3.3.3): quoted, `"` and
/// `\` escaped, anything outside printable ASCII replaced by `_`.
fn sf_string(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('_'),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_structured_strings() {
        assert_eq!(sf_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(sf_string("tier-é"), r#""tier-_""#);
    }

    #[test]
    fn a_window_under_a_second_reads_one() {
        let report = QuotaReport::new("burst", 5, Duration::from_millis(100), 5, 5, Duration::ZERO);
        let mut headers = HeaderMap::new();
        RateLimitHeaders::IETF.write(&report, &mut headers);
        assert_eq!(headers["ratelimit-policy"], r#""burst";q=5;w=1"#);
        assert_eq!(headers["ratelimit"], r#""burst";r=5;t=0"#);
    }
}
