//! Confidence intervals of a median, and of a ratio of medians.
//!
//! Two methods, each where it is the right one:
//! - [`median_interval`], the sign test's order statistics: exact for any continuous
//!   distribution, so it is the one for the handful of rounds a comparison has (6 to 20), where a
//!   bootstrap of the median is too narrow (it can only return values the sample holds, and with
//!   few of them it under-covers);
//! - [`bootstrap_median_interval`] and [`unpaired_ratio_interval`], percentile bootstraps: for
//!   many values (the hundreds of pairs of an overhead measurement), where the bootstrap's
//!   coverage is good and its interval narrower than the order statistics'; and for a ratio of
//!   two independent samples' medians, which no order statistic gives.

use crate::order::{median, sorted_quantile};
use crate::random::SeededRng;

/// Resamples a bootstrap draws: enough that the 2.5 % and 97.5 % quantiles of the resampled
/// medians move by well under a tenth of the interval's width between seeds.
const RESAMPLES: usize = 4_000;

/// `P(X <= k)` for X ~ Binomial(n, 1/2).
fn binomial_half_cdf(n: usize, k: usize) -> f64 {
    let mut term = 0.5f64.powi(n as i32); // C(n, 0) / 2^n
    let mut sum = term;
    for i in 1..=k.min(n) {
        term *= (n + 1 - i) as f64 / i as f64;
        sum += term;
    }
    sum
}

/// A distribution-free confidence interval for the median: the order statistics
/// `(x(k), x(n+1-k))` with the largest `k` whose coverage `1 - 2·P(Bin(n, 1/2) < k)` is at least
/// `confidence`. It is the interval the sign test inverts: exact for any continuous
/// distribution and without resampling. With 6 values and 95 % it is `(min, max)` (coverage
/// 96.9 %). Returns `(low, high, achieved coverage)`; `None` with fewer values than any interval
/// needs (`(min, max)` must cover at least `confidence`).
pub fn median_interval(values: &[f64], confidence: f64) -> Option<(f64, f64, f64)> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let alpha = 1.0 - confidence;
    // Largest k (1-based) with 2·P(X <= k-1) <= alpha.
    let mut best = None;
    for k in 1..=n.div_ceil(2) {
        let tail = binomial_half_cdf(n, k - 1);
        if 2.0 * tail <= alpha + 1e-12 {
            best = Some((k, 1.0 - 2.0 * tail));
        } else {
            break;
        }
    }
    let (k, coverage) = best?;
    Some((sorted[k - 1], sorted[n - k], coverage))
}

/// The median of one resample (with replacement) of `values`.
fn resampled_median(values: &[f64], rng: &mut SeededRng) -> f64 {
    let drawn: Vec<f64> = (0..values.len())
        .map(|_| values[rng.below(values.len())])
        .collect();
    median(&drawn).unwrap_or(f64::NAN)
}

/// The central `confidence` share of `draws` (finite ones only), as `(low, high)`.
fn percentile_interval(mut draws: Vec<f64>, confidence: f64) -> Option<(f64, f64)> {
    draws.retain(|draw| draw.is_finite());
    if draws.is_empty() {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    Some((sorted_quantile(&draws, tail), sorted_quantile(&draws, 1.0 - tail)))
}

/// A percentile-bootstrap interval of the median of `values` (seeded: the same input and seed
/// give the same interval). For many values; see the module's note. `None` when empty.
pub fn bootstrap_median_interval(values: &[f64], confidence: f64, seed: u64) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut rng = SeededRng::new(seed);
    let draws = (0..RESAMPLES)
        .map(|_| resampled_median(values, &mut rng))
        .collect();
    percentile_interval(draws, confidence)
}

