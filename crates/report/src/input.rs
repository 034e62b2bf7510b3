//! Reads a results file into [`RunData`]: perfgate's `results.json` (any supported
//! `schema_version`) or the older Python tool's `performance_results.json`. Every number is
//! checked on the way in, so that later stages never meet a string where a number belongs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{ReportError, Result};

/// `schema_version`s of perfgate results this report reads.
pub const SUPPORTED_SCHEMA_VERSIONS: &[u64] = &[1];

/// Which tool wrote a results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFormat {
    /// perfgate's `results.json`.
    Perfgate {
        /// Its `schema_version`.
        schema_version: u64,
    },
    /// The older Python tool's `performance_results.json`.
    Legacy,
    /// No results file: a report on load tests alone.
    LoadTestsOnly,
}

/// One function of a CPU profile.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRow {
    /// Its name.
    pub function: String,
    /// Share of samples in it, % (perfgate only).
    pub self_percent: Option<f64>,
    /// Share of samples with it on the stack, % (perfgate only).
    pub inclusive_percent: Option<f64>,
    /// CPU seconds in it and its callees.
    pub cumtime: Option<f64>,
}

/// One pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// Stage name.
    pub name: String,
    /// Workers.
    pub workers: u64,
    /// Median per-message service time, µs.
    pub service_p50_us: Option<f64>,
    /// 99th percentile service time, µs.
    pub service_p99_us: Option<f64>,
    /// Longest per-message service time, µs.
    pub service_max_us: Option<f64>,
    /// Busy time over the window, per worker.
    pub busy_ratio: Option<f64>,
    /// 99th percentile of messages waiting for it.
    pub queue_p99: Option<f64>,
    /// Messages its input channels hold.
    pub queue_capacity: Option<f64>,
    /// Messages it rejected.
    pub errors: u64,
}

/// Database figures of older files.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// Connection status as reported.
    pub status: Option<String>,
}

/// Where and how a run was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// When, RFC 3339.
    pub timestamp: Option<String>,
    /// Git commit and whether the tree was dirty.
    pub git_commit: Option<String>,
    /// Uncommitted changes present.
    pub git_dirty: Option<bool>,
    /// Compiler.
    pub rustc: Option<String>,
    /// `release` or `debug`.
    pub build_profile: Option<String>,
    /// CPU model.
    pub cpu_model: Option<String>,
    /// Logical cores.
    pub logical_cores: Option<u64>,
    /// Operating system.
    pub os: Option<String>,
    /// The machine's host name.
    pub hostname: Option<String>,
    /// Workload settings, as written.
    pub workload: Value,
    /// Run settings, as written.
    pub run: Value,
    /// Per phase, in the order run: the share of the machine's CPU the hypervisor took during
    /// the phase's window, percent.
    pub host_steal_pct: Vec<(String, f64)>,
}

/// A time series as the profiler writes it: sample times and value columns of the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Sample times from the start of the phase's measured window, ms.
    pub t_ms: Vec<f64>,
    /// Value columns by name (`live_mb`, `lag_max_ms`, `rss_mb`, ...), each as long as `t_ms`;
    /// a `null` sample is NaN.
    pub columns: BTreeMap<String, Vec<f64>>,
}

impl Series {
    /// Whether it has no sample.
    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }

    /// A column as `(t_ms, value)` pairs; empty if the series has no such column.
    pub fn points(&self, column: &str) -> Vec<(f64, f64)> {
        self.columns.get(column).map_or_else(Vec::new, |values| {
            self.t_ms.iter().copied().zip(values.iter().copied()).collect()
        })
    }

    /// A counter column as a rate per second: its increase over each interval divided by the
    /// interval's length, at the interval's end. Intervals of no length, and decreases (a reset),
    /// give no point.
    pub fn rate(&self, column: &str) -> Vec<(f64, f64)> {
        self.points(column)
            .windows(2)
            .filter_map(|pair| {
                let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
                let seconds = (t1 - t0) / 1_000.0;
                (seconds > 0.0 && v1 >= v0).then(|| (t1, (v1 - v0) / seconds))
            })
            .collect()
    }
}

