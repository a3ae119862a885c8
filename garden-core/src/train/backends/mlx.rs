//! MLX: `lora.yaml` for `mlx_lm.lora --config lora.yaml` on Apple silicon.

use std::fmt::Write as _;
use std::path::Path;

use super::*;

/// Examples in an exported file: a JSON array (alpaca, sharegpt) or one object a line.
pub(super) fn count_examples(path: &Path, format: Format) -> Result<u64> {
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
pub(super) fn mlx_key(name: &str) -> String {
    match name {
        "q_proj" | "k_proj" | "v_proj" | "o_proj" => format!("self_attn.{name}"),
        "gate_proj" | "up_proj" | "down_proj" => format!("mlp.{name}"),
        _ => name.to_owned(),
    }
}

pub(super) fn mlx(config: &TrainConfig, dataset_file: &Path, val: Option<&Path>, format: Format) -> Result<Launch> {
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
