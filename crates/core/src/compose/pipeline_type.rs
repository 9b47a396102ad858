//! Naming a pipeline's type, to keep one in a struct or an axum `State`.

/// The type of a [`Pipeline`](crate::Pipeline) of the given policies,
/// outermost first: `pipeline_type![A, B, C]` is
/// `Pipeline<Then<A, Then<B, Last<C>>>>`.
///
/// A pipeline is one concrete type, so a struct that keeps one names it; this
/// spells that name in the order the pipeline is written. Policies whose
/// types carry closures (a fallback's, a classifier's) are named with `fn`
/// pointers (`fn(&Result<T, E>) -> Outcome`) or kept behind
/// [`BoxPolicy`](crate::BoxPolicy) (an allocation per call).
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Identity, Pipeline, Policy, Timeout, pipeline_type};
///
/// type Api = pipeline_type![Timeout, Identity, Timeout];
///
/// struct AppState {
///     upstream: Api,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let state = AppState {
///     upstream: Pipeline::new(Timeout::new(Duration::from_secs(10))?)
///         .then(Identity)
///         .then(Timeout::new(Duration::from_secs(2))?),
/// };
/// let n = state.upstream.call(|| async { Ok::<_, std::io::Error>(1) }).await?;
/// assert_eq!(n, 1);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! pipeline_type {
    ($($policy:ty),+ $(,)?) => {
        $crate::Pipeline<$crate::__pipeline_chain!($($policy),+)>
    };
}

/// The chain inside [`pipeline_type!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __pipeline_chain {
    ($last:ty) => {
        $crate::Last<$last>
    };
    ($outer:ty, $($rest:ty),+) => {
        $crate::Then<$outer, $crate::__pipeline_chain!($($rest),+)>
    };
}
