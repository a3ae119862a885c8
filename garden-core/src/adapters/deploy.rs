//! Deploying an adapter to Ollama, whatever its version:
//! - before 0.34.1: the base plus the adapter as a GGUF LoRA layer (`adapters`);
//! - 0.34.1 and later (which refuse adapters): the LoRA merged into the base, imported with
//!   `files` (optionally quantized).
//!
//! Every step is recorded in the `deployments` row as it happens, so the page can show live
//! progress and, when it fails, why and what to do. Then the guide's test prompt goes through
//! `/api/chat`, and the guide's default Modelfile is written beside the adapter for people who deploy by
//! hand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use super::convert;
use super::gguf::GgmlType;
use super::modelfile;
use super::ollama::{self, CreateRequest, Ollama};
use crate::infer::ChatMessage;
use super::peft::{self, BaseModel, PeftAdapter};
use super::{Adapter, DeployStatus, DeployStrategy, Deployment};
use crate::error::{Error, Result};
use crate::Studio;

/// The guide's test prompt.
pub const TEST_PROMPT: &str = "Hello, how are you?";

/// Which way to build the Ollama model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Ask Ollama's version and pick.
    #[default]
    Auto,
    /// Base + GGUF LoRA layer (Ollama before 0.34.1).
    Adapter,
    /// Merged model (any Ollama that imports safetensors).
    Merged,
}

