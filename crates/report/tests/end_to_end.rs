//! The profiler library's own output, read by the report end to end: a smoke run of the default
//! workload, written with `ResultsFiles`, loaded, evaluated against the shipped thresholds and
//! rendered. A field the profiler writes that the report no longer reads (or the other way
//! round) fails here.

use std::time::{Duration, UNIX_EPOCH};

use perfgate_profiler::market::{MarketConfig, market_data_pipeline};
use perfgate_profiler::{ResultsFiles, RunConfig, Silent};
use perfgate_report::{EvaluateOptions, Report, ReportOptions, Thresholds, load_results};

#[test]
fn a_smoke_run_of_the_profiler_reads_back_through_the_report() {
    let market = MarketConfig::default();
    let config = RunConfig {
        limit: true,
        ..RunConfig::smoke()
    };
    let pipeline = market_data_pipeline(&market).unwrap();
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, market.to_json()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = results.write_to_dir(dir.path()).unwrap();

    let run = load_results(&path).expect("the profiler's output is valid input to the report");
    for (id, figure) in perfgate_results::catalogue::figures(&results) {
        // JSON keeps 17 significant digits; serde_json's default parser may round the last.
        let read = run.metrics.get(id).copied();
        assert!(
            read.is_some_and(|read| (read - figure).abs() <= figure.abs() * 1e-12),
            "{id}: the report reads {read:?} where the profiler wrote {figure}"
        );
    }
    assert_eq!(run.metrics["cpu.message_count"], results.cpu.message_count as f64);
    let stages: Vec<&str> = run.stages.iter().map(|stage| stage.name.as_str()).collect();
    assert_eq!(stages, ["decode", "enrich", "aggregate", "fanout"]);

    let thresholds_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../thresholds/ci.toml");
    let thresholds = Thresholds::from_path(std::path::Path::new(thresholds_path)).unwrap();
    let options = ReportOptions {
        now: UNIX_EPOCH + Duration::from_secs(1_795_348_800),
        evaluate: EvaluateOptions::default(),
        flamegraph_link: None,
    };
    let report = Report::new(run, &thresholds, None, options);
    let markdown = perfgate_report::render::markdown::render(&report);
    assert!(markdown.contains("cpu.messages_per_second"), "{markdown}");
}
