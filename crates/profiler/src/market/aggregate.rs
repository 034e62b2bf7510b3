//! Stage 3, `aggregate`: per-instrument OHLCV bars and VWAP over fixed intervals of exchange
//! time. Keyed by instrument, so with several workers each instrument's bar lives in one worker.

use super::tick::{BarUpdate, EnrichedTick, PriceE4};
use crate::pipeline::{Counter, Stage, StageError};

#[derive(Debug, Clone, Default)]
struct Bar {
    start_ns: u64,
    open: PriceE4,
    high: PriceE4,
    low: PriceE4,
    close: PriceE4,
    volume: u64,
    /// Sum of price × quantity, for VWAP; i128 cannot overflow for any realistic bar.
    notional: i128,
    trades: u32,
}

/// Builds bars; emits the current bar after every tick.
#[derive(Debug)]
pub struct Aggregate {
    interval_ns: u64,
    /// Indexed by instrument id (dense ids), `None` until the instrument trades.
    bars: Vec<Option<Bar>>,
    bars_closed: u64,
}

impl Aggregate {
    /// Bars of `interval_ns` nanoseconds of exchange time.
    pub fn new(interval_ns: u64) -> Self {
        Self {
            interval_ns: interval_ns.max(1),
            bars: Vec::new(),
            bars_closed: 0,
        }
    }

    /// Folds a tick into its instrument's bar.
    #[inline]
    pub fn aggregate(&mut self, enriched: &EnrichedTick) -> BarUpdate {
        let tick = &enriched.tick;
        let id = enriched.instrument.id as usize;
        if id >= self.bars.len() {
            self.bars.resize(id + 1, None);
        }
        let start_ns = tick.ts - tick.ts % self.interval_ns;
        let slot = &mut self.bars[id];
        match slot {
            Some(bar) if bar.start_ns == start_ns => {
                bar.high = bar.high.max(tick.price);
                bar.low = bar.low.min(tick.price);
                bar.close = tick.price;
                bar.volume += tick.qty;
                bar.notional += i128::from(tick.price) * i128::from(tick.qty);
                bar.trades += 1;
            }
            _ => {
                if slot.is_some() {
                    self.bars_closed += 1;
                }
                *slot = Some(Bar {
                    start_ns,
                    open: tick.price,
                    high: tick.price,
                    low: tick.price,
                    close: tick.price,
                    volume: tick.qty,
                    notional: i128::from(tick.price) * i128::from(tick.qty),
                    trades: 1,
                });
            }
        }
        let bar = slot.as_ref().expect("set above");
        BarUpdate {
            instrument_id: enriched.instrument.id,
            symbol: tick.symbol,
            seq: tick.seq,
            bar_start_ns: bar.start_ns,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            vwap: if bar.volume == 0 {
                bar.close
            } else {
                (bar.notional / i128::from(bar.volume)) as PriceE4
            },
            trades: bar.trades,
        }
    }
}

impl Stage<EnrichedTick> for Aggregate {
    type Out = BarUpdate;

    async fn process(&mut self, enriched: EnrichedTick) -> Result<BarUpdate, StageError> {
        Ok(self.aggregate(&enriched))
    }

    fn counters(&self) -> Vec<Counter> {
        vec![Counter::new("bars_closed", self.bars_closed)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::symbol::Symbol;
    use crate::market::tick::{Exchange, Instrument, Side, Tick};
    use std::sync::Arc;

    fn enriched(instrument: &Arc<Instrument>, ts: u64, price: PriceE4, qty: u64) -> EnrichedTick {
        EnrichedTick {
            tick: Tick {
                seq: ts,
                symbol: instrument.symbol,
                exchange: Exchange::XNAS,
                side: Side::Sell,
                price,
                qty,
                ts,
            },
            instrument: Arc::clone(instrument),
        }
    }

    #[test]
    fn builds_ohlcv_and_vwap_and_rolls_bars_on_interval() {
        let instrument = Arc::new(Instrument {
            id: 3,
            symbol: Symbol::new("ABCD").unwrap(),
            name: String::new(),
            sector: String::new(),
            currency: "USD".into(),
            lot_size: 100,
            tick_size: 100,
        });
        let mut stage = Aggregate::new(1_000);
        stage.aggregate(&enriched(&instrument, 100, 10_0000, 100));
        stage.aggregate(&enriched(&instrument, 200, 12_0000, 300));
        let update = stage.aggregate(&enriched(&instrument, 900, 9_0000, 100));
        assert_eq!(
            (update.open, update.high, update.low, update.close),
            (10_0000, 12_0000, 9_0000, 9_0000)
        );
        assert_eq!(update.volume, 500);
        assert_eq!(update.trades, 3);
        // (10 × 100 + 12 × 300 + 9 × 100) / 500 = 11.0
        assert_eq!(update.vwap, 11_0000);
        let next = stage.aggregate(&enriched(&instrument, 1_000, 11_0000, 100));
        assert_eq!((next.bar_start_ns, next.open, next.trades), (1_000, 11_0000, 1));
        assert_eq!(stage.bars_closed, 1);
    }
}
