//! Training charts drawn with charts-rs, as SVG strings: the same code renders on the server
//! (the first paint) and in the browser (live updates).

use charts_rs::{LineChart, Series};

use crate::model::MetricPoint;

fn chart(title: &str, points: &[MetricPoint], series: Vec<Series>) -> String {
    let x: Vec<String> = points.iter().map(|p| p.step.to_string()).collect();
    let mut c = LineChart::new(series, x);
    c.title.text = title.to_owned();
    c.width = 720.0;
    c.height = 300.0;
    c.svg().unwrap_or_else(|e| format!("<p>chart unavailable: {e}</p>"))
}

/// Training loss and eval loss on one chart (eval loss is what LlamaBoard never shows).
pub fn loss_svg(points: &[MetricPoint]) -> String {
    let loss = points.iter().map(|p| p.loss.map(|v| v as f32)).collect();
    let eval = points.iter().map(|p| p.eval_loss.map(|v| v as f32)).collect();
    chart(
        "Loss by step",
        points,
        vec![Series::new_nullable("training loss".into(), loss), Series::new_nullable("eval loss".into(), eval)],
    )
}

/// The learning rate schedule.
pub fn lr_svg(points: &[MetricPoint]) -> String {
    let lr = points.iter().map(|p| p.lr.map(|v| v as f32)).collect();
    chart("Learning rate", points, vec![Series::new_nullable("learning rate".into(), lr)])
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

/// An experiment's arms over time: the running mean satisfaction after each rated conversation.
pub fn arms_svg(a: &[f64], b: &[f64]) -> String {
    let n = a.len().max(b.len());
    let x: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let series = |v: &[f64]| (0..n).map(|i| v.get(i).map(|x| *x as f32)).collect();
    let mut c = LineChart::new(
        vec![Series::new_nullable("arm A".into(), series(a)), Series::new_nullable("arm B".into(), series(b))],
        x,
    );
    c.title.text = "Mean satisfaction after each rated conversation".to_owned();
    c.width = 720.0;
    c.height = 280.0;
    c.svg().unwrap_or_else(|e| format!("<p>chart unavailable: {e}</p>"))
}
