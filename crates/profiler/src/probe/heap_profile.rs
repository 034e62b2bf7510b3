//! Allocation-site heap profile, from jemalloc's own sampling (one allocation about every 512 KiB
//! allocated, with its stack), written as a gzipped pprof file. It covers the throughput phase
//! from the start of its warm-up to the end of the measured window, with four sample types:
//! `inuse_space` / `inuse_objects` (the default: what is still live when the window ends) and
//! `alloc_space` / `alloc_objects` (everything allocated, freed or not: allocation churn). The
//! `alloc_*` types need jemalloc's cumulative counts (`prof_accum:true` at start-up); a process
//! started without them gets `inuse_*` only, and a warning saying so.
//!
//! jemalloc can only sample if profiling was switched on when the process started (see
//! [`HEAP_PROFILE_ENV`]); `perfgate-profiler --heap-profile` restarts itself with that setting.
//! Sampling is then switched on for the throughput phase only. Samples from its warm-up are kept:
//! clearing them with jemalloc's `prof.reset` stopped all further sampling in trials here.
//!
//! The profile is built here from jemalloc's text dump rather than by jemalloc_pprof, for three
//! reasons: jemalloc_pprof reads only the live counts of each stack (so `alloc_*` would be lost,
//! and a stack whose allocations were all freed makes its weight NaN); it keeps jemalloc's own
//! frames, so every sample's top frame was `prof_backtrace_impl`; and it attributes nothing to the
//! code that asked for the memory. Here each stack is cut below the allocator and the standard
//! library's allocation plumbing, so a sample's top frame is the function that allocated.

#[cfg(feature = "heap-profile")]
use crate::alloc::HEAP_PROFILE_ENV;

/// A heap profile being taken.
#[derive(Default)]
pub(crate) struct HeapProfile {
    active: bool,
    /// When sampling was switched on.
    #[cfg(feature = "heap-profile")]
    armed_at: Option<(std::time::SystemTime, std::time::Instant)>,
    /// The parsed dump, symbolized only once the phase is over (see [`HeapProfile::into_pprof`]).
    #[cfg(feature = "heap-profile")]
    dump: Option<(Dump, std::time::Duration)>,
    pub(crate) warnings: Vec<String>,
}

impl std::fmt::Debug for HeapProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapProfile")
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl HeapProfile {
    /// Switches sampling on. jemalloc decides per thread when to take its next sample, and a
    /// thread started while sampling was off would not take one for a long time, so this must run
    /// before the phase's runtime threads start.
    pub(crate) fn arm(&mut self) {
        #[cfg(feature = "heap-profile")]
        {
            let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() else {
                let (variable, value) = HEAP_PROFILE_ENV;
                self.warnings.push(format!(
                    "heap profile: jemalloc was not started with profiling; set {variable}={value} \
                     before the process starts (perfgate-profiler --heap-profile does this itself)"
                ));
                return;
            };
            let mut ctl = ctl.blocking_lock();
            match ctl.activate() {
                Ok(()) => {
                    self.active = true;
                    self.armed_at = Some((std::time::SystemTime::now(), std::time::Instant::now()));
                }
                Err(error) => self
                    .warnings
                    .push(format!("heap profile: activating failed: {error}")),
            }
        }
        #[cfg(not(feature = "heap-profile"))]
        self.warnings
            .push("heap profile: this build of perfgate-profiler has no `heap-profile` feature".to_owned());
    }

    /// Dumps the profile and stops sampling.
    pub(crate) fn end(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        #[cfg(feature = "heap-profile")]
        if let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() {
            let mut ctl = ctl.blocking_lock();
            // Only parsed here; symbolizing while the pipeline still runs came back without a
            // single function name in trials, so it waits until the phase is over.
            let parsed = ctl
                .dump()
                .map_err(|error| format!("{error:#}"))
                .and_then(|mut file| {
                    let mut text = String::new();
                    std::io::Read::read_to_string(&mut file, &mut text).map_err(|error| error.to_string())?;
                    Dump::parse(&text)
                });
            let elapsed = self.armed_at.map(|(_, at)| at.elapsed()).unwrap_or_default();
            match parsed {
                Ok(dump) => self.dump = Some((dump, elapsed)),
                Err(error) => self
                    .warnings
                    .push(format!("heap profile: dumping failed: {error}")),
            }
            if let Err(error) = ctl.deactivate() {
                self.warnings
                    .push(format!("heap profile: deactivating failed: {error}"));
            }
        }
    }
}

