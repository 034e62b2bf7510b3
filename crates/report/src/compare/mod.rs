//! Comparing two revisions from repeated runs: per metric the candidate/base ratio, its 95 %
//! confidence interval, a verdict (unchanged / improved / regressed, with severity) and a gate
//! (pass / warn / fail). Paired when both sides ran interleaved on one machine (the effect is
//! the per-round ratio), unpaired when two existing results files are compared.
//!
//! The decision rules, for a metric where lower is better (mirror them for higher):
//! - unchanged when the interval includes 1 or the point change is below the noise floor (the
//!   largest of `--noise`, the metric's floor in the catalogue of `perfgate-results` and what
//!   self-vs-self comparisons on this machine have shown); the verdict itself is
//!   `perfgate_results::judge`, the same rule the report's baseline check and `trend` apply;
//! - otherwise improved or regressed; severity high above 15 %, medium above 5 %, else low;
//! - gate fail when the whole interval lies beyond `max_regression`, warn when only the point
//!   estimate does; deterministic metrics (exact) fail on any change for the worse;
//! - counted metrics (instructions under Valgrind, [`COUNTED`]) need no interval: the ratio of
//!   the two sides' counts is the change, unchanged within the metric's own floor (a tenth of a
//!   percent, not `--noise`), failing the gate beyond their own limit
//!   ([`CompareOptions::max_counted_regression_pct`], 1 % by default).

pub mod formats;
pub mod issue;
pub mod markdown;
pub mod stats;

use serde::Serialize;

use perfgate_results::judge::{self, Change, Movement};

use crate::metric::{Better, MetricDef, metric};

/// What a metric is, for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Timed: noisy, judged by its interval.
    Measured,
    /// Deterministic for a seeded workload (message and error counts): compared exactly.
    Exact,
    /// Counted under Valgrind: the same for the same build and input up to a residual far
    /// below a tenth of a percent. No interval; its own floor and limit.
    Counted,
}

/// One metric a comparison looks at.
#[derive(Debug, Clone, Copy)]
pub struct Compared {
    /// Metric id, as in [`crate::metric::METRICS`].
    pub id: &'static str,
    /// Timed or deterministic.
    pub kind: Kind,
}

const fn compared(id: &'static str, kind: Kind) -> Compared {
    Compared { id, kind }
}

/// The metrics a comparison looks at; their noise floors are the catalogue's.
pub const COMPARED: &[Compared] = &[
    compared("cpu.messages_per_second", Kind::Measured),
    compared("cpu.cpu_ns_per_message", Kind::Measured),
    compared("latency.p50_ms", Kind::Measured),
    compared("latency.p99_ms", Kind::Measured),
    compared("memory.bytes_allocated_per_message", Kind::Measured),
    compared("memory.allocations_per_message", Kind::Measured),
    compared("memory.peak_mb", Kind::Measured),
    compared("cpu.message_count", Kind::Exact),
    compared("errors.total", Kind::Exact),
];

/// The metrics of `cargo xtask compare`'s instruction counts (the `instructions` section, one
/// count per side and turn, not per round); they join the comparison when Valgrind counted them.
pub const COUNTED: &[Compared] = &[
    compared("cpu.instructions_per_message", Kind::Counted),
    compared("cpu.estimated_cycles_per_message", Kind::Counted),
];

/// The figures of a chaos scenario that `compare --chaos SCENARIO` adds to [`COMPARED`], as
/// `chaos.<scenario>.<figure>` (their directions and noise floors are the catalogue's).
pub const CHAOS_FIGURES: [&str; 3] = ["recovery_s", "degraded_throughput_ratio", "degraded_p99_ratio"];

/// The metrics a comparison looks at: [`COMPARED`], and with a chaos scenario that scenario's
/// [`CHAOS_FIGURES`] after them (timed: judged by their intervals). Not in [`COMPARED`] itself,
/// so that a comparison without chaos runs lists no chaos rows. A scenario the catalogue does not
/// know adds nothing (the command line refuses one first).
pub fn compared_metrics(chaos: Option<&str>) -> Vec<Compared> {
    let mut list = COMPARED.to_vec();
    if let Some(scenario) = chaos {
        list.extend(CHAOS_FIGURES.iter().filter_map(|figure| {
            metric(&format!("chaos.{scenario}.{figure}")).map(|def| compared(def.id, Kind::Measured))
        }));
    }
    list
}

/// A round's figure that is infinite rather than missing: a chaos scenario that ran but whose
/// `recovery_s` is `null` (the pipeline did not recover within the run) or whose
/// `degraded_p99_ratio` is `null` (nothing finished during the fault). Such a round is the worst
/// outcome there is, not a round without a figure: [`compare`] counts these rounds per side
/// instead of dropping them with the missing ones (see [`MetricOutcome::candidate_unbounded`]).
pub const UNBOUNDED: f64 = f64::INFINITY;

/// The chaos figures of `scenario` in a run, by metric id: the catalogue's, with [`UNBOUNDED`]
/// for a figure that is `null` in a scenario that ran. Empty when the run has no such scenario.
pub fn chaos_figures(run: &crate::RunData, scenario: &str) -> std::collections::BTreeMap<String, f64> {
    let Some(ran) = run.chaos.as_ref().and_then(|chaos| chaos.scenarios.get(scenario)) else {
        return std::collections::BTreeMap::new();
    };
    let value = |figure: &str| match figure {
        "recovery_s" => ran.recovery_s.unwrap_or(UNBOUNDED),
        "degraded_p99_ratio" => ran.degraded_p99_ratio.unwrap_or(UNBOUNDED),
        _ => ran.degraded_throughput_ratio,
    };
    CHAOS_FIGURES
        .iter()
        .map(|figure| (format!("chaos.{scenario}.{figure}"), value(figure)))
        .filter(|(_, value)| !value.is_nan())
        .collect()
}

