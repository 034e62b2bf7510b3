//! Diverging bar charts: one row per label, a bar left or right of zero, its text at its end.

use std::fmt::Write;

use super::axis::{self, Area, Axis, X_AXIS_HEIGHT};
use super::scale::{Kind, Scale, linear_ticks};
use super::svg::{Svg, n};
use super::text::{LABEL_CHARS, clip, row_label_column};
use crate::render::html::escape::esc;

/// One bar of a diverging bar chart.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    /// Row label.
    pub(crate) label: String,
    /// Length (signed).
    pub(crate) value: f64,
    /// Text at the bar's end.
    pub(crate) text: String,
    /// CSS class of the bar (its colour).
    pub(crate) class: &'static str,
}

/// Horizontal bars left and right of zero, one row each, on an axis from `-limit` to `limit`;
/// longer bars stop at the edge and their text says how long they are.
pub(crate) fn bars(title: &str, axis_label: &str, rows: &[Bar], limit: f64) -> Svg {
    let width = 720.0;
    let label_width = row_label_column(rows.iter().map(|row| row.label.as_str()));
    let row_height = 22.0;
    let top = 8.0;
    let bottom = top + rows.len() as f64 * row_height;
    // Room for the bars' texts on either side.
    let area = Area {
        left: label_width + 70.0,
        right: width - 70.0,
        top,
        bottom,
    };
    let ticks = linear_ticks(-limit, limit, 6);
    let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
    let x = Axis::new(Scale::new(Kind::Linear, (lo, hi), (area.left, area.right)), ticks);
    let mut body = String::new();
    axis::grid(&mut body, &area, &x, None);
    let zero = x.scale.map(0.0).unwrap_or_default();
    for (index, row) in rows.iter().enumerate() {
        let middle = top + (index as f64 + 0.5) * row_height;
        let end = x.scale.map(row.value.clamp(lo, hi)).unwrap_or(zero);
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
        "<line class=\"zero\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
        n(zero),
        n(top),
        n(bottom)
    );
    x.draw_x_below(&mut body, bottom, zero, axis_label);
    Svg::new(title, width, bottom + X_AXIS_HEIGHT, body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
