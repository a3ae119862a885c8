//! mlx-lm LoRA adapters as first-class adapters, checked against mlx-lm itself on the tiny Qwen2
//! (made locally, no download):
//! - a LoRA trained by the real `mlx_lm lora` (CPU) registers through garden-core's `register`
//!   (format `mlx`, rank, scale, targets);
//! - garden-eden's merge matches `mlx_lm fuse`, weight by weight;
//! - garden-eden's GGUF LoRA, loaded by the real llama.cpp (llama-cpp-python) over the base
//!   converted by llama.cpp's own converter, gives the logits of MLX's own forward pass with the
//!   adapter loaded (`python/reference/mlx_logits.py`).
//!
//! Two Pythons. mlx-lm 0.32.2 needs transformers ≥ 5.7 while the trainer's environment pins 5.6
//! (LLaMA-Factory 0.9.5), so mlx-lm lives in its own environment: `GARDEN_EDEN_MLX_PYTHON`, else
//! `Settings::mlx_python_path` (`<data dir>/mlx-venv`), else the trainer's Python if it has
//! mlx-lm. The trainer's Python (`GARDEN_EDEN_PYTHON`, else the garden-eden venv) makes the tiny
//! model and runs llama.cpp. Either missing skips the tests, or fails them when `CI=true` or
//! `GARDEN_EDEN_REQUIRE_TRAINER=1`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use garden_core::adapters::convert;
use garden_core::adapters::gguf::GgmlType;
use garden_core::adapters::peft::{BaseModel, PeftAdapter};
use garden_core::adapters::{self, NewAdapter, WeightsFormat};
use garden_core::{migrate, Settings};
use serde_json::{json, Value};

/// The trainer's Python (llama-cpp-python, torch) and mlx-lm's.
struct Pythons {
    trainer: PathBuf,
    mlx: PathBuf,
}

/// The tiny model and an adapter mlx-lm trained on it.
struct Trained {
    _dir: tempfile::TempDir,
    tiny: PathBuf,
    adapter: PathBuf,
    py: Pythons,
}

static TRAINED: OnceLock<Option<Trained>> = OnceLock::new();

const ITERS: &str = "20";
/// mlx-lm's default 1e-5 barely moves a LoRA in 20 steps; 2e-3 changes merged weights by up to
/// ~3 (scale 20) and the logits by ~1, far above rounding, while keeping the weights in a range
/// where an absolute 1e-5 against mlx_lm fuse is a real f32 check (1e-2 gave changes of ~30).
const LEARNING_RATE: &str = "2e-3";

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true") || std::env::var("GARDEN_EDEN_REQUIRE_TRAINER").as_deref() == Ok("1")
}

fn imports(python: &Path, modules: &str) -> bool {
    python.exists() && Command::new(python).args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success())
}

