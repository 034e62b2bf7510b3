//! Time the hypervisor took from this virtual machine ("steal"), from the `cpu` line of
//! `/proc/stat`. On a shared cloud machine it is the one cause of slow, noisy results that the
//! process cannot see in its own CPU time (stolen time is not charged to it), so each phase
//! reports the share stolen during its window: a run at 25 % steal is slower and its tail
//! latency is set by the host's pauses, whatever the pipeline does. Linux only; elsewhere the
//! figure is absent.

/// The machine's cumulative CPU time, in the kernel's clock ticks, all CPUs together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CpuTicks {
    steal: u64,
    total: u64,
}

impl CpuTicks {
    /// Reads `/proc/stat` now; `None` where it does not exist or says no steal.
    pub(crate) fn now() -> Option<Self> {
        parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// Share of all CPU time between `earlier` and `self` that the host stole, percent; `None`
    /// when no tick passed (too short a window to say).
    pub(crate) fn steal_pct_since(&self, earlier: &Self) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let steal = self.steal.checked_sub(earlier.steal)?;
        (total > 0).then(|| 100.0 * steal as f64 / total as f64)
    }
}

/// The aggregate `cpu` line: user nice system idle iowait irq softirq steal [guest guest_nice].
/// Guest time is already counted in user and nice, so the total is the first eight fields.
fn parse(stat: &str) -> Option<CpuTicks> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_ascii_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (fields.len() == 8).then(|| CpuTicks {
        steal: fields[7],
        total: fields.iter().sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_aggregate_line_and_computes_the_stolen_share() {
        let before = parse("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n").unwrap();
        assert_eq!(
            before,
            CpuTicks {
                steal: 35,
                total: 1000
            }
        );
        let after = parse("cpu  160 0 70 900 10 0 5 55 7 0\n").unwrap();
        assert_eq!(after.steal_pct_since(&before), Some(100.0 * 20.0 / 200.0));
        assert_eq!(before.steal_pct_since(&before), None, "no tick passed");
        assert_eq!(before.steal_pct_since(&after), None, "counters never go back");
    }

    #[test]
    fn malformed_or_old_kernels_give_nothing() {
        assert_eq!(parse("cpu0 1 2 3 4 5 6 7 8\n"), None);
        assert_eq!(parse("cpu  1 2 3 4 5 6 7\n"), None, "no steal column");
        assert_eq!(parse("cpu  1 2 x 4 5 6 7 8\n"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_machine_has_the_counter() {
        let ticks = CpuTicks::now().expect("/proc/stat on Linux");
        assert!(ticks.total > 0 && ticks.steal <= ticks.total);
    }
}
