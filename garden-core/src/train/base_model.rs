//! The base model as the first phase of a run: a local folder is checked, a Hugging Face id is
//! found in the cache or downloaded (by huggingface_hub in the trainer's Python), before any trainer starts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::runs::{ModelProgress, ModelState};
use crate::error::{Error, Result};

/// The downloader, run with the trainer's Python (JSON lines on stdout; see the script).
pub const FETCH_SCRIPT: &str = include_str!("../../../python/fetch_model.py");

/// How the base model came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Ready for the trainer; `from_hub` means the trainer loads it from the Hugging Face cache.
    Ready { progress: ModelProgress, from_hub: bool },
    /// Not usable: the sentence says why and what to do.
    Failed { progress: ModelProgress, message: String },
    /// Stopped on request (the partial download stays and resumes next time).
    Stopped { progress: ModelProgress },
}

/// A local folder the trainer can load: a config.json, a tokenizer and weights.
pub fn check_folder(dir: &Path) -> std::result::Result<(), String> {
    let has = |name: &str| dir.join(name).is_file();
    if !has("config.json") {
        return Err(format!("{} has no config.json: give the folder that holds the model's config.json, tokenizer and weights", dir.display()));
    }
    let tokenizer = ["tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json"].iter().any(|n| has(n));
    if !tokenizer {
        return Err(format!("{} has no tokenizer (tokenizer.json, tokenizer.model or vocab.json)", dir.display()));
    }
    let weights = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".safetensors") || (name.starts_with("pytorch_model") && name.ends_with(".bin"))
        });
    if !weights {
        return Err(format!("{} has no weights (*.safetensors or pytorch_model*.bin)", dir.display()));
    }
    Ok(())
}

/// Is this a Hugging Face repository id (`owner/name`)?
pub fn is_hub_id(model: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 96
            && !part.starts_with(['.', '-'])
            && !part.contains("..")
            && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match model.split_once('/') {
        Some((owner, name)) => ok(owner) && ok(name),
        None => false,
    }
}

