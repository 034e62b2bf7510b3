//! The synthetic feed: JSON trade ticks for a universe of symbols with Zipf popularity and a
//! random-walk price per symbol. Deterministic: the same seed and stream give the same bytes.
//! Cheap by construction (integers and fixed-point prices formatted with `itoa`, no float
//! formatting), so that a CPU profile shows the pipeline, not the generator.

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::settings::MarketConfig;
use super::symbol::Symbol;
use super::tick::{Exchange, PRICE_SCALE, PriceE4, RawTick, write_price};
use super::zipf::Zipf;
use crate::pipeline::Source;

/// Exchange time of the first tick, ns since the Unix epoch (2023-11-14T22:13:20Z).
const FEED_EPOCH_NS: u64 = 1_700_000_000_000_000_000;
/// Exchange time between consecutive ticks of the feed.
const FEED_SPACING_NS: u64 = 1_000;

/// One stream of the synthetic feed.
#[derive(Debug, Clone)]
pub struct TickSource {
    rng: Xoshiro256PlusPlus,
    zipf: Zipf,
    symbols: Vec<Symbol>,
    prices: Vec<PriceE4>,
    seq: u64,
    payload_bytes: usize,
    malformed_rate: f64,
    feed_channels: usize,
    /// `--inject-instructions`: iterations of the counted loop per message (0: none).
    extra_iterations: u64,
}

impl TickSource {
    /// Stream `stream` of the feed described by `config`. Stream 0 is the canonical one.
    pub fn new(config: &MarketConfig, stream: usize) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(
            config.seed ^ (stream as u64).wrapping_mul(0xA076_1D64_78BD_642F),
        );
        let symbols: Vec<Symbol> = (0..config.symbols)
            .map(|i| Symbol::for_index(i, config.symbols))
            .collect();
        let prices = (0..config.symbols)
            .map(|_| PRICE_SCALE * (5 + (rng.next_u64() % 495) as i64))
            .collect();
        Self {
            rng,
            zipf: Zipf::new(config.symbols, config.zipf),
            symbols,
            prices,
            seq: 0,
            payload_bytes: config.payload_bytes,
            malformed_rate: config.malformed_rate,
            feed_channels: config.feed_channels.max(1),
            extra_iterations: super::slowdown::iterations_for_instructions(config.inject_instructions),
        }
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Writes the next tick's JSON into `out`; returns its feed channel.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> u16 {
        let draw = self.uniform();
        let index = self.zipf.rank(draw);
        let bits = self.rng.next_u64();
        // One draw feeds several small choices: cheaper than one draw each.
        let step = (bits % 21) as i64 - 10;
        let lots = 1 + (bits >> 8) % 50;
        let exchange = Exchange::ALL[((bits >> 16) % 5) as usize];
        let side = if (bits >> 24) & 1 == 0 { "buy" } else { "sell" };
        let price = (self.prices[index] + step * 100).max(PRICE_SCALE);
        self.prices[index] = price;
        let seq = self.seq;
        self.seq += 1;

        let mut numbers = itoa::Buffer::new();
        out.extend_from_slice(b"{\"type\":\"trade\",\"seq\":");
        out.extend_from_slice(numbers.format(seq).as_bytes());
        out.extend_from_slice(b",\"symbol\":\"");
        out.extend_from_slice(self.symbols[index].as_str().as_bytes());
        out.extend_from_slice(b"\",\"exchange\":\"");
        out.extend_from_slice(exchange.code().as_bytes());
        out.extend_from_slice(b"\",\"side\":\"");
        out.extend_from_slice(side.as_bytes());
        out.extend_from_slice(b"\",\"price\":");
        write_price(out, price);
        out.extend_from_slice(b",\"qty\":");
        out.extend_from_slice(numbers.format(lots * 100).as_bytes());
        out.extend_from_slice(b",\"ts\":");
        out.extend_from_slice(numbers.format(FEED_EPOCH_NS + seq * FEED_SPACING_NS).as_bytes());
        out.extend_from_slice(b",\"trade_id\":\"T");
        out.extend_from_slice(numbers.format(seq * 7 + 1_000_000).as_bytes());
        out.extend_from_slice(b"\",\"conditions\":[\"@\",\"I\"]");
        // Padding brings the message to the configured size, as extra fields in a real feed
        // would: `,"pad":"` and the closing `"` and `}` are 10 bytes besides the x's.
        let unpadded_with_field = out.len() + 10;
        if self.payload_bytes > unpadded_with_field {
            out.extend_from_slice(b",\"pad\":\"");
            out.resize(out.len() + self.payload_bytes - unpadded_with_field, b'x');
            out.push(b'"');
        }
        out.push(b'}');

