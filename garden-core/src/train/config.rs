//! The training configuration: every field of the guide's LLaMA-Factory YAML, typed, with
//! validation that names the field, the guide's defaults as the default preset, and its
//! troubleshooting advice as one-click adjustments.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use garden_types::prefs::{PrefLoss, Stage};

/// Floating-point precision of training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bf16 on GPUs that have it, fp16 on other CUDA GPUs, fp32 on the CPU.
    Auto,
    Fp16,
    Bf16,
    Fp32,
}

/// What the run trains on, as far as precision goes: the CPU trains in fp32; GPUs of the Ampere
/// generation and later have bf16, older ones fp16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Cpu,
    Gpu { bf16: bool },
}

/// When to evaluate on the validation data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalStrategy {
    No,
    Steps,
    Epoch,
}

/// DeepSpeed ZeRO stage, for more than one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZeroStage {
    #[serde(rename = "z2")]
    Zero2,
    #[serde(rename = "z3")]
    Zero3,
}

impl ZeroStage {
    pub const ALL: [ZeroStage; 2] = [ZeroStage::Zero2, ZeroStage::Zero3];

    /// The serde name: `z2` or `z3` (the form's and LLaMA-Factory's word).
    pub fn as_str(self) -> &'static str {
        match self {
            ZeroStage::Zero2 => "z2",
            ZeroStage::Zero3 => "z3",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            ZeroStage::Zero2 => "ds_z2_config.json",
            ZeroStage::Zero3 => "ds_z3_config.json",
        }
    }

    /// The DeepSpeed configuration (LLaMA-Factory's usual one: every size `auto`, so the
    /// trainer's own batch and precision settings apply).
    pub fn config_json(self) -> &'static str {
        match self {
            ZeroStage::Zero2 => r#"{
  "train_batch_size": "auto",
  "train_micro_batch_size_per_gpu": "auto",
  "gradient_accumulation_steps": "auto",
  "gradient_clipping": "auto",
  "zero_allow_untested_optimizer": true,
  "fp16": {"enabled": "auto", "loss_scale": 0, "loss_scale_window": 1000, "initial_scale_power": 16, "hysteresis": 2, "min_loss_scale": 1},
  "bf16": {"enabled": "auto"},
  "zero_optimization": {
    "stage": 2, "allgather_partitions": true, "allgather_bucket_size": 5e8, "overlap_comm": false,
    "reduce_scatter": true, "reduce_bucket_size": 5e8, "contiguous_gradients": true, "round_robin_gradients": true
  }
}
"#,
            ZeroStage::Zero3 => r#"{
  "train_batch_size": "auto",
  "train_micro_batch_size_per_gpu": "auto",
  "gradient_accumulation_steps": "auto",
  "gradient_clipping": "auto",
  "zero_allow_untested_optimizer": true,
  "fp16": {"enabled": "auto", "loss_scale": 0, "loss_scale_window": 1000, "initial_scale_power": 16, "hysteresis": 2, "min_loss_scale": 1},
  "bf16": {"enabled": "auto"},
  "zero_optimization": {
    "stage": 3, "overlap_comm": false, "contiguous_gradients": true, "sub_group_size": 1e9,
    "reduce_bucket_size": "auto", "stage3_prefetch_bucket_size": "auto",
    "stage3_param_persistence_threshold": "auto", "stage3_max_live_parameters": 1e9,
    "stage3_max_reuse_distance": 1e9, "stage3_gather_16bit_weights_on_model_save": true
  }
}
"#,
        }
    }
}