/// One line of the downloader's output.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    Cached { path: String },
    Plan { total_bytes: u64, #[serde(default)] have_bytes: u64, #[serde(default)] files: u64 },
    Progress { done_bytes: u64, total_bytes: u64, #[serde(default)] files_done: u64, #[serde(default)] files_total: u64 },
    Done { path: String, #[serde(default)] total_bytes: u64 },
    Error { kind: String, message: String },
}

/// Speed over a sliding window of a few seconds, and the time left at that speed.
struct Speed {
    samples: Vec<(Instant, u64)>,
}

impl Speed {
    const WINDOW: Duration = Duration::from_secs(5);

    fn add(&mut self, at: Instant, done: u64) -> Option<f64> {
        self.samples.push((at, done));
        self.samples.retain(|(t, _)| at.duration_since(*t) <= Self::WINDOW);
        let (t0, d0) = *self.samples.first()?;
        let secs = at.duration_since(t0).as_secs_f64();
        (secs >= 0.4).then(|| done.saturating_sub(d0) as f64 / secs)
    }
}

/// Where it stands, for the run: where the model comes from, how far along, and whether to stop.
pub trait Report: Send {
    /// Called with each change (at most a few times a second).
    fn progress(&mut self, progress: &ModelProgress) -> impl std::future::Future<Output = Result<()>> + Send;
    /// Whether the person asked the run to stop.
    fn stop_requested(&mut self) -> impl std::future::Future<Output = Result<bool>> + Send;
}

/// Resolves `model` for a run whose folder is `run_dir` (the downloader's stderr goes to `log`).
/// `env` is extra environment for the downloader (tests point HF_ENDPOINT at a stand-in).
pub async fn resolve(
    model: &str,
    python: &Path,
    run_dir: &Path,
    log: &Path,
    env: &[(String, String)],
    report: &mut impl Report,
) -> Result<Outcome> {
    let dir = Path::new(model);
    let mut progress = ModelProgress { repo: model.to_owned(), ..ModelProgress::default() };
    if dir.is_dir() {
        let dir2 = dir.to_owned();
        let checked = tokio::task::spawn_blocking(move || check_folder(&dir2)).await.map_err(|e| Error::Task(e.to_string()))?;
        return Ok(match checked {
            Ok(()) => {
                progress.state = ModelState::Local;
                progress.path = Some(model.to_owned());
                progress.message = Some(format!("Local folder {model}: config, tokenizer and weights are there."));
                Outcome::Ready { progress, from_hub: false }
            }
            Err(why) => {
                progress.state = ModelState::Failed;
                Outcome::Failed { message: format!("The base model folder is not usable: {why}."), progress }
            }
        });
    }
    if !is_hub_id(model) {
        progress.state = ModelState::Failed;
        return Ok(Outcome::Failed {
            message: format!(
                "The base model '{model}' is neither a folder on this machine nor a Hugging Face id (owner/name, like Qwen/Qwen2.5-14B-Instruct)."
            ),
            progress,
        });
    }
    if !python.exists() {
        progress.state = ModelState::Failed;
        return Ok(Outcome::Failed {
            message: format!(
                "The trainer's Python ({}) is missing, so {model} cannot be looked up or downloaded: run ./scripts/start, or give a local folder.",
                python.display()
            ),
            progress,
        });
    }
    let script = run_dir.join("fetch_model.py");
    crate::fsutil::write_atomically(&script, FETCH_SCRIPT.as_bytes())?;
    let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(|e| Error::io("opening", log, e))?;
    let mut command = tokio::process::Command::new(python);
    command
        .arg(&script)
        .arg(model)
        .current_dir(run_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONNOUSERSITE", "1")
        .process_group(0)
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().map_err(|e| Error::io("running", python, e))?;
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().ok_or_else(|| Error::Task("no downloader output".into()))?).lines();
    progress.state = ModelState::Downloading;
    progress.message = Some(format!("Looking up {model}…"));
    report.progress(&progress).await?;
    let mut speed = Speed { samples: Vec::new() };
    let mut outcome: Option<Outcome> = None;
    let mut stop_check = tokio::time::interval(Duration::from_millis(300));
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { break };
                let Ok(parsed) = serde_json::from_str::<Line>(line.trim()) else { continue };
                match parsed {
                    Line::Cached { path } => {
                        progress.state = ModelState::Cached;
                        progress.message = Some(format!("{model} is already in the Hugging Face cache: nothing to download."));
                        progress.path = Some(path);
                        outcome = Some(Outcome::Ready { progress: progress.clone(), from_hub: true });
                    }
                    Line::Plan { total_bytes, have_bytes, files } => {
                        progress.total_bytes = total_bytes;
                        progress.done_bytes = have_bytes;
                        progress.files_total = files;
                        progress.message = Some(if have_bytes > 0 {
                            format!("Downloading {model}: {} of {} already here, resuming.", human(have_bytes), human(total_bytes))
                        } else {
                            format!("Downloading {model} ({}).", human(total_bytes))
                        });
                        report.progress(&progress).await?;
                    }
                    Line::Progress { done_bytes, total_bytes, files_done, files_total } => {
                        progress.done_bytes = done_bytes;
                        progress.total_bytes = total_bytes;
                        progress.files_done = files_done;
                        progress.files_total = files_total;
                        progress.bytes_per_s = speed.add(Instant::now(), done_bytes);
                        progress.eta_s = progress
                            .bytes_per_s
                            .filter(|s| *s > 0.0)
                            .map(|s| total_bytes.saturating_sub(done_bytes) as f64 / s);
                        report.progress(&progress).await?;
                    }
                    Line::Done { path, total_bytes } => {
                        progress.state = ModelState::Downloaded;
                        progress.done_bytes = total_bytes.max(progress.done_bytes);
                        progress.total_bytes = total_bytes.max(progress.total_bytes);
                        progress.files_done = progress.files_total;
                        progress.eta_s = Some(0.0);
                        progress.message = Some(format!("Downloaded {model} ({}).", human(progress.total_bytes)));
                        progress.path = Some(path);
                        outcome = Some(Outcome::Ready { progress: progress.clone(), from_hub: true });
                    }
                    Line::Error { kind, message } => {
                        progress.state = ModelState::Failed;
                        let message = match kind.as_str() {
                            "offline" | "gated" | "auth" | "not_found" | "disk" => message,
                            _ => format!("Getting {model} failed: {message}"),
                        };
                        progress.message = Some(message.clone());
                        outcome = Some(Outcome::Failed { progress: progress.clone(), message });
                    }
                }
            }
            _ = stop_check.tick() => {
                if report.stop_requested().await? {
                    if let Some(pid) = pid {
                        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
                    }
                    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
                    let _ = child.kill().await;
                    progress.state = ModelState::Stopped;
                    progress.message = Some(format!("Download of {model} stopped at {} of {}: resume the run to continue it.", human(progress.done_bytes), human(progress.total_bytes)));
                    report.progress(&progress).await?;
                    return Ok(Outcome::Stopped { progress });
                }
            }
        }
    }
    let status = child.wait().await.map_err(|e| Error::io("running", python, e))?;
    let outcome = match outcome {
        Some(o) => o,
        None => {
            progress.state = ModelState::Failed;
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let last = tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_owned();
            let message = format!("Getting {model} stopped unexpectedly ({status}){}", if last.is_empty() { String::new() } else { format!(": {last}") });
            progress.message = Some(message.clone());
            Outcome::Failed { progress, message }
        }
    };
    match &outcome {
        Outcome::Ready { progress, .. } | Outcome::Failed { progress, .. } => report.progress(progress).await?,
        Outcome::Stopped { .. } => {}
    }
    Ok(outcome)
}

fn human(bytes: u64) -> String {
    crate::doctor::human_bytes(bytes)
}

/// Where the Hugging Face cache is (for messages): HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub.
pub fn hub_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return dir.into();
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    dirs::home_dir().unwrap_or_default().join(".cache/huggingface/hub")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_and_folders_are_told_apart() {
        assert!(is_hub_id("Qwen/Qwen2.5-14B-Instruct"));
        assert!(is_hub_id("mlx-community/Qwen2.5-7B-Instruct-4bit"));
        for bad in ["Qwen2.5", "/models/qwen", "./qwen/x", "a/b/c", "../etc", "owner/..", "a b/c", "owner/name\n"] {
            assert!(!is_hub_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_folder_needs_config_tokenizer_and_weights() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        assert!(check_folder(p).unwrap_err().contains("config.json"));
        std::fs::write(p.join("config.json"), "{}").unwrap();
        assert!(check_folder(p).unwrap_err().contains("tokenizer"));
        std::fs::write(p.join("tokenizer.json"), "{}").unwrap();
        assert!(check_folder(p).unwrap_err().contains("weights"));
        std::fs::write(p.join("model.safetensors"), "").unwrap();
        check_folder(p).unwrap();
    }

    #[test]
    fn speed_is_measured_over_a_window() {
        let mut s = Speed { samples: Vec::new() };
        let t0 = Instant::now();
        assert_eq!(s.add(t0, 0), None);
        let v = s.add(t0 + Duration::from_secs(2), 2_000_000).unwrap();
        assert!((v - 1_000_000.0).abs() < 1.0, "{v}");
    }
}
