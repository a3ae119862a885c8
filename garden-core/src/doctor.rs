//! Environment checks shared by `garden-eden doctor` and the Home page: each check says ok, warn or
//! missing, what it found, and how to fix it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::Command;

use crate::Studio;

/// The LLaMA-Factory release garden-eden is tested with.
pub const LLAMAFACTORY_VERSION: &str = "0.9.5";
/// First Ollama release that refuses to create models with an ADAPTER layer.
pub use crate::adapters::ollama::ADAPTERS_REFUSED_FROM as OLLAMA_NO_ADAPTER_SINCE;

const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
const HTTP_TIMEOUT: Duration = Duration::from_secs(3);
const GIB: u64 = 1024 * 1024 * 1024;

/// The checks' keys, in the report's order.
pub const CHECK_KEYS: [&str; 8] = ["database", "disk", "python", "llamafactory", "llama_cpp", "ollama", "gpu", "extras"];

pub use garden_types::data::{Check, CheckStatus, CheckStatus as Status, Health};

/// The whole report, in a fixed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub checks: Vec<Check>,
    /// The GPUs found (NVIDIA, AMD ROCm, or none).
    pub hardware: crate::hardware::Hardware,
    /// The trainer's optional GPU packages (empty when its Python does not run).
    pub extras: Vec<crate::train::extras::ExtraStatus>,
    /// When the checks ran (Unix ms).
    pub checked_at: i64,
}

impl Report {
    pub fn get(&self, key: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.key == key)
    }
}

/// How long a report is reused by [`run_cached`].
pub const CACHE_FOR: Duration = Duration::from_secs(15);

/// The last report, and the lock that makes concurrent callers wait for one run instead of each
/// starting Python, nvidia-smi and an Ollama call.
static LAST: tokio::sync::Mutex<Option<(std::time::Instant, std::path::PathBuf, Report)>> = tokio::sync::Mutex::const_new(None);

/// [`run`], at most once at a time and at most every [`CACHE_FOR`] for the same data dir: what
/// pages use, so page views (a GET from anywhere) cannot make garden-eden spawn processes at will.
/// `fresh` forces a new run (still one at a time).
pub async fn run_cached(studio: &Studio, fresh: bool) -> Report {
    let mut last = LAST.lock().await;
    let dir = studio.settings().data_dir.clone();
    if let Some((at, for_dir, report)) = last.as_ref() {
        if !fresh && *for_dir == dir && at.elapsed() < CACHE_FOR {
            return report.clone();
        }
    }
    let report = run(studio).await;
    *last = Some((std::time::Instant::now(), dir, report.clone()));
    report
}

/// The last report for this data dir if there is one, without running anything; otherwise every
/// check marked "not checked" with `why`. For requests that must not start processes (a page
/// opened from another site).
pub async fn last_or_unchecked(studio: &Studio, why: &str) -> Report {
    let last = LAST.lock().await;
    if let Some((_, dir, report)) = last.as_ref() {
        if *dir == studio.settings().data_dir {
            return report.clone();
        }
    }
    let checks = CHECK_KEYS
        .iter()
        .map(|key| Check::new(key, key, Status::Warn, format!("not checked: {why}")).fix("press Check again"))
        .collect();
    Report { checks, hardware: crate::hardware::Hardware::cpu_only(), extras: Vec::new(), checked_at: crate::now_ms() }
}

/// The Home page's status: the checks (by [`run_cached`]; with `from_another_site`, the last
/// report only, by [`last_or_unchecked`], so a page opened from elsewhere starts nothing) and
/// the number of conversations stored.
pub async fn health(studio: &Studio, fresh: bool, from_another_site: bool) -> crate::Result<Health> {
    let report = if from_another_site {
        last_or_unchecked(studio, "this page was opened from another site").await
    } else {
        run_cached(studio, fresh).await
    };
    let conversations = studio.db().call(|conn| crate::conversations::count(conn)).await?;
    Ok(Health { checks: report.checks, checked_at: report.checked_at, conversations })
}

