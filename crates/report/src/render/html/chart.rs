//! Hand-written SVG charts for the HTML report: scales (linear and log), round ticks, panels of
//! line series stacked on one shared x axis, diverging bars and dot plots, with axis labels,
//! legends and markers. It knows nothing of perfgate's data (`charts.rs` decides what to draw
//! from what); every text it is given is escaped here. Colours and fonts come from CSS through
//! classes (`c0`…`c7`), so a chart's elements hold geometry only: inline, the page's style sheet
//! styles them; as a file of its own, the same rules (`theme.css`, `chart.css`) go inside it.

use std::fmt::Write;

use super::escape::esc;
use crate::metric::format_value;

/// Font size of chart text, in SVG units.
const FONT: f64 = 12.0;
/// Average width of a character at [`FONT`], for laying out labels and legends.
const CHAR: f64 = 6.8;
/// Average width of a bold character at [`FONT`] (panel titles).
const BOLD_CHAR: f64 = 8.0;
/// Height of a row of legend entries.
const LEGEND_ROW: f64 = 18.0;
/// Space between stacked panels.
const GAP: f64 = 16.0;
/// Longest label shown in full; longer ones are cut (the whole text is in the tooltip).
const LABEL_CHARS: usize = 40;

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Equal distances for equal differences.
    Linear,
    /// Equal distances for equal ratios (base 10); values ≤ 0 cannot be placed.
    Log,
}

/// Maps a data domain onto SVG coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scale {
    kind: Kind,
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// `domain` (data) onto `range` (SVG units; may run backwards, as y does).
    pub(super) fn new(kind: Kind, domain: (f64, f64), range: (f64, f64)) -> Self {
        Scale { kind, domain, range }
    }

    /// Where `value` goes; `None` if it cannot be placed (not finite, or ≤ 0 on a log scale).
    pub(super) fn map(&self, value: f64) -> Option<f64> {
        let transform = |v: f64| match self.kind {
            Kind::Linear => v.is_finite().then_some(v),
            Kind::Log => (v > 0.0 && v.is_finite()).then(|| v.log10()),
        };
        let (v, lo, hi) = (
            transform(value)?,
            transform(self.domain.0)?,
            transform(self.domain.1)?,
        );
        let share = if hi == lo { 0.5 } else { (v - lo) / (hi - lo) };
        Some(self.range.0 + share * (self.range.1 - self.range.0))
    }
}

/// Round ticks covering `[min, max]`: steps of 1, 2 or 5 × 10ⁿ, about `count` intervals, the
/// first at or below `min` and the last at or above `max`.
pub(super) fn linear_ticks(min: f64, max: f64, count: usize) -> Vec<f64> {
    let (mut min, mut max) = if min.is_finite() && max.is_finite() {
        (min.min(max), min.max(max))
    } else {
        (0.0, 1.0)
    };
    if min == max {
        if min == 0.0 {
            max = 1.0;
        } else {
            let pad = min.abs() * 0.1;
            min -= pad;
            max += pad;
        }
    }
    let raw = (max - min) / count.max(1) as f64;
    let exponent = raw.log10().floor() as i32;
    let mantissa = raw / 10f64.powi(exponent);
    let (mantissa, exponent) = match mantissa {
        m if m <= 1.0 + 1e-9 => (1.0, exponent),
        m if m <= 2.0 + 1e-9 => (2.0, exponent),
        m if m <= 5.0 + 1e-9 => (5.0, exponent),
        _ => (1.0, exponent + 1),
    };
    // i × mantissa / 10ⁿ rather than i × step, so that 3 × 0.1 is 0.3 and not 0.30000000000000004.
    let at = |i: i64| {
        if exponent >= 0 {
            i as f64 * mantissa * 10f64.powi(exponent)
        } else {
            i as f64 * mantissa / 10f64.powi(-exponent)
        }
    };
    let step = at(1);
    let first = (min / step + 1e-9).floor() as i64;
    let last = (max / step - 1e-9).ceil() as i64;
    (first..=last).map(at).collect()
}

