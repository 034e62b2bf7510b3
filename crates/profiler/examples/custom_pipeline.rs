//! Profiling your own pipeline with perfgate's public API, with no change to perfgate itself.
//!
//! An order gateway: text orders arrive, are parsed, risk-checked per account (state kept per
//! account, so that stage is keyed), priced, and published to three downstream gateways.
//!
//! Run it with `cargo run --release -p perfgate-profiler --example custom_pipeline`; add
//! `-- --capacity 'p99<=2ms'` to also find the highest order rate it sustains at that objective,
//! `-- --scaling` to measure it at 1 to 8 runtime workers and fit the Universal Scalability
//! Law, `-- --sweep` to sweep the batch size and the number of accounts and recommend the
//! best, or `-- --chaos` to inject each fault the pipeline can take and measure how it degrades
//! and recovers, as `cargo xtask capacity`, `scaling`, `sweep` and `chaos` do for the default
//! workload. The
//! sweep's results (`target/perfgate/custom-sweep/results.json`) are reported by `cargo xtask
//! report --results …` like any run's.

use std::collections::HashMap;

use perfgate_profiler::{
    Counter, Pipeline, ResultsFiles, RunConfig, Silent, Source, Stage, StageError, Subscriber, stage_fn,
};

/// An order as it arrives on the wire: `account,side,qty,limit_price_cents`.
#[derive(Debug, Clone)]
pub struct WireOrder(pub String);

/// A parsed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Order id.
    pub id: u64,
    /// Trading account.
    pub account: u32,
    /// Buy (true) or sell.
    pub buy: bool,
    /// Quantity.
    pub qty: u32,
    /// Limit price in cents.
    pub limit_cents: u64,
}

/// Deterministic order flow over `accounts` accounts; every 50th order is garbage.
#[derive(Debug)]
pub struct OrderFlow {
    next_id: u64,
    accounts: u32,
}

impl Source for OrderFlow {
    type Item = WireOrder;

    fn next_item(&mut self) -> WireOrder {
        let id = self.next_id;
        self.next_id += 1;
        if id % 50 == 49 {
            return WireOrder(format!("{id},garbage"));
        }
        let account = (id * 7_919 % u64::from(self.accounts)) as u32;
        let side = if id.is_multiple_of(3) { "S" } else { "B" };
        WireOrder(format!(
            "{id},{account},{side},{},{}",
            1 + id % 500,
            10_000 + id % 997
        ))
    }
}

/// Parses a wire order; a plain async function is a stage too (see `stage_fn`).
pub async fn parse(wire: WireOrder) -> Result<Order, StageError> {
    let bad = || StageError::new("unparsable");
    let mut fields = wire.0.split(',');
    let mut next = || fields.next().ok_or_else(bad);
    Ok(Order {
        id: next()?.parse().map_err(|_| bad())?,
        account: next()?.parse().map_err(|_| bad())?,
        buy: next()? == "B",
        qty: next()?.parse().map_err(|_| bad())?,
        limit_cents: next()?.parse().map_err(|_| bad())?,
    })
}

/// Keeps each account's net position and rejects orders that would exceed the limit.
#[derive(Debug, Default)]
pub struct RiskCheck {
    positions: HashMap<u32, i64>,
    rejected: u64,
}

/// Largest net position an account may hold.
pub const POSITION_LIMIT: i64 = 20_000;

impl Stage<Order> for RiskCheck {
    type Out = Order;

    async fn process(&mut self, order: Order) -> Result<Order, StageError> {
        let position = self.positions.entry(order.account).or_default();
        let change = if order.buy {
            i64::from(order.qty)
        } else {
            -i64::from(order.qty)
        };
        if (*position + change).abs() > POSITION_LIMIT {
            self.rejected += 1;
            return Err(StageError::new("risk_limit"));
        }
        *position += change;
        Ok(order)
    }

    fn counters(&self) -> Vec<Counter> {
        vec![
            Counter::new("accounts", self.positions.len() as u64),
            Counter::new("risk_rejections", self.rejected),
        ]
    }
}

/// A downstream gateway receiving accepted orders.
#[derive(Debug, Default)]
pub struct Gateway {
    /// Orders received.
    pub orders: u64,
    /// Their total notional, cents.
    pub notional_cents: u128,
}