impl Route {
    pub fn parse(s: &str) -> Result<Route> {
        match s {
            "" | "auto" => Ok(Route::Auto),
            "adapter" => Ok(Route::Adapter),
            "merged" => Ok(Route::Merged),
            other => Err(Error::invalid("route", format!("'{other}' is not auto, adapter or merged"))),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeployOptions {
    /// The Ollama model name; default `garden-eden-<name>-<version>`.
    pub model_name: Option<String>,
    /// The SYSTEM prompt; default [`modelfile::DEFAULT_SYSTEM`].
    pub system: Option<String>,
    /// Ollama's `quantize` for the merged route (`q4_K_M`, `q8_0`…).
    pub quantize: Option<String>,
    pub route: Route,
    /// Default: the guide's "Hello, how are you?".
    pub test_prompt: Option<String>,
}

/// `garden-eden-<name>-<version>`, in the characters Ollama allows.
pub fn default_model_name(a: &Adapter) -> String {
    let raw = format!("garden-eden-{}-{}", a.name, a.version);
    let mut s: String = raw
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').chars().take(100).collect()
}

/// An Ollama model name: letters, digits, `._-`, an optional `:tag`, up to 100 characters.
pub fn check_model_name(name: &str) -> Result<()> {
    let re = regex::Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}(:[A-Za-z0-9._-]{1,50})?$").expect("valid regex");
    if re.is_match(name) {
        Ok(())
    } else {
        Err(Error::invalid("model name", format!("'{name}' is not an Ollama model name (letters, digits, '.', '_', '-', an optional ':tag')")))
    }
}

/// Where an adapter's derived files live: `<data dir>/adapters/<id>/`.
pub fn work_dir(studio: &Studio, adapter_id: &str) -> PathBuf {
    studio.settings().data_dir.join("adapters").join(adapter_id)
}

/// The base model's folder for an adapter, or why there is none.
pub fn base_folder(a: &Adapter, files: &PeftAdapter) -> Result<PathBuf> {
    if let Some(p) = a.base_path.as_deref().map(PathBuf::from).filter(|p| p.join("config.json").is_file()) {
        return Ok(p);
    }
    let p = Path::new(&a.base_model);
    if p.join("config.json").is_file() {
        return Ok(p.to_path_buf());
    }
    peft::resolve_base(None, &files.config).map_err(|_| {
        Error::invalid(
            "base model",
            format!(
                "the files of the base model '{}' are not on this machine; garden-eden needs them to check, convert and merge the adapter: register it with its base model's folder",
                a.base_model
            ),
        )
    })
}

/// Whether `base_model` names an Ollama model (`qwen2.5:14b`) rather than a folder or hub id.
fn is_ollama_name(base_model: &str) -> bool {
    !Path::new(base_model).is_absolute() && !base_model.contains('/') && !Path::new(base_model).exists()
}

/// The guide's default Modelfiles for an adapter, written to its work dir: `Modelfile` (FROM base,
/// ADAPTER ./adapter.gguf) and `Modelfile.merged` (FROM ./merged). Returns the first's text.
pub fn write_modelfiles(studio: &Studio, a: &Adapter, system: &str) -> Result<String> {
    let dir = work_dir(studio, &a.id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    let text = modelfile::with_adapter(&a.base_model, "./adapter.gguf", system)?;
    crate::fsutil::write_atomically(&dir.join("Modelfile"), text.as_bytes())?;
    let merged = modelfile::merged("./merged", system)?;
    crate::fsutil::write_atomically(&dir.join("Modelfile.merged"), merged.as_bytes())?;
    Ok(text)
}

/// The adapter's Modelfile as written by its last deployment (or `adapters modelfile`), else the
/// default one as it would be written. Reads only: pages and downloads call it.
pub fn modelfile_text(studio: &Studio, a: &Adapter) -> Result<String> {
    match std::fs::read_to_string(work_dir(studio, &a.id).join("Modelfile")) {
        Ok(t) => Ok(t),
        Err(_) => modelfile::with_adapter(&a.base_model, "./adapter.gguf", modelfile::DEFAULT_SYSTEM),
    }
}

/// Checks the options and records a `running` deployment (one transaction). `run` does the work.
pub async fn start(studio: &Studio, adapter_id: &str, opts: &DeployOptions) -> Result<Deployment> {
    let id = adapter_id.to_string();
    let a = studio.db().call(move |c| super::find(c, &id)).await?;
    let model_name = opts.model_name.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| default_model_name(&a));
    check_model_name(&model_name)?;
    let system = opts.system.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| modelfile::DEFAULT_SYSTEM.to_string());
    let text = write_modelfiles(studio, &a, &system)?;
    if let Some(q) = &opts.quantize {
        if !q.is_empty() && !q.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid("quantize", format!("'{q}' is not a quantization type (for example q4_K_M or q8_0)")));
        }
    }
    let dep_id = uuid::Uuid::new_v4().to_string();
    let target = studio.settings().ollama_url.clone();
    let strategy = match opts.route {
        Route::Merged => DeployStrategy::Merged,
        _ => DeployStrategy::Adapter,
    };
    let (d, aid) = (dep_id.clone(), a.id.clone());
    studio
        .db()
        .call(move |c| {
            c.execute(
                "INSERT INTO deployments (id, adapter_id, target, model_name, strategy, status, progress, modelfile, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '[]', ?7, ?8)",
                rusqlite::params![d, aid, target, model_name, strategy.as_str(), DeployStatus::Running.as_str(), text, crate::now_ms()],
            )?;
            super::deployment(c, &d)
        })
        .await
}

async fn note(studio: &Studio, dep: &str, line: String) -> Result<()> {
    tracing::info!(deployment = dep, "{line}");
    let dep = dep.to_string();
    studio
        .db()
        .call(move |c| {
            c.execute("UPDATE deployments SET progress = json_insert(progress, '$[#]', ?2) WHERE id = ?1", rusqlite::params![dep, line])?;
            Ok(())
        })
        .await
}

/// What to do about a failed deployment, in a sentence.
pub fn hint_for(e: &Error, ollama_url: &str) -> String {
    let msg = e.to_string();
    let lower = msg.to_lowercase();
    if lower.contains("nothing answers") {
        format!("Ollama is not running at {ollama_url}. Start it with `ollama serve` (or the Ollama app), or point garden-eden at it with --ollama-url / OLLAMA_HOST, then deploy again.")
    } else if lower.contains("trained on another base model") {
        "Base-model mismatch: the adapter's weights do not fit this base. Deploy it with the base model it was trained on (see its run), or register it again with the right base.".into()
    } else if lower.contains("not supported for gguf conversion") || lower.contains("no llama.cpp tensor name") {
        "Unsupported architecture for an adapter layer: deploy with the merged route, which works for every architecture Ollama imports.".into()
    } else if lower.contains("adapter") && (lower.contains("not supported") || lower.contains("no longer") || lower.contains("refuse")) {
        "This Ollama refuses adapter layers (0.34.1 and later): deploy with the merged route (or choose Auto).".into()
    } else if lower.contains("files of the base model") {
        "Register the adapter with its base model's folder (garden-eden register-adapter … --base-path DIR), or put the base in the Hugging Face cache.".into()
    } else if lower.contains("adapter_config.json") || lower.contains("no weights") || lower.contains("does not exist") {
        "The adapter's files are missing or damaged: check the folder registered for it, or register it again.".into()
    } else {
        "See the steps for where it stopped; the troubleshooting checks (Adapters page, or `garden-eden adapters check`) test each part on its own.".into()
    }
}

