//! mlx-lm LoRA adapters, read into the same [`PeftAdapter`] as PEFT's, so registering, GGUF
//! conversion and merging work on them unchanged.
//!
//! `mlx_lm lora` writes a folder with
//! - `adapters.safetensors`: `<module>.lora_a` `[in, r]` and `<module>.lora_b` `[r, out]` for each
//!   adapted linear layer, modules named as in the model (`model.layers.3.self_attn.q_proj`, the
//!   same names as the Hugging Face weights for the dense decoders garden-eden converts), the
//!   transposes of PEFT's `lora_A` `[r, in]` and `lora_B` `[out, r]`;
//! - `adapter_config.json`: the training arguments, among them `fine_tune_type` (`lora`, `dora`,
//!   `full`), `num_layers`, `model` (the base) and `lora_parameters: {rank, dropout, scale}` (plus
//!   `keys`, relative to a block, when the user chose them).
//!
//! mlx-lm computes `y = x·W + scale · (x·A)·B`, so the merged weight is
//! `W' = W + scale · (A·B)ᵀ = W + scale · Bᵀ·Aᵀ`: exactly PEFT's `W + scale · B_peft·A_peft` with
//! `A_peft = Aᵀ`, `B_peft = Bᵀ`. The pairs are presented that way ([`LoraPair::transposed`]: the
//! shapes are PEFT's and [`LoraPair::read_a`]/[`LoraPair::read_b`] transpose on reading), the
//! scale is `lora_parameters.scale` as given, and the config as PEFT would say it:
//! `r = rank`, `lora_alpha = scale × rank` (so `alpha / r`, which llama.cpp uses, is the scale).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::peft::{invalid, AdapterConfig, LoraPair, PeftAdapter, WeightsFormat};
use super::safetensors::{Dtype, SafeTensors, TensorInfo};
use crate::error::Result;

/// mlx-lm's weights file in an adapter folder.
pub const WEIGHTS: &str = "adapters.safetensors";

/// Whether an `adapter_config.json` is mlx-lm's (it has `lora_parameters`; PEFT's never does).
pub fn is_mlx_config(v: &Value) -> bool {
    v.get("lora_parameters").is_some_and(Value::is_object)
}

/// What garden-eden reads of mlx-lm's `adapter_config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct MlxAdapterConfig {
    /// `lora`, `dora` or `full` (absent: `lora`).
    pub fine_tune_type: String,
    pub rank: usize,
    pub scale: f64,
    pub dropout: f64,
    /// Block-relative module keys (`self_attn.q_proj`), when the config lists them.
    pub keys: Option<Vec<String>>,
    /// Blocks from the top that were adapted (-1: all).
    pub num_layers: Option<i64>,
    /// The base model as given to mlx-lm (a folder or a Hub id).
    pub model: Option<String>,
}

