//! A latency objective: one or more `PERCENTILE <= LIMIT` terms, e.g. `p99<=2ms` or
//! `p50<=0.5ms,p99.9<=10ms`. Latency is end-to-end from each message's intended send time.

use std::fmt;

use crate::error::{ProfilerError, Result};

/// Which latency figure a term bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Percentile {
    /// The q-th percentile, 0 < q < 100 (`p50`, `p99`, `p99.9`).
    Quantile(f64),
    /// The largest latency of the window (`max`).
    Max,
}

/// One term: a percentile at or under a limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SloTerm {
    /// Which figure.
    pub percentile: Percentile,
    /// Its limit, ms.
    pub limit_ms: f64,
}

/// A latency objective: every term must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The terms, in the order given.
    pub terms: Vec<SloTerm>,
}

impl fmt::Display for Percentile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Percentile::Quantile(q) => write!(f, "p{q}"),
            Percentile::Max => f.write_str("max"),
        }
    }
}

impl fmt::Display for SloTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<={}ms", self.percentile, self.limit_ms)
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms: Vec<String> = self.terms.iter().map(ToString::to_string).collect();
        f.write_str(&terms.join(","))
    }
}

impl std::str::FromStr for Slo {
    type Err = ProfilerError;

    /// Parses `p99<=2ms`, `p99.9 < 10 ms`, `max<=50ms`, `p50<=500us,p99<=2ms` (units `ns`,
    /// `us`/`µs`, `ms`, `s`; `<` is read as `<=`, a latency is never exactly equal anyway).
    fn from_str(text: &str) -> Result<Self> {
        Slo::parse(text).map_err(|why| ProfilerError::InvalidConfig(format!("--capacity {text:?}: {why}")))
    }
}

impl Slo {
    /// [`str::parse`]'s work, with the problem alone as the error (for a command line parser
    /// that names the flag and the value itself).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let invalid = |why: String| why;
        let mut terms = Vec::new();
        for term in text.split(',') {
            let term: String = term.chars().filter(|c| !c.is_whitespace()).collect();
            if term.is_empty() {
                return Err(invalid("an empty term; give e.g. p99<=2ms".to_owned()));
            }
            let (left, right) = term
                .split_once("<=")
                .or_else(|| term.split_once('<'))
                .ok_or_else(|| invalid(format!("{term:?} has no <= (e.g. p99<=2ms)")))?;
            let percentile = match left.to_ascii_lowercase().as_str() {
                "max" | "p100" => Percentile::Max,
                name => {
                    let q: f64 = name
                        .strip_prefix('p')
                        .and_then(|q| q.parse().ok())
                        .ok_or_else(|| {
                            invalid(format!("{left:?} is not a percentile (p50, p99, p99.9 or max)"))
                        })?;
                    if !(q > 0.0 && q < 100.0) {
                        return Err(invalid(format!(
                            "{left:?}: the percentile must be above 0 and below 100"
                        )));
                    }
                    Percentile::Quantile(q)
                }
            };
            let limit_ms = parse_ms(right)
                .ok_or_else(|| invalid(format!("{right:?} is not a latency (e.g. 2ms, 500us, 0.1s)")))?;
            if !(limit_ms > 0.0 && limit_ms <= 3_600_000.0) {
                return Err(invalid(format!(
                    "{right:?}: the limit must be above 0 and at most an hour"
                )));
            }
            terms.push(SloTerm { percentile, limit_ms });
        }
        Ok(Slo { terms })
    }
}

/// `2ms`, `500us`, `0.1s`, `250000ns` → ms.
fn parse_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "ns" => 1e-6,
        "us" | "µs" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        _ => return None,
    };
    Some(value * scale).filter(|ms| ms.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Slo> {
        text.parse()
    }

    #[test]
    fn terms_parse_with_units_and_spaces() {
        let slo = parse("p99<=2ms").unwrap();
        assert_eq!(
            slo.terms,
            vec![SloTerm {
                percentile: Percentile::Quantile(99.0),
                limit_ms: 2.0
            }]
        );
        let slo = parse(" p50 <= 500us , p99.9<0.01s,max<=250000ns").unwrap();
        assert_eq!(slo.terms.len(), 3);
        assert_eq!(slo.terms[0].limit_ms, 0.5);
        assert_eq!(slo.terms[1].percentile, Percentile::Quantile(99.9));
        assert_eq!(slo.terms[1].limit_ms, 10.0);
        assert_eq!(slo.terms[2].percentile, Percentile::Max);
        assert!((slo.terms[2].limit_ms - 0.25).abs() < 1e-12);
        assert_eq!(slo.to_string(), "p50<=0.5ms,p99.9<=10ms,max<=0.25ms");
        assert_eq!(parse(&slo.to_string()).unwrap(), slo);
    }

    #[test]
    fn bad_objectives_name_the_problem() {
        for (text, expected) in [
            ("p99", "has no <="),
            ("p99>=2ms", "has no <="),
            ("q99<=2ms", "is not a percentile"),
            ("p100.5<=2ms", "above 0 and below 100"),
            ("p0<=2ms", "above 0 and below 100"),
            ("p99<=2", "is not a latency"),
            ("p99<=2 parsecs", "is not a latency"),
            ("p99<=0ms", "above 0"),
            ("p99<=2ms,", "an empty term"),
            ("", "an empty term"),
            ("p99<=1e400ms", "is not a latency"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(error.contains("--capacity"), "{error}");
        }
    }
}
