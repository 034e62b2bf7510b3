//! Stage 2, `enrich`: attaches reference data to each tick through a bounded LRU cache in front
//! of a slower reference store. The store keeps records serialised, as a database or a remote
//! service would return them, so a miss costs a real lookup and a parse; a hit costs a hash
//! lookup and a reference-count increment.
//!
//! With `--reference-store postgres://...` the misses query PostgreSQL instead, through an
//! [`InstrumentedPool`]: the same JSON record, from a table the profiler seeds
//! ([`seed_reference_table`]), parsed the same way, so that the only difference is the database.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;

use super::symbol::Symbol;
use super::tick::{EnrichedTick, Instrument, Tick};
use crate::database::{DatabaseError, InstrumentedPool};
use crate::pipeline::{Counter, Stage, StageError};

/// The table that holds the reference records in PostgreSQL.
pub const REFERENCE_TABLE: &str = "perfgate_reference";
/// The stage's one statement: a symbol's record.
pub const REFERENCE_LOOKUP: &str = "SELECT record FROM perfgate_reference WHERE symbol = $1";

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

/// The store's hasher: SipHash-1-3 as `HashMap`'s default, with fixed keys instead of random
/// ones, so that the same symbols probe the same slots in every run and `cargo xtask
/// instructions` counts the same work twice (with random keys two counts differed by about
/// 0.01 %). The keys are public data's, so a fixed key costs no protection here.
type FixedSipHash = BuildHasherDefault<DefaultHasher>;

/// The cache's hasher: foldhash, which `lru`'s `hashbrown` map uses by default, with a fixed
/// seed for the same reason.
fn cache_hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x7065_7266_6761_7465)
}

/// Reference data for every symbol, held as JSON records.
#[derive(Debug)]
pub struct ReferenceStore {
    records: HashMap<Symbol, Box<str>, FixedSipHash>,
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
        parse_record(self.records.get(symbol)?)
    }

    /// Every symbol and its record, in no particular order.
    pub fn records(&self) -> impl Iterator<Item = (&Symbol, &str)> {
        self.records.iter().map(|(symbol, record)| (symbol, &**record))
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

/// A record as the store holds it, parsed: the same code for both stores.
fn parse_record(record: &str) -> Option<Instrument> {
    serde_json::from_str(record).ok()
}

/// What became of `seed_reference_table`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOutcome {
    /// Records the table held for the universe's symbols before.
    pub present: u64,
    /// Records written (new or changed).
    pub written: u64,
}

/// Creates the reference table if it is missing and writes the records of
/// [`ReferenceStore::synthetic`]`(symbols)` into it, keeping rows that are already right
/// (idempotent: a second call writes nothing). With `only_if_short`, it writes only when some
/// of the universe's symbols are missing. The work goes through `pool`'s connections but is not
/// a query of the run: call it before the run, whose start forgets it.
pub async fn seed_reference_table(
    pool: &InstrumentedPool,
    symbols: usize,
    only_if_short: bool,
) -> Result<SeedOutcome, DatabaseError> {
    let store = ReferenceStore::synthetic(symbols);
    let (names, records): (Vec<String>, Vec<String>) = store
        .records()
        .map(|(symbol, record)| (symbol.as_str().to_owned(), record.to_owned()))
        .unzip();
    let connection = pool.acquire().await?;
    let client = connection.client();
    let failed = |error: tokio_postgres::Error| DatabaseError::from_client(&error);
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {REFERENCE_TABLE} (symbol text PRIMARY KEY, record text NOT NULL)"
        ))
        .await
        .map_err(failed)?;
    let present: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {REFERENCE_TABLE} WHERE symbol = ANY($1)"),
            &[&names],
        )
        .await
        .map_err(failed)?
        .get(0);
    let present = present.max(0) as u64;
    if only_if_short && present == names.len() as u64 {
        return Ok(SeedOutcome { present, written: 0 });
    }
    let written = client
        .execute(
            &format!(
                "INSERT INTO {REFERENCE_TABLE} (symbol, record) SELECT * FROM unnest($1::text[], $2::text[]) \
                 ON CONFLICT (symbol) DO UPDATE SET record = EXCLUDED.record \
                 WHERE {REFERENCE_TABLE}.record IS DISTINCT FROM EXCLUDED.record"
            ),
            &[&names, &records],
        )
        .await
        .map_err(failed)?;
    Ok(SeedOutcome { present, written })
}

