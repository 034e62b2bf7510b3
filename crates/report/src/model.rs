//! The report's model: everything a renderer needs, computed once (the evaluation, the
//! recommendations, the commands that reproduce the run). Renderers format; they do no
//! arithmetic on metrics and read no files. The generation time comes in from outside, so a
//! fixed clock gives a byte-for-byte reproducible report.

use std::path::PathBuf;
use std::time::SystemTime;

use serde_json::Value;

use crate::evaluate::{EvaluateOptions, Evaluation, evaluate};
use crate::history::Trend;
use crate::input::{InputFormat, RunData};
use crate::loadtest::{self, LoadTest};
use crate::recommend::{Recommendation, recommend};
use crate::thresholds::Thresholds;

/// How to build a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The time the report says it was generated.
    pub now: SystemTime,
    /// Baseline comparison settings.
    pub evaluate: EvaluateOptions,
    /// Where the report links the flamegraph, relative to the report (if there is one).
    pub flamegraph_link: Option<String>,
}

/// A report, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    /// When it was generated, RFC 3339.
    pub generated_at: String,
    /// The run reported on ([`RunData::load_tests_only`] when there is none).
    pub results: RunData,
    /// Load-test runs reported beside it, in the order given.
    pub load_tests: Vec<LoadTest>,
    /// The baseline, if one was given.
    pub baseline: Option<RunData>,
    /// The thresholds file used.
    pub thresholds_path: PathBuf,
    /// Checks, comparisons, verdict.
    pub evaluation: Evaluation,
    /// What to do next.
    pub recommendations: Vec<Recommendation>,
    /// The flamegraph's link, relative to the report.
    pub flamegraph_link: Option<String>,
    /// Commands that reproduce the run and the report.
    pub commands: Vec<String>,
    /// Trends over the benchmark history, when one was given ([`Report::with_trend`]).
    pub trend: Option<Trend>,
    /// Where the Markdown report links its charts, when it does ([`Report::with_chart_links`]).
    pub chart_links: Option<String>,
}

impl Report {
    /// Evaluates `results` and assembles the report.
    pub fn new(
        results: RunData,
        thresholds: &Thresholds,
        baseline: Option<RunData>,
        options: ReportOptions,
    ) -> Self {
        Self::with_load_tests(results, Vec::new(), thresholds, baseline, options)
    }

    /// Evaluates `results` together with load-test runs: their metrics (`rest.*`, `websocket.*`,
    /// `load.*`) join the run's, and `error_rate.percent` becomes the higher of the pipeline's
    /// rejection rate and the load tests' failure rate.
    pub fn with_load_tests(
        mut results: RunData,
        load_tests: Vec<LoadTest>,
        thresholds: &Thresholds,
        baseline: Option<RunData>,
        options: ReportOptions,
    ) -> Self {
        merge_load_test_metrics(&mut results, &load_tests);
        let evaluation = evaluate(&results, thresholds, baseline.as_ref(), options.evaluate);
        let recommendations = recommend(&results, &load_tests, &evaluation, &thresholds.recommendations);
        let mut report_command = "cargo xtask report".to_owned();
        if results.has_run() {
            report_command.push_str(&format!(
                " --results {}",
                loadtest::shell_quote(&results.source.to_string_lossy())
            ));
        }
        for test in &load_tests {
            report_command.push_str(&format!(" {}", test.argument));
        }
        report_command.push_str(&format!(" --thresholds {}", thresholds.path.display()));
        if let Some(baseline) = &baseline {
            report_command.push_str(&format!(" --baseline {}", baseline.source.display()));
        }
        if let Some(limit) = options.evaluate.max_regression_pct {
            report_command.push_str(&format!(" --max-regression {limit}"));
        }
        let commands = match results.format {
            InputFormat::Perfgate { .. } => vec![bench_command(&results), report_command],
            InputFormat::Legacy | InputFormat::LoadTestsOnly => vec![report_command],
        };
        Report {
            generated_at: humantime::format_rfc3339_seconds(options.now).to_string(),
            results,
            load_tests,
            baseline,
            thresholds_path: thresholds.path.clone(),
            evaluation,
            recommendations,
            flamegraph_link: options.flamegraph_link,
            commands,
            trend: None,
            chart_links: None,
        }
    }

    /// Adds trends over the benchmark history: the Markdown report gets a "Trend" section.
    pub fn with_trend(mut self, trend: Trend) -> Self {
        self.trend = Some(trend);
        self
    }

    /// Has the Markdown report show the HTML report's charts, each as an image in its section,
    /// linked as `prefix` + the chart's key + `.svg`: `img/benchmark-results-` links
    /// `img/benchmark-results-latency.svg`. The files themselves are
    /// [`render::html::chart_files`](crate::render::html::chart_files), to be written there.
    pub fn with_chart_links(mut self, prefix: impl Into<String>) -> Self {
        self.chart_links = Some(prefix.into());
        self
    }
}

