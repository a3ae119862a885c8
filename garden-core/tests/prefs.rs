//! Preference stages with the real LLaMA-Factory on the tiny demo model (CPU, seconds): KTO from
//! thumbs, DPO (sigmoid, on top of an SFT adapter) and ORPO from side-by-side votes; the rewards
//! the trainer logs stored and streamed; the adapters registered with their stage; the exported
//! pairs read by LLaMA-Factory's own loader; and the data a stage cannot train on refused.
//!
//! Needs the trainer's Python environment (`./scripts/test` creates it and sets
//! GARDEN_EDEN_REQUIRE_TRAINER=1, which turns a missing environment into a failure). The refusal
//! tests need no trainer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use garden_core::compare::Winner;
use garden_core::conversations::{store, NewConversation, NewMessage, Role};
use garden_core::export::{self, Curation, DataFilter, Dataset, ExportRequest, Format};
use garden_core::infer::{self, NewEndpoint};
use garden_core::train::config::{PrefLoss, Stage};
use garden_core::train::runs::{self, MetricPoint, Run, RunStatus};
use garden_core::train::supervisor::NewRun;
use garden_core::train::{prefs, RunEvent, Supervisor, TrainConfig};
use garden_core::{Error, Settings, Studio};

mod common;
use common::{python, tiny_model};

/// One training at a time on two cores (an async lock: it is held across the training's awaits).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
fn studio(python: Option<&Path>) -> (tempfile::TempDir, Studio) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new(dir.path().join("data"));
    settings.python = Some(python.map(Path::to_owned).unwrap_or_else(|| PathBuf::from("/nonexistent/python")));
    (dir, Studio::open(settings).unwrap())
}

const TOPICS: [&str; 16] = [
    "tea", "rain", "bread", "rivers", "bicycles", "owls", "gardens", "maps", "snow", "lanterns", "honey", "bridges",
    "kites", "moss", "clocks", "harbours",
];

/// Side-by-side votes between two models: `n` with a winner (A and B in turn), plus a tie and a
/// "both bad" that give no pair.
fn add_votes(studio: &Studio, n: usize) {
    studio
        .db()
        .with_conn(move |c| {
            let mut add = |name: &str| {
                infer::add_endpoint(c, NewEndpoint { name: name.into(), kind: "openai".into(), url: "http://127.0.0.1:9".into(), model: format!("{name}:1"), adapter_id: None })
                    .map(|e| e.id)
            };
            let (a, b) = (add("base")?, add("eden")?);
            let insert = |id: &str, prompt: &str, answer_a: &str, answer_b: &str| {
                c.execute(
                    "INSERT INTO votes (id, prompt, endpoint_a, endpoint_b, answer_a, answer_b, left_arm, blind, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'a', 1, ?7)",
                    rusqlite::params![id, prompt, a, b, answer_a, answer_b, garden_core::now_ms()],
                )
            };
            for (i, topic) in TOPICS.iter().cycle().take(n).enumerate() {
                let good = format!("Here is a short, kind note about {topic}: they make an ordinary day a little brighter.");
                let bad = format!("No. {topic}.");
                let (answer_a, answer_b) = if i % 2 == 0 { (good.clone(), bad.clone()) } else { (bad.clone(), good.clone()) };
                insert(&format!("vote-{i}"), &format!("Tell me something nice about {topic} (#{i})."), &answer_a, &answer_b)?;
            }
            insert("vote-tie", "Pick a fruit.", "Apple.", "Pear.")?;
            insert("vote-both-bad", "Add two and two.", "Five.", "Three.")?;
            Ok(())
        })
        .unwrap();
    // Voted as the Compare page votes (the winner's answer is the good one).
    for i in 0..n {
        let winner = if i % 2 == 0 { Winner::A } else { Winner::B };
        studio.db().with_conn(|c| garden_core::compare::vote(c, &format!("vote-{i}"), winner)).unwrap();
    }
    studio.db().with_conn(|c| garden_core::compare::vote(c, "vote-tie", Winner::Tie)).unwrap();
    studio.db().with_conn(|c| garden_core::compare::vote(c, "vote-both-bad", Winner::BothBad)).unwrap();
}

