//! Chat, side by side and experiments against a real model server: llama.cpp's OpenAI-compatible
//! server (llama-cpp-python, built from source by the set-up) serving the tiny model with and
//! without its GGUF adapter; and Ollama's streamed chat through the stand-in.

mod common;

use std::time::Duration;

use common::{python_with, LlamaServer};
use garden_core::chat::{self, Hub, SendRequest};
use garden_core::infer::{self, NewEndpoint};
use garden_core::experiments::Arm;
use garden_core::{experiments, Settings, Studio};

fn studio(dir: &std::path::Path) -> Studio {
    Studio::open(Settings::new(dir.join("data"))).unwrap()
}

fn add(studio: &Studio, name: &str, kind: &str, url: &str, model: &str) -> infer::Endpoint {
    let new = NewEndpoint { name: name.into(), kind: kind.into(), url: url.into(), model: model.into(), adapter_id: None };
    studio.db().with_conn(|c| infer::add_endpoint(c, new)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama_cpp_answers_stream_and_are_stored_with_their_model() {
    let Some(py) = python_with("llama_cpp") else { return };
    let server = LlamaServer::start(&py).await;
    let dir = tempfile::tempdir().unwrap();
    let studio = studio(dir.path());
    let hub = Hub::new();
    let base = add(&studio, "tiny base", "openai", &server.url, "tiny-base");
    let eden = add(&studio, "tiny eden", "openai", &server.url, "tiny-eden");

    // Streamed: the deltas add up to the stored answer.
    let sent = chat::send(&studio, &hub, SendRequest { endpoint_id: Some(eden.id.clone()), text: "Hello, how are you?".into(), ..Default::default() }).await.unwrap();
    let (_, mut rx) = hub.subscribe(&sent.turn_id).unwrap();
    let mut streamed = String::new();
    let mut deltas = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await.unwrap().unwrap() {
            chat::TurnEvent::Delta { text } => {
                streamed.push_str(&text);
                deltas += 1;
            }
            chat::TurnEvent::Done { .. } => break,
            chat::TurnEvent::Error { message } => panic!("{message}"),
        }
    }
    assert!(deltas > 1, "the answer should arrive in pieces");
    let conv = sent.conversation_id.clone();
    let detail = studio.db().with_conn(|c| garden_core::conversations::get(c, &conv)).unwrap();
    let answer = detail.messages.iter().find(|m| m.role == garden_core::conversations::Role::Assistant).unwrap();
    assert_eq!(answer.content, streamed);
    assert_eq!(answer.model.as_deref(), Some("tiny-eden"));

    // A follow-up stays with the conversation's model.
    let again = chat::send(&studio, &hub, SendRequest { conversation_id: Some(conv.clone()), text: "And then?".into(), ..Default::default() }).await.unwrap();
    assert_eq!(again.endpoint.id, eden.id);
    assert!(hub.wait(&again.turn_id).await.unwrap().error.is_none());

    // Side by side: the adapter and the base answer the same prompt differently (greedy-ish).
    let cmp = garden_core::compare::compare(&studio, &hub, "What makes a garden beautiful?", &eden.id, &base.id, true, None).await.unwrap();
    for t in [cmp.turn_a.as_ref().unwrap(), cmp.turn_b.as_ref().unwrap()] {
        let s = hub.wait(t).await.unwrap();
        assert!(s.error.is_none(), "{s:?}");
    }
    let id = cmp.id.clone();
    let voted = studio.db().with_conn(|c| garden_core::compare::vote(c, &id, garden_core::compare::Winner::A)).unwrap();
    assert_eq!(voted.winner, Some(garden_core::compare::Winner::A));
    assert!(voted.answer_a.is_some() && voted.answer_b.is_some());
    let votes = studio.db().with_conn(|c| garden_core::compare::votes_between(c, &base.id, &eden.id)).unwrap();
    assert_eq!(votes, vec![garden_core::stats::Vote::B], "seen from the base's side, the adapter won");

    // A server that is down is a clear error on the turn, and no answer is stored.
    let down = add(&studio, "nothing", "openai", "http://127.0.0.1:9", "x");
    let sent = chat::send(&studio, &hub, SendRequest { endpoint_id: Some(down.id), text: "hi".into(), ..Default::default() }).await.unwrap();
    let s = hub.wait(&sent.turn_id).await.unwrap();
    assert!(s.error.as_deref().unwrap().contains("nothing answers there"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiments_route_conversations_stickily_and_judge_the_evidence() {
    // Ollama's streamed chat, through the stand-in (no model runs; the routing and statistics are
    // what is tested here).
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = garden_eden::ollama_stand_in::StandInConfig { version: "0.34.1".into(), dir: dir.path().join("blobs"), models: vec!["base:1".into(), "eden:1".into()] };
    tokio::spawn(garden_eden::ollama_stand_in::serve(listener, config));
    let studio = studio(dir.path());
    let hub = Hub::new();
    let a = add(&studio, "base", "ollama", &url, "base:1");
    let b = add(&studio, "eden", "ollama", &url, "eden:1");
    let (aid, bid) = (a.id.clone(), b.id.clone());
    let e = studio.db().with_conn(move |c| experiments::start(c, "eden vs base", &aid, &bid, 0.5)).unwrap();
    let report = studio.db().with_conn(|c| experiments::report(c, &e.id)).unwrap();
    assert!(report.judgement.verdict.starts_with("No evidence yet"), "{}", report.judgement.verdict);
    assert!(studio.db().with_conn(|c| experiments::promote(c, &e.id, None, false)).unwrap_err().to_string().contains("no winner yet"));

    // At least 24 conversations and 5 in each arm: the arms are drawn by hash, so the loop goes
    // on until both have enough (it cannot pass or fail by the luck of 24 draws).
    let mut arms = std::collections::HashMap::from([(Arm::A, 0), (Arm::B, 0)]);
    let mut i = 0;
    while i < 24 || arms[&Arm::A] < 5 || arms[&Arm::B] < 5 {
        assert!(i < 400, "the split never gave both arms five conversations: {arms:?}");
        i += 1;
        let sent = chat::send(&studio, &hub, SendRequest { text: format!("question {i}"), ..Default::default() }).await.unwrap();
        let snap = hub.wait(&sent.turn_id).await.unwrap();
        assert!(snap.error.is_none(), "{snap:?}");
        let arm = sent.arm.unwrap();
        assert_eq!(sent.endpoint.id, if arm == "a" { a.id.clone() } else { b.id.clone() });
        // Sticky: the next message of the conversation stays in its arm.
        let again = chat::send(&studio, &hub, SendRequest { conversation_id: Some(sent.conversation_id.clone()), text: "more".into(), ..Default::default() }).await.unwrap();
        assert_eq!(again.endpoint.id, sent.endpoint.id);
        hub.wait(&again.turn_id).await.unwrap();
        *arms.entry(arm).or_insert(0) += 1;
        let conv = sent.conversation_id.clone();
        let c2 = conv.clone();
        assert_eq!(studio.db().with_conn(move |c| chat::conversation_model(c, &c2)).unwrap().arm, Some(arm));
        studio
            .db()
            .with_conn(move |c| {
                let ids: Vec<String> = c
                    .prepare("SELECT id FROM messages WHERE conversation_id = ?1 AND role = 'assistant'")?
                    .query_map([&conv], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for id in ids {
                    garden_core::conversations::set_thumbs(c, &id, Some(if arm == "b" { 1 } else { -1 }))?;
                }
                Ok(())
            })
            .unwrap();
    }
    assert!(arms[&Arm::A] >= 5 && arms[&Arm::B] >= 5, "{arms:?}");
    let total = arms[&Arm::A] + arms[&Arm::B];
    let r = studio.db().with_conn(|c| experiments::report(c, &e.id)).unwrap();
    assert_eq!(r.judgement.better, Some(Arm::B), "{}", r.judgement.verdict);
    assert!(r.judgement.verdict.starts_with("B (eden) is better"), "{}", r.judgement.verdict);
    assert_eq!(r.a.conversations + r.b.conversations, total);
    assert_eq!(r.b.thumbs_up, r.b.thumbs_total);
    assert!(r.judgement.prob_b_better_thumbs > 0.99);
    // Promoting the arm the evidence does not name is refused; the named one is accepted.
    assert!(studio.db().with_conn(|c| experiments::promote(c, &e.id, Some(Arm::A), false)).unwrap_err().to_string().contains("does not say arm A"));
    let (done, _) = studio.db().with_conn(|c| experiments::promote(c, &e.id, None, false)).unwrap();
    assert_eq!(done.winner, Some(Arm::B));
    assert_eq!(done.status, "stopped");
    // Stopped: new conversations go back to the default model.
    let sent = chat::send(&studio, &hub, SendRequest { text: "after".into(), ..Default::default() }).await.unwrap();
    assert!(sent.arm.is_none());
    // …and the experiment's conversations are no longer blind.
    let first = studio.db().with_conn(|c| Ok(c.query_row("SELECT id FROM conversations WHERE experiment_id IS NOT NULL LIMIT 1", [], |r| r.get::<_, String>(0))?)).unwrap();
    let model = studio.db().with_conn(move |c| chat::conversation_model(c, &first)).unwrap();
    assert!(model.endpoint.is_some() && model.arm.is_none());
}
