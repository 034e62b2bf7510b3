//! The thresholds files the project ships parse in full, name only catalogue metrics, and gate
//! something: a typo in one of them would otherwise surface only when a user runs the report.

use std::path::Path;

use perfgate_report::Thresholds;

#[test]
fn every_shipped_thresholds_file_parses_and_gates_something() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../thresholds");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let thresholds = Thresholds::from_path(&path).unwrap_or_else(|error| panic!("{error}"));
        assert!(!thresholds.entries.is_empty(), "{} gates nothing", path.display());
        for threshold in &thresholds.entries {
            assert!(
                perfgate_results::metric(&threshold.id).is_some(),
                "{}: {} is not in the catalogue",
                path.display(),
                threshold.id
            );
        }
        files += 1;
    }
    assert!(
        files >= 3,
        "default.toml, ci.toml and loadtest.toml at least: {files}"
    );
}
