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
//! overhead    = 0.5 GiB (CUDA context: CUDA 12 loads kernels lazily)
//!             + 10% of LoRA and activations (allocator fragmentation, buffers; the weights are
//!               loaded once into blocks of their exact size)
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub fit: Fit,
    pub estimate: Estimate,
    pub gpu_bytes: Option<u64>,
    pub message: String,
    /// Concrete changes that lower the estimate (only when it is tight or will not fit), each
    /// one click away in the wizard.
    pub suggestions: Vec<Suggestion>,
}

/// The GPU a run is planned for: this machine's, or one the person names (planning a run for
/// another machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Memory of one GPU.
    pub memory_bytes: u64,
    /// How many such GPUs (ZeRO-3 shards the weights across them).
    pub count: u32,
}

pub use garden_types::runs::{Change, Fit, Suggestion};

/// Applies a suggested change to a config (the GPU count of ZeRO-3 is the target's, not the
/// config's).
pub fn apply_change(change: &Change, config: &mut TrainConfig) {
    match change {
        Change::Batch { batch, accumulation } => {
            config.per_device_train_batch_size = *batch;
            config.gradient_accumulation_steps = *accumulation;
        }
        Change::Quantize { bits } => config.quantization_bit = Some(*bits),
        Change::Cutoff { tokens } => config.cutoff_len = *tokens,
        Change::Model { id } => config.model_name_or_path = id.clone(),
        Change::Zero3 { .. } => config.deepspeed = Some(ZeroStage::Zero3),
    }
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
    estimate_on(shape, config, 1)
}

