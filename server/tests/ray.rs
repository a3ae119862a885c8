//! `garden-eden clusters` and `train --on` with the real binary against a real local Ray head
//! (its jobs run the real LLaMA-Factory on the tiny model): the cluster registered and listed with
//! what it has, a 30-step run trained there with every point stored and the adapter registered
//! with the cluster in its lineage; a GPU the cluster lacks refused before anything is queued.

mod common;
#[path = "../../garden-core/tests/common/ray_head.rs"]
mod ray_head;

use common::{failed, garden_eden, ok, python_with};
use ray_head::RayHead;

#[test]
fn clusters_add_list_and_train_on_a_local_ray_head() {
    let Some(python) = python_with("ray") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tiny = dir.path().join("tiny");
    common::run_py(&python, "make_tiny_model.py", &[tiny.to_str().unwrap()]);
    let python_arg = python.to_str().unwrap();
    let head = RayHead::start(&python, 2);

    let out = ok(&garden_eden(&data, &["clusters", "list"]));
    assert!(out.contains("No cluster yet") && out.contains("ray start --head"), "{out}");
    let out = ok(&garden_eden(&data, &["clusters", "add", "local-ray", "--url", &head.url]));
    assert!(out.contains("Added local-ray") && out.contains("1 node · 2 CPUs · 0 GPUs"), "{out}");
    let err = failed(&garden_eden(&data, &["clusters", "add", "local-ray", "--url", &head.url]));
    assert!(err.contains("registered already"), "{err}");
    let out = ok(&garden_eden(&data, &["clusters", "list"]));
    assert!(out.contains("local-ray") && out.contains(&head.url) && out.contains("2 CPUs"), "{out}");

    ok(&garden_eden(&data, &["import", "--sample"]));
    ok(&garden_eden(&data, &["export-training-data", "--format", "alpaca", "--name", "sample", "--validation-ratio", "0.2"]));
    let train = |extra: &[&str]| {
        let mut args = vec!["--python", python_arg, "train", "--dataset", "sample", "--tiny", tiny.to_str().unwrap(), "--on", "local-ray"];
        args.extend_from_slice(extra);
        garden_eden(&data, &args)
    };
    let err = failed(&train(&["--gpus", "1", "--max-steps", "30"]));
    assert!(err.contains("local-ray has 0 GPU(s)") && err.contains("asks for 1"), "{err}");
    assert!(ok(&garden_eden(&data, &["runs", "list"])).contains("No runs yet"), "nothing was queued");

    let out = ok(&train(&["--max-steps", "30", "--name", "remote"]));
    assert!(out.contains("succeeded"), "{out}");
    let runs: serde_json::Value = serde_json::from_str(&ok(&garden_eden(&data, &["runs", "list", "--json"]))).unwrap();
    let run = &runs[0];
    assert_eq!(run["cluster"], "local-ray");
    let id = run["id"].as_str().unwrap();
    assert_eq!(run["status"], "succeeded");
    let db = rusqlite::Connection::open(data.join("garden-eden.sqlite3")).unwrap();
    let losses: i64 = db.query_row("SELECT COUNT(*) FROM run_metrics WHERE run_id = ?1 AND loss IS NOT NULL", [id], |r| r.get(0)).unwrap();
    assert!(losses >= 30, "{losses} training points stored");
    let adapters = ok(&garden_eden(&data, &["adapters", "list"]));
    assert!(adapters.contains("remote"), "{adapters}");
    let lineage = ok(&garden_eden(&data, &["adapters", "show", "remote@1.0.0"]));
    assert!(lineage.contains(&format!("on the Ray cluster local-ray at {}", head.url)), "{lineage}");
}
