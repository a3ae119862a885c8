//! **A stand-in for the Ollama server**, for tests only. No package registry here carries Ollama,
//! so garden-eden's deployment is tested against this: it follows the documented REST contract
//! (docs/api.md) closely, but it runs no model.
//!
//! - `GET /api/version` answers the version it was started with.
//! - `HEAD /api/blobs/sha256:<hex>`: 200 when it has the blob, 404 when not.
//! - `POST /api/blobs/sha256:<hex>`: stores the body, 201; 400 when the body's sha256 differs.
//! - `POST /api/create`: checks every referenced blob exists and is what its name says
//!   (safetensors headers, GGUF adapters with `general.type = adapter`, a config.json with
//!   safetensors), refuses `adapters` from 0.34.1 on (as Ollama does), streams status lines
//!   ending `{"status":"success"}`, or an `{"error": …}` line.
//! - `POST /api/chat`: a reply for a created model, clearly marked as the stand-in's (it cannot
//!   run the model); 404 for an unknown model.
//! - `GET /api/tags`, `DELETE /api/delete`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use garden_core::adapters::{gguf, safetensors::SafeTensors};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// How the stand-in is started.
#[derive(Debug, Clone)]
pub struct StandInConfig {
    /// The version it claims (decides whether adapters are refused).
    pub version: String,
    /// Where blobs are kept.
    pub dir: PathBuf,
    /// Models it "has" from the start (bases for `from`).
    pub models: Vec<String>,
}

#[derive(Debug, Clone)]
struct Model {
    from: Option<String>,
    files: Vec<String>,
    adapters: Vec<String>,
    system: Option<String>,
}

struct Inner {
    config: StandInConfig,
    models: Mutex<BTreeMap<String, Model>>,
}

type Shared = Arc<Inner>;

fn normalise(name: &str) -> String {
    if name.contains(':') { name.to_string() } else { format!("{name}:latest") }
}

fn err(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn refuses_adapters(version: &str) -> bool {
    !garden_core::adapters::ollama::accepts_adapters(version)
}

pub fn router(config: StandInConfig) -> Router {
    let models = config.models.iter().map(|m| (normalise(m), Model { from: None, files: vec![], adapters: vec![], system: None })).collect();
    let state = Arc::new(Inner { config, models: Mutex::new(models) });
    Router::new()
        .route("/api/version", get(version))
        .route("/api/tags", get(tags))
        .route("/api/blobs/{digest}", post(push_blob).head(head_blob))
        .route("/api/create", post(create))
        .route("/api/chat", post(chat))
        .route("/api/delete", delete(remove))
        .with_state(state)
}

/// Serves the stand-in until the listener is dropped with the task.
pub async fn serve(listener: tokio::net::TcpListener, config: StandInConfig) -> std::io::Result<()> {
    std::fs::create_dir_all(&config.dir)?;
    axum::serve(listener, router(config)).await
}

async fn version(State(s): State<Shared>) -> Json<Value> {
    Json(json!({"version": s.config.version}))
}

async fn tags(State(s): State<Shared>) -> Json<Value> {
    let models = s.models.lock().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    Json(json!({"models": models.iter().map(|n| json!({"name": n, "model": n})).collect::<Vec<_>>()}))
}

fn blob_path(s: &Inner, digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| s.config.dir.join(format!("sha256-{hex}")))
}

async fn head_blob(State(s): State<Shared>, UrlPath(digest): UrlPath<String>) -> StatusCode {
    match blob_path(&s, &digest) {
        Some(p) if p.exists() => StatusCode::OK,
        Some(_) => StatusCode::NOT_FOUND,
        None => StatusCode::BAD_REQUEST,
    }
}

