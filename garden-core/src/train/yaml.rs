//! Reading a LLaMA-Factory training YAML (its examples, the guide's file, or a run.yaml garden-eden
//! wrote) into a [`TrainConfig`], so `garden-eden train --config run.yaml` accepts the file a
//! person already has. Parsed by `serde_norway` into a struct that denies unknown fields:
//! settings garden-eden always decides itself (output folder, overwriting, logging) are accepted
//! and ignored; a key it does not know, or a value of the wrong type, is an error naming its line.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::config::{EvalStrategy, Precision, PrefLoss, Stage, TrainConfig, ZeroStage};
use crate::error::{Error, Result};

/// Every setting garden-eden reads from a LLaMA-Factory file. Anything else is an error (so a
/// typo is caught, not silently ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LlamaFactoryFile {
    model_name_or_path: Option<String>,
    adapter_name_or_path: Option<String>,
    template: Option<String>,
    dataset: Option<String>,
    dataset_dir: Option<String>,
    eval_dataset: Option<String>,
    lora_rank: Option<u32>,
    lora_alpha: Option<u32>,
    lora_dropout: Option<f64>,
    lora_target: Option<String>,
    num_train_epochs: Option<f64>,
    max_steps: Option<u64>,
    per_device_train_batch_size: Option<u32>,
    gradient_accumulation_steps: Option<u32>,
    learning_rate: Option<f64>,
    lr_scheduler_type: Option<String>,
    warmup_ratio: Option<f64>,
    fp16: Option<bool>,
    bf16: Option<bool>,
    logging_steps: Option<u32>,
    save_steps: Option<u32>,
    val_size: Option<f64>,
    per_device_eval_batch_size: Option<u32>,
    #[serde(alias = "evaluation_strategy")]
    eval_strategy: Option<EvalStrategy>,
    eval_steps: Option<u32>,
    cutoff_len: Option<u32>,
    max_samples: Option<u64>,
    seed: Option<u64>,
    trust_remote_code: Option<bool>,
    quantization_bit: Option<u8>,
    deepspeed: Option<String>,
    stage: Option<String>,
    finetuning_type: Option<String>,
    pref_beta: Option<f64>,
    pref_loss: Option<String>,
    kto_chosen_weight: Option<f64>,
    kto_rejected_weight: Option<f64>,
    ref_model: Option<String>,
    ref_model_adapters: Option<String>,
    // Settings garden-eden always decides itself: accepted and ignored.
    #[serde(rename = "include_num_input_tokens_seen")]
    _include_num_input_tokens_seen: Option<IgnoredAny>,
    #[serde(rename = "do_train")]
    _do_train: Option<IgnoredAny>,
    #[serde(rename = "overwrite_cache")]
    _overwrite_cache: Option<IgnoredAny>,
    #[serde(rename = "preprocessing_num_workers")]
    _preprocessing_num_workers: Option<IgnoredAny>,
    #[serde(rename = "plot_loss")]
    _plot_loss: Option<IgnoredAny>,
    #[serde(rename = "overwrite_output_dir")]
    _overwrite_output_dir: Option<IgnoredAny>,
    #[serde(rename = "report_to")]
    _report_to: Option<IgnoredAny>,
    #[serde(rename = "output_dir")]
    _output_dir: Option<IgnoredAny>,
    #[serde(rename = "ddp_timeout")]
    _ddp_timeout: Option<IgnoredAny>,
}

/// serde's message, said for people: where (`line N`) and what.
fn explain(e: &serde_norway::Error) -> Error {
    let place = e
        .location()
        .map_or_else(|| "the file".to_owned(), |l| format!("line {}", l.line()));
    let mut message = e.to_string();
    // "… at line 2 column 1" is already in `place`.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    // "learning_rate: invalid type: string \"fast\", expected f64" → "learning_rate: 'fast' is not a number".
    let number = if message.ends_with("expected f64") {
        Some("a number")
    } else if message.ends_with("expected a boolean") {
        Some("true or false")
    } else if message.ends_with("expected u32")
        || message.ends_with("expected u64")
        || message.ends_with("expected u8")
    {
        Some("a whole number")
    } else {
        None
    };
    if let (Some(kind), Some(i)) = (number, message.find("invalid ")) {
        let found = message[i..]
            .split_once(": ")
            .map_or("", |x| x.1)
            .rsplit_once(", expected")
            .map_or("", |x| x.0);
        let found = found
            .trim_start_matches("string ")
            .trim_start_matches("integer ")
            .trim_matches(['"', '`']);
        message = format!("{}'{found}' is not {kind}", &message[..i]);
    }
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        message = format!("the setting '{name}' is given twice");
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        message = format!("unknown setting '{name}'");
    }
    Error::invalid(place, message)
}

