//! Stage 2, `enrich`: attaches reference data to each tick through a bounded LRU cache in front
//! of a slower reference store. The store keeps records serialised, as a database or a remote
//! service would return them, so a miss costs a real lookup and a parse; a hit costs a hash
//! lookup and a reference-count increment.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;

use super::symbol::Symbol;
use super::tick::{EnrichedTick, Instrument, Tick};
use crate::pipeline::{Counter, Stage, StageError};

const SECTORS: [&str; 8] = [
    "Technology",
    "Financials",
    "Health Care",
    "Energy",
    "Industrials",
    "Utilities",
    "Materials",
    "Consumer Staples",
];

/// Reference data for every symbol, held as JSON records.
#[derive(Debug)]
pub struct ReferenceStore {
    records: HashMap<Symbol, Box<str>>,
}

impl ReferenceStore {
    /// Reference data for the `symbols` instruments of the synthetic universe.
    pub fn synthetic(symbols: usize) -> Self {
        let records = (0..symbols)
            .map(|index| {
                let symbol = Symbol::for_index(index, symbols);
                let instrument = Instrument {
                    id: index as u32,
                    symbol,
                    name: format!("{symbol} Holdings Inc."),
                    sector: SECTORS[index % SECTORS.len()].to_owned(),
                    currency: "USD".to_owned(),
                    lot_size: 100,
                    tick_size: 100,
                };
                let record = serde_json::to_string(&instrument).expect("instruments serialise");
                (symbol, record.into_boxed_str())
            })
            .collect();
        Self { records }
    }

    /// Looks a symbol up and parses its record: the slow path.
    pub fn fetch(&self, symbol: &Symbol) -> Option<Instrument> {
        let record = self.records.get(symbol)?;
        serde_json::from_str(record).ok()
    }

    /// Instruments in the store.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The enrich stage: one cache per worker, one store shared by all.
#[derive(Debug)]
pub struct Enrich {
    store: Arc<ReferenceStore>,
    cache: LruCache<Symbol, Arc<Instrument>>,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl Enrich {
    /// A stage with an empty cache of `capacity` entries.
    pub fn new(store: Arc<ReferenceStore>, capacity: NonZeroUsize) -> Self {
        Self {
            store,
            cache: LruCache::new(capacity),
            hits: 0,
            misses: 0,
            evictions: 0,
        }
    }

    /// Attaches reference data to a tick.
    #[inline]
    pub fn enrich(&mut self, tick: Tick) -> Result<EnrichedTick, StageError> {
        if let Some(instrument) = self.cache.get(&tick.symbol) {
            self.hits += 1;
            return Ok(EnrichedTick {
                instrument: Arc::clone(instrument),
                tick,
            });
        }
        self.misses += 1;
        let instrument = Arc::new(
            self.store
                .fetch(&tick.symbol)
                .ok_or_else(|| StageError::new("unknown_symbol"))?,
        );
        if self.cache.push(tick.symbol, Arc::clone(&instrument)).is_some() {
            self.evictions += 1;
        }
        Ok(EnrichedTick { tick, instrument })
    }
}

impl Stage<Tick> for Enrich {
    type Out = EnrichedTick;

    async fn process(&mut self, tick: Tick) -> Result<EnrichedTick, StageError> {
        self.enrich(tick)
    }

    fn counters(&self) -> Vec<Counter> {
        vec![
            Counter::new("cache_hits", self.hits),
            Counter::new("cache_misses", self.misses),
            Counter::new("cache_evictions", self.evictions),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::tick::{Exchange, Side};

    fn tick(symbol: Symbol) -> Tick {
        Tick {
            seq: 0,
            symbol,
            exchange: Exchange::XNAS,
            side: Side::Buy,
            price: 1_000_000,
            qty: 100,
            ts: 0,
        }
    }

    #[test]
    fn hits_misses_and_evictions_are_counted() {
        let store = Arc::new(ReferenceStore::synthetic(10));
        let mut stage = Enrich::new(store, NonZeroUsize::new(2).unwrap());
        let (a, b, c) = (
            Symbol::for_index(0, 10),
            Symbol::for_index(1, 10),
            Symbol::for_index(2, 10),
        );
        for symbol in [a, a, b, a, c, b] {
            stage.enrich(tick(symbol)).unwrap();
        }
        // a miss, a hit, b miss, a hit, c miss (evicts b), b miss (evicts a).
        assert_eq!((stage.hits, stage.misses, stage.evictions), (2, 4, 2));
        let enriched = stage.enrich(tick(c)).unwrap();
        assert_eq!(enriched.instrument.symbol, c);
        assert_eq!(enriched.instrument.id, 2);
    }

    #[test]
    fn unknown_symbols_are_rejected() {
        let store = Arc::new(ReferenceStore::synthetic(10));
        let mut stage = Enrich::new(store, NonZeroUsize::new(2).unwrap());
        let error = stage.enrich(tick(Symbol::new("NOPE").unwrap())).unwrap_err();
        assert_eq!(error.kind(), "unknown_symbol");
    }
}
