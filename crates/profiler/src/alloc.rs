//! A global-allocator wrapper that counts what the heap probe needs — live heap bytes, their true
//! peak, allocation count and volume — at the cost of a thread-local add per allocation.
//!
//! Install it around the allocator you use:
//!
//! ```
//! use perfgate_profiler::alloc::TrackingAllocator;
//! #[global_allocator]
//! static GLOBAL: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);
//! ```
//!
//! Each thread accumulates its changes locally and folds them into process-wide atomics once they
//! exceed [`FLUSH_BYTES`] (or [`FLUSH_ALLOCATIONS`] allocations). The peak is updated at every fold,
//! so it is the real high-water mark of live bytes, not the maximum of periodic samples, within
//! `threads × FLUSH_BYTES`. A single allocation of `FLUSH_BYTES` or more is folded at once, so large
//! buffers are counted exactly when they happen.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// The environment setting jemalloc needs at process start for `--heap-profile`: the variable
/// jemalloc (as built by tikv-jemalloc-sys, prefixed) reads at start-up, and profiling compiled
/// in and enabled, sampling off until the window starts, a sample about every 2^19 bytes, and
/// cumulative counts kept (`prof_accum`: without them the profile has live bytes only, not the
/// volume allocated). Kept here, with the allocator, because the binary sets it before anything
/// else runs.
pub const HEAP_PROFILE_ENV: (&str, &str) = (
    "_RJEM_MALLOC_CONF",
    "prof:true,prof_active:false,lg_prof_sample:19,prof_accum:true",
);

/// A thread folds its pending byte changes into the global counts once they reach this size.
pub const FLUSH_BYTES: i64 = 64 * 1024;
/// A thread folds its pending counts after this many allocations, whatever their size.
pub const FLUSH_ALLOCATIONS: u64 = 1024;

static INSTALLED: AtomicBool = AtomicBool::new(false);
static TRACKING: AtomicBool = AtomicBool::new(true);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static PEAK_BYTES: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

/// One thread's changes not yet folded into the global counts.
struct Pending {
    live: Cell<i64>,
    allocations: Cell<u64>,
    allocated: Cell<u64>,
}

thread_local! {
    // Const-initialised and without a destructor: touching it never allocates, which matters
    // inside an allocator.
    static PENDING: Pending = const {
        Pending { live: Cell::new(0), allocations: Cell::new(0), allocated: Cell::new(0) }
    };
}

/// Wraps an allocator and counts live bytes, their peak, and allocation volume.
#[derive(Debug, Default)]
pub struct TrackingAllocator<A> {
    inner: A,
}

impl<A> TrackingAllocator<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

/// What the tracking allocator has counted since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapCounters {
    /// Bytes requested and not yet freed.
    pub live_bytes: i64,
    /// Highest `live_bytes` since start or since the last [`reset_peak`].
    pub peak_bytes: i64,
    /// Allocations made (including reallocations).
    pub allocations: u64,
    /// Bytes requested by those allocations (for a reallocation, the growth).
    pub allocated_bytes: u64,
}

/// The counts so far, or `None` if no [`TrackingAllocator`] is the global allocator.
pub fn heap_counters() -> Option<HeapCounters> {
    if !INSTALLED.load(Ordering::Relaxed) {
        return None;
    }
    flush_current_thread();
    Some(HeapCounters {
        live_bytes: LIVE_BYTES.load(Ordering::Relaxed),
        peak_bytes: PEAK_BYTES.load(Ordering::Relaxed),
        allocations: ALLOCATIONS.load(Ordering::Relaxed),
        allocated_bytes: ALLOCATED_BYTES.load(Ordering::Relaxed),
    })
}

/// Starts a new peak from the current live bytes.
pub fn reset_peak() {
    flush_current_thread();
    PEAK_BYTES.store(LIVE_BYTES.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Turns counting on or off (on by default). Off, the wrapper only forwards calls; used to
/// measure the probes' own overhead.
pub fn set_tracking(enabled: bool) {
    flush_current_thread();
    TRACKING.store(enabled, Ordering::Relaxed);
}

/// Whether counting is on.
pub fn tracking() -> bool {
    TRACKING.load(Ordering::Relaxed)
}

fn flush_current_thread() {
    let _ = PENDING.try_with(|pending| {
        fold(pending.live.replace(0));
        ALLOCATIONS.fetch_add(pending.allocations.replace(0), Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(pending.allocated.replace(0), Ordering::Relaxed);
    });
}

#[inline]
fn fold(live_delta: i64) {
    if live_delta != 0 {
        let live = LIVE_BYTES.fetch_add(live_delta, Ordering::Relaxed) + live_delta;
        if live > PEAK_BYTES.load(Ordering::Relaxed) {
            PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        }
    }
}

/// Counts one change of live bytes; `allocated` is `Some(bytes)` for an allocation.
#[inline]
fn record(live_delta: i64, allocated: Option<u64>) {
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
    if !TRACKING.load(Ordering::Relaxed) {
        return;
    }
    let _ = PENDING.try_with(|pending| {
        let live = pending.live.get() + live_delta;
        if live.abs() >= FLUSH_BYTES {
            pending.live.set(0);
            fold(live);
        } else {
            pending.live.set(live);
        }
        if let Some(bytes) = allocated {
            let count = pending.allocations.get() + 1;
            let volume = pending.allocated.get() + bytes;
            if count >= FLUSH_ALLOCATIONS {
                pending.allocations.set(0);
                pending.allocated.set(0);
                ALLOCATIONS.fetch_add(count, Ordering::Relaxed);
                ALLOCATED_BYTES.fetch_add(volume, Ordering::Relaxed);
            } else {
                pending.allocations.set(count);
                pending.allocated.set(volume);
            }
        }
    });
}

// SAFETY: every call is forwarded unchanged to the inner allocator; the wrapper only counts.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as i64, Some(layout.size() as u64));
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as i64, Some(layout.size() as u64));
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { self.inner.dealloc(ptr, layout) };
        record(-(layout.size() as i64), None);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            let delta = new_size as i64 - layout.size() as i64;
            record(delta, Some(delta.max(0) as u64));
        }
        new
    }
}