/// What LLaMA-Factory is told to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Local path or Hugging Face id (from the local hub cache: nothing is downloaded in tests).
    pub model_name_or_path: String,
    /// Continue training this LoRA adapter (continual learning: version N+1 starts from N).
    pub adapter_name_or_path: Option<PathBuf>,
    /// Chat template (`qwen` for Qwen 2.5).
    pub template: String,
    /// Dataset name in `dataset_dir/dataset_info.json`.
    pub dataset: String,
    pub dataset_dir: PathBuf,
    /// A held-out dataset to evaluate on (our exports write `<name>_val`); otherwise `val_size`
    /// splits the training data.
    pub eval_dataset: Option<String>,
    pub lora_rank: u32,
    pub lora_alpha: u32,
    pub lora_dropout: f64,
    /// `all`, or module names separated by commas (`q_proj,v_proj`).
    pub lora_target: String,
    pub output_dir: PathBuf,
    pub num_train_epochs: f64,
    /// Stop after this many steps (tests, quick tries); none = the epochs decide.
    pub max_steps: Option<u64>,
    pub per_device_train_batch_size: u32,
    pub gradient_accumulation_steps: u32,
    pub learning_rate: f64,
    pub lr_scheduler_type: String,
    pub warmup_ratio: f64,
    pub precision: Precision,
    pub logging_steps: u32,
    pub save_steps: u32,
    pub val_size: f64,
    pub per_device_eval_batch_size: u32,
    pub eval_strategy: EvalStrategy,
    pub eval_steps: u32,
    pub cutoff_len: u32,
    pub max_samples: Option<u64>,
    pub seed: u64,
    /// Load the base model quantised (QLoRA): 4 or 8 bits.
    pub quantization_bit: Option<u8>,
    /// DeepSpeed ZeRO for several GPUs (LLaMA-Factory's own launcher runs it).
    pub deepspeed: Option<ZeroStage>,
    /// The trainer that runs it: LLaMA-Factory, or MLX (mlx-lm) where it runs.
    pub backend: super::backends::Backend,
    /// Run Python code that ships with the model (`trust_remote_code`). Off unless the person
    /// opts in for this model: that code runs with their rights.
    pub trust_remote_code: bool,
    /// What the run teaches: `sft` from examples, `kto` from answers rated up and down, `dpo`
    /// from pairs of a chosen and a rejected answer (see [`crate::train::prefs`]).
    pub stage: Stage,
    /// DPO's loss: `sigmoid` (DPO itself, against a reference model), `orpo` or `simpo`
    /// (reference-free: no second model).
    pub pref_loss: PrefLoss,
    /// β of the preference loss: how far the model may move from the reference (DPO, KTO), or
    /// the weight of the odds-ratio term (ORPO). LLaMA-Factory's default is 0.1.
    pub pref_beta: f64,
    /// KTO's class weights (`kto_chosen_weight` / `kto_rejected_weight`), set from the dataset's
    /// counts so that a history with many more ups than downs (or the reverse) stays balanced.
    pub kto_chosen_weight: f64,
    pub kto_rejected_weight: f64,
    /// DPO with `sigmoid` on top of an adapter: the reference model is the base with this adapter
    /// (the policy training starts from, usually the current SFT adapter) instead of the bare
    /// base (`ref_model` + `ref_model_adapters`). Costs a second copy of the model in memory.
    pub ref_adapter: Option<PathBuf>,
    /// The registered Ray cluster to train on (`garden-eden clusters add`); none: this machine.
    pub cluster: Option<String>,
    /// GPUs the run asks of the cluster: none = one when the cluster has any, else the CPU; more
    /// than one trains across that many Ray workers (LLaMA-Factory's Ray mode).
    pub gpus: Option<u32>,
}

