//! tokio's task poll hooks, pointed at the lag probe: every poll of every task on the runtime is
//! timed, not only the tasks perfgate instrumented. The hooks are set on the runtime's builder
//! (`--cfg tokio_unstable`), before any probe exists, so they point at whichever run is attached
//! at the moment and do nothing in between.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::lag::LagShared;

/// Poll hooks for a tokio runtime you build yourself, so that the lag probe times every task's
/// polls (a blocking background task included), not only the futures you instrument.
///
/// Needs tokio's unstable API: build with `RUSTFLAGS="--cfg tokio_unstable"` (or set it in
/// `.cargo/config.toml`). Without it, `PollHooks::install` does not exist and the profiler
/// compares the workers' busy time with the instrumented polls instead, warning about the gap.
///
/// ```ignore
/// let hooks = perfgate_profiler::PollHooks::default();
/// let mut builder = tokio::runtime::Builder::new_multi_thread();
/// hooks.install(builder.enable_all());
/// let runtime = builder.build()?;
/// let options = perfgate_profiler::AttachOptions::default().poll_hooks(hooks);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PollHooks {
    target: Arc<Target>,
}

#[derive(Debug, Default)]
struct Target {
    /// Bumped whenever the hooks are pointed elsewhere, so threads refresh their cached pointer.
    generation: AtomicU64,
    current: Mutex<Option<Arc<LagShared>>>,
}

thread_local! {
    /// The run this thread's hooks point at: (hooks, generation, run).
    static CACHED: std::cell::RefCell<(usize, u64, Option<Arc<LagShared>>)> =
        const { std::cell::RefCell::new((0, 0, None)) };
}

impl PollHooks {
    /// Sets the runtime's `on_before_task_poll` and `on_after_task_poll` hooks to time polls for
    /// the profiler these hooks are given to (through [`crate::AttachOptions::poll_hooks`]).
    #[cfg(tokio_unstable)]
    pub fn install<'b>(&self, builder: &'b mut tokio::runtime::Builder) -> &'b mut tokio::runtime::Builder {
        let before = self.clone();
        let after = self.clone();
        builder
            .on_before_task_poll(move |_| before.with_run(LagShared::poll_starts))
            .on_after_task_poll(move |task| after.with_run(|run| run.poll_ends(task.spawned_at())))
    }

    /// Whether `PollHooks::install` exists in this build (`--cfg tokio_unstable`).
    pub const AVAILABLE: bool = cfg!(tokio_unstable);

    /// Points the hooks at `run` (or at nothing).
    pub(crate) fn point_at(&self, run: Option<Arc<LagShared>>) {
        let mut current = self
            .target
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(run) = &run {
            run.mark_hooked();
        }
        *current = run;
        self.target.generation.fetch_add(1, Ordering::Release);
    }

    /// Calls `hook` with the run the hooks point at, if any. One atomic load and a thread-local
    /// read per call; the lock only when the hooks were pointed elsewhere since this thread last
    /// looked.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    fn with_run(&self, hook: impl FnOnce(&LagShared)) {
        let key = Arc::as_ptr(&self.target) as usize;
        let generation = self.target.generation.load(Ordering::Acquire);
        CACHED.with(|cached| {
            let mut cached = cached.borrow_mut();
            if cached.0 != key || cached.1 != generation {
                let current = self
                    .target
                    .current
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone();
                *cached = (key, generation, current);
            }
            if let Some(run) = &cached.2 {
                hook(run);
            }
        });
    }
}
