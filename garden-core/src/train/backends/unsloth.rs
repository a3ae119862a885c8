//! Unsloth: `train_unsloth.py` (its training part is `unsloth_train.py`) and `python train_unsloth.py`.

use std::fmt::Write as _;
use std::path::Path;

use super::*;

/// The script after its settings: reads the export whatever its format, applies the chat
/// template, trains, saves the adapter.
const UNSLOTH_BODY: &str = include_str!("unsloth_train.py");

pub(super) fn unsloth(config: &TrainConfig, data: &str, val: Option<&Path>, format: Format) -> Result<Launch> {
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
    script.push('\n');
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