impl Subscriber<Order> for Gateway {
    async fn deliver(&mut self, batch: &[Order]) {
        for order in batch {
            self.orders += 1;
            self.notional_cents += u128::from(order.qty) * u128::from(order.limit_cents);
        }
    }
}

/// The pipeline: parse → risk (keyed by account) → publish to 3 gateways.
pub fn order_pipeline(accounts: u32) -> Pipeline<OrderFlow> {
    Pipeline::builder(move |stream| OrderFlow {
        next_id: stream as u64 * 1_000_000_000,
        accounts,
    })
    .stage("parse", |_| stage_fn(parse))
    .keyed_stage(
        "risk",
        |order: &Order| u64::from(order.account),
        |_| RiskCheck::default(),
    )
    .fan_out(3, |_| Gateway::default())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = order_pipeline(1_000);
    let config = RunConfig {
        length: perfgate_profiler::Length::Messages(500_000),
        warmup: perfgate_profiler::Length::Messages(50_000),
        limit: true,
        ..RunConfig::default()
    };
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::json!({"name": "orders"}))?;
    let path = results.write_to_dir(std::path::Path::new("target/perfgate/custom"))?;
    println!(
        "{:.0} orders/s at saturation, p99 {:.3} ms at {:.0} orders/s, {} rejected ({:?})",
        results.cpu.messages_per_second,
        results.latency.as_ref().map_or(f64::NAN, |l| l.summary.p99_ms),
        results
            .latency
            .as_ref()
            .and_then(|l| l.rate_per_second)
            .unwrap_or(0.0),
        results.errors.total,
        results.errors.by_kind,
    );
    println!("results: {}", path.display());
    // The same capacity search `cargo xtask capacity` runs, on this pipeline.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--capacity") {
        let slo: perfgate_profiler::capacity::Slo =
            args.get(at + 1).ok_or("--capacity needs an objective")?.parse()?;
        let mut options = perfgate_profiler::capacity::CapacityOptions::new(slo);
        // This gateway rejects about a fifth of its orders by design (risk limits, 2 % garbage):
        // that is its business, not overload, so the search's error bound is set above it.
        options.max_error_rate_percent = 25.0;
        let capacity = perfgate_profiler::capacity::find_capacity(
            &pipeline,
            &config,
            &options,
            &Silent,
            &mut |step, left| {
                println!(
                    "  {:>9.0} orders/s offered: p99 {:.3} ms, {}; ~{left} steps left",
                    step.offered_per_second,
                    step.p99_ms,
                    if step.passed {
                        "met".to_owned()
                    } else {
                        format!("missed ({})", step.missed.join("; "))
                    }
                );
            },
        )?;
        println!(
            "capacity at {}: {:.0} orders/s (missed at {:?}), {} steps, {:.0} s",
            capacity.slo,
            capacity.max_rate_per_second,
            capacity.failed_rate_per_second.map(f64::round),
            capacity.steps.len(),
            capacity.duration_seconds
        );
    }
    if args.iter().any(|arg| arg == "--scaling") {
        let workers: Vec<usize> = (1..=8).collect();
        let points = perfgate_profiler::scaling::measure_scaling(
            &pipeline,
            &config,
            &workers,
            2,
            &Silent,
            &mut |point, left| {
                println!(
                    "  {} workers: {:.0} orders/s ({left} points left)",
                    point.workers, point.messages_per_second
                );
                true
            },
        )?;
        let pairs: Vec<(f64, f64)> = points.iter().map(|point| point.as_pair()).collect();
        match perfgate_stats::usl_intervals(&pairs, 0.95, 1_000, 16) {
            Some(fit) if fit.fit.is_trustworthy() => {
                for cores in [4.0, 8.0, 16.0, 32.0, 64.0] {
                    if let Some(projected) = fit.project(cores) {
                        println!(
                            "  projected at {cores} cores: {:.0} orders/s [{:.0}, {:.0}]",
                            projected.estimate, projected.low, projected.high
                        );
                    }
                }
            }
            Some(fit) => println!(
                "  no projection: {:?} (σ {:.3}, κ {:.4}, R² {:?})",
                fit.fit.quality(),
                fit.fit.sigma,
                fit.fit.kappa,
                fit.fit.r_squared
            ),
            None => println!("  no fit: too few worker counts"),
        }
    }
    if args.iter().any(|arg| arg == "--sweep") {
        sweep(&results)?;
    }
    if args.iter().any(|arg| arg == "--chaos") {
        chaos(&pipeline, &config, &results)?;
    }
    Ok(())
}

