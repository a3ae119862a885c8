//! `python/fetch_model.py` against the Hugging Face Hub stand-in (`garden_eden::hub_stand_in`),
//! run in-process on 127.0.0.1:0 with a fake repo in a temporary folder: download with progress,
//! the cache answering the second time without the network, resume after a cut connection and
//! after a killed process, the disk refusal, a gated model, the offline errors.
//!
//! Needs the trainer's Python (GARDEN_EDEN_PYTHON, else the default venv); without it the tests
//! print SKIPPED, unless CI=true or GARDEN_EDEN_REQUIRE_TRAINER=1 makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use garden_eden::hub_stand_in::{self, HubConfig, HubStats};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

const REPO: &str = "acme/tiny";
const WEIGHTS: usize = 4 << 20;

fn trainer_python() -> Option<PathBuf> {
    let python = std::env::var_os("GARDEN_EDEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".local/share/garden-eden/venv/bin/python")
        });
    if python.exists() {
        return Some(python);
    }
    let required = std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("GARDEN_EDEN_REQUIRE_TRAINER").as_deref() == Ok("1");
    assert!(
        !required,
        "no trainer Python at {} (CI / GARDEN_EDEN_REQUIRE_TRAINER=1 require it)",
        python.display()
    );
    eprintln!(
        "SKIPPED: no trainer Python environment at {}",
        python.display()
    );
    None
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/fetch_model.py")
}

/// Deterministic noise (xorshift), so the weights are not trivially compressible.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A fake repo at `root/acme/tiny`: what a trainer needs, plus files it does not.
fn make_repo(root: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let dir = root.join(REPO);
    std::fs::create_dir_all(dir.join("original")).unwrap();
    let wanted = vec![
        (
            "config.json",
            br#"{"model_type": "qwen2", "hidden_size": 64}"#.to_vec(),
        ),
        (
            "tokenizer.json",
            br#"{"version": "1.0", "model": {"type": "BPE"}}"#.to_vec(),
        ),
        ("model.safetensors", noise(WEIGHTS, 0x9e37_79b9_7f4a_7c15)),
    ];
    for (name, bytes) in &wanted {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::write(dir.join("README.md"), "# tiny\n").unwrap();
    std::fs::write(dir.join("original/params.json"), "{}").unwrap();
    wanted
}

struct Hub {
    url: String,
    stats: HubStats,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(config: HubConfig) -> Hub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stats = config.stats.clone();
    let task = tokio::spawn(async move {
        let _ = hub_stand_in::serve(listener, config).await;
    });
    Hub { url, stats, task }
}

struct Fetch {
    events: Vec<Value>,
    stdout: String,
    stderr: String,
    code: Option<i32>,
    elapsed: Duration,
}

impl Fetch {
    fn last(&self) -> &Value {
        self.events
            .last()
            .unwrap_or_else(|| panic!("no events; stderr: {}", self.stderr))
    }

    fn kinds(&self, event: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == event).collect()
    }
}

fn fetch_command(
    python: &Path,
    endpoint: &str,
    hf_home: &Path,
    repo: &str,
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script())
        .arg(repo)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", hf_home)
        .kill_on_drop(true);
    for var in [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

async fn fetch(
    python: &Path,
    endpoint: &str,
    hf_home: &Path,
    repo: &str,
    env: &[(&str, &str)],
) -> Fetch {
    let started = Instant::now();
    let out = fetch_command(python, endpoint, hf_home, repo, env)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let events = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}\nstderr: {stderr}"))
        })
        .collect();
    Fetch {
        events,
        stdout,
        stderr,
        code: out.status.code(),
        elapsed: started.elapsed(),
    }
}

/// The files in the snapshot `done`/`cached` named are the repo's wanted files, byte for byte.
fn assert_snapshot(path: &str, wanted: &[(&str, Vec<u8>)]) {
    let dir = Path::new(path);
    for (name, bytes) in wanted {
        assert!(
            std::fs::read(dir.join(name)).unwrap() == *bytes,
            "{name} differs"
        );
    }
    assert!(
        !dir.join("README.md").exists(),
        "README.md is not for the trainer"
    );
    assert!(
        !dir.join("original").exists(),
        "subfolders are not for the trainer"
    );
}

fn gets_of(stats: &HubStats, file: &str) -> Vec<hub_stand_in::HubRequest> {
    let tail = format!("/{file}");
    stats
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/resolve/") && r.path.ends_with(&tail))
        .collect()
}

fn resumed_range(r: &hub_stand_in::HubRequest) -> bool {
    r.range
        .as_deref()
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.split('-').next())
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