/// Parses the file; `line N: …` errors say where.
pub fn from_llamafactory_yaml(text: &str) -> Result<TrainConfig> {
    // An empty file (or one of comments only) is an empty mapping, not an error.
    let f: LlamaFactoryFile = if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        LlamaFactoryFile::default()
    } else {
        serde_norway::from_str(text).map_err(|e| explain(&e))?
    };
    let whole = |key: &str, message: String| Error::invalid(key.to_owned(), message);
    let stage = match f.stage.as_deref() {
        None => Stage::Sft,
        Some(s) => s.parse::<Stage>().map_err(|_| {
            whole("stage", format!("garden-eden trains sft, kto or dpo, not '{s}'"))
        })?,
    };
    let pref_loss = match f.pref_loss.as_deref() {
        None => PrefLoss::Sigmoid,
        Some(l) => l.parse::<PrefLoss>().map_err(|_| {
            whole("pref_loss", format!("garden-eden trains sigmoid, orpo or simpo, not '{l}'"))
        })?,
    };
    if let Some(kind) = f.finetuning_type.as_deref().filter(|s| *s != "lora") {
        return Err(whole(
            "finetuning_type",
            format!("garden-eden trains `lora` adapters, not '{kind}'"),
        ));
    }
    if let Some(bits) = f.quantization_bit.filter(|b| ![4, 8].contains(b)) {
        return Err(whole("quantization_bit", format!("{bits} is not 4 or 8")));
    }
    let mut c = TrainConfig::default();
    macro_rules! take {
        ($($field:ident),* $(,)?) => { $( if let Some(v) = f.$field { c.$field = v; } )* };
    }
    take!(
        model_name_or_path,
        template,
        dataset,
        lora_rank,
        lora_alpha,
        lora_dropout,
        lora_target,
        num_train_epochs,
        per_device_train_batch_size,
        gradient_accumulation_steps,
        learning_rate,
        lr_scheduler_type,
        warmup_ratio,
        logging_steps,
        save_steps,
        val_size,
        per_device_eval_batch_size,
        eval_strategy,
        eval_steps,
        cutoff_len,
        seed,
        trust_remote_code,
    );
    c.dataset_dir = f.dataset_dir.map_or(c.dataset_dir, Into::into);
    c.adapter_name_or_path = f.adapter_name_or_path.map(Into::into);
    c.eval_dataset = f.eval_dataset.or(c.eval_dataset);
    c.max_steps = f.max_steps.or(c.max_steps);
    c.max_samples = f.max_samples.or(c.max_samples);
    c.quantization_bit = f.quantization_bit.or(c.quantization_bit);
    c.stage = stage;
    c.pref_loss = pref_loss;
    take!(pref_beta, kto_chosen_weight, kto_rejected_weight);
    match (f.ref_model, f.ref_model_adapters) {
        (None, None) => {}
        (Some(model), Some(adapter)) if model == c.model_name_or_path => c.ref_adapter = Some(adapter.into()),
        (Some(model), Some(_)) => {
            return Err(whole(
                "ref_model",
                format!("garden-eden's reference is the base model ({}) with an adapter, not '{model}'", c.model_name_or_path),
            ))
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(whole("ref_model", "give ref_model (the base model) and ref_model_adapters together".to_owned()))
        }
    }
    if f.fp16 == Some(true) {
        c.precision = Precision::Fp16;
    }
    if f.bf16 == Some(true) {
        c.precision = Precision::Bf16;
    }
    if let Some(path) = f.deepspeed {
        c.deepspeed = Some(if path.contains("z3") {
            ZeroStage::Zero3
        } else if path.contains("z2") {
            ZeroStage::Zero2
        } else {
            return Err(whole(
                "deepspeed",
                format!("'{path}' is neither a ZeRO-2 nor a ZeRO-3 config (ds_z2…/ds_z3…)"),
            ));
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_yaml_back() {
        let original = TrainConfig {
            dataset: "ge \"data\"".into(),
            dataset_dir: "/data/sets".into(),
            output_dir: "/data/runs/x/output".into(),
            eval_dataset: Some("ge_val".into()),
            max_steps: Some(30),
            deepspeed: Some(ZeroStage::Zero3),
            quantization_bit: Some(4),
            // A continual-learning run starts from the previous adapter.
            adapter_name_or_path: Some("/data/adapters/eden 1.0.0".into()),
            trust_remote_code: true,
            ..TrainConfig::default()
        };
        let mut back = from_llamafactory_yaml(
            &original.to_yaml(super::super::config::Device::Gpu { bf16: true }),
        )
        .unwrap();
        assert_eq!(back.precision, Precision::Bf16);
        back.precision = original.precision;
        back.output_dir = original.output_dir.clone();
        assert_eq!(back, original);
    }

    #[test]
    fn reads_a_hand_written_llamafactory_file() {
        let text = "### model\nmodel_name_or_path: Qwen/Qwen2.5-7B-Instruct  # the base\n\
                    stage: sft\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n\
                    dataset: my_chats\ndataset_dir: ./data\ntemplate: qwen\ncutoff_len: 1024\n\
                    learning_rate: 1.0e-4\nnum_train_epochs: 3.0\nfp16: true\n\
                    deepspeed: examples/deepspeed/ds_z2_config.json\n";
        let c = from_llamafactory_yaml(text).unwrap();
        assert_eq!(c.model_name_or_path, "Qwen/Qwen2.5-7B-Instruct");
        assert_eq!(
            (c.cutoff_len, c.learning_rate, c.precision),
            (1024, 1e-4, Precision::Fp16)
        );
        assert_eq!(c.deepspeed, Some(ZeroStage::Zero2));
    }

    #[test]
    fn mistakes_name_their_line() {
        for (text, line, words) in [
            (
                "lora_rank: 16\nlora_rnak: 8\n",
                "line 2",
                "unknown setting 'lora_rnak'",
            ),
            (
                "learning_rate: fast\n",
                "line 1",
                "learning_rate: 'fast' is not a number",
            ),
            (
                "lora_rank: -1\n",
                "line 1",
                "lora_rank: '-1' is not a whole number",
            ),
            ("stage: ppo\n", "stage", "sft, kto or dpo"),
            ("stage: dpo\npref_loss: ipo\n", "pref_loss", "sigmoid, orpo or simpo"),
            ("dataset:\n  - a\n", "line 2", "invalid type: sequence"),
            ("lora_rank: 8\nfp16: maybe\n", "line 2", "not true or false"),
            ("stage: sft\nstage: dpo\n", "'stage'", "given twice"),
        ] {
            let err = from_llamafactory_yaml(text).unwrap_err().to_string();
            assert!(err.contains(line) && err.contains(words), "{err}");
        }
    }
}
