//! Robust measures of spread: the median absolute deviation and what it scales to.

use crate::order::median;

/// Scales the median absolute deviation to the standard deviation of normally distributed data.
const MAD_TO_SIGMA: f64 = 1.4826;
/// Scales the mean absolute deviation likewise (√(π/2)).
const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// The median absolute deviation of `values` from `center` (usually their median). `None` when
/// empty.
pub fn mad(values: &[f64], center: f64) -> Option<f64> {
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median(&deviations)
}

/// A robust standard deviation of `values` around their `center`: 1.4826 × MAD. When more than
/// half the values equal the center the MAD is zero, and every other value would be infinitely
/// far out; then the mean absolute deviation stands in (Iglewicz and Hoaglin's modified z-score
/// does the same). Zero only when every value equals the center, and for no values.
pub fn robust_sigma(values: &[f64], center: f64) -> f64 {
    let Some(mad) = mad(values, center) else {
        return 0.0;
    };
    if mad > 0.0 {
        return MAD_TO_SIGMA * mad;
    }
    MEAN_AD_TO_SIGMA * values.iter().map(|v| (v - center).abs()).sum::<f64>() / values.len() as f64
}

/// `1.4826 · MAD / |median|` in percent: a robust coefficient of variation. `None` when empty
/// or when the median is 0.
pub fn robust_cv_percent(values: &[f64]) -> Option<f64> {
    let middle = median(values)?;
    let mad = mad(values, middle)?;
    (middle != 0.0).then(|| MAD_TO_SIGMA * mad / middle.abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
    }

    #[test]
    fn mad_and_robust_sigma() {
        // Deviations from 3: 2 1 0 1 97 → MAD 1.
        let values = [1.0, 2.0, 3.0, 4.0, 100.0];
        close(mad(&values, 3.0).unwrap(), 1.0);
        close(robust_sigma(&values, 3.0), 1.4826);
        // MAD is zero (most values equal): the mean absolute deviation stands in.
        let zeros = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0];
        close(robust_sigma(&zeros, 0.0), 1.2533);
        close(robust_sigma(&[5.0, 5.0, 5.0], 5.0), 0.0);
        close(robust_sigma(&[], 0.0), 0.0);
    }

    #[test]
    fn robust_cv_ignores_one_outlier() {
        let values = [100.0, 101.0, 99.0, 100.0, 1_000.0];
        close(robust_cv_percent(&values).unwrap(), 1.4826);
        assert_eq!(robust_cv_percent(&[0.0, 0.0]), None);
        assert_eq!(robust_cv_percent(&[]), None);
    }
}