impl HeapProfile {
    /// The profile as a gzipped pprof file, symbolized now.
    pub(crate) fn into_pprof(self) -> (Option<Vec<u8>>, Vec<String>) {
        #[cfg(feature = "heap-profile")]
        {
            let HeapProfile {
                armed_at,
                dump,
                mut warnings,
                ..
            } = self;
            let pprof = dump.and_then(|(dump, elapsed)| {
                if !dump.accumulated {
                    let (variable, value) = HEAP_PROFILE_ENV;
                    warnings.push(format!(
                        "heap profile: heap.pb.gz holds only in-use space (what is live when the \
                         window ends), not allocation volume: jemalloc counts every sampled \
                         allocation only when started with prof_accum:true ({variable}={value}); \
                         memory.allocations_per_message and memory.bytes_allocated_per_message \
                         give the volume, without the allocating sites"
                    ));
                }
                match dump.to_pprof(armed_at.map(|(at, _)| at), elapsed) {
                    Ok(pprof) => Some(pprof),
                    Err(error) => {
                        warnings.push(format!("heap profile: writing heap.pb.gz failed: {error}"));
                        None
                    }
                }
            });
            (pprof, warnings)
        }
        #[cfg(not(feature = "heap-profile"))]
        (None, self.warnings)
    }
}

/// jemalloc's heap profile dump (`heap_v2`), parsed.
#[cfg(feature = "heap-profile")]
#[derive(Debug, Default)]
struct Dump {
    /// The mean bytes between samples (2^`lg_prof_sample`).
    period: u64,
    /// Whether jemalloc kept cumulative counts (`opt.prof_accum`), so `alloc_*` are meaningful.
    accumulated: bool,
    stacks: Vec<DumpedStack>,
    /// The executable mappings jemalloc listed, to name the file each address is in.
    mappings: Vec<MappedFile>,
}

/// One stack's counts, unbiased: estimates of all allocations, not only the sampled ones.
#[cfg(feature = "heap-profile")]
#[derive(Debug)]
struct DumpedStack {
    /// Return addresses, innermost first.
    addresses: Vec<u64>,
    /// `[alloc_objects, alloc_space, inuse_objects, inuse_space]`.
    values: [f64; 4],
}

#[cfg(feature = "heap-profile")]
#[derive(Debug)]
struct MappedFile {
    start: u64,
    end: u64,
    offset: u64,
    path: String,
}

/// Sample types in the order Go's heap profiles use, so `go tool pprof` treats the file as one of
/// those (`-sample_index=alloc_space` etc.); `inuse_space` is the default.
#[cfg(feature = "heap-profile")]
const SAMPLE_TYPES: [(&str, &str); 4] = [
    ("alloc_objects", "count"),
    ("alloc_space", "bytes"),
    ("inuse_objects", "count"),
    ("inuse_space", "bytes"),
];

