//! PEFT LoRA adapters and Hugging Face base models on disk: read, checked, and matched.
//!
//! An adapter folder holds `adapter_config.json` and `adapter_model.safetensors` (older PEFT:
//! `adapter_model.bin`). Its tensors are `base_model.model.<module>.lora_A.weight` `[r, in]` and
//! `…lora_B.weight` `[out, r]`; the update of `<module>.weight` is `B·A · scale`, where scale is
//! `lora_alpha / r` (rsLoRA: `lora_alpha / √r`), with per-module overrides in `rank_pattern` and
//! `alpha_pattern`.
//!
//! mlx-lm's LoRA folders (`adapters.safetensors` + an `adapter_config.json` with
//! `lora_parameters`) are read by [`super::mlx`] into the same [`PeftAdapter`]: one adapter model
//! for registering, converting and merging, whichever trainer wrote it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::safetensors::{Dtype, SafeTensors, TensorInfo};
use crate::error::{Error, Result};

/// The adapter's `adapter_config.json`, the fields garden-eden uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterConfig {
    pub peft_type: String,
    pub r: usize,
    pub lora_alpha: f64,
    pub target_modules: Vec<String>,
    pub base_model: Option<String>,
    pub use_rslora: bool,
    pub use_dora: bool,
    pub fan_in_fan_out: bool,
    pub task_type: Option<String>,
    pub alpha_pattern: BTreeMap<String, f64>,
    pub rank_pattern: BTreeMap<String, usize>,
    pub modules_to_save: Vec<String>,
}

pub use garden_types::adapters::WeightsFormat;

/// One LoRA pair, matched to the base weight it updates.
#[derive(Debug, Clone)]
pub struct LoraPair {
    /// The module, e.g. `model.layers.0.self_attn.q_proj`.
    pub module: String,
    /// A, with PEFT's shape `[r, in]` (whatever the file's layout: see `transposed`).
    pub a: TensorInfo,
    /// B, with PEFT's shape `[out, r]`.
    pub b: TensorInfo,
    pub rank: usize,
    /// `alpha / r` (or `alpha / √r`; mlx-lm: `lora_parameters.scale`): the factor on `B·A`.
    pub scale: f64,
    /// The file stores A and B transposed (mlx-lm: A `[in, r]`, B `[r, out]`); `a.shape` and
    /// `b.shape` are still PEFT's. Read them with [`LoraPair::read_a`] / [`LoraPair::read_b`].
    pub transposed: bool,
}

impl LoraPair {
    /// The base tensor this pair updates.
    pub fn base_weight(&self) -> String {
        format!("{}.weight", self.module)
    }

    /// `[out, in]` of the update.
    pub fn delta_shape(&self) -> (usize, usize) {
        (self.b.shape[0], self.a.shape[1])
    }

    /// A as f32 in PEFT's layout `[r, in]`, row-major.
    pub fn read_a(&self, file: &SafeTensors) -> Result<Vec<f32>> {
        self.read(file, &self.a)
    }

    /// B as f32 in PEFT's layout `[out, r]`, row-major.
    pub fn read_b(&self, file: &SafeTensors) -> Result<Vec<f32>> {
        self.read(file, &self.b)
    }

    fn read(&self, file: &SafeTensors, t: &TensorInfo) -> Result<Vec<f32>> {
        let values = file.read_f32(t)?;
        Ok(if self.transposed { transpose(&values, t.shape[1], t.shape[0]) } else { values })
    }
}

/// `rows × cols` row-major → `cols × rows` row-major.
pub(crate) fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// A checked adapter folder.
#[derive(Debug)]
pub struct PeftAdapter {
    pub dir: PathBuf,
    pub config: AdapterConfig,
    pub weights: PathBuf,
    pub format: WeightsFormat,
    /// Empty for `.bin` weights (not read).
    pub pairs: Vec<LoraPair>,
    /// The float type of the LoRA tensors (safetensors only).
    pub dtype: Option<Dtype>,
    pub file: Option<SafeTensors>,
}

pub(crate) fn invalid(dir: &Path, message: impl Into<String>) -> Error {
    Error::Invalid { field: format!("adapter at {}", dir.display()), message: message.into() }
}