impl Default for TrainConfig {
    /// The guide's defaults (Garden of Eden V3's LLaMA-Factory guide for Qwen 2.5).
    fn default() -> Self {
        TrainConfig {
            model_name_or_path: "Qwen/Qwen2.5-14B-Instruct".into(),
            adapter_name_or_path: None,
            template: "qwen".into(),
            dataset: String::new(),
            dataset_dir: PathBuf::new(),
            eval_dataset: None,
            lora_rank: 16,
            lora_alpha: 32,
            lora_dropout: 0.05,
            lora_target: "all".into(),
            output_dir: PathBuf::new(),
            num_train_epochs: 3.0,
            max_steps: None,
            per_device_train_batch_size: 4,
            gradient_accumulation_steps: 4,
            learning_rate: 2e-4,
            lr_scheduler_type: "cosine".into(),
            warmup_ratio: 0.1,
            precision: Precision::Auto,
            logging_steps: 10,
            save_steps: 100,
            val_size: 0.1,
            per_device_eval_batch_size: 4,
            eval_strategy: EvalStrategy::Steps,
            eval_steps: 100,
            cutoff_len: 2048,
            max_samples: None,
            seed: 42,
            quantization_bit: None,
            deepspeed: None,
            backend: super::backends::Backend::LlamaFactory,
            trust_remote_code: false,
            stage: Stage::Sft,
            pref_loss: PrefLoss::Sigmoid,
            pref_beta: 0.1,
            kto_chosen_weight: 1.0,
            kto_rejected_weight: 1.0,
            ref_adapter: None,
            cluster: None,
            gpus: None,
        }
    }
}

/// The guide's troubleshooting, as adjustments a person applies with one click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adjustment {
    /// Out of memory: halve the batch, double the accumulation (same effective batch).
    OutOfMemory,
    /// Answers too generic: rank 32 (alpha 64), 5 epochs.
    TooGeneric,
    /// Overfitting (eval loss rises): dropout 0.1, 2 epochs.
    Overfitting,
}

impl Adjustment {
    pub const ALL: [Adjustment; 3] = [Adjustment::OutOfMemory, Adjustment::TooGeneric, Adjustment::Overfitting];

    /// The serde name (the form's value).
    pub fn as_str(self) -> &'static str {
        match self {
            Adjustment::OutOfMemory => "out_of_memory",
            Adjustment::TooGeneric => "too_generic",
            Adjustment::Overfitting => "overfitting",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Adjustment::OutOfMemory => "Out of memory: halve the batch, double gradient accumulation",
            Adjustment::TooGeneric => "Answers too generic: LoRA rank 32, 5 epochs",
            Adjustment::Overfitting => "Overfitting (eval loss rising): dropout 0.1, 2 epochs",
        }
    }
}

impl std::str::FromStr for ZeroStage {
    type Err = Error;

    /// `z2` or `z3`.
    fn from_str(s: &str) -> Result<ZeroStage> {
        ZeroStage::ALL
            .into_iter()
            .find(|z| z.as_str() == s)
            .ok_or_else(|| Error::invalid("deepspeed", format!("'{s}' is not z2 or z3")))
    }
}

impl std::str::FromStr for Adjustment {
    type Err = Error;

    /// `out_of_memory`, `too_generic` or `overfitting`.
    fn from_str(s: &str) -> Result<Adjustment> {
        Adjustment::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| Error::invalid("adjust", format!("'{s}' is not a known adjustment")))
    }
}

impl TrainConfig {
    /// The tiny demo model's settings: trains in seconds on a CPU.
    pub fn tiny_demo(model: impl Into<String>) -> TrainConfig {
        TrainConfig {
            model_name_or_path: model.into(),
            lora_rank: 8,
            lora_alpha: 16,
            num_train_epochs: 2.0,
            per_device_train_batch_size: 4,
            gradient_accumulation_steps: 1,
            learning_rate: 1e-3,
            precision: Precision::Fp32,
            logging_steps: 1,
            save_steps: 10,
            eval_steps: 4,
            per_device_eval_batch_size: 4,
            cutoff_len: 256,
            ..TrainConfig::default()
        }
    }

    pub fn apply(&mut self, adjustment: Adjustment) {
        match adjustment {
            Adjustment::OutOfMemory => {
                if self.per_device_train_batch_size > 1 {
                    self.per_device_train_batch_size /= 2;
                    self.gradient_accumulation_steps *= 2;
                }
            }
            Adjustment::TooGeneric => {
                self.lora_rank = 32;
                self.lora_alpha = 64;
                self.num_train_epochs = 5.0;
            }
            Adjustment::Overfitting => {
                self.lora_dropout = 0.1;
                self.num_train_epochs = 2.0;
            }
        }
    }

