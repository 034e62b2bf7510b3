//! A reconstruction, with perfgate's public API, of the simple pipeline the project's
//! feasibility study timed before perfgate existed: generate ~210-byte JSON ticks (prices
//! formatted as floats) → serde_json into an owned struct → per-symbol OHLC, one message per
//! channel send, channels of 1,024, on all cores.
//!
//! That study measured about 1.42 M msg/s for it on its machine. Running this on another
//! machine (or on the same machine on another day) tells how fast that machine is compared with
//! the study's, which is what an absolute throughput target such as "1 M msg/s" silently
//! depends on. Run: `cargo run --release -p perfgate-profiler --example reference_pipeline`.

use std::collections::HashMap;
use std::fmt::Write;

use perfgate_profiler::{Length, Pipeline, RunConfig, Silent, Source, Stage, StageError};
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

/// Ticks with float prices formatted by `{:.4}`, as in the study.
#[derive(Debug)]
pub struct FloatTicks {
    rng: Xoshiro256PlusPlus,
    prices: Vec<f64>,
    seq: u64,
}

impl Source for FloatTicks {
    type Item = String;

    fn next_item(&mut self) -> String {
        let symbol = (self.rng.next_u64() % self.prices.len() as u64) as usize;
        let step = (self.rng.next_u64() % 200) as f64 / 10_000.0 - 0.01;
        self.prices[symbol] = (self.prices[symbol] + step).max(1.0);
        self.seq += 1;
        let mut text = String::with_capacity(224);
        write!(
            text,
            r#"{{"type":"trade","seq":{},"symbol":"SYM{:05}","exchange":"XNAS","price":{:.4},"qty":{},"ts":{},"side":"buy","venue":"primary","flags":"regular"}}"#,
            self.seq,
            symbol,
            self.prices[symbol],
            100 + self.seq % 900,
            1_700_000_000_000_000_000u64 + self.seq * 1_000,
        )
        .expect("writing to a String cannot fail");
        text
    }
}

/// The parsed tick, with an owned symbol.
#[derive(Debug, Deserialize)]
pub struct OwnedTick {
    /// Ticker.
    pub symbol: String,
    /// Price.
    pub price: f64,
    /// Quantity.
    pub qty: u64,
}

/// Per-symbol open, high, low, close.
#[derive(Debug, Default)]
pub struct Ohlc {
    bars: HashMap<String, (f64, f64, f64, f64)>,
}

impl Stage<OwnedTick> for Ohlc {
    type Out = ();

    async fn process(&mut self, tick: OwnedTick) -> Result<(), StageError> {
        let bar = self
            .bars
            .entry(tick.symbol)
            .or_insert((tick.price, tick.price, tick.price, tick.price));
        bar.1 = bar.1.max(tick.price);
        bar.2 = bar.2.min(tick.price);
        bar.3 = tick.price;
        Ok(())
    }
}

/// generate → parse → aggregate.
pub fn reference_pipeline() -> Pipeline<FloatTicks> {
    Pipeline::builder(|stream| FloatTicks {
        rng: Xoshiro256PlusPlus::seed_from_u64(7 + stream as u64),
        prices: vec![100.0; 1_000],
        seq: 0,
    })
    .stage("parse", |_| {
        perfgate_profiler::stage_fn(|text: String| async move {
            serde_json::from_str::<OwnedTick>(&text).map_err(|_| StageError::new("malformed"))
        })
    })
    .stage("aggregate", |_| Ohlc::default())
    .build()
}

/// The study's settings: one message per send, channels of 1,024 messages.
pub fn reference_config() -> RunConfig {
    RunConfig {
        length: Length::Messages(1_000_000),
        warmup: Length::Messages(100_000),
        fixed_rate: false,
        limit: true,
        batch_size: 1,
        channel_capacity: 1_024,
        ..RunConfig::default()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let results = perfgate_profiler::run(
        &reference_pipeline(),
        &reference_config(),
        &Silent,
        serde_json::Value::Null,
    )?;
    let limit = results
        .limit
        .as_ref()
        .map_or(0.0, |limit| limit.messages_per_second);
    println!(
        "reference pipeline: {:.0} msg/s (the feasibility study measured about 1.42 M msg/s); limit {:.0} msg/s on {} threads",
        results.cpu.messages_per_second,
        limit,
        results.limit.as_ref().map_or(0, |limit| limit.threads),
    );
    Ok(())
}