async fn push_blob(State(s): State<Shared>, UrlPath(digest): UrlPath<String>, body: Body) -> Response {
    use futures_util::StreamExt;
    let Some(path) = blob_path(&s, &digest) else {
        return err(StatusCode::BAD_REQUEST, format!("invalid digest format: {digest}"));
    };
    let tmp = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4()));
    let Ok(mut file) = tokio::fs::File::create(&tmp).await else {
        return err(StatusCode::INTERNAL_SERVER_ERROR, "cannot write blob");
    };
    let mut hash = Sha256::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            let _ = tokio::fs::remove_file(&tmp).await;
            return err(StatusCode::BAD_REQUEST, "upload interrupted");
        };
        hash.update(&chunk);
        if file.write_all(&chunk).await.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
            return err(StatusCode::INTERNAL_SERVER_ERROR, "cannot write blob");
        }
    }
    let _ = file.flush().await;
    let got = format!("sha256:{}", garden_core::hex(&hash.finalize()));
    if got != digest {
        let _ = tokio::fs::remove_file(&tmp).await;
        return err(StatusCode::BAD_REQUEST, format!("digest mismatch, expected {digest}, got {got}"));
    }
    if tokio::fs::rename(&tmp, &path).await.is_err() {
        return err(StatusCode::INTERNAL_SERVER_ERROR, "cannot store blob");
    }
    StatusCode::CREATED.into_response()
}

/// Status lines, then success or an error line, as NDJSON.
fn stream_lines(lines: Vec<Value>) -> Response {
    let body: String = lines.into_iter().map(|l| format!("{l}\n")).collect();
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
}

fn digests(v: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, d)| d.as_str().map(|d| (k.clone(), d.to_string())).ok_or_else(|| format!("{k}: digest must be a string")))
            .collect(),
        Some(_) => Err("must be an object of file name to digest".into()),
    }
}

async fn create(State(s): State<Shared>, Json(req): Json<Value>) -> Response {
    let Some(model) = req.get("model").and_then(Value::as_str).filter(|m| !m.is_empty()) else {
        return err(StatusCode::BAD_REQUEST, "missing model name");
    };
    if req.get("modelfile").is_some() {
        // The field was removed; a request that relies on it creates nothing useful.
        return err(StatusCode::BAD_REQUEST, "neither 'from' or 'files' was specified");
    }
    let (files, adapters) = match (digests(req.get("files")), digests(req.get("adapters"))) {
        (Ok(f), Ok(a)) => (f, a),
        (Err(e), _) => return err(StatusCode::BAD_REQUEST, format!("files: {e}")),
        (_, Err(e)) => return err(StatusCode::BAD_REQUEST, format!("adapters: {e}")),
    };
    let from = req.get("from").and_then(Value::as_str).map(String::from);
    if from.is_none() && files.is_empty() {
        return err(StatusCode::BAD_REQUEST, "neither 'from' or 'files' was specified");
    }
    let mut lines = vec![json!({"status": "parsing request"})];
    let fail = |mut lines: Vec<Value>, e: String| {
        lines.push(json!({"error": e}));
        stream_lines(lines)
    };
    if !adapters.is_empty() && refuses_adapters(&s.config.version) {
        return fail(lines, "creating models with adapters is no longer supported: merge the adapter into the model and create it from the merged files".into());
    }
    if let Some(f) = &from {
        let known = s.models.lock().map(|m| m.contains_key(&normalise(f))).unwrap_or(false);
        if !known {
            return fail(lines, format!("model '{f}' not found, pull it first"));
        }
    }
    let blob = |name: &str, d: &str| -> Result<PathBuf, String> {
        let p = blob_path(&s, d).ok_or_else(|| format!("{name}: invalid digest {d}"))?;
        if p.exists() { Ok(p) } else { Err(format!("{name}: blob {d} not found, upload it first")) }
    };
    let mut has_config = false;
    let mut has_weights = false;
    for (name, d) in &files {
        let p = match blob(name, d) {
            Ok(p) => p,
            Err(e) => return fail(lines, e),
        };
        if name.ends_with(".safetensors") {
            if let Err(e) = SafeTensors::open(&p) {
                return fail(lines, format!("{name}: {e}"));
            }
            has_weights = true;
        } else if name.ends_with(".gguf") {
            if let Err(e) = gguf::read_info(&p) {
                return fail(lines, format!("{name}: {e}"));
            }
            has_weights = true;
        } else if name == "config.json" {
            has_config = true;
        }
        lines.push(json!({"status": format!("using layer {d}")}));
    }
    if !files.is_empty() && (!has_weights || (files.iter().any(|(n, _)| n.ends_with(".safetensors")) && !has_config)) {
        return fail(lines, "the files do not make a model: safetensors weights need their config.json (and tokenizer)".into());
    }
    for (name, d) in &adapters {
        let p = match blob(name, d) {
            Ok(p) => p,
            Err(e) => return fail(lines, e),
        };
        match gguf::read_info(&p) {
            Ok(info) if info.get("general.type").and_then(gguf::Value::as_str) == Some("adapter") => {
                lines.push(json!({"status": format!("using adapter layer {d}")}));
            }
            Ok(_) => return fail(lines, format!("{name}: not a LoRA adapter (general.type is not adapter)")),
            Err(_) => return fail(lines, format!("{name}: unsupported adapter format; Qwen bases need a GGUF LoRA")),
        }
    }
    if let Some(q) = req.get("quantize").and_then(Value::as_str) {
        if !["q4_K_M", "q4_K_S", "q8_0"].contains(&q) {
            return fail(lines, format!("unsupported quantization type {q}"));
        }
        lines.push(json!({"status": format!("quantizing F32 model to {q}")}));
    }
    if req.get("system").is_some() {
        lines.push(json!({"status": "creating system layer"}));
    }
    if req.get("parameters").is_some() {
        lines.push(json!({"status": "creating parameters layer"}));
    }
    lines.push(json!({"status": "writing manifest"}));
    lines.push(json!({"status": "success"}));
    let entry = Model {
        from,
        files: files.into_iter().map(|(n, _)| n).collect(),
        adapters: adapters.into_iter().map(|(n, _)| n).collect(),
        system: req.get("system").and_then(Value::as_str).map(String::from),
    };
    if let Ok(mut m) = s.models.lock() {
        m.insert(normalise(model), entry);
    }
    stream_lines(lines)
}

