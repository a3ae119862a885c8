//! Learning from judgements with the real `garden-eden` binary: `compare` (blind by default, the
//! vote by the printed label), `export-training-data --format pairs`, and `train --stage …`
//! (refusals, and a real ORPO run with LLaMA-Factory on the tiny model).
//!
//! The models answer through the Ollama stand-in (no model runs; each answer names the model that
//! gave it, which is how these tests tell the sides apart). The training test needs the trainer's
//! Python environment (GARDEN_EDEN_REQUIRE_TRAINER=1 turns a missing one into a failure).

use std::path::{Path, PathBuf};
use std::process::Output;

use garden_core::{Settings, Studio};

mod common;
use common::{failed, garden_eden, ok, python_with};

/// Runs the binary off the async workers (the stand-in answers on them meanwhile).
async fn cli(data: &Path, args: &[&str]) -> Output {
    let (data, args): (PathBuf, Vec<String>) = (data.to_owned(), args.iter().map(|a| a.to_string()).collect());
    tokio::task::spawn_blocking(move || garden_eden(&data, &args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
}

/// The Ollama stand-in serving `base:1` and `eden:1`, added as the models `base` and `eden`.
async fn two_models(dir: &Path, data: &Path) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = garden_eden::ollama_stand_in::StandInConfig {
        version: "0.34.1".into(),
        dir: dir.join("blobs"),
        models: vec!["base:1".into(), "eden:1".into()],
    };
    tokio::spawn(garden_eden::ollama_stand_in::serve(listener, config));
    for name in ["base", "eden"] {
        ok(&cli(data, &["models", "add", name, "--kind", "ollama", "--url", &url, "--model", &format!("{name}:1")]).await);
    }
}

/// The printed answers: (label, header, text) for A and B.
fn printed(stdout: &str) -> Vec<(char, String, String)> {
    let mut out: Vec<(char, String, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(header) = line.strip_prefix("── ").and_then(|l| l.strip_suffix(" ──")) {
            out.push((header.chars().next().unwrap(), header.to_owned(), String::new()));
        } else if let Some(last) = out.last_mut() {
            if !line.is_empty() && !line.starts_with("Not voted") && !line.starts_with("Voted") {
                last.2.push_str(line);
            }
        }
    }
    out
}

/// The label under which eden's answer was printed.
fn eden_label(stdout: &str) -> char {
    let answers = printed(stdout);
    assert_eq!(answers.iter().map(|a| a.0).collect::<String>(), "AB", "{stdout}");
    answers.iter().find(|a| a.2.contains("stand-in: eden:1")).map(|a| a.0).unwrap_or_else(|| panic!("{stdout}"))
}

fn studio(data: &Path) -> Studio {
    let mut settings = Settings::new(data.to_owned());
    settings.python = Some(PathBuf::from("/nonexistent/python"));
    Studio::open(settings).unwrap()
}

/// (winner, blind) of every vote, as stored, oldest first.
fn stored_votes(data: &Path) -> Vec<(Option<String>, bool)> {
    studio(data)
        .db()
        .with_conn(|c| {
            let mut s = c.prepare("SELECT winner, blind FROM votes ORDER BY created_at, rowid")?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .unwrap()
}

/// Votes for eden in `n` blind comparisons, naming it by the label it was printed under.
async fn vote_for_eden(data: &Path, n: usize) {
    for i in 0..n {
        let out = ok(&cli(data, &["compare", "-m", &format!("Tell me about topic number {i}."), "--a", "base", "--b", "eden"]).await);
        let id = out.lines().find_map(|l| l.strip_prefix("Not voted. To vote: garden-eden compare --id ")).unwrap().split_whitespace().next().unwrap().to_owned();
        let label = eden_label(&out).to_ascii_lowercase().to_string();
        let voted = ok(&cli(data, &["compare", "--id", &id, "--vote", &label]).await);
        assert!(voted.contains(&format!("Voted {}: eden is better", label.to_uppercase())), "{voted}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_prints_blind_answers_records_votes_and_exports_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_models(dir.path(), &data).await;

    // Blind by default: A and B, no model named, and how to vote later.
    let out = ok(&cli(&data, &["compare", "-m", "Which colour is the sky?", "--a", "base", "--b", "eden"]).await);
    let answers = printed(&out);
    assert_eq!(answers.iter().map(|a| a.1.as_str()).collect::<Vec<_>>(), ["A", "B"], "the headers name no model: {out}");
    assert!(answers.iter().all(|a| a.2.contains("received \"Which colour is the sky?\"")), "{out}");
    assert!(out.contains("Not voted. To vote: garden-eden compare --id "), "{out}");
    assert_eq!(stored_votes(&data), [(None, true)]);

    // The vote names the answer as printed; the stored winner is the model behind it.
    let id = out.lines().find_map(|l| l.strip_prefix("Not voted. To vote: garden-eden compare --id ")).unwrap().split_whitespace().next().unwrap().to_owned();
    let label = eden_label(&out);
    let voted = ok(&cli(&data, &["compare", "--id", &id, "--vote", &label.to_ascii_lowercase().to_string()]).await);
    assert!(voted.contains(&format!("Voted {label}: eden is better")), "revealed after the vote: {voted}");
    assert!(voted.contains("A was ") && voted.contains("B was "), "{voted}");
    assert_eq!(stored_votes(&data), [(Some("b".to_owned()), true)], "eden is --b");
    let again = failed(&cli(&data, &["compare", "--id", &id, "--vote", "a"]).await);
    assert!(again.contains("already has a vote"), "{again}");

    // Prompt and vote in one go (the label as printed), and the other votes.
    let out = ok(&cli(&data, &["compare", "-m", "Name a fruit.", "--a", "base", "--b", "eden", "--vote", "tie"]).await);
    assert!(out.contains("Voted a tie (A was "), "{out}");
    let out = ok(&cli(&data, &["compare", "-m", "Add two and two.", "--a", "base", "--b", "eden", "--vote", "both-bad"]).await);
    assert!(out.contains("Voted both bad"), "{out}");
    // Revealed: A is --a, named before any vote; --json for scripts.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&cli(&data, &["compare", "-m", "Say hello.", "--a", "base", "--b", "eden", "--reveal", "--vote", "b", "--json"]).await)).unwrap();
    assert_eq!((json["models"]["a"].as_str(), json["models"]["b"].as_str(), json["vote"].as_str(), json["blind"].as_bool()), (Some("base"), Some("eden"), Some("b"), Some(false)), "{json}");
    assert!(json["answers"]["b"].as_str().unwrap().contains("stand-in: eden:1"), "{json}");
    let out = ok(&cli(&data, &["compare", "-m", "Say goodbye.", "--a", "base", "--b", "eden", "--reveal"]).await);
    assert!(out.contains("── A: base ──") && out.contains("── B: eden ──"), "{out}");
    let bad = failed(&cli(&data, &["compare", "-m", "x", "--a", "base", "--b", "base"]).await);
    assert!(bad.contains("choose two different models"), "{bad}");
    let bad = failed(&cli(&data, &["compare", "--id", "nope", "--vote", "a"]).await);
    assert!(bad.contains("nope"), "{bad}");

    let winners: Vec<Option<String>> = stored_votes(&data).into_iter().map(|v| v.0).collect();
    assert_eq!(winners, [Some("b".into()), Some("tie".into()), Some("both_bad".into()), Some("b".into()), None], "the refused comparison is not stored");

    // The votes become preference pairs: eden's answers chosen, base's rejected.
    let exported = dir.path().join("pairs/votes.jsonl");
    let out = ok(&cli(&data, &["export-training-data", "--format", "pairs", "--validation-ratio", "0", "--output", exported.to_str().unwrap()]).await);
    assert!(out.starts_with("Exported 2 preference pairs (2 from votes, 0 from thumbs)"), "{out}");
    let pairs: Vec<serde_json::Value> = std::fs::read_to_string(&exported).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(pairs.len(), 2);
    for p in &pairs {
        assert_eq!(p["messages"].as_array().unwrap().last().unwrap()["role"], "user");
        assert!(p["chosen"]["content"].as_str().unwrap().contains("stand-in: eden:1"), "{p}");
        assert!(p["rejected"]["content"].as_str().unwrap().contains("stand-in: base:1"), "{p}");
    }
    let info: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("pairs/dataset_info.json")).unwrap()).unwrap();
    assert_eq!(info["votes"]["ranking"], true, "{info}");
    let listed = ok(&cli(&data, &["datasets", "list"]).await);
    assert!(listed.contains("votes") && listed.contains("pairs"), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_refuses_a_stage_its_data_cannot_teach() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_models(dir.path(), &data).await;
    // Nothing to pair yet: the export says what there is and what to do.
    let err = failed(&cli(&data, &["export-training-data", "--format", "pairs"]).await);
    assert!(err.contains("no preference pair") && err.contains("vote for the better answer in Compare"), "{err}");

    // Only thumbs up: KTO is refused with the counts.
    ok(&cli(&data, &["chat", "-m", "Hello there!", "--model", "eden", "--thumbs", "up"]).await);
    ok(&cli(&data, &["chat", "-m", "How are you?", "--model", "eden", "--thumbs", "up"]).await);
    ok(&cli(&data, &["export-training-data", "--format", "kto", "--name", "ups", "--validation-ratio", "0"]).await);
    let err = failed(&cli(&data, &["train", "--dataset", "ups", "--tiny", "/nonexistent/tiny"]).await);
    assert!(err.contains("ups has 2 rated up and 0 rated down") && err.contains("Rate some answers down"), "{err}");
    let err = failed(&cli(&data, &["train", "--dataset", "ups", "--tiny", "/nonexistent/tiny", "--pref-loss", "orpo"]).await);
    assert!(err.contains("--pref-loss is for the dpo stage"), "{err}");

    // Too few pairs for DPO.
    vote_for_eden(&data, 2).await;
    ok(&cli(&data, &["export-training-data", "--format", "pairs", "--name", "two", "--validation-ratio", "0"]).await);
    let err = failed(&cli(&data, &["train", "--dataset", "two", "--tiny", "/nonexistent/tiny"]).await);
    assert!(err.contains("DPO needs at least 4 preference pairs") && err.contains("two has 2 (2 pairs from votes"), "{err}");
    // A conversation export trains no DPO.
    ok(&cli(&data, &["export-training-data", "--format", "alpaca", "--name", "chats", "--validation-ratio", "0"]).await);
    let err = failed(&cli(&data, &["train", "--dataset", "chats", "--tiny", "/nonexistent/tiny", "--stage", "dpo"]).await);
    assert!(err.contains("stage dpo trains on a pairs export"), "{err}");
    assert!(ok(&cli(&data, &["runs", "list"]).await).contains("No runs yet"), "nothing was queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_stage_dpo_with_orpo_from_cli_votes() {
    let Some(python) = python_with("llamafactory") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_models(dir.path(), &data).await;
    vote_for_eden(&data, 8).await;
    let out = ok(&cli(&data, &["export-training-data", "--format", "pairs", "--name", "votes", "--validation-ratio", "0.25"]).await);
    assert!(out.starts_with("Exported 8 preference pairs"), "{out}");

    let tiny = dir.path().join("tiny");
    common::run_py(&python, "make_tiny_model.py", &[tiny.to_str().unwrap()]);

    // The dry run shows what the stage trains on.
    let review: serde_json::Value = serde_json::from_str(&ok(&cli(
        &data,
        &["--python", python.to_str().unwrap(), "train", "--dataset", "votes", "--tiny", tiny.to_str().unwrap(), "--pref-loss", "orpo", "--pref-beta", "0.2", "--dry-run"],
    )
    .await))
    .unwrap();
    assert_eq!(review["stage"]["stage"], "dpo", "{review}");
    assert_eq!(review["stage"]["pairs"]["from_votes"], 8, "{review}");
    let yaml = review["yaml"].as_str().unwrap();
    assert!(yaml.contains("stage: dpo\n") && yaml.contains("pref_loss: orpo\n") && yaml.contains("pref_beta: 0.2\n"), "{yaml}");

    let out = ok(&cli(
        &data,
        &["--python", python.to_str().unwrap(), "train", "--dataset", "votes", "--tiny", tiny.to_str().unwrap(), "--name", "orpo", "--stage", "dpo", "--pref-loss", "orpo", "--max-steps", "6"],
    )
    .await);
    assert!(out.contains("Stage dpo: Learn from your side-by-side choices (DPO/ORPO)") && out.contains("loss orpo"), "{out}");
    assert!(out.contains("(orpo, dpo): succeeded"), "{out}");
    assert!(out.contains("Rewards at step 6: chosen "), "{out}");
    assert!(out.contains("Validation at step "), "the _val split was evaluated: {out}");
    let runs: serde_json::Value = serde_json::from_str(&ok(&cli(&data, &["runs", "list", "--json"]).await)).unwrap();
    assert_eq!(runs[0]["stage"], "dpo", "{runs}");
    assert!(ok(&cli(&data, &["runs", "list"]).await).contains(" dpo "), "the stage is listed");
    let adapters: serde_json::Value = serde_json::from_str(&ok(&cli(&data, &["adapters", "list", "--json"]).await)).unwrap();
    let adapter = adapters.as_array().unwrap().iter().find(|a| a["run_id"] == runs[0]["id"]).unwrap_or_else(|| panic!("{adapters}"));
    assert_eq!(adapter["stage"], "dpo");
}
