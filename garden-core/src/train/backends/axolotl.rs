//! Axolotl: `axolotl.yaml` and `axolotl train axolotl.yaml`.

use std::fmt::Write as _;
use std::path::Path;

use super::*;

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
        Format::Openai | Format::Jsonl | Format::Kto | Format::Pairs => y.push_str(
            "    type: chat_template\n    field_messages: messages\n    message_property_mappings:\n      \
             role: role\n      content: content\n",
        ),
    }
}

pub(super) fn axolotl(config: &TrainConfig, data: &str, val: Option<&Path>, format: Format) -> Result<Launch> {
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
        Format::Pairs => {
            return Err(Error::invalid(
                "backend",
                "garden-eden writes supervised Axolotl configs; train preference pairs (DPO/ORPO) with LLaMA-Factory",
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
