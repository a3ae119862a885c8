//! A chart as data, then as positions: named series of (x, y) points go in; the axes, the paths,
//! the marked points, one hover band per x with everything known there, and a one-sentence
//! summary for screen readers come out. No UI here: the Leptos view draws a [`Layout`], and the
//! server writes the same [`Layout`] as a standalone SVG file.

use super::scale::{format_value, linear_axis, log_axis, Axis, Fit};

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A solid line.
    Line,
    /// A thin, pale line (the raw values under a smoothed one).
    Faint,
    /// Circles, joined by a thin dashed line (evaluations: few and far between).
    Dots,
}

impl Mark {
    pub fn class(self) -> &'static str {
        match self {
            Mark::Line => "line",
            Mark::Faint => "faint",
            Mark::Dots => "dots",
        }
    }
}

/// One named series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// Colour slot (0, 1, 2, …; the stylesheet has a colour per slot).
    pub color: usize,
    pub mark: Mark,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, color: usize, mark: Mark, points: Vec<(f64, f64)>) -> Series {
        Series { name: name.into(), color, mark, points: points.into_iter().filter(|(x, y)| x.is_finite() && y.is_finite()).collect() }
    }
}

/// Everything a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// Its name ("Loss").
    pub title: String,
    /// What x counts ("step").
    pub x_name: String,
    /// What y measures ("loss").
    pub y_name: String,
    pub series: Vec<Series>,
    /// Extra words for an x (the time at that step), shown on hover.
    pub notes: Vec<(f64, String)>,
    /// Asked for a log y axis (granted when every value is positive).
    pub log_y: bool,
    /// Where values can lie at all (0..1 for a satisfaction): the axis never pads past it.
    pub y_bounds: Option<(f64, f64)>,
    /// Whole-number x (steps, counts): no fractional ticks.
    pub x_integer: bool,
}

impl ChartSpec {
    pub fn new(title: impl Into<String>, x_name: impl Into<String>, y_name: impl Into<String>) -> ChartSpec {
        ChartSpec {
            title: title.into(),
            x_name: x_name.into(),
            y_name: y_name.into(),
            series: Vec::new(),
            notes: Vec::new(),
            log_y: false,
            y_bounds: None,
            x_integer: true,
        }
    }

    pub fn series(mut self, s: Series) -> ChartSpec {
        self.series.push(s);
        self
    }
}

/// Where a chart is drawn, in the SVG's own units (its viewBox): the whole drawing and the plot's
/// margins inside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Geometry {
    /// The standalone file: a fixed size, with room for the axes' labels inside the drawing.
    pub const FILE: Geometry = Geometry { width: 960.0, height: 340.0, left: 72.0, top: 14.0, right: 16.0, bottom: 44.0 };
    /// The page: the plot alone in a 1000 × 1000 box that the stylesheet stretches over whatever
    /// room the card has (lines keep their width with `vector-effect`); the labels around it are
    /// HTML, so they stay readable at any width.
    pub const PLOT: Geometry = Geometry { width: 1000.0, height: 1000.0, left: 0.0, top: 0.0, right: 0.0, bottom: 0.0 };
}

/// Hover bands at most (beyond it, every k-th x gets one).
const MAX_BANDS: usize = 400;

#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position along its axis, in SVG units.
    pub pos: f64,
    pub value: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub name: String,
    pub color: usize,
    pub mark: Mark,
    /// SVG path data.
    pub d: String,
}

/// A marked point (a circle), with its tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub cx: f64,
    pub cy: f64,
    pub color: usize,
    pub title: String,
}