    /// Checks every field; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: String| Err(Error::invalid(field, message));
        if self.model_name_or_path.trim().is_empty() {
            return bad("model_name_or_path", "choose a base model (a local folder or a Hugging Face id)".into());
        }
        if self.dataset.trim().is_empty() {
            return bad("dataset", "choose a dataset".into());
        }
        if self.output_dir.as_os_str().is_empty() {
            return bad("output_dir", "must be set".into());
        }
        if self.template.trim().is_empty() {
            return bad("template", "must be set (qwen for Qwen 2.5)".into());
        }
        if !(1..=1024).contains(&self.lora_rank) {
            return bad("lora_rank", format!("{} must be 1..1024 (8–64 is usual)", self.lora_rank));
        }
        if self.lora_alpha == 0 {
            return bad("lora_alpha", "must be at least 1 (usually twice the rank)".into());
        }
        if !(0.0..1.0).contains(&self.lora_dropout) {
            return bad("lora_dropout", format!("{} must be at least 0 and below 1", self.lora_dropout));
        }
        let target_ok = self.lora_target == "all"
            || self
                .lora_target
                .split(',')
                .all(|m| !m.trim().is_empty() && m.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        if !target_ok {
            return bad("lora_target", format!("'{}' is not `all` or a comma-separated list of module names", self.lora_target));
        }
        if !(self.num_train_epochs > 0.0 && self.num_train_epochs <= 1000.0) {
            return bad("num_train_epochs", format!("{} must be above 0", self.num_train_epochs));
        }
        if self.max_steps == Some(0) {
            return bad("max_steps", "must be at least 1".into());
        }
        for (field, v) in [
            ("per_device_train_batch_size", self.per_device_train_batch_size),
            ("gradient_accumulation_steps", self.gradient_accumulation_steps),
            ("logging_steps", self.logging_steps),
            ("save_steps", self.save_steps),
            ("per_device_eval_batch_size", self.per_device_eval_batch_size),
            ("eval_steps", self.eval_steps),
        ] {
            if v == 0 {
                return bad(field, "must be at least 1".into());
            }
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return bad("learning_rate", format!("{} must be above 0 and below 1 (2e-4 is usual for LoRA)", self.learning_rate));
        }
        const SCHEDULERS: [&str; 6] = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup"];
        if !SCHEDULERS.contains(&self.lr_scheduler_type.as_str()) {
            return bad("lr_scheduler_type", format!("'{}' is not one of {}", self.lr_scheduler_type, SCHEDULERS.join(", ")));
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return bad("warmup_ratio", format!("{} must be at least 0 and below 1", self.warmup_ratio));
        }
        if !(0.0..0.5).contains(&self.val_size) {
            return bad("val_size", format!("{} must be at least 0 and below 0.5", self.val_size));
        }
        if !(16..=131_072).contains(&self.cutoff_len) {
            return bad("cutoff_len", format!("{} must be 16..131072 tokens", self.cutoff_len));
        }
        if self.max_samples == Some(0) {
            return bad("max_samples", "must be at least 1".into());
        }
        if let Some(bits) = self.quantization_bit {
            if bits != 4 && bits != 8 {
                return bad("quantization_bit", format!("{bits} must be 4 or 8"));
            }
        }
        if self.stage.is_preference() && self.backend != super::backends::Backend::LlamaFactory {
            return bad("stage", format!("{} trains with LLaMA-Factory only (the MLX runner trains sft)", self.stage.as_str()));
        }
        if !(self.pref_beta > 0.0 && self.pref_beta <= 100.0) {
            return bad("pref_beta", format!("{} must be above 0 (0.1 is usual)", self.pref_beta));
        }
        for (field, w) in [("kto_chosen_weight", self.kto_chosen_weight), ("kto_rejected_weight", self.kto_rejected_weight)] {
            if !(w > 0.0 && w.is_finite()) {
                return bad(field, format!("{w} must be above 0"));
            }
        }
        if self.ref_adapter.is_some() && (self.stage != Stage::Dpo || self.pref_loss.reference_free()) {
            return bad("ref_adapter", "a reference adapter is for dpo with the sigmoid loss only (orpo and simpo use no reference)".into());
        }
        Ok(())
    }

