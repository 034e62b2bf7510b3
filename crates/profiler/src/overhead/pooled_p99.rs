//! The pooled p99 ratio and its uncertainty.
//!
//! The probes' p99 cost is the p99 of every fixed-rate message of every "on" run over that of
//! every "off" run. On a shared machine that figure is set by the host's pauses, which fall on
//! either side at random, so one invocation's ratio says little without an interval. The
//! interval comes from a bootstrap over pairs: a pair (its "off" and its "on" run, adjacent in
//! time) is the unit that was repeated, so resampling pairs keeps whatever the two runs of a
//! pair share and asks how much the pooled ratio would move had other pairs been drawn.
//!
//! Each run is kept as its histogram's recorded bins, not the histogram (a full nanosecond
//! histogram is 400 KiB; a run's recorded bins are a few thousand), and the bins below the
//! lowest single-run p99 are folded into one count: a pooled p99 is never below the lowest p99
//! of the runs pooled, so those bins only ever count, never answer.

use hdrhistogram::Histogram;
use perfgate_stats::SeededRng;

/// A run's latency distribution: (value in ns, the bin's highest equivalent; count), ascending.
pub(super) struct RunBins(Vec<(u64, u64)>);

impl RunBins {
    pub(super) fn of(histogram: &Histogram<u64>) -> Self {
        Self(
            histogram
                .iter_recorded()
                .map(|bin| (bin.value_iterated_to(), bin.count_at_value()))
                .collect(),
        )
    }

    fn total(&self) -> u64 {
        self.0.iter().map(|(_, count)| count).sum()
    }

    /// hdrhistogram's `value_at_quantile` rule: the first bin whose running count reaches
    /// `ceil(q · total)` (at least 1).
    fn quantile(&self, quantile: f64) -> Option<u64> {
        value_at_rank(self.0.iter().copied(), rank(quantile, self.total())?)
    }
}

fn rank(quantile: f64, total: u64) -> Option<u64> {
    (total > 0).then(|| ((quantile * total as f64).ceil() as u64).max(1))
}

/// The value of the first (value, count) bin, ascending, at which the running count reaches
/// `target`.
fn value_at_rank(mut bins: impl Iterator<Item = (u64, u64)>, target: u64) -> Option<u64> {
    let mut seen = 0;
    bins.find_map(|(value, count)| {
        seen += count;
        (seen >= target).then_some(value)
    })
}

/// Every run of both sides on one shared, compact grid of bin values.
pub(super) struct PooledP99 {
    /// Distinct bin values at or above the floor, ascending; index 0 is the folded floor bin.
    values: Vec<u64>,
    /// Per pair: the "off" run's and the "on" run's counts as (index into `values`, count).
    pairs: Vec<[Vec<(usize, u64)>; 2]>,
}

const QUANTILE: f64 = 0.99;
const RESAMPLES: usize = 2_000;

impl PooledP99 {
    /// `runs` holds each pair's (off, on) bins; runs with no message are left out of their side.
    pub(super) fn new(runs: &[(RunBins, RunBins)]) -> Self {
        let floor = runs
            .iter()
            .flat_map(|(off, on)| [off.quantile(QUANTILE), on.quantile(QUANTILE)])
            .flatten()
            .min()
            .unwrap_or(0);
        let mut values: Vec<u64> = runs
            .iter()
            .flat_map(|(off, on)| off.0.iter().chain(&on.0))
            .map(|&(value, _)| value)
            .filter(|&value| value > floor)
            .collect();
        values.push(floor);
        values.sort_unstable();
        values.dedup();
        let compact = |run: &RunBins| -> Vec<(usize, u64)> {
            let below: u64 = run.0.iter().filter(|(v, _)| *v <= floor).map(|(_, c)| c).sum();
            std::iter::once((0, below))
                .chain(run.0.iter().filter(|(v, _)| *v > floor).map(|&(v, c)| {
                    let index = values.binary_search(&v).expect("every value is on the grid");
                    (index, c)
                }))
                .filter(|(_, count)| *count > 0)
                .collect()
        };
        let pairs = runs.iter().map(|(off, on)| [compact(off), compact(on)]).collect();
        Self { values, pairs }
    }

    /// Pooled p99 of one side (0 = off, 1 = on) over the pairs `chosen`, ns.
    fn p99(&self, side: usize, chosen: &[usize], counts: &mut [u64]) -> Option<u64> {
        counts.fill(0);
        for &pair in chosen {
            for &(index, count) in &self.pairs[pair][side] {
                counts[index] += count;
            }
        }
        let target = rank(QUANTILE, counts.iter().sum())?;
        value_at_rank(self.values.iter().copied().zip(counts.iter().copied()), target)
    }

    /// Pooled p99s (off, on) over the pairs `chosen`, ns; `None` if either is empty or zero.
    fn p99s(&self, chosen: &[usize], counts: &mut [u64]) -> Option<(u64, u64)> {
        let off = self.p99(0, chosen, counts)?;
        let on = self.p99(1, chosen, counts)?;
        (off > 0).then_some((off, on))
    }

