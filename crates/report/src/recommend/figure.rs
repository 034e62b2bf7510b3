//! The figures a recommendation rests on: what was measured, its value and unit, and how the
//! report writes it. The text of a figure is made here, once, so that every renderer shows the
//! same number and none of them does arithmetic on it.

use crate::metric::format_value;

/// A measured value behind a recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What was measured: a metric id of the registry (`cpu.messages_per_second`), or for a
    /// reading that is not a metric of its own, a dotted name for it (`stage.busy_ratio`,
    /// `function.self_percent`, `endpoint.p95_ms`, `baseline.change_pct`).
    pub metric: String,
    /// Whose reading it is when it belongs to one part of the run: the stage, function,
    /// endpoint, error kind, or the metric compared with the baseline.
    pub subject: Option<String>,
    /// The value, in [`Figure::unit`].
    pub value: f64,
    /// The value's unit.
    pub unit: Unit,
    /// How the report writes the value.
    pub notation: Notation,
}

/// The unit of a [`Figure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Messages per second.
    MessagesPerSecond,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Mebibytes.
    Mebibytes,
    /// Bytes per message.
    BytesPerMessage,
    /// Percent (0 to 100).
    Percent,
    /// A share of a whole (0 to 1).
    Ratio,
    /// A number of messages.
    Messages,
    /// A number of requests.
    Requests,
    /// A number of deliveries to subscribers.
    Deliveries,
    /// A number of polls.
    Polls,
    /// A number of workers.
    Workers,
    /// A number of cache entries.
    Entries,
    /// A number of database connections.
    Connections,
    /// A number of database queries.
    Queries,
    /// A number of tasks (waiting for a connection).
    Tasks,
}

impl Unit {
    /// The unit as the report writes it after a number, and as the JSON verdict names it.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::MessagesPerSecond => "msg/s",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
            Unit::Mebibytes => "MiB",
            Unit::BytesPerMessage => "bytes per message",
            Unit::Percent => "%",
            Unit::Ratio => "ratio",
            Unit::Messages => "messages",
            Unit::Requests => "requests",
            Unit::Deliveries => "deliveries",
            Unit::Polls => "polls",
            Unit::Workers => "worker(s)",
            Unit::Entries => "entries",
            Unit::Connections => "connections",
            Unit::Queries => "queries",
            Unit::Tasks => "tasks",
        }
    }
}

/// How the report writes a [`Figure`]'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notation {
    /// As the report's tables write values: thousands grouped, decimals by magnitude.
    Table,
    /// This many decimals, no grouping: `41.5 %`, `4093 deliveries`.
    Fixed(u8),
    /// This many decimals with a sign: `+12.3 %`.
    Signed(u8),
    /// A [`Unit::Ratio`] written as a percentage with this many decimals: 0.97 as `97 %`.
    Percentage(u8),
}

impl Figure {
    /// A figure of `metric` in `unit`, written as `notation`.
    pub(crate) fn new(metric: impl Into<String>, value: f64, unit: Unit, notation: Notation) -> Self {
        Figure {
            metric: metric.into(),
            subject: None,
            value,
            unit,
            notation,
        }
    }

    /// The same figure, as the reading of `subject`.
    pub(crate) fn of(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The value and its unit as the report writes them: `505,795 msg/s`, `7.1 %`, `+3.0 %`.
    pub fn text(&self) -> String {
        let number = match self.notation {
            Notation::Table => return format_value(self.value, self.unit.symbol()),
            Notation::Fixed(decimals) => format!("{:.*}", usize::from(decimals), self.value),
            Notation::Signed(decimals) => format!("{:+.*}", usize::from(decimals), self.value),
            Notation::Percentage(decimals) => {
                return format!("{:.*} %", usize::from(decimals), self.value * 100.0);
            }
        };
        match self.unit {
            Unit::Ratio => number,
            Unit::Percent => format!("{number} %"),
            unit => format!("{number} {}", unit.symbol()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notation_writes_its_own_way() {
        let figure = |value, unit, notation| Figure::new("m", value, unit, notation).text();
        assert_eq!(
            figure(505_795.4, Unit::MessagesPerSecond, Notation::Table),
            "505,795 msg/s"
        );
        assert_eq!(figure(2.19, Unit::Milliseconds, Notation::Table), "2.19 ms");
        assert_eq!(figure(0.813, Unit::Ratio, Notation::Table), "0.813");
        assert_eq!(figure(7.1216, Unit::Percent, Notation::Fixed(1)), "7.1 %");
        assert_eq!(
            figure(4093.0, Unit::Deliveries, Notation::Fixed(0)),
            "4093 deliveries"
        );
        assert_eq!(figure(7.414, Unit::Seconds, Notation::Fixed(2)), "7.41 s");
        assert_eq!(figure(3.04, Unit::Percent, Notation::Signed(1)), "+3.0 %");
        assert_eq!(figure(-12.0, Unit::Percent, Notation::Signed(1)), "-12.0 %");
        assert_eq!(figure(0.97, Unit::Ratio, Notation::Percentage(0)), "97 %");
        assert_eq!(figure(0.5, Unit::Ratio, Notation::Fixed(2)), "0.50");
    }
}