/// The configured noise floor of a metric: the catalogue's (0 for an exact or unknown one).
pub fn configured_floor(id: &str) -> f64 {
    metric(id).map_or(0.0, MetricDef::floor_pct)
}

/// A run's throughput as "the median of its window": the saturation phase's messages-finished
/// series (sampled every 10 ms by the heap probe) cut into chunks of at least `chunk_ms`, each
/// chunk's rate, and the median of those rates. A host that stalls the process for part of the
/// window (seen here: runs at half speed for a second or two) moves the plain average but not
/// the median, as long as the stall covers less than half the window. `None` without at least
/// three chunks.
pub fn windowed_throughput(run: &crate::RunData, chunk_ms: f64) -> Option<f64> {
    let phase = run.series.iter().find(|series| series.phase == "saturation")?;
    let points = phase.memory.points("messages");
    let mut rates = Vec::new();
    let mut start: Option<(f64, f64)> = None;
    for (t, messages) in points.into_iter().filter(|(t, m)| t.is_finite() && m.is_finite()) {
        match start {
            None => start = Some((t, messages)),
            Some((t0, m0)) if t - t0 >= chunk_ms => {
                rates.push((messages - m0) / (t - t0) * 1e3);
                start = Some((t, messages));
            }
            Some(_) => {}
        }
    }
    if rates.len() < 3 {
        return None;
    }
    stats::median(&rates)
}

/// The two sides' figures for one metric, one per round (paired: same index, same round).
#[derive(Debug, Clone)]
pub struct Samples {
    /// Metric id.
    pub id: String,
    /// Its kind.
    pub kind: Kind,
    /// The base revision's figures.
    pub base: Vec<f64>,
    /// The candidate's figures.
    pub candidate: Vec<f64>,
}

impl Samples {
    /// No figures yet for `compared`.
    pub fn empty(compared: &Compared) -> Self {
        Self {
            id: compared.id.to_owned(),
            kind: compared.kind,
            base: Vec::new(),
            candidate: Vec::new(),
        }
    }

    /// Adds one run's figure to its side.
    pub fn push(&mut self, is_base: bool, value: f64) {
        if is_base {
            self.base.push(value);
        } else {
            self.candidate.push(value);
        }
    }
}

/// How a comparison's samples were taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// Interleaved ABBA rounds in one job: the effect is each round's ratio.
    Paired,
    /// Two independent sets of runs: ratio of medians, bootstrap interval. Weaker.
    Unpaired,
}

/// Settings of a comparison.
#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
    /// Confidence of the intervals.
    pub confidence: f64,
    /// Changes below this many percent are unchanged (the configured noise floor).
    pub noise_pct: f64,
    /// A regression whose whole interval lies beyond this many percent fails the gate.
    pub max_regression_pct: f64,
    /// A counted metric ([`Kind::Counted`]) worse by more than this many percent fails the gate.
    pub max_counted_regression_pct: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            confidence: 0.95,
            noise_pct: 2.0,
            max_regression_pct: 10.0,
            max_counted_regression_pct: 1.0,
        }
    }
}

/// Which way a metric moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within noise, or the interval includes no change.
    Unchanged,
    /// Better, beyond noise.
    Improved,
    /// Worse, beyond noise.
    Regressed,
    /// Too few usable figures to say.
    Inconclusive,
}

/// How large a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Not a change.
    None,
    /// Up to 5 %.
    Low,
    /// Above 5 %.
    Medium,
    /// Above 15 %.
    High,
}

/// What the gate makes of a metric (and of the whole comparison: the worst of its metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Nothing to object to.
    Pass,
    /// The point estimate is beyond the allowed regression, the interval not wholly.
    Warn,
    /// Beyond the allowed regression with confidence, or a deterministic figure got worse.
    Fail,
}

/// One metric's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct MetricOutcome {
    /// Metric id.
    pub id: String,
    /// Unit of the figures.
    pub unit: &'static str,
    /// Whether higher is better.
    pub higher_is_better: bool,
    /// `higher_is_better`, `lower_is_better`, or `neither` (a count that should simply not change).
    pub direction: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// Median of the base figures.
    pub base_median: Option<f64>,
    /// Median of the candidate figures.
    pub candidate_median: Option<f64>,
    /// The effect: median per-round ratio (paired) or ratio of medians (unpaired), candidate/base.
    pub ratio: Option<f64>,
    /// Lower end of the interval of the ratio.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
    /// `(ratio - 1)·100`.
    pub change_pct: Option<f64>,
    /// The noise floor applied, percent.
    pub noise_floor_pct: f64,
    /// Which way it moved.
    pub verdict: Verdict,
    /// How much.
    pub severity: Severity,
    /// What the gate makes of it.
    pub gate: Gate,
    /// Rounds with a figure on both sides.
    pub rounds: usize,
    /// Rounds (runs, unpaired) whose base figure was [`UNBOUNDED`]: a chaos scenario that did
    /// not recover within the run, or finished nothing during the fault.
    pub base_unbounded: usize,
    /// The same for the candidate. When the candidate has more such rounds than the base, the
    /// metric regressed whatever its other rounds say (see `unbounded_rounds`).
    pub candidate_unbounded: usize,
    /// Why, in a sentence.
    pub reason: String,
}

/// A whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Paired or unpaired.
    pub design: Design,
    /// The settings used.
    #[serde(skip)]
    pub options: CompareOptions,
    /// Worst gate over the metrics.
    pub gate: Gate,
    /// Per metric, in the order of the samples ([`compared_metrics`]).
    pub metrics: Vec<MetricOutcome>,
}

