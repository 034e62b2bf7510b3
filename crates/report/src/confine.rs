//! Files named inside an input file (`files.flamegraph` in a results file), which may come from a
//! fork's pull request: resolved only to regular files inside the input's own folder, and an SVG
//! copied into a published report stripped of anything that could run.

use std::path::{Component, Path, PathBuf};

use crate::error::{ReportError, Result};

/// The largest file copied from beside an input: a perfgate flamegraph is a few MiB.
pub(crate) const MAX_COPIED_BYTES: u64 = 64 * 1024 * 1024;

/// Resolves `name`, written at `place` in the input file `input`, to a file inside the input's
/// folder. `Ok(None)` when there is no such file (results moved without their files); an error
/// when the name reaches outside the folder (absolute, `..`, a symbolic link out), names
/// something other than a regular file, or a file over [`MAX_COPIED_BYTES`].
pub(crate) fn file_beside(input: &Path, place: &str, name: &str) -> Result<Option<PathBuf>> {
    let refuse = |why: &str| {
        ReportError::invalid(
            input,
            place,
            format!("{why}; it must name a file beside the results file"),
        )
    };
    let relative = Path::new(name);
    if name.is_empty()
        || !relative
            .components()
            .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
    {
        return Err(refuse("is absolute or leaves the results file's folder"));
    }
    let folder = input
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(folder) = folder.canonicalize() else {
        return Ok(None);
    };
    // Resolving symbolic links before the check: a link inside the folder to a file outside it
    // is outside.
    let Ok(resolved) = folder.join(relative).canonicalize() else {
        return Ok(None);
    };
    if !resolved.starts_with(&folder) {
        return Err(refuse(
            "leads outside the results file's folder (through a symbolic link)",
        ));
    }
    let metadata = std::fs::metadata(&resolved).map_err(|error| ReportError::read(&resolved, error))?;
    if !metadata.is_file() {
        return Err(refuse("is not a regular file"));
    }
    if metadata.len() > MAX_COPIED_BYTES {
        return Err(refuse(&format!(
            "is {} bytes, over the {} MiB a flamegraph may be",
            metadata.len(),
            MAX_COPIED_BYTES / 1024 / 1024
        )));
    }
    Ok(Some(resolved))
}

/// The SVG `bytes` with every element and attribute that could run or fetch something removed:
/// `<script>` and `<foreignObject>` elements, `on…` event attributes, `javascript:` links. An
/// interactive flamegraph loses its search and zoom in the copy (the original beside the results
/// keeps them); shown as an image in the report it had neither. `None` if it is not an SVG.
pub(crate) fn inert_svg(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.trim_start();
    if !(start.starts_with("<?xml") || start.starts_with("<svg") || start.starts_with("<!DOCTYPE svg"))
        || !text.contains("<svg")
    {
        return None;
    }
    let mut out = remove_elements(text, "script");
    out = remove_elements(&out, "foreignObject");
    Some(remove_active_attributes(&out))
}

/// Removes every `<name …>…</name>` (and self-closed `<name …/>`), case-insensitively. An
/// element left open removes everything after it.
fn remove_elements(text: &str, name: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let open = format!("<{}", name.to_ascii_lowercase());
    let close = format!("</{}", name.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find(&open) {
        let begin = at + found;
        // `<scripts>` is not `<script>`: the name must end there.
        let after = lower[begin + open.len()..].chars().next();
        if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            out.push_str(&text[at..begin + open.len()]);
            at = begin + open.len();
            continue;
        }
        out.push_str(&text[at..begin]);
        let tag_end = lower[begin..].find('>').map(|i| begin + i + 1);
        at = match tag_end {
            Some(end) if text[..end].ends_with("/>") => end,
            Some(end) => match lower[end..].find(&close) {
                Some(i) => lower[end + i..].find('>').map_or(text.len(), |j| end + i + j + 1),
                None => text.len(),
            },
            None => text.len(),
        };
    }
    out.push_str(&text[at..]);
    out
}

