//! Hand-written SVG charts for the HTML report: panels of lines stacked on one shared x axis
//! (stretches of it shaded and moments marked across every panel), diverging bars and dot plots,
//! inline or as files of their own. It knows nothing of perfgate's data (`charts.rs` decides what
//! to draw from what) and escapes every text it is given; colours and fonts come from CSS through
//! classes (`c0`…`c7`: the page's style sheet inline, `theme.css` and `chart.css` inside a file),
//! so the elements hold geometry only, but for the see-through fill of shading (`svg::SHADE`).
//! Its modules, each using only those listed before it: `text`, `scale`, `svg`, `axis`, `legend`,
//! then the charts (`panel` and `plot`, `bars`, `dots`).

mod axis;
mod bars;
mod dots;
mod legend;
mod panel;
mod plot;
mod scale;
mod svg;
mod text;

pub(super) use self::bars::{Bar, bars};
pub(super) use self::dots::{DotRow, dots};
pub(super) use self::panel::{Line, Mark, Panel, XMark, XSpan};
pub(super) use self::plot::{Plot, XAxis};
pub(super) use self::scale::Kind;
pub(super) use self::svg::Svg;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_chart_is_a_whole_svg_file() {
        let chart = Plot::new("a <chart>", XAxis::linear("s"))
            .panel(Panel::new("lag").line(Line::new("", vec![(0.0, 1.0), (1.0, 2.0)], 0)))
            .render();
        let inline = chart.inline();
        let file = chart.standalone();
        assert!(inline.starts_with("<svg class=\"chart\" viewBox=\"0 0 720 "));
        let size = inline
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let (width, height) = size.split_once(' ').unwrap();
        assert!(file.starts_with(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {size}\""
        )));
        assert!(file.contains("<title>a &lt;chart&gt;</title><style>\n:root {"));
        assert!(
            file.contains("@media (prefers-color-scheme: dark)") && file.contains("svg.chart .grid line")
        );
        assert!(file.contains("</style><rect class=\"background\" width=\"100%\" height=\"100%\"/>"));
        assert!(file.ends_with("</svg>\n"));
        // The same elements, inline and in the file.
        let body = |svg: &str| svg[svg.find("<g class=\"panel\">").unwrap()..].to_owned();
        assert_eq!(body(&inline), body(file.trim_end()));
    }
}
