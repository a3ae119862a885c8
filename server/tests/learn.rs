//! The continual-learning loop end to end on the tiny model, with the real LLaMA-Factory: version 1
//! trained and active; new conversations arrive; export what is new, merge it with the previous
//! dataset without duplicates, train version 1.1.0 from the current adapter, register it, deploy
//! both (to the Ollama stand-in), A/B them, promote only on evidence, and roll back. And a
//! preference cycle: the side-by-side votes since the last export become pairs, version 1.1.0
//! trains DPO on them on top of the active adapter, registers with its stage and lineage, and is
//! A/B tested against the active version; too few new judgements are refused before anything is
//! exported.

mod common;

use std::time::Duration;

use common::python_with;
use garden_core::adapters::{self, deploy};
use garden_core::chat::{self, Hub, SendRequest};
use garden_core::conversations::{self, NewConversation, NewMessage, Role};
use garden_core::export::{self, Curation, DataFilter, ExportRequest, Format};
use garden_core::learn::{self, CycleOptions};
use garden_core::train::runs::{self, RunStatus};
use garden_core::train::supervisor::NewRun;
use garden_core::train::{Supervisor, TrainConfig};
use garden_core::{experiments, Settings, Studio};

async fn wait_done(studio: &Studio, id: &str) -> runs::Run {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let id2 = id.to_owned();
        let run = studio.db().call(move |c| runs::get(c, &id2)).await.unwrap();
        if run.status.is_finished() {
            assert_eq!(run.status, RunStatus::Succeeded, "{}", std::fs::read_to_string(&run.log_path).unwrap_or_default());
            return run;
        }
        assert!(tokio::time::Instant::now() < deadline, "training timed out");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A studio training with `py`, deploying to the Ollama stand-in (current version: merged
/// deployments), with its supervisor and the tiny model.
async fn studio_with_stand_in(py: &std::path::Path) -> (tempfile::TempDir, Studio, Supervisor, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new(dir.path().join("data"));
    settings.python = Some(py.to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    settings.ollama_url = format!("http://{}", listener.local_addr().unwrap());
    let config = garden_eden::ollama_stand_in::StandInConfig { version: "0.34.1".into(), dir: dir.path().join("blobs"), models: vec![] };
    tokio::spawn(garden_eden::ollama_stand_in::serve(listener, config));
    let studio = Studio::open(settings).unwrap();
    let supervisor = Supervisor::start_with(studio.clone(), vec![("HF_HUB_OFFLINE".into(), "1".into())], Duration::from_secs(5)).await.unwrap();
    let tiny = garden_core::train::ensure_tiny_model(studio.settings()).await.unwrap();
    (dir, studio, supervisor, tiny)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_merge_train_register_ab_promote_rollback() {
    let Some(py) = python_with("llamafactory") else { return };
    let (_dir, studio, supervisor, tiny) = studio_with_stand_in(&py).await;

    // Version 1: the sample history, exported with a validation split, trained, registered, active.
    garden_core::import::import_sample(studio.db()).unwrap();
    let data_dir = studio.settings().data_dir.clone();
    let request = ExportRequest {
        name: Some("history".into()),
        format: Format::Alpaca,
        filter: DataFilter::default(),
        curation: Curation { validation_ratio: 0.2, ..Curation::default() },
        output: None,
    };
    let first = studio.db().with_conn(|c| export::export(c, &data_dir, &request, &mut |_, _| {})).unwrap();
    let mut config = TrainConfig::tiny_demo(tiny.to_string_lossy());
    config.dataset = first.name.clone();
    config.eval_dataset = Some(format!("{}_val", first.name));
    config.dataset_dir = std::path::Path::new(&first.path).parent().unwrap().to_owned();
    config.max_steps = Some(6);
    let run = supervisor.submit(NewRun { name: "eden".into(), dataset_id: Some(first.id.clone()), config }).await.unwrap();
    let run = wait_done(&studio, &run.id).await;
    let v1 = studio.db().with_conn(|c| {
        let a = adapters::register_run(c, run.new_adapter()?)?;
        adapters::activate(c, &a.id, "first version")
    }).unwrap();
    assert_eq!(v1.version, "1.0.0");

    // New conversations arrive (rated), plus one that repeats an old exchange word for word.
    let now = garden_core::now_ms();
    let mut new = Vec::new();
    for i in 0..6 {
        let message = |role, content: String, thumbs| NewMessage { role, content, created_at: now + i, model: None, thumbs };
        new.push(NewConversation {
            source_ref: format!("new-{i}"),
            title: format!("new {i}"),
            created_at: now + i,
            messages: vec![
                message(Role::User, format!("How do I prune roses, part {i}?"), None),
                message(Role::Assistant, format!("Cut above an outward bud, step {i}."), Some(1)),
            ],
            satisfaction: Some(0.9),
        });
    }
    studio
        .db()
        .with_conn(|c| {
            let tx = c.transaction()?;
            conversations::store(&tx, "jsonl", None, new)?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    let p = studio.db().with_conn(|c| learn::plan(c)).unwrap();
    assert_eq!(p.active.as_ref().unwrap().id, v1.id);
    assert_eq!(p.next_version.as_deref(), Some("1.1.0"));
    assert!(p.new_conversations >= 6, "{p:?}");

    // Steps 1–3.
    let cycle = learn::start(&studio, &supervisor, &CycleOptions { max_steps: Some(6), ..CycleOptions::default() }).await.unwrap();
    assert!(cycle.new_data.examples >= 1 && cycle.new_data.examples <= 6, "only what came since: {:?}", cycle.new_data.counts);
    assert_eq!(cycle.dataset.parent_ids, vec![first.id.clone(), cycle.new_data.id.clone()]);
    // `examples` counts every example written, the validation ones included.
    assert_eq!(cycle.dataset.examples, first.examples + cycle.new_data.examples - cycle.dataset.counts.exact_duplicates);
    let yaml = cycle.run.yaml.clone();
    assert!(yaml.contains(&format!("adapter_name_or_path: \"{}\"", v1.path)), "{yaml}");
    assert!(yaml.contains(&format!("dataset: \"{}\"", cycle.dataset.name)), "{yaml}");
    let run2 = wait_done(&studio, &cycle.run.id).await;

    // Step 4: registered by the supervisor as the next version of the same adapter.
    let v2 = studio.db().with_conn(|c| adapters::register_run(c, run2.new_adapter()?)).unwrap();
    assert_eq!((v2.name.as_str(), v2.version.as_str()), ("eden", "1.1.0"));
    assert_eq!(v2.parent_id.as_deref(), Some(v1.id.as_str()));
    assert_eq!(v2.dataset_id.as_deref(), Some(cycle.dataset.id.as_str()));

    // Step 5: both deployed, the experiment runs between them.
    let no_deploy = learn::start_experiment(&studio, &run2.id, 0.5).await.unwrap_err();
    assert!(no_deploy.to_string().contains("not deployed anywhere yet"), "{no_deploy}");
    for a in [&v1, &v2] {
        let d = deploy::deploy(&studio, &a.id, &deploy::DeployOptions::default()).await.unwrap();
        assert_eq!(d.status, "succeeded", "{d:?}");
    }
    let e = learn::start_experiment(&studio, &run2.id, 0.5).await.unwrap();
    assert_eq!(e.arm_a.adapter_id.as_deref(), Some(v1.id.as_str()));
    assert_eq!(e.arm_b.adapter_id.as_deref(), Some(v2.id.as_str()));

    // Conversations collect in both arms; the person prefers B's answers.
    let hub = Hub::new();
    for i in 0..24 {
        let sent = chat::send(&studio, &hub, SendRequest { text: format!("question {i}"), ..Default::default() }).await.unwrap();
        let s = hub.wait(&sent.turn_id).await.unwrap();
        assert!(s.error.is_none(), "{s:?}");
        let (conv, good) = (sent.conversation_id.clone(), sent.arm == Some(experiments::Arm::B));
        let jitter = if i % 2 == 0 { 0.05 } else { -0.05 };
        studio.db().with_conn(move |c| conversations::set_satisfaction(c, &conv, Some(if good { 0.9 } else { 0.3 } + jitter))).unwrap();
    }
    let r = studio.db().with_conn(|c| experiments::report(c, &e.id)).unwrap();
    assert_eq!(r.judgement.better, Some(experiments::Arm::B), "{}", r.judgement.verdict);
    let (done, promoted) = studio.db().with_conn(|c| experiments::promote(c, &e.id, None, false)).unwrap();
    assert_eq!(done.winner, Some(experiments::Arm::B));
    let promoted = promoted.unwrap();
    assert_eq!(promoted.id, v2.id);
    assert!(promoted.is_active);
    assert_eq!(promoted.metrics.total_conversations, Some(r.b.conversations as i64));
    assert!((promoted.metrics.avg_satisfaction.unwrap() - r.b.mean_satisfaction.unwrap()).abs() < 1e-12);
    assert!((promoted.metrics.avg_satisfaction.unwrap() - 0.9).abs() < 0.06);

    // Rollback stays available.
    let back = studio.db().with_conn(|c| adapters::rollback(c)).unwrap();
    assert_eq!(back.id, v1.id);
}

/// Side-by-side votes between two models, each with a winner (A and B in turn), the winner's
/// answer the helpful one; plus a tie, which gives no pair.
fn add_votes(studio: &Studio, topics: &[&str]) {
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    let stored = topics.clone();
    studio
        .db()
        .with_conn(move |c| {
            let topics = stored;
            let mut add = |name: &str| {
                garden_core::infer::add_endpoint(
                    c,
                    garden_core::infer::NewEndpoint {
                        name: format!("{name} {}", topics[0]),
                        kind: "openai".into(),
                        url: "http://127.0.0.1:9".into(),
                        model: format!("{name}:1"),
                        adapter_id: None,
                    },
                )
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
            for (i, topic) in topics.iter().enumerate() {
                let good = format!("Here is a short, kind note about {topic}: it makes an ordinary day a little brighter.");
                let bad = format!("No. {topic}.");
                let (x, y) = if i % 2 == 0 { (&good, &bad) } else { (&bad, &good) };
                insert(&format!("vote-{topic}"), &format!("Tell me something nice about {topic}."), x, y)?;
            }
            insert(&format!("tie-{}", topics[0]), &format!("Pick a fruit ({}).", topics[0]), "Apple.", "Pear.")?;
            Ok(())
        })
        .unwrap();
    for (i, topic) in topics.iter().enumerate() {
        let winner = if i % 2 == 0 { garden_core::compare::Winner::A } else { garden_core::compare::Winner::B };
        let id = format!("vote-{topic}");
        studio.db().with_conn(move |c| garden_core::compare::vote(c, &id, winner)).unwrap();
    }
    let tie = format!("tie-{}", topics[0]);
    studio.db().with_conn(move |c| garden_core::compare::vote(c, &tie, garden_core::compare::Winner::Tie)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preference_cycle_learns_from_the_new_votes_on_top_of_the_active_adapter() {
    use garden_core::train::config::{PrefLoss, Stage};
    let Some(py) = python_with("llamafactory") else { return };
    let (_dir, studio, supervisor, tiny) = studio_with_stand_in(&py).await;

    // Version 1: SFT on a few good conversations (every answer rated up), registered and active.
    let now = garden_core::now_ms();
    let history: Vec<NewConversation> = (0..10)
        .map(|i| {
            let message = |role, content: String, thumbs| NewMessage { role, content, created_at: now + i, model: None, thumbs };
            NewConversation {
                source_ref: format!("good-{i}"),
                title: format!("good {i}"),
                created_at: now + i,
                messages: vec![
                    message(Role::User, format!("How deep should I plant tulip bulbs, bed {i}?"), None),
                    message(Role::Assistant, format!("About three times their height; bed {i} drains well, so 15 cm."), Some(1)),
                ],
                satisfaction: Some(0.9),
            }
        })
        .collect();
    studio
        .db()
        .with_conn(move |c| {
            let tx = c.transaction()?;
            conversations::store(&tx, "jsonl", None, history)?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    let data_dir = studio.settings().data_dir.clone();
    let request = ExportRequest { name: Some("history".into()), format: Format::Alpaca, filter: DataFilter::default(), curation: Curation::default(), output: None };
    let first = studio.db().with_conn(|c| export::export(c, &data_dir, &request, &mut |_, _| {})).unwrap();
    let mut config = TrainConfig::tiny_demo(tiny.to_string_lossy());
    config.dataset = first.name.clone();
    config.dataset_dir = std::path::Path::new(&first.path).parent().unwrap().to_owned();
    config.max_steps = Some(4);
    let run = supervisor.submit(NewRun { name: "eden".into(), dataset_id: Some(first.id.clone()), config }).await.unwrap();
    let run = wait_done(&studio, &run.id).await;
    let v1 = studio.db().with_conn(|c| {
        let a = adapters::register_run(c, run.new_adapter()?)?;
        adapters::activate(c, &a.id, "first version")
    }).unwrap();

    // No votes yet: a DPO cycle is refused with the counts, and nothing is exported.
    let datasets = |s: &Studio| s.db().with_conn(|c| export::list(c)).unwrap().len();
    let before = datasets(&studio);
    let dpo = CycleOptions { stage: Stage::Dpo, max_steps: Some(8), ..CycleOptions::default() };
    let none = learn::start(&studio, &supervisor, &dpo).await.unwrap_err().to_string();
    assert!(none.contains("at least 4 preference pairs") && none.contains("gives 0"), "{none}");
    assert_eq!(datasets(&studio), before, "a refused cycle exports nothing");

    // The person votes in Compare: eight winners and a tie.
    add_votes(&studio, &["tea", "rain", "bread", "rivers", "owls", "maps", "snow", "moss"]);
    let view = studio.db().with_conn(|c| learn::status(c)).unwrap();
    let offer = view.preference.iter().find(|o| o.stage == Stage::Dpo).unwrap();
    assert_eq!(offer.refusal, None, "{offer:?}");
    let pairs = offer.pairs.clone().unwrap();
    assert_eq!((pairs.from_votes, pairs.ties, offer.examples), (8, 1, 8), "{offer:?}");
    let kto = view.preference.iter().find(|o| o.stage == Stage::Kto).unwrap();
    assert!(kto.refusal.as_deref().is_some_and(|r| r.contains("10 rated up and 0 rated down")), "thumbs up only: {kto:?}");

    // Starting from the bare base is for SFT cycles.
    let from_base = learn::start(&studio, &supervisor, &CycleOptions { from_current_adapter: false, ..dpo.clone() }).await.unwrap_err();
    assert!(from_base.to_string().contains("on top of the active adapter"), "{from_base}");

    // Steps 1–3: the new votes become pairs; N+1 trains DPO (ORPO here) on top of the active adapter.
    let cycle = learn::start(&studio, &supervisor, &CycleOptions { pref_loss: Some(PrefLoss::Orpo), ..dpo.clone() }).await.unwrap();
    assert_eq!(cycle.dataset.format, Format::Pairs);
    assert_eq!(cycle.dataset.id, cycle.new_data.id, "a preference cycle trains on the new judgements alone");
    assert_eq!(cycle.dataset.counts.pairs.as_ref().map(|p| p.from_votes), Some(8));
    assert_eq!(cycle.run.stage, Stage::Dpo);
    let yaml = cycle.run.yaml.clone();
    for want in ["stage: dpo", "pref_loss: orpo", &format!("adapter_name_or_path: \"{}\"", v1.path), &format!("dataset: \"{}\"", cycle.dataset.name)] {
        assert!(yaml.contains(want), "{want} in\n{yaml}");
    }
    let run2 = wait_done(&studio, &cycle.run.id).await;
    let id = run2.id.clone();
    let points = studio.db().call(move |c| runs::metrics(c, &id)).await.unwrap();
    assert!(points.iter().any(|p| p.rewards_margins.is_some()), "the rewards are charted: {points:#?}");

    // Step 4: registered as the next version, with its stage and the votes as its lineage.
    let v2 = studio.db().with_conn(|c| adapters::register_run(c, run2.new_adapter()?)).unwrap();
    assert_eq!((v2.name.as_str(), v2.version.as_str(), v2.stage), ("eden", "1.1.0", Stage::Dpo));
    assert_eq!(v2.parent_id.as_deref(), Some(v1.id.as_str()));
    assert_eq!(v2.dataset_id.as_deref(), Some(cycle.dataset.id.as_str()));
    let dataset_id = cycle.dataset.id.clone();
    let judged = studio.db().with_conn(move |c| export::pairs::judgements(c, &dataset_id)).unwrap();
    assert_eq!(judged.iter().filter(|j| j.kind == export::pairs::JudgementKind::Vote).count(), 8, "{judged:?}");
    let status = studio.db().with_conn(|c| learn::status(c)).unwrap();
    assert_eq!(status.new_adapter.as_ref().map(|n| n.label.as_str()), Some("eden 1.1.0"));

    // Nothing new since that export: the next preference cycle is refused, and exports nothing.
    let before = datasets(&studio);
    let again = learn::start(&studio, &supervisor, &dpo).await.unwrap_err().to_string();
    assert!(again.contains("since the last export") && again.contains("gives 0"), "{again}");
    assert_eq!(datasets(&studio), before);
    // The next SFT cycle still builds on the conversations dataset, not on the pairs.
    let p = studio.db().with_conn(|c| learn::plan(c)).unwrap();
    assert_eq!(p.previous_dataset.map(|d| d.id), Some(first.id.clone()));

    // Step 5: both deployed, the experiment runs between them; promotion needs evidence.
    for a in [&v1, &v2] {
        let d = deploy::deploy(&studio, &a.id, &deploy::DeployOptions::default()).await.unwrap();
        assert_eq!(d.status, "succeeded", "{d:?}");
    }
    let e = learn::start_experiment(&studio, &run2.id, 0.5).await.unwrap();
    assert_eq!(e.arm_a.adapter_id.as_deref(), Some(v1.id.as_str()));
    assert_eq!(e.arm_b.adapter_id.as_deref(), Some(v2.id.as_str()));
    let id = e.id;
    let early = studio.db().with_conn(move |c| experiments::promote(c, &id, None, false)).unwrap_err();
    assert!(early.to_string().contains("no winner yet"), "{early}");
    assert!(studio.db().with_conn(|c| adapters::active(c)).unwrap().is_some_and(|a| a.id == v1.id));
}
