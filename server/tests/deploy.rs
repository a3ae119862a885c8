//! Registry and deployment against the Ollama stand-in (a stand-in: no Ollama server can be
//! installed here; it follows the documented REST contract), and the CLI as the guide shows it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use garden_core::adapters::safetensors::Dtype;
use garden_core::adapters::synthetic::{write_adapter, write_base, Dims};
use garden_core::adapters::{self, deploy, NewAdapter};
use garden_core::{Settings, Studio};
use garden_eden::ollama_stand_in::{self, StandInConfig};

/// Starts a stand-in claiming `version`; returns its URL.
async fn stand_in(version: &str, blobs: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = StandInConfig { version: version.into(), dir: blobs.to_path_buf(), models: vec!["qwen2.5:14b".into()] };
    tokio::spawn(ollama_stand_in::serve(listener, config));
    url
}

fn studio(dir: &Path, ollama: &str) -> Studio {
    let mut s = Settings::new(dir.join("data"));
    s.ollama_url = ollama.into();
    Studio::open(s).unwrap()
}

/// A base model folder and an adapter trained "on" it, registered.
fn registered(studio: &Studio, dir: &Path, base_model: Option<&str>) -> (adapters::Adapter, PathBuf) {
    let base = dir.join("base");
    if !base.exists() {
        write_base(&base, Dims::TINY, Dtype::F32, 2, 5).unwrap();
    }
    let ad = dir.join(format!("adapter-{}", uuid::Uuid::new_v4()));
    write_adapter(&ad, base.to_str().unwrap(), Dims::TINY, 4, 8.0, &["q_proj", "v_proj", "down_proj"], Dtype::F32, 5).unwrap();
    let new = NewAdapter {
        name: "eden".into(),
        base_model: base_model.map(String::from),
        base_path: Some(base.clone()),
        path: ad,
        ..NewAdapter::default()
    };
    let a = studio.db().with_conn(|c| adapters::register(c, new)).unwrap();
    (a, base)
}

#[tokio::test]
async fn current_ollama_gets_the_merged_model_and_answers_the_test_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let url = stand_in("0.34.1", &dir.path().join("blobs")).await;
    let studio = studio(dir.path(), &url);
    let (a, _) = registered(&studio, dir.path(), None);
    let d = deploy::deploy(&studio, &a.id, &deploy::DeployOptions { quantize: Some("q8_0".into()), ..Default::default() }).await.unwrap();
    assert_eq!(d.status, "succeeded", "{d:?}");
    assert_eq!(d.strategy, "merged");
    assert_eq!(d.model_name, "garden-eden-eden-1.0.0");
    assert_eq!(d.ollama_version.as_deref(), Some("0.34.1"));
    assert_eq!(d.test_prompt.as_deref(), Some("Hello, how are you?"));
    let answer = d.test_answer.clone().unwrap();
    assert!(answer.contains("garden-eden-eden-1.0.0") && answer.contains("Hello, how are you?"), "{answer}");
    let p = d.progress.join("\n");
    for step in ["Ollama 0.34.1", "Merging", "Uploaded model-00001-of-00002.safetensors", "Uploaded config.json", "Ollama: quantizing", "Ollama: success"] {
        assert!(p.contains(step), "missing {step:?} in\n{p}");
    }
    // The blobs Ollama got are exactly the merged files, checked by digest.
    let merged = deploy::work_dir(&studio, &a.id).join("merged");
    let digest = adapters::ollama::digest_of(&merged.join("config.json")).await.unwrap();
    assert!(dir.path().join("blobs").join(digest.replace(':', "-")).exists());
    // The guide's default Modelfile is always written.
    let mf = std::fs::read_to_string(deploy::work_dir(&studio, &a.id).join("Modelfile")).unwrap();
    assert!(mf.starts_with("FROM ") && mf.contains("ADAPTER ./adapter.gguf") && mf.contains("PARAMETER repeat_penalty 1.15"), "{mf}");

    // A second deployment reuses the merge and the blobs Ollama already has.
    let d2 = deploy::deploy(&studio, &a.id, &deploy::DeployOptions { model_name: Some("eden-again".into()), ..Default::default() }).await.unwrap();
    assert_eq!(d2.status, "succeeded");
    let p2 = d2.progress.join("\n");
    assert!(p2.contains("Reusing the merged model") && p2.contains("Ollama already has config.json"), "{p2}");
}

