//! Renderers: each turns a [`Report`] into one output format. They format what
//! the model holds and compute nothing themselves; the content of the tables that the Markdown
//! report and the HTML page share (which rows, their labels, their figures as text) is
//! `rows/`'s, and the short texts they all write alike (a status, a limit, a change) are
//! `text.rs`'s.

pub mod alert_rules;
pub mod console;
pub mod html;
pub mod json;
mod load_tests;
pub mod markdown;
mod markdown_charts;
pub mod prometheus;
mod rows;
mod text;
pub mod trend;

use crate::model::Report;

/// One output format.
pub trait Renderer {
    /// Renders the whole report.
    fn render(&self, report: &Report) -> String;
}

/// The Markdown report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

/// The JSON verdict.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

/// The self-contained HTML page, with charts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

/// The terminal summary, coloured or plain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    /// Use ANSI colours.
    pub colour: bool,
}

impl Renderer for Markdown {
    fn render(&self, report: &Report) -> String {
        markdown::render(report)
    }
}

impl Renderer for Html {
    fn render(&self, report: &Report) -> String {
        html::render(report)
    }
}

impl Renderer for Json {
    fn render(&self, report: &Report) -> String {
        json::render(report)
    }
}

impl Renderer for Console {
    fn render(&self, report: &Report) -> String {
        console::render(report, self.colour)
    }
}
