//! The rows of the "Capacity" section: the answer in one sentence, and every step of the search.

use perfgate_results::CapacitySection;

use crate::metric::format_value;

/// The section's content.
#[derive(Debug)]
pub(in crate::render) struct CapacityRows {
    /// "At p99<=2ms the pipeline sustains 412 k msg/s ..." (text from the input: escape it).
    pub(in crate::render) sentence: String,
    /// Column heads of the steps table (a leading `#` right-aligns a column).
    pub(in crate::render) columns: [&'static str; 9],
    /// Each step's cells, in the order run.
    pub(in crate::render) steps: Vec<[String; 9]>,
}

/// The section for `capacity`.
pub(in crate::render) fn capacity(capacity: &CapacitySection) -> CapacityRows {
    let rate = |value: f64| format_value(value, "msg/s");
    let missed = match capacity.failed_rate_per_second {
        Some(failed) => format!("it missed at {}", rate(failed)),
        None => "no rate up to the search's ceiling missed".to_owned(),
    };
    let share = if capacity.saturation_messages_per_second > 0.0 {
        format!(
            ", {:.0} % of the saturation throughput ({})",
            capacity.max_rate_per_second / capacity.saturation_messages_per_second * 100.0,
            rate(capacity.saturation_messages_per_second)
        )
    } else {
        String::new()
    };
    let sentence = format!(
        "At {} the pipeline sustains {} ({missed}){share}. Sustained means the objective met, at least {:.0} % of the offered rate achieved (no growing backlog) and at most {} % rejected, in every run of that rate. {} steps of at least {} s, {:.0} s in all.",
        capacity.slo,
        rate(capacity.max_rate_per_second),
        capacity.min_achieved_ratio * 100.0,
        capacity.max_error_rate_percent,
        capacity.steps.len(),
        capacity.step_seconds,
        capacity.duration_seconds
    );
    let steps = capacity
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            [
                (index + 1).to_string(),
                step.purpose.clone(),
                rate(step.offered_per_second),
                if step.offered_per_second > 0.0 {
                    format!(
                        "{:.1} %",
                        step.achieved_per_second / step.offered_per_second * 100.0
                    )
                } else {
                    "—".to_owned()
                },
                format_value(step.p50_ms, "ms"),
                format_value(step.p99_ms, "ms"),
                format_value(step.p999_ms, "ms"),
                format!("{:.2} %", step.error_rate_percent),
                if step.passed {
                    "met".to_owned()
                } else {
                    format!("missed: {}", step.missed.join("; "))
                },
            ]
        })
        .collect();
    CapacityRows {
        sentence,
        columns: [
            "#Step",
            "Purpose",
            "#Offered",
            "#Achieved",
            "#p50",
            "#p99",
            "#p99.9",
            "#Errors",
            "Outcome",
        ],
        steps,
    }
}
