//! The registry's rules, conversion and merge arithmetic, and hostile adapter folders, tested on
//! synthetic adapters.

use std::path::Path;

use super::safetensors::{Dtype, SafeTensors};
use super::synthetic::{write_adapter, write_base, Dims};
use super::*;
use crate::migrate;

const ALL: [&str; 7] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

fn db() -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    migrate::apply(&mut c, Path::new(":memory:")).unwrap();
    c
}

fn adapter(dir: &Path, seed: u64) -> NewAdapter {
    write_adapter(dir, "Qwen/Qwen2.5-0.5B", Dims::TINY, 4, 8.0, &["q_proj", "v_proj"], Dtype::F32, seed).unwrap();
    NewAdapter { name: "eden".into(), path: dir.to_path_buf(), ..NewAdapter::default() }
}

#[test]
fn an_adapter_trained_on_top_of_another_is_its_child_whatever_the_names() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    let sft = register(&mut c, adapter(&tmp.path().join("sft"), 1)).unwrap();
    let other = register(&mut c, NewAdapter { name: "kto-run".into(), ..adapter(&tmp.path().join("other"), 2) }).unwrap();
    assert_eq!(other.parent_id, None, "a first version of a new name has no parent");
    let kto = NewAdapter {
        name: "kto-run".into(),
        stage: garden_types::prefs::Stage::Kto,
        // As the run's config names it (not canonical): the registry finds it all the same.
        starts_from: Some(tmp.path().join("sft/../sft")),
        ..adapter(&tmp.path().join("kto"), 3)
    };
    let kto = register(&mut c, kto).unwrap();
    assert_eq!(kto.version, "1.1.0");
    assert_eq!(kto.parent_id.as_deref(), Some(sft.id.as_str()), "the adapter it started from, not kto-run 1.0.0");
    let lineage = lineage(&c, &kto.id).unwrap();
    assert_eq!(lineage.parent.map(|p| p.id), Some(sft.id.clone()));
    let gone = NewAdapter { name: "kto-run".into(), starts_from: Some(tmp.path().join("deleted")), ..adapter(&tmp.path().join("k2"), 4) };
    assert_eq!(register(&mut c, gone).unwrap().parent_id.as_deref(), Some(kto.id.as_str()), "an unknown start falls back to the version before");
}

