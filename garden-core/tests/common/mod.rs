//! What the core's integration tests that run Python share: finding the trainer's Python (a
//! missing one skips the test, or fails it under CI / GARDEN_EDEN_REQUIRE_TRAINER=1), making the
//! tiny demo model, and running the reference scripts.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use garden_core::Settings;

pub mod ray_head;

/// The trainer's Python when it can import every module in `modules` (`&[]`: when it exists).
/// `hint` says what to install.
pub fn python_with(modules: &[&str], hint: &str) -> Option<PathBuf> {
    let python = std::env::var_os("GARDEN_EDEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Settings::new(Settings::default_data_dir()).python_path());
    let check = format!(
        "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in {:?}))",
        modules
    );
    let ready = python.exists()
        && (modules.is_empty() || Command::new(&python).args(["-c", &check]).output().is_ok_and(|o| o.status.success()));
    if ready {
        return Some(python);
    }
    let why = format!("no trainer Python with {modules:?} at {}{hint}", python.display());
    assert!(!garden_core::train::trainer_required(), "{why} (CI / GARDEN_EDEN_REQUIRE_TRAINER=1 require it)");
    eprintln!("SKIPPED: {why}");
    None
}

/// The trainer's Python, whatever it has installed.
pub fn python() -> Option<PathBuf> {
    python_with(&[], "")
}

/// A studio in `dir/data` whose trainer is `python` (`configure` may set more), with the sample
/// history imported and exported as `format` ("sample", a fifth held out for validation).
pub fn studio_with_sample(
    dir: &Path,
    python: &Path,
    format: garden_core::export::Format,
    configure: impl FnOnce(&mut Settings),
) -> (garden_core::Studio, garden_core::export::Dataset) {
    use garden_core::export::{self, Curation, DataFilter, ExportRequest};
    let data_dir = dir.join("data");
    let mut settings = Settings::new(data_dir.clone());
    settings.python = Some(python.to_owned());
    configure(&mut settings);
    let studio = garden_core::Studio::open(settings).unwrap();
    garden_core::import::import_sample(studio.db()).unwrap();
    let request = ExportRequest {
        name: Some("sample".into()),
        format,
        filter: DataFilter::default(),
        curation: Curation { validation_ratio: 0.2, ..Curation::default() },
        output: None,
    };
    let ds = studio.db().with_conn(|c| export::export(c, &data_dir, &request, &mut |_, _| {})).unwrap();
    (studio, ds)
}

/// Makes the tiny demo Qwen2 at `dir/tiny` (`python/make_tiny_model.py`, offline).
pub fn make_tiny_model(python: &Path, dir: &Path) -> PathBuf {
    let model = dir.join("tiny");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/make_tiny_model.py");
    let out = Command::new(python).arg(script).arg(&model).env("HF_HUB_OFFLINE", "1").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    model
}

/// One tiny model for every test of the binary (made once).
pub fn tiny_model(python: &Path) -> PathBuf {
    static TINY: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    TINY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = make_tiny_model(python, dir.path());
        (dir, model)
    })
    .1
    .clone()
}

/// `python/reference/<name>`.
pub fn reference_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/reference").join(name)
}

/// Runs `python/reference/<name>`; returns its last stdout line as JSON.
pub fn run_reference(python: &Path, name: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(python).arg(reference_script(name)).args(args).env("HF_HUB_OFFLINE", "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{name} {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_else(|e| panic!("{name}: {e}: {stdout}"))
}