/// Runs a recorded deployment to the end. A failure is recorded on the row (error and hint) and
/// the row is returned; `Err` only when the database itself fails.
pub async fn run(studio: &Studio, deployment_id: &str, opts: &DeployOptions) -> Result<Deployment> {
    let id = deployment_id.to_string();
    let dep = studio.db().call(move |c| super::deployment(c, &id)).await?;
    let aid = dep.adapter_id.clone();
    let adapter = studio.db().call(move |c| super::get(c, &aid)).await?;
    let ollama = Ollama::new(&dep.target);
    let result = execute(studio, &dep, &adapter, opts, &ollama).await;
    let id = dep.id.clone();
    let (status, error, hint, answer, version, strategy) = match result {
        Ok(done) => (DeployStatus::Succeeded, None, None, Some(done.answer), Some(done.version), done.strategy),
        Err((e, version)) => {
            let hint = hint_for(&e, &dep.target);
            tracing::warn!(deployment = %dep.id, error = %e, "deployment failed");
            (DeployStatus::Failed, Some(e.to_string()), Some(hint), None, version, dep.strategy)
        }
    };
    let prompt = opts.test_prompt.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| TEST_PROMPT.to_string());
    studio
        .db()
        .call(move |c| {
            c.execute(
                "UPDATE deployments SET status = ?2, error = ?3, hint = ?4, test_prompt = ?5, test_answer = ?6,
                    ollama_version = COALESCE(?7, ollama_version), strategy = ?8, finished_at = ?9 WHERE id = ?1",
                rusqlite::params![
                    id,
                    status.as_str(),
                    error,
                    hint,
                    answer.as_ref().map(|_| prompt),
                    answer,
                    version,
                    strategy.as_str(),
                    crate::now_ms()
                ],
            )?;
            let d = super::deployment(c, &id)?;
            if d.status == DeployStatus::Succeeded {
                // The deployed model becomes a model to chat with now (not when a page is viewed).
                crate::infer::endpoint_for_adapter(c, &d.adapter_id)?;
            }
            Ok(d)
        })
        .await
}

/// Start and run in one go (the CLI).
pub async fn deploy(studio: &Studio, adapter: &str, opts: &DeployOptions) -> Result<Deployment> {
    let d = start(studio, adapter, opts).await?;
    run(studio, &d.id, opts).await
}

struct Done {
    answer: String,
    version: String,
    strategy: DeployStrategy,
}

