//! Native conversion, no Python: a PEFT LoRA → a GGUF LoRA adapter that llama.cpp and Ollama
//! load, and a LoRA merged into its base model's safetensors → a complete model folder.
//!
//! The GGUF follows llama.cpp's own `convert_lora_to_gguf.py`: tensors `blk.N.attn_q.weight.lora_a`
//! `[r, in]` and `….lora_b` `[out, r]`, `general.type = adapter`, `adapter.type = lora`,
//! `adapter.lora.alpha`. llama.cpp scales by `alpha / r`; where PEFT's scale differs (rsLoRA,
//! `alpha_pattern`), the difference is folded into `lora_b` so the result is exact.
//!
//! Both read the LoRA pairs in PEFT's layout through [`LoraPair::read_a`]/[`LoraPair::read_b`],
//! so mlx-lm adapters (stored transposed, scale `lora_parameters.scale`) convert and merge alike.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::gguf::{GgmlType, GgufWriter, TensorEntry, Value};
use super::peft::{BaseModel, LoraPair, PeftAdapter};
use super::safetensors::{Planned, Writer};
use crate::error::{Error, Result};

/// llama.cpp's architecture name for a Hugging Face `model_type`, for the architectures whose
/// tensor names garden-eden maps (the dense decoders LLaMA-Factory trains most).
pub fn gguf_architecture(model_type: &str) -> Option<&'static str> {
    Some(match model_type {
        "qwen2" => "qwen2",
        "qwen3" => "qwen3",
        "llama" | "mistral" => "llama",
        "gemma" => "gemma",
        "gemma2" => "gemma2",
        "gemma3" | "gemma3_text" => "gemma3",
        _ => return None,
    })
}

/// llama.cpp's name for a Hugging Face weight (`model.layers.3.self_attn.q_proj.weight` →
/// `blk.3.attn_q.weight`).
pub fn gguf_tensor_name(hf: &str) -> Option<String> {
    if hf == "lm_head.weight" {
        return Some("output.weight".into());
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    layer.parse::<u32>().ok()?;
    let module = rest.strip_suffix(".weight")?;
    let short = match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        _ => return None,
    };
    Some(format!("blk.{layer}.{short}.weight"))
}

/// What a conversion wrote.
#[derive(Debug, Clone, Serialize)]
pub struct GgufReport {
    pub path: PathBuf,
    pub architecture: String,
    pub tensors: usize,
    pub alpha: f64,
    pub rank: usize,
    pub out_type: String,
    pub bytes: u64,
}

/// Writes `adapter` as a GGUF LoRA at `out`, checked against `base` (names and shapes).
pub fn to_gguf(adapter: &PeftAdapter, base: &BaseModel, out: &Path, ty: GgmlType) -> Result<GgufReport> {
    let file = adapter.weights_file()?;
    let model_type = base.model_type();
    let arch = gguf_architecture(model_type).ok_or_else(|| {
        Error::invalid(
            "base model",
            format!("architecture '{model_type}' is not supported for GGUF conversion (supported: qwen2, qwen3, llama, mistral, gemma, gemma2, gemma3)"),
        )
    })?;
    base.check_adapter(adapter)?;
    if adapter.config.fan_in_fan_out {
        return Err(Error::invalid("adapter", "fan_in_fan_out adapters (GPT-2 style Conv1D) are not supported"));
    }
    // One alpha for the file; per-pair differences are folded into lora_b.
    let rank = adapter.config.r;
    let alpha = adapter.config.lora_alpha;
    let mut plan: Vec<(&LoraPair, String, f32)> = Vec::new();
    for pair in &adapter.pairs {
        let base_name = pair.base_weight();
        let name = gguf_tensor_name(&base_name).ok_or_else(|| {
            Error::invalid("adapter", format!("{base_name} has no llama.cpp tensor name (only attention and MLP projections and lm_head are mapped)"))
        })?;
        if name == "output.weight" && base.find("lm_head.weight").is_none() {
            return Err(Error::invalid("adapter", "the adapter changes lm_head, but the base ties it to the embeddings: llama.cpp cannot apply that"));
        }
        let llama_scale = alpha / pair.rank as f64;
        let fold = (pair.scale / llama_scale) as f32;
        plan.push((pair, name, fold));
    }
    plan.sort_by(|x, y| x.1.cmp(&y.1));
    let mut tensors = Vec::new();
    for (pair, name, _) in &plan {
        tensors.push(TensorEntry { name: format!("{name}.lora_a"), shape: pair.a.shape.clone(), ty });
        tensors.push(TensorEntry { name: format!("{name}.lora_b"), shape: pair.b.shape.clone(), ty });
    }
    let name = adapter.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "adapter".into());
    let metadata = [
        ("general.architecture", Value::Str(arch.to_string())),
        ("general.type", Value::Str("adapter".into())),
        ("general.name", Value::Str(name)),
        ("adapter.type", Value::Str("lora".into())),
        ("adapter.lora.alpha", Value::F32(alpha as f32)),
        ("general.quantization_version", Value::U32(2)),
    ];
    let mut w = GgufWriter::create(out, &metadata, tensors)?;
    for (pair, name, fold) in &plan {
        w.write(&format!("{name}.lora_a"), &pair.read_a(file)?)?;
        let mut b = pair.read_b(file)?;
        if (*fold - 1.0).abs() > f32::EPSILON {
            b.iter_mut().for_each(|v| *v *= fold);
        }
        w.write(&format!("{name}.lora_b"), &b)?;
    }
    w.finish()?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(GgufReport { path: out.to_path_buf(), architecture: arch.to_string(), tensors: plan.len() * 2, alpha, rank, out_type: ty.as_str().into(), bytes })
}