/// The time series of one phase's measured window (`phases.<name>.{memory,asyncio,runtime}.series`,
/// or the top-level sections' in files without per-phase ones).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSeries {
    /// The phase: `saturation`, `fixed_rate`, ...
    pub phase: String,
    /// The heap probe's: `live_mb`, `resident_mb`, `messages` (finished so far).
    pub memory: Series,
    /// The lag probe's: `lag_max_ms` (longest poll per interval).
    pub asyncio: Series,
    /// The runtime probe's: `alive_tasks`, `global_queue_depth`, `worker_busy_ratio`,
    /// `parks_per_second`, `process_cpu_percent`, `rss_mb`, `threads`.
    pub runtime: Series,
    /// Heap in use when the window started, MiB.
    pub heap_baseline_mb: Option<f64>,
    /// Highest heap in use during the window (the true peak, not the samples' maximum), MiB.
    pub heap_peak_mb: Option<f64>,
}

impl PhaseSeries {
    fn new(phase: &str) -> Self {
        PhaseSeries {
            phase: phase.to_owned(),
            memory: Series::default(),
            asyncio: Series::default(),
            runtime: Series::default(),
            heap_baseline_mb: None,
            heap_peak_mb: None,
        }
    }

    /// Whether no probe left a series.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.asyncio.is_empty() && self.runtime.is_empty()
    }
}

/// A results file, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// The file read.
    pub source: PathBuf,
    /// Which tool wrote it.
    pub format: InputFormat,
    /// Every known metric present in the file, by id.
    pub metrics: BTreeMap<String, f64>,
    /// Where and how the run was made (perfgate files).
    pub environment: Option<Environment>,
    /// Functions by inclusive time (or the older `top_functions`, by `cumtime`).
    pub top_functions: Vec<FunctionRow>,
    /// Functions by self time.
    pub hot_functions: Vec<FunctionRow>,
    /// Pipeline stages in order.
    pub stages: Vec<StageRow>,
    /// Rejected messages by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Whether the heap probe suspected a leak.
    pub leak_suspected: Option<bool>,
    /// Busy share of each runtime worker during the latency phase.
    pub worker_busy: Vec<f64>,
    /// Cache capacity the workload ran with.
    pub cache_capacity: Option<u64>,
    /// Database section of older files.
    pub database: Option<Database>,
    /// Files beside the results, by kind (`flamegraph`, `pprof`, `heap_profile`), as paths
    /// relative to the results file's directory.
    pub files: BTreeMap<String, String>,
    /// The run's own warnings.
    pub warnings: Vec<String>,
    /// `--repeat N`: each repetition's key figures by metric id (empty for a single run).
    pub repetitions: Vec<BTreeMap<String, f64>>,
    /// The probes' time series per phase, in the order phases run (empty in older files).
    pub series: Vec<PhaseSeries>,
}

impl RunData {
    /// The stand-in for a report without a results file (load tests only): no metrics, no
    /// in-process sections.
    pub fn load_tests_only() -> Self {
        Reader {
            path: Path::new(""),
            root: &Value::Null,
        }
        .empty(InputFormat::LoadTestsOnly)
    }

    /// Whether an in-process run (perfgate's or the older tool's) was read.
    pub fn has_run(&self) -> bool {
        self.format != InputFormat::LoadTestsOnly
    }
}

/// Reads and normalises a results file.
pub fn load_results(path: &Path) -> Result<RunData> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::read(path, source))?;
    parse_results(path, &text)
}

