//! The `instructions` section: the CPU work per message counted exactly rather than timed.
//! `cargo xtask instructions` (and `cargo xtask bench --instructions`) run the stage functions'
//! plain loop for a fixed number of messages of a seeded feed under Valgrind's callgrind with
//! its cache simulation, and count only the measured messages. The same binary, seed and count
//! give the same figures on any machine and under any load, which is what lets `compare` gate
//! them at a 1 % limit where a timed figure needs an interval of about ±8 %.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The instruction count of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstructionsSection {
    /// Instructions executed per measured message (callgrind's `Ir` over the messages).
    pub instructions_per_message: f64,
    /// Estimated cycles per message from the simulated caches: `cycle_model` over the events.
    pub estimated_cycles_per_message: f64,
    /// Messages counted.
    pub messages: u64,
    /// Messages run before the counted ones (caches and bars in their steady state).
    pub warmup: u64,
    /// Seed of the synthetic feed.
    pub seed: u64,
    /// The profiler's arguments for the counted run.
    pub profiler_args: Vec<String>,
    /// Callgrind's event totals over the counted messages, by event name (`Ir`, `Dr`, `D1mr`, ...).
    pub events: BTreeMap<String, u64>,
    /// How the cycles are estimated from the events.
    pub cycle_model: String,
    /// The simulated caches (fixed, so the estimate is the same on every machine).
    pub caches: Vec<String>,
    /// The allocator settings of the counted run (its clock-driven housekeeping off).
    pub allocator_settings: String,
    /// `valgrind --version`.
    pub valgrind: String,
}
