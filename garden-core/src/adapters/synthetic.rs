//! Synthetic Qwen2-shaped base models and LoRA adapters, written with the real formats, for tests
//! (no Python, no download). Values come from a seeded generator, so runs are reproducible.

use std::path::Path;

use serde_json::json;

use super::safetensors::{Dtype, Planned, Writer};
use crate::error::{Error, Result};

/// Shape of a synthetic model.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub vocab: usize,
    pub kv_heads: usize,
    pub heads: usize,
}

impl Dims {
    pub const TINY: Dims = Dims { hidden: 16, intermediate: 32, layers: 2, vocab: 64, kv_heads: 2, heads: 4 };

    fn kv_dim(&self) -> usize {
        self.hidden / self.heads * self.kv_heads
    }

    /// (module, out, in) of every projection in a layer.
    fn projections(&self) -> [(&'static str, usize, usize); 7] {
        let (h, i, kv) = (self.hidden, self.intermediate, self.kv_dim());
        [
            ("self_attn.q_proj", h, h),
            ("self_attn.k_proj", kv, h),
            ("self_attn.v_proj", kv, h),
            ("self_attn.o_proj", h, h),
            ("mlp.gate_proj", i, h),
            ("mlp.up_proj", i, h),
            ("mlp.down_proj", h, i),
        ]
    }
}

/// xorshift: small, seeded, good enough for test weights in [-scale, scale).
struct Rng(u64);

impl Rng {
    fn next(&mut self, scale: f32) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
    }

    fn fill(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next(scale)).collect()
    }
}

/// Writes a Qwen2-shaped base model folder (config.json, one safetensors file per `shards`).
pub fn write_base(dir: &Path, d: Dims, dtype: Dtype, shards: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let config = json!({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": d.hidden,
        "intermediate_size": d.intermediate, "num_hidden_layers": d.layers, "num_attention_heads": d.heads,
        "num_key_value_heads": d.kv_heads, "vocab_size": d.vocab, "max_position_embeddings": 256,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": false,
        "torch_dtype": match dtype { Dtype::F16 => "float16", Dtype::BF16 => "bfloat16", _ => "float32" },
    });
    crate::fsutil::write_atomically(&dir.join("config.json"), serde_json::to_vec_pretty(&config).unwrap_or_default().as_slice())?;
    let mut tensors: Vec<(String, Vec<usize>)> = vec![("model.embed_tokens.weight".into(), vec![d.vocab, d.hidden])];
    for l in 0..d.layers {
        for (m, o, i) in d.projections() {
            tensors.push((format!("model.layers.{l}.{m}.weight"), vec![o, i]));
        }
        tensors.push((format!("model.layers.{l}.input_layernorm.weight"), vec![d.hidden]));
        tensors.push((format!("model.layers.{l}.post_attention_layernorm.weight"), vec![d.hidden]));
    }
    tensors.push(("model.norm.weight".into(), vec![d.hidden]));
    tensors.push(("lm_head.weight".into(), vec![d.vocab, d.hidden]));
    let mut rng = Rng(seed.max(1));
    let per = tensors.len().div_ceil(shards.max(1));
    let mut weight_map = serde_json::Map::new();
    let n_shards = tensors.chunks(per).count();
    for (s, chunk) in tensors.chunks(per).enumerate() {
        let file = if n_shards == 1 { "model.safetensors".to_string() } else { format!("model-{:05}-of-{n_shards:05}.safetensors", s + 1) };
        let plan = chunk.iter().map(|(n, sh)| Planned { name: n.clone(), dtype: dtype.clone(), shape: sh.clone() }).collect();
        let mut meta = serde_json::Map::new();
        meta.insert("format".into(), "pt".into());
        let mut w = Writer::create(&dir.join(&file), plan, &meta)?;
        for (n, sh) in chunk {
            let count = sh.iter().product();
            let values = if sh.len() == 1 { vec![1.0; count] } else { rng.fill(count, 0.1) };
            w.write_f32(n, &values)?;
            weight_map.insert(n.clone(), file.clone().into());
        }
        w.finish()?;
    }
    if n_shards > 1 {
        let index = json!({"metadata": {}, "weight_map": weight_map});
        crate::fsutil::write_atomically(&dir.join("model.safetensors.index.json"), serde_json::to_vec_pretty(&index).unwrap_or_default().as_slice())?;
    }
    Ok(())
}

