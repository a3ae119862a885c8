//! MLX as a running backend: the run's settings as the config `python/mlx_train.py` reads, the
//! exported dataset rewritten as the chat JSONL mlx-lm trains on, and whether MLX runs here.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::TrainConfig;
use crate::error::{Error, Result};
use crate::export::Format;

/// The runner, run with the trainer's Python (it writes LLaMA-Factory's trainer_log.jsonl).
pub const RUNNER: &str = include_str!("../../../python/mlx_train.py");
/// The file the run's MLX settings are written to, in the run's folder.
pub const CONFIG_FILE: &str = "mlx.json";

/// What `python/mlx_train.py` reads (see its docstring).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlxConfig {
    pub model: String,
    /// Folder with train.jsonl and valid.jsonl.
    pub data: PathBuf,
    pub adapter_path: PathBuf,
    pub iters: u64,
    pub batch_size: u32,
    pub learning_rate: f64,
    /// `cosine`, `linear` or `constant`.
    pub lr_schedule: String,
    pub warmup_ratio: f64,
    /// Layers from the top that get LoRA; -1 = all.
    pub num_layers: i32,
    pub lora_parameters: LoraParameters,
    pub max_seq_length: u32,
    /// Train on the answers only.
    pub mask_prompt: bool,
    pub steps_per_report: u32,
    pub steps_per_eval: u32,
    pub val_batches: i64,
    pub save_every: u32,
    pub seed: u64,
    pub grad_checkpoint: bool,
    pub resume_adapter_file: Option<PathBuf>,
}

/// mlx-lm's LoRA settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraParameters {
    pub rank: u32,
    /// alpha / rank.
    pub scale: f64,
    pub dropout: f64,
    /// mlx-lm's module keys (`self_attn.q_proj`, `mlp.down_proj`, …).
    pub keys: Vec<String>,
}

/// mlx-lm's key (relative to a transformer block) for a module name.
pub fn mlx_key(name: &str) -> String {
    match name {
        "q_proj" | "k_proj" | "v_proj" | "o_proj" => format!("self_attn.{name}"),
        "gate_proj" | "up_proj" | "down_proj" => format!("mlp.{name}"),
        _ => name.to_owned(),
    }
}

fn targets(config: &TrainConfig) -> Vec<String> {
    if config.lora_target.trim() == "all" {
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"].map(mlx_key).to_vec()
    } else {
        config.lora_target.split(',').map(|m| mlx_key(m.trim())).filter(|k| !k.is_empty()).collect()
    }
}

/// Iterations: `max_steps`, else ⌈epochs × examples ÷ batch⌉ (mlx-lm counts iterations, and has no
/// gradient accumulation).
pub fn iterations(config: &TrainConfig, train_examples: u64) -> u64 {
    config.max_steps.unwrap_or_else(|| {
        ((config.num_train_epochs * train_examples as f64) / f64::from(config.per_device_train_batch_size.max(1))).ceil().max(1.0) as u64
    })
}

/// The run's settings for mlx-lm (`data` is where [`prepare_data`] wrote the JSONL files).
pub fn config_for(config: &TrainConfig, data: &Path, train_examples: u64, resume: Option<PathBuf>) -> MlxConfig {
    let iters = iterations(config, train_examples);
    MlxConfig {
        model: config.model_name_or_path.clone(),
        data: data.to_owned(),
        adapter_path: config.output_dir.clone(),
        iters,
        batch_size: config.per_device_train_batch_size,
        learning_rate: config.learning_rate,
        lr_schedule: match config.lr_scheduler_type.as_str() {
            s if s.starts_with("constant") => "constant".into(),
            "linear" | "polynomial" => "linear".into(),
            _ => "cosine".into(),
        },
        warmup_ratio: config.warmup_ratio,
        num_layers: -1,
        lora_parameters: LoraParameters {
            rank: config.lora_rank,
            scale: f64::from(config.lora_alpha) / f64::from(config.lora_rank.max(1)),
            dropout: config.lora_dropout,
            keys: targets(config),
        },
        max_seq_length: config.cutoff_len,
        mask_prompt: true,
        steps_per_report: config.logging_steps,
        steps_per_eval: config.eval_steps,
        val_batches: -1,
        save_every: config.save_steps,
        seed: config.seed,
        grad_checkpoint: true,
        resume_adapter_file: resume,
    }
}

