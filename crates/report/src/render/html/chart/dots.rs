//! Dot plots: one row per label, a dot per series on a shared x axis (linear from zero, or log),
//! and a line from each row's smallest value to its largest.

use std::fmt::Write;

use super::axis::{self, Area, Axis, X_AXIS_HEIGHT};
use super::legend::{LEGEND_ROW, draw_dot_series};
use super::scale::{Kind, Scale, bounds, linear_ticks, log_ticks};
use super::svg::{Svg, n};
use super::text::{LABEL_CHARS, clip, row_label_column};
use crate::metric::format_value;
use crate::render::html::escape::esc;

/// One row of a dot plot: a label and one value per series (absent values are skipped).
#[derive(Debug, Clone)]
pub(crate) struct DotRow {
    /// Row label.
    pub(crate) label: String,
    /// One value per series.
    pub(crate) values: Vec<Option<f64>>,
}

/// A dot plot: one row per label, a dot per series on a shared x axis, a line from the smallest
/// to the largest; `series` names each (with its colour), `unit` goes into the tooltips.
pub(crate) fn dots(
    title: &str,
    axis_label: &str,
    kind: Kind,
    series: &[(&str, usize)],
    rows: &[DotRow],
    unit: &str,
) -> Svg {
    let width = 720.0;
    let label_width = row_label_column(rows.iter().map(|row| row.label.as_str()));
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|row| row.values.iter().flatten().copied())
        .filter(|value| kind.can_place(*value))
        .collect();
    let (min, max) = bounds(&values);
    let ticks = match kind {
        Kind::Linear => linear_ticks(min.min(0.0), max, 6),
        Kind::Log => log_ticks(min, max),
    };
    let row_height = 22.0;
    let top = 6.0 + LEGEND_ROW + 6.0;
    let bottom = top + rows.len() as f64 * row_height;
    let area = Area {
        left: label_width,
        right: width - 18.0,
        top,
        bottom,
    };
    let x = Axis::new(
        Scale::new(kind, (ticks[0], ticks[ticks.len() - 1]), (area.left, area.right)),
        ticks,
    );
    let mut body = String::new();
    draw_dot_series(&mut body, series, label_width);
    axis::grid(&mut body, &area, &x, None);
    for (index, row) in rows.iter().enumerate() {
        let middle = top + (index as f64 + 0.5) * row_height;
        let placed: Vec<(usize, f64, f64)> = row
            .values
            .iter()
            .enumerate()
            .filter_map(|(series_index, value)| {
                let value = (*value)?;
                Some((series_index, value, x.scale.map(value)?))
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
    x.draw_x_below(&mut body, bottom, (label_width + width - 18.0) / 2.0, axis_label);
    Svg::new(title, width, bottom + X_AXIS_HEIGHT, body)
}
