//! [`Cell`], the content of one table cell before a renderer marks it up, and [`Rows`], a
//! two-column table of them.

/// The content of a table cell, for each renderer to mark up its own way.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::render) enum Cell {
    /// Plain text.
    Text(String),
    /// Code (a commit), then plain text.
    Code(String, &'static str),
    /// A word in bold, then plain text: the leak's "**suspected**: …".
    Strong(&'static str, String),
}

/// A two-column table: labels and their values.
pub(in crate::render) type Rows = Vec<(&'static str, Cell)>;
