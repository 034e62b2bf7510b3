//! A straight line fitted by least squares, with its R².

/// A straight line `y = intercept + slope·x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Change in y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Share of y's variance the line explains, 0–1; `None` when y does not vary at all (every
    /// line through the points fits equally well, so the question has no answer).
    pub r_squared: Option<f64>,
}

/// Fits `y = a + b·x`; `None` with fewer than two points or when x does not vary.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
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
    Some(Fit {
        slope,
        intercept: mean_y - slope * mean_x,
        r_squared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
    }

    #[test]
    fn a_perfect_line_has_its_slope_intercept_and_r_squared_one() {
        let points: Vec<(f64, f64)> = (0..5).map(|x| (x as f64, 10.0 + 2.0 * x as f64)).collect();
        let fit = least_squares(&points).unwrap();
        close(fit.slope, 2.0);
        close(fit.intercept, 10.0);
        close(fit.r_squared.unwrap(), 1.0);
    }

    #[test]
    fn known_noisy_data() {
        // x 1..5, y 2 4 5 4 5: slope 0.6, intercept 2.2, R² = 0.6 (a textbook example).
        let points = [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)];
        let fit = least_squares(&points).unwrap();
        close(fit.slope, 0.6);
        close(fit.intercept, 2.2);
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
}
