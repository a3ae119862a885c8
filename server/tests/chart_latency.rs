//! Benchmark (not a test: `#[ignore]`d, run by `scripts/bench-chart-latency`): how long a point the
//! trainer logs takes to reach a browser listening on `/runs/{id}/events`.
//!
//! A watcher polls trainer_log.jsonl every 2 ms and notes when each step's line appears; an SSE
//! client on the real server notes when that step arrives. Latency = arrival − appearance.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with scripts/bench-chart-latency"]
async fn chart_latency() {
    let python = std::env::var("GARDEN_EDEN_PYTHON").map(std::path::PathBuf::from)
        .unwrap_or_else(|_| garden_core::Settings::new(garden_core::Settings::default_data_dir()).python_path());
    let server = TestServer::start_with(|s| s.python = Some(python.clone())).await;
    let studio = server.studio.clone();
    garden_core::import::import_sample(studio.db()).unwrap();
    let data_dir = studio.settings().data_dir.clone();
    let ds = studio
        .db()
        .with_conn(|c| {
            garden_core::export::export(c, &data_dir, &garden_core::export::ExportRequest {
                name: Some("lat".into()),
                format: garden_core::export::Format::Alpaca,
                filter: Default::default(),
                curation: Default::default(),
                output: None,
            }, &mut |_, _| {})
        })
        .unwrap();
    // Started through the server's own server function, so the server's supervisor runs it and
    // its event stream carries the points.
    let run: serde_json::Value = reqwest::Client::new()
        .post(server.url("/api/runs/start"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(format!("params[dataset_id]={}&params[max_steps]=150&params[name]=latency", ds.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["id"].as_str().expect("a run").to_owned();
    let output_dir = run["output_dir"].as_str().unwrap().to_owned();
    let appeared: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let log = Path::new(&output_dir).join("trainer_log.jsonl");
    {
        let appeared = appeared.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(600);
            let mut seen = 0usize;
            while Instant::now() < deadline {
                if let Ok(text) = std::fs::read_to_string(&log) {
                    let now = Instant::now();
                    for line in text.lines().skip(seen) {
                        if let Some(p) = garden_core::train::runs::parse_log_line(line) {
                            appeared.lock().unwrap().entry(p.step).or_insert(now);
                        }
                    }
                    seen = text.lines().count();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
    }
    let mut response = reqwest::get(server.url(&format!("/runs/{run_id}/events"))).await.unwrap();
    let mut arrived: HashMap<i64, Instant> = HashMap::new();
    let mut buffer = String::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        let Ok(Some(chunk)) = response.chunk().await else { break };
        let now = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let kind = event.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("");
            let data = event.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("{}");
            let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
            if kind == "points" {
                for p in v["points"].as_array().into_iter().flatten() {
                    arrived.entry(p["step"].as_i64().unwrap()).or_insert(now);
                }
            }
            if kind == "status" && v["status"] != "running" && v["status"] != "queued" {
                let appeared = appeared.lock().unwrap();
                let mut ms: Vec<f64> = arrived
                    .iter()
                    .filter_map(|(step, at)| appeared.get(step).map(|a| at.saturating_duration_since(*a).as_secs_f64() * 1000.0))
                    .collect();
                ms.sort_by(f64::total_cmp);
                let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
                println!(
                    "chart latency over {} points: median {:.0} ms, p95 {:.0} ms, max {:.0} ms (target < 300 ms)",
                    ms.len(), pick(0.5), pick(0.95), pick(1.0)
                );
                return;
            }
        }
    }
    panic!("the run did not finish in time");
}