/// Compares samples. `learnt_floor` gives, per metric id, a noise floor learnt from past A/A
/// comparisons on this machine (percent), if any.
pub fn compare(
    design: Design,
    samples: &[Samples],
    options: CompareOptions,
    learnt_floor: &dyn Fn(&str) -> Option<f64>,
) -> Comparison {
    let metrics: Vec<MetricOutcome> = samples
        .iter()
        .map(|sample| {
            // `--noise` is the timed figures' floor; a count has its own, far finer one.
            let general = if sample.kind == Kind::Counted {
                0.0
            } else {
                options.noise_pct
            };
            let floor = general
                .max(configured_floor(&sample.id))
                .max(learnt_floor(&sample.id).unwrap_or(0.0));
            outcome(design, sample, options, floor)
        })
        .collect();
    let gate = metrics.iter().map(|m| m.gate).max().unwrap_or(Gate::Pass);
    Comparison {
        design,
        options,
        gate,
        metrics,
    }
}

fn outcome(design: Design, sample: &Samples, options: CompareOptions, floor: f64) -> MetricOutcome {
    unbounded_rounds(
        design,
        sample,
        options,
        figures_outcome(design, sample, options, floor),
    )
}

fn figures_outcome(design: Design, sample: &Samples, options: CompareOptions, floor: f64) -> MetricOutcome {
    let def = metric(&sample.id);
    let better = def.map_or(Better::Lower, |d| d.better);
    let higher_is_better = better == Better::Higher;
    let direction = match better {
        Better::Higher => "higher_is_better",
        Better::Lower => "lower_is_better",
        Better::Neither => "neither",
    };
    let usable = |values: &[f64]| {
        values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect::<Vec<f64>>()
    };
    let (base, candidate) = (usable(&sample.base), usable(&sample.candidate));
    let mut out = MetricOutcome {
        id: sample.id.clone(),
        unit: def.map_or("", |d| d.unit),
        higher_is_better,
        direction,
        kind: sample.kind,
        base_median: stats::median(&base),
        candidate_median: stats::median(&candidate),
        ratio: None,
        ci_low: None,
        ci_high: None,
        change_pct: None,
        noise_floor_pct: if sample.kind == Kind::Exact { 0.0 } else { floor },
        verdict: Verdict::Inconclusive,
        severity: Severity::None,
        gate: Gate::Pass,
        rounds: 0,
        base_unbounded: sample.base.iter().filter(|v| **v == UNBOUNDED).count(),
        candidate_unbounded: sample.candidate.iter().filter(|v| **v == UNBOUNDED).count(),
        reason: String::new(),
    };
    // "Worse" as a signed change in percent: positive is a regression whatever the direction.
    let worse_pct = |ratio: f64| {
        if higher_is_better {
            (1.0 - ratio) * 100.0
        } else {
            (ratio - 1.0) * 100.0
        }
    };
    if sample.kind == Kind::Exact {
        return exact(out, &base, &candidate);
    }
    if sample.kind == Kind::Counted {
        return counted(out, &base, &candidate, floor, options);
    }
    let interval = match design {
        Design::Paired => {
            let ratios: Vec<f64> = sample
                .base
                .iter()
                .zip(&sample.candidate)
                .filter(|(b, c)| b.is_finite() && c.is_finite() && **b >= 0.0 && **c >= 0.0)
                // Both sides 0 (a chaos run that was back in its band at once) is a round
                // without change; 0 on the base side alone gives no ratio.
                .filter_map(|(b, c)| match (*b == 0.0, *c == 0.0) {
                    (true, true) => Some(1.0),
                    (true, false) => None,
                    _ => Some(c / b),
                })
                .collect();
            out.rounds = ratios.len();
            stats::median_interval(&ratios, options.confidence)
                .and_then(|(low, high, _)| Some((stats::median(&ratios)?, low, high)))
        }
        Design::Unpaired => {
            out.rounds = base.len().min(candidate.len());
            let positive = |values: &[f64]| values.iter().all(|v| *v > 0.0);
            if positive(&base) && positive(&candidate) {
                stats::unpaired_ratio_interval(&base, &candidate, options.confidence)
            } else {
                None
            }
        }
    };
    let Some((ratio, low, high)) = interval else {
        out.reason = format!(
            "{} usable round(s): too few for a {:.0} % interval",
            out.rounds,
            options.confidence * 100.0
        );
        return out;
    };
    out.ratio = Some(ratio);
    out.ci_low = Some(low);
    out.ci_high = Some(high);
    out.change_pct = Some((ratio - 1.0) * 100.0);
    let point_worse = worse_pct(ratio);
    // The end of the interval nearest "no change", as a regression: how bad it is at least.
    let least_worse = worse_pct(low).min(worse_pct(high));
    let movement = def.map_or(Movement::Unchanged, |def| {
        judge::judge(
            def,
            Some(Change::from_ratio(ratio, Some((low, high)))),
            floor,
            ratio > 1.0,
        )
    });
    out.verdict = verdict_of(movement);
    if out.verdict == Verdict::Unchanged {
        out.reason = if low <= 1.0 && 1.0 <= high {
            format!("the interval {} includes no change", interval_text(low, high))
        } else {
            format!(
                "{:+.1} % is below the noise floor of {floor:.1} %",
                (ratio - 1.0) * 100.0
            )
        };
    } else {
        out.severity = severity(point_worse.abs());
        out.reason = format!(
            "{:+.1} %, interval {}",
            (ratio - 1.0) * 100.0,
            interval_text(low, high)
        );
        if out.verdict == Verdict::Regressed {
            if least_worse > options.max_regression_pct {
                out.gate = Gate::Fail;
                out.reason.push_str(&format!(
                    ": the whole interval is beyond the allowed {:.0} % regression",
                    options.max_regression_pct
                ));
            } else if point_worse > options.max_regression_pct {
                out.gate = Gate::Warn;
                out.reason.push_str(&format!(
                    ": the estimate is beyond the allowed {:.0} % regression, the interval not wholly",
                    options.max_regression_pct
                ));
            }
        }
    }
    out
}

