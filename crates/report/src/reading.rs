//! Readings of a run that the recommendations and the renderers share: which CPU profile to
//! show and reason about, which stage is the busiest. Both `model`/`render` and `recommend` read
//! these; this module reads only the input, so the dependencies run one way.

use crate::input::{FunctionRow, RunData, StageRow};

/// The CPU profile a report shows and reasons about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuProfile<'a> {
    /// Its functions, hottest first.
    pub(crate) functions: &'a [FunctionRow],
    /// Whether they are ranked by self time (perfgate's), or else by cumulative time (older files).
    pub(crate) by_self_time: bool,
}

/// The run's CPU profile: the functions by self time when it has them, else by cumulative time.
pub(crate) fn cpu_profile(run: &RunData) -> CpuProfile<'_> {
    let by_self_time = !run.hot_functions.is_empty();
    CpuProfile {
        functions: if by_self_time {
            &run.hot_functions
        } else {
            &run.top_functions
        },
        by_self_time,
    }
}

/// The busiest stage: the highest busy ratio (the last of equals), among the stages that report
/// one. The stages table marks it; the recommendations judge whether it is the bottleneck.
pub(crate) fn busiest_stage(run: &RunData) -> Option<&StageRow> {
    run.stages
        .iter()
        .filter(|stage| stage.busy_ratio.is_some())
        .max_by(|a, b| {
            a.busy_ratio
                .unwrap_or(0.0)
                .total_cmp(&b.busy_ratio.unwrap_or(0.0))
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_profile_is_by_self_time_when_the_run_has_it() {
        let run = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"cpu":{"hot_functions":[{"function":"hot","self_percent":40.0}],
                "top_functions":[{"function":"top","inclusive_percent":90.0}]}}"#,
        )
        .unwrap();
        let profile = cpu_profile(&run);
        assert!(profile.by_self_time);
        assert_eq!(profile.functions[0].function, "hot");
        let older = RunData {
            hot_functions: Vec::new(),
            ..run
        };
        let profile = cpu_profile(&older);
        assert!(!profile.by_self_time);
        assert_eq!(profile.functions[0].function, "top");
    }

    #[test]
    fn the_busiest_stage_is_the_last_of_the_highest_busy_ratio() {
        let run = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"stages":{
                "decode":{"index":0,"workers":1,"busy_ratio":0.9},
                "enrich":{"index":1,"workers":1},
                "aggregate":{"index":2,"workers":1,"busy_ratio":0.9},
                "fanout":{"index":3,"workers":1,"busy_ratio":0.2}}}"#,
        )
        .unwrap();
        assert_eq!(busiest_stage(&run).unwrap().name, "aggregate");
        let unmeasured = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"stages":{"decode":{"index":0,"workers":1}}}"#,
        )
        .unwrap();
        assert!(busiest_stage(&unmeasured).is_none());
    }
}
