//! What a recommendation is, as data: its topic, how urgent it is, and its text as typed parts
//! (plain words, code spans for names from the inputs and for commands, figures). The rules
//! build these; each renderer marks the parts up and escapes them its own way.

use super::figure::Figure;

/// One thing to act on.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// What it is about.
    pub topic: Topic,
    /// How urgent it is.
    pub severity: Severity,
    /// The finding and the advice, in one paragraph.
    pub parts: Vec<Part>,
}

impl Recommendation {
    /// The figures the recommendation rests on, in the order its text gives them.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.parts.iter().filter_map(|part| match part {
            Part::Figure(figure) => Some(figure),
            Part::Text(_) | Part::Code(_) => None,
        })
    }
}

/// A piece of a recommendation's text.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Words, written as they are (escaped for the format).
    Text(String),
    /// Something to show as code: a function, stage or endpoint name from the inputs (untrusted),
    /// a flag, a command.
    Code(String),
    /// A measured value.
    Figure(Figure),
}

/// What a recommendation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Load-test endpoints that mostly fail.
    FailingEndpoints,
    /// The slowest REST endpoint behind a latency threshold not met.
    RestLatency,
    /// The slowest WebSocket request type behind a latency threshold not met.
    WebSocketLatency,
    /// Throughput short of its target, and the hottest functions of the user's code.
    Throughput,
    /// perfgate's own harness and synthetic feed taking a large share of the CPU.
    Harness,
    /// A stage that limits the pipeline.
    Bottleneck,
    /// Event-loop lag: a runtime worker held up inside a poll.
    EventLoop,
    /// Heap that grows.
    Memory,
    /// A cache that misses.
    Cache,
    /// Rejected messages.
    Errors,
    /// Deliveries dropped for slow subscribers.
    FanOut,
    /// A database connection pool too small for its load.
    DatabasePool,
    /// Database queries that failed, an outage, or a database that could not be reached.
    Database,
    /// Metrics that regressed against the baseline.
    Regressions,
    /// Figures from a build that says little about production speed.
    Build,
}

impl Topic {
    /// The topic as the report names it: `event loop`. The JSON verdict's `topic` is this too.
    pub fn label(self) -> &'static str {
        match self {
            Topic::FailingEndpoints => "failing endpoints",
            Topic::RestLatency => "REST latency",
            Topic::WebSocketLatency => "WebSocket latency",
            Topic::Throughput => "throughput",
            Topic::Harness => "perfgate's harness",
            Topic::Bottleneck => "bottleneck",
            Topic::EventLoop => "event loop",
            Topic::Memory => "memory",
            Topic::Cache => "cache",
            Topic::Errors => "errors",
            Topic::FanOut => "fan-out",
            Topic::DatabasePool => "database pool",
            Topic::Database => "database",
            Topic::Regressions => "regressions",
            Topic::Build => "build",
        }
    }
}

/// How urgent a recommendation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// Something to look at: a threshold warns, or a cut-off of the rules is crossed.
    Warn,
    /// Something to fix: a threshold fails, or the figures say something is broken.
    Act,
}

impl Severity {
    /// The severity as the report and the JSON verdict name it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Act => "act",
        }
    }
}

/// Builds a recommendation's parts in reading order; adjacent words join into one part.
#[derive(Debug, Default)]
pub(crate) struct Parts(Vec<Part>);

impl Parts {
    /// Words.
    pub(crate) fn text(mut self, words: impl AsRef<str>) -> Self {
        let words = words.as_ref();
        match self.0.last_mut() {
            Some(Part::Text(previous)) => previous.push_str(words),
            _ => self.0.push(Part::Text(words.to_owned())),
        }
        self
    }

    /// A code span.
    pub(crate) fn code(mut self, code: impl Into<String>) -> Self {
        self.0.push(Part::Code(code.into()));
        self
    }

    /// A figure.
    pub(crate) fn figure(mut self, figure: Figure) -> Self {
        self.0.push(Part::Figure(figure));
        self
    }

    /// A figure, or `missing` in words when there is none.
    pub(crate) fn figure_or(self, figure: Option<Figure>, missing: &str) -> Self {
        match figure {
            Some(figure) => self.figure(figure),
            None => self.text(missing),
        }
    }

    /// Every item, each written by `write`, with `separator` between them.
    pub(crate) fn join<T>(
        mut self,
        items: impl IntoIterator<Item = T>,
        separator: &str,
        write: impl Fn(Self, T) -> Self,
    ) -> Self {
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                self = self.text(separator);
            }
            self = write(self, item);
        }
        self
    }

    /// The recommendation these parts are the text of.
    pub(crate) fn into_recommendation(self, topic: Topic, severity: Severity) -> Recommendation {
        Recommendation {
            topic,
            severity,
            parts: self.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::figure::{Notation, Unit};

    #[test]
    fn words_join_and_figures_are_listed_in_order() {
        let first = Figure::new("a", 1.0, Unit::Messages, Notation::Fixed(0));
        let second = Figure::new("b", 2.0, Unit::Polls, Notation::Fixed(0)).of("x");
        let recommendation = Parts::default()
            .text("one")
            .text(", two ")
            .figure(first.clone())
            .join(["p", "q"], ", ", |parts, name| parts.code(name))
            .text(" and ")
            .figure(second.clone())
            .text(".")
            .into_recommendation(Topic::Errors, Severity::Warn);
        assert_eq!(
            recommendation.parts,
            [
                Part::Text("one, two ".to_owned()),
                Part::Figure(first.clone()),
                Part::Code("p".to_owned()),
                Part::Text(", ".to_owned()),
                Part::Code("q".to_owned()),
                Part::Text(" and ".to_owned()),
                Part::Figure(second.clone()),
                Part::Text(".".to_owned()),
            ]
        );
        assert_eq!(recommendation.figures().collect::<Vec<_>>(), [&first, &second]);
    }

    #[test]
    fn severities_order_by_urgency() {
        assert!(Severity::Info < Severity::Warn && Severity::Warn < Severity::Act);
        assert_eq!(Severity::Act.name(), "act");
    }
}
