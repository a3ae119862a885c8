//! The base model as its own phase of a run, through `garden-eden train` as a person runs it:
//! a Hugging Face id is downloaded from the Hub stand-in (HF_ENDPOINT) before the trainer starts,
//! with its progress stored, then the tiny model trains from the cache; the second run finds it
//! cached; offline, a model that is not cached fails in seconds with a sentence and no trainer;
//! a run whose GPU extra is missing is refused before anything is queued (flag and YAML alike).
//!
//! Needs the trainer's Python (./scripts/test sets it up); without it the tests print SKIPPED,
//! unless CI=true or GARDEN_EDEN_REQUIRE_TRAINER=1 makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use garden_eden::hub_stand_in::{self, HubConfig};
use serde_json::Value;

fn trainer_python() -> Option<PathBuf> {
    let python = std::env::var_os("GARDEN_EDEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| garden_core::Settings::new(garden_core::Settings::default_data_dir()).python_path());
    if python.exists() {
        return Some(python);
    }
    let required = std::env::var("CI").as_deref() == Ok("true") || std::env::var("GARDEN_EDEN_REQUIRE_TRAINER").as_deref() == Ok("1");
    assert!(!required, "no trainer Python at {} (CI / GARDEN_EDEN_REQUIRE_TRAINER=1 require it)", python.display());
    eprintln!("SKIPPED: no trainer Python environment at {}", python.display());
    None
}

fn garden_eden(data: &Path, python: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_garden-eden"));
    c.arg("--data-dir").arg(data).arg("--python").arg(python).env("GARDEN_EDEN_LOG", "warn").env_remove("HF_HUB_OFFLINE");
    c
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn ok(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?} failed:\n{}", text(&out));
    text(&out)
}

fn json(command: &mut Command) -> Value {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?} failed:\n{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A data dir with the sample history and a dataset `ge` (with a validation split).
fn data_dir(root: &Path, python: &Path) -> PathBuf {
    let data = root.join("data");
    ok(garden_eden(&data, python).args(["import", "--sample"]));
    ok(garden_eden(&data, python).args(["export-training-data", "--format", "sharegpt", "--validation-ratio", "0.2", "--output"]).arg(root.join("sets/ge.json")));
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_model_is_downloaded_as_its_own_phase_then_trained() {
    let Some(python) = trainer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The Hub stand-in serves the tiny demo model as `garden-eden/tiny-demo`.
    let hub = dir.path().join("hub");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/make_tiny_model.py");
    ok(Command::new(&python).arg(&script).arg(hub.join("garden-eden/tiny-demo")).env("HF_HUB_OFFLINE", "1"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let config = HubConfig::new(&hub);
    let stats = config.stats.clone();
    tokio::spawn(hub_stand_in::serve(listener, config));

    let data = tokio::task::spawn_blocking({
        let (root, python) = (dir.path().to_owned(), python.clone());
        move || data_dir(&root, &python)
    })
    .await
    .unwrap();
    let hf_home = dir.path().join("hf-home");
    let train = |name: &'static str| {
        let (data, python, hf_home, endpoint) = (data.clone(), python.clone(), hf_home.clone(), endpoint.clone());
        tokio::task::spawn_blocking(move || {
            garden_eden(&data, &python)
                .args(["train", "--dataset", "ge", "--model", "garden-eden/tiny-demo", "--max-steps", "4", "--batch-size", "4", "--name", name])
                .args(["--quantization-bit", "none", "--learning-rate", "0.001"])
                .env("HF_ENDPOINT", &endpoint)
                .env("HF_HOME", &hf_home)
                .output()
                .unwrap()
        })
    };
    let first = train("from the hub").await.unwrap();
    assert!(first.status.success(), "{}", text(&first));

    let runs = json(garden_eden(&data, &python).args(["runs", "list", "--json"]));
    let run = &runs.as_array().unwrap()[0];
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let progress = &run["model_progress"];
    assert_eq!(progress["state"], "downloaded", "{progress:#}");
    assert_eq!(progress["repo"], "garden-eden/tiny-demo");
    let total = progress["total_bytes"].as_u64().unwrap();
    assert!(total > 100_000, "{progress:#}");
    assert_eq!(progress["done_bytes"].as_u64(), Some(total));
    assert!(progress["path"].as_str().unwrap().starts_with(hf_home.to_str().unwrap()), "{progress:#}");
    assert!(stats.body_bytes() >= total, "the files came from the stand-in");
    // The trainer then ran from the cache: its points are stored and the adapter registered.
    let id = run["id"].as_str().unwrap();
    let shown = json(garden_eden(&data, &python).args(["runs", "show", id, "--json"]));
    assert_eq!(shown["phase"], "training");
    assert!(shown["final_loss"].is_number() || shown["final_eval_loss"].is_number(), "the trainer logged: {shown:#}");
    let adapters = json(garden_eden(&data, &python).args(["adapters", "list", "--json"]));
    assert!(adapters.as_array().unwrap().iter().any(|a| a["run_id"] == id), "{adapters:#}");

    // The second run finds it in the cache and downloads nothing.
    let served = stats.body_bytes();
    let second = train("from the cache").await.unwrap();
    assert!(second.status.success(), "{}", text(&second));
    let runs = json(garden_eden(&data, &python).args(["runs", "list", "--json"]));
    assert_eq!(runs[0]["model_progress"]["state"], "cached", "{:#}", runs[0]);
    assert_eq!(stats.body_bytes(), served, "nothing downloaded the second time");
}

#[test]
fn offline_a_model_that_is_not_cached_fails_in_seconds_with_what_to_do() {
    let Some(python) = trainer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path(), &python);
    for (endpoint, offline) in [("http://127.0.0.1:9", false), ("http://127.0.0.1:9", true)] {
        let started = Instant::now();
        let mut command = garden_eden(&data, &python);
        command
            .args(["train", "--dataset", "ge", "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--max-steps", "2", "--quantization-bit", "none"])
            .env("HF_ENDPOINT", endpoint)
            .env("HF_HOME", dir.path().join("empty-hf-home"));
        if offline {
            command.env("HF_HUB_OFFLINE", "1");
        }
        let out = command.output().unwrap();
        let took = started.elapsed();
        assert!(!out.status.success(), "{}", text(&out));
        assert!(took < Duration::from_secs(30), "took {took:?}");
        let runs = json(garden_eden(&data, &python).args(["runs", "list", "--json"]));
        let run = &runs[0];
        assert_eq!(run["status"], "failed");
        let error = run["error"].as_str().unwrap();
        for words in ["Qwen/Qwen2.5-0.5B-Instruct", "not downloaded", "HF_ENDPOINT", "download"] {
            assert!(error.contains(words), "{words:?} missing from: {error}");
        }
        assert!(!error.contains("Traceback") && !error.contains("OSError"), "{error}");
        assert_eq!(run["phase"], "model", "no trainer started: {run:#}");
        let output = Path::new(run["output_dir"].as_str().unwrap());
        assert!(!output.join("trainer_log.jsonl").exists(), "no trainer started");
        assert!(text(&out).contains("not downloaded"), "the CLI says it: {}", text(&out));
    }
}

#[test]
fn a_run_whose_extra_is_missing_is_refused_before_launch() {
    let Some(python) = trainer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path(), &python);
    // A Python without bitsandbytes: the machine's own.
    let bare = garden_core::doctor::which("python3").expect("python3 on PATH");
    let tiny = dir.path().join("tiny");
    std::fs::create_dir_all(&tiny).unwrap();
    let refused = garden_eden(&data, &bare)
        .args(["train", "--dataset", "ge", "--tiny"])
        .arg(&tiny)
        .args(["--quantization-bit", "4"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = text(&refused);
    for words in ["bitsandbytes", "4-bit", "garden-eden extras install bitsandbytes", "-m pip install bitsandbytes==0.50.2"] {
        assert!(said.contains(words), "{words:?} missing from: {said}");
    }
    // The same from a LLaMA-Factory YAML that asks for 4 bits.
    let yaml = dir.path().join("qlora.yaml");
    std::fs::write(&yaml, "model_name_or_path: Qwen/Qwen2.5-14B-Instruct\nquantization_bit: 4\nstage: sft\nfinetuning_type: lora\ntemplate: qwen\n").unwrap();
    let refused = garden_eden(&data, &bare).args(["train", "--dataset", "ge", "--config"]).arg(&yaml).output().unwrap();
    assert!(!refused.status.success());
    assert!(text(&refused).contains("garden-eden extras install bitsandbytes"), "{}", text(&refused));
    // Nothing was queued.
    let runs = json(garden_eden(&data, &bare).args(["runs", "list", "--json"]));
    assert_eq!(runs.as_array().unwrap().len(), 0, "{runs:#}");
}
