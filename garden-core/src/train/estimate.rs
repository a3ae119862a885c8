//! GPU memory estimate before launch: will this model, with these settings, fit this GPU?
//!
//! # The formula
//!
//! A rough, deliberately simple sum, per GPU, for LoRA training as LLaMA-Factory runs it
//! (gradient checkpointing on, AdamW, one process):
//!
//! ```text
//! total       = weights + LoRA + activations + overhead
//! weights     = parameters × bytes per weight
//!               bytes per weight: fp32 4, bf16/fp16 2 (precision `auto` on a GPU is 2);
//!               quantization_bit 8 → 1, quantization_bit 4 → 0.5 × 1.1 (quantisation constants).
//!               When quantised, the embeddings and lm_head stay at 2 (or 4) bytes: bitsandbytes
//!               quantises only the transformer's linear layers.
//! LoRA        = LoRA parameters × 16 bytes (fp32 weight 4 + gradient 4 + two Adam states 8)
//!               LoRA parameters = layers × Σ over targeted linear layers of r × (in + out)
//!               `all` = q, k, v, o, gate, up, down; k and v are narrower with grouped-query
//!               attention (kv heads × head size); an unknown module name counts as hidden × hidden.
//! activations = batch × cutoff_len × hidden × layers × 2 bytes      (checkpointed layer inputs;
//!                                                                    4 bytes in fp32)
//!             + batch × cutoff_len × (hidden × 16 + vocab × 4) bytes (the one layer being
//!                                                                    recomputed, and the logits)
//! overhead    = 1 GiB (CUDA context) + 10% of the three above (allocator fragmentation, buffers)
//! ```
//!
//! The verdict compares the total with the GPU's memory: at most 80% fits, up to 100% is tight,
//! above will not fit. Without a GPU, training runs on the CPU (fine for the tiny demo model).
//! DeepSpeed ZeRO sharding is not counted: the estimate is for one GPU.
//!
//! The parameter count comes from the model's `config.json` shapes (embeddings, per layer
//! q/k/v/o with grouped-query attention and Qwen 2's q/k/v biases, three MLP matrices and two
//! norms, the final norm, and lm_head unless tied to the embeddings), or from the shapes of
//! well-known models ([`ModelShape::known`]) before they are downloaded.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{Precision, TrainConfig, ZeroStage};
use crate::error::{Error, Result};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// The shapes of a decoder-only transformer that the estimate needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    pub parameters: u64,
    pub layers: u32,
    pub hidden_size: u32,
    pub intermediate_size: u32,
    pub vocab_size: u32,
    pub num_attention_heads: u32,
    pub num_key_value_heads: u32,
    pub tie_word_embeddings: bool,
}

/// Qwen 2.5 Instruct models: (Hugging Face id, hidden, layers, intermediate, heads, kv heads,
/// vocab, tied embeddings), smallest first. Values from each model's config.json.
const QWEN25: [(&str, u32, u32, u32, u32, u32, u32, bool); 7] = [
    ("Qwen/Qwen2.5-0.5B-Instruct", 896, 24, 4864, 14, 2, 151_936, true),
    ("Qwen/Qwen2.5-1.5B-Instruct", 1536, 28, 8960, 12, 2, 151_936, true),
    ("Qwen/Qwen2.5-3B-Instruct", 2048, 36, 11008, 16, 2, 151_936, true),
    ("Qwen/Qwen2.5-7B-Instruct", 3584, 28, 18944, 28, 4, 152_064, false),
    ("Qwen/Qwen2.5-14B-Instruct", 5120, 48, 13824, 40, 8, 152_064, false),
    ("Qwen/Qwen2.5-32B-Instruct", 5120, 64, 27648, 40, 8, 152_064, false),
    ("Qwen/Qwen2.5-72B-Instruct", 8192, 80, 29568, 64, 8, 152_064, false),
];

/// The dimensions a parameter count needs.
struct Dims {
    hidden: u128,
    layers: u128,
    intermediate: u128,
    vocab: u128,
    heads: u128,
    kv_heads: u128,
    head_dim: u128,
    tied: bool,
    qkv_bias: bool,
}

