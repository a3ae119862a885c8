//! Charts drawn as plain SVG by Leptos: the same markup on the server (the first paint, and the
//! whole chart without JavaScript) and in the browser (live updates from a signal). What to draw
//! is worked out in [`plot`] and [`scale`], which know nothing of the UI; here a
//! [`plot::ChartSpec`] becomes an `<svg>` with a text alternative, a legend, a `<title>` on
//! every step (the browser's own tooltip, no JavaScript needed) and, with JavaScript, a read-out
//! that follows the mouse or the arrow keys.
//!
//! One [`Chart`] serves every chart: training loss, learning rate, an experiment's running means,
//! and any later one (preference rewards, margins, accuracies) given its named series.

pub mod plot;
pub mod scale;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::model::MetricPoint;
use plot::{ChartSpec, Geometry, Layout, Mark, Series};
use scale::{ema, format_duration};

/// TensorBoard's default smoothing.
pub const DEFAULT_SMOOTHING: f64 = 0.6;
/// The most smoothing the control offers.
pub const MAX_SMOOTHING: f64 = 0.99;

/// `?smooth=`: a number in 0..=0.99 (held there); anything else is the default.
pub fn parse_smoothing(v: Option<&str>) -> f64 {
    v.and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .map_or(DEFAULT_SMOOTHING, |v| v.clamp(0.0, MAX_SMOOTHING))
}

/// `?log=`: a checkbox's value (`1`, `on`, `true`).
pub fn parse_flag(v: Option<&str>) -> bool {
    matches!(v.map(str::trim), Some("1" | "on" | "true" | "yes"))
}

/// Training loss, raw (pale) with its smoothed curve on top, and eval loss as circles.
pub fn loss_spec(points: &[MetricPoint], smoothing: f64, log: bool) -> ChartSpec {
    let raw: Vec<(f64, f64)> = points.iter().filter_map(|p| p.loss.map(|v| (p.step as f64, v))).collect();
    let eval: Vec<(f64, f64)> = points.iter().filter_map(|p| p.eval_loss.map(|v| (p.step as f64, v))).collect();
    let mut spec = ChartSpec::new("Loss", "step", "loss");
    spec.log_y = log;
    if smoothing > 0.0 {
        let values: Vec<f64> = raw.iter().map(|p| p.1).collect();
        let smooth = raw.iter().zip(ema(&values, smoothing)).map(|(p, s)| (p.0, s)).collect();
        spec = spec
            .series(Series::new("training loss", 0, Mark::Faint, raw))
            .series(Series::new(format!("smoothed ({smoothing:.2})"), 0, Mark::Line, smooth));
    } else {
        spec = spec.series(Series::new("training loss", 0, Mark::Line, raw));
    }
    spec.notes = time_notes(points);
    spec.series(Series::new("eval loss", 1, Mark::Dots, eval))
}

/// The learning-rate schedule.
pub fn lr_spec(points: &[MetricPoint]) -> ChartSpec {
    let lr = points.iter().filter_map(|p| p.lr.map(|v| (p.step as f64, v))).collect();
    let mut spec = ChartSpec::new("Learning rate", "step", "learning rate").series(Series::new("learning rate", 2, Mark::Line, lr));
    spec.notes = time_notes(points);
    spec
}

/// Whether any point carries a preference stage's rewards (DPO, ORPO, SimPO, KTO).
pub fn has_rewards(points: &[MetricPoint]) -> bool {
    points.iter().any(|p| p.rewards_chosen.is_some() || p.rewards_margins.is_some() || p.eval_rewards_margins.is_some())
}

fn series_of(points: &[MetricPoint], value: impl Fn(&MetricPoint) -> Option<f64>) -> Vec<(f64, f64)> {
    points.iter().filter_map(|p| value(p).map(|v| (p.step as f64, v))).collect()
}

fn time_notes(points: &[MetricPoint]) -> Vec<(f64, String)> {
    points.iter().filter_map(|p| p.elapsed_s.map(|s| (p.step as f64, format!("{} elapsed", format_duration(s))))).collect()
}

/// A preference stage's implicit rewards: the chosen and the rejected answers' mean reward and
/// their margin, with the margin on the validation data as marked points.
pub fn rewards_spec(points: &[MetricPoint]) -> ChartSpec {
    let mut spec = ChartSpec::new("Rewards", "step", "reward")
        .series(Series::new("chosen", 0, Mark::Line, series_of(points, |p| p.rewards_chosen)))
        .series(Series::new("rejected", 1, Mark::Line, series_of(points, |p| p.rewards_rejected)))
        .series(Series::new("margin", 2, Mark::Line, series_of(points, |p| p.rewards_margins)))
        .series(Series::new("eval margin", 3, Mark::Dots, series_of(points, |p| p.eval_rewards_margins)));
    spec.notes = time_notes(points);
    spec
}

