//! Runs the real server in-process on 127.0.0.1:0 with a temporary data dir.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use garden_core::{Settings, Studio};
use garden_eden::{serve, ServeConfig};
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub studio: Studio,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        for file in ["garden-eden.js", "garden-eden.wasm", "garden-eden.css"] {
            std::fs::write(site.join("pkg").join(file), b"").unwrap();
        }
        let mut settings = Settings::new(dir.path().join("data"));
        // Nothing listens on the discard port: Ollama is "not running" unless a test says so.
        settings.ollama_url = "http://127.0.0.1:9".into();
        settings.python = Some(PathBuf::from("/nonexistent/python"));
        configure(&mut settings);
        let studio = Studio::open(settings).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let config = ServeConfig {
            studio: studio.clone(),
            site_root: site,
            allowed_hosts: vec![],
        };
        let task = tokio::spawn(async move {
            serve(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            addr,
            studio,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// The real `garden-eden` binary on `data_dir`, as a person types it: no Ollama listening
/// (unless `args` add a model with its own URL), Hugging Face offline.
pub fn garden_eden(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_garden-eden"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("OLLAMA_HOST", "http://127.0.0.1:9")
        .env("GARDEN_EDEN_LOG", "warn")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap()
}

/// The command's stdout; fails the test, showing both streams, when it failed.
pub fn ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command's stderr; fails the test when it succeeded.
pub fn failed(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "should have failed:\n{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The trainer's Python, if it has what `need` imports (`llamafactory`, `llama_cpp`); a missing
/// environment skips the test, or fails it under GARDEN_EDEN_REQUIRE_TRAINER=1.
pub fn python_with(need: &str) -> Option<PathBuf> {
    let python = std::env::var_os("GARDEN_EDEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Settings::new(Settings::default_data_dir()).python_path());
    let ok = python.exists()
        && std::process::Command::new(&python).args(["-c", &format!("import {need}")]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(!garden_core::train::trainer_required(), "no Python with {need} at {} (CI / GARDEN_EDEN_REQUIRE_TRAINER=1 require it)", python.display());
    eprintln!("SKIPPED: no Python with {need} at {}", python.display());
    None
}

/// Runs a script from python/ (relative path) and returns its last stdout line as JSON.
pub fn run_py(python: &std::path::Path, script: &str, args: &[&str]) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../python").join(script);
    let out = std::process::Command::new(python).arg(&path).args(args).env("HF_HUB_OFFLINE", "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} {args:?}:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or(serde_json::Value::Null)
}

/// llama.cpp's OpenAI-compatible server (llama-cpp-python) on a free port, serving the tiny model
/// as "tiny-base" and with a LoRA (converted by garden-eden) as "tiny-eden". Killed on drop.
pub struct LlamaServer {
    pub url: String,
    child: std::process::Child,
    pub dir: tempfile::TempDir,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LlamaServer {
    pub async fn start(python: &std::path::Path) -> LlamaServer {
        use garden_core::adapters::{convert, gguf::GgmlType, peft};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let tiny = d.join("tiny");
        run_py(python, "make_tiny_model.py", &[tiny.to_str().unwrap()]);
        let base = d.join("base.gguf");
        run_py(python, "reference/convert_hf_gguf.py", &[tiny.to_str().unwrap(), base.to_str().unwrap()]);
        let lora = d.join("lora");
        run_py(python, "reference/make_lora.py", &["--base", tiny.to_str().unwrap(), "--out", lora.to_str().unwrap(), "--std", "0.05"]);
        let lora_gguf = d.join("lora.gguf");
        convert::to_gguf(&peft::PeftAdapter::open(&lora).unwrap(), &peft::BaseModel::open(&tiny).unwrap(), &lora_gguf, GgmlType::F32).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = serde_json::json!({"host": "127.0.0.1", "port": port, "interrupt_requests": false, "models": [
            {"model": base, "model_alias": "tiny-base", "n_ctx": 512, "verbose": false},
            {"model": base, "model_alias": "tiny-eden", "lora_path": lora_gguf, "n_ctx": 512, "verbose": false},
        ]});
        std::fs::write(d.join("server.json"), config.to_string()).unwrap();
        let log = std::fs::File::create(d.join("server.log")).unwrap();
        let child = std::process::Command::new(python)
            .args(["-m", "llama_cpp.server", "--config_file"])
            .arg(d.join("server.json"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let server = LlamaServer { url: url.clone(), child, dir };
        for _ in 0..600 {
            if reqwest::get(format!("{url}/v1/models")).await.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("llama.cpp server did not start:\n{}", std::fs::read_to_string(server.dir.path().join("server.log")).unwrap_or_default());
    }
}