/// Removes `on…=` event attributes and neutralises `javascript:` in attribute values.
fn remove_active_attributes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_tag = false;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            // Inside a quoted value: copied whole, multi-byte characters included.
            let width = utf8_width(c);
            out.push_str(&text[i..(i + width).min(text.len())]);
            i += width;
            continue;
        }
        if c == b'<' {
            in_tag = true;
        } else if c == b'>' {
            in_tag = false;
        } else if in_tag && (c == b'"' || c == b'\'') {
            quote = Some(c);
        } else if in_tag
            && c.is_ascii_whitespace()
            && bytes.get(i + 1).is_some_and(|b| b.eq_ignore_ascii_case(&b'o'))
            && bytes.get(i + 2).is_some_and(|b| b.eq_ignore_ascii_case(&b'n'))
        {
            // ` on…=value`: skip the name, `=` and the value.
            let mut j = i + 3;
            while j < bytes.len()
                && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-' || bytes[j] == b'_')
            {
                j += 1;
            }
            let mut k = j;
            while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                k += 1;
            }
            if bytes.get(k) == Some(&b'=') {
                k += 1;
                while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                    k += 1;
                }
                match bytes.get(k) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        k += 1;
                        while k < bytes.len() && bytes[k] != q {
                            k += 1;
                        }
                        k += 1;
                    }
                    _ => {
                        while k < bytes.len() && !bytes[k].is_ascii_whitespace() && bytes[k] != b'>' {
                            k += 1;
                        }
                    }
                }
                out.push(' ');
                i = k.min(bytes.len());
                continue;
            }
        }
        // Multi-byte characters are copied byte by byte through the char boundary below.
        let width = utf8_width(c);
        out.push_str(&text[i..(i + width).min(text.len())]);
        i += width;
    }
    neutralise_javascript_urls(&out)
}

fn utf8_width(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// `javascript:` anywhere (an `href` or `xlink:href`) becomes `blocked:`, case-insensitively.
fn neutralise_javascript_urls(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find("javascript:") {
        out.push_str(&text[at..at + found]);
        out.push_str("blocked:");
        at += found + "javascript:".len();
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let svg = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">
<SCRIPT type="text/ecmascript"><![CDATA[ alert(2) ]]></SCRIPT><scripts>kept</scripts>
<g ONMOUSEOVER='x()'><rect width="10" height="10"/><a href="JavaScript:alert(3)"><text>é frame</text></a></g>
<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src=x onerror=alert(4)></div></foreignObject>
<script/></svg>"#;
        let inert = inert_svg(svg.as_bytes()).unwrap();
        let lower = inert.to_ascii_lowercase();
        for active in [
            "<script>",
            "<script ",
            "<script/",
            "onload",
            "onmouseover",
            "onerror",
            "javascript:",
            "foreignobject",
            "alert(2)",
            "alert(4)",
        ] {
            assert!(!lower.contains(active), "{active} survived: {inert}");
        }
        for kept in [
            "<scripts>kept</scripts>",
            "<rect width=\"10\" height=\"10\"/>",
            "é frame",
            "<svg xmlns",
        ] {
            assert!(inert.contains(kept), "{kept} lost: {inert}");
        }
    }

    #[test]
    fn what_is_not_an_svg_is_refused() {
        assert!(inert_svg(b"root:x:0:0:root:/root:/bin/bash").is_none());
        assert!(inert_svg(b"SECRET=1\0PATH=/bin").is_none());
        assert!(inert_svg(&[0xff, 0xfe]).is_none());
    }

    #[test]
    fn names_must_stay_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results.json");
        std::fs::write(dir.path().join("flamegraph.svg"), "<svg/>").unwrap();
        assert_eq!(
            file_beside(&results, "/files/flamegraph", "flamegraph.svg").unwrap(),
            Some(dir.path().canonicalize().unwrap().join("flamegraph.svg"))
        );
        assert_eq!(
            file_beside(&results, "/files/flamegraph", "gone.svg").unwrap(),
            None
        );
        for outside in [
            "../../etc/passwd",
            "/proc/self/environ",
            "/etc/passwd",
            "a/../../x",
            "",
        ] {
            let error = file_beside(&results, "/files/flamegraph", outside)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("/files/flamegraph") && error.contains("beside the results file"),
                "{error}"
            );
        }
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        assert!(file_beside(&results, "/files/flamegraph", "folder").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link.svg")).unwrap();
            let error = file_beside(&results, "/files/flamegraph", "link.svg")
                .unwrap_err()
                .to_string();
            assert!(error.contains("symbolic link"), "{error}");
        }
    }
}
