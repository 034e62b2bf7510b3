//! The few statistics a trend needs: a least-squares line with its R², the median and a robust
//! spread. Pure functions over finite numbers; callers drop NaN and infinities first.

/// A straight line fitted by least squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fit {
    /// Change in y per unit of x.
    pub(crate) slope: f64,
    /// Share of y's variance the line explains, 0–1; `None` when y does not vary at all (every
    /// line through the points fits equally well, so the question has no answer).
    pub(crate) r_squared: Option<f64>,
}

/// Fits `y = a + b·x`; `None` with fewer than two points or when x does not vary.
pub(crate) fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    if points.len() < 2 {
        return None;
    }
    let count = points.len() as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / count;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / count;
    // Centred sums: the raw-sum formula loses every digit when x is large (days since 1970)
    // or y is large and nearly constant (messages per second).
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in points {
        let (dx, dy) = (x - mean_x, y - mean_y);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    // Equal values are tested directly: their mean need not be exactly representable, which
    // would leave a rounding-sized `syy` and an R² of 0 where there is no variance to explain.
    let flat = points.iter().all(|&(_, y)| y == points[0].1);
    let r_squared = (!flat && syy > 0.0).then(|| (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0));
    Some(Fit { slope, r_squared })
}

/// The median of `values` (not empty; NaN if it is).
pub(crate) fn median(values: &[f64]) -> f64 {
    debug_assert!(!values.is_empty(), "the median of nothing");
    crate::compare::stats::median(values).unwrap_or(f64::NAN)
}

/// Scales the median absolute deviation to the standard deviation of normally distributed data.
const MAD_TO_SIGMA: f64 = 1.4826;
/// Scales the mean absolute deviation likewise (√(π/2)).
const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// A robust standard deviation of `values` around their `median`: 1.4826 × MAD. When more than
/// half the values equal the median the MAD is zero, and every other value would be infinitely
/// far out; then the mean absolute deviation stands in (Iglewicz and Hoaglin's modified z-score
/// does the same). Zero only when every value equals the median.
pub(crate) fn robust_sigma(values: &[f64], median_value: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|v| (v - median_value).abs()).collect();
    let mad = median(&deviations);
    if mad > 0.0 {
        return MAD_TO_SIGMA * mad;
    }
    MEAN_AD_TO_SIGMA * deviations.iter().sum::<f64>() / deviations.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
    }

    #[test]
    fn a_perfect_line_has_its_slope_and_r_squared_one() {
        let points: Vec<(f64, f64)> = (0..5).map(|x| (x as f64, 10.0 + 2.0 * x as f64)).collect();
        let fit = least_squares(&points).unwrap();
        close(fit.slope, 2.0);
        close(fit.r_squared.unwrap(), 1.0);
    }

    #[test]
    fn known_noisy_data() {
        // x 1..5, y 2 4 5 4 5: slope 0.6, R² = 0.6 (a textbook example).
        let points = [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)];
        let fit = least_squares(&points).unwrap();
        close(fit.slope, 0.6);
        close(fit.r_squared.unwrap(), 0.6);
    }

    #[test]
    fn large_x_and_y_keep_their_precision() {
        let points: Vec<(f64, f64)> = (0..10)
            .map(|i| (20_000.0 + i as f64 * 0.5, 6.0e5 + i as f64))
            .collect();
        let fit = least_squares(&points).unwrap();
        close(fit.slope, 2.0);
        close(fit.r_squared.unwrap(), 1.0);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(least_squares(&[]), None);
        assert_eq!(least_squares(&[(1.0, 1.0)]), None);
        // x does not vary: no line.
        assert_eq!(least_squares(&[(1.0, 1.0), (1.0, 2.0)]), None);
        // y does not vary: flat, R² undefined.
        let flat = least_squares(&[(0.0, 3.0), (1.0, 3.0), (2.0, 3.0)]).unwrap();
        close(flat.slope, 0.0);
        assert_eq!(flat.r_squared, None);
        // 0.169 × 3 / 3 is not 0.169 in binary: still flat.
        let flat = least_squares(&[(0.0, 0.169), (1.0, 0.169), (2.0, 0.169), (3.0, 0.169)]).unwrap();
        assert_eq!(flat.r_squared, None);
    }

    #[test]
    fn median_and_robust_sigma() {
        close(median(&[3.0, 1.0, 2.0]), 2.0);
        close(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        // Deviations from 3: 2 1 0 1 97 → MAD 1.
        let values = [1.0, 2.0, 3.0, 4.0, 100.0];
        close(robust_sigma(&values, median(&values)), 1.4826);
        // MAD is zero (most values equal): the mean absolute deviation stands in.
        let zeros = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0];
        close(robust_sigma(&zeros, 0.0), 1.2533);
        close(robust_sigma(&[5.0, 5.0, 5.0], 5.0), 0.0);
    }
}
