//! The rows of the "Sweep" section: what was swept and how, one row per point with each figure's
//! median and interval, the recommendation and the warnings. Every string here may come from the
//! input (knob names and values, the evidence): the renderers escape them.

use perfgate_results::SweepSection;
use perfgate_results::sweep::{SINGLE_RUN, SWEEP_METRICS};

use crate::metric::format_value;

/// The section's content.
#[derive(Debug)]
pub(in crate::render) struct SweepRows {
    /// What was swept, how often, at which fixed rate, and how the intervals were made.
    pub(in crate::render) sentence: String,
    /// Column heads of the points table (a leading `#` right-aligns a column).
    pub(in crate::render) columns: [&'static str; 6],
    /// Each point's cells, in grid order.
    pub(in crate::render) points: Vec<[String; 6]>,
    /// The recommendation and its evidence.
    pub(in crate::render) recommendation: String,
    /// Points measured near their limit, and a stopped sweep.
    pub(in crate::render) warnings: Vec<String>,
}

/// The section for `sweep`.
pub(in crate::render) fn sweep(sweep: &SweepSection) -> SweepRows {
    let knobs: Vec<&str> = sweep.params.iter().map(|param| param.knob.as_str()).collect();
    let runs: usize = sweep.points.iter().map(|point| point.runs.len()).sum();
    let rate = match sweep.fixed_rate_per_second {
        Some(rate) => format!(
            "every point's fixed-rate phase at {} ({})",
            format_value(rate, "msg/s"),
            sweep.rate_source
        ),
        None => "no fixed-rate phase ran".to_owned(),
    };
    let sentence = format!(
        "{} points ({}) × {} repeats, interleaved so that the machine's drift hits every point alike: {runs} runs in {:.0} s; {rate}. Each figure is the median of a point's runs with an interval for it: order statistics at {:.0} % confidence when the runs are enough, else their min–max, whose lower confidence the recommendation states.",
        sweep.points.len(),
        knobs.join(" × "),
        sweep.repeat,
        sweep.duration_seconds,
        sweep.confidence * 100.0,
    );
    let points = sweep
        .points
        .iter()
        .map(|point| {
            // The unit once, after the median: `237,312 msg/s [235,273 – 271,474]`.
            let cell = |metric: usize| {
                let unit = SWEEP_METRICS[metric].2;
                let bare = |value: f64| {
                    let text = format_value(value, unit);
                    match text.strip_suffix(unit) {
                        Some(number) => number.trim_end().to_owned(),
                        None => text,
                    }
                };
                match point.figure(metric) {
                    None => "—".to_owned(),
                    Some(figure) if figure.interval == SINGLE_RUN => format_value(figure.median, unit),
                    Some(figure) => format!(
                        "{} [{} – {}]",
                        format_value(figure.median, unit),
                        bare(figure.low),
                        bare(figure.high)
                    ),
                }
            };
            [
                point.label(),
                point.runs.len().to_string(),
                cell(0),
                cell(1),
                cell(2),
                cell(3),
            ]
        })
        .collect();
    let mut warnings = sweep.warnings.clone();
    if let Some(stopped) = &sweep.stopped {
        warnings.insert(
            0,
            format!("The sweep stopped early ({stopped}): the figures are those of the runs measured."),
        );
    }
    SweepRows {
        sentence,
        columns: [
            "Point",
            "#Runs",
            "#Throughput (saturation)",
            "#p50 (fixed rate)",
            "#p99 (fixed rate)",
            "#CPU per message",
        ],
        points,
        recommendation: sweep.recommendation.evidence.clone(),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use perfgate_results::SweepParam;
    use perfgate_results::sweep::{SweepMeasurement, SweepSettings, analyse};

    use super::*;

    #[test]
    fn each_point_shows_its_medians_with_their_intervals() {
        let settings = SweepSettings {
            params: vec![SweepParam {
                knob: "batch-size".to_owned(),
                values: vec!["1".to_owned(), "64".to_owned()],
            }],
            repeat: 2,
            fixed_rate_per_second: Some(50_000.0),
            rate_source: "given".to_owned(),
            confidence: 0.95,
            stopped: Some("interrupted".to_owned()),
            duration_seconds: 12.0,
        };
        let run = |point, repeat, throughput: f64| SweepMeasurement {
            point,
            repeat,
            position: 0,
            seconds: 1.0,
            results: None,
            figures: [throughput, 0.1, 0.5, 2_000.0],
        };
        let section = analyse(settings, &[run(0, 0, 300e3), run(0, 1, 320e3), run(1, 0, 900e3)]);
        let rows = sweep(&section);
        assert!(
            rows.sentence.starts_with("2 points (batch-size) × 2 repeats"),
            "{}",
            rows.sentence
        );
        assert!(rows.sentence.contains("3 runs in 12 s"), "{}", rows.sentence);
        assert_eq!(rows.points[0][0], "batch-size=1");
        assert_eq!(rows.points[0][1], "2");
        assert!(
            rows.points[0][2].contains(" [") && rows.points[0][2].contains(" – "),
            "{}",
            rows.points[0][2]
        );
        // One run: its value, no interval.
        assert!(!rows.points[1][2].contains('['), "{}", rows.points[1][2]);
        assert!(rows.warnings[0].starts_with("The sweep stopped early (interrupted)"));
        assert!(
            rows.recommendation.contains("single run"),
            "{}",
            rows.recommendation
        );
    }
}
