//! The market-data workload's settings, their checks and how results record them.

use std::time::Duration;

use serde_json::{Value, json};

use crate::database::InstrumentedPool;
use crate::error::{ProfilerError, Result};

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
    /// Instructions added to every message's work, exactly (0 = none), spread over the stages;
    /// only for testing that the instruction-count gate catches a change of CPU work.
    pub inject_instructions: u64,
    /// Where the enrich stage looks cache misses up: `None`, the in-process
    /// [`ReferenceStore`](super::ReferenceStore); or a PostgreSQL pool
    /// (`--reference-store postgres://...`, table [`REFERENCE_TABLE`](super::REFERENCE_TABLE)).
    /// Give the same pool to `RunConfig::database`, so that each phase has connections of its
    /// own and the results carry its figures.
    pub database: Option<InstrumentedPool>,
}

/// The most instructions `--inject-instructions` adds per message: a hundred times the default
/// workload's own (about 10,000), so a mistyped value cannot stall a run for hours.
pub(super) const MAX_INJECTED_INSTRUCTIONS: u64 = 1_000_000;

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
            inject_instructions: 0,
            database: None,
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
        if !(1..=MAX_CACHE_CAPACITY).contains(&self.cache_capacity) {
            return invalid(format!(
                "cache capacity must be 1 to {MAX_CACHE_CAPACITY} entries, got {}",
                self.cache_capacity
            ));
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
        if self.inject_instructions > MAX_INJECTED_INSTRUCTIONS {
            return invalid(format!(
                "injected instructions must be at most {MAX_INJECTED_INSTRUCTIONS} per message, got {}",
                self.inject_instructions
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
            "inject_instructions": self.inject_instructions,
            // The endpoint, never the connection string: it may hold the password.
            "reference_store": self.database.as_ref().map_or("memory", |pool| pool.endpoint()),
        })
    }
}

/// The largest reference-data cache, entries: the cache allocates its table up front.
pub const MAX_CACHE_CAPACITY: usize = 10_000_000;
