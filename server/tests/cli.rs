//! The real `garden-eden` binary, as a person types it.

mod common;

use common::{garden_eden, ok};

#[test]
fn import_sample_then_export_as_the_seed_shows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The guided first run starts at the import.
    let next = ok(&garden_eden(&data, &["next"]));
    assert!(next.starts_with("next  1. Bring in your history"), "{next}");
    assert!(next.contains("Next: Bring in your history. In the web app: http://127.0.0.1:3000/start?step=import"), "{next}");
    let out = ok(&garden_eden(&data, &["import", "--sample"]));
    assert!(out.starts_with("Imported "), "{out}");
    // Again: nothing twice.
    let again = ok(&garden_eden(&data, &["import", "--sample"]));
    assert!(again.starts_with("Imported 0 conversations"), "{again}");

    let target = dir.path().join("training_data.json");
    let out = ok(&garden_eden(
        &data,
        &[
            "export-training-data", "--format", "alpaca", "--output", target.to_str().unwrap(),
            "--min-satisfaction", "0.8", "--limit", "1000", "--since", "2025-01-01",
        ],
    ));
    let line = out.lines().next().unwrap();
    assert!(line.starts_with("Exported ") && line.contains(" examples, average satisfaction "), "{line}");
    let n: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n > 0);
    let avg: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(avg >= 0.8, "only conversations rated 0.8 or more: {avg}");
    let train: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    let val_path = dir.path().join("training_data_val.json");
    let val: Vec<serde_json::Value> = if val_path.exists() {
        serde_json::from_str(&std::fs::read_to_string(&val_path).unwrap()).unwrap()
    } else {
        Vec::new()
    };
    assert_eq!(train.len() + val.len(), n);
    assert!(dir.path().join("dataset_info.json").exists());
    assert!(dir.path().join("training_data.meta.json").exists());

    // --json for machines, and the dataset is listed.
    let json: serde_json::Value = serde_json::from_str(&ok(&garden_eden(
        &data,
        &["export-training-data", "--format", "kto", "--name", "thumbs", "--json"],
    )))
    .unwrap();
    assert_eq!(json["format"], "kto");
    let list = ok(&garden_eden(&data, &["datasets", "list"]));
    assert!(list.contains("training_data") && list.contains("thumbs"), "{list}");
    // Two steps done; training is next, in words and as JSON.
    let next = ok(&garden_eden(&data, &["next"]));
    assert!(next.contains("done  1. Bring in your history") && next.contains("done  2. Build a dataset"), "{next}");
    assert!(next.contains("next  3. Train a LoRA adapter"), "{next}");
    let journey: serde_json::Value = serde_json::from_str(&ok(&garden_eden(&data, &["next", "--json"]))).unwrap();
    let done: Vec<bool> = journey["steps"].as_array().unwrap().iter().map(|s| s["done"].as_bool().unwrap()).collect();
    assert_eq!(done, [true, true, false, false, false, false, false]);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bad = dir.path().join("broken.jsonl");
    std::fs::write(&bad, "{\"user\": \"hi\", \"assistant\": \"hello\"}\n{\"user\": \"oops\"\n").unwrap();
    let out = garden_eden(&data, &["import", "--from", "jsonl", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.jsonl") && err.contains("line 2"), "{err}");

    let out = garden_eden(&data, &["import", "--from", "whatsapp", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("goe-v3"));

    let out = garden_eden(&data, &["export-training-data", "--since", "last tuesday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"), "{}", String::from_utf8_lossy(&out.stderr));

    let out = garden_eden(&data, &["export-training-data", "--min-satisfaction", "1.5"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_satisfaction"));
}

#[test]
fn doctor_and_migrate_speak_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = ok(&garden_eden(&data, &["migrate"]));
    let latest = garden_core::migrate::latest_version();
    assert!(out.contains(&format!("schema version {latest} (up to date)")), "{out}");
    let out = ok(&garden_eden(&data, &["doctor"]));
    assert!(out.contains("Ollama") && out.contains("fix:"), "{out}");
    let report: serde_json::Value = serde_json::from_str(&ok(&garden_eden(&data, &["doctor", "--json"]))).unwrap();
    let keys: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys, garden_core::doctor::CHECK_KEYS);
    // The GPU kind and the extras, for scripts.
    let kind = report["hardware"]["kind"].as_str().unwrap();
    assert!(["nvidia", "amd", "apple", "none"].contains(&kind), "{kind}");
    assert!(report["hardware"]["gpus"].is_array());
    let extras: Vec<&str> = report["extras"].as_array().unwrap().iter().map(|e| e["package"].as_str().unwrap()).collect();
    assert_eq!(extras, ["bitsandbytes", "deepspeed"], "{report:#}");
    assert!(report["extras"][0]["pin"].as_str().unwrap().starts_with("bitsandbytes=="));
}

#[test]
fn train_reads_a_llamafactory_yaml_and_names_a_wrong_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let yaml = dir.path().join("run.yaml");
    std::fs::write(&yaml, "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nlora_rnak: 8\n").unwrap();
    let out = garden_eden(&data, &["train", "--config", yaml.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("lora_rnak"), "{err}");

    std::fs::write(&yaml, "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: sft\n").unwrap();
    let out = garden_eden(&data, &["train", "--config", yaml.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dataset"), "no dataset named anywhere");
}

#[test]
fn learn_ab_and_models_explain_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = ok(&garden_eden(&data, &["learn", "plan"]));
    assert!(out.contains("No active adapter"), "{out}");
    let bad = garden_eden(&data, &["learn", "experiment"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("learn start"), "{}", String::from_utf8_lossy(&bad.stderr));
    let bad = garden_eden(&data, &["ab", "report"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no experiments yet"));
    ok(&garden_eden(&data, &["models", "add", "local", "--url", "http://127.0.0.1:9", "--model", "m"]));
    let bad = garden_eden(&data, &["models", "add", "bad", "--url", "ftp://x", "--model", "m"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not an http(s) URL"));
    let bad = garden_eden(&data, &["chat", "-m", "hi", "--model", "local"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nothing answers there"), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn commands_keep_the_terminal_for_their_result_and_log_with_v() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_garden-eden"))
            .arg("--data-dir")
            .arg(&data)
            .args(extra)
            .args(["import", "--sample"])
            .env_remove("GARDEN_EDEN_LOG")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let quiet = run(&[]);
    assert!(quiet.status.success());
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(!stderr.contains("INFO") && !stderr.contains("applied migration"), "no logs without -v: {stderr}");
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("Imported"), "the result is printed");
    let verbose = run(&["-v"]);
    assert!(String::from_utf8_lossy(&verbose.stderr).contains("INFO"), "-v logs");
}

#[test]
fn the_data_dir_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&garden_eden(&data, &["import", "--sample"]));
    ok(&garden_eden(&data, &["export-training-data", "--format", "alpaca", "--output", data.join("sets/ge.json").to_str().unwrap()]));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data dir");
    assert_eq!(mode(&data.join("garden-eden.sqlite3")), 0o600, "the database");
    assert_eq!(mode(&data.join("sets")), 0o700);
    assert_eq!(mode(&data.join("sets/ge.json")), 0o600, "an export");
}