/// PEFT matches pattern keys as "the module name ends with the key, at a dot boundary".
fn pattern_value<T: Copy>(patterns: &BTreeMap<String, T>, module: &str) -> Option<T> {
    patterns
        .iter()
        .find(|(k, _)| module == k.as_str() || module.ends_with(&format!(".{k}")))
        .map(|(_, v)| *v)
}

impl AdapterConfig {
    pub fn parse(dir: &Path, text: &str) -> Result<AdapterConfig> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            invalid(dir, format!("adapter_config.json is not valid JSON (line {}, column {}): {e}", e.line(), e.column()))
        })?;
        let peft_type = v.get("peft_type").and_then(Value::as_str).unwrap_or("LORA").to_string();
        let r = v
            .get("r")
            .and_then(Value::as_u64)
            .filter(|r| *r > 0)
            .ok_or_else(|| invalid(dir, "adapter_config.json has no positive rank \"r\""))? as usize;
        let lora_alpha = v.get("lora_alpha").and_then(Value::as_f64).unwrap_or(r as f64);
        let target_modules = match v.get("target_modules") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(String::from).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let map_f = |key: &str| -> BTreeMap<String, f64> {
            v.get(key)
                .and_then(Value::as_object)
                .map(|m| m.iter().filter_map(|(k, x)| x.as_f64().map(|x| (k.clone(), x))).collect())
                .unwrap_or_default()
        };
        let rank_pattern = map_f("rank_pattern").into_iter().map(|(k, x)| (k, x as usize)).collect();
        Ok(AdapterConfig {
            peft_type,
            r,
            lora_alpha,
            target_modules,
            base_model: v.get("base_model_name_or_path").and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from),
            use_rslora: v.get("use_rslora").and_then(Value::as_bool).unwrap_or(false),
            use_dora: v.get("use_dora").and_then(Value::as_bool).unwrap_or(false),
            fan_in_fan_out: v.get("fan_in_fan_out").and_then(Value::as_bool).unwrap_or(false),
            task_type: v.get("task_type").and_then(Value::as_str).map(String::from),
            alpha_pattern: map_f("alpha_pattern"),
            rank_pattern,
            modules_to_save: match v.get("modules_to_save") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(String::from).collect(),
                _ => Vec::new(),
            },
        })
    }

    /// The factor on `B·A` for `module` of rank `rank`.
    pub fn scale(&self, module: &str, rank: usize) -> f64 {
        let alpha = pattern_value(&self.alpha_pattern, module).unwrap_or(self.lora_alpha);
        if self.use_rslora {
            alpha / (rank as f64).sqrt()
        } else {
            alpha / rank as f64
        }
    }
}

