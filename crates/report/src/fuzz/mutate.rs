//! The mutator: a case is a seed of its reader put through a few mutations drawn from a seeded
//! generator, so the case's seed alone gives its input back. Byte-level mutations (flips,
//! inserts, deletes, truncation, splices) find what a parser does with broken text; the
//! structure-aware ones keep the text well-formed enough to reach the code behind the parser
//! (validation, evaluation, rendering): a number replaced by a huge, negative, `-0`, NaN-like or
//! 400-digit one, a string by hostile text, a member deleted or duplicated, a value of another
//! type, nesting hundreds or thousands deep, a CSV column dropped or repeated.
//!
//! The structure is found lexically, not by parsing, so it works on text earlier mutations have
//! already broken, and costs one scan.

use perfgate_stats::SeededRng;

use super::reader::{Format, Reader};
use super::seeds::Seeds;

/// No case grows past this: a million cases must not spend their time copying megabytes, and
/// the time budget of a case (2 s) must measure the reader, not the size of its input. At 4 MiB,
/// a JSON array of arrays nested 100 deep took serde_json 0.6 s to refuse on a quiet machine and
/// over 2 s on a busy one (linear in the size: a slow input, not a hang).
pub const MAX_INPUT: usize = 1 << 20;

/// The seed of case `index` of a run seeded with `run_seed` (SplitMix64 over both), so a failing
/// case is replayed from its own seed without the run before it.
pub fn case_seed(run_seed: u64, index: u64) -> u64 {
    splitmix(run_seed ^ splitmix(index))
}

fn splitmix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The input of the case seeded with `seed` for `reader`.
pub fn generate(reader: Reader, seeds: &Seeds, seed: u64) -> Vec<u8> {
    let mut rng = SeededRng::new(seed);
    let own = seeds.of(reader);
    let roll = rng.below(64);
    if roll == 0 {
        // Arbitrary bytes: what a parser makes of something that is not its format at all.
        let len = rng.below(4096);
        return (0..len).map(|_| rng.next_u64() as u8).collect();
    }
    let mut bytes = own[rng.below(own.len())].clone();
    if roll == 1 {
        // The seed itself now and then, so the whole downstream of a valid file is exercised.
        return bytes;
    }
    let mut mutator = Mutator {
        rng,
        format: reader.format(),
        seeds,
        reader,
    };
    for _ in 0..1 + mutator.rng.below(4) {
        mutator.mutate(&mut bytes);
        if bytes.len() > MAX_INPUT {
            bytes.truncate(MAX_INPUT);
        }
    }
    bytes
}

struct Mutator<'a> {
    rng: SeededRng,
    format: Format,
    seeds: &'a Seeds,
    reader: Reader,
}

/// Numbers at the edges: of f64, of u64 and i64, of u32, of the validation's ranges (0, 1,
/// 100 for ratios and percentages), and forms JSON forbids or overflows.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "0.5",
    "0.999",
    "1.0001",
    "2",
    "99.999",
    "100",
    "101",
    "-100",
    "1e308",
    "-1e308",
    "1e309",
    "-1e309",
    "1.7976931348623157e308",
    "2.2250738585072014e-308",
    "4.9e-324",
    "5e-324",
    "1e-400",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "4294967295",
    "4294967296",
    "65535",
    "65536",
    "1e15",
    "1000000000000000",
    "1000000000000001",
    "1e16",
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "nan",
    "inf",
    "-inf",
    "+inf",
    "1.",
    ".5",
    "01",
    "0x10",
    "1_000",
    "1e",
    "--1",
    "1e+",
    "3.4028235e38",
];

/// Text a hostile file could carry into a report or a terminal.
fn hostile_text(rng: &mut SeededRng) -> String {
    const TEXTS: &[&str] = &[
        "",
        " ",
        "\0",
        "\u{1b}[31mred\u{1b}[0m\u{7}",
        "line\nbreak\r\nand\rreturn",
        "\u{85}\u{2028}\u{2029}",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "</code></td></tr></table><script>",
        "`| *_[x](javascript:alert(1)) <!--",
        "]]><!ENTITY x SYSTEM \"file:///etc/passwd\">",
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        ".",
        "flamegraph.svg",
        "results.json",
        "C:\\Windows\\system32",
        "\u{202e}evil\u{202c}",
        "\u{feff}\u{200b}",
        "💥🦀",
        "é",
        "%s%n%x{}{0}",
        "'; DROP TABLE runs; --",
        "&lt;&amp;&#x3c;",
        "$(rm -rf /)",
        "\\",
        "\"",
        "cpu.messages_per_second",
        "latency.p99_ms",
        "error_rate.percent",
        "rest.p95_latency_ms",
        "saturation",
        "fixed_rate",
        "Aggregated",
        "WS",
        "GET",
        "POST",
        "2026-11-22T18:22:27Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "2026-13-45T99:99:99Z",
    ];
    match rng.below(8) {
        0 => "A".repeat([256, 4096, 100_000][rng.below(3)]),
        1 => (0..1 + rng.below(64))
            .map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'))
            .collect(),
        2 => (0..1 + rng.below(32))
            .map(|_| char::from(rng.below(0x20) as u8))
            .collect(),
        _ => TEXTS[rng.below(TEXTS.len())].to_owned(),
    }
}