/// Ticks of a log axis covering `[min, max]` (values ≤ 0 are ignored): every power of ten, and 2
/// and 5 times each when the range spans fewer than three decades; the first at or below `min`
/// and the last at or above `max`.
pub(super) fn log_ticks(min: f64, max: f64) -> Vec<f64> {
    let max = if max > 0.0 && max.is_finite() { max } else { 1.0 };
    let min = if min > 0.0 && min.is_finite() {
        min.min(max)
    } else {
        max / 10.0
    };
    let low = min.log10().floor() as i32;
    let high = (max.log10().ceil() as i32).max(low + 1);
    let multiples: &[f64] = if high - low < 3 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let power = |exponent: i32| {
        if exponent >= 0 {
            10f64.powi(exponent)
        } else {
            1.0 / 10f64.powi(-exponent)
        }
    };
    let all: Vec<f64> = (low..=high)
        .flat_map(|exponent| multiples.iter().map(move |m| m * power(exponent)))
        .collect();
    let first = all
        .iter()
        .rposition(|&tick| tick <= min * (1.0 + 1e-9))
        .unwrap_or(0);
    let last = all
        .iter()
        .position(|&tick| tick >= max * (1.0 - 1e-9))
        .unwrap_or(all.len() - 1);
    all[first..=last.max(first)].to_vec()
}

/// Labels for ticks: the shortest decimals that show each value, thousands grouped, and `k` or
/// `M` for the whole axis when its largest tick reaches 10,000 or a million.
pub(super) fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let largest = ticks.iter().fold(0.0_f64, |most, tick| most.max(tick.abs()));
    let (divisor, suffix) = if largest >= 1e6 {
        (1e6, "M")
    } else if largest >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    ticks
        .iter()
        .map(|tick| {
            let value = tick / divisor;
            let decimals = (0..=6)
                .find(|&d| {
                    let scale = 10f64.powi(d);
                    ((value * scale).round() / scale - value).abs() <= 1e-9 * value.abs().max(1.0)
                })
                .unwrap_or(6);
            let text = if decimals == 0 {
                format_value(value.round(), "")
            } else {
                format!("{value:.*}", decimals as usize)
            };
            match text.as_str() {
                "0" | "-0" => "0".to_owned(),
                _ => format!("{text}{suffix}"),
            }
        })
        .collect()
}

/// Text cut to `max` characters, with an ellipsis when cut.
pub(super) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