/// Rounds whose figure was [`UNBOUNDED`] (a chaos run that did not recover, or finished nothing
/// during the fault). They cannot enter a ratio, and dropping them like missing figures would let
/// a candidate that stops recovering look unchanged, judged on the rounds where it still did. So
/// they are counted per side and compared on their own:
/// - paired: the rounds where exactly one side was unbounded are a sign test (McNemar's, exact):
///   the candidate alone in more of them than the base alone is a regression (severity high),
///   failing the gate when the one-sided binomial probability of that many or more under no
///   change is below half of 1 − confidence (as the interval's ends are), else warning; the
///   other way round, with the finite rounds not regressed, an improvement;
/// - unpaired: a larger share of the candidate's runs is a regression that warns (no pairing to
///   test it by), a smaller one an improvement.
///
/// Rounds unbounded on both sides are ties. The finite rounds keep their own analysis, whose
/// reason follows.
fn unbounded_rounds(
    design: Design,
    sample: &Samples,
    options: CompareOptions,
    mut out: MetricOutcome,
) -> MetricOutcome {
    let (base, candidate) = (out.base_unbounded, out.candidate_unbounded);
    if base == 0 && candidate == 0 {
        return out;
    }
    let (worse, better, p_worse) = match design {
        Design::Paired => {
            let pairs = || sample.base.iter().zip(&sample.candidate);
            let candidate_alone = pairs()
                .filter(|(b, c)| **c == UNBOUNDED && **b != UNBOUNDED)
                .count();
            let base_alone = pairs()
                .filter(|(b, c)| **b == UNBOUNDED && **c != UNBOUNDED)
                .count();
            let p = binomial_upper_tail(candidate_alone, candidate_alone + base_alone);
            (candidate_alone > base_alone, base_alone > candidate_alone, p)
        }
        Design::Unpaired => {
            let share = |n: usize, of: &[f64]| n as f64 / of.len().max(1) as f64;
            let (b, c) = (share(base, &sample.base), share(candidate, &sample.candidate));
            (c > b, b > c, 1.0)
        }
    };
    let counts = format!(
        "unbounded (did not recover, or nothing finished during the fault) in {candidate} of {} round(s), base {base} of {}",
        sample.candidate.len(),
        sample.base.len()
    );
    let finite = if out.reason.is_empty() {
        String::new()
    } else {
        format!("; the other rounds: {}", out.reason)
    };
    if worse {
        out.verdict = Verdict::Regressed;
        out.severity = Severity::High;
        let alpha = (1.0 - options.confidence) / 2.0;
        out.gate = out
            .gate
            .max(if p_worse < alpha { Gate::Fail } else { Gate::Warn });
        out.reason = format!("{counts}: worse (p = {p_worse:.3}){finite}");
    } else if better && out.verdict != Verdict::Regressed {
        out.verdict = Verdict::Improved;
        out.severity = out.severity.max(Severity::Low);
        out.reason = format!("{counts}: better{finite}");
    } else {
        out.reason = format!("{counts}{finite}");
    }
    out
}

/// P(X ≥ k) for X ~ Binomial(n, ½): 1 for k = 0.
fn binomial_upper_tail(k: usize, n: usize) -> f64 {
    let mut term = 0.5_f64.powi(i32::try_from(n).unwrap_or(i32::MAX)); // C(n, 0)/2^n
    let mut tail = 0.0;
    for i in 0..=n {
        if i >= k {
            tail += term;
        }
        term *= (n - i) as f64 / (i + 1) as f64;
    }
    tail.min(1.0)
}

fn exact(mut out: MetricOutcome, base: &[f64], candidate: &[f64]) -> MetricOutcome {
    out.rounds = base.len().min(candidate.len());
    let (Some(first), Some(second)) = (base.first(), candidate.first()) else {
        out.reason = "no figures".to_owned();
        return out;
    };
    let steady = |values: &[f64], first: f64| values.iter().all(|v| *v == first);
    if !steady(base, *first) || !steady(candidate, *second) {
        out.reason = "differs between runs of the same build, so it is not deterministic here".to_owned();
        return out;
    }
    let ratio = if *first == 0.0 {
        if *second == 0.0 { 1.0 } else { f64::INFINITY }
    } else {
        second / first
    };
    out.ratio = Some(ratio).filter(|r| r.is_finite());
    out.ci_low = out.ratio;
    out.ci_high = out.ratio;
    out.change_pct = out.ratio.map(|r| (r - 1.0) * 100.0);
    if first == second {
        out.verdict = Verdict::Unchanged;
        out.reason = "identical in every run (deterministic)".to_owned();
    } else {
        // The same judge as every other verdict, with no floor: a deterministic figure that
        // changed is never noise. A figure with no better direction (the message count)
        // changing means the workload changed, which the judge calls "changed".
        let movement = metric(&out.id).map_or(Movement::Changed, |def| {
            judge::judge_figures(def, *first, *second, 0.0)
        });
        let worse = matches!(movement, Movement::Regressed | Movement::Changed);
        out.verdict = verdict_of(movement);
        out.severity = Severity::High;
        out.reason = format!("deterministic figure changed from {first} to {second}: never noise");
        if worse {
            out.gate = Gate::Fail;
        }
    }
    out
}