#[test]
fn registers_with_validation_and_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    let a = register(&mut c, adapter(&tmp.path().join("a1"), 1)).unwrap();
    assert_eq!((a.version.as_str(), a.rank, a.alpha), ("1.0.0", 4, 8.0));
    assert_eq!(a.base_model, "Qwen/Qwen2.5-0.5B");
    assert_eq!(a.target_modules, vec!["q_proj", "v_proj"]);
    assert_eq!(a.checksum, crate::fsutil::sha256_file(&tmp.path().join("a1/adapter_model.safetensors")).unwrap());
    assert!(!a.is_active);
    let b = register(&mut c, adapter(&tmp.path().join("a2"), 2)).unwrap();
    assert_eq!(b.version, "1.1.0");
    assert_eq!(b.parent_id.as_deref(), Some(a.id.as_str()));
    let err = register(&mut c, NewAdapter { version: Some("v1.1.0".into()), ..adapter(&tmp.path().join("a3"), 3) }).unwrap_err();
    assert!(err.to_string().contains("already registered"), "{err}");
    let err = register(&mut c, NewAdapter { version: Some("1.2".into()), ..adapter(&tmp.path().join("a3"), 3) }).unwrap_err();
    assert!(err.to_string().contains("MAJOR.MINOR.PATCH"), "{err}");

    // Wrong paths and files: a clear error, and nothing registered.
    let count = |c: &Connection| c.query_row("SELECT count(*) FROM adapters", [], |r| r.get::<_, i64>(0)).unwrap();
    let before = count(&c);
    let missing = NewAdapter { name: "x".into(), path: tmp.path().join("nope"), ..NewAdapter::default() };
    assert!(register(&mut c, missing).unwrap_err().to_string().contains("does not exist"));
    let blank = NewAdapter { name: "x".into(), ..NewAdapter::default() };
    assert!(register(&mut c, blank).unwrap_err().to_string().contains("give the folder that holds adapter_config.json"));
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = register(&mut c, NewAdapter { name: "x".into(), path: empty.clone(), ..NewAdapter::default() }).unwrap_err();
    assert!(err.to_string().contains("adapter_config.json is missing"), "{err}");
    std::fs::write(empty.join("adapter_config.json"), "{\"r\": 8,").unwrap();
    let err = register(&mut c, NewAdapter { name: "x".into(), path: empty.clone(), ..NewAdapter::default() }).unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    std::fs::write(empty.join("adapter_config.json"), r#"{"r": 8, "lora_alpha": 16, "peft_type": "LORA"}"#).unwrap();
    let err = register(&mut c, NewAdapter { name: "x".into(), path: empty.clone(), ..NewAdapter::default() }).unwrap_err();
    assert!(err.to_string().contains("no weights"), "{err}");
    std::fs::write(empty.join("adapter_model.safetensors"), b"garbage!").unwrap();
    let err = register(&mut c, NewAdapter { name: "x".into(), path: empty, ..NewAdapter::default() }).unwrap_err();
    assert!(err.to_string().contains("not a valid safetensors"), "{err}");
    let wrong_rank = tmp.path().join("wr");
    write_adapter(&wrong_rank, "b", Dims::TINY, 4, 8.0, &["q_proj"], Dtype::F32, 1).unwrap();
    std::fs::write(wrong_rank.join("adapter_config.json"), r#"{"r": 8, "lora_alpha": 16, "peft_type": "LORA", "base_model_name_or_path": "b"}"#).unwrap();
    let err = register(&mut c, NewAdapter { name: "x".into(), path: wrong_rank, ..NewAdapter::default() }).unwrap_err();
    assert!(err.to_string().contains("rank 4") && err.to_string().contains("says 8"), "{err}");
    assert_eq!(count(&c), before);
}

#[test]
fn exactly_one_active_with_rollback_and_delete_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    let a = register(&mut c, adapter(&tmp.path().join("a1"), 1)).unwrap();
    let b = register(&mut c, adapter(&tmp.path().join("a2"), 2)).unwrap();
    assert!(rollback(&mut c).unwrap_err().to_string().contains("no adapter is active"));
    activate(&mut c, &a.id, "first").unwrap();
    activate(&mut c, &b.id, "better").unwrap();
    let actives: i64 = c.query_row("SELECT count(*) FROM adapters WHERE is_active = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(actives, 1);
    assert_eq!(active(&c).unwrap().unwrap().id, b.id);
    // The database itself refuses a second active adapter.
    let err = c.execute("UPDATE adapters SET is_active = 1 WHERE id = ?1", [&a.id]).unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    assert!(delete(&mut c, &b.id).unwrap_err().to_string().contains("is active"));
    let back = rollback(&mut c).unwrap();
    assert_eq!(back.id, a.id);
    assert!(back.is_active);
    let l = lineage(&c, &a.id).unwrap();
    assert!(l.activations.iter().any(|x| x.reason.starts_with("rollback from eden 1.1.0")), "{:?}", l.activations);
    // The registry page and the activations as the adapter's page tells them.
    let o = overview(&c).unwrap();
    assert_eq!(o.adapters.iter().map(|x| x.version.as_str()).collect::<Vec<_>>(), ["1.1.0", "1.0.0"]);
    assert_eq!(o.rollback_to.map(|x| x.label()).as_deref(), Some("eden 1.1.0"));
    assert!(o.unregistered_runs.is_empty());
    let named = named_activations(&c, &l.activations).unwrap();
    let told: Vec<String> = named.iter().map(|x| x.describe(&a.id)).collect();
    assert_eq!(told[0], "activated, replacing eden 1.1.0 (rollback from eden 1.1.0)", "{told:?}");
    assert_eq!(told[1], "replaced by eden 1.1.0 (better)", "{told:?}");
    assert_eq!(told[2], "activated (first)", "{told:?}");
    delete(&mut c, &b.id).unwrap();
    assert!(matches!(get(&c, &b.id), Err(Error::NotFound { .. })));
    assert!(tmp.path().join("a2/adapter_model.safetensors").exists(), "files stay");
    let l = lineage(&c, &a.id).unwrap();
    let named = named_activations(&c, &l.activations).unwrap();
    assert_eq!(named[0].describe(&a.id), "activated (rollback from eden 1.1.0)", "the removed side is forgotten");
}

#[test]
fn deployment_states_are_stored_as_their_strings() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    let a = register(&mut c, adapter(&tmp.path().join("a1"), 1)).unwrap();
    assert_eq!(a.format, WeightsFormat::Safetensors);
    c.execute(
        "INSERT INTO deployments (id, adapter_id, target, model_name, strategy, status, progress, created_at)
         VALUES ('d1', ?1, 'http://o', 'm', 'merged', 'succeeded', '[\"one\"]', 5)",
        [&a.id],
    )
    .unwrap();
    let d = deployment(&c, "d1").unwrap();
    assert_eq!((d.strategy, d.status), (DeployStrategy::Merged, DeployStatus::Succeeded));
    assert_eq!(d.progress, ["one"]);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!((json["strategy"].as_str(), json["status"].as_str()), (Some("merged"), Some("succeeded")));
    assert_eq!(serde_json::to_value(&a).unwrap()["format"], "safetensors");
    for s in [DeployStatus::Running, DeployStatus::Succeeded, DeployStatus::Failed] {
        assert_eq!(DeployStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in [DeployStrategy::Adapter, DeployStrategy::Merged] {
        assert_eq!(DeployStrategy::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for f in [WeightsFormat::Safetensors, WeightsFormat::Bin, WeightsFormat::Mlx] {
        assert_eq!(WeightsFormat::parse(f.as_str()), Some(f));
        assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
    }
}

#[test]
fn lineage_metrics_and_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    c.execute_batch(
        "INSERT INTO datasets (id, name, format, filter, counts, examples, validation, avg_satisfaction, path, dataset_info, sha256, created_at)
           VALUES ('d1', 'happy', 'alpaca', '{\"min_satisfaction\":0.8}', '{\"conversations\":63,\"passed_filter\":20}', 40, 4, 0.9, '/x', '/y', 'abc', 1);
         INSERT INTO runs (id, name, dataset_id, backend, config, yaml, status, output_dir, log_path, created_at, finished_at)
           VALUES ('r1', 'eden', 'd1', 'llamafactory', '{}', '', 'succeeded', '/o', '/l', 1, 2);
         INSERT INTO run_metrics (run_id, step, loss, recorded_at) VALUES ('r1', 1, 2.0, 1), ('r1', 2, 1.5, 1);
         INSERT INTO run_metrics (run_id, step, eval_loss, recorded_at) VALUES ('r1', 3, 1.25, 1);",
    )
    .unwrap();
    let a = register(&mut c, NewAdapter { run_id: Some("r1".into()), dataset_id: Some("d1".into()), ..adapter(&tmp.path().join("a1"), 1) }).unwrap();
    assert_eq!(a.metrics.training_loss, Some(1.5));
    assert_eq!(a.metrics.eval_loss, Some(1.25));
    assert!((a.metrics.perplexity.unwrap() - 1.25f64.exp()).abs() < 1e-12);
    let again = register(&mut c, NewAdapter { run_id: Some("r1".into()), ..adapter(&tmp.path().join("a1b"), 1) }).unwrap_err();
    assert!(again.to_string().contains("already registered as eden 1.0.0"), "{again}");
    let l = lineage(&c, "eden@1.0.0").unwrap();
    assert_eq!(l.run.as_ref().unwrap().name, "eden");
    let ds = l.dataset.unwrap();
    assert_eq!((ds.name.as_str(), ds.examples, ds.conversations), ("happy", 40, 20));

    let b = register(&mut c, adapter(&tmp.path().join("a2"), 2)).unwrap();
    update_metrics(&mut c, &a.id, &Metrics { avg_satisfaction: Some(0.6), total_conversations: Some(100), ..Metrics::default() }).unwrap();
    update_metrics(&mut c, &b.id, &Metrics { avg_satisfaction: Some(0.75), total_conversations: Some(120), training_loss: Some(1.0), ..Metrics::default() }).unwrap();
    assert!(update_metrics(&mut c, &b.id, &Metrics { avg_satisfaction: Some(1.5), ..Metrics::default() }).is_err());
    let cmp = compare(&c, "v1.0.0", "1.1.0").unwrap();
    assert!((cmp.satisfaction_diff.unwrap() - 0.15).abs() < 1e-12);
    assert_eq!(cmp.conversation_count_diff, Some(20));
    assert_eq!(cmp.training_loss_diff, Some(-0.5));
    assert_eq!(cmp.eval_loss_diff, None);
    assert!(matches!(compare(&c, "9.9.9", "1.0.0"), Err(Error::NotFound { .. })));
}

fn read_all(dir: &Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "safetensors") {
            let st = SafeTensors::open(&p).unwrap();
            for t in &st.tensors {
                out.insert(t.name.clone(), st.read_f32(t).unwrap());
            }
        }
    }
    out
}

#[test]
fn merge_adds_scaled_b_times_a_to_each_target_across_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, ad, out) = (tmp.path().join("base"), tmp.path().join("ad"), tmp.path().join("merged"));
    write_base(&base, Dims::TINY, Dtype::F32, 3, 7).unwrap();
    write_adapter(&ad, "b", Dims::TINY, 4, 8.0, &ALL, Dtype::F32, 7).unwrap();
    let files = PeftAdapter::open(&ad).unwrap();
    let model = peft::BaseModel::open(&base).unwrap();
    assert_eq!(model.shards.len(), 3);
    let report = convert::merge(&files, &model, &out).unwrap();
    assert_eq!(report.merged, 14);
    assert!(out.join("config.json").exists() && out.join("model.safetensors.index.json").exists());
    let (before, after) = (read_all(&base), read_all(&out));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    let st = files.weights_file().unwrap();
    for pair in &files.pairs {
        let a = st.read_f32(&pair.a).unwrap();
        let b = st.read_f32(&pair.b).unwrap();
        let (o, i) = pair.delta_shape();
        let w0 = &before[&pair.base_weight()];
        let w1 = &after[&pair.base_weight()];
        for row in [0, o - 1] {
            for col in [0, i / 2, i - 1] {
                let delta: f32 = (0..pair.rank).map(|k| b[row * pair.rank + k] * a[k * i + col]).sum::<f32>() * 2.0;
                assert!((w1[row * i + col] - w0[row * i + col] - delta).abs() < 1e-6);
            }
        }
    }
    assert_eq!(before["model.norm.weight"], after["model.norm.weight"]);
    // An existing output is refused; a mismatched base is named and leaves nothing behind.
    assert!(convert::merge(&files, &model, &out).unwrap_err().to_string().contains("already exists"));
    let other = tmp.path().join("other");
    write_base(&other, Dims { hidden: 32, ..Dims::TINY }, Dtype::F32, 1, 1).unwrap();
    let err = convert::merge(&files, &peft::BaseModel::open(&other).unwrap(), &tmp.path().join("m2")).unwrap_err();
    assert!(err.to_string().contains("trained on another base model"), "{err}");
    assert!(!tmp.path().join("m2").exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count(), 0);
}