async fn chat(State(s): State<Shared>, Json(req): Json<Value>) -> Response {
    let model = req.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
    let found = s.models.lock().ok().and_then(|m| m.get(&normalise(&model)).cloned());
    let Some(m) = found else {
        return err(StatusCode::NOT_FOUND, format!("model '{model}' not found"));
    };
    let last = req
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|a| a.last())
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let made_of = match (&m.from, m.files.len(), m.adapters.len()) {
        (Some(f), _, 0) => format!("from {f}"),
        (Some(f), _, n) => format!("from {f} with {n} adapter layer(s)"),
        (None, n, 0) => format!("from {n} uploaded file(s)"),
        (None, n, a) => format!("from {n} uploaded file(s) with {a} adapter layer(s)"),
    };
    let content = format!(
        "[Ollama stand-in: {model}, created {made_of}{}, received \"{last}\". The stand-in runs no model; a real Ollama answers here.]",
        if m.system.is_some() { ", with a system prompt" } else { "" }
    );
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(true);
    let message = json!({"role": "assistant", "content": content});
    if stream {
        stream_lines(vec![
            json!({"model": model, "message": message, "done": false}),
            json!({"model": model, "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"}),
        ])
    } else {
        Json(json!({"model": model, "message": message, "done": true, "done_reason": "stop"})).into_response()
    }
}

async fn remove(State(s): State<Shared>, Json(req): Json<Value>) -> Response {
    let model = req.get("model").and_then(Value::as_str).unwrap_or_default();
    let removed = s.models.lock().ok().and_then(|mut m| m.remove(&normalise(model)));
    match removed {
        Some(_) => StatusCode::OK.into_response(),
        None => err(StatusCode::NOT_FOUND, format!("model '{model}' not found")),
    }
}