impl Dims {
    fn parameters(&self) -> u64 {
        let h = self.hidden;
        let q_width = self.heads * self.head_dim;
        let kv_width = self.kv_heads * self.head_dim;
        let attention = h * q_width + 2 * h * kv_width + q_width * h;
        let bias = if self.qkv_bias { q_width + 2 * kv_width } else { 0 };
        let mlp = 3 * h * self.intermediate;
        let norms = 2 * h;
        let per_layer = attention + bias + mlp + norms;
        let embeddings = self.vocab * h;
        let lm_head = if self.tied { 0 } else { self.vocab * h };
        saturate(embeddings + self.layers * per_layer + h + lm_head)
    }
}

fn saturate(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

impl ModelShape {
    /// Reads a Hugging Face `config.json` (Qwen2/Llama/Mistral/Gemma-style keys; a multimodal
    /// config's `text_config` is used when the top level has no `hidden_size`) and computes the
    /// parameter count from the shapes. A missing `num_key_value_heads` means as many as the
    /// attention heads; a missing `tie_word_embeddings` means untied, except for Gemma. The error
    /// names the missing or wrong key. Mixture-of-experts configs are refused: this formula is for
    /// dense models.
    pub fn from_config_json(json: &Value) -> Result<ModelShape> {
        let root = match (json.get("hidden_size"), json.get("text_config")) {
            (None, Some(text)) if text.is_object() => text,
            _ => json,
        };
        let int = |key: &str| -> Result<u32> {
            let value = root
                .get(key)
                .filter(|v| !v.is_null())
                .ok_or_else(|| Error::invalid(key, format!("config.json has no `{key}`")))?;
            let n = value
                .as_u64()
                .ok_or_else(|| Error::invalid(key, format!("{value} is not a whole number")))?;
            if n == 0 {
                return Err(Error::invalid(key, "must be at least 1"));
            }
            u32::try_from(n).map_err(|_| Error::invalid(key, format!("{n} is too large")))
        };
        for key in ["num_local_experts", "num_experts", "n_routed_experts"] {
            if root.get(key).and_then(Value::as_u64).is_some_and(|n| n > 1) {
                return Err(Error::invalid(
                    key,
                    "mixture-of-experts models are not estimated (the formula is for dense models)",
                ));
            }
        }
        let hidden_size = int("hidden_size")?;
        let layers = int("num_hidden_layers")?;
        let intermediate_size = int("intermediate_size")?;
        let vocab_size = int("vocab_size")?;
        let num_attention_heads = int("num_attention_heads")?;
        let num_key_value_heads = match root.get("num_key_value_heads") {
            None | Some(Value::Null) => num_attention_heads,
            Some(_) => int("num_key_value_heads")?,
        };
        let head_dim = match root.get("head_dim") {
            None | Some(Value::Null) => hidden_size / num_attention_heads,
            Some(_) => int("head_dim")?,
        };
        let model_type = root
            .get("model_type")
            .or_else(|| json.get("model_type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let tie_word_embeddings = root
            .get("tie_word_embeddings")
            .or_else(|| json.get("tie_word_embeddings"))
            .and_then(Value::as_bool)
            .unwrap_or_else(|| model_type.starts_with("gemma"));
        let qkv_bias = root
            .get("attention_bias")
            .and_then(Value::as_bool)
            .unwrap_or_else(|| model_type.starts_with("qwen2"));
        let dims = Dims {
            hidden: hidden_size.into(),
            layers: layers.into(),
            intermediate: intermediate_size.into(),
            vocab: vocab_size.into(),
            heads: num_attention_heads.into(),
            kv_heads: num_key_value_heads.into(),
            head_dim: head_dim.into(),
            tied: tie_word_embeddings,
            qkv_bias,
        };
        Ok(ModelShape {
            parameters: dims.parameters(),
            layers,
            hidden_size,
            intermediate_size,
            vocab_size,
            num_attention_heads,
            num_key_value_heads,
            tie_word_embeddings,
        })
    }

    /// Reads `dir/config.json` (weights files, if any, are not read).
    pub fn from_model_dir(dir: &Path) -> Result<ModelShape> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| Error::invalid("config.json", format!("{}: {e}", path.display())))?;
        ModelShape::from_config_json(&json)
    }

    /// Shapes of well-known models by Hugging Face id (case-insensitive; the base model without
    /// `-Instruct` has the same shapes), so an estimate works before the model is downloaded.
    pub fn known(hf_id: &str) -> Option<ModelShape> {
        let id = hf_id.trim().trim_end_matches('/');
        QWEN25.iter().find_map(|&(name, hidden, layers, inter, heads, kv, vocab, tied)| {
            let base = name.trim_end_matches("-Instruct");
            let short = |n: &str| n.split_once('/').map_or(n.to_owned(), |(_, rest)| rest.to_owned());
            let matches = [name.to_owned(), base.to_owned(), short(name), short(base)]
                .iter()
                .any(|candidate| candidate.eq_ignore_ascii_case(id));
            matches.then(|| qwen_shape(hidden, layers, inter, heads, kv, vocab, tied))
        })
    }

    /// A model given as the training form gives it: a local folder with a `config.json`, or a
    /// known Hugging Face id.
    pub fn lookup(model_name_or_path: &str) -> Result<ModelShape> {
        let dir = Path::new(model_name_or_path);
        if dir.join("config.json").is_file() {
            return ModelShape::from_model_dir(dir);
        }
        ModelShape::known(model_name_or_path).ok_or_else(|| {
            Error::invalid(
                "model_name_or_path",
                format!("'{model_name_or_path}' is not a folder with a config.json nor a model whose shape garden-eden knows"),
            )
        })
    }
}

fn qwen_shape(hidden: u32, layers: u32, inter: u32, heads: u32, kv: u32, vocab: u32, tied: bool) -> ModelShape {
    let dims = Dims {
        hidden: hidden.into(),
        layers: layers.into(),
        intermediate: inter.into(),
        vocab: vocab.into(),
        heads: heads.into(),
        kv_heads: kv.into(),
        head_dim: (hidden / heads.max(1)).into(),
        tied,
        qkv_bias: true,
    };
    ModelShape {
        parameters: dims.parameters(),
        layers,
        hidden_size: hidden,
        intermediate_size: inter,
        vocab_size: vocab,
        num_attention_heads: heads,
        num_key_value_heads: kv,
        tie_word_embeddings: tied,
    }
}

/// The estimate, in bytes, with its parts in words for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub weights_bytes: u64,
    pub lora_params: u64,
    /// LoRA parameters, their gradients and Adam states, in fp32.
    pub lora_bytes: u64,
    pub activations_bytes: u64,
    /// CUDA context, allocator fragmentation, buffers.
    pub overhead_bytes: u64,
    pub total_bytes: u64,
    /// The formula's parts in words, each with its bytes; they add up to `total_bytes`.
    pub parts: Vec<(String, u64)>,
    /// The formula, with this estimate's numbers.
    pub formula: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// At most 80% of the GPU's memory.
    Fits,
    /// Above 80%, at most 100%: may run out of memory.
    Tight,
    WillNotFit,
    /// No GPU: training runs on the CPU.
    NoGpu,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub fit: Fit,
    pub estimate: Estimate,
    pub gpu_bytes: Option<u64>,
    pub message: String,
    /// Concrete changes that lower the estimate (only when it is tight or will not fit).
    pub suggestions: Vec<String>,
}

