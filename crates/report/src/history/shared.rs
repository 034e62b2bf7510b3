//! The history in the shared results store (`perfgate_store`): a run's record written there
//! with its results, the runs of a branch and machine read back as a [`History`] (so the trend
//! analysis is the same code whatever the source), and the JSON Lines history moved in and out.

use std::path::PathBuf;

use perfgate_results::Results;
use perfgate_store::{Machine, NewRun, Recorded, RunFilter, Store, StoreError};

use super::record::HistoryRecord;
use super::store::{History, HistoryEntry};

/// Records the run `record` describes (with its whole `results`, when there are) in `store`;
/// the same record twice adds nothing the second time.
pub fn record_run(
    store: &mut Store,
    record: &HistoryRecord,
    results: Option<&Results>,
) -> Result<Recorded, StoreError> {
    let value = serde_json::to_value(record).expect("a history record serialises");
    let machine = Machine {
        host: record.host.clone(),
        cpu_model: record.cpu_model.clone(),
        logical_cores: record.logical_cores.and_then(|cores| i32::try_from(cores).ok()),
    };
    store.record_run(&NewRun {
        timestamp: &record.timestamp,
        git_commit: record.git_commit.as_deref(),
        git_dirty: record.git_dirty,
        branch: record.branch.as_deref(),
        machine: &machine,
        workload: record.workload.as_deref(),
        settings: record.settings.as_deref(),
        record: &value,
        results,
    })
}

/// The runs of `store` that match `filter`, oldest first, as a history: `path` is the store's
/// masked URL, `line` each run's place among those read (1 for the first), and a record this
/// version cannot read is skipped with a warning naming its id, as a bad line of a file is.
pub fn read(store: &mut Store, filter: &RunFilter) -> Result<History, StoreError> {
    let runs = store.runs(filter)?;
    let source = store.url().to_string();
    let (mut entries, mut warnings) = (Vec::with_capacity(runs.len()), Vec::new());
    for run in runs {
        let parsed = serde_json::from_value::<HistoryRecord>(run.record)
            .map_err(|error| format!("not a history record: {error}"))
            .and_then(|record| {
                humantime::parse_rfc3339(&record.timestamp)
                    .map(|time| (time, record))
                    .map_err(|_| "its timestamp is not RFC 3339 in UTC".to_owned())
            });
        match parsed {
            Ok((time, record)) => entries.push(HistoryEntry {
                line: entries.len() + 1,
                time,
                record,
            }),
            Err(problem) => warnings.push(format!("{source}: run {}: {problem}; run skipped", run.id)),
        }
    }
    Ok(History {
        path: PathBuf::from(source),
        entries,
        warnings,
    })
}

/// `history` with only the runs that match `filter` (a record without a branch or host matches
/// no filter on it); lines keep their numbers in the file.
pub fn filtered(mut history: History, filter: &RunFilter) -> History {
    let matches = |wanted: &Option<String>, got: &Option<String>| wanted.is_none() || wanted == got;
    history.entries.retain(|entry| {
        matches(&filter.branch, &entry.record.branch) && matches(&filter.host, &entry.record.host)
    });
    history
}

/// What [`import`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imported {
    /// Runs added.
    pub added: usize,
    /// Runs the store already had.
    pub already_there: usize,
}

/// Records every run of `history` in `store`, without results (a history line has none).
pub fn import(store: &mut Store, history: &History) -> Result<Imported, StoreError> {
    let mut imported = Imported::default();
    for entry in &history.entries {
        match record_run(store, &entry.record, None)? {
            Recorded::New(_) => imported.added += 1,
            Recorded::AlreadyThere(_) => imported.already_there += 1,
        }
    }
    Ok(imported)
}

/// The runs of `store` that match `filter` as JSON Lines (one record a line, oldest first) and
/// how many there are, with the warnings of records skipped.
pub fn export(store: &mut Store, filter: &RunFilter) -> Result<(String, usize, Vec<String>), StoreError> {
    let history = read(store, filter)?;
    let mut text = String::new();
    for entry in &history.entries {
        text.push_str(&serde_json::to_string(&entry.record).expect("a history record serialises"));
        text.push('\n');
    }
    Ok((text, history.entries.len(), history.warnings))
}
