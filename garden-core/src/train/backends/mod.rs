//! Config files and commands for other trainers (Axolotl, Unsloth, MLX), next to LLaMA-Factory's.
//!
//! garden-eden runs and charts only LLaMA-Factory ([`Backend::runs_here`]). For the others it
//! writes correct files from the same [`TrainConfig`] plus the command that runs them elsewhere;
//! the interface names them as such. Every value is written as a double-quoted string that YAML
//! and Python both read back exactly (json.dumps-style escaping, with control and line-separator
//! characters escaped too); commands are argument vectors, never shell strings.
//!
//! # What each backend gets
//! - **LLaMA-Factory**: `run.yaml` ([`TrainConfig::to_yaml`]) and `llamafactory-cli train
//!   run.yaml`; several GPUs or machines go through LLaMA-Factory's own launcher
//!   (`FORCE_TORCHRUN=1 … NPROC_PER_NODE=…`) and DeepSpeed ZeRO through the config's
//!   `deepspeed`: garden-eden passes these through and has no launcher of its own.
//! - **Axolotl**: `axolotl.yaml` (LoRA, or QLoRA with `load_in_4bit`) and `axolotl train
//!   axolotl.yaml`. Alpaca exports use `type: alpaca`; ShareGPT and OpenAI exports use
//!   `type: chat_template` with their field and role mappings. KTO exports are refused: Axolotl's
//!   KTO needs `rl: kto` with its own prompt/completion/label dataset types, which these exports
//!   are not; the JSONL export (one system/user/assistant line) is refused too: export as OpenAI.
//! - **Unsloth**: `train_unsloth.py` (Unsloth + TRL's `SFTTrainer`) and `python
//!   train_unsloth.py`; it reads every export format but KTO and formats it with the tokenizer's
//!   chat template. Needs an NVIDIA GPU.
//! - **MLX**: `lora.yaml` for `mlx_lm.lora --config lora.yaml` on Apple silicon. mlx_lm reads a
//!   folder with `train.jsonl` and `valid.jsonl` in chat (`{"messages": …}`) or completions
//!   format, so the OpenAI export is the one to use, copied under those names (the notes give the
//!   commands). `iters` is `max_steps` when set, otherwise ⌈epochs × training examples ÷ batch⌉
//!   (the examples are counted in the exported file); mlx_lm has no gradient accumulation, so each
//!   iteration is one batch. LoRA goes on every layer (`num_layers: -1`, as LLaMA-Factory does)
//!   with `scale = alpha / rank`. KTO exports are refused (mlx_lm.lora does supervised training).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::{EvalStrategy, Precision, TrainConfig, ZeroStage};
use crate::error::{Error, Result};
use crate::export::Format;

mod axolotl;
mod llamafactory;
mod mlx;
mod unsloth;

use axolotl::axolotl;
use llamafactory::llama_factory;
use mlx::mlx;
use unsloth::unsloth;
#[cfg(test)]
use mlx::{count_examples, mlx_key};

pub use garden_types::runs::Backend;

/// What to run, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    pub backend: Backend,
    /// (file name, content), written side by side in the folder the command runs in.
    pub files: Vec<(String, String)>,
    /// The command, as an argument vector (never a shell string).
    pub command: Vec<String>,
    pub notes: Vec<String>,
}

/// The files and command for `backend`. `dataset_format` is the export's format (`alpaca`,
/// `sharegpt`, `openai`, `jsonl` or `kto`) and `dataset_file` the exported training file; a
/// validation file exported beside it (`<stem>_val.<ext>`) is used for evaluation when present.
pub fn launch(backend: Backend, config: &TrainConfig, dataset_file: &Path, dataset_format: &str) -> Result<Launch> {
    let format: Format = dataset_format.parse().map_err(|_| {
        Error::invalid(
            "dataset_format",
            format!("'{dataset_format}' is not one of alpaca, sharegpt, openai, jsonl, kto"),
        )
    })?;
    check(backend, config)?;
    if backend != Backend::LlamaFactory && (config.stage.is_preference() || format == Format::Pairs) {
        return Err(Error::invalid(
            "backend",
            format!(
                "garden-eden writes supervised (sft) files for {}; preference stages (KTO, DPO/ORPO) and pairs \
                 datasets train with LLaMA-Factory",
                backend.label()
            ),
        ));
    }
    let data = utf8(dataset_file, "dataset_file")?;
    let val = validation_file(dataset_file);
    match backend {
        Backend::LlamaFactory => Ok(llama_factory(config, format)),
        Backend::Axolotl => axolotl(config, data, val.as_deref(), format),
        Backend::Unsloth => unsloth(config, data, val.as_deref(), format),
        Backend::Mlx => mlx(config, dataset_file, val.as_deref(), format),
    }
}

