//! The SVG text itself: how coordinates are written, and [`Svg`], a drawn chart that goes inline
//! into the page or into a file of its own with its style sheet. What goes inside a chart is the
//! chart modules' job.

use super::text::FONT;
use crate::render::html::escape::esc;
use crate::render::html::{CHART_CSS, THEME_CSS};

/// A number as SVG coordinates carry it: one decimal, no trailing `.0`.
pub(super) fn n(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// How a shaded stretch is filled: its class's colour, see-through so that the grid and the lines
/// under it stay readable. Presentation attributes rather than a rule in `chart.css`: that style
/// sheet is inlined into every page and every chart file, and only the charts that shade anything
/// need this (a CSS rule for `.shade` would take precedence over these).
pub(super) const SHADE: &str = "fill=\"currentColor\" fill-opacity=\"0.16\"";

/// A drawn chart: its title, its size in SVG units and its elements, to go inline in the page
/// ([`Svg::inline`]) or into a file of its own ([`Svg::standalone`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Svg {
    title: String,
    width: f64,
    height: f64,
    body: String,
}

/// What a standalone chart adds to the page's rules: the page's font (inline, the chart inherits
/// it) and an opaque background, so that the chart stays readable on a light or dark page
/// whichever scheme the viewer follows.
const STANDALONE_CSS: &str = "svg.chart { font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif; }\n\
                              svg.chart .background { fill: var(--bg); }\n";

impl Svg {
    /// A chart of `width` × `height` SVG units whose elements are `body` (already escaped).
    pub(super) fn new(title: &str, width: f64, height: f64, body: String) -> Self {
        Svg {
            title: title.to_owned(),
            width,
            height,
            body,
        }
    }

    /// The title (unescaped).
    pub(crate) fn title(&self) -> &str {
        &self.title
    }

    /// The `<svg>` element for the page: scales to the width of its container, named for screen
    /// readers, styled by the page's CSS.
    pub(crate) fn inline(&self) -> String {
        format!(
            "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{title}\" font-size=\"{FONT}\"><title>{title}</title>{}</svg>",
            n(self.width),
            n(self.height),
            self.body,
            title = esc(&self.title)
        )
    }

    /// A whole SVG file: the namespace, a size of its own, the colours (light, and dark under
    /// `prefers-color-scheme`) and the chart rules in an embedded style sheet, and an opaque
    /// background. It references nothing outside itself, so it renders the same as a file and
    /// in an `<img>` (where GitHub shows it).
    pub(crate) fn standalone(&self) -> String {
        let (width, height) = (n(self.width), n(self.height));
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{title}\" font-size=\"{FONT}\">\
             <title>{title}</title><style>\n{}{}{STANDALONE_CSS}</style><rect class=\"background\" width=\"100%\" height=\"100%\"/>{}</svg>\n",
            THEME_CSS,
            CHART_CSS,
            self.body,
            title = esc(&self.title)
        )
    }
}