impl PeftAdapter {
    /// Reads and checks an adapter folder: the config parses, the weights exist, and (for
    /// safetensors) every LoRA tensor has its partner with matching rank.
    pub fn open(dir: &Path) -> Result<PeftAdapter> {
        if !dir.is_dir() {
            return Err(invalid(dir, "no such folder (give the folder that holds adapter_config.json)"));
        }
        let config_path = dir.join("adapter_config.json");
        // Only a regular file of a sane size: a FIFO or /dev/zero behind that name must not hang.
        if let Ok(meta) = std::fs::metadata(&config_path) {
            if !meta.is_file() {
                return Err(invalid(dir, "adapter_config.json is not a regular file"));
            }
            if meta.len() > 1024 * 1024 {
                return Err(invalid(dir, format!("adapter_config.json is {} bytes; a real one is a few KB (1 MB at most)", meta.len())));
            }
        }
        let text = std::fs::read_to_string(&config_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                invalid(dir, "adapter_config.json is missing: this is not a PEFT adapter folder")
            } else {
                Error::io("reading", &config_path, e)
            }
        })?;
        if let Some(mlx) = serde_json::from_str::<Value>(&text).ok().filter(super::mlx::is_mlx_config) {
            return super::mlx::open(dir, &mlx);
        }
        let config = AdapterConfig::parse(dir, &text)?;
        if config.peft_type != "LORA" {
            return Err(invalid(dir, format!("peft_type is {}; only LoRA adapters are supported", config.peft_type)));
        }
        let st = dir.join("adapter_model.safetensors");
        let bin = dir.join("adapter_model.bin");
        for weights in [&st, &bin] {
            if weights.exists() && !weights.is_file() {
                return Err(invalid(dir, format!("{} is not a regular file", weights.file_name().unwrap_or_default().to_string_lossy())));
            }
        }
        if st.is_file() {
            let file = SafeTensors::open(&st)?;
            let (pairs, dtype) = pair_up(dir, &config, &file)?;
            Ok(PeftAdapter { dir: dir.to_path_buf(), config, weights: st, format: WeightsFormat::Safetensors, pairs, dtype: Some(dtype), file: Some(file) })
        } else if bin.is_file() {
            Ok(PeftAdapter { dir: dir.to_path_buf(), config, weights: bin, format: WeightsFormat::Bin, pairs: Vec::new(), dtype: None, file: None })
        } else if dir.join(super::mlx::WEIGHTS).is_file() {
            Err(invalid(
                dir,
                "no weights: adapter_model.safetensors is missing; adapters.safetensors is there (mlx-lm's name), but adapter_config.json has no lora_parameters, so it is not an mlx-lm adapter folder either",
            ))
        } else {
            Err(invalid(dir, "no weights: neither adapter_model.safetensors nor adapter_model.bin is there"))
        }
    }

    /// The opened safetensors weights, or why there are none.
    pub fn weights_file(&self) -> Result<&SafeTensors> {
        self.file.as_ref().ok_or_else(|| {
            invalid(
                &self.dir,
                "its weights are adapter_model.bin (a pickle, which garden-eden does not load); re-save them as safetensors with PEFT: model.save_pretrained(dir, safe_serialization=True)",
            )
        })
    }

    /// Every LoRA weight is a finite number (a NaN or an infinity would poison the merged model);
    /// the error names the tensor.
    pub fn check_finite(&self) -> Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        for p in &self.pairs {
            for t in [&p.a, &p.b] {
                if file.read_f32(t)?.iter().any(|v| !v.is_finite()) {
                    return Err(invalid(&self.dir, format!("tensor {} holds NaN or infinite values", t.name)));
                }
            }
        }
        Ok(())
    }

    /// The modules the adapter changes, short names (q_proj, …), sorted.
    pub fn targets(&self) -> Vec<String> {
        let mut t: Vec<String> = if self.pairs.is_empty() {
            self.config.target_modules.clone()
        } else {
            self.pairs.iter().map(|p| p.module.rsplit('.').next().unwrap_or(&p.module).to_string()).collect()
        };
        t.sort();
        t.dedup();
        t
    }
}