/// The config's own validation; the dataset name only matters to LLaMA-Factory (the others read
/// the file).
fn check(backend: Backend, config: &TrainConfig) -> Result<()> {
    if backend != Backend::LlamaFactory && config.dataset.trim().is_empty() {
        let named = TrainConfig { dataset: "file".into(), ..config.clone() };
        return named.validate();
    }
    config.validate()
}

fn utf8<'p>(path: &'p Path, field: &str) -> Result<&'p str> {
    path.to_str()
        .ok_or_else(|| Error::invalid(field, format!("{} is not valid UTF-8", path.display())))
}

/// `<stem>_val.<ext>` beside the training file, as the export writes it, when it exists.
fn validation_file(train: &Path) -> Option<PathBuf> {
    let stem = train.file_stem()?.to_str()?;
    let name = match train.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}_val.{ext}"),
        None => format!("{stem}_val"),
    };
    let val = train.with_file_name(name);
    val.is_file().then_some(val)
}

/// Whether the run evaluates, and on what: the validation file, or a share of the training data.
fn evaluates(config: &TrainConfig, val: Option<&Path>) -> bool {
    config.eval_strategy != EvalStrategy::No && (val.is_some() || config.val_size > 0.0)
}

fn target_names(config: &TrainConfig) -> Vec<String> {
    const ALL: [&str; 7] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
    if config.lora_target.trim() == "all" {
        return ALL.iter().map(|s| (*s).to_owned()).collect();
    }
    config.lora_target.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

// ---------------------------------------------------------------------------------------------
// Literals

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

/// A double-quoted string that YAML (1.1 and 1.2) and Python both read back exactly: json.dumps
/// quoting, with control, line-separator and non-printable characters escaped as `\uXXXX`.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float both YAML and Python read as a float (`0.0002`, `3.0`); validated values are finite.
fn float(v: f64) -> String {
    let s = format!("{v}");
    if s.contains(['.', 'e', 'E', 'n', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn python_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

/// A word for a POSIX shell, quoted only when it needs to be.
fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const WEIRD: &str = "my \"data\" set's";

    /// A folder (whose name has a quote and a space) with an exported training file and its
    /// validation file.
    fn exported(format: Format, examples: usize) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(WEIRD);
        std::fs::create_dir_all(&dir).unwrap();
        let ext = format.extension();
        let line = r#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}"#;
        let body = if ext == "json" {
            format!("[{}]", vec![r#"{"instruction": "hi", "input": "", "output": "hello"}"#; examples].join(","))
        } else {
            vec![line; examples].join("\n") + "\n"
        };
        let train = dir.join(format!("chats.{ext}"));
        std::fs::write(&train, &body).unwrap();
        std::fs::write(dir.join(format!("chats_val.{ext}")), &body).unwrap();
        (root, train)
    }

    fn config() -> TrainConfig {
        TrainConfig {
            dataset: "chats".into(),
            dataset_dir: format!("/data/{WEIRD}").into(),
            output_dir: format!("/data/runs/{WEIRD}/out").into(),
            ..TrainConfig::default()
        }
    }

    /// Reverses [`quoted`] (a tiny hand-rolled reader for the tests).
    fn unquote(v: &str) -> String {
        let inner = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or_else(|| panic!("not quoted: {v}"));
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                assert_ne!(c, '"', "unescaped quote in {v}");
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                Some(c) => out.push(c),
                None => panic!("dangling backslash in {v}"),
            }
        }
        out
    }

    /// Checks every line is a comment, `key:`, `key: value` or `- item`, indented by two spaces a
    /// level, and returns the value of the line at `path` (keys separated by `/`).
    fn yaml_value(yaml: &str, path: &str) -> Option<String> {
        for line in yaml.lines() {
            let indent = line.len() - line.trim_start().len();
            let body = line.trim_start();
            assert!(!line.contains('\t'), "tab in {line:?}");
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            assert_eq!(indent % 2, 0, "odd indentation: {line:?}");
            let item = body.strip_prefix("- ").unwrap_or(body);
            let is_key = item.split_once(": ").is_some_and(|(k, _)| !k.contains(' ') && !k.contains('"'))
                || (item.ends_with(':') && !item.contains(' '));
            assert!(is_key || body.starts_with("- "), "not a YAML line: {line:?}");
        }
        // The key's column decides nesting (`- key` counts as the column of `key`).
        let keys: Vec<&str> = path.split('/').collect();
        let mut want = 0;
        let mut parent: Option<usize> = None;
        for line in yaml.lines() {
            let body = line.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let item = body.strip_prefix("- ").unwrap_or(body);
            let column = line.len() - item.len();
            if parent.is_some_and(|p| column <= p) {
                return None;
            }
            let (key, value) = match item.split_once(": ") {
                Some((k, v)) => (k, v),
                None => (item.trim_end_matches(':'), ""),
            };
            let level_ok = parent.map_or(column == 0, |p| column > p);
            if level_ok && key == keys[want] {
                if want + 1 == keys.len() {
                    return Some(value.to_owned());
                }
                parent = Some(column);
                want += 1;
            }
        }
        None
    }

    fn python3() -> bool {
        Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success())
    }

    /// The YAML parsed by PyYAML, as JSON (None when python3 or PyYAML is absent).
    fn pyyaml(yaml: &str) -> Option<serde_json::Value> {
        if !python3() || !Command::new("python3").args(["-c", "import yaml"]).output().is_ok_and(|o| o.status.success()) {
            eprintln!("python3 with PyYAML not found: YAML checked by lines only");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, yaml).unwrap();
        let out = Command::new("python3")
            .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "PyYAML refused:\n{yaml}\n{}", String::from_utf8_lossy(&out.stderr));
        Some(serde_json::from_slice(&out.stdout).unwrap())
    }

    #[test]
    fn backends_are_named_and_llama_factory_and_mlx_run_here() {
        assert_eq!(Backend::ALL.iter().filter(|b| b.runs_here()).collect::<Vec<_>>(), vec![&Backend::LlamaFactory, &Backend::Mlx]);
        assert!(Backend::ALL.iter().all(|b| serde_json::to_value(b).unwrap() == b.as_str()));
        assert!(Backend::ALL.iter().all(|b| !b.label().is_empty()));
        assert_eq!(serde_json::to_value(Backend::LlamaFactory).unwrap(), "llamafactory");
        assert_eq!(serde_json::from_str::<Backend>("\"mlx\"").unwrap(), Backend::Mlx);
    }

    #[test]
    fn llama_factory_gets_its_yaml_and_launcher_notes() {
        let (_root, train) = exported(Format::Openai, 3);
        let c = config();
        let l = launch(Backend::LlamaFactory, &c, &train, "openai").unwrap();
        assert_eq!(l.files, vec![("run.yaml".to_owned(), c.to_yaml(crate::train::config::Device::Cpu))]);
        assert_eq!(l.command, ["llamafactory-cli", "train", "run.yaml"]);
        let notes = l.notes.join("\n");
        assert!(notes.contains("FORCE_TORCHRUN=1") && notes.contains("NPROC_PER_NODE") && notes.contains("deepspeed"), "{notes}");
        let y = &l.files[0].1;
        assert_eq!(unquote(&yaml_value(y, "dataset_dir").unwrap()), format!("/data/{WEIRD}"));
        if let Some(parsed) = pyyaml(y) {
            assert_eq!(parsed["dataset_dir"], format!("/data/{WEIRD}"));
            assert_eq!(parsed["lora_rank"], 16);
        }
    }

    #[test]
    fn axolotl_yaml_for_openai_sharegpt_and_alpaca() {
        let (_root, train) = exported(Format::Openai, 3);
        let data = train.to_str().unwrap();
        let val = data.replace("chats.jsonl", "chats_val.jsonl");
        let c = TrainConfig { quantization_bit: Some(4), max_steps: Some(50), ..config() };
        let l = launch(Backend::Axolotl, &c, &train, "openai").unwrap();
        assert_eq!(l.command, ["axolotl", "train", "axolotl.yaml"]);
        assert_eq!(l.files[0].0, "axolotl.yaml");
        let y = &l.files[0].1;
        for (path, value) in [
            ("base_model", "\"Qwen/Qwen2.5-14B-Instruct\""),
            ("adapter", "qlora"),
            ("load_in_4bit", "true"),
            ("load_in_8bit", "false"),
            ("lora_r", "16"),
            ("lora_alpha", "32"),
            ("lora_dropout", "0.05"),
            ("lora_target_linear", "true"),
            ("chat_template", "qwen_25"),
            ("datasets/type", "chat_template"),
            ("datasets/field_messages", "messages"),
            ("datasets/message_property_mappings/role", "role"),
            ("datasets/message_property_mappings/content", "content"),
            ("test_datasets/split", "train"),
            ("val_set_size", "0.0"),
            ("sequence_len", "2048"),
            ("micro_batch_size", "4"),
            ("gradient_accumulation_steps", "4"),
            ("num_epochs", "3.0"),
            ("max_steps", "50"),
            ("learning_rate", "0.0002"),
            ("lr_scheduler", "cosine"),
            ("warmup_ratio", "0.1"),
            ("bf16", "auto"),
            ("logging_steps", "10"),
            ("save_steps", "100"),
            ("eval_steps", "100"),
            ("seed", "42"),
        ] {
            assert_eq!(yaml_value(y, path).as_deref(), Some(value), "{path} in\n{y}");
        }
        assert_eq!(unquote(&yaml_value(y, "datasets/path").unwrap()), data);
        assert_eq!(unquote(&yaml_value(y, "test_datasets/path").unwrap()), val);
        assert_eq!(unquote(&yaml_value(y, "output_dir").unwrap()), format!("/data/runs/{WEIRD}/out"));
        if let Some(parsed) = pyyaml(y) {
            assert_eq!(parsed["datasets"][0]["path"], data);
            assert_eq!(parsed["test_datasets"][0]["path"], val.as_str());
            assert_eq!(parsed["learning_rate"], 0.0002);
            assert_eq!(parsed["lora_target_linear"], true);
        }

        // ShareGPT: from/value mappings; listed targets; no validation file, so a share.
        let (_root, train) = exported(Format::Sharegpt, 3);
        std::fs::remove_file(train.with_file_name("chats_val.json")).unwrap();
        let c = TrainConfig { lora_target: "q_proj,v_proj".into(), ..config() };
        let y = &launch(Backend::Axolotl, &c, &train, "sharegpt").unwrap().files[0].1;
        assert_eq!(yaml_value(y, "adapter").as_deref(), Some("lora"));
        assert_eq!(yaml_value(y, "datasets/field_messages").as_deref(), Some("conversations"));
        assert_eq!(yaml_value(y, "datasets/message_property_mappings/role").as_deref(), Some("from"));
        assert_eq!(yaml_value(y, "datasets/message_property_mappings/content").as_deref(), Some("value"));
        assert_eq!(yaml_value(y, "val_set_size").as_deref(), Some("0.1"));
        assert!(y.contains("lora_target_modules:\n  - \"q_proj\"\n  - \"v_proj\"\n") && !y.contains("lora_target_linear"), "{y}");
        assert!(yaml_value(y, "test_datasets").is_none());
        if let Some(parsed) = pyyaml(y) {
            assert_eq!(parsed["datasets"][0]["roles"]["user"], serde_json::json!(["human", "user"]));
            assert_eq!(parsed["lora_target_modules"], serde_json::json!(["q_proj", "v_proj"]));
        }

        let (_root, train) = exported(Format::Alpaca, 3);
        let l = launch(Backend::Axolotl, &config(), &train, "alpaca").unwrap();
        assert_eq!(yaml_value(&l.files[0].1, "datasets/type").as_deref(), Some("alpaca"));
        assert!(l.notes.iter().any(|n| n.contains("Alpaca prompt format")));
    }

    #[test]
    fn what_a_backend_cannot_train_is_refused_by_name() {
        let (_root, train) = exported(Format::Kto, 3);
        let field = |r: Result<Launch>| match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(launch(Backend::Axolotl, &config(), &train, "kto")), "backend");
        assert_eq!(field(launch(Backend::Unsloth, &config(), &train, "kto")), "backend");
        assert_eq!(field(launch(Backend::Mlx, &config(), &train, "kto")), "backend");
        assert!(launch(Backend::LlamaFactory, &config(), &train, "kto").unwrap().notes.iter().any(|n| n.contains("stage: kto")));
        assert_eq!(field(launch(Backend::Axolotl, &config(), &train, "jsonl")), "dataset_format");
        assert_eq!(field(launch(Backend::Unsloth, &config(), &train, "csv")), "dataset_format");
        let bad = TrainConfig { lora_target: "q_proj; rm -rf /".into(), ..config() };
        assert_eq!(field(launch(Backend::Unsloth, &bad, &train, "openai")), "lora_target");
        // The dataset name matters to LLaMA-Factory only.
        let unnamed = TrainConfig { dataset: String::new(), ..config() };
        assert!(launch(Backend::Axolotl, &unnamed, &train, "openai").is_ok());
        assert_eq!(field(launch(Backend::LlamaFactory, &unnamed, &train, "openai")), "dataset");
    }

    #[test]
    fn unsloth_script_has_safe_literals_and_compiles() {
        let (_root, train) = exported(Format::Openai, 3);
        let data = train.to_str().unwrap();
        let c = TrainConfig {
            model_name_or_path: "/models/it's \"odd\"\\path\n".into(),
            lora_target: "q_proj,v_proj".into(),
            quantization_bit: Some(4),
            ..config()
        };
        let l = launch(Backend::Unsloth, &c, &train, "openai").unwrap();
        assert_eq!(l.command, ["python", "train_unsloth.py"]);
        assert!(l.notes.iter().any(|n| n.contains("NVIDIA GPU")));
        let (name, script) = &l.files[0];
        assert_eq!(name, "train_unsloth.py");
        for expected in [
            "MODEL_NAME = \"/models/it's \\\"odd\\\"\\\\path\\n\"".to_owned(),
            format!("DATA_FILE = {}", quoted(data)),
            "LOAD_IN_4BIT = True".to_owned(),
            "LORA_R = 16".to_owned(),
            "LORA_ALPHA = 32".to_owned(),
            "LORA_DROPOUT = 0.05".to_owned(),
            "TARGET_MODULES = [\"q_proj\", \"v_proj\"]".to_owned(),
            "LEARNING_RATE = 0.0002".to_owned(),
            "NUM_TRAIN_EPOCHS = 3.0".to_owned(),
            "MAX_STEPS = -1".to_owned(),
            "LR_SCHEDULER_TYPE = \"cosine\"".to_owned(),
            "FastLanguageModel.from_pretrained(".to_owned(),
            "get_peft_model(".to_owned(),
            "load_dataset(\"json\", data_files=path".to_owned(),
            "apply_chat_template(".to_owned(),
            "SFTConfig(".to_owned(),
            "model.save_pretrained(OUTPUT_DIR)".to_owned(),
        ] {
            assert!(script.contains(&expected), "missing {expected:?} in\n{script}");
        }
        if !python3() {
            assert!(!crate::train::trainer_required(), "python3 is needed to check the Unsloth script (CI / GARDEN_EDEN_REQUIRE_TRAINER=1)");
            eprintln!("python3 not found: py_compile skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("train_unsloth.py");
        std::fs::write(&file, script).unwrap();
        let compiled = Command::new("python3").args(["-m", "py_compile"]).arg(&file).output().unwrap();
        assert!(compiled.status.success(), "{}", String::from_utf8_lossy(&compiled.stderr));
        // The settings read back exactly.
        let read = Command::new("python3")
            .args([
                "-c",
                "import ast, json, sys\n\
                 tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n\
                 out = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body\n\
                        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id.isupper()\n\
                        and n.targets[0].id != 'ROLES'}\n\
                 print(json.dumps(out))",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
        let settings: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(settings["MODEL_NAME"], c.model_name_or_path);
        assert_eq!(settings["DATA_FILE"], data);
        assert_eq!(settings["EVAL_FILE"], data.replace("chats.jsonl", "chats_val.jsonl"));
        assert_eq!(settings["OUTPUT_DIR"], format!("/data/runs/{WEIRD}/out"));
        assert_eq!(settings["LORA_DROPOUT"], 0.05);
        assert_eq!(settings["SEED"], 42);
    }

    #[test]
    fn mlx_yaml_counts_iterations_and_says_how_to_lay_out_the_data() {
        let (_root, train) = exported(Format::Openai, 10);
        let data = train.to_str().unwrap();
        let folder = train.parent().unwrap().join("mlx-data");
        let c = TrainConfig { lora_rank: 8, lora_alpha: 16, ..config() };
        let l = launch(Backend::Mlx, &c, &train, "openai").unwrap();
        assert_eq!(l.command, ["mlx_lm.lora", "--config", "lora.yaml"]);
        let (name, y) = &l.files[0];
        assert_eq!(name, "lora.yaml");
        // 3 epochs × 10 examples ÷ batch 4 = 7.5 → 8 iterations; 10% warm-up ≈ 1.
        for (path, value) in [
            ("train", "true"),
            ("fine_tune_type", "lora"),
            ("num_layers", "-1"),
            ("batch_size", "4"),
            ("iters", "8"),
            ("learning_rate", "0.0002"),
            ("steps_per_report", "10"),
            ("steps_per_eval", "100"),
            ("save_every", "100"),
            ("max_seq_length", "2048"),
            ("seed", "42"),
            ("lora_parameters/rank", "8"),
            ("lora_parameters/scale", "2.0"),
            ("lora_parameters/dropout", "0.05"),
            ("lr_schedule/name", "cosine_decay"),
            ("lr_schedule/warmup", "1"),
            ("lr_schedule/arguments", "[0.0002, 7, 0.0]"),
        ] {
            assert_eq!(yaml_value(y, path).as_deref(), Some(value), "{path} in\n{y}");
        }
        assert_eq!(unquote(&yaml_value(y, "model").unwrap()), "Qwen/Qwen2.5-14B-Instruct");
        assert_eq!(unquote(&yaml_value(y, "data").unwrap()), folder.to_str().unwrap());
        assert!(y.contains("\"self_attn.q_proj\"") && y.contains("\"mlp.down_proj\""), "{y}");
        if let Some(parsed) = pyyaml(y) {
            assert_eq!(parsed["data"], folder.to_str().unwrap());
            assert_eq!(parsed["adapter_path"], format!("/data/runs/{WEIRD}/out"));
            assert_eq!(parsed["lora_parameters"]["keys"].as_array().unwrap().len(), 7);
            assert_eq!(parsed["lora_parameters"]["scale"], 2.0);
        }
        let notes = l.notes.join("\n");
        assert!(notes.contains("train.jsonl") && notes.contains("valid.jsonl") && notes.contains("Apple silicon"), "{notes}");
        assert!(notes.contains(&sh_quote(data)), "the copy command quotes the path: {notes}");
        assert!(notes.contains("iters = ⌈3.0 epochs × 10 examples ÷ batch 4⌉ = 8"), "{notes}");
        assert!(!notes.contains("export the dataset again"), "openai is what mlx_lm reads");

        // max_steps decides without reading the data; other formats are told to export openai.
        let (_root, alpaca) = exported(Format::Alpaca, 5);
        let c = TrainConfig { max_steps: Some(30), ..config() };
        let l = launch(Backend::Mlx, &c, &alpaca, "alpaca").unwrap();
        assert_eq!(yaml_value(&l.files[0].1, "iters").as_deref(), Some("30"));
        assert!(l.notes[0].contains("export the dataset again as openai"), "{:?}", l.notes);
        assert!(l.notes.iter().any(|n| n.contains("mlx-data/train.jsonl")) && !l.notes.iter().any(|n| n.contains("cp ")), "{:?}", l.notes);
        // Epochs without a readable file cannot be turned into iterations.
        match launch(Backend::Mlx, &config(), Path::new("/nonexistent/x.jsonl"), "openai") {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "max_steps"),
            other => panic!("{other:?}"),
        }
        assert_eq!(count_examples(&alpaca, Format::Alpaca).unwrap(), 5);
    }

    #[test]
    fn literals_quote_safely() {
        assert_eq!(quoted("a\"b\\c\nd\u{7f}\u{2028}"), "\"a\\\"b\\\\c\\nd\\u007f\\u2028\"");
        assert_eq!(unquote(&quoted(WEIRD)), WEIRD);
        assert_eq!(float(3.0), "3.0");
        assert_eq!(float(2e-4), "0.0002");
        assert_eq!(float(0.05), "0.05");
        assert_eq!(sh_quote("/plain/path.jsonl"), "/plain/path.jsonl");
        assert_eq!(sh_quote("it's here"), "'it'\\''s here'");
        assert_eq!(mlx_key("q_proj"), "self_attn.q_proj");
        assert_eq!(mlx_key("gate_proj"), "mlp.gate_proj");
        for backend in Backend::ALL {
            let (_root, train) = exported(Format::Openai, 2);
            let l = launch(backend, &config(), &train, "openai").unwrap();
            assert!(l.command.len() >= 2 && l.command.iter().all(|a| !a.contains(' ')), "{:?}", l.command);
            assert_eq!(l.backend, backend);
            assert!(!l.files.is_empty() && !l.notes.is_empty());
        }
    }
}
