//! Allocation-site heap profile, from jemalloc's own sampling (one allocation about every 512 KiB
//! allocated, with its stack), written as a gzipped pprof file: which code holds the memory that
//! is live when the measured window ends, among what was allocated since the phase started.
//!
//! jemalloc can only sample if profiling was switched on when the process started
//! (`_RJEM_MALLOC_CONF=prof:true,prof_active:false`); `perfgate-profiler --heap-profile` restarts
//! itself with that setting. Sampling is then switched on for the throughput phase only. Samples
//! from its warm-up are kept: clearing them with jemalloc's `prof.reset` stopped all further
//! sampling in trials here.

#[cfg(feature = "heap-profile")]
use crate::alloc::HEAP_PROFILE_ENV;

/// A heap profile being taken.
#[derive(Default)]
pub(crate) struct HeapProfile {
    active: bool,
    /// The parsed dump, symbolized only once the phase is over (see [`HeapProfile::into_pprof`]).
    #[cfg(feature = "heap-profile")]
    profile: Option<jemalloc_pprof::StackProfile>,
    pub(crate) warnings: Vec<String>,
}

impl std::fmt::Debug for HeapProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapProfile")
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl HeapProfile {
    /// Switches sampling on. jemalloc decides per thread when to take its next sample, and a
    /// thread started while sampling was off would not take one for a long time, so this must run
    /// before the phase's runtime threads start.
    pub(crate) fn arm(&mut self) {
        #[cfg(feature = "heap-profile")]
        {
            let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() else {
                let (variable, value) = HEAP_PROFILE_ENV;
                self.warnings.push(format!(
                    "heap profile: jemalloc was not started with profiling; set {variable}={value} \
                     before the process starts (perfgate-profiler --heap-profile does this itself)"
                ));
                return;
            };
            let mut ctl = ctl.blocking_lock();
            match ctl.activate() {
                Ok(()) => self.active = true,
                Err(error) => self
                    .warnings
                    .push(format!("heap profile: activating failed: {error}")),
            }
        }
        #[cfg(not(feature = "heap-profile"))]
        self.warnings
            .push("heap profile: this build of perfgate-profiler has no `heap-profile` feature".to_owned());
    }

    /// Dumps the profile and stops sampling.
    pub(crate) fn end(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        #[cfg(feature = "heap-profile")]
        if let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() {
            let mut ctl = ctl.blocking_lock();
            // Only parsed here; symbolizing while the pipeline still runs came back without a
            // single function name in trials, so it waits until the phase is over.
            match ctl.dump_profile() {
                Ok(profile) => self.profile = Some(profile),
                Err(error) => self
                    .warnings
                    .push(format!("heap profile: dumping failed: {error:#}")),
            }
            if let Err(error) = ctl.deactivate() {
                self.warnings
                    .push(format!("heap profile: deactivating failed: {error}"));
            }
        }
    }
}

impl HeapProfile {
    /// The profile as a gzipped pprof file, symbolized now.
    pub(crate) fn into_pprof(self) -> (Option<Vec<u8>>, Vec<String>) {
        #[cfg(feature = "heap-profile")]
        let pprof = self
            .profile
            .map(|profile| profile.to_pprof(("inuse_space", "bytes"), ("space", "bytes"), None));
        #[cfg(not(feature = "heap-profile"))]
        let pprof = None;
        (pprof, self.warnings)
    }
}