    /// fp16/bf16 as LLaMA-Factory wants them, for the device the run trains on.
    pub fn resolved_precision(&self, device: Device) -> Precision {
        match (self.precision, device) {
            (Precision::Auto, Device::Cpu) => Precision::Fp32,
            (Precision::Auto, Device::Gpu { bf16: true }) => Precision::Bf16,
            (Precision::Auto, Device::Gpu { bf16: false }) => Precision::Fp16,
            (p, _) => p,
        }
    }

    /// The optional trainer packages this config needs (checked before launch).
    pub fn needed_extras(&self) -> Vec<super::extras::Extra> {
        use super::extras::Extra;
        let mut out = Vec::new();
        if self.backend == super::backends::Backend::Mlx {
            // MLX loads 4-bit models its own way (no bitsandbytes), has no DeepSpeed, and runs
            // in an environment of its own (checked by the supervisor).
            return Vec::new();
        }
        if self.quantization_bit.is_some() {
            out.push(Extra::Bitsandbytes);
        }
        if self.deepspeed.is_some() {
            out.push(Extra::Deepspeed);
        }
        out
    }

    /// The YAML LLaMA-Factory is given (`llamafactory-cli train run.yaml`). Shown before launch
    /// and saved with the run.
    pub fn to_yaml(&self, device: Device) -> String {
        let mut y = String::new();
        let mut line = |k: &str, v: String| {
            y.push_str(k);
            y.push_str(": ");
            y.push_str(&v);
            y.push('\n');
        };
        line("### model", String::new());
        line("model_name_or_path", quote(&self.model_name_or_path));
        if let Some(a) = &self.adapter_name_or_path {
            line("adapter_name_or_path", quote(&a.to_string_lossy()));
        }
        line("trust_remote_code", self.trust_remote_code.to_string());
        if let Some(bits) = self.quantization_bit {
            line("quantization_bit", bits.to_string());
        }
        line("### method", String::new());
        line("stage", self.stage.as_str().into());
        line("do_train", "true".into());
        line("finetuning_type", "lora".into());
        line("lora_rank", self.lora_rank.to_string());
        line("lora_alpha", self.lora_alpha.to_string());
        line("lora_dropout", num(self.lora_dropout));
        line("lora_target", quote(&self.lora_target));
        match self.stage {
            Stage::Sft => {}
            Stage::Kto => {
                line("pref_beta", num(self.pref_beta));
                line("kto_chosen_weight", num(self.kto_chosen_weight));
                line("kto_rejected_weight", num(self.kto_rejected_weight));
            }
            Stage::Dpo => {
                line("pref_beta", num(self.pref_beta));
                line("pref_loss", self.pref_loss.as_str().into());
                if let (Some(adapter), false) = (&self.ref_adapter, self.pref_loss.reference_free()) {
                    line("ref_model", quote(&self.model_name_or_path));
                    line("ref_model_adapters", quote(&adapter.to_string_lossy()));
                }
            }
        }
        if let Some(z) = self.deepspeed {
            // Written beside run.yaml by the supervisor (the trainer runs in that folder).
            line("deepspeed", quote(z.file_name()));
        }
        line("### dataset", String::new());
        line("dataset", quote(&self.dataset));
        line("dataset_dir", quote(&self.dataset_dir.to_string_lossy()));
        line("template", quote(&self.template));
        line("cutoff_len", self.cutoff_len.to_string());
        if let Some(n) = self.max_samples {
            line("max_samples", n.to_string());
        }
        line("overwrite_cache", "true".into());
        line("preprocessing_num_workers", "1".into());
        line("### output", String::new());
        line("output_dir", quote(&self.output_dir.to_string_lossy()));
        line("logging_steps", self.logging_steps.to_string());
        line("save_steps", self.save_steps.to_string());
        line("plot_loss", "false".into());
        line("overwrite_output_dir", "false".into());
        line("report_to", "none".into());
        line("### train", String::new());
        line("per_device_train_batch_size", self.per_device_train_batch_size.to_string());
        line("gradient_accumulation_steps", self.gradient_accumulation_steps.to_string());
        line("learning_rate", sci(self.learning_rate));
        line("num_train_epochs", num(self.num_train_epochs));
        if let Some(steps) = self.max_steps {
            line("max_steps", steps.to_string());
        }
        line("lr_scheduler_type", quote(&self.lr_scheduler_type));
        line("warmup_ratio", num(self.warmup_ratio));
        match self.resolved_precision(device) {
            Precision::Bf16 => line("bf16", "true".into()),
            Precision::Fp16 => line("fp16", "true".into()),
            Precision::Fp32 | Precision::Auto => {}
        }
        line("seed", self.seed.to_string());
        // Makes LLaMA-Factory log throughput (tokens/s) with each point.
        line("include_num_input_tokens_seen", "true".into());
        line("### eval", String::new());
        match (&self.eval_dataset, self.val_size > 0.0) {
            (Some(eval), _) => line("eval_dataset", quote(eval)),
            (None, true) => line("val_size", num(self.val_size)),
            (None, false) => {}
        }
        let evaluates = self.eval_dataset.is_some() || self.val_size > 0.0;
        if evaluates && self.eval_strategy != EvalStrategy::No {
            line("per_device_eval_batch_size", self.per_device_eval_batch_size.to_string());
            line(
                "eval_strategy",
                match self.eval_strategy {
                    EvalStrategy::Steps => "steps",
                    EvalStrategy::Epoch => "epoch",
                    EvalStrategy::No => "no",
                }
                .into(),
            );
            if self.eval_strategy == EvalStrategy::Steps {
                line("eval_steps", self.eval_steps.to_string());
            }
        }
        // Section markers are comments.
        y.replace("### model: \n", "### model\n")
            .replace("### method: \n", "\n### method\n")
            .replace("### dataset: \n", "\n### dataset\n")
            .replace("### output: \n", "\n### output\n")
            .replace("### train: \n", "\n### train\n")
            .replace("### eval: \n", "\n### eval\n")
    }
}

