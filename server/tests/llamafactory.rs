//! The real LLaMA-Factory reads what garden-eden exports: an Alpaca and a ShareGPT dataset (with
//! their validation splits) are loaded through the written dataset_info.json and trained on the
//! tiny demo model for a few steps.
//!
//! Needs the trainer's Python environment (`./scripts/test` sets it up and sets
//! GARDEN_EDEN_REQUIRE_TRAINER=1, which turns a missing environment into a failure).

use std::path::{Path, PathBuf};
use std::process::Command;

fn trainer_python() -> Option<PathBuf> {
    let python = std::env::var_os("GARDEN_EDEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| garden_core::Settings::new(garden_core::Settings::default_data_dir()).python_path());
    if python.exists() {
        return Some(python);
    }
    assert!(
        !garden_core::train::trainer_required(),
        "the trainer's Python environment is missing at {}",
        python.display()
    );
    eprintln!("SKIPPED: no trainer Python environment at {} (run ./scripts/test)", python.display());
    None
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?} failed:\n{}", tail(&text, 4000));
    text
}

fn tail(s: &str, n: usize) -> &str {
    &s[s.len().saturating_sub(n)..]
}

fn garden_eden(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_garden-eden"));
    c.arg("--data-dir").arg(data).env("GARDEN_EDEN_LOG", "warn");
    c
}

#[test]
fn llamafactory_trains_on_exported_alpaca_and_sharegpt() {
    let Some(python) = trainer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run(garden_eden(&data).args(["import", "--sample"]));
    let datasets = dir.path().join("datasets");
    for format in ["alpaca", "sharegpt"] {
        let out = datasets.join(format!("ge_{format}.json"));
        run(garden_eden(&data).args(["export-training-data", "--format", format, "--validation-ratio", "0.2", "--output"]).arg(&out));
    }
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(datasets.join("dataset_info.json")).unwrap()).unwrap();
    for key in ["ge_alpaca", "ge_alpaca_val", "ge_sharegpt", "ge_sharegpt_val"] {
        assert!(info.get(key).is_some(), "dataset_info.json lacks {key}: {info}");
    }

    let model = dir.path().join("tiny-model");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/make_tiny_model.py");
    run(Command::new(&python).arg(&script).arg(&model).env("HF_HUB_OFFLINE", "1"));
    let cli = python.with_file_name("llamafactory-cli");

    for format in ["alpaca", "sharegpt"] {
        let out = dir.path().join(format!("run-{format}"));
        let config = dir.path().join(format!("{format}.yaml"));
        std::fs::write(
            &config,
            format!(
                "model_name_or_path: {model}\nstage: sft\ndo_train: true\nfinetuning_type: lora\n\
                 lora_target: all\nlora_rank: 4\ndataset: ge_{format}\neval_dataset: ge_{format}_val\n\
                 dataset_dir: {datasets}\ntemplate: qwen\ncutoff_len: 256\noverwrite_cache: true\n\
                 preprocessing_num_workers: 1\noutput_dir: {out}\nlogging_steps: 1\nsave_steps: 1000\n\
                 overwrite_output_dir: true\nper_device_train_batch_size: 4\nper_device_eval_batch_size: 4\n\
                 eval_strategy: steps\neval_steps: 2\nlearning_rate: 1.0e-3\nnum_train_epochs: 1\n\
                 max_steps: 3\nreport_to: none\n",
                model = model.display(),
                datasets = datasets.display(),
                out = out.display()
            ),
        )
        .unwrap();
        run(Command::new(&cli).arg("train").arg(&config).env("HF_HUB_OFFLINE", "1").env("DISABLE_VERSION_CHECK", "1"));
        assert!(out.join("adapter_model.safetensors").exists(), "{format}: no adapter written");
        let log = std::fs::read_to_string(out.join("trainer_log.jsonl")).unwrap();
        let points: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(points.iter().any(|p| p["loss"].is_number()), "{format}: no training loss in {log}");
        assert!(points.iter().any(|p| p["eval_loss"].is_number()), "{format}: the validation split was not evaluated: {log}");
    }
}