/// The estimate per GPU when `gpus` GPUs train together: with DeepSpeed ZeRO-3 the weights and
/// the LoRA states are sharded across them; otherwise each GPU holds everything.
pub fn estimate_on(shape: &ModelShape, config: &TrainConfig, gpus: u32) -> Estimate {
    let shards: u128 = if config.deepspeed == Some(ZeroStage::Zero3) { u128::from(gpus.max(1)) } else { 1 };
    // On a GPU, `auto` is bf16 or fp16: 2 bytes either way.
    let (compute_bytes, compute_name): (u128, &str) = match config.resolved_precision(super::config::Device::Gpu { bf16: true }) {
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
    let (weights, lora) = (weights / shards, lora / shards);
    let weights_words = if shards > 1 { format!("{weights_words}, sharded over {shards} GPUs (ZeRO-3)") } else { weights_words };
    let overhead = u128::from(GIB) / 2 + (lora + activations) / 10;
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
        ("CUDA context and allocator: 0.5 GiB + 10% of LoRA and activations".to_owned(), saturate(overhead)),
    ];
    let formula = format!(
        "total = weights (parameters × bytes per weight) + LoRA (r × (in + out) per targeted layer × layers × 16 bytes) \
         + activations (batch × cutoff_len × hidden × layers × {compute_bytes} + batch × cutoff_len × (hidden × 16 + vocab × 4) bytes) \
         + overhead (0.5 GiB + 10% of LoRA and activations) = {} + {} + {} + {} = {}",
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
    verdict_for(shape, config, gpu_memory_bytes.map(|memory_bytes| Target { memory_bytes, count: 1 }))
}

/// [`verdict`] for a target of one or more GPUs.
pub fn verdict_for(shape: &ModelShape, config: &TrainConfig, target: Option<Target>) -> Verdict {
    let gpus = target.map_or(1, |t| t.count.max(1));
    let estimate = estimate_on(shape, config, gpus);
    let total = estimate.total_bytes;
    let Some(Target { memory_bytes: gpu, .. }) = target else {
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
    let each = if gpus > 1 { format!(" per GPU ({gpus} GPUs)") } else { String::new() };
    let message = match fit {
        Fit::Fits => format!("Fits: about {}{each} of the GPU's {} ({percent:.0}%).", human_bytes(total), human_bytes(gpu)),
        Fit::Tight => format!(
            "Tight: about {}{each} of the GPU's {} ({percent:.0}%); it may run out of memory (the estimate is rough).",
            human_bytes(total),
            human_bytes(gpu)
        ),
        Fit::WillNotFit | Fit::NoGpu => format!(
            "Will not fit: needs about {}{each} but the GPU has {}.",
            human_bytes(total),
            human_bytes(gpu)
        ),
    };
    let suggestions = if fit == Fit::Fits { Vec::new() } else { suggestions(shape, config, gpu, gpus, total) };
    Verdict { fit, estimate, gpu_bytes: Some(gpu), message, suggestions }
}

fn suggestions(shape: &ModelShape, config: &TrainConfig, gpu: u64, gpus: u32, total: u64) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let about = |c: &TrainConfig| {
        let t = estimate_on(shape, c, gpus).total_bytes;
        (t, format!("about {} ({})", human_bytes(t), fit_words(classify(t, gpu))))
    };

    if config.per_device_train_batch_size > 1 {
        let mut c = config.clone();
        c.apply(super::config::Adjustment::OutOfMemory);
        let (t, words) = about(&c);
        if t < total {
            out.push(Suggestion {
                text: format!(
                    "Halve the batch to {} and double gradient accumulation to {} (same effective batch of {}): {words}.",
                    c.per_device_train_batch_size,
                    c.gradient_accumulation_steps,
                    u64::from(c.per_device_train_batch_size) * u64::from(c.gradient_accumulation_steps),
                ),
                change: Change::Batch { batch: c.per_device_train_batch_size, accumulation: c.gradient_accumulation_steps },
            });
        }
    }
    if config.quantization_bit != Some(4) {
        let c = TrainConfig { quantization_bit: Some(4), ..config.clone() };
        let (t, words) = about(&c);
        if t < total {
            out.push(Suggestion {
                text: format!("Load the base model in 4-bit (QLoRA, quantization_bit: 4; needs bitsandbytes): {words}."),
                change: Change::Quantize { bits: 4 },
            });
        }
    }
    if config.cutoff_len >= 512 {
        let c = TrainConfig { cutoff_len: config.cutoff_len / 2, ..config.clone() };
        let (t, words) = about(&c);
        if t < total {
            out.push(Suggestion {
                text: format!(
                    "Shorten cutoff_len from {} to {} tokens (longer examples are cut): {words}.",
                    config.cutoff_len, c.cutoff_len
                ),
                change: Change::Cutoff { tokens: c.cutoff_len },
            });
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
        .map(|(name, s)| (name, estimate_on(&s, config, gpus).total_bytes))
        .collect();
    let needs = |(name, t): (&str, u64)| format!("{name} needs {} ({})", human_bytes(t), fit_words(classify(t, gpu)));
    if let Some(&next) = smaller.first() {
        let fitting = smaller.iter().copied().find(|&(_, t)| classify(t, gpu) == Fit::Fits);
        let (text, pick) = match fitting {
            Some(fits) if fits.0 != next.0 => (format!("{}; {}", needs(next), needs(fits)), fits.0),
            Some(fits) => (needs(next), fits.0),
            None => (needs(next), next.0),
        };
        out.push(Suggestion {
            text: format!("Use a smaller model: {text} with these settings."),
            change: Change::Model { id: pick.to_owned() },
        });
    }
    if config.deepspeed != Some(ZeroStage::Zero3) {
        let c = TrainConfig { deepspeed: Some(ZeroStage::Zero3), ..config.clone() };
        if let Some(n) = (2..=8u32).find(|&n| classify(estimate_on(shape, &c, n).total_bytes, gpu) == Fit::Fits) {
            out.push(Suggestion {
                text: format!(
                    "Train on {n} GPUs like this one with DeepSpeed ZeRO-3 (deepspeed: z3; needs deepspeed), through LLaMA-Factory's launcher: \
                     FORCE_TORCHRUN=1 NPROC_PER_NODE={n} llamafactory-cli train run.yaml — about {} per GPU.",
                    human_bytes(estimate_on(shape, &c, n).total_bytes)
                ),
                change: Change::Zero3 { gpus: n },
            });
        }
    }
    out
}

/// The base model's precision chosen for a target: full precision when it fits with margin,
/// else 4-bit QLoRA, with a smaller batch (and more accumulation) if that is still too much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub quantization_bit: Option<u8>,
    pub per_device_train_batch_size: u32,
    pub gradient_accumulation_steps: u32,
    pub cutoff_len: u32,
    /// One sentence: what was chosen and why.
    pub sentence: String,
}

impl Recommendation {
    pub fn apply(&self, config: &mut TrainConfig) {
        config.quantization_bit = self.quantization_bit;
        config.per_device_train_batch_size = self.per_device_train_batch_size;
        config.gradient_accumulation_steps = self.gradient_accumulation_steps;
        config.cutoff_len = self.cutoff_len;
    }
}

/// Chooses the precision (and, if needed, the batch) for `config` on `target` (`gpu_name` is
/// for the sentence). On the CPU the base model stays in full precision.
pub fn recommend(shape: &ModelShape, config: &TrainConfig, target: Option<Target>, gpu_name: &str) -> Recommendation {
    let keep = |sentence: String, c: &TrainConfig| Recommendation {
        quantization_bit: c.quantization_bit,
        per_device_train_batch_size: c.per_device_train_batch_size,
        gradient_accumulation_steps: c.gradient_accumulation_steps,
        cutoff_len: c.cutoff_len,
        sentence,
    };
    let full = TrainConfig { quantization_bit: None, ..config.clone() };
    let Some(t) = target else {
        return keep(
            "No GPU here: the base model loads in full precision (fp32 on the CPU), which suits the tiny demo model; \
             4-bit QLoRA is for NVIDIA GPUs."
                .to_owned(),
            &full,
        );
    };
    let gpus = t.count.max(1);
    let gpu = t.memory_bytes;
    let total = |c: &TrainConfig| estimate_on(shape, c, gpus).total_bytes;
    let pct = |b: u64| if gpu == 0 { 0.0 } else { b as f64 / gpu as f64 * 100.0 };
    let full_total = total(&full);
    if classify(full_total, gpu) == Fit::Fits {
        return keep(
            format!(
                "Full precision: the base model fits the {gpu_name} ({}) with margin, about {} ({:.0}%).",
                human_bytes(gpu),
                human_bytes(full_total),
                pct(full_total)
            ),
            &full,
        );
    }
    let mut q4 = TrainConfig { quantization_bit: Some(4), ..config.clone() };
    while classify(total(&q4), gpu) != Fit::Fits && q4.per_device_train_batch_size > 1 {
        q4.apply(super::config::Adjustment::OutOfMemory);
    }
    while classify(total(&q4), gpu) != Fit::Fits && q4.cutoff_len >= 1024 {
        q4.cutoff_len /= 2;
    }
    let q4_total = total(&q4);
    let mut changes = Vec::new();
    if q4.per_device_train_batch_size != config.per_device_train_batch_size {
        changes.push(format!(
            "batch {} × accumulation {} (the same effective batch)",
            q4.per_device_train_batch_size, q4.gradient_accumulation_steps
        ));
    }
    if q4.cutoff_len != config.cutoff_len {
        changes.push(format!("examples cut at {} tokens instead of {}", q4.cutoff_len, config.cutoff_len));
    }
    let batch = if changes.is_empty() { String::new() } else { format!(", with {}", changes.join(" and ")) };
    let outcome = if classify(q4_total, gpu) == Fit::Fits { "fits with margin" } else { "is still too much: see the suggestions" };
    keep(
        format!(
            "4-bit QLoRA: in full precision the base model needs about {}, more than the {gpu_name}'s {} allows with margin; \
             in 4-bit{batch} it needs about {} ({:.0}%), which {outcome}.",
            human_bytes(full_total),
            human_bytes(gpu),
            human_bytes(q4_total),
            pct(q4_total)
        ),
        &q4,
    )
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
        // The guide's defaults: bf16 (auto on a GPU), batch 4, cutoff 2048, rank 16 on all.
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
        let all = small.suggestions.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
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
        assert!(!q4.suggestions.iter().any(|s| s.text.contains("4-bit")), "already 4-bit: {:?}", q4.suggestions);
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
        assert!(v.suggestions[0].text.starts_with("Use a smaller model: Qwen/Qwen2.5-"), "{:?}", v.suggestions);
        assert!(v.suggestions[0].text.contains("(fits)"), "the largest smaller model that fits: {:?}", v.suggestions);
        let Change::Model { id } = &v.suggestions[0].change else { panic!("{:?}", v.suggestions[0]) };
        let fits = TrainConfig { model_name_or_path: id.clone(), ..config.clone() };
        assert_eq!(verdict(&ModelShape::known(id).unwrap(), &fits, Some(4 * GIB)).fit, Fit::Fits, "the one-click model fits");
        // The smallest known model has nothing smaller to suggest.
        let tiny_gpu = verdict(&ModelShape::known("Qwen/Qwen2.5-0.5B-Instruct").unwrap(), &config, Some(GIB));
        assert!(tiny_gpu.suggestions.iter().all(|s| !s.text.contains("smaller model")), "{:?}", tiny_gpu.suggestions);
    }


    /// LLaMA-Factory's published hardware table (README, "Hardware Requirement"), in GB, for
    /// 7B / 14B / 30B: LoRA in 16 bits, QLoRA in 8 and 4 bits.
    const LLAMAFACTORY_TABLE: [(&str, Option<u8>, [f64; 3]); 3] =
        [("LoRA 16-bit", None, [16.0, 32.0, 64.0]), ("QLoRA 8-bit", Some(8), [10.0, 20.0, 40.0]), ("QLoRA 4-bit", Some(4), [6.0, 12.0, 24.0])];

    /// The table's settings as we read them: batch 1, cutoff 1024, LoRA rank 8 on every linear
    /// layer (LLaMA-Factory's defaults), bf16.
    fn table_config(bits: Option<u8>) -> TrainConfig {
        TrainConfig { per_device_train_batch_size: 1, cutoff_len: 1024, lora_rank: 8, quantization_bit: bits, ..seed_config() }
    }

    fn llama(hidden: u32, layers: u32, inter: u32, heads: u32) -> ModelShape {
        ModelShape::from_config_json(&json!({
            "model_type": "llama", "hidden_size": hidden, "num_hidden_layers": layers, "intermediate_size": inter,
            "num_attention_heads": heads, "vocab_size": 32000
        }))
        .unwrap()
    }

    #[test]
    fn the_estimate_is_within_a_quarter_of_llamafactorys_table() {
        // The table was measured on LLaMA (32k vocabulary): LLaMA 7B, 13B, 33B against its 7B,
        // 14B, 30B columns, each column scaled by the parameter count.
        let llamas = [(llama(4096, 32, 11008, 32), 7e9), (llama(5120, 40, 13824, 40), 14e9), (llama(6656, 60, 17920, 52), 30e9)];
        // Qwen 2.5 7B / 14B / 32B (its 152k vocabulary puts 1.1–1.6 B parameters in embeddings
        // and lm_head, which bitsandbytes keeps in bf16: that is counted, and still within).
        let qwen = ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-32B-Instruct"].map(|id| {
            let shape = ModelShape::known(id).unwrap();
            let nominal = [7e9, 14e9, 30e9][["7B", "14B", "32B"].iter().position(|s| id.contains(s)).unwrap()];
            (shape, nominal)
        });
        let mut report = Vec::new();
        for (family, shapes) in [("LLaMA", &llamas), ("Qwen2.5", &qwen)] {
            for (label, bits, column) in LLAMAFACTORY_TABLE {
                for ((shape, nominal), table_gb) in shapes.iter().zip(column) {
                    let expected = table_gb * 1e9 * shape.parameters as f64 / nominal;
                    let ours = estimate(shape, &table_config(bits)).total_bytes as f64;
                    let off = ours / expected - 1.0;
                    report.push(format!("{family} {:.1}B {label}: ours {:.1} GB, table {:.1} GB ({:+.0}%)", shape.parameters as f64 / 1e9, ours / 1e9, expected / 1e9, off * 100.0));
                    assert!(off.abs() <= 0.25, "{}", report.last().unwrap());
                }
            }
        }
        println!("{}", report.join("\n"));
    }

    #[test]
    fn suggestions_carry_their_change() {
        let shape = ModelShape::known("Qwen/Qwen2.5-14B-Instruct").unwrap();
        let v = verdict(&shape, &seed_config(), Some(24 * GIB));
        let changes: Vec<&Change> = v.suggestions.iter().map(|s| &s.change).collect();
        assert!(changes.contains(&&Change::Quantize { bits: 4 }), "{changes:?}");
        assert!(changes.contains(&&Change::Batch { batch: 2, accumulation: 8 }), "{changes:?}");
        assert!(changes.contains(&&Change::Cutoff { tokens: 1024 }), "{changes:?}");
        // Each change, applied, lowers the estimate as its sentence says.
        for s in &v.suggestions {
            let mut c = seed_config();
            apply_change(&s.change, &mut c);
            let gpus = if let Change::Zero3 { gpus } = s.change { gpus } else { 1 };
            let shape = match &s.change {
                Change::Model { id } => ModelShape::known(id).unwrap(),
                _ => shape.clone(),
            };
            assert!(estimate_on(&shape, &c, gpus).total_bytes < v.estimate.total_bytes, "{s:?}");
            assert!(!s.change.params().is_empty());
        }
        let zero3 = v.suggestions.iter().find_map(|s| if let Change::Zero3 { gpus } = s.change { Some(gpus) } else { None }).unwrap();
        let c = TrainConfig { deepspeed: Some(ZeroStage::Zero3), ..seed_config() };
        let after = verdict_for(&shape, &c, Some(Target { memory_bytes: 24 * GIB, count: zero3 }));
        assert_eq!(after.fit, Fit::Fits, "{}", after.message);
        assert!(after.message.contains(&format!("({zero3} GPUs)")), "{}", after.message);
        assert_eq!(
            Change::Quantize { bits: 4 }.params(),
            vec![("quantization_bit", "4".to_owned())]
        );
    }

    #[test]
    fn the_guides_fourteen_b_on_consumer_gpus_gets_qlora() {
        let shape = ModelShape::known("Qwen/Qwen2.5-14B-Instruct").unwrap();
        for gb in [16, 24] {
            let target = Target { memory_bytes: gb * GIB, count: 1 };
            let r = recommend(&shape, &seed_config(), Some(target), "RTX 4090");
            assert_eq!(r.quantization_bit, Some(4), "{gb} GB: {}", r.sentence);
            assert!(r.sentence.starts_with("4-bit QLoRA") && r.sentence.contains("fits with margin"), "{}", r.sentence);
            let mut c = seed_config();
            r.apply(&mut c);
            assert_eq!(verdict_for(&shape, &c, Some(target)).fit, Fit::Fits, "{gb} GB");
            assert_eq!(c.per_device_train_batch_size * c.gradient_accumulation_steps, 16, "the effective batch is kept");
        }
        let big = recommend(&shape, &seed_config(), Some(Target { memory_bytes: 80 * GIB, count: 1 }), "H100");
        assert_eq!(big.quantization_bit, None, "{}", big.sentence);
        assert!(big.sentence.starts_with("Full precision"), "{}", big.sentence);
        let cpu = recommend(&tiny_shape(), &TrainConfig::tiny_demo("t"), None, "");
        assert_eq!(cpu.quantization_bit, None);
        assert!(cpu.sentence.contains("CPU"), "{}", cpu.sentence);
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
