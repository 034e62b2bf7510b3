//! The example pipeline built on the public API runs unchanged and is measured correctly.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../examples/custom_pipeline.rs"]
mod example;

use example::{Order, order_pipeline};
use perfgate_profiler::{Length, RunConfig, Silent};

#[test]
fn example_pipeline_runs_and_accounts_for_every_order() {
    let pipeline = order_pipeline(100);
    assert_eq!(pipeline.stage_names(), ["parse", "risk"]);
    let config = RunConfig {
        length: Length::Messages(10_000),
        warmup: Length::Messages(1_000),
        workers: [("risk".to_owned(), 2)].into(),
        ..RunConfig::smoke()
    };
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap();
    let pipeline_section = &results.pipeline;
    assert_eq!(pipeline_section.generated, 2 * 11_000);
    assert_eq!(
        pipeline_section.generated,
        pipeline_section.processed + results.errors.total
    );
    // Every 50th order is garbage.
    assert_eq!(results.errors.by_kind["unparsable"], 2 * 11_000 / 50);
    let risk = &results.stages["risk"];
    assert_eq!(risk.workers, 2);
    assert!(risk.counters["accounts"] > 0 && risk.counters["accounts"] <= 100);
    let fanout = results.fanout.as_ref().unwrap();
    assert_eq!(fanout.subscribers, 3);
    assert_eq!(fanout.offered, fanout.delivered + fanout.dropped);
    assert_eq!(fanout.offered, 3 * pipeline_section.processed);
}

#[test]
fn stage_function_parses_and_rejects() {
    let order = futures_lite_block_on(example::parse(example::WireOrder("1,2,B,3,4".into()))).unwrap();
    assert_eq!(
        order,
        Order {
            id: 1,
            account: 2,
            buy: true,
            qty: 3,
            limit_cents: 4
        }
    );
    let error = futures_lite_block_on(example::parse(example::WireOrder("1,x".into()))).unwrap_err();
    assert_eq!(error.kind(), "unparsable");
}

fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