/// A number as SVG coordinates carry it: one decimal, no trailing `.0`.
fn n(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stroke {
    /// Solid.
    Solid,
    /// Dashed (a baseline, a reference).
    Dashed,
}

/// One line of a panel.
#[derive(Debug, Clone)]
pub(super) struct Line {
    name: String,
    points: Vec<(f64, f64)>,
    colour: usize,
    stroke: Stroke,
    /// A dot at each point with this tooltip (as many as points), or no dots.
    tips: Vec<String>,
}

impl Line {
    /// A solid line in colour `colour` (0–7).
    pub(super) fn new(name: impl Into<String>, points: Vec<(f64, f64)>, colour: usize) -> Self {
        Line {
            name: name.into(),
            points,
            colour,
            stroke: Stroke::Solid,
            tips: Vec::new(),
        }
    }

    /// Drawn dashed.
    pub(super) fn dashed(mut self) -> Self {
        self.stroke = Stroke::Dashed;
        self
    }

    /// A dot at each point, with these tooltips.
    pub(super) fn dots(mut self, tips: Vec<String>) -> Self {
        self.tips = tips;
        self
    }
}

/// A horizontal reference line across a panel, named in its legend.
#[derive(Debug, Clone)]
pub(super) struct Mark {
    label: String,
    value: f64,
    colour: usize,
}

impl Mark {
    /// A dashed line at `value`.
    pub(super) fn new(label: impl Into<String>, value: f64, colour: usize) -> Self {
        Mark {
            label: label.into(),
            value,
            colour,
        }
    }
}

/// One panel: a y axis of its own, lines and marks, under a title that names the quantity and
/// its unit.
#[derive(Debug, Clone)]
pub(super) struct Panel {
    title: String,
    kind: Kind,
    zero: bool,
    height: f64,
    lines: Vec<Line>,
    marks: Vec<Mark>,
}

impl Panel {
    /// A linear panel whose axis starts at zero.
    pub(super) fn new(title: impl Into<String>) -> Self {
        Panel {
            title: title.into(),
            kind: Kind::Linear,
            zero: true,
            height: 110.0,
            lines: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// A log y axis.
    pub(super) fn log(mut self) -> Self {
        self.kind = Kind::Log;
        self.zero = false;
        self
    }

    /// A y axis fitted to the data rather than starting at zero.
    pub(super) fn fitted(mut self) -> Self {
        self.zero = false;
        self
    }

    /// Plot height in SVG units (110 unless set).
    pub(super) fn height(mut self, height: f64) -> Self {
        self.height = height;
        self
    }

    /// Adds a line, unless it has no point (so that the legend names only what is drawn).
    pub(super) fn line(mut self, line: Line) -> Self {
        if !line.points.is_empty() {
            self.lines.push(line);
        }
        self
    }

    /// Adds a reference line.
    pub(super) fn mark(mut self, mark: Mark) -> Self {
        self.marks.push(mark);
        self
    }

    /// Whether any line has a point.
    pub(super) fn has_data(&self) -> bool {
        self.lines.iter().any(|line| !line.points.is_empty())
    }
}

/// The shared x axis of a plot.
#[derive(Debug, Clone)]
pub(super) struct XAxis {
    label: String,
    kind: Kind,
    /// Fixed ticks with their labels; computed from the data when empty.
    ticks: Vec<(f64, String)>,
}

impl XAxis {
    /// A linear axis with ticks from the data.
    pub(super) fn linear(label: impl Into<String>) -> Self {
        XAxis {
            label: label.into(),
            kind: Kind::Linear,
            ticks: Vec::new(),
        }
    }

    /// A log axis with these ticks (which also set its range).
    pub(super) fn log_with(label: impl Into<String>, ticks: Vec<(f64, String)>) -> Self {
        XAxis {
            label: label.into(),
            kind: Kind::Log,
            ticks,
        }
    }
}

/// Panels stacked on one x axis: a spike at one time lines up across every panel.
#[derive(Debug, Clone)]
pub(super) struct Plot {
    title: String,
    width: f64,
    x: XAxis,
    panels: Vec<Panel>,
}

impl Plot {
    /// A plot 720 units wide.
    pub(super) fn new(title: impl Into<String>, x: XAxis) -> Self {
        Plot {
            title: title.into(),
            width: 720.0,
            x,
            panels: Vec::new(),
        }
    }

    /// Another width (small multiples).
    pub(super) fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    /// Adds a panel if it has data.
    pub(super) fn panel(mut self, panel: Panel) -> Self {
        if panel.has_data() {
            self.panels.push(panel);
        }
        self
    }

    /// Whether there is anything to draw.
    pub(super) fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }

    /// The chart.
    pub(super) fn render(&self) -> Svg {
        let axes: Vec<(Scale, Vec<f64>, Vec<String>)> = self.panels.iter().map(y_axis).collect();
        let left = axes
            .iter()
            .flat_map(|(_, _, labels)| labels.iter().map(|label| text_width(label)))
            .fold(24.0_f64, f64::max)
            + 14.0;
        let right = 18.0;
        let (domain, x_ticks, x_labels) = self.x_ticks(self.width - right - left);
        let x = Scale::new(self.x.kind, domain, (left, self.width - right));
        let mut body = String::new();
        let mut top = 6.0;
        for (panel, (y_scale, y_ticks, y_labels)) in self.panels.iter().zip(&axes) {
            let title_end = left + panel.title.chars().count() as f64 * BOLD_CHAR + 14.0;
            let legend = legend_rows(panel, title_end, left, self.width - right);
            let header =
                LEGEND_ROW * legend.iter().map(|(row, _, _)| row + 1).max().unwrap_or(1) as f64 + 4.0;
            let plot_top = top + header;
            let plot_bottom = plot_top + panel.height;
            let y = Scale::new(panel.kind, y_scale.domain, (plot_bottom, plot_top));
            let _ = write!(
                body,
                "<g class=\"panel\"><text class=\"panel-title\" x=\"{}\" y=\"{}\">{}</text>",
                n(left),
                n(top + 13.0),
                esc(&panel.title)
            );
            for (row, x_at, item) in &legend {
                let base = top + 13.0 + *row as f64 * LEGEND_ROW;
                let (class, name) = match item {
                    LegendItem::Line(line) => (
                        format!("c{}{}", line.colour % 8, dash_class(line.stroke)),
                        &line.name,
                    ),
                    LegendItem::Mark(mark) => (format!("c{} dashed", mark.colour % 8), &mark.label),
                };
                let _ = write!(
                    body,
                    "<g class=\"legend\"><line class=\"swatch {class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
                    n(*x_at),
                    n(base - 4.0),
                    n(x_at + 16.0),
                    n(base - 4.0),
                    n(x_at + 20.0),
                    n(base),
                    esc(&clip(name, LABEL_CHARS))
                );
            }
            body.push_str("<g class=\"grid\">");
            for tick in &x_ticks {
                if let Some(at) = x.map(*tick) {
                    let _ = write!(
                        body,
                        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
                        n(at),
                        n(plot_top),
                        n(plot_bottom)
                    );
                }
            }
            for tick in y_ticks {
                if let Some(at) = y.map(*tick) {
                    let _ = write!(
                        body,
                        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>",
                        n(left),
                        n(at),
                        n(self.width - right)
                    );
                }
            }
            body.push_str("</g><g class=\"ticks y\">");
            for (tick, label) in y_ticks.iter().zip(y_labels) {
                if let Some(at) = y.map(*tick) {
                    let _ = write!(
                        body,
                        "<text x=\"{}\" y=\"{}\">{}</text>",
                        n(left - 6.0),
                        n(at + 4.0),
                        esc(label)
                    );
                }
            }
            body.push_str("</g>");
            for mark in &panel.marks {
                if let Some(at) = y.map(mark.value) {
                    let _ = write!(
                        body,
                        "<line class=\"mark c{0} dashed\" x1=\"{1}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\"><title>{4}</title></line>",
                        mark.colour % 8,
                        n(left),
                        n(at),
                        n(self.width - right),
                        esc(&mark.label)
                    );
                }
            }
            for line in &panel.lines {
                let path = path(&line.points, &x, &y);
                if !path.is_empty() {
                    let _ = write!(
                        body,
                        "<path class=\"series c{}{}\" d=\"{path}\"/>",
                        line.colour % 8,
                        dash_class(line.stroke)
                    );
                }
                for (point, tip) in line.points.iter().zip(&line.tips) {
                    if let (Some(cx), Some(cy)) = (x.map(point.0), y.map(point.1)) {
                        let _ = write!(
                            body,
                            "<circle class=\"dot c{}\" cx=\"{}\" cy=\"{}\" r=\"3.5\"><title>{}</title></circle>",
                            line.colour % 8,
                            n(cx),
                            n(cy),
                            esc(tip)
                        );
                    }
                }
            }
            let _ = write!(
                body,
                "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></g>",
                n(left),
                n(plot_top),
                n(self.width - right - left),
                n(panel.height)
            );
            top = plot_bottom + GAP;
        }
        let axis_top = top - GAP;
        body.push_str("<g class=\"ticks x\">");
        for (tick, label) in x_ticks.iter().zip(&x_labels) {
            if let Some(at) = x.map(*tick) {
                let _ = write!(
                    body,
                    "<text x=\"{}\" y=\"{}\">{}</text>",
                    n(at),
                    n(axis_top + 16.0),
                    esc(label)
                );
            }
        }
        let _ = write!(
            body,
            "</g><text class=\"axis-label\" x=\"{}\" y=\"{}\">{}</text>",
            n((left + self.width - right) / 2.0),
            n(axis_top + 34.0),
            esc(&self.x.label)
        );
        Svg::new(&self.title, self.width, axis_top + 42.0, body)
    }

    /// The x domain, its ticks and their labels: fixed ticks set the domain; otherwise the
    /// domain is the data's and the ticks are the round values inside it.
    fn x_ticks(&self, span: f64) -> ((f64, f64), Vec<f64>, Vec<String>) {
        if !self.x.ticks.is_empty() {
            let (ticks, labels): (Vec<f64>, Vec<String>) = self.x.ticks.iter().cloned().unzip();
            let (min, max) = bounds(&ticks);
            return ((min, max), ticks, labels);
        }
        let values: Vec<f64> = self
            .panels
            .iter()
            .flat_map(|panel| &panel.lines)
            .flat_map(|line| line.points.iter().map(|point| point.0))
            .filter(|value| value.is_finite() && (self.x.kind == Kind::Linear || *value > 0.0))
            .collect();
        let (min, max) = bounds(&values);
        let ticks = match self.x.kind {
            Kind::Linear => linear_ticks(min, max, (span / 55.0).max(2.0) as usize),
            Kind::Log => log_ticks(min, max),
        };
        let domain = if min < max {
            (min, max)
        } else {
            (ticks[0], ticks[ticks.len() - 1])
        };
        let scale = Scale::new(self.x.kind, domain, (0.0, 1.0));
        let ticks: Vec<f64> = ticks.into_iter().filter(|tick| scale.contains(*tick)).collect();
        let labels = tick_labels(&ticks);
        (domain, ticks, labels)
    }
}

enum LegendItem<'a> {
    Line(&'a Line),
    Mark(&'a Mark),
}

/// Legend entries laid out in rows, the first from `start` (after the title), the others from
/// `left`, all up to `end`: (row, x, entry). Unnamed lines have none.
fn legend_rows(panel: &Panel, start: f64, left: f64, end: f64) -> Vec<(usize, f64, LegendItem<'_>)> {
    let items: Vec<LegendItem<'_>> = panel
        .lines
        .iter()
        .filter(|line| !line.name.is_empty())
        .map(LegendItem::Line)
        .chain(panel.marks.iter().map(LegendItem::Mark))
        .collect();
    let (mut row, mut at) = (0, start);
    let mut laid = Vec::new();
    for item in items {
        let name = match &item {
            LegendItem::Line(line) => &line.name,
            LegendItem::Mark(mark) => &mark.label,
        };
        let width = 20.0 + text_width(&clip(name, LABEL_CHARS)) + 14.0;
        let row_start = if row == 0 { start } else { left };
        if at + width > end && (at > row_start || row == 0) {
            row += 1;
            at = left;
        }
        laid.push((row, at, item));
        at += width;
    }
    laid
}

fn dash_class(stroke: Stroke) -> &'static str {
    match stroke {
        Stroke::Solid => "",
        Stroke::Dashed => " dashed",
    }
}

/// Smallest and largest of `values`; (0, 1) when there are none.
fn bounds(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if min.is_finite() && max.is_finite() {
        (min, max)
    } else {
        (0.0, 1.0)
    }
}

/// A panel's y scale (domain only), ticks and tick labels.
fn y_axis(panel: &Panel) -> (Scale, Vec<f64>, Vec<String>) {
    let values: Vec<f64> = panel
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|point| point.1))
        .chain(panel.marks.iter().map(|mark| mark.value))
        .filter(|value| value.is_finite() && (panel.kind == Kind::Linear || *value > 0.0))
        .collect();
    let (mut min, mut max) = bounds(&values);
    if panel.zero {
        min = min.min(0.0);
        max = max.max(0.0);
    }
    let ticks = match panel.kind {
        Kind::Linear => linear_ticks(min, max, ((panel.height / 30.0) as usize).max(2)),
        Kind::Log => log_ticks(min, max),
    };
    let labels = tick_labels(&ticks);
    let domain = (
        ticks.first().copied().unwrap_or(0.0),
        ticks.last().copied().unwrap_or(1.0),
    );
    (Scale::new(panel.kind, domain, (0.0, 1.0)), ticks, labels)
}

