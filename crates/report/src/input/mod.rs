//! Reads a results file into [`RunData`], the report's view of a run: perfgate's `results.json`
//! through the `perfgate-results` types and their validation (`perfgate.rs`), or the older Python
//! tool's `performance_results.json` (`legacy.rs`). Every figure is checked on the way in, so that
//! later stages never meet a string where a number belongs or an impossible value.

use std::path::Path;

use serde_json::Value;

use crate::error::{ReportError, Result};

mod legacy;
mod perfgate;
mod run_data;
mod series;

pub use perfgate_results::read::SUPPORTED_SCHEMA_VERSIONS;
pub use run_data::{Database, Environment, FunctionRow, InputFormat, RunData, StageRow};
pub use series::{PhaseSeries, Series};

/// Reads and normalises a results file.
pub fn load_results(path: &Path) -> Result<RunData> {
    let text = crate::input_file::read_text_capped(path)?;
    parse_results(path, &text)
}

/// Normalises results text read from `path`: perfgate's when it has a `schema_version`, the older
/// tool's when it has a `cpu` section and no version.
pub fn parse_results(path: &Path, text: &str) -> Result<RunData> {
    let value: Value = serde_json::from_str(text).map_err(|error| ReportError::json(path, &error))?;
    if !value.is_object() {
        return Err(ReportError::invalid(
            path,
            "/",
            "expected a JSON object at the top level",
        ));
    }
    if value.get("schema_version").is_some() {
        let results = perfgate_results::read::from_value(&value)
            .map_err(|error| ReportError::invalid(path, error.pointer, error.problem))?;
        return Ok(perfgate::run_data(path, &results, &value));
    }
    if value.get("cpu").is_some_and(Value::is_object) {
        return legacy::run_data(path, &value);
    }
    Err(ReportError::invalid(
        path,
        "/",
        "neither perfgate results (no `schema_version`) nor a performance_results.json (no `cpu` section)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RunData> {
        parse_results(Path::new("r.json"), text)
    }

    #[test]
    fn the_p99_overhead_is_the_median_over_pairs_when_the_results_have_it() {
        let metric = |overhead: &str| {
            parse(&format!(
                r#"{{"schema_version":1,"phases":{{"saturation":{{"measured_messages":1}}}},"profiler":{{"overhead":{overhead}}}}}"#
            ))
            .unwrap()
            .metrics
            .get("profiler.overhead_p99_ratio")
            .copied()
        };
        assert_eq!(
            metric(r#"{"p99_ratio":7.2,"p99_pair_ratio_median":0.95}"#),
            Some(0.95)
        );
        assert_eq!(
            metric(r#"{"p99_ratio":1.04}"#),
            Some(1.04),
            "older results: the pooled ratio"
        );
        assert_eq!(metric("{}"), None);
        assert!(
            parse(r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"profiler":{"overhead":{"p99_pair_ratio_median":"low"}}}"#).is_err()
        );
    }

    /// Issue 15, point 10: an older-format file's negative throughput is bad input, not a number
    /// to judge; a negative change of memory is a change.
    #[test]
    fn issue_15_negative_figures_in_an_older_file_are_refused() {
        let error = parse(r#"{"cpu":{"messages_per_second":-5}}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "r.json: /cpu/messages_per_second: must not be negative");
        assert!(parse(r#"{"cpu":{"avg_latency_ms":-1.0}}"#).is_err());
        let shrinking = parse(r#"{"cpu":{"messages_per_second":5},"memory":{"delta_mb":-2.5}}"#).unwrap();
        assert_eq!(shrinking.metrics["memory.delta_mb"], -2.5);
    }

    #[test]
    fn reads_perfgate_results_and_derives_the_error_rate() {
        let run = parse(
            r#"{"schema_version":1,"cpu":{"messages_per_second":5.0e5,"message_count":10},
                "errors":{"total":5,"by_kind":{"malformed":5}},"pipeline":{"generated":1000},
                "stages":{"b":{"index":1,"workers":1},"a":{"index":0,"workers":2,"busy_ratio":0.5}}}"#,
        )
        .unwrap();
        assert_eq!(run.format, InputFormat::Perfgate { schema_version: 1 });
        assert_eq!(run.metrics["cpu.messages_per_second"], 5.0e5);
        assert_eq!(run.metrics["error_rate.percent"], 0.5);
        assert_eq!(
            run.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(run.errors_by_kind["malformed"], 5);
    }

    #[test]
    fn reads_repetitions_keeping_known_metrics() {
        let run = parse(
            r#"{"schema_version":1,"cpu":{"messages_per_second":5.0e5},
                "repetitions":{"count":2,"runs":[
                    {"cpu.messages_per_second":5.0e5,"latency.p99_ms":1.5,"future.metric":1},
                    {"cpu.messages_per_second":4.9e5,"latency.p99_ms":1.7}]}}"#,
        )
        .unwrap();
        assert_eq!(run.repetitions.len(), 2);
        assert_eq!(run.repetitions[1]["cpu.messages_per_second"], 4.9e5);
        assert!(!run.repetitions[0].contains_key("future.metric"));
        let error =
            parse(r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"repetitions":{"runs":[{"latency.p99_ms":"x"}]}}"#).unwrap_err();
        assert!(
            error.to_string().contains("/repetitions/runs/0/latency.p99_ms"),
            "{error}"
        );
    }

    #[test]
    fn reads_the_time_series_of_each_phase() {
        let run = parse(
            r#"{"schema_version":1,
                "memory":{"phase":"saturation","series":{"t_ms":[0],"live_mb":[1]}},
                "phases":{
                  "fixed_rate":{"asyncio":{"series":{"interval_ms":10.0,"t_ms":[0,10],"lag_max_ms":[0.5,null]}}},
                  "saturation":{"memory":{"baseline_mb":30.0,"peak_mb":31.5,"series":{
                      "interval_ms":10.0,"t_ms":[0,10,20,30],"live_mb":[30,30.5,31,30.2],
                      "resident_mb":[200,200,201,201],"messages":[0,5000,9000,9000]}},
                    "runtime":{"series":{"t_ms":[100],"rss_mb":[300]}}}}}"#,
        )
        .unwrap();
        let phases: Vec<&str> = run.series.iter().map(|p| p.phase.as_str()).collect();
        assert_eq!(phases, ["saturation", "fixed_rate"], "in the order phases run");
        let saturation = &run.series[0];
        assert_eq!(saturation.memory.t_ms, [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(saturation.memory.columns["live_mb"][2], 31.0);
        assert!(!saturation.memory.columns.contains_key("interval_ms"));
        assert_eq!(saturation.runtime.points("rss_mb"), [(100.0, 300.0)]);
        assert_eq!(
            (saturation.heap_baseline_mb, saturation.heap_peak_mb),
            (Some(30.0), Some(31.5))
        );
        // 5,000 messages in 10 ms, then 4,000, then none.
        assert_eq!(
            saturation.memory.rate("messages"),
            [(10.0, 500_000.0), (20.0, 400_000.0), (30.0, 0.0)]
        );
        assert!(saturation.memory.rate("absent").is_empty());
        let lag = &run.series[1].asyncio.columns["lag_max_ms"];
        assert!(lag[1].is_nan(), "null is a gap");
        assert!(run.series[1].memory.is_empty());
    }

    #[test]
    fn files_without_phases_give_the_top_level_series_by_phase() {
        let run = parse(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},
                "memory":{"phase":"saturation","baseline_mb":2,"series":{"t_ms":[0,10],"live_mb":[1,2]}},
                "asyncio":{"phase":"fixed_rate","series":{"t_ms":[0],"lag_max_ms":[1]}},
                "runtime":{"phase":"fixed_rate","series":{"t_ms":[0],"rss_mb":[1]}}}"#,
        )
        .unwrap();
        assert_eq!(run.series.len(), 2);
        assert_eq!(run.series[0].phase, "saturation");
        assert_eq!(run.series[0].heap_baseline_mb, Some(2.0));
        assert_eq!(run.series[1].asyncio.t_ms, [0.0]);
        assert_eq!(run.series[1].runtime.columns["rss_mb"], [1.0]);
        assert!(
            parse(r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"phases":{"saturation":{"measured_messages":1}}}"#)
                .unwrap()
                .series
                .is_empty()
        );
        assert!(
            parse(r#"{"cpu":{}}"#).unwrap().series.is_empty(),
            "older files have none"
        );
    }

    #[test]
    fn bad_series_are_one_line_naming_the_place() {
        let check = |text: &str, expected: &str| {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
            assert!(!error.contains('\n'));
        };
        check(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"memory":{"series":[1,2]}}"#,
            "/memory/series: expected an object, found a list",
        );
        check(
            r#"{"schema_version":1,"phases":{"saturation":{"asyncio":{"series":{"t_ms":[0,1],"lag_max_ms":[1,"x"]}}}}}"#,
            "/phases/saturation/asyncio/series/lag_max_ms/1: expected a number, found a string",
        );
        check(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"runtime":{"series":{"t_ms":[0,1],"rss_mb":[1]}}}"#,
            "/runtime/series/rss_mb: expected as many values as `t_ms` has (2), found 1",
        );
        check(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"runtime":{"series":{"t_ms":[0],"rss_mb":"big"}}}"#,
            "/runtime/series/rss_mb: expected a list, found a string",
        );
        check(
            r#"{"schema_version":1,"phases":[]}"#,
            "/phases: expected an object, found a list",
        );
    }

    #[test]
    fn reads_the_older_format() {
        let run = parse(
            r#"{"cpu":{"messages_per_second":1234.5,"top_functions":[{"function":"decode","cumtime":0.5}]},
                "database":{"status":"ok","pool_size":10}}"#,
        )
        .unwrap();
        assert_eq!(run.format, InputFormat::Legacy);
        assert_eq!(run.top_functions[0].cumtime, Some(0.5));
        assert_eq!(run.metrics["database.pool_size"], 10.0);
        assert_eq!(run.legacy_database.unwrap().status.as_deref(), Some("ok"));
    }

    #[test]
    fn bad_input_is_one_line_naming_the_place() {
        let check = |text: &str, expected: &str| {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
            assert!(!error.contains('\n'));
        };
        check("{\"cpu\": ", "r.json:1:");
        check("{\"cpu\": {\"messages_per_second\": NaN}}", "r.json:1:");
        check("{\"schema_version\": 9}", "schema version 9 is not supported");
        check(
            "{\"schema_version\": \"one\"}",
            "/schema_version: expected a whole number",
        );
        check(
            "{\"schema_version\":1,\"cpu\":{\"total_time\":\"slow\"}}",
            "/cpu/total_time: expected a number, found a string",
        );
        check("{\"hello\": 1}", "neither perfgate results");
        check("[1, 2]", "expected a JSON object");
    }
}