#[cfg(feature = "heap-profile")]
impl Dump {
    /// Parses jemalloc's dump: a `heap_v2/<period>` header, then per stack an `@ <addresses>`
    /// line followed by `t*: <live objects>: <live bytes> [<objects>: <bytes>]` (all threads; the
    /// bracket holds the cumulative counts, zero without `prof_accum`) and per-thread lines, then
    /// the process's memory map after `MAPPED_LIBRARIES:`.
    fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        let header = lines.next().ok_or("the dump is empty")?;
        let period: u64 = header
            .strip_prefix("heap_v2/")
            .and_then(|period| period.trim().parse().ok())
            .filter(|&period| period > 0)
            .ok_or_else(|| format!("unknown dump header {header:?}"))?;
        // SAFETY: `opt.prof_accum` is a documented read-only bool.
        let accumulated =
            unsafe { tikv_jemalloc_ctl::raw::read::<bool>(b"opt.prof_accum\0") }.unwrap_or(false);
        let mut dump = Dump {
            period,
            accumulated,
            ..Dump::default()
        };
        let mut stack: Option<Vec<u64>> = None;
        for line in &mut lines {
            let line = line.trim();
            if line == "MAPPED_LIBRARIES:" {
                break;
            }
            if let Some(addresses) = line.strip_prefix('@') {
                let addresses = addresses
                    .split_ascii_whitespace()
                    .map(|word| u64::from_str_radix(word.trim_start_matches("0x"), 16))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|error| format!("a stack's address: {error}"))?;
                stack = Some(addresses);
            } else if let Some(counts) = line.strip_prefix("t*:") {
                // The first `t*:` line, before any stack, is the total; it has no stack.
                let Some(addresses) = stack.take() else { continue };
                let counts: Vec<f64> = counts
                    .split(|c: char| c == ':' || c == '[' || c == ']' || c.is_ascii_whitespace())
                    .filter(|word| !word.is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|error| format!("a stack's counts {line:?}: {error}"))?;
                let [live_objects, live_bytes, objects, bytes] = counts[..] else {
                    return Err(format!("a stack's counts {line:?}: not four numbers"));
                };
                let (live_objects, live_bytes) = unbias(live_objects, live_bytes, period as f64);
                let (objects, bytes) = if accumulated {
                    unbias(objects, bytes, period as f64)
                } else {
                    (0.0, 0.0)
                };
                dump.stacks.push(DumpedStack {
                    addresses,
                    values: [objects, bytes, live_objects, live_bytes],
                });
            }
        }
        // /proc/self/maps lines: `start-end perms offset dev inode path`; only code matters.
        for line in lines {
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            let [range, perms, offset, _, _, path, ..] = fields[..] else {
                continue;
            };
            if !perms.contains('x') {
                continue;
            }
            let Some((start, end)) = range.split_once('-') else {
                continue;
            };
            let parse = |hex: &str| u64::from_str_radix(hex, 16).ok();
            if let (Some(start), Some(end), Some(offset)) = (parse(start), parse(end), parse(offset)) {
                dump.mappings.push(MappedFile {
                    start,
                    end,
                    offset,
                    path: path.to_owned(),
                });
            }
        }
        Ok(dump)
    }

    /// Symbolizes the stacks, cuts each below the function that allocated, merges stacks that
    /// became the same and encodes the result as a gzipped pprof `Profile`.
    fn to_pprof(
        &self,
        start: Option<std::time::SystemTime>,
        elapsed: std::time::Duration,
    ) -> std::io::Result<Vec<u8>> {
        use pprof::protos;
        use std::collections::HashMap;

        let mut symbols: HashMap<u64, Vec<Frame>> = HashMap::new();
        // Stacks after the cut, as (address, index of its first kept inline frame), innermost
        // first; stacks that differed only in the allocator's frames (malloc or realloc, the
        // zeroing variant) become one.
        let mut merged: HashMap<Vec<(u64, usize)>, [f64; 4]> = HashMap::new();
        let mut order = Vec::new();
        for stack in &self.stacks {
            // Return addresses point after the call; one byte back is inside it, which is what
            // the line tables describe.
            let addresses: Vec<u64> = stack.addresses.iter().map(|a| a.saturating_sub(1)).collect();
            let mut flat = Vec::new();
            for &address in &addresses {
                let frames = symbols.entry(address).or_insert_with(|| symbolize(address));
                // An address without a symbol still counts as one frame.
                for index in 0..frames.len().max(1) {
                    flat.push((address, index));
                }
            }
            let names: Vec<&str> = flat
                .iter()
                .map(|&(address, index)| symbols[&address].get(index).map_or("", |f| f.name.as_str()))
                .collect();
            let cut = allocating_frame(&names);
            let mut key = Vec::new();
            if let Some(&(first, index)) = flat.get(cut) {
                key.push((first, index));
                let mut seen = first;
                for &(address, _) in &flat[cut..] {
                    if address != seen {
                        key.push((address, 0));
                        seen = address;
                    }
                }
            }
            let values = merged.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                [0.0; 4]
            });
            for (sum, value) in values.iter_mut().zip(stack.values) {
                *sum += value;
            }
        }

        // Without cumulative counts the alloc_* types would be zeros that read as "nothing was
        // allocated", so they are left out.
        let kept_types = if self.accumulated { 0..4 } else { 2..4 };
        let mut strings = Strings::default();
        let mut profile = protos::Profile {
            sample_type: SAMPLE_TYPES[kept_types.clone()]
                .iter()
                .map(|(ty, unit)| protos::ValueType {
                    ty: strings.id(ty),
                    unit: strings.id(unit),
                })
                .collect(),
            period_type: Some(protos::ValueType {
                ty: strings.id("space"),
                unit: strings.id("bytes"),
            }),
            period: self.period as i64,
            time_nanos: start
                .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_nanos() as i64),
            duration_nanos: elapsed.as_nanos() as i64,
            ..protos::Profile::default()
        };
        profile.default_sample_type = strings.id("inuse_space");
        profile.comment = vec![strings.id(
            "perfgate: jemalloc's sampled heap profile of the throughput phase, from the start of \
             its warm-up to the end of its measured window; inuse_* is what was live at the end, \
             alloc_* all that was allocated",
        )];
        if !self.accumulated {
            profile.comment.push(strings.id(
                "no alloc_*: jemalloc was started without prof_accum:true, so it kept no \
                 cumulative counts",
            ));
        }
        for (id, mapping) in (1..).zip(&self.mappings) {
            profile.mapping.push(protos::Mapping {
                id,
                memory_start: mapping.start,
                memory_limit: mapping.end,
                file_offset: mapping.offset,
                filename: strings.id(&mapping.path),
                has_functions: true,
                has_filenames: true,
                has_line_numbers: true,
                has_inline_frames: true,
                ..protos::Mapping::default()
            });
        }
        let mut functions: HashMap<(String, String), u64> = HashMap::new();
        let mut locations: HashMap<(u64, usize), u64> = HashMap::new();
        for key in order {
            let values = merged[&key];
            if values.iter().all(|&value| value < 0.5) {
                continue;
            }
            let mut location_ids = Vec::with_capacity(key.len());
            for (address, first) in key {
                let next_id = profile.location.len() as u64 + 1;
                let id = *locations.entry((address, first)).or_insert(next_id);
                if id == next_id {
                    let mut lines = Vec::new();
                    for frame in symbols[&address].iter().skip(first) {
                        let next_function = profile.function.len() as u64 + 1;
                        let function_id = *functions
                            .entry((frame.name.clone(), frame.file.clone()))
                            .or_insert(next_function);
                        if function_id == next_function {
                            profile.function.push(protos::Function {
                                id: function_id,
                                name: strings.id(&frame.name),
                                system_name: strings.id(&frame.system_name),
                                filename: strings.id(&frame.file),
                                ..protos::Function::default()
                            });
                        }
                        lines.push(protos::Line {
                            function_id,
                            line: frame.line,
                        });
                    }
                    let mapping_id = (1..)
                        .zip(&self.mappings)
                        .find(|(_, m)| (m.start..m.end).contains(&address))
                        .map_or(0, |(id, _)| id);
                    profile.location.push(protos::Location {
                        id,
                        mapping_id,
                        address,
                        line: lines,
                        ..protos::Location::default()
                    });
                }
                location_ids.push(id);
            }
            profile.sample.push(protos::Sample {
                location_id: location_ids,
                value: values[kept_types.clone()]
                    .iter()
                    .map(|value| value.round() as i64)
                    .collect(),
                ..protos::Sample::default()
            });
        }
        profile.string_table = strings.table;

        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gzip, &protos::Message::encode_to_vec(&profile))?;
        gzip.finish()
    }
}

