//! What several integration tests share: pipelines whose capacity is known by construction.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use perfgate_profiler::{AsyncSource, Pipeline, StageError, source_fn, stage_fn};

/// A source counting from 1.
fn counter() -> impl AsyncSource<Item = u64> {
    let mut next = 0_u64;
    source_fn(move || {
        next += 1;
        std::future::ready(Some(next))
    })
}

/// What an idle worker may bank of unused service time.
const SLACK: Duration = Duration::from_millis(5);

/// One worker that serves each message in `cost` of a service clock: it finishes exactly
/// `1 / cost` messages a second as long as the machine has any CPU to spare.
///
/// A service clock, not a busy loop: a loop that spins `cost` of wall time is as slow as the
/// machine is busy (on a shared 2-core runner with other jobs a 500 µs loop did 660–890 msg/s,
/// not 2,000), so its capacity would not be known. Here each message is done `cost` after the
/// previous one and the worker sleeps while it is ahead. `sources` counts the sources made (one
/// per run), so a test can tell whether anything ran.
#[allow(
    dead_code,
    reason = "not every test binary that includes this module uses every pipeline"
)]
pub(crate) fn service_clock(
    cost: Duration,
    sources: Arc<AtomicUsize>,
) -> Pipeline<impl AsyncSource<Item = u64>> {
    Pipeline::builder(move |_| {
        sources.fetch_add(1, Ordering::Relaxed);
        let mut next = 0_u64;
        source_fn(move || {
            next += 1;
            std::future::ready(Some(next))
        })
    })
    .stage("work", move |_| {
        let mut free_at = tokio::time::Instant::now();
        stage_fn(move |value: u64| {
            let now = tokio::time::Instant::now();
            // A message is done `cost` after the previous one; an idle worker banks at most
            // SLACK of unused time, so a busy one runs at exactly 1 / cost however late the
            // timer wakes it.
            free_at = free_at.max(now - SLACK) + cost;
            // tokio's timer ticks in milliseconds: sleep only when ahead by more than two.
            let wait = (free_at > now + Duration::from_millis(2)).then_some(free_at);
            async move {
                if let Some(done) = wait {
                    tokio::time::sleep_until(done).await;
                }
                Ok::<_, StageError>(value)
            }
        })
    })
    .build()
}

/// One worker that spends `cost` of wall time on each message, busy (as CPU work does): its
/// capacity is about `1 / cost`, less the harness's own share, and less again when the machine
/// is busy — so a test compares it with its own measured saturation, not with `1 / cost`. Unlike
/// the service clock, its time per message is real elapsed time, which is what an injected
/// slowdown multiplies.
#[allow(
    dead_code,
    reason = "not every test binary that includes this module uses every pipeline"
)]
pub(crate) fn busy_stage(cost: Duration) -> Pipeline<impl AsyncSource<Item = u64>> {
    Pipeline::builder(|_| counter())
        .stage("work", move |_| {
            stage_fn(move |value: u64| {
                spin(cost);
                std::future::ready(Ok::<_, StageError>(value))
            })
        })
        .build()
}

/// Busy for `cost` of wall time, as CPU work is.
#[allow(
    dead_code,
    reason = "not every test binary that includes this module uses every pipeline"
)]
pub(crate) fn spin(cost: Duration) {
    let until = std::time::Instant::now() + cost;
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}
