//! The trainer's optional GPU extras (bitsandbytes for 4/8-bit QLoRA, DeepSpeed for ZeRO): which
//! a config needs, whether the trainer's Python has them, and installing them with pip.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::error::{Error, Result};

/// How long the version probe may take (it reads package metadata; it imports nothing).
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one pip install may take before it is stopped.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub use garden_types::runs::{Extra, ExtraInstall, ExtraStatus, InstallState};

/// An extra by its package name, in any case (the error names the extras there are).
pub fn parse(name: &str) -> Result<Extra> {
    Ok(name.parse()?)
}

fn status_of(python: &Path, extra: Extra, installed: Option<String>) -> ExtraStatus {
    ExtraStatus {
        extra,
        package: extra.package().to_owned(),
        pin: extra.pin().to_owned(),
        purpose: extra.purpose().to_owned(),
        installed,
        command: install_command(python, &[extra]),
    }
}

/// `python -m pip install …` for these extras, as arguments (never through a shell).
pub fn install_args(python: &Path, extras: &[Extra]) -> Vec<String> {
    let mut args = vec![python.to_string_lossy().into_owned(), "-m".into(), "pip".into(), "install".into()];
    args.extend(extras.iter().flat_map(|e| e.requirements()).map(str::to_owned));
    args
}

/// The same command as one line, for people to copy (paths with spaces quoted).
pub fn install_command(python: &Path, extras: &[Extra]) -> String {
    install_args(python, extras)
        .into_iter()
        .map(|a| if a.contains([' ', '\'', '"']) { format!("'{}'", a.replace('\'', "'\\''")) } else { a })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the installed versions from package metadata (no import: importing torch takes seconds).
const PROBE: &str = r#"
import json, sys
from importlib import metadata
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"#;

/// Which extras the trainer's Python has. An environment that does not run is an error naming it.
pub async fn status(python: &Path) -> Result<Vec<ExtraStatus>> {
    let mut command = tokio::process::Command::new(python);
    command
        .arg("-c")
        .arg(PROBE)
        .args(Extra::ALL.map(Extra::package))
        .env("PYTHONNOUSERSITE", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(PROBE_TIMEOUT, command.output()).await {
        Err(_) => return Err(Error::Task(format!("{} did not answer within {} s", python.display(), PROBE_TIMEOUT.as_secs()))),
        Ok(Err(e)) => return Err(Error::io("running", python, e)),
        Ok(Ok(o)) => o,
    };
    if !output.status.success() {
        return Err(Error::Task(format!("{} failed: {}", python.display(), String::from_utf8_lossy(&output.stderr).trim())));
    }
    let versions: std::collections::HashMap<String, Option<String>> = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::Task(format!("reading {}'s package versions: {e}", python.display())))?;
    Ok(Extra::ALL.into_iter().map(|e| status_of(python, e, versions.get(e.package()).cloned().flatten())).collect())
}

/// Every extra as not installed (when the trainer's Python cannot be asked).
pub fn none_installed(python: &Path) -> Vec<ExtraStatus> {
    Extra::ALL.into_iter().map(|e| status_of(python, e, None)).collect()
}

/// The extras `needed` that the trainer's Python lacks.
pub async fn missing(python: &Path, needed: &[Extra]) -> Result<Vec<ExtraStatus>> {
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(status(python).await?.into_iter().filter(|s| needed.contains(&s.extra) && s.installed.is_none()).collect())
}

/// Refuses a config whose extras are missing, before anything is launched: the error names the
/// extra, why the run needs it, and the command that installs it.
pub async fn check(python: &Path, needed: &[Extra]) -> Result<()> {
    let missing = missing(python, needed).await?;
    let Some(first) = missing.first() else { return Ok(()) };
    let extras: Vec<Extra> = missing.iter().map(|s| s.extra).collect();
    Err(Error::MissingExtra {
        extra: missing.iter().map(|s| s.package.clone()).collect::<Vec<_>>().join(" "),
        purpose: first.purpose.clone(),
        python: python.to_owned(),
        command: install_command(python, &extras),
    })
}

/// A line of pip's output while it installs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallProgress {
    /// The line as pip printed it (`Collecting …`, `Downloading …`, `Installing collected …`).
    pub line: String,
    /// Bytes of the current download, from pip's `--progress-bar raw` lines.
    pub done_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
}

