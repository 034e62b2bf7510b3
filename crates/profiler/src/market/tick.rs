//! The messages of the market-data pipeline, stage by stage. Prices are fixed-point integers
//! (1/10,000 of a currency unit), as trading systems keep them: exact sums and cheap formatting.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

use super::symbol::Symbol;

/// Price in units of 0.0001.
pub type PriceE4 = i64;

/// Scale of [`PriceE4`].
pub const PRICE_SCALE: i64 = 10_000;

/// Where a trade printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Exchange {
    XNAS,
    XNYS,
    ARCX,
    BATS,
    IEXG,
}

impl Exchange {
    /// All venues, in the order the generator indexes them.
    pub const ALL: [Exchange; 5] = [
        Exchange::XNAS,
        Exchange::XNYS,
        Exchange::ARCX,
        Exchange::BATS,
        Exchange::IEXG,
    ];

    /// The venue's MIC code.
    pub fn code(self) -> &'static str {
        match self {
            Exchange::XNAS => "XNAS",
            Exchange::XNYS => "XNYS",
            Exchange::ARCX => "ARCX",
            Exchange::BATS => "BATS",
            Exchange::IEXG => "IEXG",
        }
    }
}

/// Aggressor side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Side {
    Buy,
    Sell,
}

/// A message as it arrives from the feed: its bytes, and the feed channel it arrived on.
/// Exchanges split their feeds into channels by symbol (multicast groups), so the channel is
/// known before decoding; the pipeline uses it to decode in parallel while keeping every
/// symbol's ticks in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTick {
    /// Feed channel, `symbol index % feed channels`.
    pub channel: u16,
    /// The JSON bytes.
    pub payload: Vec<u8>,
}

/// A decoded trade tick. Fields of the JSON that are not listed here are skipped.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tick {
    /// Sequence number of the feed.
    pub seq: u64,
    /// Instrument.
    pub symbol: Symbol,
    /// Venue.
    pub exchange: Exchange,
    /// Aggressor side.
    pub side: Side,
    /// Trade price.
    #[serde(deserialize_with = "price_from_decimal")]
    pub price: PriceE4,
    /// Shares traded.
    pub qty: u64,
    /// Exchange timestamp, ns since the Unix epoch.
    pub ts: u64,
}

fn price_from_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PriceE4, D::Error> {
    let price = f64::deserialize(deserializer)?;
    if !(price.is_finite() && price > 0.0) {
        return Err(serde::de::Error::custom("price must be a positive number"));
    }
    Ok((price * PRICE_SCALE as f64).round() as PriceE4)
}

/// Writes a fixed-point price as a decimal with four places, without float formatting.
pub(crate) fn write_price(out: &mut Vec<u8>, price: PriceE4) {
    let mut numbers = itoa::Buffer::new();
    if price < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(numbers.format((price / PRICE_SCALE).unsigned_abs()).as_bytes());
    out.push(b'.');
    let fraction = (price % PRICE_SCALE).unsigned_abs();
    out.extend_from_slice(&[
        b'0' + (fraction / 1000) as u8,
        b'0' + (fraction / 100 % 10) as u8,
        b'0' + (fraction / 10 % 10) as u8,
        b'0' + (fraction % 10) as u8,
    ]);
}

/// Reference data of an instrument, as the reference store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Dense numeric id, `0..symbols`.
    pub id: u32,
    /// Ticker.
    pub symbol: Symbol,
    /// Issuer name.
    pub name: String,
    /// Industry sector.
    pub sector: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Shares per round lot.
    pub lot_size: u32,
    /// Minimum price increment, in 0.0001 units.
    pub tick_size: PriceE4,
}

/// A tick with its instrument's reference data.
#[derive(Debug, Clone)]
pub struct EnrichedTick {
    /// The tick.
    pub tick: Tick,
    /// Its instrument, shared with the cache.
    pub instrument: Arc<Instrument>,
}

/// The state of an instrument's current bar after a tick: what subscribers are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarUpdate {
    /// Instrument id.
    pub instrument_id: u32,
    /// Ticker.
    pub symbol: Symbol,
    /// Sequence number of the tick that caused the update.
    pub seq: u64,
    /// Start of the bar, exchange time, ns since the Unix epoch.
    pub bar_start_ns: u64,
    /// First price of the bar.
    pub open: PriceE4,
    /// Highest price.
    pub high: PriceE4,
    /// Lowest price.
    pub low: PriceE4,
    /// Last price.
    pub close: PriceE4,
    /// Shares traded in the bar.
    pub volume: u64,
    /// Volume-weighted average price of the bar.
    pub vwap: PriceE4,
    /// Trades in the bar.
    pub trades: u32,
}