async fn execute(studio: &Studio, dep: &Deployment, a: &Adapter, opts: &DeployOptions, ollama: &Ollama) -> Result<Done, (Error, Option<String>)> {
    let step = |line: String| note(studio, &dep.id, line);
    step(format!("Asking Ollama at {} for its version", ollama.url())).await.map_err(|e| (e, None))?;
    let version = ollama.version().await.map_err(|e| (e, None))?;
    let v = Some(version.clone());
    let fail = |e: Error| (e, v.clone());
    let route = match opts.route {
        Route::Auto if ollama::accepts_adapters(&version) => Route::Adapter,
        Route::Auto => Route::Merged,
        r => r,
    };
    step(format!(
        "Ollama {version}: {}",
        match (route, ollama::accepts_adapters(&version)) {
            (Route::Adapter, true) => "it accepts adapter layers, so the adapter goes up as a GGUF LoRA on its base",
            (Route::Adapter, false) => "it refuses adapter layers (0.34.1 and later), but the adapter route was chosen",
            _ => "the adapter is merged into its base and imported as one model",
        }
    ))
    .await
    .map_err(fail)?;

    let files = super::open_files(a).map_err(fail)?;
    let base_dir = base_folder(a, &files).map_err(fail)?;
    let work = work_dir(studio, &a.id);
    std::fs::create_dir_all(&work).map_err(|e| fail(Error::io("creating", &work, e)))?;
    let system = opts.system.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| modelfile::DEFAULT_SYSTEM.to_string());
    let mut parameters = Map::new();
    for (k, val) in modelfile::PARAMETERS {
        parameters.insert(k.into(), if k == "top_k" { json!(val as i64) } else { json!(val) });
    }
    let mut req = CreateRequest {
        model: dep.model_name.clone(),
        system: Some(system),
        parameters,
        stream: true,
        ..CreateRequest::default()
    };

    let upload = |path: PathBuf, label: String| async move {
        let digest = ollama::digest_of(&path).await?;
        let sent = ollama.push_blob(&path, &digest).await?;
        note(studio, &dep.id, format!("{} {label} ({digest})", if sent { "Uploaded" } else { "Ollama already has" })).await?;
        Ok::<String, Error>(digest)
    };

    let strategy = match route {
        Route::Adapter => {
            let gguf = work.join("adapter.gguf");
            step("Converting the adapter to a GGUF LoRA (native, no Python)".into()).await.map_err(fail)?;
            let (g, bd, adapter_dir) = (gguf.clone(), base_dir.clone(), PathBuf::from(&a.path));
            let report = tokio::task::spawn_blocking(move || {
                let files = PeftAdapter::open(&adapter_dir)?;
                let base = BaseModel::open(&bd)?;
                convert::to_gguf(&files, &base, &g, GgmlType::F16)
            })
            .await
            .map_err(|e| fail(Error::Task(e.to_string())))?
            .map_err(fail)?;
            step(format!("Wrote adapter.gguf: {} tensors, {} bytes, architecture {}", report.tensors, report.bytes, report.architecture)).await.map_err(fail)?;
            let digest = upload(gguf, "adapter.gguf".into()).await.map_err(fail)?;
            req.adapters.insert("adapter.gguf".into(), json!(digest));
            if is_ollama_name(&a.base_model) {
                req.from = Some(a.base_model.clone());
                step(format!("The base is Ollama's {}", a.base_model)).await.map_err(fail)?;
            } else {
                for (name, path) in model_files(&base_dir).map_err(fail)? {
                    let digest = upload(path, format!("base {name}")).await.map_err(fail)?;
                    req.files.insert(name, json!(digest));
                }
            }
            DeployStrategy::Adapter
        }
        Route::Merged | Route::Auto => {
            let merged = work.join("merged");
            if merged.join("config.json").is_file() {
                step("Reusing the merged model made earlier".into()).await.map_err(fail)?;
            } else {
                step("Merging the adapter into its base (tensor by tensor, native)".into()).await.map_err(fail)?;
                let (m, bd, adapter_dir) = (merged.clone(), base_dir.clone(), PathBuf::from(&a.path));
                let report = tokio::task::spawn_blocking(move || {
                    let files = PeftAdapter::open(&adapter_dir)?;
                    let base = BaseModel::open(&bd)?;
                    convert::merge(&files, &base, &m)
                })
                .await
                .map_err(|e| fail(Error::Task(e.to_string())))?
                .map_err(fail)?;
                step(format!("Merged {} of {} tensors into {} shard(s), {} bytes", report.merged, report.tensors, report.shards, report.bytes)).await.map_err(fail)?;
            }
            for (name, path) in model_files(&merged).map_err(fail)? {
                let digest = upload(path, name.clone()).await.map_err(fail)?;
                req.files.insert(name, json!(digest));
            }
            req.quantize = opts.quantize.clone().filter(|q| !q.is_empty());
            DeployStrategy::Merged
        }
    };

    step(format!("Creating {} in Ollama", dep.model_name)).await.map_err(fail)?;
    let mut statuses = Vec::new();
    ollama.create(&req, |s| statuses.push(s.to_string())).await.map_err(fail)?;
    for s in statuses {
        step(format!("Ollama: {s}")).await.map_err(fail)?;
    }
    let prompt = opts.test_prompt.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| TEST_PROMPT.to_string());
    step(format!("Sending the test prompt: {prompt}")).await.map_err(fail)?;
    let answer = ollama
        .chat(&dep.model_name, &[ChatMessage { role: "user".into(), content: prompt }], None)
        .await
        .map_err(fail)?;
    step("Ollama answered".into()).await.map_err(fail)?;
    Ok(Done { answer, version, strategy })
}

