//! Issue 14: `run` called from inside a tokio runtime (a `#[tokio::main]` service) works and
//! returns, instead of panicking ("Cannot start a runtime from within a runtime") and then
//! hanging while the sampler waited for a stop that never came.

use std::sync::mpsc;
use std::time::Duration;

use perfgate_profiler::market::{MarketConfig, market_data_pipeline};
use perfgate_profiler::{RunConfig, Silent};

/// Runs `body` on a thread of its own and fails the test if it has not returned in time: the
/// failure this guards against is a hang.
fn within(limit: Duration, body: impl FnOnce() -> String + Send + 'static) -> String {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(body()).unwrap());
    match receiver.recv_timeout(limit) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after {limit:?}: a hang"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("it panicked"),
    }
}

fn run_once() -> Result<u64, String> {
    let market = MarketConfig::default();
    let pipeline = market_data_pipeline(&market).map_err(|error| error.to_string())?;
    let results = perfgate_profiler::run(&pipeline, &RunConfig::smoke(), &Silent, market.to_json())
        .map_err(|error| error.to_string())?;
    Ok(results.pipeline.generated)
}

#[test]
fn run_inside_a_multi_thread_runtime_returns_its_results() {
    let outcome = within(Duration::from_secs(120), || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        format!("{:?}", runtime.block_on(async { run_once() }))
    });
    assert!(outcome.starts_with("Ok("), "{outcome}");
}

#[test]
fn run_inside_a_current_thread_runtime_returns_its_results() {
    let outcome = within(Duration::from_secs(120), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        format!("{:?}", runtime.block_on(async { run_once() }))
    });
    assert!(outcome.starts_with("Ok("), "{outcome}");
}
