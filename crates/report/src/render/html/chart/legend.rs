//! Legends: the swatch and name of each named line, mark or shaded stretch of a panel, laid out
//! in rows after the panel's title, and the one row of series of a dot plot. Which entries there
//! are, and their colours, is the charts' to say.

use std::fmt::Write;

use super::svg::{SHADE, n};
use super::text::{LABEL_CHARS, clip, text_width};
use crate::render::html::escape::esc;

/// Height of a row of legend entries.
pub(super) const LEGEND_ROW: f64 = 18.0;

/// One entry of a panel's legend.
#[derive(Debug, Clone)]
pub(super) struct Entry<'a> {
    /// What the entry names (cut to [`LABEL_CHARS`] when shown).
    pub(super) name: &'a str,
    /// CSS classes of the swatch: the colour, and `dashed` for a dashed line.
    pub(super) class: String,
    /// What the swatch is drawn as.
    pub(super) swatch: Swatch,
}

/// The shape of a legend entry's swatch: what it names is drawn the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Swatch {
    /// A short line (a series, a reference line).
    Line,
    /// A small shaded block (a shaded stretch of the x axis).
    Area,
}

/// A panel's legend entries laid out in rows.
#[derive(Debug, Clone)]
pub(super) struct Legend<'a> {
    /// Each entry with its row and the x where it starts.
    laid: Vec<(usize, f64, Entry<'a>)>,
}

impl<'a> Legend<'a> {
    /// Lays `entries` out in rows, the first from `start` (after the title), the others from
    /// `left`, all up to `end`.
    pub(super) fn lay_out(entries: Vec<Entry<'a>>, start: f64, left: f64, end: f64) -> Self {
        let (mut row, mut at) = (0, start);
        let mut laid = Vec::new();
        for entry in entries {
            let width = 20.0 + text_width(&clip(entry.name, LABEL_CHARS)) + 14.0;
            let row_start = if row == 0 { start } else { left };
            if at + width > end && (at > row_start || row == 0) {
                row += 1;
                at = left;
            }
            laid.push((row, at, entry));
            at += width;
        }
        Legend { laid }
    }

    /// Height of the panel's header: the title's row and any further rows of entries, and a
    /// margin below them.
    pub(super) fn header_height(&self) -> f64 {
        LEGEND_ROW * self.laid.iter().map(|(row, _, _)| row + 1).max().unwrap_or(1) as f64 + 4.0
    }

    /// The entries, their first row level with a title whose baseline is at `top + 13`.
    pub(super) fn draw(&self, body: &mut String, top: f64) {
        for (row, x_at, entry) in &self.laid {
            let base = top + 13.0 + *row as f64 * LEGEND_ROW;
            body.push_str("<g class=\"legend\">");
            match entry.swatch {
                Swatch::Line => {
                    let _ = write!(
                        body,
                        "<line class=\"swatch {}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
                        entry.class,
                        n(*x_at),
                        n(base - 4.0),
                        n(x_at + 16.0),
                        n(base - 4.0),
                    );
                }
                Swatch::Area => {
                    let _ = write!(
                        body,
                        "<rect class=\"shade {}\" x=\"{}\" y=\"{}\" width=\"16\" height=\"10\" {SHADE}/>",
                        entry.class,
                        n(*x_at),
                        n(base - 9.0),
                    );
                }
            }
            let _ = write!(
                body,
                "<text x=\"{}\" y=\"{}\">{}</text></g>",
                n(x_at + 20.0),
                n(base),
                esc(&clip(entry.name, LABEL_CHARS))
            );
        }
    }
}

/// A dot plot's legend: one row from `left`, a dot in each series' colour (0–7) and its name.
pub(super) fn draw_dot_series(body: &mut String, series: &[(&str, usize)], left: f64) {
    let mut at = left;
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
}
