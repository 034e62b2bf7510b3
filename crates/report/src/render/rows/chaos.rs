//! The rows of the "Chaos" section: the runs in one sentence, one row per scenario (its fault,
//! how far the pipeline degraded, whether and when it recovered, what it lost and whether every
//! message is accounted for) and the caption of each scenario's timeline. Every string here may
//! come from the input (scenario names, faults, targets, error kinds): the renderers escape them.

use perfgate_results::{ChaosScenario, ChaosSection};

use crate::metric::format_value;

/// What a cell says when the pipeline was not back inside its steady-state band by the run's end.
pub(in crate::render) const DID_NOT_RECOVER: &str = "did not recover";

/// The section's content.
#[derive(Debug)]
pub(in crate::render) struct ChaosRows {
    /// The seed, the window, the scenarios run and how many recovered.
    pub(in crate::render) sentence: String,
    /// Column heads of the scenarios table (a leading `#` right-aligns a column).
    pub(in crate::render) columns: [&'static str; 9],
    /// Each scenario's cells, in the order run.
    pub(in crate::render) scenarios: Vec<[String; 9]>,
    /// Each scenario's name and the caption of its timeline, in the same order.
    pub(in crate::render) captions: Vec<(String, String)>,
}

/// The section for `chaos`.
pub(in crate::render) fn chaos(chaos: &ChaosSection) -> ChaosRows {
    ChaosRows {
        sentence: sentence(chaos),
        columns: [
            "Scenario",
            "Fault",
            "#Throughput in fault",
            "#p99 in fault",
            "#Recovery",
            "Errors by kind",
            "#Dropped deliveries",
            "#Backlog peak",
            "Accounting",
        ],
        scenarios: chaos
            .scenarios
            .iter()
            .map(|(name, scenario)| row(name, scenario))
            .collect(),
        captions: chaos
            .scenarios
            .iter()
            .map(|(name, scenario)| (name.clone(), caption(scenario)))
            .collect(),
    }
}

fn sentence(chaos: &ChaosSection) -> String {
    let names: Vec<&str> = chaos.scenarios.keys().map(String::as_str).collect();
    let recovered = chaos
        .scenarios
        .values()
        .filter(|scenario| scenario.recovered)
        .count();
    let run = if names.is_empty() {
        "No scenario ran".to_owned()
    } else {
        format!(
            "{} scenario{} ran ({}), {recovered} of them recovered",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )
    };
    format!(
        "{run}. Each is a fixed-rate phase with one fault injected for a while; the fault plans come from seed {} (the same seed gives the same fault times, strengths and injected errors), and the timeline is read in windows of {}. The degraded figures are throughput and p99 during the fault over their medians before it (1× = unaffected); recovery is the time from the fault's end until both were back inside the steady-state band for good.",
        chaos.seed,
        format_value(chaos.window_ms, "ms"),
    )
}

fn row(name: &str, scenario: &ChaosScenario) -> [String; 9] {
    [
        name.to_owned(),
        fault(scenario),
        ratio(Some(scenario.degraded_throughput_ratio)),
        ratio(scenario.degraded_p99_ratio),
        recovery(scenario),
        errors_by_kind(scenario),
        count(scenario.dropped_deliveries),
        backlog(scenario),
        accounting(scenario),
    ]
}

/// What was injected, where, how hard and when: `slowdown on decode (strength 10), 5–10 s`.
fn fault(scenario: &ChaosScenario) -> String {
    format!(
        "{} on {} (strength {}), {}–{} s",
        scenario.fault,
        scenario.target.as_deref().unwrap_or("the whole pipeline"),
        format_value(scenario.strength, ""),
        format_value(scenario.fault_start_s, ""),
        format_value(scenario.fault_end_s, ""),
    )
}

/// A degraded ratio as a factor (`0.42×`); `—` when there is none (nothing finished during the
/// fault).
fn ratio(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => format!("{value:.2}×"),
        _ => "—".to_owned(),
    }
}