/// A YAML double-quoted string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.1}") } else { format!("{v}") }
}

/// `2.0e-4` (YAML 1.1, which PyYAML reads, needs the dot and the sign for a float).
fn sci(v: f64) -> String {
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') { m.to_owned() } else { format!("{m}.0") };
            let e = if e.starts_with('-') { e.to_owned() } else { format!("+{e}") };
            format!("{m}e{e}")
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> TrainConfig {
        TrainConfig {
            dataset: "ge".into(),
            dataset_dir: "/data/datasets/x".into(),
            output_dir: "/data/runs/r1".into(),
            ..TrainConfig::default()
        }
    }

    #[test]
    fn defaults_are_valid_and_render_the_seed_yaml() {
        let c = ready();
        c.validate().unwrap();
        let y = c.to_yaml(Device::Cpu);
        for expected in [
            "model_name_or_path: \"Qwen/Qwen2.5-14B-Instruct\"",
            "finetuning_type: lora",
            "lora_rank: 16",
            "lora_alpha: 32",
            "lora_dropout: 0.05",
            "learning_rate: 2.0e-4",
            "num_train_epochs: 3.0",
            "lr_scheduler_type: \"cosine\"",
            "val_size: 0.1",
            "eval_strategy: steps",
            "eval_steps: 100",
            "template: \"qwen\"",
        ] {
            assert!(y.contains(expected), "missing {expected:?} in\n{y}");
        }
        assert!(!y.contains("fp16") && !y.contains("bf16"), "CPU trains in fp32");
        assert!(c.to_yaml(Device::Gpu { bf16: true }).contains("bf16: true"));
        assert!(c.to_yaml(Device::Gpu { bf16: false }).contains("fp16: true"));
        assert!(!y.contains("quantization_bit"), "full precision unless asked");
        assert!(y.contains("trust_remote_code: false"), "a model's own code runs only when asked");
        assert!(TrainConfig { trust_remote_code: true, ..ready() }.to_yaml(Device::Cpu).contains("trust_remote_code: true"));
        let q4 = TrainConfig { quantization_bit: Some(4), ..ready() };
        assert!(q4.to_yaml(Device::Gpu { bf16: true }).contains("\nquantization_bit: 4\n"));
    }

    #[test]
    fn adjustments_follow_the_seed_troubleshooting() {
        let mut c = ready();
        c.apply(Adjustment::OutOfMemory);
        assert_eq!((c.per_device_train_batch_size, c.gradient_accumulation_steps), (2, 8));
        c.apply(Adjustment::TooGeneric);
        assert_eq!((c.lora_rank, c.num_train_epochs), (32, 5.0));
        c.apply(Adjustment::Overfitting);
        assert_eq!((c.lora_dropout, c.num_train_epochs), (0.1, 2.0));
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases: Vec<(Box<dyn Fn(&mut TrainConfig)>, &str)> = vec![
            (Box::new(|c| c.lora_rank = 0), "lora_rank"),
            (Box::new(|c| c.lora_dropout = 1.0), "lora_dropout"),
            (Box::new(|c| c.learning_rate = 0.0), "learning_rate"),
            (Box::new(|c| c.lr_scheduler_type = "wobbly".into()), "lr_scheduler_type"),
            (Box::new(|c| c.lora_target = "q_proj; rm -rf".into()), "lora_target"),
            (Box::new(|c| c.per_device_train_batch_size = 0), "per_device_train_batch_size"),
            (Box::new(|c| c.quantization_bit = Some(3)), "quantization_bit"),
            (Box::new(|c| c.dataset.clear()), "dataset"),
            (Box::new(|c| c.cutoff_len = 1), "cutoff_len"),
        ];
        for (change, field) in cases {
            let mut c = ready();
            change(&mut c);
            match c.validate() {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn form_values_are_the_serde_names() {
        for z in ZeroStage::ALL {
            assert_eq!(serde_json::to_value(z).unwrap(), z.as_str());
            assert_eq!(z.as_str().parse::<ZeroStage>().unwrap(), z);
        }
        for a in Adjustment::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
            assert_eq!(a.as_str().parse::<Adjustment>().unwrap(), a);
        }
        assert!(matches!("z1".parse::<ZeroStage>(), Err(Error::Invalid { field, .. }) if field == "deepspeed"));
        assert!(matches!("louder".parse::<Adjustment>(), Err(Error::Invalid { field, .. }) if field == "adjust"));
    }

    #[test]
    fn deepspeed_configs_are_json_and_referenced() {
        for z in [ZeroStage::Zero2, ZeroStage::Zero3] {
            let v: serde_json::Value = serde_json::from_str(z.config_json()).unwrap();
            assert!(v["zero_optimization"]["stage"].as_u64().is_some());
            let c = TrainConfig { deepspeed: Some(z), ..ready() };
            assert!(c.to_yaml(Device::Cpu).contains(&format!("deepspeed: \"{}\"", z.file_name())));
        }
    }

    #[test]
    fn strings_are_quoted_safely() {
        let c = TrainConfig { dataset: "we\"ird\nname".into(), ..ready() };
        assert!(c.to_yaml(Device::Cpu).contains("dataset: \"we\\\"ird\\nname\""));
        assert_eq!(sci(2e-4), "2.0e-4");
        assert_eq!(sci(1.5e-5), "1.5e-5");
        assert_eq!(sci(0.001), "1.0e-3");
    }
}

impl crate::hardware::Hardware {
    /// What a run here trains on, for precision: the CPU, or GPUs with or without bf16.
    pub fn device(&self) -> Device {
        if self.gpus.is_empty() { Device::Cpu } else { Device::Gpu { bf16: self.bf16() } }
    }
}