/// What mlx-lm lacks compared with LLaMA-Factory, for these settings (shown in the review).
pub fn limitations(config: &TrainConfig) -> Vec<String> {
    let mut notes = vec![
        "mlx-lm counts iterations, not epochs: garden-eden converts the epochs with the dataset's size.".to_owned(),
    ];
    if config.gradient_accumulation_steps > 1 {
        notes.push(format!(
            "No gradient accumulation in mlx-lm: each iteration is one batch of {} (LLaMA-Factory's effective batch would be {}).",
            config.per_device_train_batch_size,
            config.per_device_train_batch_size * config.gradient_accumulation_steps
        ));
    }
    if config.quantization_bit.is_some() {
        notes.push(
            "No bitsandbytes on MLX: for QLoRA use an MLX 4-bit model (an mlx-community …-4bit repository, or `mlx_lm.convert -q`) as the base."
                .to_owned(),
        );
    }
    if config.deepspeed.is_some() {
        notes.push("No DeepSpeed on MLX: it trains on one Mac.".to_owned());
    }
    notes
}

/// One record of an export as chat messages (`None` for a record without an answer).
fn messages(record: &Value, format: Format) -> Option<Vec<Value>> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let msg = |role: &str, content: String| json!({"role": role, "content": content});
    let mut out = Vec::new();
    match format {
        Format::Openai | Format::Kto => {
            for m in record.get("messages")?.as_array()? {
                out.push(msg(m.get("role")?.as_str()?, s(m, "content")));
            }
        }
        Format::Sharegpt => {
            for m in record.get("conversations")?.as_array()? {
                let role = match m.get("from")?.as_str()? {
                    "system" => "system",
                    "human" | "user" => "user",
                    "gpt" | "assistant" => "assistant",
                    _ => return None,
                };
                out.push(msg(role, s(m, "value")));
            }
        }
        Format::Alpaca => {
            let system = s(record, "system");
            if !system.is_empty() {
                out.push(msg("system", system));
            }
            for pair in record.get("history").and_then(Value::as_array).into_iter().flatten() {
                let pair = pair.as_array()?;
                out.push(msg("user", pair.first()?.as_str()?.to_owned()));
                out.push(msg("assistant", pair.get(1)?.as_str()?.to_owned()));
            }
            let (instruction, input) = (s(record, "instruction"), s(record, "input"));
            let prompt = if input.is_empty() { instruction } else { format!("{instruction}\n\n{input}") };
            out.push(msg("user", prompt));
            out.push(msg("assistant", s(record, "output")));
        }
        Format::Jsonl => {
            let system = s(record, "system");
            if !system.is_empty() {
                out.push(msg("system", system));
            }
            out.push(msg("user", s(record, "user")));
            out.push(msg("assistant", s(record, "assistant")));
        }
        // Pairs train DPO with LLaMA-Factory only (a preference stage is refused for MLX).
        Format::Pairs => return None,
    }
    (out.last()?.get("role")?.as_str()? == "assistant").then_some(out)
}

/// The records of an exported file: a JSON array (alpaca, sharegpt) or JSON lines.
fn records(path: &Path) -> Result<Vec<Value>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("reading", path, e))?;
    let mut reader = BufReader::new(file);
    let first = reader.fill_buf().map_err(|e| Error::io("reading", path, e))?.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'[') {
        return serde_json::from_reader(reader).map_err(|e| Error::invalid("dataset", format!("{}: {e}", path.display())));
    }
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io("reading", path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| Error::invalid("dataset", format!("{} line {}: {e}", path.display(), n + 1)))?);
    }
    Ok(out)
}

fn write_jsonl(path: &Path, rows: &[Vec<Value>]) -> Result<()> {
    let mut buf = BufWriter::new(Vec::new());
    for messages in rows {
        serde_json::to_writer(&mut buf, &json!({ "messages": messages })).map_err(|e| Error::Task(e.to_string()))?;
        buf.write_all(b"\n").map_err(|e| Error::io("writing", path, e))?;
    }
    let bytes = buf.into_inner().map_err(|e| Error::Task(e.to_string()))?;
    crate::fsutil::write_atomically(path, &bytes)
}

/// Writes `out/train.jsonl` and `out/valid.jsonl` (chat messages) from an export and its
/// validation split; without one, the last tenth of the training data (at least one example) is
/// held out, since mlx-lm needs validation data. Returns (train, valid) counts.
pub fn prepare_data(train: &Path, valid: Option<&Path>, format: Format, out: &Path) -> Result<(u64, u64)> {
    let convert = |path: &Path| -> Result<Vec<Vec<Value>>> {
        let rows: Vec<Vec<Value>> = records(path)?.iter().filter_map(|r| messages(r, format)).collect();
        Ok(rows)
    };
    let mut train_rows = convert(train)?;
    if train_rows.is_empty() {
        return Err(Error::invalid("dataset", format!("{} has no example with an answer to train on", train.display())));
    }
    let valid_rows = match valid.filter(|v| v.exists()) {
        Some(v) => convert(v)?,
        None if train_rows.len() >= 2 => {
            let keep = train_rows.len() - (train_rows.len() / 10).max(1);
            train_rows.split_off(keep)
        }
        None => train_rows.clone(),
    };
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating", out, e))?;
    write_jsonl(&out.join("train.jsonl"), &train_rows)?;
    write_jsonl(&out.join("valid.jsonl"), &valid_rows)?;
    Ok((train_rows.len() as u64, valid_rows.len() as u64))
}