/// The files Ollama needs from a model folder: weights, config and tokenizer files, sorted.
fn model_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))?.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        const KNOWN: [&str; 11] = [
            "config.json",
            "generation_config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "added_tokens.json",
            "vocab.json",
            "merges.txt",
            "tokenizer.model",
            "model.safetensors.index.json",
            "chat_template.jinja",
        ];
        let keep = name.ends_with(".safetensors") || KNOWN.contains(&name.as_str());
        if keep && !name.starts_with('.') && entry.path().is_file() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

pub use garden_types::adapters::Check;

fn check(label: &str, r: std::result::Result<String, (String, String)>) -> Check {
    match r {
        Ok(detail) => Check { label: label.into(), ok: true, detail, fix: None },
        Err((detail, fix)) => Check { label: label.into(), ok: false, detail, fix: Some(fix) },
    }
}

/// [`troubleshoot`] for the adapter `key` (an id or anything [`super::find`] takes).
pub async fn checks(studio: &Studio, key: &str) -> Result<Vec<Check>> {
    let key = key.to_string();
    let a = studio.db().call(move |c| super::find(c, &key)).await?;
    Ok(troubleshoot(studio, &a).await)
}

/// Checks each part of deploying `a` on its own: files, base match, GGUF conversion, Modelfile,
/// Ollama.
pub async fn troubleshoot(studio: &Studio, a: &Adapter) -> Vec<Check> {
    // The file checks read headers and hash the weights: on a blocking thread, with a time limit
    // (the hash is remembered, so a second look is quick).
    let checksum = match super::open_files(a) {
        Ok(f) => Some(tokio::time::timeout(std::time::Duration::from_secs(120), crate::fsutil::sha256_file_cached(&f.weights)).await),
        Err(_) => None,
    };
    let a2 = a.clone();
    let file_checks = tokio::task::spawn_blocking(move || file_checks(&a2, checksum))
        .await
        .unwrap_or_else(|e| vec![check("Adapter files exist and parse", Err((e.to_string(), "Try again.".into())))]);
    let mut checks = file_checks;
    checks.extend(service_checks(studio, a).await);
    checks
}

/// The checks that read files (blocking).
fn file_checks(a: &Adapter, checksum: Option<std::result::Result<Result<String>, tokio::time::error::Elapsed>>) -> Vec<Check> {
    let mut checks = Vec::new();
    let files = super::open_files(a);
    checks.push(check(
        "Adapter files exist and parse",
        match (&files, checksum) {
            (Ok(f), Some(Ok(Ok(sum)))) if sum == a.checksum => Ok(format!("{} with {} LoRA pairs; checksum matches the registry", f.weights.display(), f.pairs.len())),
            (Ok(f), Some(Ok(Ok(_)))) => Err((
                format!("{} changed since it was registered (checksum differs)", f.weights.display()),
                "Register the folder again as a new version, so the registry describes what is on disk.".into(),
            )),
            (Ok(_), Some(Ok(Err(e)))) => Err((e.to_string(), "Check the file's permissions.".into())),
            (Ok(f), Some(Err(_)) | None) => Err((format!("hashing {} took more than 2 minutes", f.weights.display()), "Check the disk, then look again.".into())),
            (Err(e), _) => Err((e.to_string(), "Check that the adapter folder is still where it was registered; register it again if it moved.".into())),
        },
    ));    let base = files.as_ref().ok().map(|f| base_folder(a, f));
    checks.push(check(
        "Base model matches the adapter",
        match (&files, &base) {
            (Ok(f), Some(Ok(dir))) => match BaseModel::open(dir).and_then(|b| b.check_adapter(f).map(|()| b)) {
                Ok(b) => Ok(format!("{} ({}) has every weight the adapter changes, with the same shapes", dir.display(), b.model_type())),
                Err(e) => Err((e.to_string(), "Use the base model the adapter was trained on.".into())),
            },
            (_, Some(Err(e))) => Err((e.to_string(), "Register the adapter with its base model's folder (--base-path).".into())),
            _ => Err(("the adapter files could not be read".into(), "Fix the first check.".into())),
        },
    ));
    checks.push(check(
        "Architecture can become a GGUF adapter",
        match &base {
            Some(Ok(dir)) => match BaseModel::open(dir) {
                Ok(b) => match convert::gguf_architecture(b.model_type()) {
                    Some(arch) => Ok(format!("{} → llama.cpp architecture {arch}", b.model_type())),
                    None => Err((
                        format!("{} has no GGUF adapter mapping", b.model_type()),
                        "Deploy with the merged route instead.".into(),
                    )),
                },
                Err(e) => Err((e.to_string(), "Check the base model folder.".into())),
            },
            _ => Err(("no base model folder".into(), "Fix the check above.".into())),
        },
    ));
    checks
}