/// jeprof's correction for sampling (its `AdjustSamples`): an allocation of `s` bytes is sampled
/// with probability `1 - exp(-s / period)`, so counts of sampled allocations of mean size `s` are
/// scaled by its inverse. jemalloc 5.3 (`opt.prof_unbias`) writes its counts so that this yields
/// its own per-allocation unbiased estimate.
#[cfg(feature = "heap-profile")]
fn unbias(objects: f64, bytes: f64, period: f64) -> (f64, f64) {
    if objects <= 0.0 || bytes <= 0.0 {
        return (0.0, 0.0);
    }
    let scale = 1.0 / (1.0 - (-(bytes / objects) / period).exp());
    (objects * scale, bytes * scale)
}

/// One function on a stack (an address can hold several: the inline chain, innermost first).
#[cfg(feature = "heap-profile")]
#[derive(Debug)]
struct Frame {
    /// Demangled, with its full path and without the compiler's hash.
    name: String,
    system_name: String,
    file: String,
    line: i64,
}

#[cfg(feature = "heap-profile")]
fn symbolize(address: u64) -> Vec<Frame> {
    let mut frames = Vec::new();
    backtrace::resolve(address as usize as *mut std::ffi::c_void, |symbol| {
        let Some(name) = symbol.name() else { return };
        frames.push(Frame {
            // `{:#}` leaves out the hash suffix, not the path.
            name: format!("{name:#}"),
            system_name: String::from_utf8_lossy(name.as_bytes()).into_owned(),
            file: symbol
                .filename()
                .map(|path| path.to_string_lossy().into_owned())
                .unwrap_or_default(),
            line: symbol.lineno().map_or(0, i64::from),
        });
    });
    frames
}