/// For two independent samples (no pairing): the ratio of medians `candidate / base` and a
/// percentile-bootstrap interval of it, each side resampled on its own (seeded). Weaker than a
/// paired interval: it cannot tell a real change from drift between the jobs that produced the
/// samples. Returns `(point, low, high)`.
pub fn unpaired_ratio_interval(base: &[f64], candidate: &[f64], confidence: f64) -> Option<(f64, f64, f64)> {
    let point = median(candidate)? / median(base)?;
    let mut rng = SeededRng::new(0x5EED_0FC0_FFEE);
    let draws = (0..RESAMPLES)
        .map(|_| resampled_median(candidate, &mut rng) / resampled_median(base, &mut rng))
        .collect();
    let (low, high) = percentile_interval(draws, confidence)?;
    Some((point, low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_interval_uses_the_sign_test_order_statistics() {
        let six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let (low, high, coverage) = median_interval(&six, 0.95).unwrap();
        assert_eq!((low, high), (1.0, 6.0));
        assert!((coverage - (1.0 - 2.0 / 64.0)).abs() < 1e-12);
        // Five values cannot give 95 %: even (min, max) covers only 93.75 %.
        assert!(median_interval(&six[..5], 0.95).is_none());
        // Twenty values: (x(6), x(15)), coverage 95.9 %.
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        let (low, high, coverage) = median_interval(&twenty, 0.95).unwrap();
        assert_eq!((low, high), (6.0, 15.0));
        assert!((0.95..0.97).contains(&coverage), "{coverage}");
    }

    #[test]
    fn median_interval_coverage_holds_on_generated_data() {
        // Skewed data (exponential): the interval must still hold the true median (ln 2) at
        // least 95 % of the time.
        let mut rng = SeededRng::new(7);
        let trials = 4_000;
        let mut covered = 0;
        for _ in 0..trials {
            let values: Vec<f64> = (0..10).map(|_| -(1.0 - rng.unit()).ln()).collect();
            let (low, high, _) = median_interval(&values, 0.95).unwrap();
            if low <= std::f64::consts::LN_2 && std::f64::consts::LN_2 <= high {
                covered += 1;
            }
        }
        assert!(covered * 100 >= trials * 95, "{covered} of {trials}");
    }

    #[test]
    fn bootstrap_interval_brackets_the_median_and_narrows_with_agreement() {
        let spread: Vec<f64> = (0..100).map(|i| 0.9 + 0.2 * f64::from(i) / 99.0).collect();
        let (low, high) = bootstrap_median_interval(&spread, 0.95, 1).unwrap();
        assert!(low < 1.0 && 1.0 < high, "({low}, {high})");
        let tight: Vec<f64> = spread.iter().map(|v| 1.0 + (v - 1.0) / 10.0).collect();
        let (tight_low, tight_high) = bootstrap_median_interval(&tight, 0.95, 1).unwrap();
        assert!(tight_high - tight_low < (high - low) / 5.0);
        assert_eq!(
            bootstrap_median_interval(&spread, 0.95, 1),
            Some((low, high)),
            "seeded"
        );
        assert_eq!(bootstrap_median_interval(&[], 0.95, 1), None);
    }

    #[test]
    fn bootstrap_coverage_holds_with_many_values() {
        let mut rng = SeededRng::new(11);
        let trials = 60;
        let mut covered = 0;
        for trial in 0..trials {
            let values: Vec<f64> = (0..60).map(|_| rng.normal()).collect();
            let (low, high) = bootstrap_median_interval(&values, 0.95, trial).unwrap();
            if low <= 0.0 && 0.0 <= high {
                covered += 1;
            }
        }
        // Nominal 95 %; a generous band for 60 trials.
        assert!(covered * 100 >= trials * 85, "{covered} of {trials}");
    }

    #[test]
    fn unpaired_ratio_interval_brackets_the_true_ratio() {
        let base: Vec<f64> = (0..12).map(|i| 100.0 + f64::from(i % 4)).collect();
        let candidate: Vec<f64> = base.iter().map(|v| v * 1.10).collect();
        let (point, low, high) = unpaired_ratio_interval(&base, &candidate, 0.95).unwrap();
        assert!((point - 1.10).abs() < 1e-9, "{point}");
        assert!(low <= 1.10 && 1.10 <= high && low > 1.0, "({low}, {high})");
        assert!(unpaired_ratio_interval(&[], &candidate, 0.95).is_none());
    }
}
