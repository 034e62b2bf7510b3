//! Ticker symbols as small inline values: hashing, comparing and copying them costs no
//! allocation, which matters when every message carries one.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// Longest symbol accepted.
pub const MAX_SYMBOL_LEN: usize = 11;

/// An ASCII ticker of up to [`MAX_SYMBOL_LEN`] bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    len: u8,
    bytes: [u8; MAX_SYMBOL_LEN],
}

impl Symbol {
    /// The symbol for `text`, if it is 1 to 11 bytes long.
    pub fn new(text: &str) -> Option<Self> {
        Self::from_ascii(text.as_bytes())
    }

    /// The symbol for `raw`, if it is 1 to 11 printable ASCII bytes.
    pub fn from_ascii(raw: &[u8]) -> Option<Self> {
        if raw.is_empty() || raw.len() > MAX_SYMBOL_LEN || !raw.iter().all(u8::is_ascii_graphic) {
            return None;
        }
        let mut bytes = [0; MAX_SYMBOL_LEN];
        bytes[..raw.len()].copy_from_slice(raw);
        Some(Self {
            len: raw.len() as u8,
            bytes,
        })
    }

    /// The symbol's text.
    pub fn as_str(&self) -> &str {
        // Only built from `&str`, so the bytes are valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("symbols are built from str")
    }

    /// The ticker of the `index`-th instrument of a universe of `universe` instruments: four
    /// letters while they suffice, more for larger universes. Distinct indices give distinct
    /// tickers, and neighbouring indices do not look alike.
    pub fn for_index(index: usize, universe: usize) -> Self {
        let mut letters = 4u32;
        while 26u64.pow(letters) < universe as u64 {
            letters += 1;
        }
        let space = 26u64.pow(letters);
        // 7919 is prime and coprime with 26^k, so this is a bijection on 0..space.
        let mut code = (index as u64).wrapping_mul(7919) % space;
        let mut text = [0u8; MAX_SYMBOL_LEN];
        for slot in text[..letters as usize].iter_mut().rev() {
            *slot = b'A' + (code % 26) as u8;
            code /= 26;
        }
        let text = std::str::from_utf8(&text[..letters as usize]).expect("ASCII letters");
        Self::new(text).expect("at most 11 letters")
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SymbolVisitor;
        impl Visitor<'_> for SymbolVisitor {
            type Value = Symbol;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a symbol of 1 to {MAX_SYMBOL_LEN} printable ASCII bytes")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Symbol, E> {
                self.visit_bytes(text.as_bytes())
            }
            fn visit_bytes<E: de::Error>(self, raw: &[u8]) -> Result<Symbol, E> {
                Symbol::from_ascii(raw).ok_or_else(|| E::invalid_value(de::Unexpected::Bytes(raw), &self))
            }
        }
        // Bytes rather than str: serde_json then skips UTF-8 validation, which `from_ascii`
        // makes unnecessary (it accepts printable ASCII only). Decoding is the pipeline's
        // heaviest step, so this is worth the few lines.
        deserializer.deserialize_bytes(SymbolVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tickers_are_unique_and_four_letters_for_small_universes() {
        let tickers: HashSet<_> = (0..5_000).map(|i| Symbol::for_index(i, 5_000)).collect();
        assert_eq!(tickers.len(), 5_000);
        assert!(tickers.iter().all(|t| t.as_str().len() == 4));
        assert_eq!(Symbol::for_index(0, 5_000).as_str(), "AAAA");
    }

    #[test]
    fn large_universes_get_longer_tickers() {
        let universe = 26usize.pow(4) + 1;
        assert_eq!(Symbol::for_index(0, universe).as_str().len(), 5);
    }

    #[test]
    fn symbols_round_trip_through_json_and_reject_long_text() {
        let symbol = Symbol::new("MSFT").unwrap();
        let json = serde_json::to_string(&symbol).unwrap();
        assert_eq!(json, "\"MSFT\"");
        assert_eq!(serde_json::from_str::<Symbol>(&json).unwrap(), symbol);
        assert!(serde_json::from_str::<Symbol>("\"ABCDEFGHIJKL\"").is_err());
        assert!(serde_json::from_str::<Symbol>("\"AB CD\"").is_err());
        assert!(serde_json::from_str::<Symbol>("\"Ä\"").is_err());
        let value = serde_json::json!("BRK.B");
        assert_eq!(serde_json::from_value::<Symbol>(value).unwrap().as_str(), "BRK.B");
        assert!(Symbol::new("").is_none());
    }
}