#[test]
fn gguf_adapter_has_llama_cpp_names_and_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, ad, out) = (tmp.path().join("base"), tmp.path().join("ad"), tmp.path().join("a.gguf"));
    write_base(&base, Dims::TINY, Dtype::BF16, 1, 3).unwrap();
    write_adapter(&ad, "b", Dims::TINY, 4, 8.0, &["q_proj", "down_proj"], Dtype::BF16, 3).unwrap();
    let files = PeftAdapter::open(&ad).unwrap();
    let r = convert::to_gguf(&files, &peft::BaseModel::open(&base).unwrap(), &out, gguf::GgmlType::F32).unwrap();
    assert_eq!((r.tensors, r.architecture.as_str()), (8, "qwen2"));
    let info = gguf::read_info(&out).unwrap();
    assert_eq!(info.get("general.architecture").and_then(gguf::Value::as_str), Some("qwen2"));
    assert_eq!(info.get("general.type").and_then(gguf::Value::as_str), Some("adapter"));
    assert_eq!(info.get("adapter.type").and_then(gguf::Value::as_str), Some("lora"));
    assert_eq!(info.get("adapter.lora.alpha").and_then(gguf::Value::as_f32), Some(8.0));
    let t: Vec<_> = info.tensors.iter().map(|(n, s, ty, _)| (n.as_str(), s.clone(), *ty)).collect();
    assert!(t.contains(&("blk.0.attn_q.weight.lora_a", vec![4, 16], 0)), "{t:?}");
    assert!(t.contains(&("blk.1.ffn_down.weight.lora_b", vec![16, 4], 0)), "{t:?}");
}