/// SVG path data through the points that can be placed; a gap wherever one cannot.
fn path(points: &[(f64, f64)], x: &Scale, y: &Scale) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for &(px, py) in points {
        match (x.map(px), y.map(py)) {
            (Some(sx), Some(sy)) if x.contains(px) => {
                let _ = write!(d, "{}{},{}", if pen_down { "L" } else { "M" }, n(sx), n(sy));
                pen_down = true;
            }
            _ => pen_down = false,
        }
    }
    d
}

impl Scale {
    fn contains(&self, value: f64) -> bool {
        let (lo, hi) = (self.domain.0.min(self.domain.1), self.domain.0.max(self.domain.1));
        value >= lo - (hi - lo) * 1e-9 && value <= hi + (hi - lo) * 1e-9
    }
}

/// A drawn chart: its title, its size in SVG units and its elements, to go inline in the page
/// ([`Svg::inline`]) or into a file of its own ([`Svg::standalone`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Svg {
    title: String,
    width: f64,
    height: f64,
    body: String,
}

/// What a standalone chart adds to the page's rules: the page's font (inline, the chart inherits
/// it) and an opaque background, so that the chart stays readable on a light or dark page
/// whichever scheme the viewer follows.
const STANDALONE_CSS: &str = "svg.chart { font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif; }\n\
                              svg.chart .background { fill: var(--bg); }\n";