/// The share of pairs whose chosen answer is rewarded more (0 to 1), training and validation.
pub fn reward_accuracy_spec(points: &[MetricPoint]) -> ChartSpec {
    let mut spec = ChartSpec::new("Reward accuracy", "step", "accuracy")
        .series(Series::new("accuracy", 0, Mark::Line, series_of(points, |p| p.rewards_accuracies)))
        .series(Series::new("eval accuracy", 1, Mark::Dots, series_of(points, |p| p.eval_rewards_accuracies)));
    spec.y_bounds = Some((0.0, 1.0));
    spec.notes = time_notes(points);
    spec
}

/// An experiment's arms over time: the running mean satisfaction after each rated conversation.
pub fn arms_spec(a: &[f64], b: &[f64]) -> ChartSpec {
    let numbered = |v: &[f64]| v.iter().enumerate().map(|(i, y)| ((i + 1) as f64, *y)).collect();
    let mut spec = ChartSpec::new("Mean satisfaction after each rated conversation", "rated conversation", "mean satisfaction")
        .series(Series::new("arm A", 0, Mark::Line, numbered(a)))
        .series(Series::new("arm B", 1, Mark::Line, numbered(b)));
    spec.y_bounds = Some((0.0, 1.0));
    spec
}

/// Merges new points into `points` (one per step, sorted).
pub fn merge(points: &mut Vec<MetricPoint>, new: Vec<MetricPoint>) {
    for p in new {
        match points.binary_search_by_key(&p.step, |q| q.step) {
            Ok(i) => points[i].merge(&p),
            Err(i) => points.insert(i, p),
        }
    }
}