/// Every chaos scenario the order gateway can take (its stages are `parse` and `risk`, so the
/// slow dependency is the risk check's and the error burst the parser's), at 30 % of its
/// saturation, written into a copy of the run's results.
fn chaos(
    pipeline: &perfgate_profiler::Pipeline<OrderFlow>,
    config: &RunConfig,
    results: &perfgate_profiler::Results,
) -> Result<(), Box<dyn std::error::Error>> {
    use perfgate_profiler::chaos::{ChaosOptions, all_scenarios, run_chaos};
    let mut options = ChaosOptions::quick();
    options.rate = Some((results.cpu.messages_per_second * options.rate_fraction).round());
    let scenarios = all_scenarios(pipeline.stage_names(), pipeline.subscribers(), &options);
    let section = run_chaos(
        pipeline,
        config,
        &scenarios,
        &options,
        &Silent,
        &mut |name, result| {
            println!(
                "  {name}: {} — throughput ×{:.2}, p99 ×{}, {}; errors {:?}, {} deliveries dropped",
                result.target.as_deref().unwrap_or("whole pipeline"),
                result.degraded_throughput_ratio,
                result
                    .degraded_p99_ratio
                    .map_or("—".to_owned(), |ratio| format!("{ratio:.1}")),
                result
                    .recovery_s
                    .map_or("did not recover".to_owned(), |seconds| format!(
                        "back {seconds:.1} s after"
                    )),
                result.errors_by_kind,
                result.dropped_deliveries
            );
        },
    )?;
    let mut with_chaos = results.clone();
    with_chaos.chaos = Some(section);
    let path = with_chaos.write_to_dir(std::path::Path::new("target/perfgate/custom-chaos"))?;
    println!("chaos results: {}", path.display());
    Ok(())
}

/// Sweeps the batch size and the accounts (the risk stage's state) over a grid, each point three
/// times, and writes the sweep into a copy of the run's results.
fn sweep(results: &perfgate_profiler::Results) -> Result<(), Box<dyn std::error::Error>> {
    use perfgate_profiler::sweep::{SweepOptions, sweep};
    use perfgate_results::SweepParam;
    let params = vec![
        SweepParam {
            knob: "batch".to_owned(),
            values: vec!["1".to_owned(), "16".to_owned(), "64".to_owned()],
        },
        SweepParam {
            knob: "accounts".to_owned(),
            values: vec!["100".to_owned(), "100000".to_owned()],
        },
    ];
    let config = RunConfig {
        length: perfgate_profiler::Length::Messages(200_000),
        warmup: perfgate_profiler::Length::Messages(20_000),
        ..RunConfig::default()
    };
    let section = sweep(
        &params,
        &config,
        &SweepOptions::default(),
        &Silent,
        |knobs, config| {
            config.batch_size = knobs["batch"].parse().map_err(|_| "batch: not a whole number")?;
            let accounts = knobs["accounts"]
                .parse()
                .map_err(|_| "accounts: not a whole number")?;
            Ok(order_pipeline(accounts))
        },
        &mut |run| {
            println!(
                "  {} ({}): {:.0} orders/s, p99 {} — {} runs left, {:.0} s in",
                run.point,
                run.repeat
                    .map_or("calibration".to_owned(), |r| format!("repeat {r}")),
                run.messages_per_second,
                run.p99_ms.map_or("—".to_owned(), |p99| format!("{p99:.3} ms")),
                run.left,
                run.elapsed.as_secs_f64()
            );
        },
    )?;
    println!("{}", section.recommendation.evidence);
    for warning in &section.warnings {
        println!("warning: {warning}");
    }
    let mut with_sweep = results.clone();
    with_sweep.warnings.insert(
        0,
        "This file holds a sweep of the batch size and the accounts (the Sweep section); its other sections are the example's main run (batch 64, 1,000 accounts).".to_owned(),
    );
    with_sweep.sweep = Some(section);
    let path = with_sweep.write_to_dir(std::path::Path::new("target/perfgate/custom-sweep"))?;
    println!("sweep results: {}", path.display());
    Ok(())
}