/// The LoRA target modules of `lora_target` (`all` = every linear layer of the blocks).
fn targets(lora_target: &str) -> Vec<String> {
    const ALL: [&str; 7] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
    if lora_target.trim().eq_ignore_ascii_case("all") {
        return ALL.iter().map(|s| (*s).to_owned()).collect();
    }
    let mut out: Vec<String> = Vec::new();
    for name in lora_target.split(',') {
        let name = name.trim();
        let name = name.rsplit('.').next().unwrap_or(name);
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    out
}

fn lora_parameters(shape: &ModelShape, config: &TrainConfig) -> u64 {
    let h = u128::from(shape.hidden_size);
    let head_dim = h / u128::from(shape.num_attention_heads.max(1));
    let q = u128::from(shape.num_attention_heads) * head_dim;
    let kv = u128::from(shape.num_key_value_heads) * head_dim;
    let inter = u128::from(shape.intermediate_size);
    let per_layer: u128 = targets(&config.lora_target)
        .iter()
        .map(|name| match name.as_str() {
            "q_proj" => h + q,
            "k_proj" | "v_proj" => h + kv,
            "o_proj" => q + h,
            "gate_proj" | "up_proj" | "down_proj" => h + inter,
            _ => h + h,
        })
        .sum();
    saturate(u128::from(config.lora_rank) * per_layer * u128::from(shape.layers))
}

/// The estimate for one GPU (see the module docs for the formula).
pub fn estimate(shape: &ModelShape, config: &TrainConfig) -> Estimate {
    // On a GPU, `auto` is bf16 or fp16: 2 bytes either way.
    let (compute_bytes, compute_name): (u128, &str) = match config.resolved_precision(Some("gpu")) {
        Precision::Fp32 => (4, "fp32"),
        Precision::Bf16 => (2, "bf16"),
        Precision::Fp16 | Precision::Auto => (2, "bf16/fp16"),
    };
    let parameters = u128::from(shape.parameters);
    let h = u128::from(shape.hidden_size);
    let vocab = u128::from(shape.vocab_size);
    let layers = u128::from(shape.layers);

    // Weights, in hundredths of a byte per parameter for the quantised part.
    let (weights, weights_words) = match config.quantization_bit {
        Some(bits @ (4 | 8)) => {
            let embedding = (vocab * h * if shape.tie_word_embeddings { 1 } else { 2 }).min(parameters);
            let quantised = parameters - embedding;
            let centibytes: u128 = if bits == 4 { 55 } else { 100 };
            (
                quantised * centibytes / 100 + embedding * compute_bytes,
                format!(
                    "Model weights: {} linear-layer parameters in {bits}-bit × {} bytes{} + {} embedding parameters × {compute_bytes} bytes ({compute_name})",
                    count(saturate(quantised)),
                    if bits == 4 { "0.55" } else { "1" },
                    if bits == 4 { " (0.5 + 10% quantisation constants)" } else { "" },
                    count(saturate(embedding)),
                ),
            )
        }
        _ => (
            parameters * compute_bytes,
            format!("Model weights: {} parameters × {compute_bytes} bytes ({compute_name})", count(shape.parameters)),
        ),
    };

    let lora_params = lora_parameters(shape, config);
    let lora = u128::from(lora_params) * 16;

    let batch = u128::from(config.per_device_train_batch_size);
    let tokens = u128::from(config.cutoff_len);
    let checkpoints = batch * tokens * h * layers * compute_bytes;
    let recompute = batch * tokens * (h * 16 + vocab * 4);
    let activations = checkpoints + recompute;
    let overhead = u128::from(GIB) + (weights + lora + activations) / 10;
    let total = weights + lora + activations + overhead;

    let parts = vec![
        (weights_words, saturate(weights)),
        (
            format!(
                "LoRA adapter: {} parameters (rank {} on {}) × 16 bytes (fp32 weight, gradient and two Adam states)",
                count(lora_params),
                config.lora_rank,
                targets(&config.lora_target).join(", "),
            ),
            saturate(lora),
        ),
        (
            format!(
                "Activations, checkpointed layer inputs: batch {batch} × {tokens} tokens × hidden {h} × {layers} layers × {compute_bytes} bytes"
            ),
            saturate(checkpoints),
        ),
        (
            format!(
                "Activations, the layer being recomputed and the logits: batch {batch} × {tokens} tokens × (hidden {h} × 16 + vocab {vocab} × 4) bytes"
            ),
            saturate(recompute),
        ),
        ("CUDA context and allocator: 1 GiB + 10% of the above".to_owned(), saturate(overhead)),
    ];
    let formula = format!(
        "total = weights (parameters × bytes per weight) + LoRA (r × (in + out) per targeted layer × layers × 16 bytes) \
         + activations (batch × cutoff_len × hidden × layers × {compute_bytes} + batch × cutoff_len × (hidden × 16 + vocab × 4) bytes) \
         + overhead (1 GiB + 10%) = {} + {} + {} + {} = {}",
        human_bytes(saturate(weights)),
        human_bytes(saturate(lora)),
        human_bytes(saturate(activations)),
        human_bytes(saturate(overhead)),
        human_bytes(saturate(total)),
    );
    Estimate {
        weights_bytes: saturate(weights),
        lora_params,
        lora_bytes: saturate(lora),
        activations_bytes: saturate(activations),
        overhead_bytes: saturate(overhead),
        total_bytes: saturate(total),
        parts,
        formula,
    }
}

fn classify(total: u64, gpu: u64) -> Fit {
    let (total, gpu) = (u128::from(total), u128::from(gpu));
    if total * 10 <= gpu * 8 {
        Fit::Fits
    } else if total <= gpu {
        Fit::Tight
    } else {
        Fit::WillNotFit
    }
}

/// Fits, tight or will not fit `gpu_memory_bytes` (none: no GPU, training runs on the CPU), with
/// concrete suggestions when it does not comfortably fit.
pub fn verdict(shape: &ModelShape, config: &TrainConfig, gpu_memory_bytes: Option<u64>) -> Verdict {
    let estimate = estimate(shape, config);
    let total = estimate.total_bytes;
    let Some(gpu) = gpu_memory_bytes else {
        return Verdict {
            fit: Fit::NoGpu,
            message: format!(
                "No GPU found: training runs on the CPU. That is fine for the tiny demo model; a 7B model needs a GPU \
                 (this one would need about {} of GPU memory).",
                human_bytes(total)
            ),
            estimate,
            gpu_bytes: None,
            suggestions: Vec::new(),
        };
    };
    let fit = classify(total, gpu);
    let percent = if gpu == 0 { f64::INFINITY } else { total as f64 / gpu as f64 * 100.0 };
    let message = match fit {
        Fit::Fits => format!("Fits: about {} of the GPU's {} ({percent:.0}%).", human_bytes(total), human_bytes(gpu)),
        Fit::Tight => format!(
            "Tight: about {} of the GPU's {} ({percent:.0}%); it may run out of memory (the estimate is rough).",
            human_bytes(total),
            human_bytes(gpu)
        ),
        Fit::WillNotFit | Fit::NoGpu => format!(
            "Will not fit: needs about {} but the GPU has {}.",
            human_bytes(total),
            human_bytes(gpu)
        ),
    };
    let suggestions = if fit == Fit::Fits { Vec::new() } else { suggestions(shape, config, gpu, total) };
    Verdict { fit, estimate, gpu_bytes: Some(gpu), message, suggestions }
}

fn suggestions(shape: &ModelShape, config: &TrainConfig, gpu: u64, total: u64) -> Vec<String> {
    let mut out = Vec::new();
    let about = |c: &TrainConfig| {
        let t = estimate(shape, c).total_bytes;
        (t, format!("about {} ({})", human_bytes(t), fit_words(classify(t, gpu))))
    };

    if config.per_device_train_batch_size > 1 {
        let mut c = config.clone();
        c.apply(super::config::Adjustment::OutOfMemory);
        let (t, words) = about(&c);
        if t < total {
            out.push(format!(
                "Halve the batch to {} and double gradient accumulation to {} (same effective batch of {}): {words}.",
                c.per_device_train_batch_size,
                c.gradient_accumulation_steps,
                u64::from(c.per_device_train_batch_size) * u64::from(c.gradient_accumulation_steps),
            ));
        }
    }
    if config.quantization_bit != Some(4) {
        let c = TrainConfig { quantization_bit: Some(4), ..config.clone() };
        let (t, words) = about(&c);
        if t < total {
            out.push(format!("Load the base model in 4-bit (QLoRA, quantization_bit: 4): {words}."));
        }
    }
    if config.cutoff_len >= 512 {
        let c = TrainConfig { cutoff_len: config.cutoff_len / 2, ..config.clone() };
        let (t, words) = about(&c);
        if t < total {
            out.push(format!(
                "Shorten cutoff_len from {} to {} tokens (longer examples are cut): {words}.",
                config.cutoff_len, c.cutoff_len
            ));
        }
    }
    // The next smaller known model; and, when that one does not fit either, the largest one that
    // does with these settings.
    let smaller: Vec<(&str, u64)> = QWEN25
        .iter()
        .rev()
        .map(|&(name, hidden, layers, inter, heads, kv, vocab, tied)| {
            (name, qwen_shape(hidden, layers, inter, heads, kv, vocab, tied))
        })
        .filter(|(_, s)| u128::from(s.parameters) * 100 < u128::from(shape.parameters) * 95)
        .map(|(name, s)| (name, estimate(&s, config).total_bytes))
        .collect();
    let needs = |(name, t): (&str, u64)| format!("{name} needs {} ({})", human_bytes(t), fit_words(classify(t, gpu)));
    if let Some(&next) = smaller.first() {
        let fitting = smaller.iter().copied().find(|&(_, t)| classify(t, gpu) == Fit::Fits);
        let text = match fitting {
            Some(fits) if fits.0 != next.0 => format!("{}; {}", needs(next), needs(fits)),
            _ => needs(next),
        };
        out.push(format!("Use a smaller model: {text} with these settings."));
    }
    if config.deepspeed != Some(ZeroStage::Zero3) {
        let e = estimate(shape, config);
        let sharded = u128::from(e.weights_bytes) + u128::from(e.lora_bytes);
        let per_gpu = |n: u128| {
            let rest = sharded / n + u128::from(e.activations_bytes);
            saturate(rest + u128::from(GIB) + rest / 10)
        };
        if let Some(n) = (2..=8u128).find(|&n| classify(per_gpu(n), gpu) == Fit::Fits) {
            out.push(format!(
                "Train on {n} GPUs like this one with DeepSpeed ZeRO-3 (deepspeed: z3), through LLaMA-Factory's launcher: \
                 FORCE_TORCHRUN=1 NPROC_PER_NODE={n} llamafactory-cli train run.yaml — about {} per GPU.",
                human_bytes(per_gpu(n))
            ));
        }
    }
    out
}

fn fit_words(fit: Fit) -> &'static str {
    match fit {
        Fit::Fits => "fits",
        Fit::Tight => "tight",
        Fit::WillNotFit => "will not fit",
        Fit::NoGpu => "no GPU",
    }
}