/// The strip of the plot nearest one x: hovering it (or moving the keyboard cursor to it) shows
/// `text`, and marks each series' value there.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub x: f64,
    /// Left edge and width, SVG units.
    pub left: f64,
    pub width: f64,
    /// The x's position (the crosshair).
    pub cx: f64,
    /// `step 12 · training loss 7.581 · eval loss 7.602 · 0m14s`
    pub text: String,
    /// Each series' point at this x: (cy, colour slot).
    pub marks: Vec<(f64, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// The plot's frame: left, top, right, bottom.
    pub frame: (f64, f64, f64, f64),
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub y_domain: (f64, f64),
    /// The y axis is logarithmic.
    pub log_y: bool,
    /// A log axis was asked for and refused (a value at or below zero).
    pub log_refused: bool,
    pub paths: Vec<Path>,
    pub dots: Vec<Dot>,
    pub bands: Vec<Band>,
    /// The legend: (name, colour slot, mark).
    pub legend: Vec<(String, usize, Mark)>,
    pub title: String,
    pub x_name: String,
    pub y_name: String,
    /// One or two sentences saying what the chart shows (its text alternative).
    pub summary: String,
    /// Points in all series.
    pub points: usize,
}

impl Layout {
    /// The layout of the standalone file ([`Geometry::FILE`]).
    pub fn of(spec: &ChartSpec) -> Layout {
        Layout::fit(spec, Geometry::FILE)
    }

    pub fn fit(spec: &ChartSpec, g: Geometry) -> Layout {
        let (x0, y0, x1, y1) = (g.left, g.top, g.width - g.right, g.height - g.bottom);
        let all = || spec.series.iter().flat_map(|s| s.points.iter().copied());
        let points = all().count();
        let (min_x, max_x) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| (a.min(x), b.max(x)));
        let (min_y, max_y) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| (a.min(y), b.max(y)));
        let (min_x, max_x) = if points == 0 { (0.0, 1.0) } else { (min_x, max_x) };
        let x_axis = linear_axis(min_x, max_x, 6, Fit::Exact, None, spec.x_integer);
        let log_axis_y = if spec.log_y && points > 0 { log_axis(min_y, max_y, 5) } else { None };
        let log_refused = spec.log_y && points > 0 && log_axis_y.is_none();
        let y_axis = log_axis_y.unwrap_or_else(|| {
            let (lo, hi) = if points == 0 { spec.y_bounds.unwrap_or((0.0, 1.0)) } else { (min_y, max_y) };
            linear_axis(lo, hi, 5, Fit::Padded(0.03), spec.y_bounds, false)
        });
        let px = |x: f64| x0 + x_axis.fraction(x) * (x1 - x0);
        let py = |y: f64| y1 - y_axis.fraction(y) * (y1 - y0);
        let round = |v: f64| (v * 10.0).round() / 10.0;

        let ticks = |axis: &Axis, at: &dyn Fn(f64) -> f64| -> Vec<Tick> {
            axis.ticks.iter().map(|(v, l)| Tick { pos: round(at(*v)), value: *v, label: l.clone() }).collect()
        };
        let x_ticks = ticks(&x_axis, &px);
        let y_ticks = ticks(&y_axis, &py);

        let mut paths = Vec::new();
        let mut dots = Vec::new();
        for s in &spec.series {
            if s.points.is_empty() {
                continue;
            }
            let mut d = String::new();
            for (i, (x, y)) in s.points.iter().enumerate() {
                d.push_str(&format!("{}{},{}", if i == 0 { "M" } else { "L" }, round(px(*x)), round(py(*y))));
            }
            paths.push(Path { name: s.name.clone(), color: s.color, mark: s.mark, d });
            if s.mark == Mark::Dots {
                for (x, y) in &s.points {
                    dots.push(Dot {
                        cx: round(px(*x)),
                        cy: round(py(*y)),
                        color: s.color,
                        title: format!("{} {} · {} {}", spec.x_name, format_value(*x), s.name, format_value(*y)),
                    });
                }
            }
        }

        // One band per x (every k-th when there are very many), reaching halfway to its
        // neighbours.
        let mut xs: Vec<f64> = all().map(|(x, _)| x).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let stride = xs.len().div_ceil(MAX_BANDS).max(1);
        let kept: Vec<f64> = xs.iter().copied().step_by(stride).collect();
        let mut bands = Vec::with_capacity(kept.len());
        for (i, &x) in kept.iter().enumerate() {
            let cx = px(x);
            let left = if i == 0 { x0 } else { (px(kept[i - 1]) + cx) / 2.0 };
            let right = if i + 1 == kept.len() { x1 } else { (cx + px(kept[i + 1])) / 2.0 };
            let mut text = format!("{} {}", spec.x_name, format_value(x));
            let mut marks = Vec::new();
            for s in &spec.series {
                if let Ok(j) = s.points.binary_search_by(|(px_, _)| px_.total_cmp(&x)) {
                    let y = s.points[j].1;
                    text.push_str(&format!(" · {} {}", s.name, format_value(y)));
                    marks.push((round(py(y)), s.color));
                }
            }
            if let Some((_, note)) = spec.notes.iter().find(|(nx, _)| *nx == x) {
                text.push_str(&format!(" · {note}"));
            }
            bands.push(Band { x, left: round(left), width: round((right - left).max(0.5)), cx: round(cx), text, marks });
        }

        let legend = spec.series.iter().filter(|s| !s.points.is_empty()).map(|s| (s.name.clone(), s.color, s.mark)).collect();
        Layout {
            width: g.width,
            height: g.height,
            frame: (x0, y0, x1, y1),
            x_ticks,
            y_ticks,
            y_domain: (y_axis.lo, y_axis.hi),
            log_y: y_axis.log,
            log_refused,
            paths,
            dots,
            bands,
            legend,
            title: spec.title.clone(),
            x_name: spec.x_name.clone(),
            y_name: spec.y_name.clone(),
            summary: summary(spec),
            points,
        }
    }
}