fn pair_up(dir: &Path, config: &AdapterConfig, file: &SafeTensors) -> Result<(Vec<LoraPair>, Dtype)> {
    if config.use_dora {
        return Err(invalid(dir, "it is a DoRA adapter (use_dora): only plain LoRA can be converted or merged"));
    }
    let mut a_map: BTreeMap<String, &TensorInfo> = BTreeMap::new();
    let mut b_map: BTreeMap<String, &TensorInfo> = BTreeMap::new();
    let mut dtype = None;
    for t in &file.tensors {
        let name = t.name.strip_prefix("base_model.model.").unwrap_or(&t.name);
        let (module, is_a) = if let Some(m) = name.strip_suffix(".lora_A.weight") {
            (m, true)
        } else if let Some(m) = name.strip_suffix(".lora_B.weight") {
            (m, false)
        } else if name.contains("lora_embedding_") {
            return Err(invalid(dir, format!("tensor {}: LoRA on token embeddings is not supported yet", t.name)));
        } else {
            return Err(invalid(
                dir,
                format!("tensor {} is not a lora_A/lora_B weight (modules_to_save or extra tensors are not supported)", t.name),
            ));
        };
        if !t.dtype.is_float() || t.shape.len() != 2 {
            return Err(invalid(dir, format!("tensor {} must be a 2-D float tensor, found {} {:?}", t.name, t.dtype.as_str(), t.shape)));
        }
        dtype.get_or_insert_with(|| t.dtype.clone());
        if is_a { a_map.insert(module.to_string(), t) } else { b_map.insert(module.to_string(), t) };
    }
    let mut pairs = Vec::new();
    for (module, a) in &a_map {
        let b = b_map
            .remove(module)
            .ok_or_else(|| invalid(dir, format!("{module} has lora_A but no lora_B")))?;
        let rank = a.shape[0];
        if rank == 0 {
            return Err(invalid(dir, format!("{module}: lora_A has rank 0 (an empty adapter)")));
        }
        if b.shape[1] != rank {
            return Err(invalid(dir, format!("{module}: lora_A has rank {rank} but lora_B {:?} does not", b.shape)));
        }
        if let Some(r) = pattern_value(&config.rank_pattern, module).or((config.rank_pattern.is_empty()).then_some(config.r)) {
            if r != rank {
                return Err(invalid(dir, format!("{module}: its tensors have rank {rank}, adapter_config.json says {r}")));
            }
        }
        pairs.push(LoraPair { module: module.clone(), a: (*a).clone(), b: (*b).clone(), rank, scale: config.scale(module, rank), transposed: false });
    }
    if let Some(module) = b_map.keys().next() {
        return Err(invalid(dir, format!("{module} has lora_B but no lora_A")));
    }
    if pairs.is_empty() {
        return Err(invalid(dir, "adapter_model.safetensors holds no LoRA tensors"));
    }
    // A rank_pattern entry that matches no module is a config that does not describe these weights.
    if let Some(key) = config.rank_pattern.keys().find(|k| !pairs.iter().any(|p| p.module == **k || p.module.ends_with(&format!(".{k}")))) {
        return Err(invalid(dir, format!("rank_pattern names '{key}', which matches none of the adapter's modules")));
    }
    Ok((pairs, dtype.unwrap_or(Dtype::F32)))
}

/// A Hugging Face model folder: `config.json` plus one safetensors file or an index and shards.
#[derive(Debug)]
pub struct BaseModel {
    pub dir: PathBuf,
    pub config: Value,
    /// Shard file names, in index order (one entry for an unsharded model).
    pub shards: Vec<String>,
    pub files: Vec<SafeTensors>,
}

impl BaseModel {
    pub fn open(dir: &Path) -> Result<BaseModel> {
        let bad = |m: String| Error::Invalid { field: format!("base model at {}", dir.display()), message: m };
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path)
            .map_err(|_| bad("config.json is missing: give the folder of a Hugging Face model".into()))?;
        let config: Value = serde_json::from_str(&text).map_err(|e| bad(format!("config.json is not valid JSON: {e}")))?;
        let index = dir.join("model.safetensors.index.json");
        let shards: Vec<String> = if index.is_file() {
            let text = std::fs::read_to_string(&index).map_err(|e| Error::io("reading", &index, e))?;
            let v: Value = serde_json::from_str(&text).map_err(|e| bad(format!("model.safetensors.index.json is not valid JSON: {e}")))?;
            let mut names: Vec<String> = Vec::new();
            for f in v.get("weight_map").and_then(Value::as_object).into_iter().flat_map(|m| m.values()).filter_map(Value::as_str) {
                if !names.iter().any(|n| n == f) {
                    names.push(f.to_string());
                }
            }
            names
        } else if dir.join("model.safetensors").is_file() {
            vec!["model.safetensors".to_string()]
        } else {
            return Err(bad("no model.safetensors or model.safetensors.index.json: only safetensors models can be merged".into()));
        };
        for s in &shards {
            if s.contains('/') || s.contains("..") {
                return Err(bad(format!("the index names a shard outside the folder: {s}")));
            }
        }
        let files = shards.iter().map(|s| SafeTensors::open(&dir.join(s))).collect::<Result<Vec<_>>>()?;
        Ok(BaseModel { dir: dir.to_path_buf(), config, shards, files })
    }

    /// `model_type` from config.json (qwen2, llama, …).
    pub fn model_type(&self) -> &str {
        self.config.get("model_type").and_then(Value::as_str).unwrap_or("")
    }

    pub fn find(&self, name: &str) -> Option<(usize, &TensorInfo)> {
        self.files.iter().enumerate().find_map(|(i, f)| f.get(name).map(|t| (i, t)))
    }

    /// Checks that every LoRA pair updates a base weight of the right shape, naming the first
    /// that does not (the usual sign of an adapter trained on another base).
    pub fn check_adapter(&self, adapter: &PeftAdapter) -> Result<()> {
        for pair in &adapter.pairs {
            let name = pair.base_weight();
            let Some((_, t)) = self.find(&name) else {
                return Err(Error::Invalid {
                    field: "base model".into(),
                    message: format!(
                        "the adapter changes {name}, which {} does not have: the adapter was trained on another base model",
                        self.dir.display()
                    ),
                });
            };
            let (out, inp) = pair.delta_shape();
            if t.shape != [out, inp] {
                return Err(Error::Invalid {
                    field: "base model".into(),
                    message: format!(
                        "{name} is {:?} in {} but the adapter's update is [{out}, {inp}]: the adapter was trained on another base model (another size?)",
                        t.shape,
                        self.dir.display()
                    ),
                });
            }
            if !t.dtype.is_float() {
                return Err(Error::Invalid { field: "base model".into(), message: format!("{name} is {}, not a float weight (is the base quantized?)", t.dtype.as_str()) });
            }
        }
        Ok(())
    }
}