/// A token found in the text: a string literal (quotes included) or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
}

/// The string and number tokens of `bytes`, found lexically.
fn tokens(bytes: &[u8]) -> Vec<(usize, usize, Kind)> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let start = at;
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' && bytes[at] != b'\n' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                let end = (at + 1).min(bytes.len());
                found.push((start, end, Kind::String));
                at = end;
            }
            b'-' | b'0'..=b'9'
                if at == 0
                    || !(bytes[at - 1].is_ascii_alphanumeric() || matches!(bytes[at - 1], b'_' | b'.')) =>
            {
                let start = at;
                at += 1;
                while at < bytes.len() && matches!(bytes[at], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    at += 1;
                }
                if bytes[start..at].iter().any(u8::is_ascii_digit) {
                    found.push((start, at, Kind::Number));
                }
            }
            _ => at += 1,
        }
    }
    found
}

/// The end of the JSON or TOML value starting at `start`: a bracketed value to its matching
/// bracket (skipping strings), a string to its closing quote, anything else to the next
/// separator.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                if depth == 0 {
                    return (at + 1).min(bytes.len());
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return at,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            b',' | b'\n' | b'\r' if depth == 0 => return at,
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

/// Where values start: after `:` (JSON), `=` (TOML), `[` or `,` (arrays), skipping spaces.
fn value_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut in_string = false;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if in_string {
            match byte {
                b'\\' => at += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if matches!(byte, b':' | b'=' | b'[' | b',') {
            let mut start = at + 1;
            while start < bytes.len() && bytes[start] == b' ' {
                start += 1;
            }
            if start < bytes.len() && !matches!(bytes[start], b']' | b'}' | b',' | b'\n') {
                starts.push(start);
            }
        }
        at += 1;
    }
    starts
}

/// The spans of the lines of `bytes`, without their newlines.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'\n' {
            spans.push((start, at));
            start = at + 1;
        }
    }
    if start < bytes.len() {
        spans.push((start, bytes.len()));
    }
    spans
}

