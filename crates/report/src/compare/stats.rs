//! The statistics behind a comparison: the shared ones of `perfgate-stats` (median, the
//! sign-test interval of the median, the unpaired bootstrap, the seeded generator), and the
//! noise floor learnt from past A/A comparisons, which only the gate uses. `docs/statistics.md`
//! explains the choices.

pub use perfgate_stats::{SeededRng, median, median_interval, quantile, unpaired_ratio_interval};

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
    fn noise_floor_is_tukeys_outlier_fence_of_past_aa_changes() {
        assert_eq!(learnt_noise_floor(&[1.0, 2.0, 3.0, 4.0]), None);
        // Q1 = 1.0, Q3 = 3.0 → 3 + 1.5·2 = 6.
        assert_eq!(learnt_noise_floor(&[0.0, 1.0, 2.0, 3.0, 4.0]), Some(6.0));
    }
}