        if self.malformed_rate > 0.0 && self.uniform() < self.malformed_rate {
            // Cut mid-message: undecodable, as a truncated frame from the network would be.
            out.truncate(out.len() / 2);
        }
        (index % self.feed_channels) as u16
    }
}

impl Source for TickSource {
    type Item = RawTick;

    fn next_item(&mut self) -> RawTick {
        super::slowdown::burn_instructions(self.extra_iterations);
        let mut payload = Vec::with_capacity(self.payload_bytes.max(192));
        let channel = self.write_next(&mut payload);
        RawTick { channel, payload }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MarketConfig {
        MarketConfig::default()
    }

    #[test]
    fn prices_are_written_with_four_decimals() {
        let mut out = Vec::new();
        write_price(&mut out, 12_345_007);
        assert_eq!(out, b"1234.5007");
        out.clear();
        write_price(&mut out, 10_000);
        assert_eq!(out, b"1.0000");
    }

    #[test]
    fn same_seed_gives_the_same_stream_and_another_seed_does_not() {
        let take = |config: &MarketConfig, stream| {
            let mut source = TickSource::new(config, stream);
            (0..1_000).map(|_| source.next_item()).collect::<Vec<_>>()
        };
        let base = config();
        assert_eq!(take(&base, 0), take(&base, 0));
        assert_ne!(take(&base, 0), take(&base, 1));
        let other = MarketConfig {
            seed: base.seed + 1,
            ..base.clone()
        };
        assert_ne!(take(&base, 0), take(&other, 0));
    }

    #[test]
    fn messages_are_valid_json_of_the_configured_size() {
        let mut source = TickSource::new(&config(), 0);
        for _ in 0..1_000 {
            let message = source.next_item().payload;
            assert_eq!(message.len(), 200, "{}", String::from_utf8_lossy(&message));
            let value: serde_json::Value = serde_json::from_slice(&message).unwrap();
            assert_eq!(value["type"], "trade");
        }
    }

    #[test]
    fn small_payload_setting_leaves_messages_unpadded() {
        let config = MarketConfig {
            payload_bytes: 0,
            ..config()
        };
        let message = TickSource::new(&config, 0).next_item().payload;
        assert!(!message.windows(5).any(|w| w == b"\"pad\""));
        assert!(message.len() < 200);
    }

    #[test]
    fn malformed_rate_corrupts_about_that_share() {
        let config = MarketConfig {
            malformed_rate: 0.1,
            ..config()
        };
        let mut source = TickSource::new(&config, 0);
        let bad = (0..10_000)
            .filter(|_| serde_json::from_slice::<serde_json::Value>(&source.next_item().payload).is_err())
            .count();
        assert!((800..1_200).contains(&bad), "{bad} of 10,000 malformed");
    }

    #[test]
    fn popular_symbols_dominate() {
        let mut source = TickSource::new(&config(), 0);
        let top = source.symbols[0];
        let hits = (0..10_000)
            .filter(|_| {
                let message = source.next_item();
                let text = String::from_utf8(message.payload).unwrap();
                let is_top = text.contains(&format!("\"symbol\":\"{top}\""));
                if is_top {
                    assert_eq!(message.channel, 0, "rank 0 is on feed channel 0");
                }
                is_top
            })
            .count();
        // Rank 0 of 5,000 at s = 1.1 has probability about 0.16.
        assert!((1_300..1_900).contains(&hits), "{hits}");
    }
}
