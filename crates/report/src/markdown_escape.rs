//! Escaping for Markdown output: untrusted text (endpoint, function and stage names, error texts,
//! labels) as inert plain text ([`escape`]) or as an inline code span ([`code`], and
//! [`table_code`] inside a table cell). Both Markdown renderers use it, the report's
//! (`render/markdown.rs`, `render/load_tests.rs`) and the comparison's (`compare/markdown.rs`),
//! so it is a leaf module of its own that imports nothing of the crate.

/// Escapes untrusted text for Markdown: every character Markdown (or inline HTML) could read as
/// syntax is backslash-escaped, `&` becomes an entity, line breaks become spaces and other
/// control characters U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Inline code that stays inline code whatever the text holds: the fence is longer than any run
/// of backticks inside, line breaks become spaces and other control characters U+FFFD. Inside a
/// code span nothing else is syntax, so `<`, `*` or `|` need no escaping (but see
/// [`table_code`]).
pub(crate) fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\r' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Inline code inside a table cell: GitHub splits cells at a `|` even inside a code span unless it
/// is backslash-escaped (and then shows it without the backslash).
pub(crate) fn table_code(text: &str) -> String {
    code(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_inject_markdown_or_html() {
        assert_eq!(escape("/api/<script>|x"), "/api/\\<script\\>\\|x");
        assert_eq!(escape("[a](javascript:x)"), "\\[a\\](javascript:x)");
        assert_eq!(escape("a\nb & `c`"), "a b &amp; \\`c\\`");
        assert_eq!(escape("**bold** _i_"), "\\*\\*bold\\*\\* \\_i\\_");
        assert_eq!(escape("a\r\n# heading\u{1b}"), "a  \\# heading\u{FFFD}");
    }

    #[test]
    fn code_spans_survive_backticks_and_newlines() {
        assert_eq!(code("GET /a"), "`GET /a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb"), "`a b`");
        assert_eq!(code("a\u{1b}[31m"), "`a\u{FFFD}[31m`");
        assert_eq!(code(""), "`  `");
    }

    #[test]
    fn table_code_keeps_the_cell_whole() {
        assert_eq!(table_code("a|b"), "`a\\|b`");
    }
}