/// Writes a PEFT LoRA adapter folder for a base of shape `d`, on `targets` (short names such as
/// `q_proj`), with non-zero A and B so it changes outputs.
pub fn write_adapter(dir: &Path, base: &str, d: Dims, r: usize, alpha: f64, targets: &[&str], dtype: Dtype, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let config = json!({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
        "target_modules": targets, "base_model_name_or_path": base, "use_rslora": false, "use_dora": false,
        "fan_in_fan_out": false, "bias": "none", "rank_pattern": {}, "alpha_pattern": {},
    });
    crate::fsutil::write_atomically(&dir.join("adapter_config.json"), serde_json::to_vec_pretty(&config).unwrap_or_default().as_slice())?;
    let mut plan = Vec::new();
    for l in 0..d.layers {
        for (m, o, i) in d.projections() {
            if targets.iter().any(|t| m.ends_with(t)) {
                let base = format!("base_model.model.model.layers.{l}.{m}");
                plan.push(Planned { name: format!("{base}.lora_A.weight"), dtype: dtype.clone(), shape: vec![r, i] });
                plan.push(Planned { name: format!("{base}.lora_B.weight"), dtype: dtype.clone(), shape: vec![o, r] });
            }
        }
    }
    let mut rng = Rng(seed.max(1) ^ 0x9e37_79b9);
    let names: Vec<(String, usize)> = plan.iter().map(|p| (p.name.clone(), p.shape.iter().product())).collect();
    let mut w = Writer::create(&dir.join("adapter_model.safetensors"), plan, &serde_json::Map::new())?;
    for (n, count) in names {
        w.write_f32(&n, &rng.fill(count, 0.05))?;
    }
    w.finish()
}

/// Writes an mlx-lm LoRA adapter folder for a base of shape `d` (`adapters.safetensors` with
/// `model.layers.N.<module>.lora_a` `[in, r]` and `.lora_b` `[r, out]`, and an
/// `adapter_config.json` with `lora_parameters`), on `targets` (short names), non-zero A and B.
#[allow(clippy::too_many_arguments)]
pub fn write_mlx_adapter(dir: &Path, base: &str, d: Dims, r: usize, scale: f64, targets: &[&str], dtype: Dtype, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let keys: Vec<&str> = d.projections().iter().map(|(m, _, _)| *m).filter(|m| targets.iter().any(|t| m.ends_with(t))).collect();
    let config = json!({
        "model": base, "fine_tune_type": "lora", "num_layers": d.layers, "train": true, "iters": 20,
        "batch_size": 2, "learning_rate": 1e-4, "adapter_path": dir.display().to_string(),
        "lora_parameters": {"rank": r, "dropout": 0.0, "scale": scale, "keys": keys},
    });
    crate::fsutil::write_atomically(&dir.join("adapter_config.json"), serde_json::to_vec_pretty(&config).unwrap_or_default().as_slice())?;
    let mut plan = Vec::new();
    for l in 0..d.layers {
        for (m, o, i) in d.projections() {
            if keys.contains(&m) {
                let module = format!("model.layers.{l}.{m}");
                plan.push(Planned { name: format!("{module}.lora_a"), dtype: dtype.clone(), shape: vec![i, r] });
                plan.push(Planned { name: format!("{module}.lora_b"), dtype: dtype.clone(), shape: vec![r, o] });
            }
        }
    }
    let mut rng = Rng(seed.max(1) ^ 0x51_7cc1);
    let names: Vec<(String, usize)> = plan.iter().map(|p| (p.name.clone(), p.shape.iter().product())).collect();
    let mut meta = serde_json::Map::new();
    meta.insert("format".into(), "mlx".into());
    let mut w = Writer::create(&dir.join("adapters.safetensors"), plan, &meta)?;
    for (n, count) in names {
        w.write_f32(&n, &rng.fill(count, 0.05))?;
    }
    w.finish()
}
