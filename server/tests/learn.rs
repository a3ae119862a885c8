//! The continual-learning loop end to end on the tiny model, with the real LLaMA-Factory: version 1
//! trained and active; new conversations arrive; export what is new, merge it with the previous
//! dataset without duplicates, train version 1.1.0 from the current adapter, register it, deploy
//! both (to the Ollama stand-in), A/B them, promote only on evidence, and roll back.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_merge_train_register_ab_promote_rollback() {
    let Some(py) = python_with("llamafactory") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new(dir.path().join("data"));
    settings.python = Some(py.clone());
    // The Ollama stand-in, current version (merged deployments).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    settings.ollama_url = format!("http://{}", listener.local_addr().unwrap());
    let config = garden_eden::ollama_stand_in::StandInConfig { version: "0.34.1".into(), dir: dir.path().join("blobs"), models: vec![] };
    tokio::spawn(garden_eden::ollama_stand_in::serve(listener, config));
    let studio = Studio::open(settings).unwrap();
    let supervisor = Supervisor::start_with(studio.clone(), vec![("HF_HUB_OFFLINE".into(), "1".into())], Duration::from_secs(5)).await.unwrap();
    let tiny = garden_core::train::ensure_tiny_model(studio.settings()).await.unwrap();

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
