//! Whose code a profiled function is: the user's (their stages, and the libraries those call),
//! perfgate's harness (the pipeline plumbing that moves messages between stages, the driver, the
//! probes, the async runtime and the threads under it), or perfgate's synthetic feed (the
//! generator of the default workload, its Zipf draws, the injected slowdown). The throughput
//! finding tells the user to make *their* code cheaper, so it leaves the other two out.
//!
//! Only names are known, not call stacks, so this goes by the type or module a function belongs
//! to: for `<A as Trait>::method` that is `A` (a user's stage implementing perfgate's `Stage`
//! trait is the user's code), otherwise the path itself. Library code (`serde_json::`, `core::`,
//! `alloc::`) counts as the user's: what calls it is usually a stage. Release builds name
//! inlined frames by short paths (`zipf::Zipf::rank`), so the module names are matched as the
//! first segment too.

/// Whose code a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// The user's stages and the libraries they call.
    User,
    /// perfgate's pipeline plumbing, driver and probes, the async runtime, thread entry points.
    Harness,
    /// perfgate's synthetic input: the market workload's generator and what only it uses.
    Feed,
}

/// Modules of perfgate's market workload that produce its synthetic input (the rest of the
/// workload, its stages decode, enrich, aggregate and fanout, stands for the user's code).
const FEED_MODULES: [&str; 3] = ["generator", "zipf", "slowdown"];

/// Types of the synthetic feed, as short names of inlined frames give them.
const FEED_TYPES: [&str; 3] = ["TickSource", "Zipf", "Slowed"];

/// Modules of the perfgate profiler that are its harness, as short names of inlined frames give
/// them.
const HARNESS_MODULES: [&str; 3] = ["pipeline", "driver", "probe"];

/// Crates whose code runs the pipeline or measures it rather than doing a stage's work.
const HARNESS_CRATES: [&str; 5] = ["tokio", "pprof", "quanta", "hdrhistogram", "tikv_jemalloc_ctl"];

/// Parts of the standard library that start and park threads rather than do a stage's work.
const HARNESS_STD: [&str; 5] = [
    "std::sys::",
    "std::thread::",
    "std::rt::",
    "std::panicking::",
    "std::panic::",
];

/// Thread and scheduler entry points of the C library and the kernel.
const HARNESS_SYMBOLS: [&str; 7] = [
    "start_thread",
    "clone3",
    "__clone",
    "__clone3",
    "syscall",
    "epoll_wait",
    "sched_yield",
];

/// Whose code `function` is.
pub(super) fn origin(function: &str) -> Origin {
    let owner = owner(function);
    let segments: Vec<&str> = owner.split("::").collect();
    let first = segments[0];
    if first == "perfgate_profiler" {
        return match (segments.get(1).copied(), segments.get(2).copied()) {
            (Some("market"), Some(module)) if FEED_MODULES.contains(&module) => Origin::Feed,
            (Some("market"), _) => Origin::User,
            _ => Origin::Harness,
        };
    }
    if FEED_MODULES.contains(&first) || FEED_TYPES.contains(&first) {
        return Origin::Feed;
    }
    let runtime = HARNESS_CRATES.contains(&first)
        || HARNESS_STD.iter().any(|prefix| owner.starts_with(prefix))
        || HARNESS_SYMBOLS.contains(&owner)
        || owner.contains("futex");
    if runtime || HARNESS_MODULES.contains(&first) || owner.contains("run_worker") {
        return Origin::Harness;
    }
    Origin::User
}

/// The type or path a function belongs to: `A` of `<A as Trait>::method` (references and
/// generic arguments included), else the name itself.
fn owner(function: &str) -> &str {
    let Some(inner) = function.strip_prefix('<') else {
        return function;
    };
    let mut depth = 0usize;
    for (index, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if depth == 0 => return strip_reference(&inner[..index]),
            '>' => depth -= 1,
            ' ' if depth == 0 && inner[index..].starts_with(" as ") => {
                return strip_reference(&inner[..index]);
            }
            _ => {}
        }
    }
    function
}

/// `T` of `&T`, `&mut T`, `*const T`, `*mut T`, `dyn T`.
fn strip_reference(mut owner: &str) -> &str {
    for prefix in ["&mut ", "&", "*const ", "*mut ", "dyn "] {
        owner = owner.strip_prefix(prefix).unwrap_or(owner);
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_of_a_trait_method_is_its_type() {
        assert_eq!(owner("<a::B<T> as c::D<E>>::f"), "a::B<T>");
        assert_eq!(
            owner("<&mut serde_json::de::Deserializer<R> as x::Y>::z"),
            "serde_json::de::Deserializer<R>"
        );
        assert_eq!(owner("<u64 as itoa::Unsigned>::fmt"), "u64");
        assert_eq!(owner("a::b::c"), "a::b::c");
        assert_eq!(owner("<unclosed"), "<unclosed");
    }

    #[test]
    fn names_from_real_profiles_are_sorted_by_whose_code_they_are() {
        // From the fixtures and docs/benchmark-results.md: the release build's own names.
        let user = [
            "<perfgate_profiler::market::tick::_::<impl serde_core::de::Deserialize for perfgate_profiler::market::tick::Tick>::deserialize::__Visitor as serde_core::de::Visitor>::visit_map",
            "<perfgate_profiler::market::decode::Decode as perfgate_profiler::pipeline::stage::Stage<perfgate_profiler::market::tick::RawTick>>::process::{{closure}}",
            "perfgate_profiler::market::enrich::Enrich::enrich",
            "perfgate_profiler::market::aggregate::Aggregate::aggregate",
            "serde_json::read::SliceRead::skip_to_escape",
            "<serde_json::read::SliceRead as serde_json::read::Read>::peek",
            "core::cmp::Ord::min",
            "alloc::vec::Vec<T,A>::clear",
            "<u64 as itoa::Unsigned>::fmt",
            "pipeline.py:88(decode_message)",
            "my_service::pipeline_stage::run",
        ];
        let harness = [
            "perfgate_profiler::pipeline::worker::run_worker::{{closure}}",
            "perfgate_profiler::pipeline::wiring::StageInlet<T>::send::{{closure}}",
            "<perfgate_profiler::probe::lag::Instrumented<F> as core::future::Future>::poll",
            "perfgate_profiler::driver::feed::run_feed",
            "tokio::runtime::scheduler::multi_thread::worker::Context::run",
            "<tokio::sync::mpsc::chan::Rx<T,S> as core::ops::drop::Drop>::drop",
            "std::sys::pal::unix::thread::Thread::new::thread_start",
            "pipeline::worker::run_worker",
            "start_thread",
        ];
        let feed = [
            "perfgate_profiler::market::generator::TickSource::write_next",
            "<perfgate_profiler::market::generator::TickSource as perfgate_profiler::pipeline::stage::Source>::next_item",
            "perfgate_profiler::market::zipf::Zipf::rank",
            "zipf::Zipf::rank",
            "Zipf::rank",
            "generator::TickSource::write_next",
            "<perfgate_profiler::market::slowdown::Slowed<S> as perfgate_profiler::pipeline::stage::Stage<T>>::process",
        ];
        for (names, expected) in [
            (&user[..], Origin::User),
            (&harness[..], Origin::Harness),
            (&feed[..], Origin::Feed),
        ] {
            for name in names {
                assert_eq!(origin(name), expected, "{name}");
            }
        }
    }
}