impl Svg {
    fn new(title: &str, width: f64, height: f64, body: String) -> Self {
        Svg {
            title: title.to_owned(),
            width,
            height,
            body,
        }
    }

    /// The title (unescaped).
    pub(super) fn title(&self) -> &str {
        &self.title
    }

    /// The `<svg>` element for the page: scales to the width of its container, named for screen
    /// readers, styled by the page's CSS.
    pub(super) fn inline(&self) -> String {
        format!(
            "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{title}\" font-size=\"{FONT}\"><title>{title}</title>{}</svg>",
            n(self.width),
            n(self.height),
            self.body,
            title = esc(&self.title)
        )
    }

    /// A whole SVG file: the namespace, a size of its own, the colours (light, and dark under
    /// `prefers-color-scheme`) and the chart rules in an embedded style sheet, and an opaque
    /// background. It references nothing outside itself, so it renders the same as a file and
    /// in an `<img>` (where GitHub shows it).
    pub(super) fn standalone(&self) -> String {
        let (width, height) = (n(self.width), n(self.height));
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{title}\" font-size=\"{FONT}\">\
             <title>{title}</title><style>\n{}{}{STANDALONE_CSS}</style><rect class=\"background\" width=\"100%\" height=\"100%\"/>{}</svg>\n",
            super::THEME_CSS,
            super::CHART_CSS,
            self.body,
            title = esc(&self.title)
        )
    }
}

