//! What travels on the pipeline's channels: batches of messages, each stamped with the time it
//! entered the pipeline. Batching amortises channel and wake-up costs over many messages.

use std::borrow::Cow;

/// One message with the time its latency is measured from: its intended send time at a fixed
/// rate, its creation time at saturation.
#[derive(Debug)]
pub(crate) struct Envelope<T> {
    pub(crate) start_ns: u64,
    pub(crate) item: T,
}

/// Messages moved together. A batch is entirely warm-up or entirely measured: the feeder never
/// mixes the two, so stages can keep one flag per batch.
#[derive(Debug)]
pub(crate) struct Batch<T> {
    pub(crate) measured: bool,
    pub(crate) items: Vec<Envelope<T>>,
}

/// Errors counted by kind. Kinds are few, so a short vector beats a map.
#[derive(Debug, Default, Clone)]
pub(crate) struct ErrorTally {
    kinds: Vec<(Cow<'static, str>, u64)>,
}

impl ErrorTally {
    pub(crate) fn add(&mut self, kind: Cow<'static, str>, count: u64) {
        match self.kinds.iter_mut().find(|(known, _)| *known == kind) {
            Some((_, total)) => *total += count,
            None => self.kinds.push((kind, count)),
        }
    }

    pub(crate) fn merge(&mut self, other: &ErrorTally) {
        for (kind, count) in &other.kinds {
            self.add(kind.clone(), *count);
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.kinds.iter().map(|(_, count)| count).sum()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.kinds.iter().map(|(kind, count)| (kind.as_ref(), *count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_adds_per_kind_and_merges() {
        let mut a = ErrorTally::default();
        a.add("malformed".into(), 2);
        a.add("rejected".into(), 1);
        a.add("malformed".into(), 3);
        let mut b = ErrorTally::default();
        b.add("rejected".into(), 4);
        a.merge(&b);
        let kinds: Vec<_> = a.iter().collect();
        assert_eq!(kinds, vec![("malformed", 5), ("rejected", 5)]);
        assert_eq!(a.total(), 10);
    }
}
