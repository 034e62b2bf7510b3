//! The metrics a report knows are those of the catalogue in `perfgate-results` (ids, units, which
//! direction is better, what each means, noise floors); thresholds may only name these, anything
//! else is a typo. This module adds how their values are written for people.

pub use perfgate_results::catalogue::{Better, METRICS, MetricDef, known_ids, metric};

/// A number formatted for people in a metric's unit: thousands separated, sensible decimals.
pub fn format_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let magnitude = value.abs();
    let text = if unit == "ratio" {
        format!("{value:.3}")
    } else if magnitude >= 1_000.0 || value.fract() == 0.0 {
        group_thousands(value.round() as i64)
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    };
    match unit {
        "" | "ratio" => text,
        "%" => format!("{text} %"),
        unit => format!("{text} {unit}"),
    }
}

fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(format_value(608_738.4, "msg/s"), "608,738 msg/s");
        assert_eq!(format_value(0.836, "ratio"), "0.836");
        assert_eq!(format_value(2.345, "ms"), "2.35 ms");
        assert_eq!(format_value(0.1234, "ms"), "0.123 ms");
        assert_eq!(format_value(83.3, "%"), "83.30 %");
        assert_eq!(format_value(-1500.0, "MiB"), "-1,500 MiB");
        assert_eq!(format_value(f64::NAN, "ms"), "—");
    }
}
