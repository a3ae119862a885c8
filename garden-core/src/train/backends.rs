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
// LLaMA-Factory

fn llama_factory(config: &TrainConfig, format: Format) -> Launch {
    let mut notes = vec![
        "Run where LLaMA-Factory is installed: llamafactory-cli train run.yaml. dataset_dir must hold the \
         export's dataset_info.json (garden-eden writes it next to the exported data)."
            .to_owned(),
        "Several GPUs, on one machine or several: LLaMA-Factory's own launcher runs torchrun: \
         FORCE_TORCHRUN=1 NNODES=<machines> NODE_RANK=<this machine, from 0> MASTER_ADDR=<first machine's address> \
         MASTER_PORT=29500 NPROC_PER_NODE=<GPUs per machine> llamafactory-cli train run.yaml \
         (one machine: NNODES=1 NODE_RANK=0 MASTER_ADDR=127.0.0.1)."
            .to_owned(),
        "DeepSpeed ZeRO: choose deepspeed z2 or z3 in the training settings; run.yaml then names \
         examples/deepspeed/ds_z2_config.json or ds_z3_config.json, relative to a LLaMA-Factory checkout \
         (run from there, or copy the file beside run.yaml and change the path). ZeRO-3 shards the weights \
         across the GPUs."
            .to_owned(),
        "garden-eden passes these settings through to LLaMA-Factory and its launcher; it never grows a \
         launcher of its own."
            .to_owned(),
    ];
    if config.precision == Precision::Auto {
        notes.push(
            "Precision auto is resolved for this machine: run.yaml has no bf16/fp16 line. On a GPU add \
             `bf16: true` (Ampere or newer) or `fp16: true` (older)."
                .to_owned(),
        );
    }
    if let Some(z) = config.deepspeed {
        let n = if z == ZeroStage::Zero2 { 2 } else { 3 };
        notes.push(format!("This config uses DeepSpeed ZeRO-{n}: launch it with FORCE_TORCHRUN=1 and NPROC_PER_NODE set to the GPU count."));
    }
    if format == Format::Kto {
        notes.push(
            "The dataset is a KTO export, but run.yaml trains supervised (stage: sft): for KTO set \
             stage: kto (and pref_beta) in run.yaml."
                .to_owned(),
        );
    }
    Launch {
        backend: Backend::LlamaFactory,
        files: vec![("run.yaml".to_owned(), config.to_yaml(super::config::Device::Cpu))],
        command: argv(&["llamafactory-cli", "train", "run.yaml"]),
        notes,
    }
}

// ---------------------------------------------------------------------------------------------
// Axolotl

/// Axolotl's chat_template name for a LLaMA-Factory template (none: the tokenizer's own).
fn axolotl_template(template: &str) -> &'static str {
    match template {
        "qwen" => "qwen_25",
        "qwen3" => "qwen3",
        "llama3" => "llama3",
        "gemma" => "gemma",
        "chatml" => "chatml",
        "phi" => "phi_3",
        _ => "tokenizer_default",
    }
}

/// One `datasets:` entry, indented under its list.
fn axolotl_dataset(y: &mut String, path: &str, format: Format, split: bool) {
    let _ = writeln!(y, "  - path: {}", quoted(path));
    y.push_str("    ds_type: json\n");
    if split {
        y.push_str("    split: train\n");
    }
    match format {
        Format::Alpaca => y.push_str("    type: alpaca\n"),
        Format::Sharegpt => y.push_str(
            "    type: chat_template\n    field_messages: conversations\n    message_property_mappings:\n      \
             role: from\n      content: value\n    roles:\n      system: [\"system\"]\n      user: [\"human\", \"user\"]\n      \
             assistant: [\"gpt\", \"assistant\"]\n",
        ),
        Format::Openai | Format::Jsonl | Format::Kto => y.push_str(
            "    type: chat_template\n    field_messages: messages\n    message_property_mappings:\n      \
             role: role\n      content: content\n",
        ),
    }
}