/// What a merge wrote.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    pub dir: PathBuf,
    pub shards: usize,
    pub tensors: usize,
    pub merged: usize,
    pub bytes: u64,
}

/// `W += scale · B·A`, row by row, in f32.
fn add_delta(w: &mut [f32], pair: &LoraPair, a: &[f32], b: &[f32]) {
    let (out, inp) = pair.delta_shape();
    let r = pair.rank;
    let scale = pair.scale as f32;
    for o in 0..out {
        let row = &mut w[o * inp..(o + 1) * inp];
        for k in 0..r {
            let coef = b[o * r + k] * scale;
            if coef == 0.0 {
                continue;
            }
            let a_row = &a[k * inp..(k + 1) * inp];
            for (x, y) in row.iter_mut().zip(a_row) {
                *x += coef * y;
            }
        }
    }
}

/// Merges `adapter` into `base`, writing a complete model folder at `out` (config, tokenizer and
/// every other file copied; weights in the base's shards, names, dtypes and order). One tensor is
/// in memory at a time. The folder is built under a temporary name and renamed when whole.
pub fn merge(adapter: &PeftAdapter, base: &BaseModel, out: &Path) -> Result<MergeReport> {
    let file = adapter.weights_file()?;
    base.check_adapter(adapter)?;
    if adapter.config.fan_in_fan_out {
        return Err(Error::invalid("adapter", "fan_in_fan_out adapters (GPT-2 style Conv1D) are not supported"));
    }
    if out.exists() {
        return Err(Error::invalid("output", format!("{} already exists: choose a new folder", out.display())));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "merged".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
    let result = merge_into(adapter, file, base, &tmp).and_then(|report| {
        std::fs::rename(&tmp, out).map_err(|e| Error::io("renaming into", out, e))?;
        Ok(MergeReport { dir: out.to_path_buf(), ..report })
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn merge_into(adapter: &PeftAdapter, file: &super::safetensors::SafeTensors, base: &BaseModel, dir: &Path) -> Result<MergeReport> {
    // Everything that is not a weight file travels as is (config, tokenizer, templates…).
    let entries = std::fs::read_dir(&base.dir).map_err(|e| Error::io("reading", &base.dir, e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let fname = entry.file_name().to_string_lossy().into_owned();
        let is_weights = fname.ends_with(".safetensors") || fname.ends_with(".bin") || fname.ends_with(".pt") || fname.ends_with(".pth") || fname == "model.safetensors.index.json";
        if path.is_file() && !is_weights && !fname.starts_with('.') {
            std::fs::copy(&path, dir.join(&fname)).map_err(|e| Error::io("copying", &path, e))?;
        }
    }
    if base.dir.join("model.safetensors.index.json").is_file() {
        let src = base.dir.join("model.safetensors.index.json");
        std::fs::copy(&src, dir.join("model.safetensors.index.json")).map_err(|e| Error::io("copying", &src, e))?;
    }
    let by_weight: std::collections::HashMap<String, &LoraPair> = adapter.pairs.iter().map(|p| (p.base_weight(), p)).collect();
    let (mut tensors, mut merged, mut bytes) = (0, 0, 0u64);
    for (shard, src) in base.shards.iter().zip(&base.files) {
        let plan = src.tensors.iter().map(|t| Planned { name: t.name.clone(), dtype: t.dtype.clone(), shape: t.shape.clone() }).collect();
        let target = dir.join(shard);
        let mut w = Writer::create(&target, plan, &src.metadata)?;
        for t in &src.tensors {
            match by_weight.get(&t.name) {
                Some(pair) => {
                    let mut values = src.read_f32(t)?;
                    add_delta(&mut values, pair, &pair.read_a(file)?, &pair.read_b(file)?);
                    w.write_f32(&t.name, &values)?;
                    merged += 1;
                }
                None => w.copy_from(src, t)?,
            }
            tensors += 1;
        }
        w.finish()?;
        bytes += std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    }
    Ok(MergeReport { dir: dir.to_path_buf(), shards: base.shards.len(), tensors, merged, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_llama_cpp_names() {
        assert_eq!(gguf_tensor_name("model.layers.12.self_attn.o_proj.weight").as_deref(), Some("blk.12.attn_output.weight"));
        assert_eq!(gguf_tensor_name("model.layers.0.mlp.down_proj.weight").as_deref(), Some("blk.0.ffn_down.weight"));
        assert_eq!(gguf_tensor_name("lm_head.weight").as_deref(), Some("output.weight"));
        assert_eq!(gguf_tensor_name("model.layers.x.mlp.down_proj.weight"), None);
        assert_eq!(gguf_tensor_name("model.norm.weight"), None);
        assert_eq!(gguf_architecture("mistral"), Some("llama"));
        assert_eq!(gguf_architecture("phi3"), None);
    }
}
