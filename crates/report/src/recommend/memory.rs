//! Heap that grows over the measured window.

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};

/// The memory finding, when a leak is suspected or the heap growth's threshold warns or fails.
pub(super) fn growth(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let leak_suspected = evidence.run.leak_suspected == Some(true);
    if !(leak_suspected || evidence.concerning("memory.delta_mb")) {
        return None;
    }
    let delta = evidence
        .metric("memory.delta_mb")
        .map(|value| Figure::new("memory.delta_mb", value, Unit::Mebibytes, Notation::Table));
    let mut parts = Parts::default()
        .text("Live heap grew by ")
        .figure_or(delta, "an unknown amount")
        .text(" over the window");
    if let Some(slope) = evidence.metric("memory.leak_bytes_per_message")
        && leak_suspected
    {
        parts = parts
            .text(", steadily: ")
            .figure(Figure::new(
                "memory.leak_bytes_per_message",
                slope,
                Unit::BytesPerMessage,
                Notation::Fixed(0),
            ))
            .text(", a leak is suspected");
    }
    let severity = if leak_suspected {
        Severity::Act
    } else {
        evidence.act_if_failed(&["memory.delta_mb"])
    };
    Some(
        parts
            .text(". Run ")
            .code("cargo xtask bench --heap-profile")
            .text(" and open ")
            .code("heap.pb.gz")
            .text(" (")
            .code("go tool pprof -sample_index=inuse_space")
            .text(") to see which code holds it.")
            .into_recommendation(Topic::Memory, severity),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::test_support::{on, recommendations, words};

    #[test]
    fn a_suspected_leak_is_acted_on_with_its_slope() {
        let found = recommendations(
            r#"{"schema_version":1,"memory":{"delta_mb":20.0,"leak_suspected":true,"leak":{"bytes_per_message":1024}}}"#,
            "",
        );
        let memory = on(&found, Topic::Memory).unwrap();
        assert_eq!(memory.severity, Severity::Act);
        let text = words(memory);
        assert!(
            text.starts_with(
                "Live heap grew by 20 MiB over the window, steadily: 1024 bytes per message, a leak is suspected."
            ),
            "{text}"
        );
    }
}