fn axolotl(config: &TrainConfig, data: &str, val: Option<&Path>, format: Format) -> Result<Launch> {
    match format {
        Format::Kto => {
            return Err(Error::invalid(
                "backend",
                "Axolotl trains KTO with `rl: kto` and its own prompt/completion/label dataset types, which the KTO \
                 export is not; garden-eden does not generate it. Train KTO with LLaMA-Factory, or export as openai \
                 for supervised training with Axolotl.",
            ))
        }
        Format::Jsonl => {
            return Err(Error::invalid(
                "dataset_format",
                "Axolotl has no dataset type for the jsonl export's system/user/assistant lines: export as openai \
                 (messages) instead.",
            ))
        }
        Format::Alpaca | Format::Sharegpt | Format::Openai => {}
    }
    let val = val.map(|v| utf8(v, "dataset_file")).transpose()?;
    let evaluate = evaluates(config, val.map(Path::new));
    let mut y = String::new();
    y.push_str("# Axolotl config written by garden-eden: axolotl train axolotl.yaml\n");
    let _ = writeln!(y, "base_model: {}", quoted(&config.model_name_or_path));
    let _ = writeln!(y, "trust_remote_code: {}", config.trust_remote_code);
    let (four, eight) = (config.quantization_bit == Some(4), config.quantization_bit == Some(8));
    let _ = writeln!(y, "load_in_8bit: {eight}");
    let _ = writeln!(y, "load_in_4bit: {four}");
    let _ = writeln!(y, "adapter: {}", if four { "qlora" } else { "lora" });
    let _ = writeln!(y, "lora_r: {}", config.lora_rank);
    let _ = writeln!(y, "lora_alpha: {}", config.lora_alpha);
    let _ = writeln!(y, "lora_dropout: {}", float(config.lora_dropout));
    if config.lora_target.trim() == "all" {
        y.push_str("lora_target_linear: true\n");
    } else {
        y.push_str("lora_target_modules:\n");
        for name in target_names(config) {
            let _ = writeln!(y, "  - {}", quoted(&name));
        }
    }
    if format != Format::Alpaca {
        let _ = writeln!(y, "chat_template: {}", axolotl_template(&config.template));
    }
    y.push_str("datasets:\n");
    axolotl_dataset(&mut y, data, format, false);
    match (evaluate, val) {
        (true, Some(val)) => {
            y.push_str("test_datasets:\n");
            axolotl_dataset(&mut y, val, format, true);
            y.push_str("val_set_size: 0.0\n");
        }
        (true, None) => {
            let _ = writeln!(y, "val_set_size: {}", float(config.val_size));
        }
        (false, _) => y.push_str("val_set_size: 0.0\n"),
    }
    let _ = writeln!(y, "output_dir: {}", quoted(&config.output_dir.to_string_lossy()));
    let _ = writeln!(y, "sequence_len: {}", config.cutoff_len);
    y.push_str("sample_packing: false\n");
    y.push_str("train_on_inputs: false\n");
    let _ = writeln!(y, "micro_batch_size: {}", config.per_device_train_batch_size);
    let _ = writeln!(y, "gradient_accumulation_steps: {}", config.gradient_accumulation_steps);
    let _ = writeln!(y, "num_epochs: {}", float(config.num_train_epochs));
    if let Some(steps) = config.max_steps {
        let _ = writeln!(y, "max_steps: {steps}");
    }
    y.push_str("optimizer: adamw_torch\n");
    let _ = writeln!(y, "learning_rate: {}", float(config.learning_rate));
    let _ = writeln!(y, "lr_scheduler: {}", config.lr_scheduler_type);
    let _ = writeln!(y, "warmup_ratio: {}", float(config.warmup_ratio));
    match config.precision {
        Precision::Auto => y.push_str("bf16: auto\n"),
        Precision::Bf16 => y.push_str("bf16: true\nfp16: false\n"),
        Precision::Fp16 => y.push_str("bf16: false\nfp16: true\n"),
        Precision::Fp32 => y.push_str("bf16: false\nfp16: false\n"),
    }
    y.push_str("tf32: false\n");
    y.push_str("gradient_checkpointing: true\n");
    let _ = writeln!(y, "logging_steps: {}", config.logging_steps);
    let _ = writeln!(y, "save_steps: {}", config.save_steps);
    if evaluate {
        let _ = writeln!(y, "eval_batch_size: {}", config.per_device_eval_batch_size);
        match config.eval_strategy {
            EvalStrategy::Steps => {
                let _ = writeln!(y, "eval_steps: {}", config.eval_steps);
            }
            EvalStrategy::Epoch => y.push_str("evals_per_epoch: 1\n"),
            EvalStrategy::No => {}
        }
    }
    let _ = writeln!(y, "seed: {}", config.seed);
    match config.deepspeed {
        Some(ZeroStage::Zero2) => y.push_str("deepspeed: deepspeed_configs/zero2.json\n"),
        Some(ZeroStage::Zero3) => y.push_str("deepspeed: deepspeed_configs/zero3_bf16.json\n"),
        None => {}
    }

    let mut notes = vec![
        "Axolotl runs on an NVIDIA or AMD GPU, not on this machine; `axolotl train` uses every visible GPU \
         (through accelerate)."
            .to_owned(),
    ];
    if format == Format::Alpaca {
        notes.push(
            "Axolotl's alpaca type uses the Alpaca prompt format, not the model's chat template, and leaves out the \
             export's system prompt and history; the openai export keeps both."
                .to_owned(),
        );
    }
    if config.deepspeed.is_some() {
        notes.push("Run `axolotl fetch deepspeed_configs` in this folder first: the config names one of its files.".to_owned());
    }
    Ok(Launch {
        backend: Backend::Axolotl,
        files: vec![("axolotl.yaml".to_owned(), y)],
        command: argv(&["axolotl", "train", "axolotl.yaml"]),
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// Unsloth

/// The script after its settings: reads the export whatever its format, applies the chat
/// template, trains, saves the adapter.
const UNSLOTH_BODY: &str = r#"
import dataclasses
import inspect

# Unsloth first: it patches transformers and TRL.
from unsloth import FastLanguageModel, is_bfloat16_supported
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

load_kwargs = {"load_in_4bit": LOAD_IN_4BIT}
if LOAD_IN_8BIT:
    load_kwargs["load_in_8bit"] = True
model, tokenizer = FastLanguageModel.from_pretrained(
    model_name=MODEL_NAME,
    max_seq_length=MAX_SEQ_LENGTH,
    dtype=None,
    **load_kwargs,
)
model = FastLanguageModel.get_peft_model(
    model,
    r=LORA_R,
    lora_alpha=LORA_ALPHA,
    lora_dropout=LORA_DROPOUT,
    target_modules=TARGET_MODULES,
    bias="none",
    use_gradient_checkpointing="unsloth",
    random_state=SEED,
)

ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


def to_messages(example):
    """One exported example as chat messages, whatever the export's format."""
    if DATASET_FORMAT == "openai":
        return [{"role": m["role"], "content": m["content"]} for m in example["messages"]]
    if DATASET_FORMAT == "sharegpt":
        return [{"role": ROLES.get(m["from"], m["from"]), "content": m["value"]} for m in example["conversations"]]
    messages = []
    if example.get("system"):
        messages.append({"role": "system", "content": example["system"]})
    if DATASET_FORMAT == "alpaca":
        for user, assistant in example.get("history") or []:
            messages.append({"role": "user", "content": user})
            messages.append({"role": "assistant", "content": assistant})
        prompt = example["instruction"]
        if example.get("input"):
            prompt += "\n" + example["input"]
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": example["output"]})
    else:  # jsonl: one exchange a line
        messages.append({"role": "user", "content": example["user"]})
        messages.append({"role": "assistant", "content": example["assistant"]})
    return messages


def to_text(example):
    return {"text": tokenizer.apply_chat_template(to_messages(example), tokenize=False)}


def load(path):
    data = load_dataset("json", data_files=path, split="train")
    return data.map(to_text, remove_columns=data.column_names)


train_data = load(DATA_FILE)
eval_data = None
if EVAL_STRATEGY != "no":
    if EVAL_FILE is not None:
        eval_data = load(EVAL_FILE)
    elif VAL_SIZE > 0:
        split = train_data.train_test_split(test_size=VAL_SIZE, seed=SEED)
        train_data, eval_data = split["train"], split["test"]

bf16 = PRECISION == "bf16" or (PRECISION == "auto" and is_bfloat16_supported())
fp16 = PRECISION == "fp16" or (PRECISION == "auto" and not bf16)
config_fields = {field.name for field in dataclasses.fields(SFTConfig)}
length = {"max_length": MAX_SEQ_LENGTH} if "max_length" in config_fields else {"max_seq_length": MAX_SEQ_LENGTH}
evaluation = {}
if eval_data is not None:
    evaluation = {"eval_strategy": EVAL_STRATEGY, "eval_steps": EVAL_STEPS, "per_device_eval_batch_size": EVAL_BATCH_SIZE}
args = SFTConfig(
    output_dir=OUTPUT_DIR,
    per_device_train_batch_size=BATCH_SIZE,
    gradient_accumulation_steps=GRADIENT_ACCUMULATION_STEPS,
    num_train_epochs=NUM_TRAIN_EPOCHS,
    max_steps=MAX_STEPS,
    learning_rate=LEARNING_RATE,
    lr_scheduler_type=LR_SCHEDULER_TYPE,
    warmup_ratio=WARMUP_RATIO,
    logging_steps=LOGGING_STEPS,
    save_steps=SAVE_STEPS,
    seed=SEED,
    bf16=bf16,
    fp16=fp16,
    dataset_text_field="text",
    packing=False,
    report_to="none",
    **length,
    **evaluation,
)
trainer_params = inspect.signature(SFTTrainer.__init__).parameters
tokenizer_arg = {"processing_class": tokenizer} if "processing_class" in trainer_params else {"tokenizer": tokenizer}
trainer = SFTTrainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data, **tokenizer_arg)
if TEMPLATE == "qwen":
    # Learn the answers only, as LLaMA-Factory does.
    from unsloth.chat_templates import train_on_responses_only

    trainer = train_on_responses_only(
        trainer, instruction_part="<|im_start|>user\n", response_part="<|im_start|>assistant\n"
    )
trainer.train()
model.save_pretrained(OUTPUT_DIR)
tokenizer.save_pretrained(OUTPUT_DIR)
print("LoRA adapter saved to", OUTPUT_DIR)
"#;

fn unsloth(config: &TrainConfig, data: &str, val: Option<&Path>, format: Format) -> Result<Launch> {
    if format == Format::Kto {
        return Err(Error::invalid(
            "backend",
            "the Unsloth script trains supervised (SFT); KTO data needs TRL's KTOTrainer, which garden-eden does not \
             generate: train KTO with LLaMA-Factory",
        ));
    }
    let eval_file = match val {
        Some(v) => quoted(utf8(v, "dataset_file")?),
        None => "None".to_owned(),
    };
    let output = utf8(&config.output_dir, "output_dir")?;
    let targets = target_names(config).iter().map(|t| quoted(t)).collect::<Vec<_>>().join(", ");
    let precision = match config.precision {
        Precision::Auto => "auto",
        Precision::Bf16 => "bf16",
        Precision::Fp16 => "fp16",
        Precision::Fp32 => "fp32",
    };
    let eval_strategy = match config.eval_strategy {
        EvalStrategy::No => "no",
        EvalStrategy::Steps => "steps",
        EvalStrategy::Epoch => "epoch",
    };
    let settings: Vec<(&str, String)> = vec![
        ("MODEL_NAME", quoted(&config.model_name_or_path)),
        ("DATA_FILE", quoted(data)),
        ("EVAL_FILE", eval_file),
        ("DATASET_FORMAT", quoted(format.as_str())),
        ("TEMPLATE", quoted(&config.template)),
        ("OUTPUT_DIR", quoted(output)),
        ("MAX_SEQ_LENGTH", config.cutoff_len.to_string()),
        ("LOAD_IN_4BIT", python_bool(config.quantization_bit == Some(4))),
        ("LOAD_IN_8BIT", python_bool(config.quantization_bit == Some(8))),
        ("LORA_R", config.lora_rank.to_string()),
        ("LORA_ALPHA", config.lora_alpha.to_string()),
        ("LORA_DROPOUT", float(config.lora_dropout)),
        ("TARGET_MODULES", format!("[{targets}]")),
        ("BATCH_SIZE", config.per_device_train_batch_size.to_string()),
        ("GRADIENT_ACCUMULATION_STEPS", config.gradient_accumulation_steps.to_string()),
        ("NUM_TRAIN_EPOCHS", float(config.num_train_epochs)),
        ("MAX_STEPS", config.max_steps.map_or("-1".to_owned(), |s| s.to_string())),
        ("LEARNING_RATE", float(config.learning_rate)),
        ("LR_SCHEDULER_TYPE", quoted(&config.lr_scheduler_type)),
        ("WARMUP_RATIO", float(config.warmup_ratio)),
        ("LOGGING_STEPS", config.logging_steps.to_string()),
        ("SAVE_STEPS", config.save_steps.to_string()),
        ("EVAL_STRATEGY", quoted(eval_strategy)),
        ("EVAL_STEPS", config.eval_steps.to_string()),
        ("EVAL_BATCH_SIZE", config.per_device_eval_batch_size.to_string()),
        ("VAL_SIZE", float(config.val_size)),
        ("SEED", config.seed.to_string()),
        ("PRECISION", quoted(precision)),
    ];
    let mut script = String::from(
        "\"\"\"LoRA fine-tuning with Unsloth, written by garden-eden: python train_unsloth.py\n\n\
         Needs an NVIDIA GPU and `pip install unsloth` (which brings TRL, PEFT and datasets).\n\"\"\"\n\n\
         # Settings (from garden-eden's training form).\n",
    );
    for (name, value) in settings {
        let _ = writeln!(script, "{name} = {value}");
    }
    script.push_str(UNSLOTH_BODY);

    let mut notes = vec![
        "Unsloth needs an NVIDIA GPU (CUDA); it does not run on this machine.".to_owned(),
        format!("The adapter is saved to {output} when training ends."),
    ];
    if config.precision == Precision::Fp32 {
        notes.push("Precision fp32: Unsloth loads the model in 16-bit anyway; training math is fp32.".to_owned());
    }
    if config.deepspeed.is_some() {
        notes.push("DeepSpeed ZeRO is not used: the Unsloth script trains on one GPU.".to_owned());
    }
    Ok(Launch {
        backend: Backend::Unsloth,
        files: vec![("train_unsloth.py".to_owned(), script)],
        command: argv(&["python", "train_unsloth.py"]),
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// MLX

/// Examples in an exported file: a JSON array (alpaca, sharegpt) or one object a line.
fn count_examples(path: &Path, format: Format) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("reading", path, e))?;
    let reader = BufReader::new(file);
    if format.extension() == "json" {
        let items: Vec<serde::de::IgnoredAny> = serde_json::from_reader(reader)
            .map_err(|e| Error::invalid("dataset_file", format!("{}: {e}", path.display())))?;
        return Ok(items.len() as u64);
    }
    let mut n = 0;
    for line in reader.lines() {
        let line = line.map_err(|e| Error::io("reading", path, e))?;
        if !line.trim().is_empty() {
            n += 1;
        }
    }
    Ok(n)
}

/// mlx_lm's key (relative to a transformer block) for a module name.
fn mlx_key(name: &str) -> String {
    match name {
        "q_proj" | "k_proj" | "v_proj" | "o_proj" => format!("self_attn.{name}"),
        "gate_proj" | "up_proj" | "down_proj" => format!("mlp.{name}"),
        _ => name.to_owned(),
    }
}

fn mlx(config: &TrainConfig, dataset_file: &Path, val: Option<&Path>, format: Format) -> Result<Launch> {
    if format == Format::Kto {
        return Err(Error::invalid(
            "backend",
            "mlx_lm.lora trains supervised; KTO data (thumbs as kto_tag) is not generated for it: train KTO with \
             LLaMA-Factory",
        ));
    }
    let batch = u64::from(config.per_device_train_batch_size);
    let (iters, iters_note) = match config.max_steps {
        Some(steps) => (steps, format!("iters = max_steps = {steps}.")),
        None => {
            let examples = count_examples(dataset_file, format).map_err(|e| {
                Error::invalid(
                    "max_steps",
                    format!("mlx_lm counts iterations, not epochs: set max_steps, or export the dataset first so its examples can be counted ({e})"),
                )
            })?;
            let iters = ((config.num_train_epochs * examples as f64) / batch as f64).ceil().max(1.0) as u64;
            (
                iters,
                format!(
                    "iters = ⌈{} epochs × {examples} examples ÷ batch {batch}⌉ = {iters} (mlx_lm counts iterations, not epochs).",
                    float(config.num_train_epochs)
                ),
            )
        }
    };
    let folder = dataset_file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let data_dir = folder.join("mlx-data");
    let data_dir_str = utf8(&data_dir, "dataset_file")?;
    let train_str = utf8(dataset_file, "dataset_file")?;
    let adapter = utf8(&config.output_dir, "output_dir")?;
    let warmup = (config.warmup_ratio * iters as f64).round() as u64;
    let decay = iters.saturating_sub(warmup).max(1);
    let lr = float(config.learning_rate);

    let mut y = String::new();
    y.push_str("# mlx_lm.lora config written by garden-eden: mlx_lm.lora --config lora.yaml (Apple silicon)\n");
    let _ = writeln!(y, "model: {}", quoted(&config.model_name_or_path));
    y.push_str("train: true\n");
    y.push_str("fine_tune_type: lora\n");
    y.push_str("optimizer: adamw\n");
    y.push_str("optimizer_config:\n  adamw:\n    weight_decay: 0.0\n");
    let _ = writeln!(y, "data: {}", quoted(data_dir_str));
    let _ = writeln!(y, "seed: {}", config.seed);
    y.push_str("num_layers: -1\n");
    let _ = writeln!(y, "batch_size: {batch}");
    let _ = writeln!(y, "iters: {iters}");
    let _ = writeln!(y, "learning_rate: {lr}");
    let _ = writeln!(y, "steps_per_report: {}", config.logging_steps);
    let _ = writeln!(y, "steps_per_eval: {}", config.eval_steps);
    let _ = writeln!(y, "save_every: {}", config.save_steps);
    let _ = writeln!(y, "adapter_path: {}", quoted(adapter));
    let _ = writeln!(y, "max_seq_length: {}", config.cutoff_len);
    y.push_str("grad_checkpoint: true\n");
    y.push_str("mask_prompt: true\n");
    y.push_str("lora_parameters:\n");
    let keys: Vec<String> = target_names(config).iter().map(|n| quoted(&mlx_key(n))).collect();
    let _ = writeln!(y, "  keys: [{}]", keys.join(", "));
    let _ = writeln!(y, "  rank: {}", config.lora_rank);
    let _ = writeln!(y, "  scale: {}", float(f64::from(config.lora_alpha) / f64::from(config.lora_rank)));
    let _ = writeln!(y, "  dropout: {}", float(config.lora_dropout));
    let schedule = match config.lr_scheduler_type.as_str() {
        "cosine" | "cosine_with_restarts" => Some(("cosine_decay", format!("[{lr}, {decay}, 0.0]"))),
        "linear" | "polynomial" => Some(("linear_schedule", format!("[{lr}, 0.0, {decay}]"))),
        "constant_with_warmup" if warmup > 0 => Some(("linear_schedule", format!("[{lr}, {lr}, 1]"))),
        _ => None,
    };
    if let Some((name, arguments)) = &schedule {
        let _ = writeln!(y, "lr_schedule:\n  name: {name}");
        if warmup > 0 {
            let _ = writeln!(y, "  warmup: {warmup}\n  warmup_init: 0.0");
        }
        let _ = writeln!(y, "  arguments: {arguments}");
    }

    let mut notes = Vec::new();
    if format != Format::Openai {
        notes.push(format!(
            "This export is {}, which mlx_lm cannot read: export the dataset again as openai (chat messages) and copy \
             that as below.",
            format.as_str()
        ));
    }
    notes.push(
        "mlx_lm.lora runs on Apple silicon (MLX) only, not on this machine. It reads a folder with train.jsonl and \
         valid.jsonl in chat ({\"messages\": [...]}) or completions ({\"prompt\", \"completion\"}) format."
            .to_owned(),
    );
    if format == Format::Openai {
        let mut copy = format!(
            "mkdir -p {dir} && cp {train} {train_dest}",
            dir = sh_quote(data_dir_str),
            train = sh_quote(train_str),
            train_dest = sh_quote(&format!("{data_dir_str}/train.jsonl")),
        );
        if let Some(v) = val.and_then(Path::to_str) {
            let _ = write!(copy, " && cp {} {}", sh_quote(v), sh_quote(&format!("{data_dir_str}/valid.jsonl")));
        }
        notes.push(format!("Copy the data under the names mlx_lm wants: {copy}"));
    } else {
        notes.push(format!(
            "Copy the openai export's training file to {data_dir_str}/train.jsonl and its _val file to \
             {data_dir_str}/valid.jsonl."
        ));
    }
    if val.is_none() {
        notes.push(
            "mlx_lm needs validation data (valid.jsonl): export with a validation share, or put a few examples in \
             valid.jsonl."
                .to_owned(),
        );
    }
    notes.push(iters_note);
    if config.gradient_accumulation_steps > 1 {
        notes.push(format!(
            "mlx_lm has no gradient accumulation: each iteration is one batch of {batch} (LLaMA-Factory's effective \
             batch is {}).",
            batch * u64::from(config.gradient_accumulation_steps)
        ));
    }
    if config.quantization_bit.is_some() {
        notes.push(
            "QLoRA on MLX: use an MLX-quantised model as model (for example an mlx-community …-4bit repository); \
             mlx_lm trains LoRA on top of it (quantization_bit is not an mlx_lm setting)."
                .to_owned(),
        );
    }
    match config.lr_scheduler_type.as_str() {
        "cosine_with_restarts" => notes.push("cosine_with_restarts becomes a single cosine decay.".to_owned()),
        "polynomial" => notes.push("polynomial becomes a linear decay.".to_owned()),
        _ => {}
    }
    if config.deepspeed.is_some() {
        notes.push("DeepSpeed ZeRO does not apply to MLX: it trains on one Mac.".to_owned());
    }
    Ok(Launch {
        backend: Backend::Mlx,
        files: vec![("lora.yaml".to_owned(), y)],
        command: argv(&["mlx_lm.lora", "--config", "lora.yaml"]),
        notes,
    })
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
