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
mod settings;
mod slowdown;
mod symbol;
mod tick;
mod zipf;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

pub use aggregate::Aggregate;
pub use decode::Decode;
pub use enrich::{
    Enrich, REFERENCE_LOOKUP, REFERENCE_TABLE, ReferenceStore, SeedOutcome, seed_reference_table,
};
pub use fanout::{ClientConnection, Encode, Frame};
pub use generator::TickSource;
pub use settings::{MAX_CACHE_CAPACITY, MarketConfig};
pub use slowdown::Slowed;
pub use symbol::{MAX_SYMBOL_LEN, Symbol};
pub use tick::{BarUpdate, EnrichedTick, Exchange, Instrument, PRICE_SCALE, PriceE4, RawTick, Side, Tick};
pub use zipf::Zipf;

use crate::error::Result;
use crate::pipeline::Pipeline;

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
        // The in-process store only when no database stands in for it.
        let database = config.database.clone();
        let store = database
            .is_none()
            .then(|| Arc::new(ReferenceStore::synthetic(config.symbols)));
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
                ($wrap)(match (&database, &store) {
                    (Some(pool), _) => Enrich::with_database(pool.clone(), capacity),
                    (None, Some(store)) => Enrich::new(Arc::clone(store), capacity),
                    (None, None) => unreachable!("a store is made when there is no database"),
                })
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