/// `Loss by step, steps 1 to 30: training loss from 7.62 to 7.55 (lowest 7.54); eval loss, 3
/// points, from 7.61 to 7.58.`
fn summary(spec: &ChartSpec) -> String {
    let xs = spec.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if lo > hi {
        return format!("{}: no points yet.", spec.title);
    }
    let parts: Vec<String> = spec
        .series
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| {
            let first = s.points[0].1;
            let last = s.points[s.points.len() - 1].1;
            let (min, max) = s.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
            let n = s.points.len();
            let count = if s.mark == Mark::Dots { format!(", {n} point{}", if n == 1 { "" } else { "s" }) } else { String::new() };
            if n == 1 {
                format!("{}{count}: {}", s.name, format_value(first))
            } else {
                format!(
                    "{}{count} from {} to {} (lowest {}, highest {})",
                    s.name,
                    format_value(first),
                    format_value(last),
                    format_value(min),
                    format_value(max)
                )
            }
        })
        .collect();
    format!("{}, {}s {} to {}: {}.", spec.title, spec.x_name, format_value(lo), format_value(hi), parts.join("; "))
}

/// The colours of the slots, for the standalone file (the page takes them from the stylesheet).
#[cfg(any(test, feature = "ssr"))]
const COLOURS: [&str; 4] = ["#2f7d5b", "#c2410c", "#2563eb", "#7c3aed"];

