//! The HTML building blocks every section uses: section open and close, notes, tables, numeric
//! cells and captioned charts, each escaping the text it is given.

use std::fmt::Write;

use super::chart::Svg;
use super::escape::esc;
use crate::render::rows::Cell;

/// Opens a section with its heading.
pub(super) fn open(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{}</h2>", esc(title));
}

pub(super) fn close(out: &mut String) {
    out.push_str("</section>\n");
}

/// A paragraph of plain text.
pub(super) fn note(out: &mut String, text: &str) {
    let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(text));
}

/// A shared cell's content as HTML.
fn markup(content: &Cell) -> String {
    match content {
        Cell::Text(text) => esc(text),
        Cell::Code(code, rest) => format!("<code>{}</code>{}", esc(code), esc(rest)),
        Cell::Strong(word, rest) => format!("<strong>{}</strong>{}", esc(word), esc(rest)),
    }
}

/// A two-column table of labels and values.
pub(super) fn key_values(out: &mut String, rows: &[(&str, Cell)]) {
    out.push_str("<div class=\"table-wrap\"><table class=\"kv\"><tbody>\n");
    for (label, content) in rows {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(label),
            markup(content)
        );
    }
    out.push_str("</tbody></table></div>\n");
}

/// A table head; columns whose name starts with `#` are numeric (right-aligned).
pub(super) fn table_head(out: &mut String, columns: &[&str]) {
    out.push_str("<div class=\"table-wrap\"><table><thead><tr>");
    for column in columns {
        match column.strip_prefix('#') {
            Some(name) => {
                let _ = write!(out, "<th class=\"num\" scope=\"col\">{}</th>", esc(name));
            }
            None => {
                let _ = write!(out, "<th scope=\"col\">{}</th>", esc(column));
            }
        }
    }
    out.push_str("</tr></thead><tbody>\n");
}

pub(super) fn table_end(out: &mut String) {
    out.push_str("</tbody></table></div>\n");
}

/// A whole table of text cells: `columns` as [`table_head`] takes them (a leading `#` marks a
/// numeric column), each row's cells escaped, the numeric ones right-aligned.
pub(super) fn text_table<R: AsRef<[String]>>(out: &mut String, columns: &[&str], rows: &[R]) {
    table_head(out, columns);
    for row in rows {
        out.push_str("<tr>");
        for (column, text) in columns.iter().zip(row.as_ref()) {
            if column.starts_with('#') {
                out.push_str(&num(text));
            } else {
                let _ = write!(out, "<td>{}</td>", esc(text));
            }
        }
        out.push_str("</tr>\n");
    }
    table_end(out);
}

/// A numeric cell of escaped text.
pub(super) fn num(text: &str) -> String {
    format!("<td class=\"num\">{}</td>", esc(text))
}

/// A chart with its caption.
pub(super) fn figure(out: &mut String, svg: &Svg, caption: &str) {
    let _ = writeln!(
        out,
        "<figure class=\"chart-wrap\">{}<figcaption>{}</figcaption></figure>",
        svg.inline(),
        esc(caption)
    );
}