/// The peak and how long it took to drain after the fault: `1,500 (drained in 1.25 s)`.
fn backlog(scenario: &ChaosScenario) -> String {
    let drain = match scenario.backlog_drain_s {
        Some(seconds) => format!("drained in {}", format_value(seconds, "s")),
        None => "not drained".to_owned(),
    };
    format!("{} ({drain})", count(scenario.backlog_peak))
}

fn recovery(scenario: &ChaosScenario) -> String {
    match (scenario.recovered, scenario.recovery_s) {
        (false, _) => DID_NOT_RECOVER.to_owned(),
        (true, Some(seconds)) => format_value(seconds, "s"),
        // A file that says it recovered without saying when (the reader refuses it; a run built
        // in code may not be read).
        (true, None) => "recovered".to_owned(),
    }
}

/// `injected_fault 1,200; panic 3`, in the file's order (`;` apart: the counts hold commas);
/// `none` when nothing was rejected.
fn errors_by_kind(scenario: &ChaosScenario) -> String {
    if scenario.errors_by_kind.is_empty() {
        return "none".to_owned();
    }
    scenario
        .errors_by_kind
        .iter()
        .map(|(kind, messages)| format!("{kind} {}", count(*messages)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether every generated message finished or was rejected: a fault must not lose messages
/// silently.
fn accounting(scenario: &ChaosScenario) -> String {
    let accounted = u128::from(scenario.processed) + u128::from(scenario.errors);
    if u128::from(scenario.generated) == accounted {
        "conserved".to_owned()
    } else {
        format!(
            "NOT conserved: generated {}, processed {}, errors {}",
            count(scenario.generated),
            count(scenario.processed),
            count(scenario.errors)
        )
    }
}

fn count(value: u64) -> String {
    format_value(value as f64, "")
}

/// What the timeline shows, with the scenario's own times.
fn caption(scenario: &ChaosScenario) -> String {
    let outcome = match (scenario.recovered, scenario.recovery_s) {
        (true, Some(seconds)) => format!(
            "the dashed vertical line is where throughput and p99 were back inside the band for good, {} after the fault's end",
            format_value(seconds, "s")
        ),
        (true, None) => "throughput and p99 came back inside the band".to_owned(),
        (false, _) => format!(
            "{DID_NOT_RECOVER}: throughput and p99 were not back inside the band for good by the run's end"
        ),
    };
    format!(
        "Throughput, p99 (log scale) and the backlog window by window on one time axis. The shaded stretch is the fault ({}–{} s); the dashed horizontal lines are the steady-state band read before it; {outcome}.",
        format_value(scenario.fault_start_s, ""),
        format_value(scenario.fault_end_s, ""),
    )
}

#[cfg(test)]
mod tests {
    use perfgate_results::{ChaosBand, ChaosTimeline};

    use super::*;

    /// A synthetic scenario (not measured): 10 s at 1,000 msg/s with the fault from 4 to 6 s.
    fn scenario(recovery_s: Option<f64>) -> ChaosScenario {
        ChaosScenario {
            fault: "slowdown".to_owned(),
            target: Some("decode".to_owned()),
            strength: 10.0,
            offered_per_second: 1_000.0,
            fault_start_s: 4.0,
            fault_end_s: 6.0,
            window_s: 10.0,
            band: ChaosBand {
                windows: 8,
                throughput_median: 1_000.0,
                throughput_low: 950.0,
                throughput_high: 1_050.0,
                p99_median_ms: 2.0,
                p99_high_ms: 3.0,
            },
            degraded_throughput_ratio: 0.25,
            degraded_p99_ratio: Some(12.5),
            recovered: recovery_s.is_some(),
            recovery_s,
            errors_by_kind: Default::default(),
            dropped_deliveries: 0,
            backlog_peak: 1_500,
            backlog_drain_s: recovery_s,
            generated: 10_000,
            processed: 10_000,
            errors: 0,
            timeline: ChaosTimeline::default(),
        }
    }

    /// Three synthetic scenarios: one that recovered, one that did not (with errors and drops),
    /// one whose messages do not add up.
    fn section() -> ChaosSection {
        let mut stuck = scenario(None);
        stuck.target = None;
        stuck.degraded_p99_ratio = None;
        stuck.errors_by_kind = [("injected_fault".to_owned(), 2_000), ("panic".to_owned(), 3)]
            .into_iter()
            .collect();
        stuck.dropped_deliveries = 42;
        stuck.processed = 7_997;
        stuck.errors = 2_003;
        let mut leaky = scenario(Some(0.5));
        leaky.processed = 9_000;
        leaky.errors = 10;
        ChaosSection {
            seed: 7,
            window_ms: 250.0,
            scenarios: [
                ("slow_dependency".to_owned(), scenario(Some(1.25))),
                ("error_burst".to_owned(), stuck),
                ("stage_panic".to_owned(), leaky),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn the_sentence_names_the_seed_the_window_and_the_scenarios() {
        let rows = chaos(&section());
        assert!(
            rows.sentence.starts_with(
                "3 scenarios ran (slow_dependency, error_burst, stage_panic), 2 of them recovered."
            ),
            "{}",
            rows.sentence
        );
        assert!(rows.sentence.contains("seed 7 "), "{}", rows.sentence);
        assert!(rows.sentence.contains("windows of 250 ms"), "{}", rows.sentence);
        let empty = chaos(&ChaosSection::default());
        assert!(
            empty.sentence.starts_with("No scenario ran."),
            "{}",
            empty.sentence
        );
        assert!(empty.scenarios.is_empty());
    }

    #[test]
    fn a_recovered_scenario_shows_its_figures() {
        let rows = chaos(&section());
        assert_eq!(rows.columns.len(), rows.scenarios[0].len());
        assert_eq!(
            rows.scenarios[0],
            [
                "slow_dependency",
                "slowdown on decode (strength 10), 4–6 s",
                "0.25×",
                "12.50×",
                "1.25 s",
                "none",
                "0",
                "1,500 (drained in 1.25 s)",
                "conserved",
            ]
        );
        assert!(
            rows.captions[0]
                .1
                .contains("back inside the band for good, 1.25 s after"),
            "{}",
            rows.captions[0].1
        );
    }

    #[test]
    fn a_scenario_that_did_not_recover_says_so() {
        let rows = chaos(&section());
        let row = &rows.scenarios[1];
        assert_eq!(row[0], "error_burst");
        assert!(row[1].contains(" on the whole pipeline "), "{}", row[1]);
        assert_eq!(row[3], "—", "nothing finished during the fault");
        assert_eq!(row[4], "did not recover");
        assert_eq!(row[5], "injected_fault 2,000; panic 3");
        assert_eq!(row[6], "42");
        assert_eq!(row[7], "1,500 (not drained)");
        assert_eq!(row[8], "conserved", "7,997 + 2,003 = 10,000");
        let (name, caption) = &rows.captions[1];
        assert_eq!(name, "error_burst");
        assert!(caption.contains("did not recover"), "{caption}");
        assert!(!caption.contains("vertical line"), "{caption}");
    }

    #[test]
    fn messages_that_do_not_add_up_are_called_out() {
        let rows = chaos(&section());
        assert_eq!(
            rows.scenarios[2][8],
            "NOT conserved: generated 10,000, processed 9,000, errors 10"
        );
        // Counts near the top of u64 must not overflow the sum.
        let mut huge = scenario(Some(1.0));
        huge.generated = u64::MAX;
        huge.processed = u64::MAX;
        huge.errors = 1;
        assert!(accounting(&huge).starts_with("NOT conserved"));
    }
}