#[tokio::test]
async fn older_ollama_gets_a_gguf_adapter_layer_on_its_base() {
    let dir = tempfile::tempdir().unwrap();
    let url = stand_in("0.5.7", &dir.path().join("blobs")).await;
    let studio = studio(dir.path(), &url);
    let (a, _) = registered(&studio, dir.path(), Some("qwen2.5:14b"));
    let d = deploy::deploy(&studio, &a.id, &deploy::DeployOptions::default()).await.unwrap();
    assert_eq!(d.status, "succeeded", "{d:?}");
    assert_eq!(d.strategy, "adapter");
    let p = d.progress.join("\n");
    assert!(p.contains("GGUF LoRA") && p.contains("Uploaded adapter.gguf") && p.contains("The base is Ollama's qwen2.5:14b"), "{p}");
    assert!(d.test_answer.unwrap().contains("from qwen2.5:14b with 1 adapter layer"));
    let info = adapters::gguf::read_info(&deploy::work_dir(&studio, &a.id).join("adapter.gguf")).unwrap();
    assert_eq!(info.get("adapter.type").and_then(adapters::gguf::Value::as_str), Some("lora"));
}

#[tokio::test]
async fn failures_say_why_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // Ollama not running.
    let down = studio(dir.path(), "http://127.0.0.1:9");
    let (a, base) = registered(&down, dir.path(), None);
    let d = deploy::deploy(&down, &a.id, &deploy::DeployOptions::default()).await.unwrap();
    assert_eq!(d.status, "failed");
    assert!(d.error.as_deref().unwrap().contains("nothing answers"), "{d:?}");
    assert!(d.hint.as_deref().unwrap().contains("ollama serve"), "{d:?}");

    // Current Ollama refuses the adapter route when it is forced.
    let url = stand_in("0.35.0", &dir.path().join("blobs")).await;
    let studio = studio(dir.path(), &url);
    let forced = deploy::DeployOptions { route: deploy::Route::Adapter, ..Default::default() };
    let (b, _) = registered(&studio, dir.path(), Some("qwen2.5:14b"));
    let d = deploy::deploy(&studio, &b.id, &forced).await.unwrap();
    assert_eq!(d.status, "failed");
    assert!(d.error.as_deref().unwrap().contains("adapters is no longer supported"), "{d:?}");
    assert!(d.hint.as_deref().unwrap().contains("merged route"), "{d:?}");

    // Base-model mismatch: the base on disk is another size.
    std::fs::remove_dir_all(&base).unwrap();
    write_base(&base, Dims { hidden: 32, ..Dims::TINY }, Dtype::F32, 1, 1).unwrap();
    let d = deploy::deploy(&studio, &b.id, &deploy::DeployOptions::default()).await.unwrap();
    assert_eq!(d.status, "failed");
    assert!(d.hint.as_deref().unwrap().contains("Base-model mismatch"), "{d:?}");
    let checks = deploy::troubleshoot(&studio, &b).await;
    let base_check = checks.iter().find(|c| c.label.contains("Base model")).unwrap();
    assert!(!base_check.ok && base_check.detail.contains("trained on another base model"), "{checks:?}");
    assert!(checks.iter().find(|c| c.label.contains("reachable")).unwrap().ok);

    // A bad model name is refused before anything happens.
    let bad = deploy::DeployOptions { model_name: Some("no spaces please".into()), ..Default::default() };
    assert!(deploy::start(&studio, &b.id, &bad).await.unwrap_err().to_string().contains("not an Ollama model name"));
}

