//! Panels stacked on one shared x axis (a spike at one time lines up across every panel): the
//! x axis, from fixed ticks or from the data, the left margin that lines the panels up, and
//! the stacking. Each panel draws itself (`panel.rs`).

use super::axis::{Axis, X_AXIS_HEIGHT};
use super::panel::Panel;
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
}

impl Plot {
    /// A plot 720 units wide.
    pub(crate) fn new(title: impl Into<String>, x: XAxis) -> Self {
        Plot {
            title: title.into(),
            width: 720.0,
            x,
            panels: Vec::new(),
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

    /// Whether there is anything to draw.
    pub(crate) fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }

    /// The chart.
    pub(crate) fn render(&self) -> Svg {
        let y_axes: Vec<Axis> = self.panels.iter().map(Panel::y_axis).collect();
        // One left edge for every panel, wide enough for the longest y tick label of any.
        let left = y_axes
            .iter()
            .flat_map(|axis| axis.labels.iter().map(|label| text_width(label)))
            .fold(24.0_f64, f64::max)
            + 14.0;
        let margin_right = 18.0;
        let right = self.width - margin_right;
        let x = self.x_axis(left, right);
        let mut body = String::new();
        let mut top = 6.0;
        for (panel, y) in self.panels.iter().zip(y_axes) {
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

    /// The x axis from `left` to `right`: fixed ticks set the domain; otherwise the domain is
    /// the data's and the ticks are the round values inside it.
    fn x_axis(&self, left: f64, right: f64) -> Axis {
        let (domain, ticks, labels) = if !self.x.ticks.is_empty() {
            let (ticks, labels): (Vec<f64>, Vec<String>) = self.x.ticks.iter().cloned().unzip();
            (bounds(&ticks), ticks, labels)
        } else {
            let values: Vec<f64> = self
                .panels
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
    use crate::render::html::chart::panel::{Line, Mark};

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
}