/// Why an MLX run cannot start here, and how to set MLX up.
pub fn not_available(python: &Path) -> String {
    format!(
        "MLX does not run here: {} cannot import mlx and mlx_lm. On a Mac with Apple silicon, ./scripts/start sets it up; \
         elsewhere make its own environment (mlx-lm needs a newer transformers than LLaMA-Factory): \
         python3 -m venv {env} && {env}/bin/pip install \"mlx[cpu]==0.32.4\" mlx-lm==0.32.2 (plain mlx==0.32.4 on a Mac), \
         or point GARDEN_EDEN_MLX_PYTHON at a Python that has them",
        python.display(),
        env = python.parent().and_then(Path::parent).map_or_else(|| "mlx-venv".into(), |p| p.display().to_string()),
    )
}

/// Whether MLX runs with this Python (`import mlx.core, mlx_lm`): on Apple silicon, or anywhere
/// `mlx[cpu]` is installed. A probe with a timeout; false when the Python does not run.
pub async fn available(python: &Path) -> bool {
    let mut command = tokio::process::Command::new(python);
    command
        .args(["-c", "import mlx.core, mlx_lm"])
        .env("PYTHONNOUSERSITE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    matches!(tokio::time::timeout(Duration::from_secs(30), command.status()).await, Ok(Ok(s)) if s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_export_format_becomes_chat_messages() {
        let alpaca = json!({"instruction": "Why?", "input": "", "output": "Because.", "system": "Be brief.", "history": [["Hi", "Hello"]]});
        let m = messages(&alpaca, Format::Alpaca).unwrap();
        let roles: Vec<&str> = m.iter().map(|x| x["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user", "assistant"]);
        assert_eq!(m[4]["content"], "Because.");
        let sharegpt = json!({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]});
        assert_eq!(messages(&sharegpt, Format::Sharegpt).unwrap()[1], json!({"role": "assistant", "content": "Hello"}));
        let jsonl = json!({"system": "", "user": "Hi", "assistant": "Hello", "satisfaction": 0.9});
        assert_eq!(messages(&jsonl, Format::Jsonl).unwrap().len(), 2);
        let unanswered = json!({"messages": [{"role": "user", "content": "Hi"}]});
        assert!(messages(&unanswered, Format::Openai).is_none());
    }

    #[test]
    fn data_is_written_with_a_validation_split() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("ge.json");
        let rows: Vec<Value> = (0..20).map(|i| json!({"instruction": format!("q{i}"), "input": "", "output": "a", "system": "", "history": []})).collect();
        std::fs::write(&train, serde_json::to_string(&rows).unwrap()).unwrap();
        let out = dir.path().join("mlx-data");
        assert_eq!(prepare_data(&train, None, Format::Alpaca, &out).unwrap(), (18, 2));
        let first: Value = serde_json::from_str(std::fs::read_to_string(out.join("train.jsonl")).unwrap().lines().next().unwrap()).unwrap();
        assert_eq!(first["messages"][0], json!({"role": "user", "content": "q0"}));
        let val = dir.path().join("ge_val.json");
        std::fs::write(&val, serde_json::to_string(&rows[..3]).unwrap()).unwrap();
        assert_eq!(prepare_data(&train, Some(&val), Format::Alpaca, &out).unwrap(), (20, 3));
    }

    #[test]
    fn settings_map_to_mlx() {
        let config = TrainConfig {
            output_dir: "/runs/r/output".into(),
            max_steps: None,
            num_train_epochs: 2.0,
            per_device_train_batch_size: 4,
            gradient_accumulation_steps: 4,
            lora_target: "q_proj,v_proj".into(),
            ..TrainConfig::default()
        };
        let m = config_for(&config, Path::new("/data"), 30, None);
        assert_eq!(m.iters, 15);
        assert_eq!(m.lora_parameters.scale, 2.0);
        assert_eq!(m.lora_parameters.keys, ["self_attn.q_proj", "self_attn.v_proj"]);
        assert_eq!(m.adapter_path, PathBuf::from("/runs/r/output"));
        assert!(limitations(&config).iter().any(|n| n.contains("gradient accumulation")));
    }
}
