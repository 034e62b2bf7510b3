//! A complete, valid results file for documentation and tests: a real `cargo xtask bench
//! --limit` run on a 2-vCPU Xeon VM (2026-11-22), its lists and series cut short, with a made-up
//! overhead section so that every metric of the catalogue has a value.

use crate::Results;

impl Results {
    /// The example document (see the module docs): every section present, every figure valid.
    pub fn example() -> Self {
        serde_json::from_str(include_str!("example.json")).expect("the example results file is valid")
    }
}