/// One bar of a diverging bar chart.
#[derive(Debug, Clone)]
pub(super) struct Bar {
    /// Row label.
    pub(super) label: String,
    /// Length (signed).
    pub(super) value: f64,
    /// Text at the bar's end.
    pub(super) text: String,
    /// CSS class of the bar (its colour).
    pub(super) class: &'static str,
}

/// Horizontal bars left and right of zero, one row each, on an axis from `-limit` to `limit`;
/// longer bars stop at the edge and their text says how long they are.
pub(super) fn bars(title: &str, axis_label: &str, rows: &[Bar], limit: f64) -> Svg {
    let width = 720.0;
    let label_width = rows
        .iter()
        .map(|row| text_width(&clip(&row.label, LABEL_CHARS)))
        .fold(60.0_f64, f64::max)
        + 16.0;
    let ticks = linear_ticks(-limit, limit, 6);
    let labels = tick_labels(&ticks);
    let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
    let x = Scale::new(Kind::Linear, (lo, hi), (label_width + 70.0, width - 70.0));
    let row_height = 22.0;
    let top = 8.0;
    let bottom = top + rows.len() as f64 * row_height;
    let mut body = String::from("<g class=\"grid\">");
    for tick in &ticks {
        let at = x.map(*tick).unwrap_or_default();
        let _ = write!(
            body,
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
            n(at),
            n(top),
            n(bottom)
        );
    }
    body.push_str("</g>");
    let zero = x.map(0.0).unwrap_or_default();
    for (index, row) in rows.iter().enumerate() {
        let middle = top + (index as f64 + 0.5) * row_height;
        let end = x.map(row.value.clamp(lo, hi)).unwrap_or(zero);
        let (from, to) = (zero.min(end), zero.max(end));
        let (text_x, anchor) = if row.value < 0.0 {
            (from - 5.0, "end")
        } else {
            (to + 5.0, "start")
        };
        let _ = write!(
            body,
            "<g class=\"bar-row\"><title>{}: {}</title><text class=\"row-label\" x=\"{}\" y=\"{}\">{}</text><rect class=\"bar {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/><text class=\"bar-value\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text></g>",
            esc(&row.label),
            esc(&row.text),
            n(label_width - 8.0),
            n(middle + 4.0),
            esc(&clip(&row.label, LABEL_CHARS)),
            row.class,
            n(from),
            n(middle - 7.0),
            n((to - from).max(1.0)),
            n(14.0),
            n(text_x),
            n(middle + 4.0),
            esc(&row.text)
        );
    }
    let _ = write!(
        body,
        "<line class=\"zero\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/><g class=\"ticks x\">",
        n(zero),
        n(top),
        n(bottom)
    );
    for (tick, label) in ticks.iter().zip(&labels) {
        let _ = write!(
            body,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            n(x.map(*tick).unwrap_or_default()),
            n(bottom + 16.0),
            esc(label)
        );
    }
    let _ = write!(
        body,
        "</g><text class=\"axis-label\" x=\"{}\" y=\"{}\">{}</text>",
        n(zero),
        n(bottom + 34.0),
        esc(axis_label)
    );
    Svg::new(title, width, bottom + 42.0, body)
}

/// One row of a dot plot: a label and one value per series (absent values are skipped).
#[derive(Debug, Clone)]
pub(super) struct DotRow {
    /// Row label.
    pub(super) label: String,
    /// One value per series.
    pub(super) values: Vec<Option<f64>>,
}

