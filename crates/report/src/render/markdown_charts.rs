//! The HTML report's charts as the Markdown report shows them: images of the standalone SVG
//! files written beside it ([`Report::with_chart_links`]), each under a stable key and in the
//! section the page shows it in. The report's sections and the load-test section embed them.

use std::fmt::Write;

use crate::markdown_escape::escape;
use crate::model::Report;

/// One chart as the Markdown report shows it.
#[derive(Debug)]
pub(super) struct Chart {
    /// The chart's stable key (`latency`), the file's name after the prefix.
    key: String,
    /// The HTML report's section the chart is shown in.
    section: &'static str,
    /// The chart's title.
    pub(super) title: String,
    /// `![title](link)`.
    pub(super) image: String,
}

/// The charts the report shows, the HTML report's: none without a chart link prefix.
#[derive(Debug)]
pub(super) struct Charts(Vec<Chart>);

impl Charts {
    /// The charts of `report`, linked under its chart link prefix.
    pub(super) fn new(report: &Report) -> Self {
        let Some(prefix) = &report.chart_links else {
            return Charts(Vec::new());
        };
        Charts(
            super::html::chart_files(report)
                .into_iter()
                .map(|chart| Chart {
                    image: format!(
                        "![{}]({}.svg)",
                        escape(&chart.title),
                        link(&format!("{prefix}{}", chart.key))
                    ),
                    key: chart.key,
                    section: chart.section,
                    title: chart.title,
                })
                .collect(),
        )
    }

    /// The chart `key`, if there is one, as a paragraph of its own.
    pub(super) fn embed(&self, out: &mut String, key: &str) {
        for chart in self.0.iter().filter(|chart| chart.key == key) {
            let _ = writeln!(out, "{}\n", chart.image);
        }
    }

    /// The charts of the HTML report's section `section`.
    pub(super) fn in_section<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Chart> {
        self.0.iter().filter(move |chart| chart.section == section)
    }
}

/// A relative path as a link: percent-encoded but for letters, digits, `-._~` and `/`, so that
/// spaces, brackets and parentheses in a file name cannot end or break it.
fn link(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