#[tokio::test]
async fn stand_in_checks_digests_like_ollama() {
    let dir = tempfile::tempdir().unwrap();
    let url = stand_in("0.34.1", &dir.path().join("blobs")).await;
    let http = reqwest::Client::new();
    let wrong = format!("sha256:{}", "0".repeat(64));
    let r = http.post(format!("{url}/api/blobs/{wrong}")).body("hello").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("digest mismatch"));
    let r = http.head(format!("{url}/api/blobs/{wrong}")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http.post(format!("{url}/api/create")).json(&serde_json::json!({"model": "x", "modelfile": "FROM y"})).send().await.unwrap();
    assert_eq!(r.status(), 400, "the removed modelfile field creates nothing");
}

fn garden_eden(data: &Path, ollama: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_garden-eden"))
        .args(args)
        .env("GARDEN_EDEN_DATA_DIR", data)
        .env("OLLAMA_HOST", ollama)
        .env("GARDEN_EDEN_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "stdout: {}\nstderr: {}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_registers_compares_and_deploys_as_the_seed_shows() {
    let dir = tempfile::tempdir().unwrap();
    let url = stand_in("0.34.1", &dir.path().join("blobs")).await;
    let data = dir.path().join("data");
    let base = dir.path().join("base");
    write_base(&base, Dims::TINY, Dtype::BF16, 1, 9).unwrap();
    for (v, seed) in [("1.0.0", 1), ("1.1.0", 2)] {
        let ad = dir.path().join(format!("ad-{v}"));
        write_adapter(&ad, "Qwen/Qwen2.5-14B-Instruct", Dims::TINY, 4, 8.0, &["q_proj"], Dtype::BF16, seed).unwrap();
        let out = ok(&garden_eden(&data, &url, &[
            "register-adapter", "--name", "eden-personal", "--base-model", "qwen2.5:14b",
            "--adapter-path", ad.to_str().unwrap(), "--version", v, "--base-path", base.to_str().unwrap(),
        ]));
        assert!(out.contains(&format!("Registered eden-personal {v}")), "{out}");
    }
    let out = ok(&garden_eden(&data, &url, &["adapters", "metrics", "v1.0.0", "--avg-satisfaction", "0.7", "--total-conversations", "100"]));
    assert!(out.contains("0.700"), "{out}");
    ok(&garden_eden(&data, &url, &["adapters", "metrics", "v1.1.0", "--avg-satisfaction", "0.8", "--total-conversations", "90"]));
    let out = ok(&garden_eden(&data, &url, &["compare-adapters", "v1.0.0", "v1.1.0"]));
    assert!(out.contains("satisfaction_diff       +0.1000") && out.contains("conversation_count_diff -10"), "{out}");
    ok(&garden_eden(&data, &url, &["adapters", "activate", "v1.0.0"]));
    ok(&garden_eden(&data, &url, &["adapters", "activate", "eden-personal@1.1.0"]));
    let out = ok(&garden_eden(&data, &url, &["adapters", "rollback"]));
    assert!(out.contains("1.0.0 is active again"), "{out}");
    let out = ok(&garden_eden(&data, &url, &["adapters", "list"]));
    assert!(out.lines().any(|l| l.starts_with("* eden-personal") && l.contains("1.0.0")), "{out}");
    let out = ok(&garden_eden(&data, &url, &["adapters", "deploy", "v1.1.0"]));
    assert!(out.contains("Deployed garden-eden-eden-personal-1.1.0 (merged route)") && out.contains("Answer: [Ollama stand-in"), "{out}");
    let out = ok(&garden_eden(&data, &url, &["adapters", "check", "v1.1.0"]));
    assert!(out.contains("ok    Ollama is reachable"), "{out}");

    // Errors name what and where.
    let bad = garden_eden(&data, &url, &["register-adapter", "--name", "x", "--adapter-path", "/nonexistent/adapter"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent/adapter does not exist"));
    let bad = garden_eden(&data, &url, &["compare-adapters", "v1.0.0", "v7.0.0"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("adapter 'v7.0.0' was not found"));
    let down = garden_eden(&data, "http://127.0.0.1:9", &["adapters", "deploy", "v1.0.0"]);
    assert!(!down.status.success());
    let err = String::from_utf8_lossy(&down.stderr);
    assert!(err.contains("nothing answers") && err.contains("what to do: Ollama is not running"), "{err}");
}