/// A dot plot: one row per label, a dot per series on a shared x axis, a line from the smallest
/// to the largest; `series` names each (with its colour), `unit` goes into the tooltips.
pub(super) fn dots(
    title: &str,
    axis_label: &str,
    kind: Kind,
    series: &[(&str, usize)],
    rows: &[DotRow],
    unit: &str,
) -> Svg {
    let width = 720.0;
    let label_width = rows
        .iter()
        .map(|row| text_width(&clip(&row.label, LABEL_CHARS)))
        .fold(60.0_f64, f64::max)
        + 16.0;
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|row| row.values.iter().flatten().copied())
        .filter(|value| value.is_finite() && (kind == Kind::Linear || *value > 0.0))
        .collect();
    let (min, max) = bounds(&values);
    let ticks = match kind {
        Kind::Linear => linear_ticks(min.min(0.0), max, 6),
        Kind::Log => log_ticks(min, max),
    };
    let labels = tick_labels(&ticks);
    let x = Scale::new(
        kind,
        (ticks[0], ticks[ticks.len() - 1]),
        (label_width, width - 18.0),
    );
    let row_height = 22.0;
    let top = 6.0 + LEGEND_ROW + 6.0;
    let bottom = top + rows.len() as f64 * row_height;
    let mut body = String::new();
    let mut at = label_width;
    for (name, colour) in series {
        let _ = write!(
            body,
            "<g class=\"legend\"><circle class=\"dot c{}\" cx=\"{}\" cy=\"{}\" r=\"4\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            colour % 8,
            n(at + 4.0),
            n(6.0 + 9.0),
            n(at + 12.0),
            n(6.0 + 13.0),
            esc(name)
        );
        at += 12.0 + text_width(name) + 18.0;
    }
    body.push_str("<g class=\"grid\">");
    for tick in &ticks {
        if let Some(tick_x) = x.map(*tick) {
            let _ = write!(
                body,
                "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
                n(tick_x),
                n(top),
                n(bottom)
            );
        }
    }
    body.push_str("</g>");
    for (index, row) in rows.iter().enumerate() {
        let middle = top + (index as f64 + 0.5) * row_height;
        let placed: Vec<(usize, f64, f64)> = row
            .values
            .iter()
            .enumerate()
            .filter_map(|(series_index, value)| {
                let value = (*value)?;
                Some((series_index, value, x.map(value)?))
            })
            .collect();
        let _ = write!(
            body,
            "<g class=\"dot-row\"><text class=\"row-label\" x=\"{}\" y=\"{}\">{}<title>{}</title></text>",
            n(label_width - 8.0),
            n(middle + 4.0),
            esc(&clip(&row.label, LABEL_CHARS)),
            esc(&row.label)
        );
        let (low, high) = bounds(&placed.iter().map(|p| p.2).collect::<Vec<_>>());
        if placed.len() > 1 {
            let _ = write!(
                body,
                "<line class=\"range\" x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/>",
                n(low),
                n(high),
                n(middle)
            );
        }
        for (series_index, value, cx) in placed {
            let Some(&(name, colour)) = series.get(series_index) else {
                continue;
            };
            let _ = write!(
                body,
                "<circle class=\"dot c{}\" cx=\"{}\" cy=\"{}\" r=\"4.5\"><title>{} {}: {}</title></circle>",
                colour % 8,
                n(cx),
                n(middle),
                esc(&row.label),
                esc(name),
                esc(&format_value(value, unit))
            );
        }
        body.push_str("</g>");
    }
    body.push_str("<g class=\"ticks x\">");
    for (tick, label) in ticks.iter().zip(&labels) {
        if let Some(tick_x) = x.map(*tick) {
            let _ = write!(
                body,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(tick_x),
                n(bottom + 16.0),
                esc(label)
            );
        }
    }
    let _ = write!(
        body,
        "</g><text class=\"axis-label\" x=\"{}\" y=\"{}\">{}</text>",
        n((label_width + width - 18.0) / 2.0),
        n(bottom + 34.0),
        esc(axis_label)
    );
    Svg::new(title, width, bottom + 42.0, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_data() {
        let check = |min: f64, max: f64, count: usize, expected: &[f64]| {
            assert_eq!(linear_ticks(min, max, count), expected, "{min}..{max} in {count}");
        };
        check(0.0, 10.0, 5, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        check(0.0, 27.1, 4, &[0.0, 10.0, 20.0, 30.0]);
        check(0.0, 0.9, 3, &[0.0, 0.5, 1.0]);
        check(0.1, 0.35, 5, &[0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
        check(0.0, 0.3, 3, &[0.0, 0.1, 0.2, 0.3]);
        check(29.7, 31.2, 3, &[29.5, 30.0, 30.5, 31.0, 31.5]);
        check(-12.0, 40.0, 4, &[-20.0, 0.0, 20.0, 40.0]);
        check(
            0.0,
            612_345.0,
            5,
            &[0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0],
        );
        // Degenerate ranges still give an axis.
        check(0.0, 0.0, 4, &[0.0, 0.5, 1.0]);
        check(5.0, 5.0, 2, &[4.5, 5.0, 5.5]);
        check(f64::NAN, 1.0, 2, &[0.0, 0.5, 1.0]);
    }

    #[test]
    fn log_ticks_cover_whole_decades() {
        assert_eq!(log_ticks(0.14, 27.0), [0.1, 1.0, 10.0, 100.0]);
        assert_eq!(log_ticks(2.0, 10_000.0), [1.0, 10.0, 100.0, 1_000.0, 10_000.0]);
        // Under three decades, 2 and 5 between the powers of ten.
        assert_eq!(log_ticks(0.45, 4.8), [0.2, 0.5, 1.0, 2.0, 5.0]);
        assert_eq!(log_ticks(3.0, 3.0), [2.0, 5.0]);
        // Nothing positive: one decade below 1.
        assert_eq!(log_ticks(0.0, 0.0), [0.1, 0.2, 0.5, 1.0]);
    }

    #[test]
    fn a_log_scale_gives_each_decade_the_same_width() {
        let scale = Scale::new(Kind::Log, (1.0, 10_000.0), (100.0, 500.0));
        assert_eq!(scale.map(1.0), Some(100.0));
        assert_eq!(scale.map(10.0), Some(200.0));
        assert_eq!(scale.map(100.0), Some(300.0));
        assert_eq!(scale.map(10_000.0), Some(500.0));
        // The percentile axis: 1 / (1 - q) puts p90 one decade after the median's 2, p99 two.
        let p50 = scale.map(2.0).unwrap();
        assert!((p50 - 130.1).abs() < 0.1, "{p50}");
        assert_eq!(scale.map(0.0), None);
        assert_eq!(scale.map(-1.0), None);
        let linear = Scale::new(Kind::Linear, (0.0, 10.0), (200.0, 0.0));
        assert_eq!(linear.map(2.5), Some(150.0));
        assert_eq!(linear.map(f64::NAN), None);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(
            tick_labels(&[0.0, 0.1, 0.2, 0.30000000000000004]),
            ["0", "0.1", "0.2", "0.3"]
        );
        assert_eq!(tick_labels(&[0.0, 2_500.0, 5_000.0]), ["0", "2,500", "5,000"]);
        assert_eq!(tick_labels(&[0.0, 200_000.0, 600_000.0]), ["0", "200k", "600k"]);
        assert_eq!(tick_labels(&[0.0, 1_500_000.0]), ["0", "1.5M"]);
        assert_eq!(tick_labels(&[-20.0, -0.0, 20.0]), ["-20", "0", "20"]);
        assert_eq!(tick_labels(&[0.001, 0.01]), ["0.001", "0.01"]);
    }

    #[test]
    fn a_plot_draws_gaps_and_escapes_its_text() {
        let plot = Plot::new("lag <b>", XAxis::linear("time, s"))
            .panel(
                Panel::new("Lag, ms \"x\"")
                    .line(Line::new(
                        "a'b",
                        vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 2.0)],
                        0,
                    ))
                    .mark(Mark::new("peak & more", 4.0, 1)),
            )
            .panel(Panel::new("empty"));
        let svg = plot.render().inline();
        assert_eq!(
            svg.matches("class=\"panel\"").count(),
            1,
            "an empty panel is left out"
        );
        assert!(svg.contains("aria-label=\"lag &lt;b&gt;\""));
        assert!(svg.contains("Lag, ms &quot;x&quot;"));
        assert!(svg.contains(">a&#39;b</text>") && svg.contains("peak &amp; more"));
        let d = svg.split("class=\"series c0\" d=\"").nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "the NaN breaks the line: {d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn a_standalone_chart_is_a_whole_svg_file() {
        let chart = Plot::new("a <chart>", XAxis::linear("s"))
            .panel(Panel::new("lag").line(Line::new("", vec![(0.0, 1.0), (1.0, 2.0)], 0)))
            .render();
        let inline = chart.inline();
        let file = chart.standalone();
        assert!(inline.starts_with("<svg class=\"chart\" viewBox=\"0 0 720 "));
        let size = inline
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let (width, height) = size.split_once(' ').unwrap();
        assert!(file.starts_with(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {size}\""
        )));
        assert!(file.contains("<title>a &lt;chart&gt;</title><style>\n:root {"));
        assert!(
            file.contains("@media (prefers-color-scheme: dark)") && file.contains("svg.chart .grid line")
        );
        assert!(file.contains("</style><rect class=\"background\" width=\"100%\" height=\"100%\"/>"));
        assert!(file.ends_with("</svg>\n"));
        // The same elements, inline and in the file.
        let body = |svg: &str| svg[svg.find("<g class=\"panel\">").unwrap()..].to_owned();
        assert_eq!(body(&inline), body(file.trim_end()));
    }

    #[test]
    fn bars_stop_at_the_edge() {
        let rows = [
            Bar {
                label: "up".to_owned(),
                value: 950.0,
                text: "+950 %".to_owned(),
                class: "regressed",
            },
            Bar {
                label: "down".to_owned(),
                value: -5.0,
                text: "-5 %".to_owned(),
                class: "improved",
            },
        ];
        let svg = bars("change", "change, %", &rows, 100.0).inline();
        assert!(svg.contains(">+950 %</text>") && svg.contains("text-anchor=\"end\">-5 %"));
        let widths: Vec<f64> = svg
            .split("width=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
            .collect();
        // The 950 % bar is clamped to the axis's half width.
        assert!(widths.iter().all(|w| *w <= 300.0), "{widths:?}");
    }
}