/// Adds the load tests' metrics to the run's. A figure the results file also has (an older
/// file's `rest_api` section) is replaced, and the run's warnings say so.
fn merge_load_test_metrics(results: &mut RunData, load_tests: &[LoadTest]) {
    for (id, value) in loadtest::metrics(load_tests) {
        if id == "load.error_rate_percent" {
            let combined = results
                .metrics
                .get("error_rate.percent")
                .map_or(value, |own| own.max(value));
            results.metrics.insert("error_rate.percent".to_owned(), combined);
        }
        if let Some(previous) = results.metrics.insert(id.clone(), value)
            && previous != value
        {
            results.warnings.push(format!(
                "`{id}` is {previous} in {} and {value} from the load tests; the load tests' figure is used.",
                results.source.display()
            ));
        }
    }
}

/// The `cargo xtask bench` invocation that repeats a perfgate run's settings.
fn bench_command(results: &RunData) -> String {
    let mut command = "cargo xtask bench".to_owned();
    let Some(environment) = &results.environment else {
        return command;
    };
    let (workload, run) = (&environment.workload, &environment.run);
    // Values come from the results file, which may be hostile: each is quoted for a POSIX shell,
    // and one holding a control character (a newline would end the command, or the Markdown
    // code block around it) is left out; no real run writes one.
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|value| !value.chars().any(char::is_control)) {
            command.push_str(&format!(" --{name} {}", crate::loadtest::shell_quote(&value)));
        }
    };
    let number = |value: &Value, pointer: &str| {
        value
            .pointer(pointer)
            .filter(|v| v.is_number())
            .map(Value::to_string)
    };
    let length = |value: &Value, pointer: &str| match value.pointer(pointer) {
        Some(length) => {
            number(length, "/messages").or_else(|| number(length, "/seconds").map(|s| format!("{s}s")))
        }
        None => None,
    };
    let is_timed = run.pointer("/length/seconds").is_some();
    flag(
        if is_timed { "duration" } else { "messages" },
        length(run, "/length"),
    );
    flag("warmup", length(run, "/warmup"));
    if let Some(rate) = number(run, "/rate") {
        flag("rate", Some(rate));
    }
    for name in [
        "symbols",
        "zipf",
        "seed",
        "payload_bytes",
        "malformed_rate",
        "subscribers",
        "cache_capacity",
    ] {
        flag(&name.replace('_', "-"), number(workload, &format!("/{name}")));
    }
    for name in [
        "batch_size",
        "channel_capacity",
        "subscriber_queue",
        "slow_subscribers",
    ] {
        flag(&name.replace('_', "-"), number(run, &format!("/{name}")));
    }
    if let Some(workers) = run
        .pointer("/workers")
        .and_then(Value::as_object)
        .filter(|map| !map.is_empty())
    {
        let list: Vec<String> = workers
            .iter()
            .map(|(stage, count)| format!("{stage}={count}"))
            .collect();
        flag("workers", Some(list.join(",")));
    }
    if let Some(probes) = run.pointer("/probes").and_then(Value::as_str) {
        flag("probes", Some(probes.to_owned()));
    }
    if run.pointer("/limit").and_then(Value::as_bool) == Some(true) {
        command.push_str(" --limit");
    }
    command
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Issue 15, point 3: a hostile value cannot add a command to the copy-paste line.
    #[test]
    fn issue_15_the_bench_command_quotes_what_came_from_the_file() {
        let run = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"environment":{
                "workload":{"seed":42},
                "run":{"length":{"messages":1000},"workers":{"decode; rm -rf ~ #":2,"x'y":1},
                       "probes":"all; touch pwned #"}}}"#,
        )
        .unwrap();
        assert_eq!(
            bench_command(&run),
            "cargo xtask bench --messages 1000 --seed 42 --workers 'decode; rm -rf ~ #=2,x'\\''y=1' \
             --probes 'all; touch pwned #'"
        );
        let newline = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"environment":{
                "run":{"length":{"messages":1000},"probes":"cpu\n```\n<img src=x onerror=alert(1)>"}}}"#,
        )
        .unwrap();
        assert_eq!(bench_command(&newline), "cargo xtask bench --messages 1000");
    }

    #[test]
    fn the_bench_command_repeats_the_settings() {
        let run = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"environment":{
                "workload":{"symbols":5000,"zipf":1.1,"seed":42,"payload_bytes":200,"malformed_rate":0.0,"subscribers":8,"cache_capacity":1024},
                "run":{"length":{"messages":1000000},"warmup":{"messages":100000},"rate":null,"limit":true,
                       "batch_size":64,"channel_capacity":1024,"subscriber_queue":4096,"slow_subscribers":0,
                       "workers":{"decode":2},"probes":"cpu,heap,lag,runtime"}}}"#,
        )
        .unwrap();
        assert_eq!(
            bench_command(&run),
            "cargo xtask bench --messages 1000000 --warmup 100000 --symbols 5000 --zipf 1.1 --seed 42 \
             --payload-bytes 200 --malformed-rate 0.0 --subscribers 8 --cache-capacity 1024 --batch-size 64 \
             --channel-capacity 1024 --subscriber-queue 4096 --slow-subscribers 0 --workers decode=2 \
             --probes cpu,heap,lag,runtime --limit"
        );
    }
}
