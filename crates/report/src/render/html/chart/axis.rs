//! The axes, drawn the same way for every chart: the grid behind the plot area, the y axis's tick
//! labels, and the x axis's tick labels and title below the plot area. Where the ticks go is
//! `scale.rs`'s; what is drawn between the gridlines is each chart's.

use std::fmt::Write;

use super::scale::{Scale, tick_labels};
use super::svg::n;
use crate::render::html::escape::esc;

/// Room below the plot area for the x axis's tick labels and title.
pub(super) const X_AXIS_HEIGHT: f64 = 42.0;

/// An axis: its scale, its ticks and their labels.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    /// Where values go.
    pub(super) scale: Scale,
    /// The ticked values.
    pub(super) ticks: Vec<f64>,
    /// One label per tick.
    pub(super) labels: Vec<String>,
}

impl Axis {
    /// An axis ticked at `ticks`, labelled by [`tick_labels`].
    pub(super) fn new(scale: Scale, ticks: Vec<f64>) -> Self {
        let labels = tick_labels(&ticks);
        Axis { scale, ticks, labels }
    }

    /// Where the ticks this axis's scale can place go.
    fn positions(&self) -> impl Iterator<Item = f64> {
        self.ticks.iter().filter_map(|tick| self.scale.map(*tick))
    }

    /// The ticks this axis's scale can place: where they go, and their labels.
    fn placed(&self) -> impl Iterator<Item = (f64, &str)> {
        self.ticks
            .iter()
            .zip(&self.labels)
            .filter_map(|(tick, label)| Some((self.scale.map(*tick)?, label.as_str())))
    }

    /// The y axis's tick labels, left of the plot area's edge at `left`.
    pub(super) fn draw_y_labels(&self, body: &mut String, left: f64) {
        body.push_str("<g class=\"ticks y\">");
        for (at, label) in self.placed() {
            let _ = write!(
                body,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(left - 6.0),
                n(at + 4.0),
                esc(label)
            );
        }
        body.push_str("</g>");
    }

    /// The x axis under a plot area whose bottom is at `bottom`: the tick labels, and `title`
    /// centred on `title_x`; [`X_AXIS_HEIGHT`] tall.
    pub(super) fn draw_x_below(&self, body: &mut String, bottom: f64, title_x: f64, title: &str) {
        body.push_str("<g class=\"ticks x\">");
        for (at, label) in self.placed() {
            let _ = write!(
                body,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(at),
                n(bottom + 16.0),
                esc(label)
            );
        }
        let _ = write!(
            body,
            "</g><text class=\"axis-label\" x=\"{}\" y=\"{}\">{}</text>",
            n(title_x),
            n(bottom + 34.0),
            esc(title)
        );
    }
}

/// The rectangle of a chart where the data is drawn, in SVG units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Area {
    /// Left edge.
    pub(super) left: f64,
    /// Right edge.
    pub(super) right: f64,
    /// Top edge.
    pub(super) top: f64,
    /// Bottom edge.
    pub(super) bottom: f64,
}

/// The grid behind `area`: a vertical line at each tick of `x` and, given a y axis, a horizontal
/// line at each of its ticks (ticks their scale cannot place are left out).
pub(super) fn grid(body: &mut String, area: &Area, x: &Axis, y: Option<&Axis>) {
    body.push_str("<g class=\"grid\">");
    for at in x.positions() {
        let _ = write!(
            body,
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
            n(at),
            n(area.top),
            n(area.bottom)
        );
    }
    for at in y.iter().flat_map(|y| y.positions()) {
        let _ = write!(
            body,
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>",
            n(area.left),
            n(at),
            n(area.right)
        );
    }
    body.push_str("</g>");
}