impl Mutator<'_> {
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.rng.below(items.len())])
    }

    fn position(&mut self, bytes: &[u8]) -> usize {
        self.rng.below(bytes.len() + 1)
    }

    fn number(&mut self) -> String {
        match self.rng.below(6) {
            0 => format!("1{}", "0".repeat(300 + self.rng.below(400))),
            1 => format!("0.{}1", "0".repeat(300 + self.rng.below(400))),
            2 => (self.rng.next_u64() as i64).to_string(),
            3 => format!("{:e}", f64::from_bits(self.rng.next_u64())),
            _ => NUMBERS[self.rng.below(NUMBERS.len())].to_owned(),
        }
    }

    fn string(&mut self) -> String {
        let text = hostile_text(&mut self.rng);
        if self.format == Format::Csv {
            // CSV quoting: commas, quotes and newlines inside a field.
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            // JSON escapes are valid in TOML's basic strings too.
            serde_json::to_string(&text).expect("a string serialises")
        }
    }

    /// A value of some type, as JSON or TOML text.
    fn value(&mut self) -> String {
        const VALUES: &[&str] = &[
            "null",
            "true",
            "false",
            "\"x\"",
            "0",
            "[]",
            "{}",
            "[1,\"a\",null]",
            "{\"a\":1}",
            "[[]]",
            "1979-05-27T07:32:00Z",
        ];
        match self.rng.below(4) {
            0 => self.number(),
            1 => self.string(),
            _ => VALUES[self.rng.below(VALUES.len())].to_owned(),
        }
    }

    /// `value` nested `depth` times in arrays or objects (inline tables in TOML).
    fn nest(&mut self, value: &[u8]) -> Vec<u8> {
        const DEPTHS: &[usize] = &[8, 64, 100, 127, 128, 129, 200, 500, 2_000, 10_000, 100_000];
        let depth = DEPTHS[self.rng.below(DEPTHS.len())];
        let (open, close): (&[u8], &[u8]) = match (self.rng.below(2), self.format) {
            (0, _) => (b"[", b"]"),
            (_, Format::Toml) => (b"{a=", b"}"),
            _ => (b"{\"a\":", b"}"),
        };
        let mut out = Vec::with_capacity(depth * (open.len() + close.len()) + value.len());
        for _ in 0..depth {
            out.extend_from_slice(open);
        }
        out.extend_from_slice(value);
        for _ in 0..depth {
            out.extend_from_slice(close);
        }
        out
    }

    fn mutate(&mut self, bytes: &mut Vec<u8>) {
        // Half byte-level, half aware of the format.
        if self.rng.below(2) == 0 {
            self.bytes(bytes);
        } else {
            match self.format {
                Format::Json | Format::JsonLines => self.json(bytes),
                Format::Toml => self.toml(bytes),
                Format::Csv => self.csv(bytes),
            }
        }
    }

    fn bytes(&mut self, bytes: &mut Vec<u8>) {
        const INTERESTING: &[&[u8]] = &[
            b"\0",
            b"\xff",
            b"\xc0\x80",
            b"\xe2\x82",
            b"\xf0\x9f\x92\xa5",
            b"\"",
            b"\\",
            b"\n",
            b"\r\n",
            b",",
            b"{",
            b"}",
            b"[",
            b"]",
            b":",
            b"=",
            b"#",
            b"'",
            b"\\u0000",
            b"\\ud800",
            b" ",
            b"\t",
            b"\xef\xbb\xbf",
        ];
        match self.rng.below(8) {
            0 if !bytes.is_empty() => {
                let at = self.rng.below(bytes.len());
                bytes[at] ^= 1 << self.rng.below(8);
            }
            1 => {
                let at = self.position(bytes);
                let insert: Vec<u8> = if self.rng.below(2) == 0 {
                    INTERESTING[self.rng.below(INTERESTING.len())].to_vec()
                } else {
                    (0..1 + self.rng.below(16))
                        .map(|_| self.rng.next_u64() as u8)
                        .collect()
                };
                bytes.splice(at..at, insert);
            }
            2 if !bytes.is_empty() => {
                let at = self.rng.below(bytes.len());
                let len = 1 + self.rng.below((bytes.len() - at).min(256));
                bytes.drain(at..at + len);
            }
            3 => {
                let at = self.position(bytes);
                bytes.truncate(at);
            }
            4 => {
                // Splice: a chunk of another seed of the same reader (or of any reader) in.
                let reader = if self.rng.below(4) == 0 {
                    Reader::ALL[self.rng.below(Reader::ALL.len())]
                } else {
                    self.reader
                };
                let seeds = self.seeds.of(reader);
                let other = &seeds[self.rng.below(seeds.len())];
                let from = self.rng.below(other.len() + 1);
                let len = self.rng.below((other.len() - from).min(4096) + 1);
                let chunk = other[from..from + len].to_vec();
                let at = self.position(bytes);
                let end = (at + self.rng.below(bytes.len() - at + 1).min(4096)).min(bytes.len());
                bytes.splice(at..end, chunk);
            }
            5 if !bytes.is_empty() => {
                // A range of the input repeated: duplicated keys, lines, elements.
                let at = self.rng.below(bytes.len());
                let len = 1 + self.rng.below((bytes.len() - at).min(1024));
                let chunk = bytes[at..at + len].to_vec();
                let to = self.position(bytes);
                bytes.splice(to..to, chunk);
            }
            6 if !bytes.is_empty() => {
                let at = self.rng.below(bytes.len());
                let with = INTERESTING[self.rng.below(INTERESTING.len())];
                bytes.splice(at..at + 1, with.iter().copied());
            }
            _ => {
                // Bytes that are text but not valid UTF-8 once cut: a multi-byte character halved.
                let at = self.position(bytes);
                bytes.splice(at..at, "é".bytes().take(1));
            }
        }
    }

    fn replace_token(&mut self, bytes: &mut Vec<u8>, kind: Kind) -> bool {
        let found: Vec<_> = tokens(bytes).into_iter().filter(|t| t.2 == kind).collect();
        let Some((start, end, _)) = self.pick(&found) else {
            return false;
        };
        let with = match kind {
            Kind::Number => self.number(),
            Kind::String => self.string(),
        };
        bytes.splice(start..end, with.into_bytes());
        true
    }

    fn json(&mut self, bytes: &mut Vec<u8>) {
        let replaced = match self.rng.below(8) {
            0 | 1 => self.replace_token(bytes, Kind::Number),
            2 => self.replace_token(bytes, Kind::String),
            3 => {
                // A value of another type.
                let Some(start) = self.pick(&value_starts(bytes)) else {
                    return;
                };
                let end = value_end(bytes, start);
                let value = self.value();
                bytes.splice(start..end, value.into_bytes());
                true
            }
            4 => {
                // A member deleted, or duplicated (serde_json keeps the last of a duplicate key
                // in a map, and refuses one in a struct).
                let keys: Vec<_> = tokens(bytes)
                    .into_iter()
                    .filter(|&(_, end, kind)| kind == Kind::String && bytes.get(end) == Some(&b':'))
                    .collect();
                let Some((start, key_end, _)) = self.pick(&keys) else {
                    return;
                };
                let end = value_end(bytes, key_end + 1);
                if self.rng.below(2) == 0 {
                    let end = if bytes.get(end) == Some(&b',') {
                        end + 1
                    } else {
                        end
                    };
                    bytes.drain(start..end);
                } else {
                    let mut member = bytes[start..end].to_vec();
                    if self.rng.below(2) == 0 {
                        // Same key, another value.
                        member.truncate(key_end + 1 - start);
                        member.extend_from_slice(self.value().as_bytes());
                    }
                    member.insert(0, b',');
                    bytes.splice(end..end, member);
                }
                true
            }
            5 => {
                // A value nested deep.
                let Some(start) = self.pick(&value_starts(bytes)) else {
                    return;
                };
                let end = value_end(bytes, start);
                let nested = self.nest(&bytes[start..end]);
                bytes.splice(start..end, nested);
                true
            }
            6 => {
                // An array element repeated many times.
                let starts: Vec<_> = value_starts(bytes)
                    .into_iter()
                    .filter(|&start| {
                        matches!(
                            bytes[..start].iter().rev().find(|b| **b != b' '),
                            Some(b'[' | b',')
                        )
                    })
                    .collect();
                let Some(start) = self.pick(&starts) else { return };
                let end = value_end(bytes, start);
                let element = bytes[start..end].to_vec();
                let times = [2, 10, 1_000, 100_000][self.rng.below(4)].min(MAX_INPUT / (element.len() + 1));
                let mut repeated = Vec::with_capacity(times * (element.len() + 1));
                for _ in 0..times {
                    repeated.push(b',');
                    repeated.extend_from_slice(&element);
                }
                bytes.splice(end..end, repeated);
                true
            }
            _ => self.lines(bytes),
        };
        if !replaced {
            self.bytes(bytes);
        }
    }

    fn toml(&mut self, bytes: &mut Vec<u8>) {
        let replaced = match self.rng.below(7) {
            0 | 1 => self.replace_token(bytes, Kind::Number),
            2 => self.replace_token(bytes, Kind::String),
            3 => {
                let starts: Vec<_> = value_starts(bytes)
                    .into_iter()
                    .filter(|&start| bytes[..start].ends_with(b"= ") || bytes[..start].ends_with(b"="))
                    .collect();
                let Some(start) = self.pick(&starts) else { return };
                let end = value_end(bytes, start);
                let value = if self.rng.below(3) == 0 {
                    let inner = bytes[start..end].to_vec();
                    self.nest(&inner)
                } else {
                    self.value().into_bytes()
                };
                bytes.splice(start..end, value);
                true
            }
            4 => {
                // A table header: hostile or repeated names, arrays of tables where tables belong.
                const HEADERS: &[&str] = &[
                    "[metrics]",
                    "[[metrics]]",
                    "[recommendations]",
                    "[metrics.\"cpu.messages_per_second\"]",
                    "[metrics.\"latency.p99_ms\"]",
                    "[metrics.\"no.such_metric\"]",
                    "[metrics.\"latency.p99_ms\".max]",
                    "[a.b.c.d.e.f.g.h]",
                ];
                let header = if self.rng.below(3) == 0 {
                    format!("[metrics.{}]", self.string())
                } else {
                    HEADERS[self.rng.below(HEADERS.len())].to_owned()
                };
                let spans = lines(bytes);
                let at = self.pick(&spans).map_or(0, |(start, _)| start);
                bytes.splice(at..at, format!("{header}\n").into_bytes());
                true
            }
            _ => self.lines(bytes),
        };
        if !replaced {
            self.bytes(bytes);
        }
    }

    /// A line deleted, duplicated, moved or swapped with another.
    fn lines(&mut self, bytes: &mut Vec<u8>) -> bool {
        let spans = lines(bytes);
        let (Some((start, end)), Some((other_start, other_end))) = (self.pick(&spans), self.pick(&spans))
        else {
            return false;
        };
        let line = bytes[start..end].to_vec();
        match self.rng.below(3) {
            0 => {
                bytes.drain(start..(end + 1).min(bytes.len()));
            }
            1 => {
                let mut copy = line;
                copy.push(b'\n');
                bytes.splice(other_start..other_start, copy);
            }
            _ => {
                let other = bytes[other_start..other_end].to_vec();
                // The later one first, so the earlier span stays valid.
                let (first, second) = if start < other_start {
                    ((start, end, other), (other_start, other_end, line))
                } else {
                    ((other_start, other_end, line), (start, end, other))
                };
                if first.1 <= second.0 {
                    bytes.splice(second.0..second.1, second.2);
                    bytes.splice(first.0..first.1, first.2);
                }
            }
        }
        true
    }

    fn csv(&mut self, bytes: &mut Vec<u8>) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.bytes(bytes);
            return;
        };
        let mut rows: Vec<Vec<String>> = text
            .split('\n')
            .map(|line| line.split(',').map(str::to_owned).collect())
            .collect();
        let width = rows.first().map_or(0, Vec::len);
        match self.rng.below(7) {
            0..=2 => {
                // A field replaced by a number, hostile text or another type of value.
                let row = self.rng.below(rows.len());
                let column = self.rng.below(rows[row].len());
                rows[row][column] = match self.rng.below(3) {
                    0 => self.string(),
                    1 => String::new(),
                    _ => self.number(),
                };
            }
            3 if width > 0 => {
                // A column dropped from every row (the reader finds columns by name).
                let column = self.rng.below(width);
                for row in &mut rows {
                    if column < row.len() {
                        row.remove(column);
                    }
                }
            }
            4 if width > 0 => {
                // A column repeated in every row: a duplicated header name.
                let column = self.rng.below(width);
                for row in &mut rows {
                    if let Some(field) = row.get(column).cloned() {
                        row.push(field);
                    }
                }
            }
            5 => {
                // A row cut short or made longer than the header.
                let row = self.rng.below(rows.len());
                if self.rng.below(2) == 0 {
                    let keep = self.rng.below(rows[row].len() + 1);
                    rows[row].truncate(keep);
                } else {
                    let extra = self.number();
                    rows[row].push(extra);
                }
            }
            _ => {
                let mut joined = join(&rows);
                self.lines(&mut joined);
                *bytes = joined;
                return;
            }
        }
        *bytes = join(&rows);
    }
}

