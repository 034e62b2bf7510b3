//! One panel of a stacked plot: its lines, reference marks and legend, and a y axis of its own,
//! drawn at a given height against the plot's shared x axis, with what the plot draws across
//! every panel at x values (shaded stretches, vertical lines). Stacking the panels and the x axis
//! itself are `plot.rs`'s.

use std::fmt::Write;

use super::axis::{self, Area, Axis};
use super::legend::{Entry, Legend, Swatch};
use super::scale::{Kind, Scale, bounds};
use super::svg::{SHADE, n};
use super::text::BOLD_CHAR;
use crate::render::html::escape::esc;

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stroke {
    /// Solid.
    Solid,
    /// Dashed (a baseline, a reference).
    Dashed,
}

/// One line of a panel.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    name: String,
    points: Vec<(f64, f64)>,
    colour: usize,
    stroke: Stroke,
    /// A dot at each point with this tooltip (as many as points), or no dots.
    tips: Vec<String>,
}

impl Line {
    /// A solid line in colour `colour` (0–7).
    pub(crate) fn new(name: impl Into<String>, points: Vec<(f64, f64)>, colour: usize) -> Self {
        Line {
            name: name.into(),
            points,
            colour,
            stroke: Stroke::Solid,
            tips: Vec::new(),
        }
    }

    /// Drawn dashed.
    pub(crate) fn dashed(mut self) -> Self {
        self.stroke = Stroke::Dashed;
        self
    }

    /// A dot at each point, with these tooltips.
    pub(crate) fn dots(mut self, tips: Vec<String>) -> Self {
        self.tips = tips;
        self
    }
}

/// A horizontal reference line across a panel, named in its legend unless its label is empty
/// (the second edge of a band the first names).
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    label: String,
    value: f64,
    colour: usize,
}

impl Mark {
    /// A dashed line at `value`.
    pub(crate) fn new(label: impl Into<String>, value: f64, colour: usize) -> Self {
        Mark {
            label: label.into(),
            value,
            colour,
        }
    }
}

/// A shaded stretch of the shared x axis (a fault's window), drawn across every panel of a plot
/// behind its lines and named once, in the first panel's legend.
#[derive(Debug, Clone)]
pub(crate) struct XSpan {
    label: String,
    from: f64,
    to: f64,
    colour: usize,
    /// Whether this panel's legend names it (the plot's first panel only).
    listed: bool,
}

impl XSpan {
    /// Shading from `from` to `to` on the x axis.
    pub(crate) fn new(label: impl Into<String>, from: f64, to: f64, colour: usize) -> Self {
        XSpan {
            label: label.into(),
            from,
            to,
            colour,
            listed: true,
        }
    }
}

/// A vertical dashed line at one x value (a moment: when the pipeline recovered), drawn across
/// every panel of a plot and named once, in the first panel's legend.
#[derive(Debug, Clone)]
pub(crate) struct XMark {
    label: String,
    value: f64,
    colour: usize,
    /// Whether this panel's legend names it (the plot's first panel only).
    listed: bool,
}

impl XMark {
    /// A dashed vertical line at `value` on the x axis.
    pub(crate) fn new(label: impl Into<String>, value: f64, colour: usize) -> Self {
        XMark {
            label: label.into(),
            value,
            colour,
            listed: true,
        }
    }
}

/// One panel: a y axis of its own, lines and marks, under a title that names the quantity and
/// its unit.
#[derive(Debug, Clone)]
pub(crate) struct Panel {
    title: String,
    kind: Kind,
    zero: bool,
    height: f64,
    lines: Vec<Line>,
    marks: Vec<Mark>,
    spans: Vec<XSpan>,
    x_marks: Vec<XMark>,
}

impl Panel {
    /// A linear panel whose axis starts at zero.
    pub(crate) fn new(title: impl Into<String>) -> Self {
        Panel {
            title: title.into(),
            kind: Kind::Linear,
            zero: true,
            height: 110.0,
            lines: Vec::new(),
            marks: Vec::new(),
            spans: Vec::new(),
            x_marks: Vec::new(),
        }
    }

    /// A log y axis.
    pub(crate) fn log(mut self) -> Self {
        self.kind = Kind::Log;
        self.zero = false;
        self
    }

