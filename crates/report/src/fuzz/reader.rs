//! The readers the fuzzer feeds, and the format of the files each reads.

/// One reader of a file an attacker or a broken tool could hand the report, as the command line
/// reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reader {
    /// `--results`: perfgate's `results.json` (`load_results`).
    Results,
    /// `--results` with the older tool's `performance_results.json` (`load_results`, seeded with
    /// that format so mutations stay near its reader).
    Legacy,
    /// `--baseline`: a results file read as the run to compare with.
    Baseline,
    /// `--thresholds`: `thresholds/*.toml` (`Thresholds::from_path`).
    Thresholds,
    /// `--history`: the benchmark history, JSON Lines (`history::read`).
    History,
    /// `--locust`: Locust's final JSON (`--json-file`).
    LocustJson,
    /// `--locust`: Locust's `_stats.csv`, alone.
    LocustCsv,
    /// `--locust`: Locust's `_stats_history.csv`, beside a valid JSON and `_stats.csv`.
    LocustHistoryCsv,
    /// `--locust`: Locust's `_failures.csv`, beside a valid JSON and `_stats.csv`.
    LocustFailuresCsv,
    /// `--oha`: oha's JSON (`OhaSpec::parse`, `load_oha`).
    Oha,
}

/// How a reader's input is written, which decides the structure-aware mutations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document.
    Json,
    /// JSON Lines.
    JsonLines,
    /// TOML.
    Toml,
    /// CSV with a header line.
    Csv,
}

impl Reader {
    /// Every reader, in the order a run cycles through them.
    pub const ALL: [Reader; 10] = [
        Reader::Results,
        Reader::Legacy,
        Reader::Baseline,
        Reader::Thresholds,
        Reader::History,
        Reader::LocustJson,
        Reader::LocustCsv,
        Reader::LocustHistoryCsv,
        Reader::LocustFailuresCsv,
        Reader::Oha,
    ];

    /// The reader's name on the command line (`--reader`) and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Reader::Results => "results",
            Reader::Legacy => "legacy",
            Reader::Baseline => "baseline",
            Reader::Thresholds => "thresholds",
            Reader::History => "history",
            Reader::LocustJson => "locust-json",
            Reader::LocustCsv => "locust-csv",
            Reader::LocustHistoryCsv => "locust-history-csv",
            Reader::LocustFailuresCsv => "locust-failures-csv",
            Reader::Oha => "oha",
        }
    }

    /// The reader named `name` ([`Reader::name`]).
    pub fn from_name(name: &str) -> Option<Reader> {
        Reader::ALL.into_iter().find(|reader| reader.name() == name)
    }

    /// The format of its input.
    pub fn format(self) -> Format {
        match self {
            Reader::Results | Reader::Legacy | Reader::Baseline | Reader::LocustJson | Reader::Oha => {
                Format::Json
            }
            Reader::History => Format::JsonLines,
            Reader::Thresholds => Format::Toml,
            Reader::LocustCsv | Reader::LocustHistoryCsv | Reader::LocustFailuresCsv => Format::Csv,
        }
    }

    /// Its position in [`Reader::ALL`].
    pub fn index(self) -> usize {
        Reader::ALL
            .iter()
            .position(|reader| *reader == self)
            .expect("ALL lists every reader")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        for (index, reader) in Reader::ALL.into_iter().enumerate() {
            assert_eq!(Reader::from_name(reader.name()), Some(reader));
            assert_eq!(reader.index(), index);
        }
        assert_eq!(Reader::from_name("nope"), None);
    }
}
