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
#[path = "../../garden-core/tests/common/ray_head.rs"]
mod ray_head;
use ray_head::RayHead;

/// A studio server with the sample history exported ("lat"): the server and the dataset's id.
async fn server_with_dataset(python: &std::path::Path) -> (TestServer, String) {
    let python = python.to_owned();
    let server = TestServer::start_with(|s| s.python = Some(python)).await;
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
    (server, ds.id)
}

fn python() -> std::path::PathBuf {
    std::env::var("GARDEN_EDEN_PYTHON").map(std::path::PathBuf::from)
        .unwrap_or_else(|_| garden_core::Settings::new(garden_core::Settings::default_data_dir()).python_path())
}

/// Starts a run through the server's own server function (so the server's supervisor runs it
/// and its event stream carries the points): its id and output folder.
async fn start(server: &TestServer, form: &str) -> (String, String) {
    let run: serde_json::Value = reqwest::Client::new()
        .post(server.url("/api/runs/start"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = run["id"].as_str().unwrap_or_else(|| panic!("a run: {run}")).to_owned();
    (id, run["output_dir"].as_str().unwrap().to_owned())
}

/// Watches `log` (where the trainer writes its points) and the run's event stream; prints the
/// latency from a line appearing to its point arriving, once the run ends.
async fn measure(server: &TestServer, run_id: &str, log: std::path::PathBuf, what: &str) {
    let appeared: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
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
                assert!(!ms.is_empty(), "no point measured (run {})", v["status"]);
                let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
                println!(
                    "chart latency, {what}, over {} points: median {:.0} ms, p95 {:.0} ms, max {:.0} ms (target < 300 ms on this machine)",
                    ms.len(), pick(0.5), pick(0.95), pick(1.0)
                );
                return;
            }
        }
    }
    panic!("the run did not finish in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with scripts/bench-chart-latency"]
async fn chart_latency() {
    let (server, dataset) = server_with_dataset(&python()).await;
    let (run_id, output_dir) = start(&server, &format!("params[dataset_id]={dataset}&params[model_kind]=tiny&params[max_steps]=150&params[name]=latency")).await;
    measure(&server, &run_id, Path::new(&output_dir).join("trainer_log.jsonl"), "this machine").await;
}

/// The same through a local Ray head: from the line the trainer writes on the cluster's side to
/// the point on the browser's stream (through the runner, the job's log and garden-eden's poll).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with scripts/bench-chart-latency"]
async fn chart_latency_on_ray() {
    let python = python();
    let head = RayHead::start(&python, 2);
    let (server, dataset) = server_with_dataset(&python).await;
    let url = head.url.clone();
    server.studio.db().with_conn(move |c| garden_core::train::ray::add(c, "local-ray", &url)).unwrap();
    let (run_id, _) = start(&server, &format!("params[dataset_id]={dataset}&params[model_kind]=tiny&params[max_steps]=150&params[name]=latency&params[cluster]=local-ray")).await;
    let remote = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap().join(".garden-eden/ray-runs").join(&run_id).join("output/trainer_log.jsonl");
    measure(&server, &run_id, remote, "through a local Ray head").await;
}
