//! Stage 1, `decode`: JSON bytes into a typed [`Tick`]. Undecodable input is rejected as
//! `malformed`, never a panic.

use super::tick::{RawTick, Tick};
use crate::pipeline::{Stage, StageError};

/// Parses raw JSON ticks.
#[derive(Debug, Default, Clone, Copy)]
pub struct Decode;

impl Decode {
    /// Decodes one message.
    #[inline]
    pub fn decode(raw: &[u8]) -> Result<Tick, StageError> {
        serde_json::from_slice(raw).map_err(|_| StageError::new("malformed"))
    }
}

impl Stage<RawTick> for Decode {
    type Out = Tick;

    async fn process(&mut self, raw: RawTick) -> Result<Tick, StageError> {
        Self::decode(&raw.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::generator::TickSource;
    use crate::market::settings::MarketConfig;
    use crate::market::tick::{Exchange, Side};
    use crate::pipeline::Source;

    #[test]
    fn decodes_generated_ticks_and_rejects_broken_ones() {
        let mut source = TickSource::new(&MarketConfig::default(), 0);
        let raw = source.next_item().payload;
        let tick = Decode::decode(&raw).unwrap();
        assert_eq!(tick.seq, 0);
        assert!(tick.price >= 10_000);
        assert_eq!(
            Decode::decode(&raw[..raw.len() / 2]).unwrap_err().kind(),
            "malformed"
        );
        assert_eq!(
            Decode::decode(b"{\"seq\":\"x\"}").unwrap_err().kind(),
            "malformed"
        );
        let negative =
            br#"{"seq":1,"symbol":"AB","exchange":"XNAS","side":"buy","price":-1.0,"qty":1,"ts":1}"#;
        assert_eq!(Decode::decode(negative).unwrap_err().kind(), "malformed");
        let venue = br#"{"seq":1,"symbol":"AB","exchange":"XXXX","side":"buy","price":1.0,"qty":1,"ts":1}"#;
        assert_eq!(Decode::decode(venue).unwrap_err().kind(), "malformed");
        let side = br#"{"seq":1,"symbol":"AB","exchange":"XNYS","side":"short","price":1.0,"qty":1,"ts":1}"#;
        assert_eq!(Decode::decode(side).unwrap_err().kind(), "malformed");
        let good = br#"{"seq":1,"symbol":"AB","exchange":"XNYS","side":"sell","price":1.5,"qty":1,"ts":1}"#;
        let tick = Decode::decode(good).unwrap();
        assert_eq!(
            (tick.exchange, tick.side, tick.price),
            (Exchange::XNYS, Side::Sell, 15_000)
        );
    }
}