/// The pprof string table: index 0 is the empty string.
#[cfg(feature = "heap-profile")]
struct Strings {
    table: Vec<String>,
    ids: std::collections::HashMap<String, i64>,
}

#[cfg(feature = "heap-profile")]
impl Default for Strings {
    fn default() -> Self {
        Self {
            table: vec![String::new()],
            ids: [(String::new(), 0)].into(),
        }
    }
}

#[cfg(feature = "heap-profile")]
impl Strings {
    fn id(&mut self, text: &str) -> i64 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.table.len() as i64;
        self.table.push(text.to_owned());
        self.ids.insert(text.to_owned(), id);
        id
    }
}

/// Where a stack (function names, innermost first) should start: the function that allocated.
/// Everything up to the outermost allocator frame goes (jemalloc's own sampling and allocation
/// code, `malloc`, the `__rust_alloc` shims, every `GlobalAlloc` implementation: jemallocator's,
/// perfgate's `TrackingAllocator`, a user's wrapper), then the standard library's allocation
/// plumbing (`RawVec` growth, `vec::from_elem`, `String`/`format!`, `Box::new`, std's hash map),
/// so that `vec![0; n]` in `my_crate::f` is charged to `my_crate::f`. At least one frame stays.
#[cfg(any(feature = "heap-profile", test))]
fn allocating_frame(names: &[&str]) -> usize {
    let mut cut = names
        .iter()
        .rposition(|name| is_allocator(name))
        .map_or(0, |last| last + 1);
    while cut + 1 < names.len() && is_std_plumbing(names[cut]) {
        cut += 1;
    }
    cut.min(names.len().saturating_sub(1))
}

/// A frame of the allocator itself: Rust's global-allocator entry points, and jemalloc's or
/// libc's C functions.
#[cfg(any(feature = "heap-profile", test))]
fn is_allocator(name: &str) -> bool {
    // Newer compilers put the shims in a `__rustc` namespace (`__rustc::__rust_alloc`).
    let name = name.strip_prefix("__rustc::").unwrap_or(name);
    if name.contains(" as core::alloc::global::GlobalAlloc>::")
        || [
            "__rust_alloc",
            "__rust_realloc",
            "__rust_dealloc",
            "__rust_no_alloc",
            "__rdl_",
            "__rg_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || [
            "tikv_jemallocator::",
            "<tikv_jemallocator::",
            "tikv_jemalloc_sys::",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
    {
        return true;
    }
    if name.contains("::") {
        return false;
    }
    // C names, possibly with a compiler suffix (`.constprop.0`) and jemalloc's prefixes.
    let base = name.split('.').next().unwrap_or(name);
    let bare = ["_rjem_je_", "_rjem_", "je_"]
        .iter()
        .find_map(|prefix| base.strip_prefix(prefix))
        .unwrap_or(base);
    bare.len() < base.len()
        || [
            "malloc",
            "calloc",
            "realloc",
            "free",
            "posix_memalign",
            "aligned_alloc",
            "memalign",
            "valloc",
            "pvalloc",
            "mallocx",
            "rallocx",
            "xallocx",
            "sdallocx",
            "do_rallocx",
        ]
        .contains(&bare)
        || [
            "prof_", "imalloc", "ialloc", "iralloc", "arena_", "tcache_", "malloc_",
        ]
        .iter()
        .any(|prefix| bare.starts_with(prefix))
}

/// A frame of the standard library (or std's hash map, hashbrown) that only passes an
/// allocation on: a function of those crates, or an implementation of one of their traits for
/// one of their types or a primitive. `<my_crate::T as core::clone::Clone>::clone` is the user's.
#[cfg(any(feature = "heap-profile", test))]
fn is_std_plumbing(name: &str) -> bool {
    const STD: [&str; 4] = ["alloc", "core", "std", "hashbrown"];
    let is_std = |krate: Option<&str>| krate.is_none_or(|krate| STD.contains(&krate));
    let Some(qualified) = name.strip_prefix('<') else {
        return path_crate(name).is_some_and(|krate| STD.contains(&krate));
    };
    // `<Type as Trait>::method` or `<Type>::method`.
    let mut depth = 0usize;
    let mut end = qualified.len();
    for (at, c) in qualified.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if depth == 0 => {
                end = at;
                break;
            }
            '>' => depth -= 1,
            _ => {}
        }
    }
    let inner = &qualified[..end];
    let mut depth = 0usize;
    let mut split = None;
    for (at, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 && inner[at..].starts_with(" as ") => {
                split = Some(at);
                break;
            }
            _ => {}
        }
    }
    match split {
        Some(at) => is_std(path_crate(&inner[..at])) && is_std(path_crate(&inner[at + 4..])),
        None => is_std(path_crate(inner)),
    }
}