/// Chat answers rated with thumbs: `ups` rated up and `downs` rated down.
fn add_thumbs(studio: &Studio, ups: usize, downs: usize) {
    let at = garden_core::now_ms();
    let message = |role, content: String, thumbs| NewMessage { role, content, created_at: at, model: None, thumbs };
    let mut conversations = Vec::new();
    for i in 0..ups + downs {
        let topic = TOPICS[i % TOPICS.len()];
        let up = i < ups;
        let answer = if up {
            format!("A warm and useful answer about {topic}, with one clear example.")
        } else {
            format!("Whatever, {topic} is boring.")
        };
        conversations.push(NewConversation {
            source_ref: format!("thumbs-{i}"),
            title: format!("about {topic}"),
            created_at: at,
            messages: vec![
                message(Role::User, format!("Could you tell me about {topic}? (#{i})"), None),
                message(Role::Assistant, answer, Some(if up { 1 } else { -1 })),
            ],
            satisfaction: None,
        });
    }
    studio
        .db()
        .with_conn(move |c| {
            let tx = c.transaction()?;
            store(&tx, "test", None, conversations)?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
}

fn export(studio: &Studio, format: Format, name: &str, validation_ratio: f64) -> garden_core::Result<Dataset> {
    let request = ExportRequest {
        name: Some(name.into()),
        format,
        filter: DataFilter::default(),
        curation: Curation { validation_ratio, seed: 11, ..Curation::default() },
        output: None,
    };
    let data_dir = studio.settings().data_dir.clone();
    studio.db().with_conn(|c| export::export(c, &data_dir, &request, &mut |_, _| {}))
}

/// A tiny preference run's settings on `dataset`, readied for its stage as the wizard and the CLI
/// ready them (`prefs::prepare`: refusals, KTO's weights, the starting adapter).
fn config_for(studio: &Studio, python: &Path, dataset: &Dataset, pref_loss: PrefLoss) -> TrainConfig {
    let mut config = TrainConfig::tiny_demo(tiny_model(python).to_string_lossy());
    config.use_dataset(dataset);
    config.pref_loss = pref_loss;
    config.max_steps = Some(8);
    config.eval_steps = 4;
    config.save_steps = 100;
    config.cutoff_len = 128;
    config.per_device_train_batch_size = 4;
    config.per_device_eval_batch_size = 4;
    let d = dataset.clone();
    studio
        .db()
        .with_conn(move |c| {
            prefs::prepare(c, &mut config, &d)?;
            Ok(config)
        })
        .unwrap()
}

fn env() -> Vec<(String, String)> {
    vec![("HF_HUB_OFFLINE".into(), "1".into())]
}

async fn wait_done(studio: &Studio, id: &str) -> Run {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(420);
    loop {
        let id2 = id.to_owned();
        let run = studio.db().call(move |c| runs::get(c, &id2)).await.unwrap();
        if run.status.is_finished() {
            return run;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out; run is {:?}:\n{}", run.status, tail(&run.log_path));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tail(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.chars().rev().take(4000).collect::<String>().chars().rev().collect()
}

/// Trains `config` to the end; returns the run, its stored points, and the points streamed to
/// listeners while it ran.
async fn train(supervisor: &Supervisor, name: &str, dataset: &Dataset, config: TrainConfig) -> (Run, Vec<MetricPoint>, Vec<MetricPoint>) {
    let mut events = supervisor.subscribe();
    let run = supervisor.submit(NewRun { name: name.into(), dataset_id: Some(dataset.id.clone()), config }).await.unwrap();
    let studio = supervisor.studio().clone();
    let run = wait_done(&studio, &run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}\n{}", run.error, tail(&run.log_path));
    let id = run.id.clone();
    let points = studio.db().call(move |c| runs::metrics(c, &id)).await.unwrap();
    let mut streamed = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let RunEvent::Points { run_id, points } = event {
            if run_id == run.id {
                streamed.extend(points);
            }
        }
    }
    (run, points, streamed)
}

fn adapter_of(studio: &Studio, run: &Run) -> garden_core::adapters::Adapter {
    let id = run.id.clone();
    studio
        .db()
        .with_conn(move |c| garden_core::adapters::of_run(c, &id))
        .unwrap()
        .expect("the run's adapter is registered")
}

/// The `Num examples = N` lines transformers logs for training and evaluation.
fn logged_example_counts(log: &str) -> Vec<u64> {
    log.lines().filter_map(|l| l.split_once("Num examples = ")).filter_map(|(_, n)| n.trim().replace(',', "").parse().ok()).collect()
}

fn assert_rewards(points: &[MetricPoint], what: &str) {
    let train: Vec<&MetricPoint> = points.iter().filter(|p| p.rewards_chosen.is_some()).collect();
    assert!(train.len() >= 6, "{what}: rewards at (nearly) every step: {points:#?}");
    for p in &train {
        let (c, r, m) = (p.rewards_chosen.unwrap(), p.rewards_rejected.unwrap(), p.rewards_margins.unwrap());
        assert!((c - r - m).abs() < 1e-4, "{what}: margin is chosen − rejected at step {}: {p:?}", p.step);
        let acc = p.rewards_accuracies.unwrap();
        assert!((0.0..=1.0).contains(&acc), "{what}: {acc}");
    }
    assert!(points.iter().any(|p| p.eval_rewards_margins.is_some() && p.eval_rewards_accuracies.is_some()), "{what}: evaluation rewards: {points:#?}");
    assert!(points.iter().any(|p| p.eval_loss.is_some()), "{what}: an eval loss");
    assert!(points.iter().filter(|p| p.loss.is_some()).count() >= 8, "{what}: the loss of every step");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kto_learns_from_thumbs_with_balanced_class_weights() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().await;
    let (_dir, studio) = studio(Some(&python));
    // Three times as many ups as downs.
    add_thumbs(&studio, 18, 6);
    let dataset = export(&studio, Format::Kto, "thumbs", 0.2).unwrap();
    let lines = std::fs::read_to_string(&dataset.path).unwrap();
    let (ups, downs) = lines.lines().fold((0u64, 0u64), |(u, d), l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["kto_tag"].as_bool().unwrap() { (u + 1, d) } else { (u, d + 1) }
    });
    assert!(ups > downs && downs > 0, "{ups} up, {downs} down in the training split");

    let config = config_for(&studio, &python, &dataset, PrefLoss::Sigmoid);
    assert_eq!(config.stage, Stage::Kto, "a KTO export trains KTO");
    let expected = (ups as f64 / downs as f64 * 1e4).round() / 1e4;
    assert_eq!((config.kto_chosen_weight, config.kto_rejected_weight), (1.0, expected), "the smaller class weighs more");
    let review = prefs::stage_data(Stage::Kto, &dataset).unwrap();
    assert_eq!(review.kto.map(|k| (k.desirable, k.undesirable)), Some((ups, downs)), "the review shows the counts");

    let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
    let (run, points, streamed) = train(&supervisor, "kto", &dataset, config).await;
    assert_eq!(run.stage, Stage::Kto);
    let yaml = std::fs::read_to_string(Path::new(&run.output_dir).parent().unwrap().join("run.yaml")).unwrap();
    assert!(yaml.contains("stage: kto\n"), "{yaml}");
    let value = |key: &str| -> f64 {
        let line = yaml.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or_else(|| panic!("no {key}:\n{yaml}"));
        line.parse().unwrap()
    };
    assert_eq!((value("kto_chosen_weight"), value("kto_rejected_weight")), (1.0, expected), "{yaml}");
    let read_back = garden_core::train::yaml::from_llamafactory_yaml(&yaml).unwrap();
    assert_eq!((read_back.stage, read_back.kto_rejected_weight), (Stage::Kto, expected), "the YAML reads back");

    assert_eq!(points.iter().filter(|p| p.loss.is_some()).count(), 8, "a loss point for every step: {points:#?}");
    assert!(points.iter().any(|p| p.kl.is_some()), "KTO's KL is stored: {points:#?}");
    assert!(points.iter().any(|p| p.rewards_chosen.is_some() || p.rewards_rejected.is_some()), "KTO's rewards are stored");
    assert!(streamed.iter().any(|p| p.loss.is_some()) && streamed.iter().any(|p| p.kl.is_some()), "and streamed");
    let log = std::fs::read_to_string(&run.log_path).unwrap();
    assert_eq!(logged_example_counts(&log).first().copied(), Some(ups + downs), "every rated answer loaded:\n{}", tail(&run.log_path));

    let adapter = adapter_of(&studio, &run);
    assert_eq!(adapter.stage, Stage::Kto, "the adapter is registered with its stage");
    assert!(Path::new(&adapter.path).join("adapter_model.safetensors").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpo_trains_on_vote_pairs_on_top_of_the_sft_adapter_and_charts_the_rewards() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().await;
    let (_dir, studio) = studio(Some(&python));
    add_votes(&studio, 16);
    let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();

    // First the usual SFT adapter, active.
    garden_core::import::import_sample(studio.db()).unwrap();
    let sft_data = export(&studio, Format::Alpaca, "sample", 0.0).unwrap();
    let mut sft = TrainConfig::tiny_demo(tiny_model(&python).to_string_lossy());
    sft.use_dataset(&sft_data);
    sft.max_steps = Some(4);
    sft.cutoff_len = 128;
    let (sft_run, _, _) = train(&supervisor, "sft", &sft_data, sft).await;
    let sft_adapter = adapter_of(&studio, &sft_run);
    assert_eq!(sft_adapter.stage, Stage::Sft);
    let id = sft_adapter.id.clone();
    studio.db().with_conn(move |c| garden_core::adapters::activate(c, &id, "test")).unwrap();

    // Then DPO on the votes, starting from it, with it as the reference.
    let pairs = export(&studio, Format::Pairs, "votes", 0.25).unwrap();
    assert!(pairs.validation > 0 && pairs.examples - pairs.validation >= prefs::MIN_PAIRS, "{:?}", pairs.counts);
    assert_eq!(pairs.counts.pairs.as_ref().map(|p| p.from_votes), Some(16));
    let config = config_for(&studio, &python, &pairs, PrefLoss::Sigmoid);
    assert_eq!(config.stage, Stage::Dpo);
    let started_from = std::fs::canonicalize(&sft_adapter.path).unwrap();
    assert_eq!(config.adapter_name_or_path.as_deref().map(|p| std::fs::canonicalize(p).unwrap()), Some(started_from.clone()), "starts from the active SFT adapter");
    assert_eq!(config.ref_adapter, config.adapter_name_or_path, "which is also the reference");
    assert_eq!(config.eval_dataset.as_deref(), Some("votes_val"));

    let (run, points, streamed) = train(&supervisor, "dpo", &pairs, config).await;
    assert_eq!(run.stage, Stage::Dpo);
    assert!(run.yaml.contains("stage: dpo\n") && run.yaml.contains("pref_loss: sigmoid\n"), "{}", run.yaml);
    assert!(run.yaml.contains("ref_model_adapters: ") && run.yaml.contains("adapter_name_or_path: "), "{}", run.yaml);
    assert_rewards(&points, "dpo");
    assert!(streamed.iter().any(|p| p.rewards_margins.is_some()), "the rewards were streamed as they came");
    assert!(streamed.iter().any(|p| p.eval_rewards_margins.is_some()), "…and the evaluation's");
    // Both splits loaded in full through the written dataset_info.json (train, then `votes_val`).
    let log = std::fs::read_to_string(&run.log_path).unwrap();
    let counts = logged_example_counts(&log);
    assert_eq!(counts.first().copied(), Some(pairs.examples - pairs.validation), "{counts:?}\n{}", tail(&run.log_path));
    assert!(counts[1..].iter().all(|n| *n == pairs.validation), "{counts:?}");
    let adapter = adapter_of(&studio, &run);
    assert_eq!(adapter.stage, Stage::Dpo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orpo_trains_on_vote_pairs_without_a_reference() {
    let Some(python) = python() else { return };
    let _serial = SERIAL.lock().await;
    let (_dir, studio) = studio(Some(&python));
    add_votes(&studio, 16);
    let pairs = export(&studio, Format::Pairs, "votes", 0.25).unwrap();
    let config = config_for(&studio, &python, &pairs, PrefLoss::Orpo);
    assert_eq!((config.adapter_name_or_path.as_ref(), config.ref_adapter.as_ref()), (None, None), "no adapter to start from");
    let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
    let (run, points, streamed) = train(&supervisor, "orpo", &pairs, config).await;
    assert!(run.yaml.contains("pref_loss: orpo\n") && !run.yaml.contains("ref_model"), "{}", run.yaml);
    assert_rewards(&points, "orpo");
    assert!(streamed.iter().any(|p| p.rewards_chosen.is_some() && p.rewards_accuracies.is_some()));
    assert_eq!(adapter_of(&studio, &run).stage, Stage::Dpo);
}

/// The exported pairs, train and `_val`, through LLaMA-Factory's own loader and pairwise
/// preprocessing, by the names in the written dataset_info.json: none is dropped.
#[test]
fn exported_pairs_load_through_llamafactorys_loader() {
    let Some(python) = python() else { return };
    let (dir, studio) = studio(Some(&python));
    add_votes(&studio, 16);
    // Thumbs pairs carry a history; one conversation with a system prompt.
    let at = garden_core::now_ms();
    let m = |role, content: &str, thumbs| NewMessage { role, content: content.into(), created_at: at, model: None, thumbs };
    let conversations: Vec<NewConversation> = [("a", 1i8, "Step one: preheat the oven."), ("b", -1, "Just guess.")]
        .into_iter()
        .map(|(r, t, answer)| NewConversation {
            source_ref: r.into(),
            title: r.into(),
            created_at: at,
            messages: vec![
                m(Role::System, "You are a patient cook.", None),
                m(Role::User, "Hello!", None),
                m(Role::Assistant, "Hello, how can I help?", None),
                m(Role::User, "How do I bake bread?", None),
                m(Role::Assistant, answer, Some(t)),
            ],
            satisfaction: None,
        })
        .collect();
    studio
        .db()
        .with_conn(move |c| {
            let tx = c.transaction()?;
            store(&tx, "test", None, conversations)?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    let pairs = export(&studio, Format::Pairs, "prefs", 0.25).unwrap();
    assert_eq!(pairs.counts.pairs.as_ref().map(|p| (p.from_votes, p.from_thumbs)), Some((16, 1)));
    assert!(pairs.validation > 0);
    let folder = Path::new(&pairs.path).parent().unwrap();
    let script = r#"
import json, sys
from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.hparams import get_train_args
from llamafactory.model import load_tokenizer
model, folder, out = sys.argv[1:4]
args = dict(stage="dpo", model_name_or_path=model, dataset="prefs", eval_dataset="prefs_val", dataset_dir=folder,
            template="qwen", cutoff_len=256, output_dir=out, do_train=True, finetuning_type="lora",
            overwrite_cache=True, preprocessing_num_workers=1, report_to="none")
model_args, data_args, training_args, finetuning_args, _ = get_train_args(args)
tokenizer_module = load_tokenizer(model_args)
template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
module = get_dataset(template, model_args, data_args, training_args, stage="rm", **tokenizer_module)
train, val = module["train_dataset"], module["eval_dataset"]
tokenizer = tokenizer_module["tokenizer"]
first = train[0]
print(json.dumps({"train": len(train), "val": len(val), "columns": sorted(train.column_names),
                  "chosen": tokenizer.decode(first["chosen_input_ids"]), "rejected": tokenizer.decode(first["rejected_input_ids"])}))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(tiny_model(&python))
        .arg(folder)
        .arg(dir.path().join("loader-out"))
        .env("HF_HUB_OFFLINE", "1")
        .env("DISABLE_VERSION_CHECK", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(got["train"], pairs.examples - pairs.validation, "every training pair survives LLaMA-Factory's preprocessing");
    assert_eq!(got["val"], pairs.validation, "…and every validation pair");
    assert!(got["columns"].as_array().unwrap().iter().any(|c| c == "chosen_input_ids"), "{got}");
    // The chosen and rejected sequences share the prompt and differ in the answer.
    let (chosen, rejected) = (got["chosen"].as_str().unwrap(), got["rejected"].as_str().unwrap());
    assert!(chosen.contains("<|im_start|>user") && chosen.contains("<|im_start|>assistant"), "{chosen}");
    assert_ne!(chosen, rejected);
}

// ---------------------------------------------------------------------------------------------
// Refusals: no trainer needed (nothing is launched).
// ---------------------------------------------------------------------------------------------

async fn refused(studio: &Studio, dataset: &Dataset, stage: Stage) -> Error {
    let supervisor = Supervisor::start_with(studio.clone(), env(), Duration::from_secs(30)).await.unwrap();
    let mut config = TrainConfig::tiny_demo("/nonexistent/tiny");
    config.use_dataset(dataset);
    config.stage = stage;
    // The wizard and the CLI refuse while preparing…
    let d = dataset.clone();
    let mut c2 = config.clone();
    let prepared = studio.db().with_conn(move |c| prefs::prepare(c, &mut c2, &d));
    let Err(prepare_err) = prepared else { panic!("{stage:?} on {} was not refused", dataset.name) };
    // …and the supervisor before anything is queued.
    let err = supervisor.submit(NewRun { name: "refused".into(), dataset_id: Some(dataset.id.clone()), config }).await.unwrap_err();
    assert_eq!(err.to_string(), prepare_err.to_string());
    assert!(matches!(&err, Error::Invalid { field, .. } if field == "stage"), "{err}");
    assert!(studio.db().with_conn(|c| runs::list(c)).unwrap().is_empty(), "no run was queued");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kto_with_one_class_is_refused_with_the_counts() {
    let (_dir, studio) = studio(None);
    add_thumbs(&studio, 7, 0);
    let dataset = export(&studio, Format::Kto, "only-ups", 0.0).unwrap();
    let data = prefs::stage_data(Stage::Kto, &dataset).unwrap();
    assert_eq!(data.kto.map(|k| (k.desirable, k.undesirable)), Some((7, 0)));
    let err = refused(&studio, &dataset, Stage::Kto).await.to_string();
    assert!(err.contains("only-ups has 7 rated up and 0 rated down"), "{err}");
    assert!(err.contains("Rate some answers down"), "what to do: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpo_with_too_few_or_no_pairs_is_refused_with_the_counts() {
    let (_dir, studio) = studio(None);
    // No pairs at all: nothing to export, and the error says what there was and what to do.
    add_thumbs(&studio, 3, 0);
    let err = export(&studio, Format::Pairs, "none", 0.0).unwrap_err().to_string();
    assert!(err.contains("no preference pair") && err.contains("0 side-by-side votes") && err.contains("3 rated answers"), "{err}");
    assert!(err.contains("vote for the better answer in Compare"), "{err}");

    // Too few: two votes give two pairs.
    add_votes(&studio, 2);
    let dataset = export(&studio, Format::Pairs, "two", 0.0).unwrap();
    assert_eq!(dataset.examples, 2);
    let err = refused(&studio, &dataset, Stage::Dpo).await.to_string();
    assert!(err.contains(&format!("at least {} preference pairs", prefs::MIN_PAIRS)) && err.contains("two has 2 (2 pairs from votes, 0 from thumbs"), "{err}");
    assert!(err.contains("vote for the better answer in Compare"), "what to do: {err}");

    // A conversation export has no pairs to prefer: DPO on it is refused too.
    garden_core::import::import_sample(studio.db()).unwrap();
    let sft = export(&studio, Format::Alpaca, "sft", 0.0).unwrap();
    let err = refused(&studio, &sft, Stage::Dpo).await.to_string();
    assert!(err.contains("stage dpo trains on a pairs export") && err.contains("--format pairs"), "{err}");
}