fn total_size(wanted: &[(&str, Vec<u8>)]) -> u64 {
    wanted.iter().map(|(_, b)| b.len() as u64).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_with_progress_then_answers_from_the_cache() {
    let Some(python) = trainer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wanted = make_repo(&dir.path().join("hub"));
    let mut config = HubConfig::new(dir.path().join("hub"));
    config.bytes_per_sec = Some(4 << 20); // about a second: progress lines show up
    let hub = start(config).await;
    let home = dir.path().join("hf");

    let run = fetch(&python, &hub.url, &home, REPO, &[]).await;
    assert_eq!(
        run.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    let plan = &run.events[0];
    assert_eq!(plan["event"], "plan", "{}", run.stdout);
    assert_eq!(plan["repo"], REPO);
    assert_eq!(plan["revision"], "main");
    assert_eq!(plan["commit"].as_str().unwrap().len(), 40);
    assert_eq!(plan["files"], 3);
    assert_eq!(plan["total_bytes"], total_size(&wanted));
    assert_eq!(plan["have_bytes"], 0);
    assert!(plan["free_bytes"].as_u64().unwrap() > 0);
    let progress = run.kinds("progress");
    assert!(progress.len() >= 3, "{}", run.stdout);
    let done: Vec<u64> = progress
        .iter()
        .map(|p| p["done_bytes"].as_u64().unwrap())
        .collect();
    assert!(
        done.windows(2).all(|w| w[0] <= w[1]),
        "progress goes forward: {done:?}"
    );
    assert!(
        progress
            .iter()
            .any(|p| p["done_bytes"].as_u64().unwrap() > 0
                && p["done_bytes"].as_u64().unwrap() < total_size(&wanted)),
        "{}",
        run.stdout
    );
    let last = progress.last().unwrap();
    assert_eq!(last["done_bytes"], total_size(&wanted));
    assert_eq!(last["files_done"], 3);
    assert_eq!(last["files_total"], 3);
    let end = run.last();
    assert_eq!(end["event"], "done");
    assert_eq!(end["total_bytes"], total_size(&wanted));
    let path = end["path"].as_str().unwrap().to_string();
    assert!(
        path.starts_with(home.to_str().unwrap()),
        "into HF_HOME's cache: {path}"
    );
    assert_snapshot(&path, &wanted);
    assert!(!run.stderr.contains("Traceback"), "{}", run.stderr);

    let asked = hub.stats.request_count();
    let again = fetch(&python, &hub.url, &home, REPO, &[]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(again.events.len(), 1, "{}", again.stdout);
    assert_eq!(again.events[0]["event"], "cached");
    assert_eq!(again.events[0]["path"], path.as_str());
    assert_eq!(
        hub.stats.request_count(),
        asked,
        "the cached answer needs no network"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_resumes_with_a_range_request() {
    let Some(python) = trainer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wanted = make_repo(&dir.path().join("hub"));
    let mut config = HubConfig::new(dir.path().join("hub"));
    config.stop_after_bytes = Some(1_500_000);
    let hub = start(config).await;

    let run = fetch(&python, &hub.url, &dir.path().join("hf"), REPO, &[]).await;
    // huggingface_hub's http_get resumes a dropped connection with Range by itself, in-process.
    assert_eq!(
        run.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert_snapshot(run.last()["path"].as_str().unwrap(), &wanted);
    let gets = gets_of(&hub.stats, "model.safetensors");
    assert!(gets.len() >= 3, "{gets:?}");
    assert!(
        gets.iter().filter(|r| resumed_range(r)).count() >= 2,
        "{gets:?}"
    );
    assert!(
        hub.stats.body_bytes() < 2 * WEIGHTS as u64,
        "served {} bytes",
        hub.stats.body_bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_download_resumes_on_the_next_run() {
    let Some(python) = trainer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wanted = make_repo(&dir.path().join("hub"));
    let home = dir.path().join("hf");
    let mut config = HubConfig::new(dir.path().join("hub"));
    config.bytes_per_sec = Some(1 << 20);
    let slow = start(config).await;

    // First run: killed (SIGKILL, no clean-up) once a good part of the weights is on disk.
    let mut child = fetch_command(&python, &slow.url, &home, REPO, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
            .await
            .expect("no progress in time")
            .unwrap()
            .expect("ended before progress");
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "progress" && event["done_bytes"].as_u64().unwrap() >= 1 << 20 {
            break;
        }
        assert_ne!(event["event"], "done", "too fast to interrupt");
    }
    child.kill().await.unwrap();
    let first_served = slow.stats.body_bytes();
    drop(slow);
    let blobs = home.join("hub/models--acme--tiny/blobs");
    let partial: u64 = std::fs::read_dir(&blobs)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".incomplete"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(
        partial >= 1 << 20,
        "a partial file is left: {partial} bytes"
    );

    let hub = start(HubConfig::new(dir.path().join("hub"))).await;
    let run = fetch(&python, &hub.url, &home, REPO, &[]).await;
    assert_eq!(
        run.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.events[0]["have_bytes"].as_u64().unwrap() >= partial,
        "{}",
        run.stdout
    );
    assert_snapshot(run.last()["path"].as_str().unwrap(), &wanted);
    let gets = gets_of(&hub.stats, "model.safetensors");
    assert!(
        gets.iter().any(resumed_range),
        "resumed with Range: {gets:?}"
    );
    assert!(
        hub.stats.body_bytes() < WEIGHTS as u64,
        "second run served {} bytes",
        hub.stats.body_bytes()
    );
    assert!(first_served + hub.stats.body_bytes() < 2 * WEIGHTS as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_too_big_for_the_disk_is_refused_before_downloading() {
    let Some(python) = trainer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    make_repo(&dir.path().join("hub"));
    let mut config = HubConfig::new(dir.path().join("hub"));
    config.claim_size = Some(1 << 60);
    let hub = start(config).await;
    let home = dir.path().join("hf");

    let run = fetch(&python, &hub.url, &home, REPO, &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(run.events[0]["event"], "plan");
    // The claim covers the whole repo; the plan counts only what a trainer needs.
    assert!(
        run.events[0]["total_bytes"].as_u64().unwrap() > 1 << 59,
        "{}",
        run.stdout
    );
    let err = run.last();
    assert_eq!(err["kind"], "disk", "{err}");
    assert!(err["needed_bytes"].as_u64().unwrap() > err["free_bytes"].as_u64().unwrap());
    assert!(err["message"].as_str().unwrap().contains("GB"), "{err}");
    assert!(
        hub.stats
            .requests()
            .iter()
            .all(|r| r.method != "GET" || !r.path.contains("/resolve/")),
        "nothing downloaded"
    );
    assert!(!home.join("hub/models--acme--tiny/blobs").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_model_asks_for_the_licence_and_hf_token_without_showing_it() {
    let Some(python) = trainer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    make_repo(&dir.path().join("hub"));
    let mut config = HubConfig::new(dir.path().join("hub"));
    config.gated = vec![REPO.into()];
    let hub = start(config).await;
    let home = dir.path().join("hf");

    for token in [None, Some("secret-xyz")] {
        let env: Vec<(&str, &str)> = token.map(|t| ("HF_TOKEN", t)).into_iter().collect();
        let run = fetch(&python, &hub.url, &home, REPO, &env).await;
        assert_eq!(run.code, Some(2), "{}", run.stdout);
        let err = run.last();
        assert_eq!(err["event"], "error");
        assert_eq!(err["kind"], "gated", "{err}");
        assert!(
            err["message"].as_str().unwrap().contains("HF_TOKEN"),
            "{err}"
        );
        assert!(
            err["message"].as_str().unwrap().contains("licence"),
            "{err}"
        );
        assert!(
            !run.stdout.contains("secret-xyz") && !run.stderr.contains("secret-xyz"),
            "the token leaked"
        );
        assert!(!run.stderr.contains("Traceback"), "{}", run.stderr);
    }
    assert!(
        hub.stats.requests().iter().any(|r| r.authorized),
        "HF_TOKEN is passed to the Hub"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_fails_fast_with_ways_out() {
    let Some(python) = trainer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    make_repo(&dir.path().join("hub"));
    let hub = start(HubConfig::new(dir.path().join("hub"))).await;
    let home = dir.path().join("hf");

    // Nothing listens on the discard port.
    let run = fetch(&python, "http://127.0.0.1:9", &home, REPO, &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(run.last()["kind"], "offline", "{}", run.stdout);
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    let message = run.last()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("hf download acme/tiny")
            && message.contains("HF_ENDPOINT")
            && message.contains("local folder"),
        "{message}"
    );
    assert!(!run.stderr.contains("Traceback"), "{}", run.stderr);

    let run = fetch(&python, &hub.url, &home, REPO, &[("HF_HUB_OFFLINE", "1")]).await;
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(run.last()["kind"], "offline", "{}", run.stdout);
    assert!(run.last()["message"]
        .as_str()
        .unwrap()
        .contains("HF_HUB_OFFLINE"));
    assert_eq!(hub.stats.request_count(), 0, "offline means no request");

    let run = fetch(&python, &hub.url, &home, "acme/missing", &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(run.last()["kind"], "not_found", "{}", run.stdout);
}