    /// A y axis fitted to the data rather than starting at zero.
    pub(crate) fn fitted(mut self) -> Self {
        self.zero = false;
        self
    }

    /// Plot height in SVG units (110 unless set).
    pub(crate) fn height(mut self, height: f64) -> Self {
        self.height = height;
        self
    }

    /// Adds a line, unless it has no point (so that the legend names only what is drawn).
    pub(crate) fn line(mut self, line: Line) -> Self {
        if !line.points.is_empty() {
            self.lines.push(line);
        }
        self
    }

    /// Adds a reference line.
    pub(crate) fn mark(mut self, mark: Mark) -> Self {
        self.marks.push(mark);
        self
    }

    /// The plot's shaded stretches and vertical lines, drawn in this panel too; named in its
    /// legend only when `listed` (the first panel), so that a plot names each once.
    pub(super) fn across(mut self, spans: &[XSpan], x_marks: &[XMark], listed: bool) -> Self {
        self.spans.extend(spans.iter().map(|span| XSpan {
            listed,
            ..span.clone()
        }));
        self.x_marks.extend(x_marks.iter().map(|mark| XMark {
            listed,
            ..mark.clone()
        }));
        self
    }

    /// Whether any line has a point.
    pub(super) fn has_data(&self) -> bool {
        self.lines.iter().any(|line| !line.points.is_empty())
    }

    /// The x values of every point, shaded stretch and vertical line (for the plot's shared x
    /// axis: what is marked is on it).
    pub(super) fn x_values(&self) -> impl Iterator<Item = f64> {
        self.lines
            .iter()
            .flat_map(|line| line.points.iter().map(|point| point.0))
            .chain(self.spans.iter().flat_map(|span| [span.from, span.to]))
            .chain(self.x_marks.iter().map(|mark| mark.value))
    }

    /// The y axis: round ticks covering the lines and marks (and zero unless fitted or log), and
    /// their labels. Its scale's range is a placeholder until [`Panel::draw`] places the panel.
    pub(super) fn y_axis(&self) -> Axis {
        let values: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|line| line.points.iter().map(|point| point.1))
            .chain(self.marks.iter().map(|mark| mark.value))
            .filter(|value| self.kind.can_place(*value))
            .collect();
        let (mut min, mut max) = bounds(&values);
        if self.zero {
            min = min.min(0.0);
            max = max.max(0.0);
        }
        let ticks = self.kind.ticks(min, max, ((self.height / 30.0) as usize).max(2));
        let domain = (
            ticks.first().copied().unwrap_or(0.0),
            ticks.last().copied().unwrap_or(1.0),
        );
        Axis::new(Scale::new(self.kind, domain, (0.0, 1.0)), ticks)
    }

    /// Draws the panel: its header (title and legend) from `top`, then its plot area from `left`
    /// to `right`, gridded at the ticks of `x` (the plot's) and `y` (from [`Panel::y_axis`]).
    /// Returns the bottom of the plot area.
    pub(super) fn draw(&self, body: &mut String, x: &Axis, y: Axis, left: f64, right: f64, top: f64) -> f64 {
        let title_end = left + self.title.chars().count() as f64 * BOLD_CHAR + 14.0;
        let legend = Legend::lay_out(self.legend_entries(), title_end, left, right);
        let plot_top = top + legend.header_height();
        let plot_bottom = plot_top + self.height;
        let y = Axis {
            scale: y.scale.with_range((plot_bottom, plot_top)),
            ..y
        };
        let _ = write!(
            body,
            "<g class=\"panel\"><text class=\"panel-title\" x=\"{}\" y=\"{}\">{}</text>",
            n(left),
            n(top + 13.0),
            esc(&self.title)
        );
        legend.draw(body, top);
        let area = Area {
            left,
            right,
            top: plot_top,
            bottom: plot_bottom,
        };
        axis::grid(body, &area, x, Some(&y));
        y.draw_y_labels(body, left);
        for span in &self.spans {
            span.draw(body, &x.scale, &area);
        }
        for mark in &self.marks {
            if let Some(at) = y.scale.map(mark.value) {
                let _ = write!(
                    body,
                    "<line class=\"mark c{0} dashed\" x1=\"{1}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\"><title>{4}</title></line>",
                    mark.colour % 8,
                    n(left),
                    n(at),
                    n(right),
                    esc(&mark.label)
                );
            }
        }
        for mark in &self.x_marks {
            mark.draw(body, &x.scale, &area);
        }
        for line in &self.lines {
            line.draw(body, &x.scale, &y.scale);
        }
        let _ = write!(
            body,
            "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></g>",
            n(left),
            n(plot_top),
            n(right - left),
            n(self.height)
        );
        plot_bottom
    }

    /// The legend: each named line, then each named mark (always dashed), then the plot's
    /// shaded stretches and vertical lines when this panel names them.
    fn legend_entries(&self) -> Vec<Entry<'_>> {
        self.lines
            .iter()
            .filter(|line| !line.name.is_empty())
            .map(|line| {
                line_entry(
                    &line.name,
                    format!("c{}{}", line.colour % 8, dash_class(line.stroke)),
                )
            })
            .chain(
                self.marks
                    .iter()
                    .filter(|mark| !mark.label.is_empty())
                    .map(|mark| line_entry(&mark.label, format!("c{} dashed", mark.colour % 8))),
            )
            .chain(
                self.spans
                    .iter()
                    .filter(|span| span.listed && !span.label.is_empty())
                    .map(|span| Entry {
                        name: &span.label,
                        class: format!("c{}", span.colour % 8),
                        swatch: Swatch::Area,
                    }),
            )
            .chain(
                self.x_marks
                    .iter()
                    .filter(|mark| mark.listed && !mark.label.is_empty())
                    .map(|mark| line_entry(&mark.label, format!("c{} dashed", mark.colour % 8))),
            )
            .collect()
    }
}