/// The checks that ask Ollama (and lint the Modelfile).
async fn service_checks(studio: &Studio, a: &Adapter) -> Vec<Check> {
    let mut checks = Vec::new();
    let modelfile = modelfile::with_adapter(&a.base_model, "./adapter.gguf", modelfile::DEFAULT_SYSTEM).unwrap_or_default();
    let problems = modelfile::lint(&modelfile);
    checks.push(check(
        "Modelfile is well-formed",
        if problems.is_empty() {
            Ok("one FROM, one ADAPTER, the guide's parameters and a closed SYSTEM block".into())
        } else {
            Err((problems.join("; "), "Regenerate it from this page.".into()))
        },
    ));
    let ollama = Ollama::new(&studio.settings().ollama_url);
    let version = ollama.version().await;
    checks.push(check(
        "Ollama is reachable",
        match &version {
            Ok(v) => Ok(format!(
                "Ollama {v} at {}: {}",
                ollama.url(),
                if ollama::accepts_adapters(v) { "accepts adapter layers" } else { "refuses adapter layers, so deploy merges the adapter" }
            )),
            Err(e) => Err((e.to_string(), format!("Start Ollama (`ollama serve`) or set its URL; garden-eden looks at {}.", ollama.url()))),
        },
    ));
    if version.as_ref().is_ok_and(|v| ollama::accepts_adapters(v)) && is_ollama_name(&a.base_model) {
        checks.push(check(
            "Ollama has the base model",
            match ollama.tags().await {
                Ok(tags) if tags.iter().any(|t| t == &a.base_model || t.split(':').next() == Some(a.base_model.as_str())) => Ok(format!("{} is there", a.base_model)),
                Ok(_) => Err((format!("Ollama has no {}", a.base_model), format!("Pull it first: ollama pull {}", a.base_model))),
                Err(e) => Err((e.to_string(), "Check Ollama.".into())),
            },
        ));
    }
    checks
}

/// Records the deployment and runs it in the background (the web app follows it through the
/// `deployments` row).
pub async fn spawn(studio: &Studio, adapter: &str, opts: DeployOptions) -> Result<Deployment> {
    let d = start(studio, adapter, &opts).await?;
    let (studio, id) = (studio.clone(), d.id.clone());
    tokio::spawn(async move {
        if let Err(e) = run(&studio, &id, &opts).await {
            tracing::error!(deployment = %id, error = %e, "recording the deployment failed");
        }
    });
    Ok(d)
}

/// Deployments left `running` by a server that stopped mid-way are marked failed (at start-up).
pub fn reconcile(conn: &rusqlite::Connection) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE deployments SET status = 'failed', error = 'garden-eden stopped while this deployment was running',
            hint = 'Deploy again: uploads Ollama already has are skipped.', finished_at = ?1 WHERE status = 'running'",
        [crate::now_ms()],
    )?)
}