/// Parses pip's `Progress 1234 of 5678` lines (`--progress-bar raw`).
fn parse_raw_progress(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("Progress ")?;
    let (done, total) = rest.split_once(" of ")?;
    Some((done.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// Installs the extras into the trainer's environment with pip, reporting each line of its output.
/// pip's own error is the error, with its last lines.
pub async fn install(python: &Path, extras: &[Extra], mut progress: impl FnMut(InstallProgress) + Send) -> Result<()> {
    let args = install_args(python, extras);
    let mut command = tokio::process::Command::new(python);
    command
        .args(&args[1..])
        .args(["--progress-bar", "raw", "--disable-pip-version-check", "--no-input"])
        .env("PYTHONNOUSERSITE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| Error::io("running", python, e))?;
    let stdout = child.stdout.take().map(|s| BufReader::new(s).lines());
    let stderr = child.stderr.take().map(|s| BufReader::new(s).lines());
    let mut tail: Vec<String> = Vec::new();
    let work = async {
        let (mut out, mut err) = (stdout, stderr);
        loop {
            let line = tokio::select! {
                l = async { match out.as_mut() { Some(o) => o.next_line().await, None => std::future::pending().await } } => match l {
                    Ok(Some(l)) => l,
                    _ => { out = None; if err.is_none() { break; } continue; }
                },
                l = async { match err.as_mut() { Some(e) => e.next_line().await, None => std::future::pending().await } } => match l {
                    Ok(Some(l)) => l,
                    _ => { err = None; if out.is_none() { break; } continue; }
                },
            };
            if line.trim().is_empty() {
                continue;
            }
            let (done, total) = parse_raw_progress(&line).map_or((None, None), |(d, t)| (Some(d), Some(t)));
            if done.is_none() {
                tail.push(line.clone());
                if tail.len() > 12 {
                    tail.remove(0);
                }
            }
            progress(InstallProgress { line, done_bytes: done, total_bytes: total });
        }
        child.wait().await
    };
    let status = match tokio::time::timeout(INSTALL_TIMEOUT, work).await {
        Err(_) => return Err(Error::Task(format!("pip did not finish within {} minutes", INSTALL_TIMEOUT.as_secs() / 60))),
        Ok(status) => status.map_err(|e| Error::io("running", python, e))?,
    };
    if status.success() {
        Ok(())
    } else {
        Err(Error::Task(format!(
            "pip could not install {} into {} ({status}):\n{}",
            extras.iter().flat_map(|e| e.requirements()).collect::<Vec<_>>().join(" "),
            python.display(),
            tail.join("\n")
        )))
    }
}

/// Installs started in this process (one at a time per extra).
static INSTALLS: std::sync::Mutex<Vec<ExtraInstall>> = std::sync::Mutex::new(Vec::new());

fn update_install(extra: Extra, change: impl FnOnce(&mut ExtraInstall)) {
    let mut all = INSTALLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = all.iter_mut().find(|i| i.extra == extra) {
        change(i);
    }
}

/// Starts installing `extra` in the background (nothing happens if it is already being
/// installed); [`installs`] tells how it goes.
pub fn start_install(python: PathBuf, extra: Extra) -> ExtraInstall {
    {
        let mut all = INSTALLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(running) = all.iter().find(|i| i.extra == extra && i.state == InstallState::Running) {
            return running.clone();
        }
        all.retain(|i| i.extra != extra);
        all.push(ExtraInstall {
            extra,
            state: InstallState::Running,
            line: format!("Installing {} into {}", extra.pin(), environment(&python).display()),
            done_bytes: None,
            total_bytes: None,
            error: None,
        });
    }
    tokio::spawn(async move {
        let result = install(&python, &[extra], |p| {
            update_install(extra, |i| {
                if p.done_bytes.is_some() {
                    i.done_bytes = p.done_bytes;
                    i.total_bytes = p.total_bytes;
                } else {
                    i.line = p.line;
                }
            });
        })
        .await;
        update_install(extra, |i| match result {
            Ok(()) => {
                i.state = InstallState::Done;
                i.line = format!("{} installed", extra.pin());
            }
            Err(e) => {
                i.state = InstallState::Failed;
                i.error = Some(e.to_string());
            }
        });
    });
    installs().into_iter().find(|i| i.extra == extra).unwrap_or_else(|| unreachable_install(extra))
}

fn unreachable_install(extra: Extra) -> ExtraInstall {
    ExtraInstall { extra, state: InstallState::Failed, line: String::new(), done_bytes: None, total_bytes: None, error: Some("lost track of the install".into()) }
}

/// Every install started in this process, with its latest state.
pub fn installs() -> Vec<ExtraInstall> {
    INSTALLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// The Python the extras go into, for messages.
pub fn environment(python: &Path) -> PathBuf {
    python.parent().and_then(Path::parent).map_or_else(|| python.to_owned(), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::TrainConfig;

    #[test]
    fn configs_name_the_extras_they_need() {
        let plain = TrainConfig::default();
        assert!(plain.needed_extras().is_empty());
        let q4 = TrainConfig { quantization_bit: Some(4), ..TrainConfig::default() };
        assert_eq!(q4.needed_extras(), vec![Extra::Bitsandbytes]);
        let both = TrainConfig {
            quantization_bit: Some(8),
            deepspeed: Some(crate::train::config::ZeroStage::Zero3),
            ..TrainConfig::default()
        };
        assert_eq!(both.needed_extras(), vec![Extra::Bitsandbytes, Extra::Deepspeed]);
    }

    #[test]
    fn the_command_is_exact_and_quoted_for_copying() {
        let python = Path::new("/home/me/my envs/venv/bin/python");
        assert_eq!(
            install_args(python, &[Extra::Bitsandbytes]),
            ["/home/me/my envs/venv/bin/python", "-m", "pip", "install", "bitsandbytes==0.50.2"]
        );
        assert_eq!(
            install_command(python, &[Extra::Bitsandbytes, Extra::Deepspeed]),
            "'/home/me/my envs/venv/bin/python' -m pip install bitsandbytes==0.50.2 deepspeed==0.19.8"
        );
        assert_eq!(parse(" BitsAndBytes").unwrap(), Extra::Bitsandbytes);
        assert!(parse("flash-attn").unwrap_err().to_string().contains("bitsandbytes, deepspeed"));
    }

    #[test]
    fn pip_raw_progress_lines_parse() {
        assert_eq!(parse_raw_progress("Progress 1048576 of 62914560"), Some((1_048_576, 62_914_560)));
        assert_eq!(parse_raw_progress("Collecting bitsandbytes==0.50.2"), None);
    }

    #[tokio::test]
    async fn a_python_without_the_extras_is_refused_with_the_command() {
        // The machine's own python3 has neither bitsandbytes nor deepspeed.
        let Some(python) = crate::doctor::which("python3") else { panic!("python3 is needed for this test") };
        let statuses = status(&python).await.unwrap();
        assert_eq!(statuses.len(), Extra::ALL.len());
        let err = check(&python, &[Extra::Bitsandbytes]).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::MissingExtra { .. }), "{text}");
        assert!(text.contains("bitsandbytes") && text.contains("-m pip install bitsandbytes==0.50.2"), "{text}");
        assert!(text.contains("garden-eden extras install bitsandbytes"), "{text}");
        check(&python, &[]).await.unwrap();
        let broken = status(Path::new("/nonexistent/bin/python")).await.unwrap_err();
        assert!(broken.to_string().contains("/nonexistent/bin/python"), "{broken}");
    }
}