fn join(rows: &[Vec<String>]) -> Vec<u8> {
    rows.iter()
        .map(|row| row.join(","))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_find_strings_and_numbers_but_not_digits_in_names() {
        let text = br#"{"a1": -1.5e3, "b": "x\"y", "p99_ms": 7}"#;
        let found: Vec<_> = tokens(text)
            .into_iter()
            .map(|(start, end, kind)| (std::str::from_utf8(&text[start..end]).unwrap(), kind))
            .collect();
        assert_eq!(
            found,
            [
                ("\"a1\"", Kind::String),
                ("-1.5e3", Kind::Number),
                ("\"b\"", Kind::String),
                ("\"x\\\"y\"", Kind::String),
                ("\"p99_ms\"", Kind::String),
                ("7", Kind::Number),
            ]
        );
    }

    #[test]
    fn a_value_ends_at_its_matching_bracket_or_separator() {
        let text = br#"{"a": {"b": [1, "]"]}, "c": 2}"#;
        assert_eq!(&text[6..value_end(text, 6)], br#"{"b": [1, "]"]}"#);
        assert_eq!(&text[28..value_end(text, 28)], b"2");
        assert_eq!(value_end(b"x = 1\ny = 2", 4), 5);
    }

    #[test]
    fn the_same_seed_gives_the_same_input_and_seeds_differ() {
        assert_ne!(case_seed(1, 0), case_seed(1, 1));
        assert_ne!(case_seed(1, 0), case_seed(2, 0));
    }
}