/// Any chart: the plot, a read-out of the values at the step under the mouse or the keyboard
/// cursor, and a legend. `spec` may change (live points): the `<svg>` element stays, so focus
/// and the cursor survive new points.
///
/// The plot is an `<svg>` stretched over the card's width at a fixed height (its lines keep
/// their width), and the tick labels and axis names are HTML around it, placed by percentage:
/// the chart fills any width, a phone's included, and its text reads at the page's own size.
#[component]
pub fn Chart(#[prop(into)] spec: Signal<ChartSpec>) -> impl IntoView {
    let layout = Memo::new(move |_| spec.with(|s| Layout::fit(s, Geometry::PLOT)));
    let cursor = RwSignal::new(None::<usize>);
    let js = RwSignal::new(false);
    Effect::new(move |_| js.set(true));
    let band = move || cursor.get().and_then(|i| layout.with(|l| l.bands.get(i).cloned()));
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = layout.with_untracked(|l| l.bands.len());
        if n == 0 {
            return;
        }
        let page = (n / 10).max(1);
        let at = cursor.get_untracked().filter(|i| *i < n);
        let next = match ev.key().as_str() {
            "ArrowRight" | "ArrowUp" => at.map_or(n - 1, |i| (i + 1).min(n - 1)),
            "ArrowLeft" | "ArrowDown" => at.map_or(n - 1, |i| i.saturating_sub(1)),
            "PageUp" => at.map_or(n - 1, |i| (i + page).min(n - 1)),
            "PageDown" => at.map_or(n - 1, |i| i.saturating_sub(page)),
            "Home" => 0,
            "End" => n - 1,
            "Escape" => {
                cursor.set(None);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        cursor.set(Some(next));
    };
    let hint = move || {
        let x = layout.with(|l| l.x_name.clone());
        if js.get() {
            format!("Point at the chart, or focus it and use the arrow keys, to read the values at each {x}.")
        } else {
            format!("Point at the chart to read the values at each {x}.")
        }
    };
    let (w, h) = layout.with_untracked(|l| (l.width, l.height));
    view! {
        <div class="chart-frame">
            <div class="chart-area">
                <span class="chart-axis-name y" aria-hidden="true">
                    {move || layout.with(|l| format!("{}{}", l.y_name, if l.log_y { " (log scale)" } else { "" }))}
                </span>
                <div class="chart-plot">
                    <div class="chart-ticks y" aria-hidden="true">
                        {move || layout.with(|l| l.y_ticks.iter().map(|t| view! {
                            <span class="chart-tick y" style=format!("top: {}%", pct(t.pos, l.height))>{t.label.clone()}</span>
                        }).collect_view())}
                    </div>
                    <svg class="chart-svg" viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none" role="img" tabindex="0"
                        aria-label=move || layout.with(|l| l.summary.clone())
                        data-frame=move || layout.with(|l| format!("{} {} {} {}", l.frame.0, l.frame.1, l.frame.2, l.frame.3))
                        data-y-lo=move || layout.with(|l| l.y_domain.0.to_string())
                        data-y-hi=move || layout.with(|l| l.y_domain.1.to_string())
                        data-log=move || layout.with(|l| l.log_y.to_string())
                        on:keydown=on_key
                        on:focus=move |_| if cursor.get_untracked().is_none() { cursor.set(layout.with_untracked(|l| l.bands.len().checked_sub(1))) }
                        on:blur=move |_| cursor.set(None)
                        on:mouseleave=move |_| cursor.set(None)>
                        {move || layout.with(|l| plot_body(l, cursor))}
                        {move || band().map(|b| view! {
                            <g class="chart-cursor" aria-hidden="true">
                                <line x1=b.cx.to_string() x2=b.cx.to_string() y1=layout.with_untracked(|l| l.frame.1.to_string()) y2=layout.with_untracked(|l| l.frame.3.to_string()) />
                                {b.marks.iter().map(|(cy, c)| view! { <path class=format!("chart-mark s{c}") d=format!("M{},{}h0", b.cx, cy) /> }).collect_view()}
                            </g>
                        })}
                    </svg>
                    <div class="chart-ticks x" aria-hidden="true">
                        {move || layout.with(|l| l.x_ticks.iter().map(|t| view! {
                            <span class="chart-tick x" style=format!("left: {}%", pct(t.pos, l.width))>{t.label.clone()}</span>
                        }).collect_view())}
                    </div>
                    {move || layout.with(|l| (l.points == 0).then(|| view! { <span class="chart-empty">"No points yet"</span> }))}
                </div>
                <span class="chart-axis-name x" aria-hidden="true">{move || layout.with(|l| l.x_name.clone())}</span>
            </div>
            <p class="chart-readout" aria-live="polite" data-active=move || cursor.get().is_some().to_string()>
                {move || band().map_or_else(hint, |b| b.text)}
            </p>
            {move || layout.with(|l| l.log_refused.then(|| view! {
                <p class="muted chart-note">"A log scale needs every value above zero: shown on a linear scale."</p>
            }))}
            <ul class="chart-legend">
                {move || layout.with(|l| l.legend.iter().map(|(name, color, mark)| legend_item(name, *color, *mark)).collect_view())}
            </ul>
        </div>
    }
}

/// `pos` as a percentage of `of`, for a label placed over the stretched plot.
fn pct(pos: f64, of: f64) -> String {
    format!("{:.2}", if of > 0.0 { pos / of * 100.0 } else { 0.0 })
}

fn legend_item(name: &str, color: usize, mark: Mark) -> impl IntoView {
    // A styled span, not a second <svg>: the chart stays the only image in its frame.
    let class = format!("chart-swatch s{color} {}", mark.class());
    view! {
        <li data-series=name.to_owned()>
            <span class=class aria-hidden="true"></span>
            {name.to_owned()}
        </li>
    }
}

/// Everything inside the `<svg>` that follows the data: grid lines, the series, one hover band
/// per step (its `<title>` is the browser's own tooltip, without JavaScript too) and the marked
/// points. Dots are zero-length round-capped strokes, so they stay round however the plot is
/// stretched.
fn plot_body(l: &Layout, cursor: RwSignal<Option<usize>>) -> impl IntoView {
    let (x0, y0, x1, y1) = l.frame;
    let (s, f) = (|v: f64| v.to_string(), |v: f64| format!("{v:.1}"));
    let grid = l
        .y_ticks
        .iter()
        .map(|t| view! { <line class="chart-grid" x1=s(x0) x2=s(x1) y1=s(t.pos) y2=s(t.pos) /> })
        .collect_view();
    let paths = l
        .paths
        .iter()
        .map(|p| view! { <path class=format!("chart-path s{} {}", p.color, p.mark.class()) d=p.d.clone() data-series=p.name.clone() /> })
        .collect_view();
    let bands = l
        .bands
        .iter()
        .enumerate()
        .map(|(i, b)| {
            view! {
                <rect class="chart-band" x=f(b.left) y=s(y0) width=f(b.width) height=s(y1 - y0) data-x=b.x.to_string()
                    on:mouseenter=move |_| cursor.set(Some(i))>
                    <title>{b.text.clone()}</title>
                </rect>
            }
        })
        .collect_view();
    let dots = l
        .dots
        .iter()
        .map(|d| view! { <path class=format!("chart-dot s{}", d.color) d=format!("M{},{}h0", d.cx, d.cy) data-title=d.title.clone() /> })
        .collect_view();
    view! {
        <g class="chart-body">
            <title>{l.title.clone()}</title>
            <desc>{l.summary.clone()}</desc>
            <g class="chart-grid-lines">{grid}</g>
            <line class="chart-axis" x1=s(x0) x2=s(x1) y1=s(y1) y2=s(y1) />
            <g class="chart-paths">{paths}</g>
            <g class="chart-bands">{bands}</g>
            <g class="chart-dots">{dots}</g>
        </g>
    }
}

/// The loss chart with its controls: smoothing (0–0.99, TensorBoard's EMA) and a log scale. The
/// controls are a GET form on `action` (`?smooth=0.8&log=1`), so they work without JavaScript;
/// with it they apply as they move and the address keeps them. `download`: a link to the chart as
/// an SVG file, drawn with the same smoothing and scale.
#[component]
pub fn LossChart(
    points: RwSignal<Vec<MetricPoint>>,
    #[prop(into)] action: String,
    #[prop(optional, into)] download: Option<String>,
) -> impl IntoView {
    let query = use_query_map();
    let (smooth0, log0) = query.with_untracked(|q| (parse_smoothing(q.get("smooth").as_deref()), parse_flag(q.get("log").as_deref())));
    let smoothing = RwSignal::new(smooth0);
    let log = RwSignal::new(log0);
    let js = RwSignal::new(false);
    Effect::new(move |_| js.set(true));
    let spec = Signal::derive(move || points.with(|p| loss_spec(p, smoothing.get(), log.get())));
    let on_smooth = move |ev: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
            smoothing.set(v.clamp(0.0, MAX_SMOOTHING));
            remember(smoothing.get_untracked(), log.get_untracked());
        }
    };
    let on_log = move |ev: leptos::ev::Event| {
        log.set(event_target_checked(&ev));
        remember(smoothing.get_untracked(), log.get_untracked());
    };
    view! {
        <form method="get" action=action class="chart-controls" class:live=move || js.get()>
            <label class="chart-smoothing">"Smoothing "
                <input type="range" name="smooth" min="0" max=MAX_SMOOTHING.to_string() step="0.01" value=format!("{smooth0:.2}")
                    on:input=on_smooth />
                <output>{move || format!("{:.2}", smoothing.get())}</output>
            </label>
            <label class="check-row"><input type="checkbox" name="log" value="1" checked=log0 on:change=on_log />"Log scale"</label>
            <button type="submit" class="button secondary">"Apply"</button>
        </form>
        <Chart spec />
        {download.map(|base| view! {
            <p class="chart-download">
                <a href=move || download_href(&base, smoothing.get(), log.get()) download id="loss-svg">"Download the loss chart (SVG)"</a>
            </p>
        })}
    }
}