    /// The pooled p99s over all pairs, their ratio, and its 95 % bootstrap interval over pairs
    /// (fixed seed: the same runs give the same interval). `None` when a side recorded nothing.
    pub(super) fn estimate(&self) -> Option<PooledEstimate> {
        let mut counts = vec![0; self.values.len()];
        let all: Vec<usize> = (0..self.pairs.len()).collect();
        let (off_ns, on_ns) = self.p99s(&all, &mut counts)?;
        let mut rng = SeededRng::new(0x0DD5_EED5);
        let mut chosen = vec![0; all.len()];
        let mut ratios: Vec<f64> = (0..RESAMPLES)
            .filter_map(|_| {
                for slot in &mut chosen {
                    *slot = rng.below(all.len());
                }
                let (off, on) = self.p99s(&chosen, &mut counts)?;
                Some(on as f64 / off as f64)
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        let at = |per_mille: usize| ratios[(ratios.len() * per_mille / 1000).min(ratios.len() - 1)];
        Some(PooledEstimate {
            off_ns,
            on_ns,
            ratio: on_ns as f64 / off_ns as f64,
            ratio_ci95: (at(25), at(975)),
        })
    }
}

/// The pooled p99 of each side and their ratio.
pub(super) struct PooledEstimate {
    pub(super) off_ns: u64,
    pub(super) on_ns: u64,
    /// on / off.
    pub(super) ratio: f64,
    /// 95 % bootstrap interval of the ratio, resampling pairs.
    pub(super) ratio_ci95: (f64, f64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{merge_into, ns_histogram};

    /// A run of `n` latencies: 0.6–1 ms, 3 % of them 1.5 times that and scaled by `tail_scale`
    /// (the probes' cost, if any), and in one run of three a host pause of 2–8 ms added to 2 %.
    fn run(rng: &mut SeededRng, n: usize, tail_scale: f64) -> Histogram<u64> {
        let mut histogram = ns_histogram();
        let paused = rng.next_u64().is_multiple_of(3);
        let pause_ns = 2_000_000 + rng.next_u64() % 6_000_000;
        for i in 0..n {
            let jitter = rng.next_u64() % 400_000;
            let mut value = 600_000 + jitter;
            if i % 100 < 3 {
                value = (value as f64 * 1.5 * tail_scale) as u64;
            }
            if paused && i % 50 == 0 {
                value += pause_ns;
            }
            histogram.record(value).unwrap();
        }
        histogram
    }

    fn pairs(seed: u64, count: usize, on_scale: f64) -> Vec<(Histogram<u64>, Histogram<u64>)> {
        let mut rng = SeededRng::new(seed);
        (0..count)
            .map(|_| (run(&mut rng, 5_000, 1.0), run(&mut rng, 5_000, on_scale)))
            .collect()
    }

    fn pooled(pairs: &[(Histogram<u64>, Histogram<u64>)]) -> PooledP99 {
        let bins: Vec<_> = pairs
            .iter()
            .map(|(off, on)| (RunBins::of(off), RunBins::of(on)))
            .collect();
        PooledP99::new(&bins)
    }

    #[test]
    fn estimate_equals_the_p99_of_merged_histograms() {
        for seed in 0..5 {
            let pairs = pairs(seed, 12, 1.2);
            let (mut off, mut on) = (ns_histogram(), ns_histogram());
            for (o, n) in &pairs {
                merge_into(&mut off, o);
                merge_into(&mut on, n);
            }
            let expected = on.value_at_quantile(QUANTILE) as f64 / off.value_at_quantile(QUANTILE) as f64;
            let estimate = pooled(&pairs).estimate().unwrap();
            assert_eq!(estimate.ratio, expected, "seed {seed}");
            assert_eq!(estimate.off_ns, off.value_at_quantile(QUANTILE));
        }
    }

    #[test]
    fn interval_covers_one_without_a_cost_and_excludes_it_with_one() {
        let (low, high) = pooled(&pairs(7, 60, 1.0)).estimate().unwrap().ratio_ci95;
        assert!(low <= 1.0 && high >= 1.0, "no cost: {low}–{high}");
        let heavier = pooled(&pairs(7, 60, 1.3)).estimate().unwrap();
        let (estimate, (low, high)) = (heavier.ratio, heavier.ratio_ci95);
        assert!(low > 1.05, "a 30 % heavier tail: {estimate} ({low}–{high})");
        assert!(low <= estimate && estimate <= high);
    }

    #[test]
    fn interval_narrows_with_more_pairs() {
        let width = |count| {
            let (low, high) = pooled(&pairs(11, count, 1.0)).estimate().unwrap().ratio_ci95;
            high - low
        };
        assert!(width(80) < width(10), "{} vs {}", width(80), width(10));
    }

    #[test]
    fn empty_side_gives_none() {
        let runs = vec![(RunBins::of(&ns_histogram()), RunBins::of(&ns_histogram()))];
        assert!(PooledP99::new(&runs).estimate().is_none());
    }
}