impl MlxAdapterConfig {
    pub fn parse(dir: &Path, v: &Value) -> Result<MlxAdapterConfig> {
        let fine_tune_type = v.get("fine_tune_type").and_then(Value::as_str).unwrap_or("lora").to_string();
        let use_dora = v.get("use_dora").and_then(Value::as_bool).unwrap_or(false);
        match fine_tune_type.as_str() {
            "lora" if !use_dora => {}
            "dora" | "lora" => {
                return Err(invalid(dir, "it is an mlx-lm DoRA adapter (fine_tune_type dora): only plain LoRA can be converted or merged"));
            }
            "full" => {
                return Err(invalid(
                    dir,
                    "it is an mlx-lm full fine-tune (fine_tune_type full): adapters.safetensors holds whole weights, not a LoRA adapter; fuse it into a model with mlx_lm fuse instead",
                ));
            }
            other => return Err(invalid(dir, format!("adapter_config.json: fine_tune_type '{other}' is not lora, dora or full"))),
        }
        let params = v.get("lora_parameters").and_then(Value::as_object).ok_or_else(|| {
            invalid(dir, "adapter_config.json has no lora_parameters object (mlx-lm writes lora_parameters: {rank, dropout, scale})")
        })?;
        let rank = params
            .get("rank")
            .and_then(Value::as_u64)
            .filter(|r| *r > 0)
            .ok_or_else(|| invalid(dir, "adapter_config.json: lora_parameters has no positive integer rank"))? as usize;
        let scale = match params.get("scale").and_then(Value::as_f64) {
            Some(s) if s.is_finite() => s,
            Some(s) => return Err(invalid(dir, format!("adapter_config.json: lora_parameters.scale is {s}"))),
            None => {
                let hint = if params.contains_key("alpha") { " (it has alpha; mlx-lm's LoRA uses scale, not alpha)" } else { "" };
                return Err(invalid(dir, format!("adapter_config.json: lora_parameters has no scale{hint}")));
            }
        };
        let keys = match params.get("keys") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|k| k.as_str().map(String::from))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| invalid(dir, "adapter_config.json: lora_parameters.keys must be a list of module keys"))?,
            ),
            Some(_) => return Err(invalid(dir, "adapter_config.json: lora_parameters.keys must be a list of module keys")),
        };
        Ok(MlxAdapterConfig {
            fine_tune_type,
            rank,
            scale,
            dropout: params.get("dropout").and_then(Value::as_f64).unwrap_or(0.0),
            keys,
            num_layers: v.get("num_layers").and_then(Value::as_i64),
            model: v.get("model").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(String::from),
        })
    }

    /// The same adapter as PEFT's config would describe it.
    pub fn to_peft(&self, target_modules: Vec<String>) -> AdapterConfig {
        AdapterConfig {
            peft_type: "LORA".into(),
            r: self.rank,
            lora_alpha: self.scale * self.rank as f64,
            target_modules,
            base_model: self.model.clone(),
            use_rslora: false,
            use_dora: false,
            fan_in_fan_out: false,
            task_type: Some("CAUSAL_LM".into()),
            alpha_pattern: BTreeMap::new(),
            rank_pattern: BTreeMap::new(),
            modules_to_save: Vec::new(),
        }
    }
}

/// The short target name of a module or key: `model.layers.0.self_attn.q_proj` or
/// `self_attn.q_proj` → `q_proj`.
pub fn short_name(module: &str) -> &str {
    module.rsplit('.').next().unwrap_or(module)
}

/// Reads and checks an mlx-lm adapter folder whose parsed `adapter_config.json` is `v`.
pub fn open(dir: &Path, v: &Value) -> Result<PeftAdapter> {
    let mlx = MlxAdapterConfig::parse(dir, v)?;
    let weights = dir.join(WEIGHTS);
    if !weights.is_file() {
        let checkpoint = std::fs::read_dir(dir)
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with("_adapters.safetensors"))
            .max();
        let hint = match checkpoint {
            Some(c) => format!(" (there is a checkpoint, {c}: copy it to {WEIGHTS} to use it)"),
            None => String::new(),
        };
        return Err(invalid(dir, format!("no weights: {WEIGHTS} is missing; mlx-lm writes it when training ends{hint}")));
    }
    let file = SafeTensors::open(&weights)?;
    let (pairs, dtype) = pair_up(dir, &mlx, &file)?;
    let targets = match &mlx.keys {
        Some(keys) => keys.iter().map(|k| short_name(k).to_string()).collect(),
        None => {
            let mut t: Vec<String> = pairs.iter().map(|p| short_name(&p.module).to_string()).collect();
            t.sort();
            t.dedup();
            t
        }
    };
    Ok(PeftAdapter {
        dir: dir.to_path_buf(),
        config: mlx.to_peft(targets),
        weights,
        format: WeightsFormat::Mlx,
        pairs,
        dtype: Some(dtype),
        file: Some(file),
    })
}