/// The SVG download's address for the chart as shown.
pub fn download_href(base: &str, smoothing: f64, log: bool) -> String {
    format!("{base}?smooth={smoothing:.2}{}", if log { "&log=1" } else { "" })
}

/// Keeps the controls in the address (a reload or a shared link shows the same chart).
#[allow(unused_variables)]
fn remember(smoothing: f64, log: bool) {
    #[cfg(feature = "hydrate")]
    {
        let mut pairs = vec![("smooth", format!("{smoothing:.2}"))];
        if log {
            pairs.push(("log", "1".to_owned()));
        }
        let url = format!("?{}", crate::format::query_string(pairs));
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_is_drawn_as_the_chart_is_shown() {
        assert_eq!(download_href("/runs/r/loss.svg", 0.6, false), "/runs/r/loss.svg?smooth=0.60");
        assert_eq!(download_href("/runs/r/loss.svg", 0.0, true), "/runs/r/loss.svg?smooth=0.00&log=1");
    }

    fn point(step: i64, loss: Option<f64>, eval: Option<f64>, lr: Option<f64>) -> MetricPoint {
        MetricPoint {
            total_steps: Some(30),
            loss,
            eval_loss: eval,
            lr,
            elapsed_s: Some(step as f64 * 1.5),
            ..MetricPoint::at_step(step)
        }
    }

    #[test]
    fn query_controls() {
        assert_eq!(parse_smoothing(None), DEFAULT_SMOOTHING);
        assert_eq!(parse_smoothing(Some("0.8")), 0.8);
        assert_eq!(parse_smoothing(Some("5")), MAX_SMOOTHING);
        assert_eq!(parse_smoothing(Some("-1")), 0.0);
        assert_eq!(parse_smoothing(Some("NaN")), DEFAULT_SMOOTHING);
        assert_eq!(parse_smoothing(Some("x")), DEFAULT_SMOOTHING);
        assert!(parse_flag(Some("1")) && parse_flag(Some("on")));
        assert!(!parse_flag(None) && !parse_flag(Some("0")));
    }

    #[test]
    fn the_loss_chart_from_points() {
        let points: Vec<MetricPoint> = (1..=12)
            .map(|s| point(s, Some(7.62 - 0.005 * s as f64), (s % 4 == 0).then_some(7.6 - 0.001 * s as f64), Some(1e-3)))
            .collect();
        let spec = loss_spec(&points, 0.6, false);
        let names: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["training loss", "smoothed (0.60)", "eval loss"]);
        assert_eq!(spec.series[0].mark, Mark::Faint);
        assert_eq!(spec.series[2].points.len(), 3);
        let l = Layout::of(&spec);
        let b = l.bands.iter().find(|b| b.x == 4.0).unwrap();
        assert_eq!(b.text, "step 4 · training loss 7.6 · smoothed (0.60) 7.605 · eval loss 7.596 · 0m06s elapsed");
        // No smoothing: the raw line alone, drawn solid.
        let raw = loss_spec(&points, 0.0, true);
        assert_eq!(raw.series.len(), 2);
        assert_eq!(raw.series[0].mark, Mark::Line);
        assert!(Layout::of(&raw).log_y);

        // The learning rate at 1e-3 throughout: distinct labels, none of them "0".
        let l = Layout::of(&lr_spec(&points));
        let labels: Vec<&str> = l.y_ticks.iter().map(|t| t.label.as_str()).collect();
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(unique.len(), labels.len(), "{labels:?}");
        assert!(labels.iter().all(|l| *l != "0" && l.contains("e-")), "{labels:?}");
    }

    #[test]
    fn preference_rewards() {
        let points: Vec<MetricPoint> = (1..=6)
            .map(|s| MetricPoint {
                rewards_chosen: Some(0.01 * s as f64),
                rewards_rejected: Some(-0.02 * s as f64),
                rewards_margins: Some(0.03 * s as f64),
                rewards_accuracies: Some(0.5 + 0.05 * s as f64),
                eval_rewards_margins: (s == 6).then_some(0.15),
                eval_rewards_accuracies: (s == 6).then_some(0.75),
                ..point(s, Some(0.69), None, None)
            })
            .collect();
        assert!(has_rewards(&points));
        assert!(!has_rewards(&[point(1, Some(1.0), None, None)]));
        let l = Layout::of(&rewards_spec(&points));
        assert!(l.y_domain.0 <= -0.12 && l.y_domain.1 >= 0.18, "{:?}", l.y_domain);
        assert_eq!(l.dots.len(), 1);
        let b = l.bands.iter().find(|b| b.x == 6.0).unwrap();
        assert_eq!(b.text, "step 6 · chosen 0.06 · rejected -0.12 · margin 0.18 · eval margin 0.15 · 0m09s elapsed");
        let a = Layout::of(&reward_accuracy_spec(&points));
        assert!(a.y_domain.0 >= 0.0 && a.y_domain.1 <= 1.0 && a.y_domain.1 >= 0.8, "{:?}", a.y_domain);
    }

    #[test]
    fn arms_stay_within_zero_and_one() {
        let l = Layout::of(&arms_spec(&[1.0, 0.75, 0.8], &[0.0, 0.5]));
        assert!(l.y_domain.0 >= 0.0 && l.y_domain.1 <= 1.0, "{:?}", l.y_domain);
        assert_eq!(l.bands.len(), 3);
        assert_eq!(l.bands[1].text, "rated conversation 2 · arm A 0.75 · arm B 0.5");
    }

    #[test]
    fn merge_keeps_one_point_per_step() {
        let mut points = vec![point(1, Some(2.0), None, None), point(3, Some(1.0), None, None)];
        merge(&mut points, vec![point(2, Some(1.5), None, None), point(3, None, Some(1.2), None)]);
        assert_eq!(points.iter().map(|p| p.step).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!((points[2].loss, points[2].eval_loss), (Some(1.0), Some(1.2)));
    }
}
