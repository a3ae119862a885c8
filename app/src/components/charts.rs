//! Training charts drawn with charts-rs, as SVG strings: the same code renders on the server
//! (the first paint) and in the browser (live updates).

use charts_rs::{LineChart, Series};

use crate::model::Point;

fn chart(title: &str, points: &[Point], series: Vec<Series>) -> String {
    let x: Vec<String> = points.iter().map(|p| p.step.to_string()).collect();
    let mut c = LineChart::new(series, x);
    c.title.text = title.to_owned();
    c.width = 720.0;
    c.height = 300.0;
    c.svg().unwrap_or_else(|e| format!("<p>chart unavailable: {e}</p>"))
}

/// Training loss and eval loss on one chart (eval loss is what LlamaBoard never shows).
pub fn loss_svg(points: &[Point]) -> String {
    let loss = points.iter().map(|p| p.loss.map(|v| v as f32)).collect();
    let eval = points.iter().map(|p| p.eval_loss.map(|v| v as f32)).collect();
    chart(
        "Loss by step",
        points,
        vec![Series::new_nullable("training loss".into(), loss), Series::new_nullable("eval loss".into(), eval)],
    )
}

/// The learning rate schedule.
pub fn lr_svg(points: &[Point]) -> String {
    let lr = points.iter().map(|p| p.lr.map(|v| v as f32)).collect();
    chart("Learning rate", points, vec![Series::new_nullable("learning rate".into(), lr)])
}

/// Merges new points into `points` (one per step, sorted).
pub fn merge(points: &mut Vec<Point>, new: Vec<Point>) {
    for p in new {
        match points.binary_search_by_key(&p.step, |q| q.step) {
            Ok(i) => {
                let q = &mut points[i];
                q.total_steps = p.total_steps.or(q.total_steps);
                q.epoch = p.epoch.or(q.epoch);
                q.loss = p.loss.or(q.loss);
                q.eval_loss = p.eval_loss.or(q.eval_loss);
                q.lr = p.lr.or(q.lr);
                q.percentage = p.percentage.or(q.percentage);
                q.elapsed_s = p.elapsed_s.or(q.elapsed_s);
                q.remaining_s = p.remaining_s.or(q.remaining_s);
                q.throughput = p.throughput.or(q.throughput);
            }
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
