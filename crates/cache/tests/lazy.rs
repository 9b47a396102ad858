//! A cache's futures do nothing before they are polled: a read made before
//! a write but first polled after it sees the write.

mod common;

use common::{SECOND, builder};
use steadfast_core::Inspect;

#[tokio::test(start_paused = true)]
async fn a_get_reads_the_store_when_first_polled() {
    let cache = builder().fresh_for(SECOND).build().unwrap();
    cache.insert(1, 10).await;
    let read = cache.get(&1);
    cache.invalidate(&1).await;
    assert_eq!(
        read.await,
        None,
        "the invalidation came before the first poll"
    );

    let read = cache.get(&1);
    cache.insert(1, 11).await;
    assert_eq!(read.await.map(|hit| *hit), Some(11));
}

#[tokio::test(start_paused = true)]
async fn a_get_or_fetch_reads_the_store_when_first_polled() {
    let cache = builder().fresh_for(SECOND).build().unwrap();
    cache.insert(1, 10).await;
    let read = cache.get_or_fetch(&1, || async { Ok(99) });
    cache.insert(1, 11).await;
    assert_eq!(*read.await.unwrap(), 11);

    let read = cache.get_or_fetch(&1, || async { Ok(99) });
    cache.invalidate(&1).await;
    let fetched = read.await.unwrap();
    assert_eq!((*fetched, fetched.is_fetched()), (99, true));
    assert_eq!(cache.snapshot().fetches, 1);
}