/// A counted metric: each side's counts must agree within the floor (else the count is not
/// reproducible here and says nothing), and the ratio of their medians is the change.
fn counted(
    mut out: MetricOutcome,
    base: &[f64],
    candidate: &[f64],
    floor: f64,
    options: CompareOptions,
) -> MetricOutcome {
    out.rounds = base.len().min(candidate.len());
    let (Some(base_median), Some(candidate_median)) = (out.base_median, out.candidate_median) else {
        out.reason = "not counted on both sides".to_owned();
        return out;
    };
    // The largest difference between two counts of one side, percent of the smaller.
    let spread = |values: &[f64]| {
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if low > 0.0 {
            (high / low - 1.0) * 100.0
        } else {
            f64::INFINITY
        }
    };
    let residual = spread(base).max(spread(candidate));
    if residual > floor {
        out.reason = format!(
            "counts of the same build differ by {residual:.3} %, more than the floor of {floor:.2} %: not reproducible here"
        );
        return out;
    }
    if base_median <= 0.0 {
        out.reason = "the base counted nothing".to_owned();
        return out;
    }
    let ratio = candidate_median / base_median;
    out.ratio = Some(ratio);
    out.ci_low = Some(ratio);
    out.ci_high = Some(ratio);
    out.change_pct = Some((ratio - 1.0) * 100.0);
    let movement = metric(&out.id).map_or(Movement::Unchanged, |def| {
        judge::judge(def, Some(Change::from_ratio(ratio, None)), floor, ratio > 1.0)
    });
    out.verdict = verdict_of(movement);
    let change = (ratio - 1.0) * 100.0;
    let counts = format!("counted, residual {residual:.3} % between counts of one build");
    if out.verdict == Verdict::Unchanged {
        out.reason = format!("{change:+.3} % is within the floor of {floor:.2} % ({counts})");
        return out;
    }
    let worse = if out.higher_is_better { -change } else { change };
    out.severity = severity(worse.abs());
    out.reason = format!("{change:+.2} % ({counts})");
    if out.verdict == Verdict::Regressed && worse > options.max_counted_regression_pct {
        out.gate = Gate::Fail;
        out.reason.push_str(&format!(
            ": beyond the allowed {} % for counted work",
            options.max_counted_regression_pct
        ));
    }
    out
}

/// The comparison's verdict for the judge's movement. A metric with no better direction that
/// moved means the workload changed: a regression of the comparison.
fn verdict_of(movement: Movement) -> Verdict {
    match movement {
        Movement::Improved => Verdict::Improved,
        Movement::Regressed | Movement::Changed => Verdict::Regressed,
        Movement::Unchanged => Verdict::Unchanged,
    }
}