/// Runs every check, concurrently.
pub async fn run(studio: &Studio) -> Report {
    let settings = studio.settings();
    let python = settings.python_path();
    let (database, python_checks, ollama, hardware, extras, clusters) = tokio::join!(
        check_database(studio),
        check_python(&python),
        check_ollama(&settings.ollama_url),
        crate::hardware::detect(),
        crate::train::extras::status(&python),
        check_clusters(studio),
    );
    let data_dir = settings.data_dir.clone();
    let disk = tokio::task::spawn_blocking(move || check_disk(&data_dir))
        .await
        .unwrap_or_else(|e| Check::new("disk", "Free disk", Status::Warn, e.to_string()));
    let extras_check = match &extras {
        Ok(list) => check_extras(&hardware, list),
        Err(e) => Check::new("extras", "GPU extras", Status::Warn, format!("unknown: {e}")),
    };
    let extras = extras.unwrap_or_else(|_| crate::train::extras::none_installed(&python));
    let mut checks = vec![database, disk];
    checks.extend(python_checks);
    checks.push(ollama);
    checks.push(check_gpu(&hardware));
    checks.push(extras_check);
    checks.extend(clusters);
    Report {
        checks,
        hardware,
        extras,
        checked_at: crate::now_ms(),
    }
}

/// The registered Ray clusters (none: no check): each answers, with what it has.
async fn check_clusters(studio: &Studio) -> Option<Check> {
    let views = crate::train::ray::views(studio).await.ok()?;
    if views.is_empty() {
        return None;
    }
    let lines: Vec<String> = views
        .iter()
        .map(|v| match &v.resources {
            Ok(r) => format!("{} ({}): {}", v.cluster.name, v.cluster.url, r.summary()),
            Err(e) => format!("{} ({}): not answering: {e}", v.cluster.name, v.cluster.url),
        })
        .collect();
    let down: Vec<&str> = views.iter().filter(|v| v.resources.is_err()).map(|v| v.cluster.name.as_str()).collect();
    let check = Check::new("clusters", "Ray clusters", if down.is_empty() { Status::Ok } else { Status::Warn }, lines.join("; "));
    Some(if down.is_empty() {
        check
    } else {
        check.fix(format!(
            "start Ray on {} (`ray start --head --dashboard-host 0.0.0.0`) and check that its dashboard port is reachable from here, and only from machines you trust",
            down.join(", ")
        ))
    })
}

async fn check_database(studio: &Studio) -> Check {
    let path = studio.db().path().to_owned();
    let counted = studio
        .db()
        .call(|conn| {
            let version = crate::migrate::current_version(conn)?;
            let n: i64 = conn.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))?;
            Ok((version, n))
        })
        .await;
    match counted {
        Ok((version, n)) => Check::new(
            "database",
            "Database",
            Status::Ok,
            format!(
                "{} (schema v{version}, {n} conversation{})",
                path.display(),
                if n == 1 { "" } else { "s" }
            ),
        ),
        Err(e) => Check::new("database", "Database", Status::Missing, e.to_string()).fix(format!(
            "check that {} is writable, or choose another with --data-dir",
            path.display()
        )),
    }
}

/// Free space where the data dir is (or would be).
fn check_disk(data_dir: &Path) -> Check {
    let probe = nearest_existing(data_dir);
    match nix::sys::statvfs::statvfs(&probe) {
        Ok(stat) => {
            // The block count is a u32 on macOS (u64 on Linux).
            #[allow(clippy::useless_conversion)]
            let free = u64::from(stat.blocks_available()) * stat.fragment_size();
            let detail = format!("{} free at {}", human_bytes(free), data_dir.display());
            if free < 2 * GIB {
                Check::new("disk", "Free disk", Status::Missing, detail)
                    .fix("free some space: exports, checkpoints and merged models need room")
            } else if free < 30 * GIB {
                Check::new("disk", "Free disk", Status::Warn, detail).fix(
                    "enough for small models; merging a 7B–14B model for Ollama needs 30 GB or more",
                )
            } else {
                Check::new("disk", "Free disk", Status::Ok, detail)
            }
        }
        Err(e) => Check::new(
            "disk",
            "Free disk",
            Status::Warn,
            format!("could not read free space at {}: {e}", probe.display()),
        ),
    }
}