impl XSpan {
    /// The shading over the part of the span inside `x`'s domain, the plot area's full height;
    /// nothing when none of it is.
    fn draw(&self, body: &mut String, x: &Scale, area: &Area) {
        let (Some(from), Some(to)) = (x.map(self.from), x.map(self.to)) else {
            return;
        };
        let (from, to) = (
            from.min(to).clamp(area.left, area.right),
            from.max(to).clamp(area.left, area.right),
        );
        if to <= from {
            return;
        }
        let _ = write!(
            body,
            "<rect class=\"shade c{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {SHADE}><title>{}</title></rect>",
            self.colour % 8,
            n(from),
            n(area.top),
            n(to - from),
            n(area.bottom - area.top),
            esc(&self.label)
        );
    }
}

impl XMark {
    /// The dashed line from the plot area's top to its bottom, if `x`'s domain holds its value.
    fn draw(&self, body: &mut String, x: &Scale, area: &Area) {
        let Some(at) = x.map(self.value).filter(|_| x.contains(self.value)) else {
            return;
        };
        let _ = write!(
            body,
            "<line class=\"mark c{0} dashed\" x1=\"{1}\" y1=\"{2}\" x2=\"{1}\" y2=\"{3}\"><title>{4}</title></line>",
            self.colour % 8,
            n(at),
            n(area.top),
            n(area.bottom),
            esc(&self.label)
        );
    }
}

impl Line {
    /// The line through the points `x` and `y` can place (broken where they cannot), and its
    /// dots with their tooltips.
    fn draw(&self, body: &mut String, x: &Scale, y: &Scale) {
        let path = path(&self.points, x, y);
        if !path.is_empty() {
            let _ = write!(
                body,
                "<path class=\"series c{}{}\" d=\"{path}\"/>",
                self.colour % 8,
                dash_class(self.stroke)
            );
        }
        for (point, tip) in self.points.iter().zip(&self.tips) {
            if let (Some(cx), Some(cy)) = (x.map(point.0), y.map(point.1)) {
                let _ = write!(
                    body,
                    "<circle class=\"dot c{}\" cx=\"{}\" cy=\"{}\" r=\"3.5\"><title>{}</title></circle>",
                    self.colour % 8,
                    n(cx),
                    n(cy),
                    esc(tip)
                );
            }
        }
    }
}

/// A legend entry drawn as a short line.
fn line_entry(name: &str, class: String) -> Entry<'_> {
    Entry {
        name,
        class,
        swatch: Swatch::Line,
    }
}

fn dash_class(stroke: Stroke) -> &'static str {
    match stroke {
        Stroke::Solid => "",
        Stroke::Dashed => " dashed",
    }
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
