//! How long evaluating and rendering a report takes for a full results file (the target is well
//! under 100 ms). Run with `cargo bench -p perfgate-report --bench render`.

use std::hint::black_box;
use std::path::Path;
use std::time::UNIX_EPOCH;

use criterion::{Criterion, criterion_group, criterion_main};
use perfgate_report::{Report, ReportOptions, Thresholds, parse_results, render};

fn report(c: &mut Criterion) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let results_path = fixtures.join("results-v1-full.json");
    let results_text = std::fs::read_to_string(&results_path).expect("fixture");
    let thresholds = Thresholds::from_path(&fixtures.join("thresholds-default.toml")).expect("fixture");
    let options = ReportOptions {
        now: UNIX_EPOCH,
        evaluate: Default::default(),
        flamegraph_link: Some("img/flamegraph.svg".to_owned()),
    };
    c.bench_function("parse_evaluate_render_markdown_and_json", |b| {
        b.iter(|| {
            let results = parse_results(&results_path, black_box(&results_text)).expect("valid fixture");
            let report = Report::new(results, &thresholds, None, options.clone());
            black_box(render::markdown::render(&report));
            black_box(render::json::render(&report));
        })
    });
}

criterion_group!(benches, report);
criterion_main!(benches);