fn nearest_existing(path: &Path) -> PathBuf {
    let mut p = path.to_owned();
    while !p.exists() {
        match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => p = parent.to_owned(),
            _ => return PathBuf::from("."),
        }
    }
    p
}

/// Versions of the Python packages garden-eden drives, read without importing them (importing
/// torch takes seconds).
const PYTHON_PROBE: &str = r#"
import json, sys
from importlib import metadata
out = {"python": sys.version.split()[0]}
for name in ("llamafactory", "torch", "transformers", "peft", "llama-cpp-python"):
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"#;

#[derive(Debug, Deserialize)]
struct PythonVersions {
    python: String,
    llamafactory: Option<String>,
    torch: Option<String>,
    #[serde(rename = "llama-cpp-python")]
    llama_cpp_python: Option<String>,
}

async fn check_python(python: &Path) -> Vec<Check> {
    const SETUP: &str = "run ./scripts/start (it creates the venv), or point GARDEN_EDEN_PYTHON at \
                         a Python that has llamafactory";
    if !python.exists() {
        return vec![
            Check::new(
                "python",
                "Python environment",
                Status::Missing,
                format!("no Python at {}", python.display()),
            )
            .fix(SETUP),
            Check::new("llamafactory", "LLaMA-Factory", Status::Missing, "no Python environment")
                .fix(SETUP),
            llama_cpp_check(None),
        ];
    }
    let output = run_probe(
        Command::new(python)
            .arg("-c")
            .arg(PYTHON_PROBE)
            .env("PYTHONNOUSERSITE", "1"),
    )
    .await;
    let versions = match output {
        Ok(stdout) => serde_json::from_str::<PythonVersions>(stdout.trim()).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let versions = match versions {
        Ok(v) => v,
        Err(e) => {
            return vec![
                Check::new(
                    "python",
                    "Python environment",
                    Status::Missing,
                    format!("{} does not run: {e}", python.display()),
                )
                .fix(SETUP),
                Check::new("llamafactory", "LLaMA-Factory", Status::Missing, "Python does not run")
                    .fix(SETUP),
                llama_cpp_check(None),
            ]
        }
    };
    let python_check = Check::new(
        "python",
        "Python environment",
        Status::Ok,
        format!("Python {} at {}", versions.python, python.display()),
    );
    let lf = match (&versions.llamafactory, &versions.torch) {
        (Some(lf), Some(torch)) if lf == LLAMAFACTORY_VERSION => Check::new(
            "llamafactory",
            "LLaMA-Factory",
            Status::Ok,
            format!("llamafactory {lf}, torch {torch}"),
        ),
        (Some(lf), torch) => Check::new(
            "llamafactory",
            "LLaMA-Factory",
            Status::Warn,
            format!(
                "llamafactory {lf}, torch {}: garden-eden is tested with {LLAMAFACTORY_VERSION}",
                torch.as_deref().unwrap_or("missing")
            ),
        )
        .fix(format!(
            "pip install llamafactory=={LLAMAFACTORY_VERSION} torch==2.11.0 torchvision==0.26.0 \
             torchaudio==2.11.0 in that environment"
        )),
        (None, _) => Check::new(
            "llamafactory",
            "LLaMA-Factory",
            Status::Missing,
            format!("not installed in {}", python.display()),
        )
        .fix(SETUP),
    };
    vec![python_check, lf, llama_cpp_check(versions.llama_cpp_python.as_deref())]
}

fn llama_cpp_check(llama_cpp_python: Option<&str>) -> Check {
    let server_on_path = which("llama-server");
    match (llama_cpp_python, server_on_path) {
        (Some(v), _) => Check::new(
            "llama_cpp",
            "llama.cpp",
            Status::Ok,
            format!("llama-cpp-python {v} (OpenAI-compatible server: python -m llama_cpp.server)"),
        ),
        (None, Some(path)) => Check::new(
            "llama_cpp",
            "llama.cpp",
            Status::Ok,
            format!("llama-server at {}", path.display()),
        ),
        (None, None) => Check::new(
            "llama_cpp",
            "llama.cpp",
            Status::Missing,
            "neither llama-cpp-python nor llama-server found",
        )
        .fix(
            "pip install llama-cpp-python into the trainer's environment (it builds llama.cpp from \
             source, ~9 min), or put llama.cpp's llama-server on PATH",
        ),
    }
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[derive(Debug, Deserialize)]
struct OllamaVersion {
    version: String,
}

async fn check_ollama(base_url: &str) -> Check {
    let url = format!("{}/api/version", base_url.trim_end_matches('/'));
    let fix = format!(
        "install Ollama (ollama.com) and run `ollama serve`, or set OLLAMA_HOST / --ollama-url if it \
         runs elsewhere (now {base_url})"
    );
    let response = crate::http::client().get(&url).timeout(HTTP_TIMEOUT).send().await.and_then(|r| r.error_for_status());
    let version = match response {
        Ok(r) => r.json::<OllamaVersion>().await,
        Err(e) => {
            let why = if e.is_connect() {
                "nothing answers".to_owned()
            } else if e.is_timeout() {
                "no answer within 3 s".to_owned()
            } else {
                e.to_string()
            };
            return Check::new("ollama", "Ollama", Status::Missing, format!("{why} at {base_url}"))
                .fix(fix);
        }
    };
    match version {
        Ok(v) => {
            let refuses_adapters = parse_version(&v.version)
                .is_some_and(|parsed| parsed >= OLLAMA_NO_ADAPTER_SINCE);
            let how = if refuses_adapters {
                "adapters are deployed as merged models (this version refuses ADAPTER layers)"
            } else {
                "adapters are deployed as a GGUF adapter layer"
            };
            Check::new(
                "ollama",
                "Ollama",
                Status::Ok,
                format!("Ollama {} at {base_url}: {how}", v.version),
            )
        }
        Err(e) => Check::new(
            "ollama",
            "Ollama",
            Status::Warn,
            format!("{url} answered, but not like Ollama: {e}"),
        )
        .fix(fix),
    }
}

pub use crate::adapters::ollama::parse_version;

fn check_gpu(hardware: &crate::hardware::Hardware) -> Check {
    use crate::hardware::GpuKind;
    const CPU_NOTE: &str = "training runs on the CPU: fine for the tiny demo model, far too slow for \
                            Qwen 2.5 7B/14B";
    match hardware.kind {
        GpuKind::None => {
            let why = hardware.note.clone().unwrap_or_else(|| "no GPU found".to_owned());
            Check::new("gpu", "GPU", Status::Warn, format!("{why}: {CPU_NOTE}"))
                .fix("on a machine with an NVIDIA GPU, install its driver so that nvidia-smi works (AMD: rocm-smi)")
        }
        GpuKind::Amd => Check::new("gpu", "GPU", Status::Warn, hardware.summary()).fix(
            "AMD GPUs train with a ROCm build of torch in the trainer's environment (garden-eden installs the CUDA one); \
             4-bit QLoRA needs bitsandbytes' ROCm support",
        ),
        GpuKind::Nvidia => Check::new("gpu", "GPU", Status::Ok, hardware.summary()),
        // The summary carries the Metal budget's note: how much of the unified memory the estimate
        // plans for, and the sysctl that raises it.
        GpuKind::Apple => Check::new("gpu", "GPU", Status::Ok, hardware.summary()),
    }
}

/// bitsandbytes and DeepSpeed: needed only for QLoRA and ZeRO, so missing is a warning on a GPU
/// machine and fine without one.
fn check_extras(hardware: &crate::hardware::Hardware, extras: &[crate::train::extras::ExtraStatus]) -> Check {
    let detail = extras
        .iter()
        .map(|e| match &e.installed {
            Some(v) => format!("{} {v}", e.package),
            None => format!("{} not installed ({})", e.package, e.purpose),
        })
        .collect::<Vec<_>>()
        .join("; ");
    // They matter on an NVIDIA GPU.
    let relevant = |_: &crate::train::extras::Extra| hardware.kind == crate::hardware::GpuKind::Nvidia;
    let missing: Vec<&str> = extras.iter().filter(|e| e.installed.is_none() && relevant(&e.extra)).map(|e| e.package.as_str()).collect();
    if missing.is_empty() {
        Check::new("extras", "GPU extras", Status::Ok, detail)
    } else {
        Check::new("extras", "GPU extras", Status::Warn, detail).fix(format!("garden-eden extras install {}", missing.join(" ")))
    }
}

/// Runs a fixed probe command (never through a shell) with a timeout; stdout on success.
async fn run_probe(command: &mut Command) -> Result<String, String> {
    let program = command.as_std().get_program().to_string_lossy().into_owned();
    command.stdin(std::process::Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(PROBE_TIMEOUT, command.output()).await {
        Err(_) => Err(format!("{program} did not finish within {}s", PROBE_TIMEOUT.as_secs())),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("{program} not found")),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            Err(format!("{program} failed ({}): {last}", out.status))
        }
    }
}

/// `1.5 GiB`
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn health_from_another_site_runs_nothing_and_counts_conversations() {
        let dir = tempfile::tempdir().unwrap();
        let studio = Studio::open(crate::Settings::new(dir.path().join("data"))).unwrap();
        crate::import::import_sample(studio.db()).unwrap();
        let health = health(&studio, false, true).await.unwrap();
        assert_eq!(health.checks.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), CHECK_KEYS);
        assert!(health.checks.iter().all(|c| c.status == Status::Warn && c.detail.contains("opened from another site")));
        assert!(health.conversations > 0);
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("0.34.1"), Some((0, 34, 1)));
        assert_eq!(parse_version("v0.5.7"), Some((0, 5, 7)));
        assert_eq!(parse_version("0.6.0-rc1"), Some((0, 6, 0)));
        assert_eq!(parse_version("1.2"), Some((1, 2, 0)));
        assert_eq!(parse_version("banana"), None);
        assert!(parse_version("0.34.0").unwrap() < OLLAMA_NO_ADAPTER_SINCE);
        assert!(parse_version("0.34.1").unwrap() >= OLLAMA_NO_ADAPTER_SINCE);
        assert!(parse_version("0.40.0").unwrap() >= OLLAMA_NO_ADAPTER_SINCE);
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * GIB), "3.0 GiB");
    }

    #[tokio::test]
    async fn a_missing_python_is_reported_with_a_fix() {
        let checks = check_python(Path::new("/nonexistent/venv/bin/python")).await;
        let keys: Vec<&str> = checks.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["python", "llamafactory", "llama_cpp"]);
        assert_eq!(checks[0].status, Status::Missing);
        assert!(checks[0].fix.as_deref().unwrap().contains("GARDEN_EDEN_PYTHON"));
    }

    #[tokio::test]
    async fn a_python_without_llamafactory_is_missing_it() {
        // The machine's own python3 is enough to run the probe.
        let Some(python) = which("python3") else { return };
        let checks = check_python(&python).await;
        assert_eq!(checks[0].status, Status::Ok, "{:?}", checks[0]);
        assert!(checks[0].detail.starts_with("Python 3"), "{:?}", checks[0]);
    }

    #[tokio::test]
    async fn ollama_down_is_missing() {
        // Port 9 (discard) on loopback: nothing listens there.
        let check = check_ollama("http://127.0.0.1:9").await;
        assert_eq!(check.status, Status::Missing);
        assert!(check.detail.contains("nothing answers"), "{}", check.detail);
        assert!(check.fix.unwrap().contains("ollama serve"));
    }

    #[test]
    fn apple_silicon_is_ok_and_says_how_much_memory_metal_gets() {
        let hardware = crate::hardware::apple_silicon(Some("Apple M3 Max"), 64 * GIB, None, None);
        let check = check_gpu(&hardware);
        assert_eq!(check.status, Status::Ok);
        assert_eq!(check.fix, None);
        assert!(check.detail.starts_with("Apple M3 Max, 48.0 GiB GPU budget"), "{}", check.detail);
        assert!(check.detail.contains("75% of 64.0 GiB unified memory") && check.detail.contains("iogpu.wired_limit_mb"), "{}", check.detail);
    }
}
