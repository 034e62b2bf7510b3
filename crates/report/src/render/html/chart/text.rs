//! The charts' text metrics: the font size, estimated label widths (there is no font to measure,
//! so widths are averages per character) and labels cut to a length. Drawing the text is the
//! chart modules' job.

/// Font size of chart text, in SVG units.
pub(super) const FONT: f64 = 12.0;
/// Average width of a character at [`FONT`], for laying out labels and legends.
const CHAR: f64 = 6.8;
/// Average width of a bold character at [`FONT`] (panel titles).
pub(super) const BOLD_CHAR: f64 = 8.0;
/// Longest label shown in full; longer ones are cut (the whole text is in the tooltip).
pub(super) const LABEL_CHARS: usize = 40;

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

/// Estimated width of `text` at [`FONT`].
pub(super) fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

/// Width of the column of row labels left of a chart with one row per label (bars, dot plots):
/// room for the longest label as shown (cut to [`LABEL_CHARS`]), at least 60 units, and a margin.
pub(super) fn row_label_column<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    labels
        .map(|label| text_width(&clip(label, LABEL_CHARS)))
        .fold(60.0_f64, f64::max)
        + 16.0
}