fn valid_module(module: &str) -> bool {
    !module.is_empty() && module.split('.').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Matches every `lora_a` with its `lora_b` and presents the pair in PEFT's layout.
fn pair_up(dir: &Path, mlx: &MlxAdapterConfig, file: &SafeTensors) -> Result<(Vec<LoraPair>, Dtype)> {
    let mut a_map: BTreeMap<&str, &TensorInfo> = BTreeMap::new();
    let mut b_map: BTreeMap<&str, &TensorInfo> = BTreeMap::new();
    let mut dtype = None;
    for t in &file.tensors {
        let (module, is_a) = if let Some(m) = t.name.strip_suffix(".lora_a") {
            (m, true)
        } else if let Some(m) = t.name.strip_suffix(".lora_b") {
            (m, false)
        } else if t.name.ends_with(".m") {
            return Err(invalid(dir, format!("tensor {} is a DoRA magnitude: only plain LoRA can be converted or merged", t.name)));
        } else {
            return Err(invalid(
                dir,
                format!("tensor {} is not an mlx-lm LoRA key: expected <module>.lora_a or <module>.lora_b (e.g. model.layers.0.self_attn.q_proj.lora_a)", t.name),
            ));
        };
        if !valid_module(module) {
            return Err(invalid(dir, format!("tensor {}: '{module}' is not a module path (dotted names such as model.layers.0.self_attn.q_proj)", t.name)));
        }
        if short_name(module).contains("embed") {
            return Err(invalid(dir, format!("tensor {}: LoRA on token embeddings is not supported yet", t.name)));
        }
        if !t.dtype.is_float() || t.shape.len() != 2 {
            return Err(invalid(
                dir,
                format!(
                    "tensor {} must be a 2-D float tensor, found {} {:?} (mixture-of-experts switch layers are not supported)",
                    t.name,
                    t.dtype.as_str(),
                    t.shape
                ),
            ));
        }
        if let Some(keys) = &mlx.keys {
            if !keys.iter().any(|k| module == k || module.ends_with(&format!(".{k}"))) {
                return Err(invalid(dir, format!("tensor {} adapts {module}, which is not among lora_parameters.keys {keys:?}", t.name)));
            }
        }
        dtype.get_or_insert_with(|| t.dtype.clone());
        if is_a { a_map.insert(module, t) } else { b_map.insert(module, t) };
    }
    let mut pairs = Vec::new();
    for (module, a) in a_map {
        let b = b_map.remove(module).ok_or_else(|| invalid(dir, format!("{module} has lora_a but no lora_b")))?;
        // mlx-lm: A [in, r], B [r, out].
        let (inp, rank) = (a.shape[0], a.shape[1]);
        if b.shape[0] != rank {
            return Err(invalid(
                dir,
                format!("{module}: lora_a {:?} has rank {rank} (mlx-lm stores it [in, r]) but lora_b {:?} is not [{rank}, out]", a.shape, b.shape),
            ));
        }
        if rank != mlx.rank {
            return Err(invalid(dir, format!("{module}: its tensors have rank {rank}, adapter_config.json's lora_parameters.rank is {}", mlx.rank)));
        }
        let out = b.shape[1];
        let mut a = a.clone();
        a.shape = vec![rank, inp];
        let mut b = b.clone();
        b.shape = vec![out, rank];
        pairs.push(LoraPair { module: module.to_string(), a, b, rank, scale: mlx.scale, transposed: true });
    }
    if let Some(module) = b_map.keys().next() {
        return Err(invalid(dir, format!("{module} has lora_b but no lora_a")));
    }
    if pairs.is_empty() {
        return Err(invalid(dir, format!("{WEIGHTS} holds no LoRA tensors")));
    }
    Ok((pairs, dtype.unwrap_or(Dtype::F32)))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::super::peft::BaseModel;
    use super::super::safetensors::{Planned, Writer};
    use super::super::synthetic::{write_adapter, write_base, write_mlx_adapter, Dims};
    use super::super::{convert, gguf, register, NewAdapter};
    use super::*;

    const MODULES: [&str; 3] = ["q_proj", "v_proj", "down_proj"];

    fn db() -> rusqlite::Connection {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        crate::migrate::apply(&mut c, Path::new(":memory:")).unwrap();
        c
    }

    /// An mlx-lm folder with exactly these tensors (name, shape) and this config.
    fn write_raw(dir: &Path, config: &Value, tensors: &[(&str, Vec<usize>)]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("adapter_config.json"), serde_json::to_vec(config).unwrap()).unwrap();
        let plan: Vec<Planned> = tensors.iter().map(|(n, s)| Planned { name: (*n).into(), dtype: Dtype::F32, shape: s.clone() }).collect();
        let mut w = Writer::create(&dir.join(WEIGHTS), plan, &serde_json::Map::new()).unwrap();
        for (n, s) in tensors {
            w.write_f32(n, &vec![0.5; s.iter().product()]).unwrap();
        }
        w.finish().unwrap();
    }

    fn config(rank: usize) -> Value {
        json!({"model": "base", "fine_tune_type": "lora", "num_layers": 2, "lora_parameters": {"rank": rank, "dropout": 0.0, "scale": 20.0}})
    }

    fn err(dir: &Path) -> String {
        PeftAdapter::open(dir).unwrap_err().to_string()
    }

    #[test]
    fn an_mlx_folder_reads_as_peft_layout_with_its_scale() {
        let tmp = tempfile::tempdir().unwrap();
        let ad = tmp.path().join("mlx");
        write_mlx_adapter(&ad, "Qwen/Qwen2.5-0.5B", Dims::TINY, 4, 2.5, &MODULES, Dtype::F32, 3).unwrap();
        let files = PeftAdapter::open(&ad).unwrap();
        assert_eq!(files.format, WeightsFormat::Mlx);
        assert_eq!(files.format.as_str(), "mlx");
        assert_eq!(files.weights, ad.join(WEIGHTS));
        assert_eq!((files.config.r, files.config.lora_alpha), (4, 10.0));
        assert_eq!(files.config.base_model.as_deref(), Some("Qwen/Qwen2.5-0.5B"));
        assert_eq!(files.targets(), vec!["down_proj", "q_proj", "v_proj"]);
        assert_eq!(files.config.target_modules, vec!["q_proj", "v_proj", "down_proj"]);
        assert_eq!(files.pairs.len(), 6);
        let st = files.weights_file().unwrap();
        for p in &files.pairs {
            assert!(p.transposed && p.rank == 4 && p.scale == 2.5, "{p:?}");
            let raw_a = st.read_f32(st.get(&format!("{}.lora_a", p.module)).unwrap()).unwrap();
            let raw_b = st.read_f32(st.get(&format!("{}.lora_b", p.module)).unwrap()).unwrap();
            let (out, inp) = p.delta_shape();
            assert_eq!((p.a.shape.clone(), p.b.shape.clone()), (vec![4, inp], vec![out, 4]));
            let (a, b) = (p.read_a(st).unwrap(), p.read_b(st).unwrap());
            for k in 0..4 {
                for i in 0..inp {
                    assert_eq!(a[k * inp + i], raw_a[i * 4 + k]);
                }
                for o in 0..out {
                    assert_eq!(b[o * 4 + k], raw_b[k * out + o]);
                }
            }
        }
        let q = files.pairs.iter().find(|p| p.module == "model.layers.1.self_attn.q_proj").unwrap();
        assert_eq!(q.base_weight(), "model.layers.1.self_attn.q_proj.weight");
    }

    #[test]
    fn registers_as_mlx_and_merges_like_mlx_lm_fuse() {
        let tmp = tempfile::tempdir().unwrap();
        let (base, ad, out) = (tmp.path().join("base"), tmp.path().join("mlx"), tmp.path().join("merged"));
        write_base(&base, Dims::TINY, Dtype::F32, 2, 5).unwrap();
        write_mlx_adapter(&ad, &base.display().to_string(), Dims::TINY, 4, 20.0, &MODULES, Dtype::F32, 5).unwrap();

        let mut c = db();
        let a = register(&mut c, NewAdapter { name: "mlx".into(), path: ad.clone(), ..NewAdapter::default() }).unwrap();
        assert_eq!((a.format.as_str(), a.rank, a.alpha), ("mlx", 4, 80.0));
        assert_eq!(a.alpha / a.rank as f64, 20.0, "alpha / rank is mlx-lm's scale");
        assert_eq!(a.target_modules, vec!["down_proj", "q_proj", "v_proj"]);
        assert_eq!(a.base_model, base.display().to_string());
        assert_eq!(a.base_path.as_deref().map(PathBuf::from), Some(base.clone()));
        assert_eq!(a.checksum, crate::fsutil::sha256_file(&ad.join(WEIGHTS)).unwrap());

        let files = super::super::open_files(&a).unwrap();
        let report = convert::merge(&files, &BaseModel::open(&base).unwrap(), &out).unwrap();
        assert_eq!(report.merged, 6);
        // W' = W + scale · (A·B)ᵀ, computed straight from the file's [in, r] and [r, out].
        let st = SafeTensors::open(&ad.join(WEIGHTS)).unwrap();
        let model = BaseModel::open(&base).unwrap();
        let merged = BaseModel::open(&out).unwrap();
        for p in &files.pairs {
            let a = st.read_f32(st.get(&format!("{}.lora_a", p.module)).unwrap()).unwrap();
            let b = st.read_f32(st.get(&format!("{}.lora_b", p.module)).unwrap()).unwrap();
            let (out_dim, inp) = p.delta_shape();
            let (i0, t0) = model.find(&p.base_weight()).unwrap();
            let (i1, t1) = merged.find(&p.base_weight()).unwrap();
            let w0 = model.files[i0].read_f32(t0).unwrap();
            let w1 = merged.files[i1].read_f32(t1).unwrap();
            for o in 0..out_dim {
                for i in 0..inp {
                    let ab: f32 = (0..4).map(|k| a[i * 4 + k] * b[k * out_dim + o]).sum();
                    let want = w0[o * inp + i] + 20.0 * ab;
                    assert!((w1[o * inp + i] - want).abs() < 1e-6, "{} [{o}, {i}]", p.module);
                }
            }
        }
    }

    #[test]
    fn converts_to_the_same_gguf_as_the_equivalent_peft_adapter() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("base");
        write_base(&base, Dims::TINY, Dtype::F32, 1, 9).unwrap();
        let mlx_dir = tmp.path().join("m").join("lora");
        write_mlx_adapter(&mlx_dir, "b", Dims::TINY, 4, 2.0, &MODULES, Dtype::BF16, 9).unwrap();
        let mlx = PeftAdapter::open(&mlx_dir).unwrap();
        // The PEFT twin: lora_A = Aᵀ, lora_B = Bᵀ, alpha = scale · r.
        let peft_dir = tmp.path().join("p").join("lora");
        write_adapter(&peft_dir, "b", Dims::TINY, 4, 8.0, &MODULES, Dtype::F32, 1).unwrap();
        let twin = PeftAdapter::open(&peft_dir).unwrap();
        let src = mlx.weights_file().unwrap();
        let plan: Vec<Planned> = twin.pairs.iter().flat_map(|p| [&p.a, &p.b]).map(|t| Planned { name: t.name.clone(), dtype: Dtype::F32, shape: t.shape.clone() }).collect();
        let mut values = BTreeMap::new();
        for p in &mlx.pairs {
            values.insert(format!("base_model.model.{}.lora_A.weight", p.module), p.read_a(src).unwrap());
            values.insert(format!("base_model.model.{}.lora_B.weight", p.module), p.read_b(src).unwrap());
        }
        drop(twin);
        let mut w = Writer::create(&peft_dir.join("adapter_model.safetensors"), plan.clone(), &serde_json::Map::new()).unwrap();
        for t in &plan {
            w.write_f32(&t.name, &values[&t.name]).unwrap();
        }
        w.finish().unwrap();
        let twin = PeftAdapter::open(&peft_dir).unwrap();

        let model = BaseModel::open(&base).unwrap();
        let (g1, g2) = (tmp.path().join("mlx.gguf"), tmp.path().join("peft.gguf"));
        let r = convert::to_gguf(&mlx, &model, &g1, gguf::GgmlType::F32).unwrap();
        assert_eq!((r.tensors, r.rank, r.alpha), (12, 4, 8.0));
        convert::to_gguf(&twin, &model, &g2, gguf::GgmlType::F32).unwrap();
        assert_eq!(std::fs::read(&g1).unwrap(), std::fs::read(&g2).unwrap());
        let info = gguf::read_info(&g1).unwrap();
        let t: Vec<_> = info.tensors.iter().map(|(n, s, _, _)| (n.as_str(), s.clone())).collect();
        assert!(t.contains(&("blk.0.ffn_down.weight.lora_a", vec![4, 32])), "{t:?}");
        assert!(t.contains(&("blk.0.ffn_down.weight.lora_b", vec![16, 4])), "{t:?}");
    }

    #[test]
    fn a_broken_mlx_folder_says_what_is_wrong() {
        let tmp = tempfile::tempdir().unwrap();
        let d = |n: &str| tmp.path().join(n);
        let q = "model.layers.0.self_attn.q_proj";
        let (a, b) = (format!("{q}.lora_a"), format!("{q}.lora_b"));

        write_raw(&d("no_b"), &config(4), &[(&a, vec![16, 4])]);
        assert!(err(&d("no_b")).contains(&format!("{q} has lora_a but no lora_b")), "{}", err(&d("no_b")));
        write_raw(&d("no_a"), &config(4), &[(&b, vec![4, 16])]);
        assert!(err(&d("no_a")).contains("has lora_b but no lora_a"), "{}", err(&d("no_a")));
        write_raw(&d("rank"), &config(8), &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        let e = err(&d("rank"));
        assert!(e.contains("rank 4") && e.contains("lora_parameters.rank is 8"), "{e}");
        write_raw(&d("pair"), &config(4), &[(&a, vec![16, 4]), (&b, vec![8, 16])]);
        assert!(err(&d("pair")).contains("is not [4, out]"), "{}", err(&d("pair")));
        write_raw(&d("peft_names"), &config(4), &[("base_model.model.x.lora_A.weight", vec![4, 16])]);
        assert!(err(&d("peft_names")).contains("not an mlx-lm LoRA key"), "{}", err(&d("peft_names")));
        write_raw(&d("dora_m"), &config(4), &[(&a, vec![16, 4]), (&b, vec![4, 16]), (&format!("{q}.m"), vec![16, 1])]);
        assert!(err(&d("dora_m")).contains("DoRA"), "{}", err(&d("dora_m")));
        write_raw(&d("bare"), &config(4), &[("model..q_proj.lora_a", vec![16, 4])]);
        assert!(err(&d("bare")).contains("not a module path"), "{}", err(&d("bare")));
        write_raw(&d("embed"), &config(4), &[("model.embed_tokens.lora_a", vec![64, 4]), ("model.embed_tokens.lora_b", vec![4, 16])]);
        assert!(err(&d("embed")).contains("token embeddings"), "{}", err(&d("embed")));
        let mut keyed = config(4);
        keyed["lora_parameters"]["keys"] = json!(["self_attn.v_proj"]);
        write_raw(&d("keys"), &keyed, &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        assert!(err(&d("keys")).contains("not among lora_parameters.keys"), "{}", err(&d("keys")));

        let mut dora = config(4);
        dora["fine_tune_type"] = json!("dora");
        write_raw(&d("dora"), &dora, &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        assert!(err(&d("dora")).contains("DoRA"), "{}", err(&d("dora")));
        let mut full = config(4);
        full["fine_tune_type"] = json!("full");
        write_raw(&d("full"), &full, &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        assert!(err(&d("full")).contains("full fine-tune"), "{}", err(&d("full")));
        let mut alpha = config(4);
        alpha["lora_parameters"] = json!({"rank": 4, "alpha": 16});
        write_raw(&d("alpha"), &alpha, &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        let e = err(&d("alpha"));
        assert!(e.contains("no scale") && e.contains("uses scale, not alpha"), "{e}");

        write_raw(&d("ckpt"), &config(4), &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        std::fs::rename(d("ckpt").join(WEIGHTS), d("ckpt").join("0000020_adapters.safetensors")).unwrap();
        let e = err(&d("ckpt"));
        assert!(e.contains("no weights") && e.contains("0000020_adapters.safetensors"), "{e}");

        // A PEFT config beside mlx-lm's weights file: named, not mistaken.
        write_raw(&d("mixed"), &json!({"r": 4, "lora_alpha": 8, "peft_type": "LORA"}), &[(&a, vec![16, 4]), (&b, vec![4, 16])]);
        assert!(err(&d("mixed")).contains("no lora_parameters"), "{}", err(&d("mixed")));

        // Nothing broken was registered.
        let mut c = db();
        let e = register(&mut c, NewAdapter { name: "x".into(), path: d("rank"), base_model: Some("b".into()), ..NewAdapter::default() }).unwrap_err();
        assert!(e.to_string().contains("lora_parameters.rank"), "{e}");
        assert_eq!(c.query_row("SELECT count(*) FROM adapters", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    }
}
