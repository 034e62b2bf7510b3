//! Panels stacked on one shared x axis (a spike at one time lines up across every panel): the
//! x axis, from fixed ticks or from the data, the left margin that lines the panels up, the
//! stacking, and what is marked across every panel at x values (a shaded stretch, a vertical
//! line). Each panel draws itself (`panel.rs`).

use super::axis::{Axis, X_AXIS_HEIGHT};
use super::panel::{Panel, XMark, XSpan};
use super::scale::{Kind, Scale, bounds, tick_labels};
use super::svg::Svg;
use super::text::text_width;

/// Space between stacked panels.
const GAP: f64 = 16.0;

/// The shared x axis of a plot.
#[derive(Debug, Clone)]
pub(crate) struct XAxis {
    label: String,
    kind: Kind,
    /// Fixed ticks with their labels; computed from the data when empty.
    ticks: Vec<(f64, String)>,
}

impl XAxis {
    /// A linear axis with ticks from the data.
    pub(crate) fn linear(label: impl Into<String>) -> Self {
        XAxis {
            label: label.into(),
            kind: Kind::Linear,
            ticks: Vec::new(),
        }
    }

    /// A log axis with these ticks (which also set its range).
    pub(crate) fn log_with(label: impl Into<String>, ticks: Vec<(f64, String)>) -> Self {
        XAxis {
            label: label.into(),
            kind: Kind::Log,
            ticks,
        }
    }
}

/// Panels stacked on one x axis: a spike at one time lines up across every panel.
#[derive(Debug, Clone)]
pub(crate) struct Plot {
    title: String,
    width: f64,
    x: XAxis,
    panels: Vec<Panel>,
    spans: Vec<XSpan>,
    x_marks: Vec<XMark>,
}

impl Plot {
    /// A plot 720 units wide.
    pub(crate) fn new(title: impl Into<String>, x: XAxis) -> Self {
        Plot {
            title: title.into(),
            width: 720.0,
            x,
            panels: Vec::new(),
            spans: Vec::new(),
            x_marks: Vec::new(),
        }
    }

    /// Another width (small multiples).
    pub(crate) fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    /// Adds a panel if it has data.
    pub(crate) fn panel(mut self, panel: Panel) -> Self {
        if panel.has_data() {
            self.panels.push(panel);
        }
        self
    }

    /// Shades a stretch of the x axis across every panel.
    pub(crate) fn span(mut self, span: XSpan) -> Self {
        self.spans.push(span);
        self
    }

    /// Draws a vertical line at an x value across every panel.
    pub(crate) fn x_mark(mut self, mark: XMark) -> Self {
        self.x_marks.push(mark);
        self
    }

    /// Whether there is anything to draw.
    pub(crate) fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }

    /// The chart.
    pub(crate) fn render(&self) -> Svg {
        // Each panel draws the plot's shaded stretches and vertical lines; the first names them.
        let panels: Vec<Panel> = self
            .panels
            .iter()
            .enumerate()
            .map(|(index, panel)| panel.clone().across(&self.spans, &self.x_marks, index == 0))
            .collect();
        let y_axes: Vec<Axis> = panels.iter().map(Panel::y_axis).collect();
        // One left edge for every panel, wide enough for the longest y tick label of any.
        let left = y_axes
            .iter()
            .flat_map(|axis| axis.labels.iter().map(|label| text_width(label)))
            .fold(24.0_f64, f64::max)
            + 14.0;
        let margin_right = 18.0;
        let right = self.width - margin_right;
        let x = self.x_axis(&panels, left, right);
        let mut body = String::new();
        let mut top = 6.0;
        for (panel, y) in panels.iter().zip(y_axes) {
            let plot_bottom = panel.draw(&mut body, &x, y, left, right, top);
            top = plot_bottom + GAP;
        }
        let axis_top = top - GAP;
        x.draw_x_below(
            &mut body,
            axis_top,
            (left + self.width - margin_right) / 2.0,
            &self.x.label,
        );
        Svg::new(&self.title, self.width, axis_top + X_AXIS_HEIGHT, body)
    }

    /// The x axis of `panels` from `left` to `right`: fixed ticks set the domain; otherwise the
    /// domain is the data's and the ticks are the round values inside it.
    fn x_axis(&self, panels: &[Panel], left: f64, right: f64) -> Axis {
        let (domain, ticks, labels) = if !self.x.ticks.is_empty() {
            let (ticks, labels): (Vec<f64>, Vec<String>) = self.x.ticks.iter().cloned().unzip();
            (bounds(&ticks), ticks, labels)
        } else {
            let values: Vec<f64> = panels
                .iter()
                .flat_map(Panel::x_values)
                .filter(|value| self.x.kind.can_place(*value))
                .collect();
            let (min, max) = bounds(&values);
            let span = right - left;
            let ticks = self.x.kind.ticks(min, max, (span / 55.0).max(2.0) as usize);
            let domain = if min < max {
                (min, max)
            } else {
                (ticks[0], ticks[ticks.len() - 1])
            };
            let scale = Scale::new(self.x.kind, domain, (0.0, 1.0));
            let ticks: Vec<f64> = ticks.into_iter().filter(|tick| scale.contains(*tick)).collect();
            let labels = tick_labels(&ticks);
            (domain, ticks, labels)
        };
        Axis {
            scale: Scale::new(self.x.kind, domain, (left, right)),
            ticks,
            labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::html::chart::panel::{Line, Mark, XMark, XSpan};

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
    fn a_shaded_stretch_and_a_moment_cross_every_panel_and_are_named_once() {
        let line = |colour| Line::new("", vec![(0.0, 1.0), (10.0, 2.0)], colour);
        let svg = Plot::new("fault", XAxis::linear("s"))
            .span(XSpan::new("fault <4–6 s>", 4.0, 6.0, 5))
            .x_mark(XMark::new("recovered & back", 7.0, 2))
            .panel(Panel::new("a").line(line(0)))
            .panel(Panel::new("b").line(line(1)))
            .render()
            .inline();
        assert_eq!(
            svg.matches("<rect class=\"shade c5\"").count(),
            3,
            "each panel and the legend"
        );
        assert_eq!(
            svg.matches("<line class=\"mark c2 dashed\"").count(),
            2,
            "each panel"
        );
        assert_eq!(
            svg.matches(">fault &lt;4–6 s&gt;</text>").count(),
            1,
            "named once"
        );
        assert_eq!(
            svg.matches(">recovered &amp; back</text>").count(),
            1,
            "named once"
        );
        assert!(!svg.contains("<4–6"));
        // From 4 s to 6 s of an axis from 0 s to 10 s: a fifth of the plot area's width.
        let width = |rect: &str| -> f64 {
            let rest = &rect[rect.find("width=\"").unwrap() + 7..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        };
        let frame = width(svg.split("<rect class=\"frame\"").nth(1).unwrap());
        // The first is the legend's swatch, then the first panel's shading.
        let shade = width(svg.split("<rect class=\"shade c5\"").nth(2).unwrap());
        assert!((shade - frame / 5.0).abs() < 0.2, "{shade} of {frame}");
    }
}