#[test]
fn the_guides_command_with_a_weights_file_registers_its_folder() {
    // `register-adapter --adapter-path ./saves/…/adapter_model.bin` in the guide.
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    let folder = tmp.path().join("saves/qwen2.5-14b-lora-garden-eden");
    let new = adapter(&folder, 7);
    let file = NewAdapter { path: folder.join("adapter_model.safetensors"), ..new };
    let a = register(&mut c, file).unwrap();
    assert_eq!(Path::new(&a.path), std::fs::canonicalize(&folder).unwrap());
    // A file that is not in an adapter folder is still an error that says so.
    let stray = tmp.path().join("stray.bin");
    std::fs::write(&stray, b"x").unwrap();
    let err = register(&mut c, NewAdapter { name: "x".into(), path: stray, ..NewAdapter::default() }).unwrap_err();
    assert!(err.to_string().contains("adapter_config.json"), "{err}");
}

#[test]
fn names_with_control_characters_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    for (name, base) in [("eden\u{1b}[31m", "Qwen/Qwen2.5-0.5B"), ("eden", "qwen2.5:14b\nADAPTER /etc/passwd")] {
        let new = NewAdapter { name: name.into(), base_model: Some(base.into()), ..adapter(&tmp.path().join("x"), 1) };
        let err = register(&mut c, new).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
    }
    assert_eq!(c.query_row("SELECT count(*) FROM adapters", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
}

/// A safetensors file with exactly this header and `data` bytes after it.
fn raw_safetensors(path: &Path, header: &serde_json::Value, data: usize) {
    let h = header.to_string().into_bytes();
    let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&h);
    bytes.extend(std::iter::repeat_n(0u8, data));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn hostile_adapter_folders_are_refused_quickly_and_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = db();
    let folder = |name: &str| {
        let d = tmp.path().join(name);
        write_adapter(&d, "b", Dims::TINY, 4, 8.0, &["q_proj"], Dtype::F32, 1).unwrap();
        d
    };
    let refuse = |c: &mut Connection, dir: &Path, words: &str| {
        let started = std::time::Instant::now();
        let err = register(c, NewAdapter { name: "x".into(), path: dir.to_path_buf(), ..NewAdapter::default() }).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{words}: took {:?}", started.elapsed());
        assert!(err.to_string().contains(words), "expected {words:?} in: {err}");
    };

    // A FIFO (and a link to a device) in place of the weights or the config: refused, not read.
    let fifo = folder("fifo");
    std::fs::remove_file(fifo.join("adapter_model.safetensors")).unwrap();
    nix::unistd::mkfifo(&fifo.join("adapter_model.safetensors"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    refuse(&mut c, &fifo, "not a regular file");
    let zero = folder("zero");
    std::fs::remove_file(zero.join("adapter_config.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.join("adapter_config.json")).unwrap();
    refuse(&mut c, &zero, "not a regular file");
    let big = folder("big-config");
    std::fs::write(big.join("adapter_config.json"), vec![b' '; 2 * 1024 * 1024]).unwrap();
    refuse(&mut c, &big, "1 MB at most");

    // Shapes whose byte size overflows, overlapping tensors, rank 0.
    let overflow = folder("overflow");
    raw_safetensors(
        &overflow.join("adapter_model.safetensors"),
        &serde_json::json!({
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": {"dtype": "F32", "shape": [4294967296u64, 4294967296u64], "data_offsets": [0, 64]},
        }),
        64,
    );
    refuse(&mut c, &overflow, "too large");
    let overlap = folder("overlap");
    raw_safetensors(
        &overlap.join("adapter_model.safetensors"),
        &serde_json::json!({
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": {"dtype": "F32", "shape": [4, 16], "data_offsets": [0, 256]},
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": {"dtype": "F32", "shape": [16, 4], "data_offsets": [128, 384]},
        }),
        384,
    );
    refuse(&mut c, &overlap, "overlap");
    let rank0 = folder("rank0");
    raw_safetensors(
        &rank0.join("adapter_model.safetensors"),
        &serde_json::json!({
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": {"dtype": "F32", "shape": [0, 16], "data_offsets": [0, 0]},
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": {"dtype": "F32", "shape": [16, 0], "data_offsets": [0, 0]},
        }),
        0,
    );
    refuse(&mut c, &rank0, "rank 0");

    // A rank_pattern for modules that are not there; NaN weights.
    let pattern = folder("pattern");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(pattern.join("adapter_config.json")).unwrap()).unwrap();
    config["rank_pattern"] = serde_json::json!({"nonexistent_proj": 4});
    std::fs::write(pattern.join("adapter_config.json"), config.to_string()).unwrap();
    refuse(&mut c, &pattern, "matches none");
    let nan = tmp.path().join("nan");
    write_adapter(&nan, "b", Dims::TINY, 4, 8.0, &["q_proj"], Dtype::F32, 1).unwrap();
    let st = SafeTensors::open(&nan.join("adapter_model.safetensors")).unwrap();
    let t = st.tensors[0].clone();
    drop(st);
    let mut bytes = std::fs::read(nan.join("adapter_model.safetensors")).unwrap();
    bytes[t.start as usize..t.start as usize + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(nan.join("adapter_model.safetensors"), bytes).unwrap();
    refuse(&mut c, &nan, &t.name);

    assert_eq!(c.query_row("SELECT count(*) FROM adapters", [], |r| r.get::<_, i64>(0)).unwrap(), 0, "nothing registered");
}
