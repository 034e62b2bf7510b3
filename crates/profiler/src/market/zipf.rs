//! Zipf-distributed popularity: rank `k` (from 0) is drawn with weight `1 / (k + 1)^s`. A
//! precomputed cumulative table makes a draw one binary search, with no floating-point `powf`
//! on the hot path.

/// Draws ranks `0..n` with Zipf weights.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    /// A table for `n ≥ 1` ranks and exponent `s ≥ 0` (0 is uniform).
    pub fn new(n: usize, s: f64) -> Self {
        assert!(n >= 1, "a Zipf table needs at least one rank");
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 0..n {
            total += 1.0 / ((rank + 1) as f64).powf(s);
            cumulative.push(total);
        }
        for value in &mut cumulative {
            *value /= total;
        }
        Self { cumulative }
    }

    /// The rank for a uniform draw `u` in `[0, 1)`.
    #[inline]
    pub fn rank(&self, u: f64) -> usize {
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }

    /// The probability of `rank`.
    pub fn probability(&self, rank: usize) -> f64 {
        let below = if rank == 0 { 0.0 } else { self.cumulative[rank - 1] };
        self.cumulative[rank] - below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_zero_is_uniform() {
        let zipf = Zipf::new(4, 0.0);
        for rank in 0..4 {
            assert!((zipf.probability(rank) - 0.25).abs() < 1e-12);
        }
        assert_eq!(zipf.rank(0.0), 0);
        assert_eq!(zipf.rank(0.26), 1);
        assert_eq!(zipf.rank(0.999_999), 3);
    }

    #[test]
    fn probabilities_follow_the_power_law() {
        let zipf = Zipf::new(5_000, 1.1);
        let ratio = zipf.probability(0) / zipf.probability(9);
        assert!((ratio - 10f64.powf(1.1)).abs() < 1e-9, "{ratio}");
        let total: f64 = (0..5_000).map(|rank| zipf.probability(rank)).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }
}
