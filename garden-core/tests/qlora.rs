//! QLoRA on the CPU, end to end: garden-eden's supervisor runs the real LLaMA-Factory on the tiny
//! demo model with `quantization_bit: 4` (bitsandbytes' CPU backend loads the base in NF4), the
//! run's adapter is registered, and garden-eden's merge of that adapter into the *unquantized*
//! base is checked against PEFT's `merge_and_unload` on the same full-precision base (weights
//! within 1e-6, logits within 1e-4), through `python/reference/peft_merge.py` and
//! `compare_models.py`.
//!
//! Needs the trainer's environment with bitsandbytes (`pip install bitsandbytes==0.50.2`). A
//! missing one is a failure, not a skip, when GARDEN_EDEN_REQUIRE_TRAINER=1 or CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use garden_core::adapters::convert;
use garden_core::adapters::peft::{BaseModel, PeftAdapter};
use garden_core::export::Format;
use garden_core::train::runs::{self, RunStatus};
use garden_core::train::supervisor::NewRun;
use garden_core::train::{Supervisor, TrainConfig};
use garden_core::Studio;
use serde_json::Value;

mod common;
use common::{make_tiny_model as tiny_model, reference_script as script, run_reference as run_script};

/// The trainer's Python, when it has LLaMA-Factory and bitsandbytes.
fn python() -> Option<PathBuf> {
    common::python_with(&["llamafactory", "bitsandbytes"], " (install: <that python> -m pip install bitsandbytes==0.50.2)")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A studio with the sample history exported as an Alpaca dataset.
fn studio_with_dataset(python: &Path, dir: &Path, model: &Path) -> (Studio, TrainConfig, String) {
    let (studio, ds) = common::studio_with_sample(dir, python, Format::Alpaca, |_| {});
    let mut config = TrainConfig::tiny_demo(model.to_string_lossy());
    config.dataset = ds.name.clone();
    config.dataset_dir = Path::new(&ds.path).parent().unwrap().to_owned();
    (studio, config, ds.id)
}

async fn wait_finished(studio: &Studio, id: &str, limit: Duration) -> runs::Run {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let id2 = id.to_owned();
        let run = studio.db().call(move |c| runs::get(c, &id2)).await.unwrap();
        if run.status.is_finished() {
            return run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out; run is {:?}:\n{}",
            run.status,
            tail(&run.log_path)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tail(path: &str) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let start = log.char_indices().rev().nth(4000).map_or(0, |(i, _)| i);
    log[start..].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4bit_run_on_the_cpu_gives_a_lora_that_merges_into_the_full_precision_base_like_peft() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let base = tiny_model(&py, dir.path());
    let (studio, mut config, dataset_id) = studio_with_dataset(&py, dir.path(), &base);
    config.quantization_bit = Some(4);
    config.max_steps = Some(10);
    // No evaluation during the run: from bitsandbytes 0.49 on, an eval pass on a CPU with
    // AVX512-BF16 repacks every Linear4bit weight into an inference-only layout (one way), and
    // the next training step fails in matmul_4bit (`result += bias`: "a view of a leaf Variable
    // that requires grad is being used in an in-place operation"). 0.48.2 trains through it.
    config.val_size = 0.0;

    // Train through garden-eden's own YAML and supervisor.
    let env = vec![("HF_HUB_OFFLINE".to_owned(), "1".to_owned())];
    let supervisor = Supervisor::start_with(studio.clone(), env, Duration::from_secs(30))
        .await
        .unwrap();
    let run = supervisor
        .submit(NewRun {
            name: "qlora".into(),
            dataset_id: Some(dataset_id),
            config,
        })
        .await
        .unwrap();
    assert!(
        run.yaml.contains("\nquantization_bit: 4\n") && !run.yaml.contains("eval_strategy"),
        "{}",
        run.yaml
    );
    let run = wait_finished(&studio, &run.id, Duration::from_secs(300)).await;
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{:?}\n{}",
        run.error,
        tail(&run.log_path)
    );
    let log = std::fs::read_to_string(&run.log_path).unwrap();
    assert!(
        log.contains("Quantizing model to 4 bit with bitsandbytes"),
        "the base was not loaded in 4 bits:\n{}",
        tail(&run.log_path)
    );
    assert_eq!(run.total_steps, Some(10));
    assert!(run.final_loss.is_some_and(f64::is_finite), "{run:?}");

    // The adapter is a plain PEFT LoRA: nothing about the quantisation is in it.
    let out = PathBuf::from(&run.output_dir);
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["peft_type"], "LORA", "{cfg}");
    assert_eq!(cfg["r"], 8, "{cfg}");
    assert_eq!(cfg["lora_alpha"], 16, "{cfg}");
    assert_eq!(cfg["task_type"], "CAUSAL_LM", "{cfg}");
    assert_eq!(
        cfg["base_model_name_or_path"].as_str(),
        Some(s(&base)),
        "{cfg}"
    );
    for flag in ["use_dora", "use_rslora", "fan_in_fan_out"] {
        assert_eq!(cfg[flag], false, "{flag}: {cfg}");
    }
    assert!(!out.join("adapter_model.bin").exists());
    let adapter = PeftAdapter::open(&out).unwrap();
    assert_eq!(adapter.pairs.len(), 14, "7 modules × 2 layers");
    assert_eq!(adapter.dtype.as_ref().map(|d| d.as_str()), Some("F32"));
    let base_model = BaseModel::open(&base).unwrap();
    for p in &adapter.pairs {
        let (_, w) = base_model
            .find(&p.base_weight())
            .unwrap_or_else(|| panic!("{} not in the base", p.base_weight()));
        assert_eq!(
            p.a.shape,
            [8, w.shape[1]],
            "{}: lora_A is [r, in]",
            p.module
        );
        assert_eq!(
            p.b.shape,
            [w.shape[0], 8],
            "{}: lora_B is [out, r]",
            p.module
        );
        assert!(
            (p.scale - 2.0).abs() < 1e-12,
            "{}: scale {}",
            p.module,
            p.scale
        );
    }

    // The registry takes it as it is.
    let registered = studio
        .db()
        .with_conn(|c| garden_core::adapters::register_run(c, run.new_adapter()?))
        .unwrap();
    assert_eq!(
        (
            registered.rank,
            registered.alpha,
            registered.format.as_str()
        ),
        (8, 16.0, "safetensors")
    );
    assert_eq!(
        registered.target_modules,
        [
            "down_proj",
            "gate_proj",
            "k_proj",
            "o_proj",
            "q_proj",
            "up_proj",
            "v_proj"
        ]
    );
    assert_eq!(registered.base_model, s(&base));
    assert_eq!(registered.base_path.as_deref(), Some(s(&base)));
    assert_eq!(registered.run_id.as_deref(), Some(run.id.as_str()));
    assert!(registered.metrics.training_loss.is_some());

    // garden-eden's merge into the full-precision base equals PEFT's merge_and_unload there.
    let ours = dir.path().join("ours");
    let report = convert::merge(&adapter, &base_model, &ours).unwrap();
    assert_eq!(report.merged, 14);
    let reference = dir.path().join("peft");
    run_script(
        &py,
        "peft_merge.py",
        &[
            "--base",
            s(&base),
            "--adapter",
            s(&out),
            "--out",
            s(&reference),
        ],
    );
    let cmp = run_script(
        &py,
        "compare_models.py",
        &[s(&ours), s(&reference), "--atol", "1e-6"],
    );
    eprintln!("garden-eden merge vs PEFT merge_and_unload: {cmp}");
    assert_eq!(cmp["ok"], true, "{cmp}");
    assert!(cmp["max_abs_diff"].as_f64().unwrap() <= 1e-6, "{cmp}");
    assert!(cmp["logits_max_abs_diff"].as_f64().unwrap() < 1e-4, "{cmp}");
    // And the trained adapter did change the model.
    let differs = Command::new(&py)
        .arg(script("compare_models.py"))
        .args([s(&ours), s(&base), "--no-logits"])
        .output()
        .unwrap();
    assert!(
        !differs.status.success(),
        "the merged model should differ from its base"
    );
}
