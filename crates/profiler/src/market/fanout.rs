//! Stage 4, `fanout`: encodes each bar update once as a compact JSON frame, which the pipeline
//! then offers to every subscriber, like a WebSocket server sending one market-data frame to
//! many clients. Subscribers stand in for client connections.

use super::tick::{BarUpdate, write_price};
use crate::pipeline::{Stage, StageError, Subscriber};

/// An encoded update, shared by all subscribers of a batch.
pub type Frame = Vec<u8>;

/// Encodes bar updates into frames.
#[derive(Debug, Default, Clone, Copy)]
pub struct Encode;

impl Encode {
    /// Encodes one update, formatting integers only.
    #[inline]
    pub fn encode(update: &BarUpdate) -> Frame {
        let mut out = Vec::with_capacity(160);
        let mut numbers = itoa::Buffer::new();
        out.extend_from_slice(b"{\"s\":\"");
        out.extend_from_slice(update.symbol.as_str().as_bytes());
        out.extend_from_slice(b"\",\"q\":");
        out.extend_from_slice(numbers.format(update.seq).as_bytes());
        out.extend_from_slice(b",\"t\":");
        out.extend_from_slice(numbers.format(update.bar_start_ns).as_bytes());
        for (key, price) in [
            (&b",\"o\":"[..], update.open),
            (b",\"h\":", update.high),
            (b",\"l\":", update.low),
            (b",\"c\":", update.close),
            (b",\"w\":", update.vwap),
        ] {
            out.extend_from_slice(key);
            write_price(&mut out, price);
        }
        out.extend_from_slice(b",\"v\":");
        out.extend_from_slice(numbers.format(update.volume).as_bytes());
        out.extend_from_slice(b",\"n\":");
        out.extend_from_slice(numbers.format(update.trades).as_bytes());
        out.push(b'}');
        out
    }
}

impl Stage<BarUpdate> for Encode {
    type Out = Frame;

    async fn process(&mut self, update: BarUpdate) -> Result<Frame, StageError> {
        Ok(Self::encode(&update))
    }
}

/// A stand-in for one client connection: takes every frame as a socket writer would, counting
/// frames and bytes.
#[derive(Debug, Default, Clone)]
pub struct ClientConnection {
    /// Frames received.
    pub frames: u64,
    /// Bytes received.
    pub bytes: u64,
    checksum: u64,
}

impl ClientConnection {
    /// Takes one batch of frames.
    #[inline]
    pub fn take(&mut self, batch: &[Frame]) {
        for frame in batch {
            self.frames += 1;
            self.bytes += frame.len() as u64;
            // Reading the frame keeps the delivery honest (the bytes are fetched from memory)
            // without turning the subscriber into a checksum benchmark.
            let first = frame.first().copied().unwrap_or_default();
            self.checksum = self.checksum.rotate_left(5) ^ u64::from(first);
        }
    }
}

impl Subscriber<Frame> for ClientConnection {
    async fn deliver(&mut self, batch: &[Frame]) {
        self.take(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::symbol::Symbol;

    #[test]
    fn frames_are_compact_valid_json() {
        let update = BarUpdate {
            instrument_id: 1,
            symbol: Symbol::new("ABCD").unwrap(),
            seq: 42,
            bar_start_ns: 1_700_000_000_000_000_000,
            open: 10_0000,
            high: 12_5000,
            low: 9_0001,
            close: 11_0000,
            volume: 500,
            vwap: 11_0000,
            trades: 3,
        };
        let frame = Encode::encode(&update);
        let value: serde_json::Value = serde_json::from_slice(&frame).unwrap();
        assert_eq!(value["s"], "ABCD");
        assert_eq!(value["h"].as_f64(), Some(12.5));
        assert_eq!(value["l"].as_f64(), Some(9.0001));
        assert_eq!(value["v"], 500);
    }

    #[test]
    fn connection_counts_frames_and_bytes() {
        let mut connection = ClientConnection::default();
        connection.take(&[b"ab".to_vec(), b"cde".to_vec()]);
        assert_eq!((connection.frames, connection.bytes), (2, 5));
    }
}
