//! garden-eden's native conversion and merge, checked against the Python references on the tiny
//! Qwen2 model (made locally, no download):
//! - the GGUF LoRA against llama.cpp's own `convert_lora_to_gguf.py`, tensor by tensor (exact);
//! - the merged model against PEFT's `merge_and_unload`, weight by weight and by logits;
//! - the GGUF LoRA loaded by the real llama.cpp (llama-cpp-python), whose logits must match
//!   PEFT's and differ clearly from the base's.
//!
//! The scripts are in `python/reference/`. Needs the trainer's environment with llama-cpp-python
//! (`./scripts/test` installs both and sets GARDEN_EDEN_REQUIRE_TRAINER=1, which turns a missing
//! environment into a failure).

use std::path::{Path, PathBuf};
use std::process::Command;

use garden_core::adapters::gguf::GgmlType;
use garden_core::adapters::peft::{BaseModel, PeftAdapter};
use garden_core::adapters::convert;

mod common;
use common::{reference_script as script, run_reference as run, tiny_model};

fn python() -> Option<PathBuf> {
    common::python_with(&["llama_cpp"], " (llama-cpp-python: ./scripts/test installs it)")
}

fn lora(python: &Path, base: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["--base", base.to_str().unwrap(), "--out", out.to_str().unwrap(), "--rank", "8", "--alpha", "16"];
    args.extend_from_slice(extra);
    run(python, "make_lora.py", &args);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn gguf_lora_matches_llama_cpps_converter_tensor_by_tensor() {
    let Some(py) = python() else { return };
    let base = tiny_model(&py);
    let dir = tempfile::tempdir().unwrap();
    for dtype in ["f32", "bf16"] {
        let ad = dir.path().join(format!("lora-{dtype}"));
        lora(&py, &base, &ad, &["--dtype", dtype]);
        let ours = dir.path().join(format!("ours-{dtype}.gguf"));
        let r = convert::to_gguf(&PeftAdapter::open(&ad).unwrap(), &BaseModel::open(&base).unwrap(), &ours, GgmlType::F32).unwrap();
        assert_eq!(r.tensors, 28);
        let reference = dir.path().join(format!("ref-{dtype}.gguf"));
        let src = std::env::var("GARDEN_EDEN_LLAMA_CPP_SRC").map(PathBuf::from).unwrap_or_else(|_| {
            dirs::cache_dir().unwrap().join("garden-eden/llama-cpp-python-0.3.36/vendor/llama.cpp")
        });
        let out = Command::new(&py)
            .arg(src.join("convert_lora_to_gguf.py"))
            .args(["--base", s(&base), "--outtype", "f32", "--outfile", s(&reference), s(&ad)])
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let cmp = run(&py, "compare_gguf.py", &[s(&ours), s(&reference)]);
        assert_eq!(cmp["ok"], true, "{cmp}");
        assert_eq!(cmp["tensors"], 28);
        assert_eq!(cmp["max_abs_diff"].as_f64(), Some(0.0), "{cmp}");
    }
}

#[test]
fn merge_matches_peft_merge_and_unload() {
    let Some(py) = python() else { return };
    let base = tiny_model(&py);
    let dir = tempfile::tempdir().unwrap();
    let ad = dir.path().join("lora");
    lora(&py, &base, &ad, &[]);
    let ours = dir.path().join("ours");
    let r = convert::merge(&PeftAdapter::open(&ad).unwrap(), &BaseModel::open(&base).unwrap(), &ours).unwrap();
    assert_eq!(r.merged, 14);
    let reference = dir.path().join("ref");
    run(&py, "peft_merge.py", &["--base", s(&base), "--adapter", s(&ad), "--out", s(&reference)]);
    let cmp = run(&py, "compare_models.py", &[s(&ours), s(&reference), "--atol", "1e-6"]);
    assert_eq!(cmp["ok"], true, "{cmp}");
    assert!(cmp["logits_max_abs_diff"].as_f64().unwrap() < 1e-4, "{cmp}");
    // And it did change the model.
    let differs = Command::new(&py).arg(script("compare_models.py")).args([s(&ours), s(&base), "--no-logits"]).output().unwrap();
    assert!(!differs.status.success(), "the merged model should differ from its base");
}

#[test]
fn llama_cpp_loads_the_converted_adapter_and_matches_peft() {
    let Some(py) = python() else { return };
    let base = tiny_model(&py);
    let dir = tempfile::tempdir().unwrap();
    // A plain LoRA, and an rsLoRA (scale alpha/√r), which llama.cpp's own converter gets wrong
    // and garden-eden folds into lora_b.
    for (name, extra) in [("plain", &[][..]), ("rslora", &["--rslora"][..])] {
        let ad = dir.path().join(name);
        lora(&py, &base, &ad, extra);
        let gguf = dir.path().join(format!("{name}.gguf"));
        convert::to_gguf(&PeftAdapter::open(&ad).unwrap(), &BaseModel::open(&base).unwrap(), &gguf, GgmlType::F32).unwrap();
        let r = run(
            &py,
            "llama_lora_logits.py",
            &["--base", s(&base), "--adapter", s(&ad), "--lora-gguf", s(&gguf), "--workdir", s(&dir.path().join("work")), "--tol", "1e-4"],
        );
        assert_eq!(r["ok"], true, "{name}: {r}");
        let err = r["lora_vs_peft_max_diff"].as_f64().unwrap();
        let effect = r["lora_effect"].as_f64().unwrap();
        assert!(effect > 100.0 * err, "{name}: the adapter's effect {effect} should dwarf the error {err}");
    }
}
