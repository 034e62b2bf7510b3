//! The default workload: a synthetic market-data pipeline, built with the same public API a
//! user's own pipeline uses.
//!
//! `decode` (JSON → [`Tick`]) → `enrich` (reference data through an LRU cache) → `aggregate`
//! (per-instrument OHLCV bars and VWAP, keyed by instrument) → `fanout` (encode a frame and
//! offer it to every subscriber).

mod aggregate;
mod decode;
mod enrich;
mod fanout;
mod generator;
mod slowdown;
mod symbol;
mod tick;
mod zipf;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

pub use aggregate::Aggregate;
pub use decode::Decode;
pub use enrich::{Enrich, ReferenceStore};
pub use fanout::{ClientConnection, Encode, Frame};
pub use generator::TickSource;
pub use slowdown::Slowed;
pub use symbol::{MAX_SYMBOL_LEN, Symbol};
pub use tick::{BarUpdate, EnrichedTick, Exchange, Instrument, PRICE_SCALE, PriceE4, RawTick, Side, Tick};
pub use zipf::Zipf;

use crate::error::{ProfilerError, Result};
use crate::pipeline::Pipeline;

/// The market-data workload's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketConfig {
    /// Instruments in the universe.
    pub symbols: usize,
    /// Zipf exponent of symbol popularity (0 = uniform).
    pub zipf: f64,
    /// Seed of the feed; the same seed gives the same messages.
    pub seed: u64,
    /// Target size of each JSON message, bytes; shorter messages are padded, longer ones are
    /// left as they are.
    pub payload_bytes: usize,
    /// Share of messages cut in half on purpose, to exercise error handling.
    pub malformed_rate: f64,
    /// Fan-out subscribers.
    pub subscribers: usize,
    /// Entries of each enrich worker's LRU cache.
    pub cache_capacity: usize,
    /// Bar length, exchange time.
    pub bar_interval: Duration,
    /// Channels the feed is split into by symbol; decode workers take whole channels.
    pub feed_channels: usize,
    /// A deliberate slowdown of every stage's work, percent of throughput (0 = none); only for
    /// testing that a regression gate catches one.
    pub inject_slowdown_pct: f64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            symbols: 5_000,
            zipf: 1.1,
            seed: 42,
            payload_bytes: 200,
            malformed_rate: 0.0,
            subscribers: 8,
            cache_capacity: 1_024,
            bar_interval: Duration::from_secs(1),
            feed_channels: 16,
            inject_slowdown_pct: 0.0,
        }
    }
}

impl MarketConfig {
    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(ProfilerError::InvalidConfig(message));
        if !(1..=10_000_000).contains(&self.symbols) {
            return invalid(format!(
                "symbols must be between 1 and 10,000,000, got {}",
                self.symbols
            ));
        }
        if !(self.zipf.is_finite() && self.zipf >= 0.0) {
            return invalid(format!("zipf exponent must be a number ≥ 0, got {}", self.zipf));
        }
        if !(0.0..=1.0).contains(&self.malformed_rate) {
            return invalid(format!(
                "malformed rate must be between 0 and 1, got {}",
                self.malformed_rate
            ));
        }
        if self.payload_bytes > 1 << 20 {
            return invalid(format!(
                "payload bytes must be at most 1 MiB, got {}",
                self.payload_bytes
            ));
        }
        if self.cache_capacity == 0 {
            return invalid("cache capacity must be at least 1".into());
        }
        if !(1..=u16::MAX as usize).contains(&self.feed_channels) {
            return invalid(format!(
                "feed channels must be between 1 and 65535, got {}",
                self.feed_channels
            ));
        }
        if !(0.0..=90.0).contains(&self.inject_slowdown_pct) {
            return invalid(format!(
                "injected slowdown must be between 0 and 90 %, got {}",
                self.inject_slowdown_pct
            ));
        }
        if self.bar_interval.is_zero() {
            return invalid("bar interval must be more than 0".into());
        }
        Ok(())
    }

    /// The settings as recorded in `environment.workload`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": "market-data",
            "stages": ["decode", "enrich", "aggregate", "fanout"],
            "symbols": self.symbols,
            "zipf": self.zipf,
            "seed": self.seed,
            "payload_bytes": self.payload_bytes,
            "malformed_rate": self.malformed_rate,
            "subscribers": self.subscribers,
            "cache_capacity": self.cache_capacity,
            "bar_interval_ms": self.bar_interval.as_secs_f64() * 1e3,
            "feed_channels": self.feed_channels,
            "inject_slowdown_pct": self.inject_slowdown_pct,
        })
    }
}

/// Workers per stage that suit this pipeline on `cores` cores: decode, by far the heaviest
/// stage, gets one per core (it is keyed by feed channel, so each symbol's ticks stay in
/// order); the others get one each.
pub fn recommended_workers(cores: usize) -> BTreeMap<String, usize> {
    BTreeMap::from([("decode".to_owned(), cores.max(1))])
}

/// The default pipeline's stages, each passed through `$wrap` (a closure expression, expanded
/// afresh for each stage so that it can take each stage's own type).
macro_rules! market_stages {
    ($config:expr, $wrap:expr) => {{
        let config: &MarketConfig = $config;
        let store = Arc::new(ReferenceStore::synthetic(config.symbols));
        let capacity = NonZeroUsize::new(config.cache_capacity).expect("validated above");
        let interval_ns = config.bar_interval.as_nanos() as u64;
        let source_config = config.clone();
        Pipeline::builder(move |stream| TickSource::new(&source_config, stream))
            .keyed_stage(
                "decode",
                |raw: &RawTick| u64::from(raw.channel),
                move |_| ($wrap)(Decode),
            )
            .stage("enrich", move |_| {
                ($wrap)(Enrich::new(Arc::clone(&store), capacity))
            })
            .keyed_stage(
                "aggregate",
                |enriched: &EnrichedTick| u64::from(enriched.instrument.id),
                move |_| ($wrap)(Aggregate::new(interval_ns)),
            )
            .stage("fanout", move |_| ($wrap)(Encode))
            .fan_out(config.subscribers, |_| ClientConnection::default())
    }};
}

/// The default pipeline: decode → enrich → aggregate → fanout to subscribers.
///
/// The stages are wrapped in [`Slowed`] only when a slowdown is injected: a wrapper in every
/// run would stand above every stage in the CPU profile and take the "hottest function" place
/// in the report's recommendations.
pub fn market_data_pipeline(config: &MarketConfig) -> Result<Pipeline<TickSource>> {
    config.validate()?;
    let slow = slowdown::factor_for(config.inject_slowdown_pct);
    Ok(if slow > 0.0 {
        market_stages!(config, |stage| Slowed::new(stage, slow))
    } else {
        market_stages!(config, |stage| stage)
    })
}