/// The crate a path or type starts with (`my_crate` of `&[my_crate::T]`), or `None` for a
/// primitive such as `u8` or `str`.
#[cfg(any(feature = "heap-profile", test))]
fn path_crate(path: &str) -> Option<&str> {
    let mut rest = path.trim_start();
    loop {
        let trimmed = ["&", "mut ", "*const ", "*mut ", "dyn ", "[", "(", "<"]
            .iter()
            .find_map(|prefix| rest.strip_prefix(prefix));
        match trimmed {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    let ident_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    rest[ident_end..]
        .starts_with("::")
        .then(|| &rest[..ident_end])
        .filter(|krate| !krate.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_jemalloc_the_shims_and_std_plumbing() {
        let stack = [
            "prof_backtrace_impl",
            "_rjem_je_prof_backtrace",
            "imalloc_body.constprop.0",
            "_rjem_calloc",
            "<tikv_jemallocator::Jemalloc as core::alloc::global::GlobalAlloc>::alloc_zeroed",
            "<perfgate_profiler::alloc::TrackingAllocator<A> as core::alloc::global::GlobalAlloc>::alloc_zeroed",
            "__rustc::__rust_alloc_zeroed",
            "alloc::alloc::alloc_zeroed",
            "<alloc::alloc::Global as core::alloc::Allocator>::allocate_zeroed",
            "alloc::raw_vec::RawVecInner<A>::try_allocate_in",
            "<u8 as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
            "alloc::vec::from_elem",
            "my_crate::stage::Hoarder::hoard",
            "<my_crate::stage::Hoarder as perfgate_profiler::Stage<u64>>::process::{{closure}}",
            "std::rt::lang_start",
        ];
        assert_eq!(stack[allocating_frame(&stack)], "my_crate::stage::Hoarder::hoard");
    }

    #[test]
    fn keeps_the_users_impls_of_std_traits() {
        let stack = [
            "__rust_alloc",
            "alloc::raw_vec::finish_grow",
            "<my_crate::Quote as core::clone::Clone>::clone",
            "<alloc::vec::Vec<T> as core::clone::Clone>::clone",
            "my_crate::run",
        ];
        assert_eq!(
            stack[allocating_frame(&stack)],
            "<my_crate::Quote as core::clone::Clone>::clone"
        );
        assert!(is_std_plumbing(
            "<[u8] as alloc::slice::hack::ConvertVec>::to_vec"
        ));
        assert!(is_std_plumbing("hashbrown::raw::RawTable<T,A>::reserve_rehash"));
        assert!(!is_std_plumbing(
            "<alloc::vec::Vec<u8> as my_crate::Encode>::encode"
        ));
        assert!(!is_std_plumbing("serde_json::de::from_slice"));
    }

    #[test]
    fn keeps_a_frame_when_everything_is_plumbing() {
        let stack = ["malloc", "alloc::alloc::alloc", "std::thread::spawn"];
        assert_eq!(stack[allocating_frame(&stack)], "std::thread::spawn");
        let unknown = ["", "", "my_crate::f"];
        assert_eq!(
            allocating_frame(&unknown),
            0,
            "nothing is cut without an allocator frame"
        );
    }
}
