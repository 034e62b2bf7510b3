//! The statistics behind a comparison, kept free of I/O so they can be pinned by tests on
//! generated data. `docs/statistics.md` explains the choices.

/// Median of the values (NaN-free input; the caller filters). `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Linear-interpolated quantile (`q` in 0..=1), as numpy's default. `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    Some(sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64))
}

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
/// distribution, no resampling, and honest for the handful of rounds a comparison has, where a
/// bootstrap of the median is known to be too narrow. With 6 values and 95 % it is
/// `(min, max)` (coverage 96.9 %). Returns `(low, high, achieved coverage)`; `None` with fewer
/// values than any interval needs (`(min, max)` must cover at least `confidence`).
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

/// A small, seeded generator (SplitMix64): the bootstrap must give the same interval for the
/// same input, and a dependency for twenty lines is not worth it.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box-Muller), for tests that generate noise.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// For two independent samples (no pairing): the ratio of medians `candidate / base` and a
/// percentile-bootstrap interval of it, each side resampled on its own (seeded, 4,000 resamples).
/// Weaker than the paired interval: it cannot tell a real change from drift between the jobs
/// that produced the samples.
pub fn unpaired_ratio_interval(base: &[f64], candidate: &[f64], confidence: f64) -> Option<(f64, f64, f64)> {
    const RESAMPLES: usize = 4_000;
    let point = median(candidate)? / median(base)?;
    let mut rng = SplitMix64::new(0x5EED_0FC0_FFEE);
    let resample = |values: &[f64], rng: &mut SplitMix64| {
        let drawn: Vec<f64> = (0..values.len())
            .map(|_| values[rng.below(values.len())])
            .collect();
        median(&drawn).unwrap_or(f64::NAN)
    };
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| resample(candidate, &mut rng) / resample(base, &mut rng))
        .filter(|ratio| ratio.is_finite())
        .collect();
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    Some((
        point,
        quantile(&ratios, tail).unwrap_or(point),
        quantile(&ratios, 1.0 - tail).unwrap_or(point),
    ))
}

/// The noise floor learnt from past self-vs-self (A/A) comparisons of one metric: `Q3 + 1.5·IQR`
/// of the absolute changes in percent (Tukey's outlier fence: larger than what identical builds
/// show short of an outlier). Not the far-out fence `Q3 + 3·IQR`: a verdict also needs its
/// interval to exclude 1, which already holds false calls near the nominal rate, and with
/// absolute changes that are half-normal with spread `s` the far fence sits at 3.6 s, so a
/// metric whose A/A medians move by 2 % would hide a 7 % regression; the outlier fence sits at
/// 2.4 s. `None` with fewer than 5 past comparisons.
pub fn learnt_noise_floor(abs_changes_pct: &[f64]) -> Option<f64> {
    if abs_changes_pct.len() < 5 {
        return None;
    }
    let q1 = quantile(abs_changes_pct, 0.25)?;
    let q3 = quantile(abs_changes_pct, 0.75)?;
    Some(q3 + 1.5 * (q3 - q1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let values = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&values), Some(2.5));
        assert_eq!(quantile(&values, 0.25), Some(1.75));
        assert_eq!(quantile(&values, 1.0), Some(4.0));
        assert_eq!(median(&[]), None);
    }

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
        assert!(coverage > 0.95 && coverage < 0.97, "{coverage}");
    }

    /// On generated data with a known median, the interval covers it at least as often as it
    /// claims (checked over 4,000 seeded trials of 6 and of 12 skewed values).
    #[test]
    fn median_interval_coverage_holds_on_generated_data() {
        let mut rng = SplitMix64::new(7);
        for n in [6usize, 12] {
            let trials = 4_000;
            let mut covered = 0;
            for _ in 0..trials {
                // Log-normal noise around 1.0: skewed, median exactly 1.0.
                let values: Vec<f64> = (0..n).map(|_| (0.05 * rng.normal()).exp()).collect();
                let (low, high, _) = median_interval(&values, 0.95).unwrap();
                if low <= 1.0 && 1.0 <= high {
                    covered += 1;
                }
            }
            let rate = f64::from(covered) / f64::from(trials);
            assert!(rate >= 0.95, "n = {n}: coverage {rate}");
        }
    }

    #[test]
    fn unpaired_interval_brackets_the_ratio_of_medians() {
        let base = [100.0, 101.0, 99.0, 100.5, 99.5, 100.0];
        let candidate = [90.0, 91.0, 89.0, 90.5, 89.5, 90.0];
        let (point, low, high) = unpaired_ratio_interval(&base, &candidate, 0.95).unwrap();
        assert!((point - 0.9).abs() < 1e-9);
        assert!(
            low <= point && point <= high && high < 0.95 && low > 0.85,
            "{low} {high}"
        );
        // Seeded: the same input gives the same interval.
        assert_eq!(
            unpaired_ratio_interval(&base, &candidate, 0.95),
            Some((point, low, high))
        );
    }

    #[test]
    fn noise_floor_is_tukeys_outlier_fence_of_past_aa_changes() {
        assert_eq!(learnt_noise_floor(&[1.0, 2.0, 3.0, 4.0]), None);
        // Q1 = 1.0, Q3 = 3.0 → 3 + 1.5·2 = 6.
        assert_eq!(learnt_noise_floor(&[0.0, 1.0, 2.0, 3.0, 4.0]), Some(6.0));
    }
}