/// Normalises results text read from `path`.
pub fn parse_results(path: &Path, text: &str) -> Result<RunData> {
    let value: Value = serde_json::from_str(text).map_err(|error| ReportError::json(path, &error))?;
    let reader = Reader { path, root: &value };
    if !value.is_object() {
        return Err(ReportError::invalid(
            path,
            "/",
            "expected a JSON object at the top level",
        ));
    }
    match value.get("schema_version") {
        Some(version) => {
            let version = version.as_u64().ok_or_else(|| {
                ReportError::invalid(
                    path,
                    "/schema_version",
                    format!("expected a whole number, found {version}"),
                )
            })?;
            if !SUPPORTED_SCHEMA_VERSIONS.contains(&version) {
                return Err(ReportError::invalid(
                    path,
                    "/schema_version",
                    format!(
                        "schema version {version} is not supported (this report reads {})",
                        SUPPORTED_SCHEMA_VERSIONS
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            reader.perfgate(version)
        }
        None if value.get("cpu").is_some_and(Value::is_object) => reader.legacy(),
        None => Err(ReportError::invalid(
            path,
            "/",
            "neither perfgate results (no `schema_version`) nor a performance_results.json (no `cpu` section)",
        )),
    }
}

struct Reader<'a> {
    path: &'a Path,
    root: &'a Value,
}

impl Reader<'_> {
    /// A number at `pointer`: `None` if absent or null, an error if anything else.
    fn number(&self, pointer: &str) -> Result<Option<f64>> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => Ok(number.as_f64()),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected a number, found {}", kind(other)),
            )),
        }
    }

    /// `phases.<name>.host_steal_pct` of every phase that has one.
    fn host_steal(&self) -> Result<Vec<(String, f64)>> {
        let Some(phases) = self.root.get("phases").and_then(Value::as_object) else {
            return Ok(Vec::new());
        };
        let mut steal = Vec::new();
        for name in phases.keys() {
            let pointer = format!(
                "/phases/{}/host_steal_pct",
                name.replace('~', "~0").replace('/', "~1")
            );
            if let Some(pct) = self.number(&pointer)? {
                steal.push((name.clone(), pct));
            }
        }
        // The profiler runs saturation, then fixed rate; the JSON object keeps no order.
        steal.sort_by_key(|(name, _)| {
            ["saturation", "fixed_rate"]
                .iter()
                .position(|run| run == name)
                .unwrap_or(usize::MAX)
        });
        Ok(steal)
    }

    fn string(&self, pointer: &str) -> Result<Option<String>> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    fn boolean(&self, pointer: &str) -> Result<Option<bool>> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected true or false, found {}", kind(other)),
            )),
        }
    }

    fn array(&self, pointer: &str) -> Result<&[Value]> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected a list, found {}", kind(other)),
            )),
        }
    }

    fn collect(&self, metrics: &mut BTreeMap<String, f64>, pairs: &[(&str, &str)]) -> Result<()> {
        for (id, pointer) in pairs {
            debug_assert!(crate::metric::metric(id).is_some(), "{id} is registered");
            if let Some(value) = self.number(pointer)? {
                metrics.insert((*id).to_owned(), value);
            }
        }
        Ok(())
    }

    fn functions(&self, pointer: &str) -> Result<Vec<FunctionRow>> {
        let mut rows = Vec::new();
        for (index, _) in self.array(pointer)?.iter().enumerate() {
            let at = |field: &str| format!("{pointer}/{index}/{field}");
            let function = self.string(&at("function"))?.ok_or_else(|| {
                ReportError::invalid(self.path, at("function"), "missing the function name")
            })?;
            rows.push(FunctionRow {
                function,
                self_percent: self.number(&at("self_percent"))?,
                inclusive_percent: self.number(&at("inclusive_percent"))?,
                cumtime: self.number(&at("cumtime"))?,
            });
        }
        Ok(rows)
    }

    fn empty(&self, format: InputFormat) -> RunData {
        RunData {
            source: self.path.to_owned(),
            format,
            metrics: BTreeMap::new(),
            environment: None,
            top_functions: Vec::new(),
            hot_functions: Vec::new(),
            stages: Vec::new(),
            errors_by_kind: BTreeMap::new(),
            leak_suspected: None,
            worker_busy: Vec::new(),
            cache_capacity: None,
            database: None,
            files: BTreeMap::new(),
            warnings: Vec::new(),
            repetitions: Vec::new(),
            series: Vec::new(),
        }
    }

    fn perfgate(&self, schema_version: u64) -> Result<RunData> {
        let mut run = self.empty(InputFormat::Perfgate { schema_version });
        self.collect(
            &mut run.metrics,
            &[
                ("cpu.messages_per_second", "/cpu/messages_per_second"),
                ("cpu.avg_latency_ms", "/cpu/avg_latency_ms"),
                ("cpu.cpu_ns_per_message", "/cpu/cpu_ns_per_message"),
                ("cpu.total_time", "/cpu/total_time"),
                ("cpu.message_count", "/cpu/message_count"),
                ("cpu.utilisation_percent", "/cpu/utilisation_percent"),
                ("latency.p50_ms", "/latency/p50_ms"),
                ("latency.p90_ms", "/latency/p90_ms"),
                ("latency.p95_ms", "/latency/p95_ms"),
                ("latency.p99_ms", "/latency/p99_ms"),
                ("latency.p999_ms", "/latency/p999_ms"),
                ("latency.max_ms", "/latency/max_ms"),
                ("latency.rate_per_second", "/latency/rate_per_second"),
                ("pipeline.efficiency", "/pipeline/efficiency"),
                ("limit.messages_per_second", "/limit/messages_per_second"),
                ("memory.baseline_mb", "/memory/baseline_mb"),
                ("memory.peak_mb", "/memory/peak_mb"),
                ("memory.delta_mb", "/memory/delta_mb"),
                ("memory.final_mb", "/memory/final_mb"),
                ("memory.resident_mb", "/memory/resident_mb"),
                (
                    "memory.bytes_allocated_per_message",
                    "/memory/bytes_allocated_per_message",
                ),
                (
                    "memory.allocations_per_message",
                    "/memory/allocations_per_message",
                ),
                ("memory.leak_bytes_per_message", "/memory/leak/bytes_per_message"),
                ("asyncio.event_loop_lag_ms", "/asyncio/event_loop_lag_ms"),
                ("asyncio.lag_max_ms", "/asyncio/lag/max_ms"),
                ("asyncio.slow_polls", "/asyncio/slow_polls"),
                ("asyncio.active_tasks", "/asyncio/active_tasks"),
                ("cache.hit_rate", "/cache/hit_rate"),
                ("errors.total", "/errors/total"),
                ("fanout.dropped", "/fanout/dropped"),
                ("fanout.lagged", "/fanout/lagged"),
                ("process.peak_rss_mb", "/process/peak_rss_mb"),
                (
                    "profiler.overhead_throughput_ratio",
                    "/profiler/overhead/throughput_ratio",
                ),
                (
                    "profiler.overhead_cpu_ratio",
                    "/profiler/overhead/cpu_per_message_ratio",
                ),
            ],
        )?;
        // The median over pairs of each pair's p99 ratio, which one host episode cannot decide;
        // results written before it existed have only the pooled ratio.
        let p99_overhead = match self.number("/profiler/overhead/p99_pair_ratio_median")? {
            Some(median) => Some(median),
            None => self.number("/profiler/overhead/p99_ratio")?,
        };
        if let Some(ratio) = p99_overhead {
            run.metrics
                .insert("profiler.overhead_p99_ratio".to_owned(), ratio);
        }
        if let (Some(errors), Some(generated)) =
            (self.number("/errors/total")?, self.number("/pipeline/generated")?)
            && generated > 0.0
        {
            run.metrics
                .insert("error_rate.percent".to_owned(), errors / generated * 100.0);
        }
        run.environment = Some(Environment {
            timestamp: self.string("/environment/timestamp")?,
            git_commit: self.string("/environment/git_commit")?,
            git_dirty: self.boolean("/environment/git_dirty")?,
            rustc: self.string("/environment/rustc")?,
            build_profile: self.string("/environment/build_profile")?,
            cpu_model: self.string("/environment/cpu_model")?,
            logical_cores: self
                .number("/environment/logical_cores")?
                .map(|cores| cores as u64),
            os: self.string("/environment/os")?,
            hostname: self.string("/environment/hostname")?,
            workload: self
                .root
                .pointer("/environment/workload")
                .cloned()
                .unwrap_or(Value::Null),
            run: self
                .root
                .pointer("/environment/run")
                .cloned()
                .unwrap_or(Value::Null),
            host_steal_pct: self.host_steal()?,
        });
        run.top_functions = self.functions("/cpu/top_functions")?;
        run.hot_functions = self.functions("/cpu/hot_functions")?;
        if let Some(stages) = self.root.get("stages") {
            let Some(stages) = stages.as_object() else {
                return Err(ReportError::invalid(
                    self.path,
                    "/stages",
                    "expected an object of stages",
                ));
            };
            for name in stages.keys() {
                let at = |field: &str| format!("/stages/{}/{field}", escape_pointer(name));
                run.stages.push(StageRow {
                    name: name.clone(),
                    workers: self.number(&at("workers"))?.unwrap_or(1.0) as u64,
                    service_p50_us: self.number(&at("service_time/p50_us"))?,
                    service_p99_us: self.number(&at("service_time/p99_us"))?,
                    service_max_us: self.number(&at("service_time/max_us"))?,
                    busy_ratio: self.number(&at("busy_ratio"))?,
                    queue_p99: self.number(&at("queue_depth/p99"))?,
                    queue_capacity: self.number(&at("queue_capacity"))?,
                    errors: self.number(&at("errors"))?.unwrap_or(0.0) as u64,
                });
            }
            // The file keeps pipeline order; serde_json's map does not, the index does.
            let mut indexed: Vec<(f64, StageRow)> = Vec::new();
            for stage in run.stages.drain(..) {
                let index = self
                    .number(&format!("/stages/{}/index", escape_pointer(&stage.name)))?
                    .unwrap_or(f64::MAX);
                indexed.push((index, stage));
            }
            indexed.sort_by(|a, b| a.0.total_cmp(&b.0));
            run.stages = indexed.into_iter().map(|(_, stage)| stage).collect();
        }
        if let Some(kinds) = self.root.pointer("/errors/by_kind").and_then(Value::as_object) {
            for kind_name in kinds.keys() {
                let pointer = format!("/errors/by_kind/{}", escape_pointer(kind_name));
                if let Some(count) = self.number(&pointer)? {
                    run.errors_by_kind.insert(kind_name.clone(), count as u64);
                }
            }
        }
        run.leak_suspected = self.boolean("/memory/leak_suspected")?;
        for (index, _) in self.array("/runtime/per_worker")?.iter().enumerate() {
            if let Some(busy) = self.number(&format!("/runtime/per_worker/{index}/busy_ratio"))? {
                run.worker_busy.push(busy);
            }
        }
        run.cache_capacity = self
            .number("/environment/workload/cache_capacity")?
            .map(|c| c as u64);
        if let Some(files) = self.root.get("files").and_then(Value::as_object) {
            for kind_name in files.keys() {
                if let Some(file) = self.string(&format!("/files/{}", escape_pointer(kind_name)))? {
                    run.files.insert(kind_name.clone(), file);
                }
            }
        }
        for (index, _) in self.array("/warnings")?.iter().enumerate() {
            if let Some(warning) = self.string(&format!("/warnings/{index}"))? {
                run.warnings.push(warning);
            }
        }
        for (index, repetition) in self.array("/repetitions/runs")?.iter().enumerate() {
            let mut figures = BTreeMap::new();
            for id in repetition.as_object().map(|o| o.keys()).into_iter().flatten() {
                // Ids this report does not know are skipped: a newer profiler may keep more.
                if crate::metric::metric(id).is_some()
                    && let Some(value) =
                        self.number(&format!("/repetitions/runs/{index}/{}", escape_pointer(id)))?
                {
                    figures.insert(id.clone(), value);
                }
            }
            run.repetitions.push(figures);
        }
        run.series = self.phase_series()?;
        Ok(run)
    }

    /// A series object of parallel lists at `pointer`: empty if absent or null.
    fn series(&self, pointer: &str) -> Result<Series> {
        let object = match self.root.pointer(pointer) {
            None | Some(Value::Null) => return Ok(Series::default()),
            Some(Value::Object(object)) => object,
            Some(other) => {
                return Err(ReportError::invalid(
                    self.path,
                    pointer,
                    format!("expected an object of lists, found {}", kind(other)),
                ));
            }
        };
        let list = |key: &str, values: &[Value]| -> Result<Vec<f64>> {
            values
                .iter()
                .enumerate()
                .map(|(index, value)| match value {
                    Value::Number(number) => Ok(number.as_f64().unwrap_or(f64::NAN)),
                    Value::Null => Ok(f64::NAN),
                    other => Err(ReportError::invalid(
                        self.path,
                        format!("{pointer}/{}/{index}", escape_pointer(key)),
                        format!("expected a number, found {}", kind(other)),
                    )),
                })
                .collect()
        };
        let mut series = Series::default();
        for (key, value) in object {
            match value {
                Value::Array(values) if key == "t_ms" => series.t_ms = list(key, values)?,
                Value::Array(values) => {
                    series.columns.insert(key.clone(), list(key, values)?);
                }
                // `interval_ms` and anything else scalar a newer profiler may add.
                Value::Number(_) | Value::Null => {}
                other => {
                    return Err(ReportError::invalid(
                        self.path,
                        format!("{pointer}/{}", escape_pointer(key)),
                        format!("expected a list, found {}", kind(other)),
                    ));
                }
            }
        }
        if let Some((key, values)) = series
            .columns
            .iter()
            .find(|(_, values)| values.len() != series.t_ms.len())
        {
            return Err(ReportError::invalid(
                self.path,
                format!("{pointer}/{}", escape_pointer(key)),
                format!(
                    "expected as many values as `t_ms` has ({}), found {}",
                    series.t_ms.len(),
                    values.len()
                ),
            ));
        }
        Ok(series)
    }

    /// The series of every phase: from `phases.<name>`, or, in files without them, from the
    /// top-level sections, grouped by the phase each names.
    fn phase_series(&self) -> Result<Vec<PhaseSeries>> {
        let mut phases: Vec<PhaseSeries> = Vec::new();
        match self.root.pointer("/phases") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for name in map.keys() {
                    let base = format!("/phases/{}", escape_pointer(name));
                    for section in ["memory", "asyncio", "runtime"] {
                        self.add_series(&mut phases, name, &base, section)?;
                    }
                }
            }
            Some(other) => {
                return Err(ReportError::invalid(
                    self.path,
                    "/phases",
                    format!("expected an object of phases, found {}", kind(other)),
                ));
            }
        }
        if phases.is_empty() {
            for section in ["memory", "asyncio", "runtime"] {
                let phase = self
                    .string(&format!("/{section}/phase"))?
                    .unwrap_or_else(|| "run".to_owned());
                self.add_series(&mut phases, &phase, "", section)?;
            }
        }
        let order = |phase: &str| match phase {
            "saturation" => 0,
            "limit" => 1,
            "fixed_rate" => 2,
            _ => 3,
        };
        phases.sort_by(|a, b| (order(&a.phase), &a.phase).cmp(&(order(&b.phase), &b.phase)));
        Ok(phases)
    }

    /// Adds `{base}/{section}/series` to `phase`'s series, if the file has it.
    fn add_series(
        &self,
        phases: &mut Vec<PhaseSeries>,
        phase: &str,
        base: &str,
        section: &str,
    ) -> Result<()> {
        let series = self.series(&format!("{base}/{section}/series"))?;
        if series.is_empty() {
            return Ok(());
        }
        let index = match phases.iter().position(|entry| entry.phase == phase) {
            Some(index) => index,
            None => {
                phases.push(PhaseSeries::new(phase));
                phases.len() - 1
            }
        };
        let entry = &mut phases[index];
        match section {
            "memory" => {
                entry.memory = series;
                entry.heap_baseline_mb = self.number(&format!("{base}/memory/baseline_mb"))?;
                entry.heap_peak_mb = self.number(&format!("{base}/memory/peak_mb"))?;
            }
            "asyncio" => entry.asyncio = series,
            _ => entry.runtime = series,
        }
        Ok(())
    }

    fn legacy(&self) -> Result<RunData> {
        let mut run = self.empty(InputFormat::Legacy);
        self.collect(
            &mut run.metrics,
            &[
                ("cpu.messages_per_second", "/cpu/messages_per_second"),
                ("cpu.avg_latency_ms", "/cpu/avg_latency_ms"),
                ("cpu.total_time", "/cpu/total_time"),
                ("cpu.message_count", "/cpu/message_count"),
                ("memory.baseline_mb", "/memory/baseline_mb"),
                ("memory.peak_mb", "/memory/peak_mb"),
                ("memory.delta_mb", "/memory/delta_mb"),
                ("asyncio.event_loop_lag_ms", "/asyncio/event_loop_lag_ms"),
                ("asyncio.active_tasks", "/asyncio/active_tasks"),
                ("database.pool_size", "/database/pool_size"),
                ("database.active_connections", "/database/active_connections"),
                ("database.idle_connections", "/database/idle_connections"),
            ],
        )?;
        run.top_functions = self.functions("/cpu/top_functions")?;
        if self.root.get("database").is_some() {
            run.database = Some(Database {
                status: self.string("/database/status")?,
            });
        }
        run.environment = self.string("/timestamp")?.map(|timestamp| Environment {
            timestamp: Some(timestamp),
            git_commit: None,
            git_dirty: None,
            rustc: None,
            build_profile: None,
            cpu_model: None,
            logical_cores: None,
            os: None,
            hostname: None,
            workload: Value::Null,
            run: Value::Null,
            host_steal_pct: Vec::new(),
        });
        Ok(run)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Escapes a map key for a JSON pointer.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RunData> {
        parse_results(Path::new("r.json"), text)
    }

    #[test]
    fn the_p99_overhead_is_the_median_over_pairs_when_the_results_have_it() {
        let metric = |overhead: &str| {
            parse(&format!(
                r#"{{"schema_version":1,"profiler":{{"overhead":{overhead}}}}}"#
            ))
            .unwrap()
            .metrics
            .get("profiler.overhead_p99_ratio")
            .copied()
        };
        assert_eq!(
            metric(r#"{"p99_ratio":7.2,"p99_pair_ratio_median":0.95}"#),
            Some(0.95)
        );
        assert_eq!(
            metric(r#"{"p99_ratio":1.04}"#),
            Some(1.04),
            "older results: the pooled ratio"
        );
        assert_eq!(metric("{}"), None);
        assert!(
            parse(r#"{"schema_version":1,"profiler":{"overhead":{"p99_pair_ratio_median":"low"}}}"#).is_err()
        );
    }

    #[test]
    fn reads_perfgate_results_and_derives_the_error_rate() {
        let run = parse(
            r#"{"schema_version":1,"cpu":{"messages_per_second":5.0e5,"message_count":10},
                "errors":{"total":5,"by_kind":{"malformed":5}},"pipeline":{"generated":1000},
                "stages":{"b":{"index":1,"workers":1},"a":{"index":0,"workers":2,"busy_ratio":0.5}}}"#,
        )
        .unwrap();
        assert_eq!(run.format, InputFormat::Perfgate { schema_version: 1 });
        assert_eq!(run.metrics["cpu.messages_per_second"], 5.0e5);
        assert_eq!(run.metrics["error_rate.percent"], 0.5);
        assert_eq!(
            run.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(run.errors_by_kind["malformed"], 5);
    }

    #[test]
    fn reads_repetitions_keeping_known_metrics() {
        let run = parse(
            r#"{"schema_version":1,"cpu":{"messages_per_second":5.0e5},
                "repetitions":{"count":2,"runs":[
                    {"cpu.messages_per_second":5.0e5,"latency.p99_ms":1.5,"future.metric":1},
                    {"cpu.messages_per_second":4.9e5,"latency.p99_ms":1.7}]}}"#,
        )
        .unwrap();
        assert_eq!(run.repetitions.len(), 2);
        assert_eq!(run.repetitions[1]["cpu.messages_per_second"], 4.9e5);
        assert!(!run.repetitions[0].contains_key("future.metric"));
        let error =
            parse(r#"{"schema_version":1,"repetitions":{"runs":[{"latency.p99_ms":"x"}]}}"#).unwrap_err();
        assert!(
            error.to_string().contains("/repetitions/runs/0/latency.p99_ms"),
            "{error}"
        );
    }

    #[test]
    fn reads_the_time_series_of_each_phase() {
        let run = parse(
            r#"{"schema_version":1,
                "memory":{"phase":"saturation","series":{"t_ms":[0],"live_mb":[1]}},
                "phases":{
                  "fixed_rate":{"asyncio":{"series":{"interval_ms":10.0,"t_ms":[0,10],"lag_max_ms":[0.5,null]}}},
                  "saturation":{"memory":{"baseline_mb":30.0,"peak_mb":31.5,"series":{
                      "interval_ms":10.0,"t_ms":[0,10,20,30],"live_mb":[30,30.5,31,30.2],
                      "resident_mb":[200,200,201,201],"messages":[0,5000,9000,9000]}},
                    "runtime":{"series":{"t_ms":[100],"rss_mb":[300]}}}}}"#,
        )
        .unwrap();
        let phases: Vec<&str> = run.series.iter().map(|p| p.phase.as_str()).collect();
        assert_eq!(phases, ["saturation", "fixed_rate"], "in the order phases run");
        let saturation = &run.series[0];
        assert_eq!(saturation.memory.t_ms, [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(saturation.memory.columns["live_mb"][2], 31.0);
        assert!(!saturation.memory.columns.contains_key("interval_ms"));
        assert_eq!(saturation.runtime.points("rss_mb"), [(100.0, 300.0)]);
        assert_eq!(
            (saturation.heap_baseline_mb, saturation.heap_peak_mb),
            (Some(30.0), Some(31.5))
        );
        // 5,000 messages in 10 ms, then 4,000, then none.
        assert_eq!(
            saturation.memory.rate("messages"),
            [(10.0, 500_000.0), (20.0, 400_000.0), (30.0, 0.0)]
        );
        assert!(saturation.memory.rate("absent").is_empty());
        let lag = &run.series[1].asyncio.columns["lag_max_ms"];
        assert!(lag[1].is_nan(), "null is a gap");
        assert!(run.series[1].memory.is_empty());
    }

    #[test]
    fn files_without_phases_give_the_top_level_series_by_phase() {
        let run = parse(
            r#"{"schema_version":1,
                "memory":{"phase":"saturation","baseline_mb":2,"series":{"t_ms":[0,10],"live_mb":[1,2]}},
                "asyncio":{"phase":"fixed_rate","series":{"t_ms":[0],"lag_max_ms":[1]}},
                "runtime":{"phase":"fixed_rate","series":{"t_ms":[0],"rss_mb":[1]}}}"#,
        )
        .unwrap();
        assert_eq!(run.series.len(), 2);
        assert_eq!(run.series[0].phase, "saturation");
        assert_eq!(run.series[0].heap_baseline_mb, Some(2.0));
        assert_eq!(run.series[1].asyncio.t_ms, [0.0]);
        assert_eq!(run.series[1].runtime.columns["rss_mb"], [1.0]);
        assert!(parse(r#"{"schema_version":1}"#).unwrap().series.is_empty());
        assert!(
            parse(r#"{"cpu":{}}"#).unwrap().series.is_empty(),
            "older files have none"
        );
    }

    #[test]
    fn bad_series_are_one_line_naming_the_place() {
        let check = |text: &str, expected: &str| {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
            assert!(!error.contains('\n'));
        };
        check(
            r#"{"schema_version":1,"memory":{"series":[1,2]}}"#,
            "/memory/series: expected an object of lists, found a list",
        );
        check(
            r#"{"schema_version":1,"phases":{"saturation":{"asyncio":{"series":{"t_ms":[0,1],"lag_max_ms":[1,"x"]}}}}}"#,
            "/phases/saturation/asyncio/series/lag_max_ms/1: expected a number, found a string",
        );
        check(
            r#"{"schema_version":1,"runtime":{"series":{"t_ms":[0,1],"rss_mb":[1]}}}"#,
            "/runtime/series/rss_mb: expected as many values as `t_ms` has (2), found 1",
        );
        check(
            r#"{"schema_version":1,"runtime":{"series":{"t_ms":[0],"rss_mb":"big"}}}"#,
            "/runtime/series/rss_mb: expected a list, found a string",
        );
        check(
            r#"{"schema_version":1,"phases":[]}"#,
            "/phases: expected an object of phases",
        );
    }

    #[test]
    fn reads_the_older_format() {
        let run = parse(
            r#"{"cpu":{"messages_per_second":1234.5,"top_functions":[{"function":"decode","cumtime":0.5}]},
                "database":{"status":"ok","pool_size":10}}"#,
        )
        .unwrap();
        assert_eq!(run.format, InputFormat::Legacy);
        assert_eq!(run.top_functions[0].cumtime, Some(0.5));
        assert_eq!(run.metrics["database.pool_size"], 10.0);
        assert_eq!(run.database.unwrap().status.as_deref(), Some("ok"));
    }

    #[test]
    fn bad_input_is_one_line_naming_the_place() {
        let check = |text: &str, expected: &str| {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
            assert!(!error.contains('\n'));
        };
        check("{\"cpu\": ", "r.json:1:");
        check("{\"cpu\": {\"messages_per_second\": NaN}}", "r.json:1:");
        check("{\"schema_version\": 9}", "schema version 9 is not supported");
        check(
            "{\"schema_version\": \"one\"}",
            "/schema_version: expected a whole number",
        );
        check(
            "{\"schema_version\":1,\"cpu\":{\"total_time\":\"slow\"}}",
            "/cpu/total_time: expected a number, found a string",
        );
        check("{\"hello\": 1}", "neither perfgate results");
        check("[1, 2]", "expected a JSON object");
    }
}