fn pythons() -> Option<Pythons> {
    let trainer = std::env::var_os("GARDEN_EDEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Settings::new(Settings::default_data_dir()).python_path());
    let mut candidates: Vec<PathBuf> = std::env::var_os("GARDEN_EDEN_MLX_PYTHON").map(PathBuf::from).into_iter().collect();
    candidates.push(Settings::new(Settings::default_data_dir()).mlx_python_path());
    candidates.push(trainer.clone());
    let mlx = candidates.iter().find(|p| imports(p, "mlx.core, mlx_lm")).cloned();
    let missing = match (imports(&trainer, "llama_cpp"), &mlx) {
        (true, Some(_)) => None,
        (false, _) => Some(format!("no Python environment with llama-cpp-python at {}", trainer.display())),
        (true, None) => Some(format!(
            "no Python with mlx and mlx-lm (pip install \"mlx[cpu]==0.32.4\" mlx-lm==0.32.2); tried {}",
            candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )),
    };
    if let Some(why) = missing {
        assert!(!required(), "{why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    Some(Pythons { trainer, mlx: mlx.expect("found") })
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/reference").join(name)
}

/// Runs a command to success; returns its stdout.
fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.env("HF_HUB_OFFLINE", "1").output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

fn last_json(stdout: &str, what: &str) -> Value {
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"))
}

/// A few chat conversations in mlx-lm's `{"messages": […]}` form.
fn write_data(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let topics = ["garden", "river", "apple", "moon", "tea", "book", "rain", "bread"];
    let line = |i: usize| {
        let t = topics[i % topics.len()];
        json!({"messages": [
            {"role": "user", "content": format!("Tell me about the {t}, number {i}.")},
            {"role": "assistant", "content": format!("The {t} is lovely and calm; I like the {t} very much.")},
        ]})
        .to_string()
    };
    let lines = |r: std::ops::Range<usize>| r.map(line).collect::<Vec<_>>().join("\n") + "\n";
    std::fs::write(dir.join("train.jsonl"), lines(0..20)).unwrap();
    std::fs::write(dir.join("valid.jsonl"), lines(20..24)).unwrap();
}

fn trained() -> Option<&'static Trained> {
    TRAINED
        .get_or_init(|| {
            let py = pythons()?;
            let t0 = Instant::now();
            let dir = tempfile::tempdir().unwrap();
            let tiny = dir.path().join("tiny");
            let maker = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/make_tiny_model.py");
            run_ok(Command::new(&py.trainer).arg(maker).arg(&tiny), "make_tiny_model.py");
            // transformers 5 writes rope_theta only inside rope_parameters; mlx-lm 0.32.2's qwen2
            // reads the top-level key and otherwise assumes 1e6, so MLX would run (and train) a
            // different RoPE than transformers and llama.cpp (both 1e4 here). Say it at the top
            // level too, as Qwen2 configs on the Hub do.
            let config_path = tiny.join("config.json");
            let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
            if config.get("rope_theta").is_none() {
                let theta = config["rope_parameters"]["rope_theta"].clone();
                assert!(theta.is_number(), "the tiny model's config has no rope_theta: {config}");
                config["rope_theta"] = theta;
                std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
            }
            let data = dir.path().join("data");
            write_data(&data);
            let adapter = dir.path().join("mlx-adapter");
            run_ok(
                Command::new(&py.mlx).args(["-m", "mlx_lm", "lora", "--model", s(&tiny), "--train", "--data", s(&data)]).args([
                    "--iters",
                    ITERS,
                    "--batch-size",
                    "2",
                    "--num-layers",
                    "2",
                    "--learning-rate",
                    LEARNING_RATE,
                    "--steps-per-eval",
                    ITERS,
                    "--val-batches",
                    "1",
                    "--seed",
                    "0",
                    "--adapter-path",
                    s(&adapter),
                ]),
                "mlx_lm lora",
            );
            assert!(adapter.join("adapters.safetensors").is_file(), "mlx_lm lora wrote no adapters.safetensors");
            eprintln!("tiny model + mlx_lm lora ({ITERS} iterations): {:.1} s", t0.elapsed().as_secs_f64());
            Some(Trained { _dir: dir, tiny, adapter, py })
        })
        .as_ref()
}

fn mlx_scale(adapter: &Path) -> f64 {
    let config: Value = serde_json::from_slice(&std::fs::read(adapter.join("adapter_config.json")).unwrap()).unwrap();
    config["lora_parameters"]["scale"].as_f64().expect("mlx-lm writes lora_parameters.scale")
}

const ALL: [&str; 7] = ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"];

#[test]
fn registers_an_mlx_lm_adapter_with_its_rank_scale_and_targets() {
    let Some(t) = trained() else { return };
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    migrate::apply(&mut conn, Path::new(":memory:")).unwrap();
    let a = adapters::register(&mut conn, NewAdapter { name: "mlx-tiny".into(), path: t.adapter.clone(), ..NewAdapter::default() }).unwrap();
    assert_eq!(a.format, "mlx");
    assert_eq!(a.format, WeightsFormat::Mlx.as_str());
    assert_eq!(a.rank, 8, "mlx-lm's default rank");
    let scale = mlx_scale(&t.adapter);
    assert_eq!(a.alpha / a.rank as f64, scale, "alpha / rank is mlx-lm's scale ({scale})");
    assert_eq!(a.target_modules, ALL, "mlx-lm adapts every linear layer of the blocks by default");
    assert_eq!(a.base_model, t.tiny.display().to_string(), "the base is the config's model");
    assert_eq!(a.base_path.as_deref(), Some(s(&t.tiny)));
    assert_eq!(a.checksum.len(), 64);

    let files = adapters::open_files(&a).unwrap();
    assert_eq!(files.format, WeightsFormat::Mlx);
    assert_eq!(files.pairs.len(), 14, "7 modules × 2 layers");
    for p in &files.pairs {
        assert!(p.transposed && p.rank == 8 && p.scale == scale, "{p:?}");
        assert_eq!(p.a.shape[0], 8, "A is presented as [r, in]");
        assert_eq!(p.b.shape[1], 8, "B is presented as [out, r]");
    }
}

/// Every tensor of a model folder, as f32.
fn tensors(dir: &Path) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let model = BaseModel::open(dir).unwrap();
    let mut out = BTreeMap::new();
    for f in &model.files {
        for t in &f.tensors {
            out.insert(t.name.clone(), (t.shape.clone(), f.read_f32(t).unwrap()));
        }
    }
    out
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn merge_matches_mlx_lm_fuse_weight_by_weight() {
    let Some(t) = trained() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours");
    let t0 = Instant::now();
    let report = convert::merge(&PeftAdapter::open(&t.adapter).unwrap(), &BaseModel::open(&t.tiny).unwrap(), &ours).unwrap();
    assert_eq!(report.merged, 14);
    let fused = dir.path().join("fused");
    run_ok(
        Command::new(&t.py.mlx).args(["-m", "mlx_lm", "fuse", "--model", s(&t.tiny), "--adapter-path", s(&t.adapter), "--save-path", s(&fused)]),
        "mlx_lm fuse",
    );
    let (ours, theirs, base) = (tensors(&ours), tensors(&fused), tensors(&t.tiny));
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "the same tensors as mlx_lm fuse");
    let (mut worst, mut worst_name, mut moved) = (0.0f32, String::new(), 0.0f32);
    for (name, (shape, values)) in &ours {
        let (their_shape, their_values) = &theirs[name];
        assert_eq!(shape, their_shape, "{name}");
        let d = max_diff(values, their_values);
        if d > worst {
            (worst, worst_name) = (d, name.clone());
        }
        moved = moved.max(max_diff(values, &base[name].1));
    }
    eprintln!("merge vs mlx_lm fuse: {} tensors, max |diff| {worst:e} ({worst_name}); largest change from the base {moved}; {:.1} s", ours.len(), t0.elapsed().as_secs_f64());
    assert!(worst <= 1e-5, "merge differs from mlx_lm fuse by {worst} at {worst_name}");
    assert!(moved > 1e-2, "the adapter should move the weights (largest change {moved})");
}

/// llama.cpp's logits (base, base + LoRA) for `ids`, through llama_lora_logits.py's child mode
/// (one retry: llama-cpp-python can crash, rarely).
fn llama_logits(py: &Path, base_gguf: &Path, lora_gguf: &Path, ids: &[u32], work: &Path) -> Value {
    let npz = work.join("llama-logits.npz");
    let ids = serde_json::to_string(ids).unwrap();
    let mut last = None;
    for _ in 0..2 {
        let _ = std::fs::remove_file(&npz);
        let out = Command::new(py)
            .arg(script("llama_lora_logits.py"))
            .args(["--llama-child", s(base_gguf), s(lora_gguf), &ids, s(&npz)])
            .output()
            .unwrap();
        if out.status.success() && npz.is_file() {
            let dump = "import json, sys, numpy as np\nz = np.load(sys.argv[1])\nprint(json.dumps({k: z[k].tolist() for k in z.files}))";
            return last_json(&run_ok(Command::new(py).args(["-c", dump, s(&npz)]), "reading llama.cpp logits"), "llama.cpp logits");
        }
        let crashed = out.status.code().is_none();
        last = Some(out);
        if !crashed {
            break;
        }
    }
    let out = last.expect("ran");
    panic!("llama.cpp child failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

fn matrix(v: &Value) -> Vec<f32> {
    v.as_array().expect("rows").iter().flat_map(|row| row.as_array().expect("row").iter().map(|x| x.as_f64().expect("number") as f32)).collect()
}

#[test]
fn llama_cpp_with_the_gguf_lora_matches_mlx_with_the_adapter() {
    let Some(t) = trained() else { return };
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let lora = dir.path().join("mlx-lora.gguf");
    let report = convert::to_gguf(&PeftAdapter::open(&t.adapter).unwrap(), &BaseModel::open(&t.tiny).unwrap(), &lora, GgmlType::F32).unwrap();
    assert_eq!((report.tensors, report.rank), (28, 8));
    assert_eq!(report.alpha / report.rank as f64, mlx_scale(&t.adapter), "llama.cpp's alpha / r is mlx-lm's scale");
    // The base, converted the way conversion.rs and llama_lora_logits.py do (llama.cpp's
    // converter, f32, the tiny tokenizer's pre-tokenizer named qwen2).
    let base = dir.path().join("base-f32.gguf");
    run_ok(Command::new(&t.py.trainer).arg(script("convert_hf_gguf.py")).args([s(&t.tiny), s(&base)]), "convert_hf_gguf.py");

    let mlx = last_json(
        &run_ok(Command::new(&t.py.mlx).arg(script("mlx_logits.py")).args(["--model", s(&t.tiny), "--adapter", s(&t.adapter)]), "mlx_logits.py"),
        "mlx_logits.py",
    );
    let ids: Vec<u32> = serde_json::from_value(mlx["ids"].clone()).unwrap();
    let cpp = llama_logits(&t.py.trainer, &base, &lora, &ids, dir.path());
    let (mlx_base, mlx_lora) = (matrix(&mlx["base_logits"]), matrix(&mlx["adapter_logits"]));
    let (cpp_base, cpp_lora) = (matrix(&cpp["base"]), matrix(&cpp["lora"]));
    let base_err = max_diff(&cpp_base, &mlx_base);
    let lora_err = max_diff(&cpp_lora, &mlx_lora);
    let effect = max_diff(&mlx_lora, &mlx_base);
    let peak = mlx_lora.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    eprintln!(
        "{} tokens × {} logits: llama.cpp vs MLX base {base_err:e}, with the adapter {lora_err:e}; the adapter's effect {effect} (max |logit| {peak}); {:.1} s",
        ids.len(),
        mlx_base.len() / ids.len(),
        t0.elapsed().as_secs_f64()
    );
    // f32 everywhere (weights, LoRA, llama.cpp's KV cache): what remains is summation order in
    // two different matmul/attention kernels, ~1e-7 relative per operation over a few thousand
    // operations on logits of order 1; the same bound conversion.rs holds llama.cpp to against
    // PEFT.
    assert!(base_err <= 1e-4, "the bases differ already ({base_err}): llama.cpp and MLX do not run the same model");
    assert!(lora_err <= 1e-4, "llama.cpp with garden-eden's GGUF LoRA differs from MLX with the adapter by {lora_err}");
    assert!(effect > 100.0 * lora_err.max(base_err), "the adapter's effect {effect} should dwarf the error {lora_err}");
}