/// Finds a base model on this machine: an explicit folder, the adapter's
/// `base_model_name_or_path` when it is a folder, or that id in the Hugging Face cache.
pub fn resolve_base(explicit: Option<&Path>, adapter: &AdapterConfig) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let Some(id) = adapter.base_model.as_deref() else {
        return Err(Error::invalid("base model", "the adapter does not name its base model: give the base model's folder"));
    };
    let p = Path::new(id);
    if p.join("config.json").is_file() {
        return Ok(p.to_path_buf());
    }
    if let Some(found) = hf_cache_snapshot(id) {
        return Ok(found);
    }
    Err(Error::invalid(
        "base model",
        format!("the adapter's base model '{id}' is not on this machine (not a folder, not in the Hugging Face cache): give its folder"),
    ))
}

/// `<HF_HUB_CACHE or HF_HOME/hub or ~/.cache/huggingface/hub>/models--org--name/snapshots/<rev>`.
fn hf_cache_snapshot(id: &str) -> Option<PathBuf> {
    let hub = std::env::var_os("HF_HUB_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("HF_HOME").map(|h| PathBuf::from(h).join("hub")).or_else(|| dirs::home_dir().map(|h| h.join(".cache/huggingface/hub")))
    })?;
    if id.contains("..") {
        return None;
    }
    let repo = hub.join(format!("models--{}", id.replace('/', "--")));
    let snapshots = repo.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs/main")) {
        let p = snapshots.join(rev.trim());
        if p.join("config.json").is_file() {
            return Some(p);
        }
    }
    std::fs::read_dir(&snapshots).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.join("config.json").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_follows_peft() {
        let dir = Path::new("/x");
        let c = AdapterConfig::parse(dir, r#"{"peft_type":"LORA","r":8,"lora_alpha":16,"target_modules":["q_proj"],"alpha_pattern":{"v_proj":4}}"#).unwrap();
        assert_eq!(c.scale("model.layers.0.self_attn.q_proj", 8), 2.0);
        assert_eq!(c.scale("model.layers.0.self_attn.v_proj", 8), 0.5);
        let c = AdapterConfig::parse(dir, r#"{"r":16,"lora_alpha":16,"use_rslora":true,"target_modules":"all-linear"}"#).unwrap();
        assert_eq!(c.scale("m", 16), 4.0);
        assert_eq!(c.target_modules, vec!["all-linear"]);
        let err = AdapterConfig::parse(dir, "{\"r\": 8,\n oops}").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = AdapterConfig::parse(dir, r#"{"r":0}"#).unwrap_err().to_string();
        assert!(err.contains("positive rank"), "{err}");
    }
}
