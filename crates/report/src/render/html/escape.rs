//! Escaping for the HTML report. Every text that comes from an input (names, errors, paths,
//! commits, settings, warnings) goes through [`esc`] before it reaches the page, in element text
//! and in attribute values alike; the standalone SVG charts, which are XML, use it too.

/// Escapes text for HTML element text and quoted attribute values: `&`, `<`, `>`, `"` and `'`
/// become character references, and control characters other than tab and line breaks become
/// U+FFFD (HTML allows none of them), as do U+FFFE and U+FFFF (which XML does not allow).
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text with Markdown code spans (as recommendations write them: a run of backticks, the text,
/// the same run) turned into `<code>`; every part escaped. A backtick run that is never closed
/// stays as it is.
pub(super) fn inline_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        out.push_str(&esc(&rest[..start]));
        let fence_len = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let after = &rest[start + fence_len..];
        match closing_fence(after, fence_len) {
            Some(end) => {
                let content = &after[..end];
                // Markdown strips one space on each side (what lets a span start with a backtick).
                let content = match content.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !inner.trim().is_empty() => inner,
                    _ => content,
                };
                out.push_str("<code>");
                out.push_str(&esc(content));
                out.push_str("</code>");
                rest = &after[end + fence_len..];
            }
            None => {
                out.push_str(&rest[start..start + fence_len]);
                rest = after;
            }
        }
    }
    out.push_str(&esc(rest));
    out
}

/// Where a run of exactly `len` backticks starts in `text`.
fn closing_fence(text: &str, len: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'`' {
            let run = bytes[index..].iter().take_while(|&&b| b == b'`').count();
            if run == len {
                return Some(index);
            }
            index += run;
        } else {
            index += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            esc("\"onmouseover=\"x' & y"),
            "&quot;onmouseover=&quot;x&#39; &amp; y"
        );
        assert_eq!(esc("a\u{1b}[31mb\nc"), "a\u{FFFD}[31mb\nc");
        assert_eq!(esc("a\u{FFFF}b"), "a\u{FFFD}b");
    }

    #[test]
    fn code_spans_become_code_elements() {
        assert_eq!(
            inline_code("`decode` is hot (12.0 %)"),
            "<code>decode</code> is hot (12.0 %)"
        );
        assert_eq!(
            inline_code("``a`b`` and `<x>`"),
            "<code>a`b</code> and <code>&lt;x&gt;</code>"
        );
        assert_eq!(inline_code("`` `tick` ``"), "<code>`tick`</code>");
        assert_eq!(inline_code("no `end <b>"), "no `end &lt;b&gt;");
        assert_eq!(inline_code("plain"), "plain");
    }
}
