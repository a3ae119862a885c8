//! Reading a LLaMA-Factory training YAML (the flat `key: value` files of its examples and of the
//! seed's guide) into a [`TrainConfig`], so `garden-eden train --config run.yaml` accepts the file
//! a person already has. Settings garden-eden always decides itself (stage, method, output folder,
//! overwriting) are accepted and ignored; a key it does not know is an error naming its line.

use super::config::{EvalStrategy, Precision, TrainConfig, ZeroStage};
use crate::error::{Error, Result};

/// Keys LLaMA-Factory files carry that garden-eden sets itself.
const DECIDED_HERE: [&str; 11] = [
    "include_num_input_tokens_seen", "do_train", "overwrite_cache", "preprocessing_num_workers", "plot_loss",
    "overwrite_output_dir", "report_to", "output_dir", "stage", "finetuning_type", "ddp_timeout",
];

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        let inner = &v[1..v.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    } else if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].replace("''", "'")
    } else {
        v.to_owned()
    }
}

/// Drops a `# comment` that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let (mut single, mut double) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (i == 0 || line[..i].ends_with(char::is_whitespace)) => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Parses the file; `line N: …` errors say where.
pub fn from_llamafactory_yaml(text: &str) -> Result<TrainConfig> {
    let mut c = TrainConfig::default();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let at = |message: String| Error::invalid(format!("line {}", n + 1), message);
        if line.starts_with([' ', '\t', '-']) {
            return Err(at("nested YAML is not a LLaMA-Factory training setting".into()));
        }
        let (key, value) = line.split_once(':').ok_or_else(|| at(format!("'{line}' is not `key: value`")))?;
        let key = key.trim();
        let value = unquote(value);
        let num = |v: &str| -> Result<f64> { v.parse::<f64>().map_err(|_| at(format!("{key}: '{v}' is not a number"))) };
        let int = |v: &str| -> Result<u64> { v.parse::<u64>().map_err(|_| at(format!("{key}: '{v}' is not a whole number"))) };
        let flag = |v: &str| -> Result<bool> {
            match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Ok(true),
                "false" | "no" | "off" => Ok(false),
                _ => Err(at(format!("{key}: '{v}' is not true or false"))),
            }
        };
        let small = |v: u64| u32::try_from(v).map_err(|_| at(format!("{key}: {v} is too large")));
        match key {
            "model_name_or_path" => c.model_name_or_path = value,
            "template" => c.template = value,
            "dataset" => c.dataset = value,
            "dataset_dir" => c.dataset_dir = value.into(),
            "eval_dataset" => c.eval_dataset = Some(value),
            "lora_rank" => c.lora_rank = small(int(&value)?)?,
            "lora_alpha" => c.lora_alpha = small(int(&value)?)?,
            "lora_dropout" => c.lora_dropout = num(&value)?,
            "lora_target" => c.lora_target = value,
            "num_train_epochs" => c.num_train_epochs = num(&value)?,
            "max_steps" => c.max_steps = Some(int(&value)?),
            "per_device_train_batch_size" => c.per_device_train_batch_size = small(int(&value)?)?,
            "gradient_accumulation_steps" => c.gradient_accumulation_steps = small(int(&value)?)?,
            "learning_rate" => c.learning_rate = num(&value)?,
            "lr_scheduler_type" => c.lr_scheduler_type = value,
            "warmup_ratio" => c.warmup_ratio = num(&value)?,
            "fp16" => {
                if flag(&value)? {
                    c.precision = Precision::Fp16;
                }
            }
            "bf16" => {
                if flag(&value)? {
                    c.precision = Precision::Bf16;
                }
            }
            "logging_steps" => c.logging_steps = small(int(&value)?)?,
            "save_steps" => c.save_steps = small(int(&value)?)?,
            "val_size" => c.val_size = num(&value)?,
            "per_device_eval_batch_size" => c.per_device_eval_batch_size = small(int(&value)?)?,
            "eval_strategy" | "evaluation_strategy" => {
                c.eval_strategy = match value.as_str() {
                    "steps" => EvalStrategy::Steps,
                    "epoch" => EvalStrategy::Epoch,
                    "no" => EvalStrategy::No,
                    other => return Err(at(format!("{key}: '{other}' is not steps, epoch or no"))),
                }
            }
            "eval_steps" => c.eval_steps = small(int(&value)?)?,
            "cutoff_len" => c.cutoff_len = small(int(&value)?)?,
            "max_samples" => c.max_samples = Some(int(&value)?),
            "seed" => c.seed = int(&value)?,
            "trust_remote_code" => c.trust_remote_code = flag(&value)?,
            "quantization_bit" => c.quantization_bit = Some(u8::try_from(int(&value)?).map_err(|_| at("quantization_bit: 4 or 8".into()))?),
            "deepspeed" => {
                c.deepspeed = if value.contains("z3") {
                    Some(ZeroStage::Zero3)
                } else if value.contains("z2") {
                    Some(ZeroStage::Zero2)
                } else {
                    return Err(at(format!("deepspeed: '{value}' is neither a ZeRO-2 nor a ZeRO-3 config (ds_z2…/ds_z3…)")));
                }
            }
            "stage" if value != "sft" => return Err(at(format!("stage: garden-eden trains `sft` only, not '{value}'"))),
            "finetuning_type" if value != "lora" => return Err(at(format!("finetuning_type: garden-eden trains `lora` adapters, not '{value}'"))),
            k if DECIDED_HERE.contains(&k) => {}
            other => return Err(at(format!("unknown setting '{other}'"))),
        }
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
            ..TrainConfig::default()
        };
        let mut back = from_llamafactory_yaml(&original.to_yaml(super::super::config::Device::Gpu { bf16: true })).unwrap();
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
        assert_eq!((c.cutoff_len, c.learning_rate, c.precision), (1024, 1e-4, Precision::Fp16));
        assert_eq!(c.deepspeed, Some(ZeroStage::Zero2));
    }

    #[test]
    fn mistakes_name_their_line() {
        for (text, line, words) in [
            ("lora_rank: 16\nlora_rnak: 8\n", "line 2", "unknown setting 'lora_rnak'"),
            ("learning_rate: fast\n", "line 1", "not a number"),
            ("stage: dpo\n", "line 1", "sft"),
            ("dataset:\n  - a\n", "line 2", "nested"),
        ] {
            let err = from_llamafactory_yaml(text).unwrap_err().to_string();
            assert!(err.contains(line) && err.contains(words), "{err}");
        }
    }
}