/// `14.7 B`, `68.8 M`, `12 K` parameters.
fn count(n: u64) -> String {
    let f = n as f64;
    if n >= 1_000_000_000 {
        format!("{:.2} B", f / 1e9)
    } else if n >= 1_000_000 {
        format!("{:.1} M", f / 1e6)
    } else if n >= 10_000 {
        format!("{:.0} K", f / 1e3)
    } else {
        n.to_string()
    }
}

/// `43.6 GiB`, `12 MiB`, `512 KiB`, `100 bytes`.
pub fn human_bytes(bytes: u64) -> String {
    let f = bytes as f64;
    if bytes >= GIB {
        format!("{:.1} GiB", f / GIB as f64)
    } else if bytes >= MIB {
        format!("{:.0} MiB", f / MIB as f64)
    } else if bytes >= 1024 {
        format!("{:.0} KiB", f / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn within(actual: u64, expected: f64, tolerance: f64) -> bool {
        ((actual as f64) - expected).abs() <= expected * tolerance
    }

    fn qwen7b_config_json() -> Value {
        // Qwen/Qwen2.5-7B-Instruct's config.json (the keys that matter).
        json!({
            "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
            "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
            "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
            "tie_word_embeddings": false, "torch_dtype": "bfloat16"
        })
    }

    fn tiny_shape() -> ModelShape {
        ModelShape::from_config_json(&json!({
            "model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128,
            "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 2048,
            "tie_word_embeddings": true
        }))
        .unwrap()
    }

    fn seed_config() -> TrainConfig {
        // The seed's defaults: bf16 (auto on a GPU), batch 4, cutoff 2048, rank 16 on all.
        TrainConfig { dataset: "ge".into(), ..TrainConfig::default() }
    }

    #[test]
    fn parameter_counts_match_the_published_sizes() {
        let seven = ModelShape::from_config_json(&qwen7b_config_json()).unwrap();
        assert!(within(seven.parameters, 7.61e9, 0.02), "{}", seven.parameters);
        assert_eq!((seven.layers, seven.num_key_value_heads, seven.tie_word_embeddings), (28, 4, false));
        assert_eq!(ModelShape::known("Qwen/Qwen2.5-7B-Instruct"), Some(seven));

        for (id, published) in [
            ("Qwen/Qwen2.5-0.5B-Instruct", 0.494e9),
            ("Qwen/Qwen2.5-1.5B-Instruct", 1.54e9),
            ("Qwen/Qwen2.5-3B-Instruct", 3.09e9),
            ("Qwen/Qwen2.5-14B-Instruct", 14.7e9),
            ("Qwen/Qwen2.5-32B-Instruct", 32.5e9),
            ("Qwen/Qwen2.5-72B-Instruct", 72.7e9),
        ] {
            let shape = ModelShape::known(id).unwrap();
            assert!(within(shape.parameters, published, 0.02), "{id}: {}", shape.parameters);
        }
        assert!(ModelShape::known("qwen/qwen2.5-0.5b").is_some(), "base id, any case");
        assert!(ModelShape::known("Qwen2.5-14B-Instruct").is_some(), "without the owner");
        assert!(ModelShape::known("meta-llama/Unknown-9B").is_none());
    }

    #[test]
    fn config_json_keys_defaults_and_errors() {
        // Llama-style: no num_key_value_heads (= heads), no bias, untied.
        let llama = ModelShape::from_config_json(&json!({
            "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
            "num_attention_heads": 32, "vocab_size": 32000
        }))
        .unwrap();
        assert_eq!(llama.num_key_value_heads, 32);
        assert!(!llama.tie_word_embeddings);
        assert!(within(llama.parameters, 6.74e9, 0.01), "Llama 2 7B: {}", llama.parameters);

        let mut missing = qwen7b_config_json();
        missing.as_object_mut().unwrap().remove("intermediate_size");
        match ModelShape::from_config_json(&missing) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "intermediate_size"),
            other => panic!("{other:?}"),
        }
        let mut wrong = qwen7b_config_json();
        wrong["num_attention_heads"] = json!("many");
        assert!(matches!(ModelShape::from_config_json(&wrong), Err(Error::Invalid { field, .. }) if field == "num_attention_heads"));
        let mut moe = qwen7b_config_json();
        moe["num_local_experts"] = json!(8);
        assert!(ModelShape::from_config_json(&moe).is_err());

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), qwen7b_config_json().to_string()).unwrap();
        assert_eq!(ModelShape::from_model_dir(dir.path()).unwrap().hidden_size, 3584);
        assert_eq!(ModelShape::lookup(&dir.path().to_string_lossy()).unwrap().hidden_size, 3584);
        assert!(ModelShape::from_model_dir(&dir.path().join("absent")).is_err());
        assert!(ModelShape::lookup("nobody/nothing").is_err());
    }

    #[test]
    fn the_tiny_demo_model_needs_little() {
        let shape = tiny_shape();
        assert!(shape.parameters < 300_000, "{}", shape.parameters);
        let config = TrainConfig::tiny_demo("/models/tiny-demo");
        let e = estimate(&shape, &config);
        assert!(e.weights_bytes < 2 * MIB, "fp32 weights: {}", e.weights_bytes);
        assert!(e.total_bytes < GIB + 100 * MIB, "{}", human_bytes(e.total_bytes));
        assert_eq!(e.parts.iter().map(|(_, b)| b).sum::<u64>(), e.total_bytes);
        // LoRA rank 8 on all seven linear layers of two blocks.
        let per_layer = 8 * ((64 + 64) + 2 * (64 + 32) + (64 + 64) + 3 * (64 + 128));
        assert_eq!(e.lora_params, 2 * per_layer);
        assert_eq!(e.lora_bytes, e.lora_params * 16);
        assert_eq!(verdict(&shape, &config, Some(8 * GIB)).fit, Fit::Fits);
    }

    #[test]
    fn fourteen_b_in_bf16_needs_a_big_gpu() {
        let shape = ModelShape::known("Qwen/Qwen2.5-14B-Instruct").unwrap();
        let config = seed_config();
        let e = estimate(&shape, &config);
        assert!(within(e.weights_bytes, 14.77e9 * 2.0, 0.03), "{}", e.weights_bytes);
        assert_eq!(e.parts.iter().map(|(_, b)| b).sum::<u64>(), e.total_bytes);
        assert!(e.formula.contains("GiB") && e.formula.starts_with("total = weights"), "{}", e.formula);

        let small = verdict(&shape, &config, Some(24 * GIB));
        assert_eq!(small.fit, Fit::WillNotFit, "{}", small.message);
        assert!(!small.suggestions.is_empty());
        let all = small.suggestions.join("\n");
        for expected in ["Halve the batch to 2 and double gradient accumulation to 8", "4-bit", "cutoff_len from 2048 to 1024", "Qwen/Qwen2.5-7B-Instruct", "ZeRO-3", "NPROC_PER_NODE="] {
            assert!(all.contains(expected), "missing {expected:?} in\n{all}");
        }

        let big = verdict(&shape, &config, Some(80 * GIB));
        assert_eq!(big.fit, Fit::Fits, "{}", big.message);
        assert!(big.suggestions.is_empty(), "suggestions only when needed: {:?}", big.suggestions);
    }

    #[test]
    fn four_bit_makes_fourteen_b_fit_better() {
        let shape = ModelShape::known("Qwen/Qwen2.5-14B-Instruct").unwrap();
        let bf16 = verdict(&shape, &seed_config(), Some(24 * GIB));
        let config = TrainConfig { quantization_bit: Some(4), ..seed_config() };
        let q4 = verdict(&shape, &config, Some(24 * GIB));
        assert!(q4.estimate.weights_bytes * 2 < bf16.estimate.weights_bytes);
        assert!(q4.estimate.total_bytes < bf16.estimate.total_bytes);
        assert_ne!(q4.fit, Fit::WillNotFit, "{}", q4.message);
        assert!(!q4.suggestions.iter().any(|s| s.contains("4-bit")), "already 4-bit: {:?}", q4.suggestions);
        // Eight bits sit between.
        let q8 = estimate(&shape, &TrainConfig { quantization_bit: Some(8), ..seed_config() });
        assert!(q4.estimate.weights_bytes < q8.weights_bytes && q8.weights_bytes < bf16.estimate.weights_bytes);
    }

    #[test]
    fn suggestions_only_help() {
        let shape = ModelShape::known("Qwen/Qwen2.5-7B-Instruct").unwrap();
        // Batch 1, short cutoff, already 4-bit, ZeRO-3: none of those suggestions applies.
        let config = TrainConfig {
            per_device_train_batch_size: 1,
            cutoff_len: 256,
            quantization_bit: Some(4),
            deepspeed: Some(ZeroStage::Zero3),
            ..seed_config()
        };
        let v = verdict(&shape, &config, Some(4 * GIB));
        assert_eq!(v.fit, Fit::WillNotFit, "{}", v.message);
        assert_eq!(v.suggestions.len(), 1, "{:?}", v.suggestions);
        assert!(v.suggestions[0].starts_with("Use a smaller model: Qwen/Qwen2.5-"), "{:?}", v.suggestions);
        assert!(v.suggestions[0].contains("(fits)"), "the largest smaller model that fits: {:?}", v.suggestions);
        // The smallest known model has nothing smaller to suggest.
        let tiny_gpu = verdict(&ModelShape::known("Qwen/Qwen2.5-0.5B-Instruct").unwrap(), &config, Some(GIB));
        assert!(tiny_gpu.suggestions.iter().all(|s| !s.contains("smaller model")), "{:?}", tiny_gpu.suggestions);
    }

    #[test]
    fn tight_is_between_eighty_and_a_hundred_percent() {
        assert_eq!(classify(80, 100), Fit::Fits);
        assert_eq!(classify(81, 100), Fit::Tight);
        assert_eq!(classify(100, 100), Fit::Tight);
        assert_eq!(classify(101, 100), Fit::WillNotFit);
        assert_eq!(classify(1, 0), Fit::WillNotFit);
    }

    #[test]
    fn no_gpu_means_the_cpu() {
        let v = verdict(&tiny_shape(), &TrainConfig::tiny_demo("tiny"), None);
        assert_eq!(v.fit, Fit::NoGpu);
        assert!(v.message.contains("CPU") && v.message.contains("7B"), "{}", v.message);
        assert!(v.suggestions.is_empty() && v.gpu_bytes.is_none());
        assert_eq!(serde_json::to_value(Fit::WillNotFit).unwrap(), json!("will_not_fit"));
    }

    #[test]
    fn targets_and_unknown_modules() {
        let shape = ModelShape::known("Qwen/Qwen2.5-7B-Instruct").unwrap();
        let qv = TrainConfig { lora_target: "q_proj, v_proj".into(), ..seed_config() };
        let h = 3584;
        assert_eq!(lora_parameters(&shape, &qv), 16 * ((h + h) + (h + 512)) * 28);
        let odd = TrainConfig { lora_target: "model.layers.mystery".into(), ..seed_config() };
        assert_eq!(lora_parameters(&shape, &odd), 16 * (h + h) * 28);
        assert_eq!(targets("all").len(), 7);
        assert_eq!(targets("q_proj,q_proj,self_attn.q_proj"), vec!["q_proj"]);
    }
}