/// Where misses are looked up.
#[derive(Debug, Clone)]
enum Lookup {
    Memory(Arc<ReferenceStore>),
    Database(InstrumentedPool),
}

/// The enrich stage: one cache per worker, one store shared by all.
#[derive(Debug)]
pub struct Enrich {
    lookup: Lookup,
    cache: LruCache<Symbol, Arc<Instrument>, foldhash::fast::FixedState>,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl Enrich {
    /// A stage with an empty cache of `capacity` entries.
    pub fn new(store: Arc<ReferenceStore>, capacity: NonZeroUsize) -> Self {
        Self::with_lookup(Lookup::Memory(store), capacity)
    }

    /// A stage with an empty cache of `capacity` entries whose misses query [`REFERENCE_TABLE`]
    /// through `pool`; a failed query is an error of the message (`database_timeout`,
    /// `database_connection`, `database_query`).
    pub fn with_database(pool: InstrumentedPool, capacity: NonZeroUsize) -> Self {
        Self::with_lookup(Lookup::Database(pool), capacity)
    }

    fn with_lookup(lookup: Lookup, capacity: NonZeroUsize) -> Self {
        Self {
            lookup,
            cache: LruCache::with_hasher(capacity, cache_hasher()),
            hits: 0,
            misses: 0,
            evictions: 0,
        }
    }

    /// Attaches reference data to a tick, from the in-process store. A stage whose store is a
    /// database looks misses up only in [`Stage::process`] (it must await them): here they are
    /// errors of kind `database_not_awaited`.
    #[inline]
    pub fn enrich(&mut self, tick: Tick) -> Result<EnrichedTick, StageError> {
        if let Some(hit) = self.cached(&tick) {
            return Ok(EnrichedTick {
                instrument: hit,
                tick,
            });
        }
        let found = match &self.lookup {
            Lookup::Memory(store) => store.fetch(&tick.symbol),
            Lookup::Database(_) => return Err(StageError::new("database_not_awaited")),
        };
        self.missed(tick, found)
    }

    #[inline]
    fn cached(&mut self, tick: &Tick) -> Option<Arc<Instrument>> {
        let hit = self.cache.get(&tick.symbol).map(Arc::clone);
        match hit {
            Some(_) => self.hits += 1,
            None => self.misses += 1,
        }
        hit
    }

    fn missed(&mut self, tick: Tick, found: Option<Instrument>) -> Result<EnrichedTick, StageError> {
        let instrument = Arc::new(found.ok_or_else(|| StageError::new("unknown_symbol"))?);
        if self.cache.push(tick.symbol, Arc::clone(&instrument)).is_some() {
            self.evictions += 1;
        }
        Ok(EnrichedTick { tick, instrument })
    }
}

impl Stage<Tick> for Enrich {
    type Out = EnrichedTick;

    async fn process(&mut self, tick: Tick) -> Result<EnrichedTick, StageError> {
        let pool = match &self.lookup {
            Lookup::Memory(_) => return self.enrich(tick),
            Lookup::Database(pool) => pool.clone(),
        };
        if let Some(hit) = self.cached(&tick) {
            return Ok(EnrichedTick {
                instrument: hit,
                tick,
            });
        }
        let rows = pool.query(REFERENCE_LOOKUP, &[&tick.symbol.as_str()]).await?;
        let found = rows
            .first()
            .and_then(|row| row.try_get::<_, &str>(0).ok())
            .and_then(parse_record);
        self.missed(tick, found)
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