fn severity(worse_abs_pct: f64) -> Severity {
    if worse_abs_pct > 15.0 {
        Severity::High
    } else if worse_abs_pct > 5.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

fn interval_text(low: f64, high: f64) -> String {
    format!("[{:+.1} %, {:+.1} %]", (low - 1.0) * 100.0, (high - 1.0) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::stats::SeededRng;
    use super::*;

    fn throughput(base: Vec<f64>, candidate: Vec<f64>) -> Samples {
        Samples {
            id: "cpu.messages_per_second".to_owned(),
            kind: Kind::Measured,
            base,
            candidate,
        }
    }

    fn no_history(_: &str) -> Option<f64> {
        None
    }

    /// Six paired rounds of throughput with multiplicative noise `sigma` and drift shared by both
    /// sides of a round (as on a shared runner), the candidate slower by `slowdown`.
    fn rounds(rng: &mut SeededRng, slowdown: f64, sigma: f64, n: usize) -> Samples {
        let mut base = Vec::new();
        let mut candidate = Vec::new();
        for round in 0..n {
            let drift = 1.0 + 0.2 * (round as f64 / n as f64) + 0.05 * rng.normal();
            base.push(500_000.0 * drift * (1.0 + sigma * rng.normal()));
            candidate.push(500_000.0 * drift * (1.0 - slowdown) * (1.0 + sigma * rng.normal()));
        }
        throughput(base, candidate)
    }

    fn instructions(base: Vec<f64>, candidate: Vec<f64>) -> Samples {
        Samples {
            id: "cpu.instructions_per_message".to_owned(),
            kind: Kind::Counted,
            base,
            candidate,
        }
    }

    #[test]
    fn a_count_is_judged_by_its_own_floor_and_limit_not_by_the_timed_ones() {
        let judge = |base: Vec<f64>, candidate: Vec<f64>| {
            compare(
                Design::Paired,
                &[instructions(base, candidate)],
                CompareOptions::default(),
                &no_history,
            )
            .metrics
            .remove(0)
        };
        let same = judge(vec![10_000.0, 10_000.0], vec![10_000.0, 10_000.0]);
        assert_eq!((same.verdict, same.gate), (Verdict::Unchanged, Gate::Pass));
        // The floor is the catalogue's tenth of a percent, not --noise's 2 %.
        assert_eq!(same.noise_floor_pct, 0.1);
        let tiny = judge(vec![10_000.0, 10_001.0], vec![10_004.0, 10_005.0]);
        assert_eq!(tiny.verdict, Verdict::Unchanged, "{}", tiny.reason);
        // Half a percent more work: regressed, within the 1 % limit.
        let half = judge(vec![10_000.0, 10_000.0], vec![10_050.0, 10_050.0]);
        assert_eq!(
            (half.verdict, half.gate),
            (Verdict::Regressed, Gate::Pass),
            "{}",
            half.reason
        );
        assert_eq!(half.ci_low, half.ratio);
        // Two percent: fails, with no interval needed.
        let two = judge(vec![10_000.0, 10_000.0], vec![10_200.0, 10_200.0]);
        assert_eq!(
            (two.verdict, two.gate),
            (Verdict::Regressed, Gate::Fail),
            "{}",
            two.reason
        );
        assert!(two.reason.contains("1 %"), "{}", two.reason);
        // Less work: improved, never failing.
        let less = judge(vec![10_000.0], vec![9_000.0]);
        assert_eq!((less.verdict, less.gate), (Verdict::Improved, Gate::Pass));
        // Counts of one build that disagree beyond the floor say nothing.
        let shaky = judge(vec![10_000.0, 10_300.0], vec![10_200.0, 10_200.0]);
        assert_eq!((shaky.verdict, shaky.gate), (Verdict::Inconclusive, Gate::Pass));
        assert!(shaky.reason.contains("not reproducible"), "{}", shaky.reason);
        let none = judge(vec![], vec![10_000.0]);
        assert_eq!(none.verdict, Verdict::Inconclusive);
        // Its own limit, configurable.
        let strict = compare(
            Design::Paired,
            &[instructions(vec![10_000.0], vec![10_050.0])],
            CompareOptions {
                max_counted_regression_pct: 0.25,
                ..CompareOptions::default()
            },
            &no_history,
        );
        assert_eq!(strict.gate, Gate::Fail);
    }

    fn verdicts(slowdown: f64, sigma: f64, trials: usize) -> (usize, usize, usize) {
        verdicts_with(slowdown, sigma, trials, 6)
    }

    fn verdicts_with(slowdown: f64, sigma: f64, trials: usize, n: usize) -> (usize, usize, usize) {
        let mut rng = SeededRng::new(42);
        let (mut regressed, mut failed, mut warned) = (0, 0, 0);
        for _ in 0..trials {
            let samples = rounds(&mut rng, slowdown, sigma, n);
            let outcome =
                &compare(Design::Paired, &[samples], CompareOptions::default(), &no_history).metrics[0];
            regressed += usize::from(outcome.verdict == Verdict::Regressed);
            failed += usize::from(outcome.gate == Gate::Fail);
            warned += usize::from(outcome.gate == Gate::Warn);
        }
        (regressed, failed, warned)
    }

    /// Known false-positive rate: identical builds with 3 % noise per run and drift between
    /// rounds. The sign-test interval alone allows 3.1 % false calls; the 2 % floor removes most.
    #[test]
    fn each_compared_metric_is_in_the_catalogue_and_exact_there_when_compared_exactly() {
        for compared in COMPARED {
            let def =
                metric(compared.id).unwrap_or_else(|| panic!("{} is not in the catalogue", compared.id));
            assert_eq!(compared.kind == Kind::Exact, def.exact, "{}", compared.id);
        }
    }

    #[test]
    fn aa_false_regressions_are_rare_on_generated_data() {
        let (regressed, failed, _) = verdicts(0.0, 0.03, 2_000);
        assert!(
            regressed <= 2_000 * 3 / 100,
            "{regressed} of 2000 false regressions"
        );
        assert_eq!(failed, 0);
    }

    /// The default of 10 rounds, under the same 3 % noise per run (docs/statistics.md quotes
    /// these rates): false regressions stay rare, power goes up, and a 5 % slowdown is seen
    /// without failing the gate.
    #[test]
    fn ten_rounds_rates_on_generated_data() {
        let (false_regressed, false_failed, _) = verdicts_with(0.0, 0.03, 2_000, 10);
        let (detected, failed_at_10, _) = verdicts_with(0.10, 0.03, 2_000, 10);
        let (seen_5, failed_at_5, _) = verdicts_with(0.05, 0.03, 2_000, 10);
        eprintln!(
            "10 rounds, 3 % noise: A/A {false_regressed} regressed, {false_failed} failed; 10 %: {detected} regressed, {failed_at_10} failed; 5 %: {seen_5} regressed, {failed_at_5} failed (of 2000 each)"
        );
        assert!(false_regressed <= 2_000 * 3 / 100, "{false_regressed}");
        assert_eq!(false_failed, 0);
        assert!(detected >= 2_000 * 99 / 100, "{detected}");
        assert!(failed_at_10 < 2_000 / 10, "{failed_at_10}");
        assert!(seen_5 >= 2_000 * 60 / 100, "{seen_5}");
        assert_eq!(failed_at_5, 0);
    }

    /// Known power: a 10 % slowdown under the same noise is called a regression almost always.
    #[test]
    fn a_ten_percent_slowdown_is_detected_on_generated_data() {
        let (regressed, failed, warned) = verdicts(0.10, 0.03, 2_000);
        assert!(regressed >= 2_000 * 95 / 100, "{regressed} of 2000 detected");
        // At exactly the allowed regression, the gate mostly warns rather than fails.
        assert!(failed < 2_000 / 10, "{failed} failed");
        assert!(warned > 0);
    }

    #[test]
    fn a_five_percent_slowdown_is_reported_without_failing_the_gate() {
        let (regressed, failed, _) = verdicts(0.05, 0.01, 2_000);
        assert!(regressed >= 2_000 * 9 / 10, "{regressed}");
        assert_eq!(failed, 0);
    }

    #[test]
    fn a_large_slowdown_fails_the_gate() {
        let (regressed, failed, _) = verdicts(0.30, 0.03, 500);
        assert_eq!(regressed, 500);
        assert!(failed >= 490, "{failed}");
    }

    /// With 10 rounds one disturbed round (the machine busy during one side's run) cannot hide
    /// a 10 % slowdown; with 6 it can, since the interval is then the whole range.
    #[test]
    fn ten_rounds_survive_one_disturbed_round() {
        let mut rng = SeededRng::new(3);
        let mut samples = rounds(&mut rng, 0.10, 0.01, 10);
        samples.base[4] *= 0.5;
        let outcome = &compare(
            Design::Paired,
            &[samples.clone()],
            CompareOptions::default(),
            &no_history,
        )
        .metrics[0];
        assert_eq!(outcome.verdict, Verdict::Regressed, "{}", outcome.reason);
        samples.base.truncate(6);
        samples.candidate.truncate(6);
        let outcome = &compare(Design::Paired, &[samples], CompareOptions::default(), &no_history).metrics[0];
        assert_eq!(outcome.verdict, Verdict::Unchanged, "{}", outcome.reason);
    }

    #[test]
    fn windowed_throughput_is_the_median_rate_and_ignores_a_stall() {
        // 1,000 messages per 10 ms (100,000/s), except a 40 ms stall at half speed.
        let mut t = Vec::new();
        let mut messages = Vec::new();
        let mut total = 0.0;
        for i in 0..=40 {
            t.push(f64::from(i) * 10.0);
            messages.push(total);
            total += if (10..14).contains(&i) { 500.0 } else { 1_000.0 };
        }
        let text = serde_json::json!({
            "schema_version": 1,
            "cpu": {"messages_per_second": 1.0},
            "phases": {"saturation": {"memory": {"series": {"t_ms": t, "messages": messages}}}}
        })
        .to_string();
        let run = crate::input::parse_results(std::path::Path::new("r.json"), &text).unwrap();
        let rate = windowed_throughput(&run, 50.0).unwrap();
        assert!((rate - 100_000.0).abs() < 1e-6, "{rate}");
        // Too short a window for three chunks: no figure.
        assert_eq!(windowed_throughput(&run, 200.0), None);
    }

    #[test]
    fn direction_comes_from_the_metric() {
        let latency = Samples {
            id: "latency.p50_ms".to_owned(),
            kind: Kind::Measured,
            base: vec![1.0; 6],
            candidate: vec![0.8, 0.81, 0.79, 0.8, 0.82, 0.78],
        };
        let outcome = &compare(Design::Paired, &[latency], CompareOptions::default(), &no_history).metrics[0];
        assert_eq!(outcome.verdict, Verdict::Improved);
        assert_eq!(outcome.gate, Gate::Pass);
        assert_eq!(outcome.severity, Severity::High);
    }

    #[test]
    fn a_learnt_noise_floor_above_the_configured_one_wins() {
        let samples = throughput(vec![100.0; 6], vec![96.0, 96.5, 95.5, 96.0, 96.2, 95.8]);
        let outcome = &compare(
            Design::Paired,
            std::slice::from_ref(&samples),
            CompareOptions::default(),
            &no_history,
        )
        .metrics[0];
        assert_eq!(outcome.verdict, Verdict::Regressed);
        let outcome = &compare(Design::Paired, &[samples], CompareOptions::default(), &|_| {
            Some(5.0)
        })
        .metrics[0];
        assert_eq!(outcome.verdict, Verdict::Unchanged);
        assert_eq!(outcome.noise_floor_pct, 5.0);
    }

    #[test]
    fn each_metric_keeps_its_configured_floor() {
        // The same clear +15 % (interval well away from 1) is a regression of CPU per message
        // but below the 20 % floor of the p99 latency, whose A/A medians move that much.
        let samples = |id: &str| Samples {
            id: id.to_owned(),
            kind: Kind::Measured,
            base: vec![100.0; 6],
            candidate: vec![115.0, 114.5, 115.5, 115.0, 114.8, 115.2],
        };
        let comparison = compare(
            Design::Paired,
            &[samples("cpu.cpu_ns_per_message"), samples("latency.p99_ms")],
            CompareOptions::default(),
            &no_history,
        );
        assert_eq!(comparison.metrics[0].verdict, Verdict::Regressed);
        assert_eq!(comparison.metrics[0].noise_floor_pct, 2.0);
        assert_eq!(comparison.metrics[1].verdict, Verdict::Unchanged);
        assert_eq!(comparison.metrics[1].noise_floor_pct, 20.0);
        // --noise above a configured floor raises it.
        let options = CompareOptions {
            noise_pct: 25.0,
            ..CompareOptions::default()
        };
        let comparison = compare(
            Design::Paired,
            &[samples("cpu.cpu_ns_per_message")],
            options,
            &no_history,
        );
        assert_eq!(comparison.metrics[0].noise_floor_pct, 25.0);
    }

    #[test]
    fn exact_figures_fail_on_any_change_for_the_worse() {
        let exact = |base: f64, candidate: f64| Samples {
            id: "errors.total".to_owned(),
            kind: Kind::Exact,
            base: vec![base; 6],
            candidate: vec![candidate; 6],
        };
        let run =
            |s| compare(Design::Paired, &[s], CompareOptions::default(), &no_history).metrics[0].clone();
        assert_eq!(run(exact(0.0, 0.0)).verdict, Verdict::Unchanged);
        let worse = run(exact(0.0, 1.0));
        assert_eq!((worse.verdict, worse.gate), (Verdict::Regressed, Gate::Fail));
        let better = run(exact(10.0, 9.0));
        assert_eq!((better.verdict, better.gate), (Verdict::Improved, Gate::Pass));
        let mut unsteady = exact(1.0, 1.0);
        unsteady.base[2] = 2.0;
        assert_eq!(run(unsteady).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn too_few_rounds_are_inconclusive_not_a_verdict() {
        let samples = throughput(vec![100.0; 4], vec![50.0; 4]);
        let outcome = &compare(Design::Paired, &[samples], CompareOptions::default(), &no_history).metrics[0];
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
        assert_eq!(outcome.gate, Gate::Pass);
    }

    #[test]
    fn the_compared_list_has_chaos_rows_only_with_a_chaos_scenario() {
        let ids = |list: Vec<Compared>| list.iter().map(|c| c.id).collect::<Vec<_>>();
        let plain = ids(compared_metrics(None));
        assert_eq!(plain, COMPARED.iter().map(|c| c.id).collect::<Vec<_>>());
        assert!(plain.iter().all(|id| !id.starts_with("chaos.")));
        let with = ids(compared_metrics(Some("load_burst")));
        assert_eq!(with[..COMPARED.len()], plain[..]);
        assert_eq!(
            with[COMPARED.len()..],
            [
                "chaos.load_burst.recovery_s",
                "chaos.load_burst.degraded_throughput_ratio",
                "chaos.load_burst.degraded_p99_ratio"
            ]
        );
        // Every scenario the profiler knows has its three figures in the catalogue, timed.
        for (scenario, _) in perfgate_results::chaos::CHAOS_SCENARIOS {
            let list = compared_metrics(Some(scenario));
            assert_eq!(list.len(), COMPARED.len() + 3, "{scenario}");
            assert!(list[COMPARED.len()..].iter().all(|c| c.kind == Kind::Measured));
        }
        assert_eq!(compared_metrics(Some("no_such_scenario")).len(), COMPARED.len());
    }

    fn recovery(base: Vec<f64>, candidate: Vec<f64>) -> MetricOutcome {
        let samples = Samples {
            id: "chaos.load_burst.recovery_s".to_owned(),
            kind: Kind::Measured,
            base,
            candidate,
        };
        compare(Design::Paired, &[samples], CompareOptions::default(), &no_history).metrics[0].clone()
    }

    /// A round that did not recover is not dropped like a missing one: a candidate that stops
    /// recovering regresses even though its recovered rounds look like the base's.
    #[test]
    fn rounds_that_did_not_recover_are_counted_not_dropped() {
        let steady = vec![1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.0, 1.1, 0.9];
        let mut stuck = steady.clone();
        for round in [0, 2, 3, 5, 6, 8, 9] {
            stuck[round] = UNBOUNDED;
        }
        // Seven rounds stuck against none: p = 2⁻⁷ < 0.025, the gate fails.
        let outcome = recovery(steady.clone(), stuck.clone());
        assert_eq!(
            (outcome.verdict, outcome.gate),
            (Verdict::Regressed, Gate::Fail),
            "{}",
            outcome.reason
        );
        assert_eq!((outcome.base_unbounded, outcome.candidate_unbounded), (0, 7));
        assert!(outcome.reason.starts_with("unbounded"), "{}", outcome.reason);
        // One stuck round against none is a warning, not proof.
        let mut once = steady.clone();
        once[4] = UNBOUNDED;
        let outcome = recovery(steady.clone(), once.clone());
        assert_eq!(
            (outcome.verdict, outcome.gate),
            (Verdict::Regressed, Gate::Warn),
            "{}",
            outcome.reason
        );
        // The same rounds stuck on both sides are ties: judged on the others.
        let outcome = recovery(once.clone(), once.clone());
        assert_eq!(
            (outcome.verdict, outcome.gate),
            (Verdict::Unchanged, Gate::Pass),
            "{}",
            outcome.reason
        );
        // The base stuck where the candidate recovers: an improvement.
        let outcome = recovery(stuck, steady);
        assert_eq!(
            (outcome.verdict, outcome.gate),
            (Verdict::Improved, Gate::Pass),
            "{}",
            outcome.reason
        );
        assert_eq!(binomial_upper_tail(0, 0), 1.0);
        assert!((binomial_upper_tail(7, 7) - 1.0 / 128.0).abs() < 1e-12);
        assert!((binomial_upper_tail(2, 3) - 0.5).abs() < 1e-12);
    }

    /// Both sides back in their band at once (0 s) is a round without change, not a round
    /// without a ratio.
    #[test]
    fn zero_on_both_sides_is_no_change() {
        let outcome = recovery(vec![0.0; 6], vec![0.0; 6]);
        assert_eq!(
            (outcome.verdict, outcome.rounds),
            (Verdict::Unchanged, 6),
            "{}",
            outcome.reason
        );
    }

    #[test]
    fn chaos_figures_read_a_null_as_unbounded() {
        let text = serde_json::json!({
            "schema_version": 1,
            "cpu": {"messages_per_second": 1.0},
            "chaos": {"seed": 42, "window_ms": 100.0, "scenarios": {"load_burst": {
                "degraded_throughput_ratio": 0.9,
                "degraded_p99_ratio": null,
                "recovered": false,
                "recovery_s": null
            }}}
        })
        .to_string();
        let run = crate::input::parse_results(std::path::Path::new("r.json"), &text).unwrap();
        let figures = chaos_figures(&run, "load_burst");
        assert_eq!(figures["chaos.load_burst.recovery_s"], UNBOUNDED);
        assert_eq!(figures["chaos.load_burst.degraded_p99_ratio"], UNBOUNDED);
        assert_eq!(figures["chaos.load_burst.degraded_throughput_ratio"], 0.9);
        assert!(chaos_figures(&run, "error_burst").is_empty());
    }

    #[test]
    fn unpaired_comparisons_use_the_ratio_of_medians() {
        let samples = throughput(
            vec![100.0, 102.0, 98.0, 101.0, 99.0],
            vec![80.0, 81.0, 79.0, 80.5, 79.5],
        );
        let outcome = &compare(
            Design::Unpaired,
            &[samples],
            CompareOptions::default(),
            &no_history,
        )
        .metrics[0];
        assert_eq!(outcome.verdict, Verdict::Regressed);
        assert_eq!(outcome.gate, Gate::Fail);
        assert!((outcome.ratio.unwrap() - 0.8).abs() < 1e-9);
    }
}