/// The layout as a standalone SVG document (the run page's "Download SVG"), with a title, a
/// legend and its own colours.
#[cfg(any(test, feature = "ssr"))]
pub fn to_svg(l: &Layout) -> String {
    use std::fmt::Write;
    let e = escape;
    let (x0, y0, x1, y1) = l.frame;
    let legend_h = 22.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 {top} {w} {h}" width="{w}" height="{h}" role="img" aria-label="{summary}" font-family="system-ui, sans-serif" font-size="13">"#,
        top = -legend_h,
        w = l.width,
        h = l.height + legend_h,
        summary = e(&l.summary),
    );
    let _ = write!(s, "<title>{}</title><desc>{}</desc>", e(&l.title), e(&l.summary));
    let _ = write!(s, r##"<rect x="0" y="{}" width="{}" height="{}" fill="#ffffff"/>"##, -legend_h, l.width, l.height + legend_h);
    // Legend along the top.
    let mut lx = x0;
    for (name, color, mark) in &l.legend {
        let c = COLOURS[color % COLOURS.len()];
        let (opacity, dash) = match mark {
            Mark::Faint => ("0.35", ""),
            Mark::Dots => ("1", r#" stroke-dasharray="3 3""#),
            Mark::Line => ("1", ""),
        };
        let _ = write!(s, r#"<line x1="{lx}" x2="{}" y1="-8" y2="-8" stroke="{c}" stroke-width="2" stroke-opacity="{opacity}"{dash}/>"#, lx + 18.0);
        if *mark == Mark::Dots {
            let _ = write!(s, r#"<circle cx="{}" cy="-8" r="3.5" fill="{c}"/>"#, lx + 9.0);
        }
        let _ = write!(s, r##"<text x="{}" y="-4" fill="#1f2421">{}</text>"##, lx + 23.0, e(name));
        lx += 23.0 + 7.0 * name.chars().count() as f64 + 18.0;
    }
    for t in &l.y_ticks {
        let _ = write!(
            s,
            r##"<line x1="{x0}" x2="{x1}" y1="{p}" y2="{p}" stroke="#e2e0d8"/><text x="{}" y="{p}" dy="0.32em" text-anchor="end" fill="#5f6b64">{}</text>"##,
            x0 - 6.0,
            e(&t.label),
            p = t.pos
        );
    }
    for t in &l.x_ticks {
        let _ = write!(
            s,
            r##"<line x1="{p}" x2="{p}" y1="{y1}" y2="{}" stroke="#5f6b64"/><text x="{p}" y="{}" text-anchor="middle" fill="#5f6b64">{}</text>"##,
            y1 + 4.0,
            y1 + 18.0,
            e(&t.label),
            p = t.pos
        );
    }
    let _ = write!(s, r##"<line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}" stroke="#5f6b64"/>"##);
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#5f6b64">{}</text>"##,
        (x0 + x1) / 2.0,
        l.height - 4.0,
        e(&l.x_name)
    );
    let _ = write!(
        s,
        r##"<text transform="translate(12 {}) rotate(-90)" text-anchor="middle" fill="#5f6b64">{}{}</text>"##,
        (y0 + y1) / 2.0,
        e(&l.y_name),
        if l.log_y { " (log scale)" } else { "" }
    );
    for p in &l.paths {
        let c = COLOURS[p.color % COLOURS.len()];
        let style = match p.mark {
            Mark::Line => r#"stroke-width="2""#,
            Mark::Faint => r#"stroke-width="1.2" stroke-opacity="0.35""#,
            Mark::Dots => r#"stroke-width="1" stroke-dasharray="3 3""#,
        };
        let _ = write!(s, r#"<path d="{}" fill="none" stroke="{c}" {style} stroke-linejoin="round"/>"#, p.d);
    }
    for d in &l.dots {
        let c = COLOURS[d.color % COLOURS.len()];
        let _ = write!(
            s,
            r##"<circle cx="{}" cy="{}" r="4" fill="{c}" stroke="#ffffff" stroke-width="1.5"><title>{}</title></circle>"##,
            d.cx,
            d.cy,
            e(&d.title)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(any(test, feature = "ssr"))]
fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss() -> ChartSpec {
        let raw: Vec<(f64, f64)> = (1..=30).map(|s| (s as f64, 7.62 - 0.07 * (s as f64 - 1.0) / 29.0)).collect();
        ChartSpec::new("Loss", "step", "loss")
            .series(Series::new("training loss", 0, Mark::Line, raw))
            .series(Series::new("eval loss", 1, Mark::Dots, vec![(10.0, 7.61), (20.0, 7.59), (30.0, 7.58)]))
    }

    #[test]
    fn the_axes_fit_the_data() {
        let l = Layout::of(&loss());
        assert!(l.y_domain.0 <= 7.55 && l.y_domain.1 >= 7.62, "{:?}", l.y_domain);
        assert!(l.y_domain.1 - l.y_domain.0 < 0.2, "{:?}", l.y_domain);
        let labels: Vec<&str> = l.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["7.56", "7.58", "7.60", "7.62"]);
        // Ticks run bottom to top inside the frame.
        let (_, top, _, bottom) = l.frame;
        assert!(l.y_ticks.windows(2).all(|w| w[0].pos > w[1].pos));
        assert!(l.y_ticks.iter().all(|t| t.pos >= top - 0.1 && t.pos <= bottom + 0.1));
        let x: Vec<&str> = l.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(x, ["5", "10", "15", "20", "25", "30"]);
        assert_eq!(l.points, 33);
    }

    #[test]
    fn bands_say_everything_at_a_step() {
        let mut spec = loss();
        spec.notes = vec![(10.0, "0m14s".into())];
        let l = Layout::of(&spec);
        assert_eq!(l.bands.len(), 30);
        let b = l.bands.iter().find(|b| b.x == 10.0).unwrap();
        assert_eq!(b.text, "step 10 · training loss 7.598 · eval loss 7.61 · 0m14s");
        assert_eq!(b.marks.len(), 2);
        // The bands tile the plot without gaps.
        let (left, _, right, _) = l.frame;
        assert!((l.bands[0].left - left).abs() < 0.2);
        let last = l.bands.last().unwrap();
        assert!((last.left + last.width - right).abs() < 0.2);
        for w in l.bands.windows(2) {
            assert!((w[0].left + w[0].width - w[1].left).abs() < 0.2);
        }
        assert_eq!(l.dots.len(), 3);
        assert_eq!(l.dots[0].title, "step 10 · eval loss 7.61");
    }

    #[test]
    fn many_points_get_fewer_bands() {
        let pts: Vec<(f64, f64)> = (0..5000).map(|s| (s as f64, 1.0 / (1.0 + s as f64))).collect();
        let l = Layout::of(&ChartSpec::new("Loss", "step", "loss").series(Series::new("loss", 0, Mark::Line, pts)));
        assert!(l.bands.len() <= MAX_BANDS && l.bands.len() > MAX_BANDS / 2);
    }

    #[test]
    fn the_summary_reads_as_a_sentence() {
        let s = Layout::of(&loss()).summary;
        assert_eq!(
            s,
            "Loss, steps 1 to 30: training loss from 7.62 to 7.55 (lowest 7.55, highest 7.62); eval loss, 3 points from 7.61 to 7.58 (lowest 7.58, highest 7.61)."
        );
        let empty = Layout::of(&ChartSpec::new("Learning rate", "step", "learning rate"));
        assert_eq!(empty.summary, "Learning rate: no points yet.");
        assert!(empty.paths.is_empty() && empty.bands.is_empty() && !empty.y_ticks.is_empty());
    }

    #[test]
    fn log_scale_when_it_can() {
        let mut spec = loss();
        spec.log_y = true;
        let l = Layout::of(&spec);
        assert!(l.log_y && !l.log_refused);
        let mut neg = ChartSpec::new("Margin", "step", "margin").series(Series::new("m", 0, Mark::Line, vec![(1.0, -1.0), (2.0, 2.0)]));
        neg.log_y = true;
        let l = Layout::of(&neg);
        assert!(!l.log_y && l.log_refused);
    }

    #[test]
    fn non_finite_values_are_left_out() {
        let s = Series::new("x", 0, Mark::Line, vec![(1.0, f64::NAN), (2.0, 1.0), (f64::INFINITY, 2.0)]);
        assert_eq!(s.points, [(2.0, 1.0)]);
    }

    #[test]
    fn the_standalone_file_is_complete() {
        let mut spec = loss();
        spec.title = "Loss <&>".into();
        let svg = to_svg(&Layout::of(&spec));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<title>Loss &lt;&amp;&gt;</title>"));
        assert_eq!(svg.matches("<circle").count(), 3 + 1, "three eval points and the legend's dot");
        assert!(svg.contains(">7.60</text>"));
        assert!(svg.contains(">eval loss</text>"));
        // Balanced elements (a cheap well-formedness check: every opened tag is closed).
        let opened = svg.matches('<').count() - svg.matches("</").count();
        let closed = svg.matches("/>").count() + svg.matches("</").count();
        assert_eq!(opened, closed);
    }
}
