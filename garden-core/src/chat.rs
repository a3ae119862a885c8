//! Chat and side-by-side comparison: a message goes to a model, the answer streams back, and
//! everything is stored with which model (and adapter, and experiment arm) answered. This is how
//! new training data and A/B evidence are collected.
//!
//! Answers are generated in the background; the [`Hub`] keeps each one's text so far, so any
//! number of watchers (the browser's event stream, the CLI, a page reload) see it as it grows.
//! The assistant message is stored when the answer is complete.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::infer::{self, ChatMessage, Endpoint, Sampling};
use crate::Studio;

/// What a watcher of a turn receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TurnEvent {
    Delta { text: String },
    Done { message_id: Option<String> },
    Error { message: String },
}

/// One answer being generated (or just generated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnSnapshot {
    pub id: String,
    pub conversation_id: Option<String>,
    pub text: String,
    pub done: bool,
    pub error: Option<String>,
}

struct TurnState {
    snapshot: TurnSnapshot,
    tx: broadcast::Sender<TurnEvent>,
    finished_at: Option<Instant>,
}

/// The answers in flight. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    turns: Arc<Mutex<HashMap<String, TurnState>>>,
    /// comparison id → (turn A, turn B) while its answers are in the hub.
    comparisons: Arc<Mutex<HashMap<String, (String, String)>>>,
    /// How long a finished turn stays (see [`KEEP`]).
    keep: std::time::Duration,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::with_keep(KEEP)
    }
}

/// What a follower of a turn receives from [`Follower::next`]: the whole answer so far, or the
/// event that came next.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnUpdate {
    /// The answer so far; it replaces whatever the follower has shown.
    Snapshot(TurnSnapshot),
    Event(TurnEvent),
}

/// Follows one turn from its start to its end (see [`Hub::follow`]).
pub struct Follower {
    hub: Hub,
    id: String,
    rx: broadcast::Receiver<TurnEvent>,
    first: Option<TurnSnapshot>,
    finished: bool,
}

impl Follower {
    /// The next update, or `None` once the turn has ended (after its `Done`/`Error`, or a
    /// snapshot that is already done). A follower too slow to keep up gets a fresh snapshot
    /// instead of a gap, so the text it shows is never wrong.
    pub async fn next(&mut self) -> Option<TurnUpdate> {
        if let Some(first) = self.first.take() {
            self.finished = first.done;
            return Some(TurnUpdate::Snapshot(first));
        }
        if self.finished {
            return None;
        }
        match self.rx.recv().await {
            Ok(event) => {
                self.finished = matches!(event, TurnEvent::Done { .. } | TurnEvent::Error { .. });
                Some(TurnUpdate::Event(event))
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // What is still queued is already in a snapshot: take a fresh snapshot and a
                // fresh receiver together (under the hub's lock, so nothing is lost or doubled).
                let (snapshot, rx) = self.hub.subscribe(&self.id)?;
                self.rx = rx;
                self.finished = snapshot.done;
                Some(TurnUpdate::Snapshot(snapshot))
            }
            Err(broadcast::error::RecvError::Closed) => {
                self.finished = true;
                None
            }
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

/// Finished turns are forgotten after this long (the stored messages remain).
const KEEP: std::time::Duration = std::time::Duration::from_secs(600);

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// A hub that forgets finished turns (and their comparisons) after `keep` rather than
    /// [`KEEP`].
    pub fn with_keep(keep: std::time::Duration) -> Hub {
        Hub { turns: Arc::default(), comparisons: Arc::default(), keep }
    }

    /// How many turns and comparisons the hub holds (finished ones included until forgotten).
    pub fn sizes(&self) -> (usize, usize) {
        let turns = self.turns.lock().map_or(0, |t| t.len());
        let comparisons = self.comparisons.lock().map_or(0, |c| c.len());
        (turns, comparisons)
    }

    /// Follows a turn: its snapshot first, then each event until it ends. `None` when the hub
    /// does not know the turn (it finished more than [`KEEP`] ago, or never existed).
    pub fn follow(&self, id: &str) -> Option<Follower> {
        let (first, rx) = self.subscribe(id)?;
        Some(Follower { hub: self.clone(), id: id.to_owned(), rx, first: Some(first), finished: false })
    }

    fn open(&self, conversation_id: Option<String>) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, _) = broadcast::channel(1024);
        if let Ok(mut turns) = self.turns.lock() {
            let keep = self.keep;
            turns.retain(|_, t| t.finished_at.is_none_or(|at| at.elapsed() < keep));
            // A comparison is forgotten with its answers (a long session does not grow without bound).
            if let Ok(mut comparisons) = self.comparisons.lock() {
                comparisons.retain(|_, (a, b)| turns.contains_key(a.as_str()) || turns.contains_key(b.as_str()));
            }
            turns.insert(
                id.clone(),
                TurnState { snapshot: TurnSnapshot { id: id.clone(), conversation_id, text: String::new(), done: false, error: None }, tx, finished_at: None },
            );
        }
        id
    }

    fn push(&self, id: &str, event: TurnEvent) {
        if let Ok(mut turns) = self.turns.lock() {
            if let Some(t) = turns.get_mut(id) {
                match &event {
                    TurnEvent::Delta { text } => t.snapshot.text.push_str(text),
                    TurnEvent::Done { .. } => {
                        t.snapshot.done = true;
                        t.finished_at = Some(Instant::now());
                    }
                    TurnEvent::Error { message } => {
                        t.snapshot.done = true;
                        t.snapshot.error = Some(message.clone());
                        t.finished_at = Some(Instant::now());
                    }
                }
                let _ = t.tx.send(event);
            }
        }
    }

    /// The turn so far and a receiver for what follows (subscribed under the same lock, so
    /// nothing falls between the two).
    pub fn subscribe(&self, id: &str) -> Option<(TurnSnapshot, broadcast::Receiver<TurnEvent>)> {
        let turns = self.turns.lock().ok()?;
        turns.get(id).map(|t| (t.snapshot.clone(), t.tx.subscribe()))
    }

    pub fn snapshot(&self, id: &str) -> Option<TurnSnapshot> {
        self.turns.lock().ok()?.get(id).map(|t| t.snapshot.clone())
    }

    /// The turns of a comparison whose answers are still known to the hub.
    pub fn comparison_turns(&self, comparison_id: &str) -> Option<(String, String)> {
        let pair = self.comparisons.lock().ok()?.get(comparison_id).cloned()?;
        let turns = self.turns.lock().ok()?;
        (turns.contains_key(&pair.0) && turns.contains_key(&pair.1)).then_some(pair)
    }

    /// The unfinished (or failed) turn of a conversation, if any.
    pub fn pending(&self, conversation_id: &str) -> Option<TurnSnapshot> {
        let turns = self.turns.lock().ok()?;
        turns
            .values()
            .filter(|t| t.snapshot.conversation_id.as_deref() == Some(conversation_id) && (!t.snapshot.done || t.snapshot.error.is_some()))
            .max_by_key(|t| t.finished_at.is_none())
            .map(|t| t.snapshot.clone())
    }

    /// Waits until the turn is finished; returns its final state.
    pub async fn wait(&self, id: &str) -> Option<TurnSnapshot> {
        let (snap, mut rx) = self.subscribe(id)?;
        if snap.done {
            return Some(snap);
        }
        loop {
            match rx.recv().await {
                Ok(TurnEvent::Done { .. } | TurnEvent::Error { .. }) | Err(broadcast::error::RecvError::Closed) => return self.snapshot(id),
                _ => {}
            }
        }
    }

    /// Generates in the background; `finish` stores the answer and returns the message id.
    fn generate(
        &self,
        id: String,
        endpoint: Endpoint,
        messages: Vec<ChatMessage>,
        sampling: Sampling,
        finish: impl FnOnce(String) -> Result<Option<String>> + Send + 'static,
    ) {
        let hub = self.clone();
        tokio::spawn(async move {
            let h = hub.clone();
            let turn = id.clone();
            let result = infer::chat_stream(&endpoint, &messages, sampling, move |piece| h.push(&turn, TurnEvent::Delta { text: piece.to_string() })).await;
            let event = match result.and_then(|text| {
                if text.trim().is_empty() {
                    Err(Error::Service { service: "model", url: endpoint.url.clone(), message: format!("{} gave an empty answer", endpoint.model) })
                } else {
                    Ok(text)
                }
            }) {
                Ok(text) => {
                    let stored = tokio::task::spawn_blocking(move || finish(text)).await.map_err(|e| Error::Task(e.to_string())).and_then(|r| r);
                    match stored {
                        Ok(message_id) => TurnEvent::Done { message_id },
                        Err(e) => TurnEvent::Error { message: format!("the answer could not be stored: {e}") },
                    }
                }
                Err(e) => TurnEvent::Error { message: e.to_string() },
            };
            hub.push(&id, event);
        });
    }
}

/// A chat message to send.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// Continue this conversation (its model stays); `None` starts a new one.
    pub conversation_id: Option<String>,
    /// Which model answers a new conversation; `None`: the running experiment decides, else the
    /// active adapter's model, else the first configured one.
    pub endpoint_id: Option<String>,
    pub text: String,
    pub system: Option<String>,
    pub sampling: Sampling,
}

/// Where the answer is coming from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub conversation_id: String,
    pub turn_id: String,
    pub user_message_id: String,
    pub endpoint: Endpoint,
    pub experiment_id: Option<String>,
    pub arm: Option<String>,
}

/// Picks the model for a new conversation (see [`SendRequest::endpoint_id`]).
fn choose(conn: &Connection, explicit: Option<&str>, conversation_id: &str) -> Result<(Endpoint, Option<(String, String)>)> {
    if let Some(e) = explicit.filter(|s| !s.is_empty()) {
        return Ok((infer::endpoint(conn, e)?, None));
    }
    if let Some((exp, arm)) = crate::experiments::assign(conn, conversation_id)? {
        let e = crate::experiments::arm_endpoint(conn, &exp, &arm)?;
        return Ok((e, Some((exp, arm))));
    }
    if let Some(active) = crate::adapters::active(conn)? {
        if let Ok(e) = infer::endpoint_for_adapter(conn, &active.id) {
            return Ok((e, None));
        }
    }
    infer::endpoints(conn)?.into_iter().next().map(|e| (e, None)).ok_or_else(|| {
        Error::invalid("model", "no model to talk to: deploy an adapter to Ollama and activate it, or add a model server on the Chat page")
    })
}

/// Stores the person's message and starts the answer.
pub async fn send(studio: &Studio, hub: &Hub, req: SendRequest) -> Result<Sent> {
    let text = req.text.trim().to_string();
    if text.is_empty() {
        return Err(Error::invalid("message", "write something first"));
    }
    if text.chars().count() > 20_000 {
        return Err(Error::invalid("message", "that is longer than 20,000 characters"));
    }
    let system = req.system.clone().filter(|s| !s.trim().is_empty());
    let r = req.clone();
    let (sent, history) = studio
        .db()
        .call(move |c| {
            let now = crate::now_ms();
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let (conversation_id, endpoint, experiment, position) = match &r.conversation_id {
                Some(id) => {
                    let (endpoint_id, exp, arm): (Option<String>, Option<String>, Option<String>) = tx
                        .query_row("SELECT endpoint_id, experiment_id, arm FROM conversations WHERE id = ?1 AND source = 'chat'", [id], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .optional()?
                        .ok_or_else(|| Error::NotFound { what: "chat conversation", id: id.clone() })?;
                    let endpoint = match endpoint_id {
                        Some(e) => infer::endpoint(&tx, &e)?,
                        None => return Err(Error::invalid("conversation", "its model was removed: start a new conversation")),
                    };
                    let position: i64 = tx.query_row("SELECT COALESCE(MAX(position) + 1, 0) FROM messages WHERE conversation_id = ?1", [id], |r| r.get(0))?;
                    (id.clone(), endpoint, exp.zip(arm), position)
                }
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    let (endpoint, experiment) = choose(&tx, r.endpoint_id.as_deref(), &id)?;
                    let title: String = text.chars().take(60).collect();
                    tx.execute(
                        "INSERT INTO conversations (id, title, source, source_ref, created_at, updated_at, endpoint_id, experiment_id, arm)
                         VALUES (?1, ?2, 'chat', ?1, ?3, ?3, ?4, ?5, ?6)",
                        params![id, title, now, endpoint.id, experiment.as_ref().map(|x| &x.0), experiment.as_ref().map(|x| &x.1)],
                    )?;
                    let mut position = 0;
                    if let Some(s) = &system {
                        insert_message(&tx, &id, position, "system", s, now, None, None)?;
                        position += 1;
                    }
                    (id, endpoint, experiment, position)
                }
            };
            let user_message_id = insert_message(&tx, &conversation_id, position, "user", &text, now, None, None)?;
            tx.execute("UPDATE conversations SET updated_at = ?2 WHERE id = ?1", params![conversation_id, now])?;
            let mut stmt = tx.prepare("SELECT role, content FROM messages WHERE conversation_id = ?1 ORDER BY position")?;
            let history: Vec<ChatMessage> = stmt
                .query_map([&conversation_id], |r| Ok(ChatMessage { role: r.get(0)?, content: r.get(1)? }))?
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            tx.commit()?;
            let (experiment_id, arm) = experiment.map_or((None, None), |(e, a)| (Some(e), Some(a)));
            Ok((Sent { conversation_id, turn_id: String::new(), user_message_id, endpoint, experiment_id, arm }, history))
        })
        .await?;
    let turn_id = hub.open(Some(sent.conversation_id.clone()));
    let (db, conv, endpoint) = (studio.db().clone(), sent.conversation_id.clone(), sent.endpoint.clone());
    hub.generate(turn_id.clone(), sent.endpoint.clone(), history, req.sampling, move |answer| {
        db.with_conn(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let position: i64 = tx.query_row("SELECT COALESCE(MAX(position) + 1, 0) FROM messages WHERE conversation_id = ?1", [&conv], |r| r.get(0))?;
            let id = insert_message(&tx, &conv, position, "assistant", &answer, crate::now_ms(), Some(&endpoint.model), endpoint.adapter_id.as_deref())?;
            tx.execute("UPDATE conversations SET updated_at = ?2 WHERE id = ?1", params![conv, crate::now_ms()])?;
            tx.commit()?;
            Ok(Some(id))
        })
    });
    Ok(Sent { turn_id, ..sent })
}

#[allow(clippy::too_many_arguments)]
fn insert_message(conn: &Connection, conversation: &str, position: i64, role: &str, content: &str, at: i64, model: Option<&str>, adapter: Option<&str>) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO messages (id, conversation_id, position, role, content, created_at, model, adapter_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, conversation, position, role, content, at, model, adapter],
    )?;
    Ok(id)
}

/// A side-by-side comparison: one prompt, two answers streaming, then a vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub id: String,
    pub prompt: String,
    pub endpoint_a: Endpoint,
    pub endpoint_b: Endpoint,
    pub answer_a: Option<String>,
    pub answer_b: Option<String>,
    /// Which arm is shown on the left (shuffled in blind mode).
    pub left_arm: String,
    pub blind: bool,
    pub winner: Option<String>,
    pub prompt_set: Option<String>,
    pub created_at: i64,
    /// Turn ids while the answers are generated.
    pub turn_a: Option<String>,
    pub turn_b: Option<String>,
}

/// Starts a comparison: stores it and generates both answers at once.
pub async fn compare(studio: &Studio, hub: &Hub, prompt: &str, a: &str, b: &str, blind: bool, prompt_set: Option<String>) -> Result<Comparison> {
    let prompt = prompt.trim().to_string();
    if prompt.is_empty() {
        return Err(Error::invalid("prompt", "write a prompt first"));
    }
    let (a, b) = (a.to_string(), b.to_string());
    let id = uuid::Uuid::new_v4().to_string();
    // Blind: a fair coin decides the sides (from the id, so a reload shows the same layout).
    let left_arm = if blind && crate::experiments::unit_hash("sides", &id) >= 0.5 { "b" } else { "a" };
    let (p, i, l) = (prompt.clone(), id.clone(), left_arm.to_string());
    let mut c = studio
        .db()
        .call(move |c| {
            let ea = infer::endpoint(c, &a)?;
            let eb = infer::endpoint(c, &b)?;
            if ea.id == eb.id {
                return Err(Error::invalid("models", "choose two different models"));
            }
            c.execute(
                "INSERT INTO votes (id, prompt, endpoint_a, endpoint_b, left_arm, blind, prompt_set, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![i, p, ea.id, eb.id, l, blind, prompt_set, crate::now_ms()],
            )?;
            get_comparison(c, &i)
        })
        .await?;
    for (arm, endpoint) in [("a", c.endpoint_a.clone()), ("b", c.endpoint_b.clone())] {
        let turn = hub.open(None);
        let (db, vid) = (studio.db().clone(), id.clone());
        let column = if arm == "a" { "answer_a" } else { "answer_b" };
        hub.generate(turn.clone(), endpoint, vec![ChatMessage { role: "user".into(), content: prompt.clone() }], Sampling::default(), move |answer| {
            db.with_conn(|c| {
                c.execute(&format!("UPDATE votes SET {column} = ?2 WHERE id = ?1"), params![vid, answer])?;
                Ok(None)
            })
        });
        if arm == "a" {
            c.turn_a = Some(turn);
        } else {
            c.turn_b = Some(turn);
        }
    }
    if let (Some(a), Some(b), Ok(mut map)) = (&c.turn_a, &c.turn_b, hub.comparisons.lock()) {
        map.insert(c.id.clone(), (a.clone(), b.clone()));
    }
    Ok(c)
}

pub fn get_comparison(conn: &Connection, id: &str) -> Result<Comparison> {
    let row = conn
        .query_row(
            "SELECT id, prompt, endpoint_a, endpoint_b, answer_a, answer_b, left_arm, blind, winner, prompt_set, created_at FROM votes WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, i64>(10)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "comparison", id: id.into() })?;
    Ok(Comparison {
        id: row.0,
        prompt: row.1,
        endpoint_a: infer::endpoint(conn, &row.2)?,
        endpoint_b: infer::endpoint(conn, &row.3)?,
        answer_a: row.4,
        answer_b: row.5,
        left_arm: row.6,
        blind: row.7,
        winner: row.8,
        prompt_set: row.9,
        created_at: row.10,
        turn_a: None,
        turn_b: None,
    })
}

/// Records the vote (`a`, `b`, `tie`, `both_bad`) once both answers are in.
pub fn vote(conn: &mut Connection, id: &str, winner: &str) -> Result<Comparison> {
    if !["a", "b", "tie", "both_bad"].contains(&winner) {
        return Err(Error::invalid("vote", format!("'{winner}' is not a, b, tie or both_bad")));
    }
    let c = get_comparison(conn, id)?;
    if c.answer_a.is_none() || c.answer_b.is_none() {
        return Err(Error::invalid("vote", "wait for both answers before voting"));
    }
    conn.execute("UPDATE votes SET winner = ?2, voted_at = ?3 WHERE id = ?1", params![id, winner, crate::now_ms()])?;
    get_comparison(conn, id)
}

/// Votes between two endpoints (either order), oldest first, as seen from `a`'s side.
pub fn votes_between(conn: &Connection, a: &str, b: &str) -> Result<Vec<crate::stats::Vote>> {
    use crate::stats::Vote;
    let mut stmt = conn.prepare(
        "SELECT endpoint_a, winner FROM votes WHERE winner IS NOT NULL
           AND ((endpoint_a = ?1 AND endpoint_b = ?2) OR (endpoint_a = ?2 AND endpoint_b = ?1)) ORDER BY voted_at, rowid",
    )?;
    let rows: Vec<(String, String)> = stmt.query_map(params![a, b], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .map(|(first, w)| {
            let flipped = first != a;
            match (w.as_str(), flipped) {
                ("a", false) | ("b", true) => Vote::A,
                ("b", false) | ("a", true) => Vote::B,
                ("tie", _) => Vote::Tie,
                _ => Vote::BothBad,
            }
        })
        .collect())
}

/// Prompts for side-by-side: the user messages of a dataset's validation split (held out from
/// training), in file order.
pub fn held_out_prompts(conn: &Connection, dataset_id: &str, limit: usize) -> Result<Vec<String>> {
    let d = crate::export::get(conn, dataset_id)?;
    let path = d
        .validation_path
        .ok_or_else(|| Error::invalid("dataset", format!("{} has no validation split: export it with a validation ratio", d.name)))?;
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
    let mut prompts = Vec::new();
    let values: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Array(a)) => a,
        _ => text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect(),
    };
    for v in values {
        let p = v
            .get("instruction")
            .and_then(|x| x.as_str())
            .map(|s| {
                let input = v.get("input").and_then(|x| x.as_str()).unwrap_or("");
                if input.is_empty() { s.to_string() } else { format!("{s}\n\n{input}") }
            })
            .or_else(|| {
                let msgs = v.get("conversations").or_else(|| v.get("messages"))?.as_array()?;
                msgs.iter()
                    .find(|m| matches!(m.get("from").or_else(|| m.get("role")).and_then(|x| x.as_str()), Some("human" | "user")))
                    .and_then(|m| m.get("value").or_else(|| m.get("content")))
                    .and_then(|x| x.as_str())
                    .map(String::from)
            });
        if let Some(p) = p.filter(|p| !p.trim().is_empty()) {
            prompts.push(p);
        }
        if prompts.len() >= limit {
            break;
        }
    }
    Ok(prompts)
}

/// Recent chat conversations: (id, title, satisfaction by the documented rule), newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<(String, String, Option<f64>)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, c.title, {} FROM conversations c WHERE c.source = 'chat' ORDER BY c.updated_at DESC LIMIT ?1",
        crate::conversations::SCORE_SQL
    ))?;
    let rows = stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Which model answers a chat conversation (its name) and, while its experiment runs, its arm
/// (the page hides the model then, so the person's ratings stay blind).
pub fn conversation_model(conn: &Connection, id: &str) -> Result<(Option<String>, Option<String>)> {
    Ok(conn
        .query_row(
            "SELECT e.name, CASE WHEN x.status = 'running' THEN c.arm END FROM conversations c
               LEFT JOIN endpoints e ON e.id = c.endpoint_id LEFT JOIN experiments x ON x.id = c.experiment_id WHERE c.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((None, None)))
}

/// Votes per pair of models: (A's name, B's name, A better, B better, ties, both bad).
pub fn tally(conn: &Connection) -> Result<Vec<(String, String, u64, u64, u64, u64)>> {
    let mut stmt = conn.prepare(
        "SELECT ea.name, eb.name, SUM(v.winner = 'a'), SUM(v.winner = 'b'), SUM(v.winner = 'tie'), SUM(v.winner = 'both_bad')
           FROM votes v JOIN endpoints ea ON ea.id = v.endpoint_a JOIN endpoints eb ON eb.id = v.endpoint_b
          WHERE v.winner IS NOT NULL GROUP BY v.endpoint_a, v.endpoint_b ORDER BY MAX(v.voted_at) DESC",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64, r.get::<_, i64>(3)? as u64, r.get::<_, i64>(4)? as u64, r.get::<_, i64>(5)? as u64))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a follower shows, applied the way the page applies it: a snapshot replaces
    /// the text, a delta appends.
    async fn shown(follower: &mut Follower) -> (String, usize) {
        let (mut text, mut snapshots) = (String::new(), 0);
        while let Some(update) = follower.next().await {
            match update {
                TurnUpdate::Snapshot(s) => {
                    text = s.text;
                    snapshots += 1;
                }
                TurnUpdate::Event(TurnEvent::Delta { text: piece }) => text.push_str(&piece),
                TurnUpdate::Event(_) => {}
            }
        }
        (text, snapshots)
    }

    #[tokio::test]
    async fn a_follower_that_falls_behind_gets_a_snapshot_and_never_wrong_text() {
        let hub = Hub::new();
        let id = hub.open(None);
        let mut slow = hub.follow(&id).unwrap();
        let mut expected = String::new();
        // Three times the channel's capacity, while the follower reads nothing.
        for i in 0..3000 {
            let piece = format!("{i} ");
            expected.push_str(&piece);
            hub.push(&id, TurnEvent::Delta { text: piece });
        }
        // The follower starts reading only now; the answer goes on while it catches up.
        let producer = {
            let (hub, id) = (hub.clone(), id.clone());
            tokio::spawn(async move {
                for i in 3000..3100 {
                    hub.push(&id, TurnEvent::Delta { text: format!("{i} ") });
                    tokio::task::yield_now().await;
                }
                hub.push(&id, TurnEvent::Done { message_id: None });
            })
        };
        for i in 3000..3100 {
            expected.push_str(&format!("{i} "));
        }
        let (text, snapshots) = tokio::time::timeout(std::time::Duration::from_secs(10), shown(&mut slow)).await.unwrap();
        producer.await.unwrap();
        assert!(snapshots >= 2, "the lag was answered with a fresh snapshot ({snapshots} snapshots)");
        assert_eq!(text.len(), expected.len(), "nothing lost and nothing doubled");
        assert_eq!(text, expected);
        assert_eq!(hub.snapshot(&id).unwrap().text, expected);

        // A follower that keeps up sees the initial snapshot only, then every delta.
        let id = hub.open(None);
        let mut quick = hub.follow(&id).unwrap();
        let reader = tokio::spawn(async move { shown(&mut quick).await });
        for i in 0..50 {
            hub.push(&id, TurnEvent::Delta { text: format!("{i}.") });
            tokio::task::yield_now().await;
        }
        hub.push(&id, TurnEvent::Done { message_id: None });
        let (text, snapshots) = reader.await.unwrap();
        assert_eq!(snapshots, 1);
        assert_eq!(text, (0..50).map(|i| format!("{i}.")).collect::<String>());
    }

    #[test]
    fn finished_turns_and_their_comparisons_are_forgotten() {
        let hub = Hub::with_keep(std::time::Duration::from_millis(50));
        let (a, b) = (hub.open(None), hub.open(None));
        hub.comparisons.lock().unwrap().insert("cmp".into(), (a.clone(), b.clone()));
        let running = hub.open(None);
        hub.comparisons.lock().unwrap().insert("live".into(), (running.clone(), running.clone()));
        for t in [&a, &b] {
            hub.push(t, TurnEvent::Done { message_id: None });
        }
        assert_eq!(hub.sizes(), (3, 2));
        assert!(hub.comparison_turns("cmp").is_some());
        std::thread::sleep(std::time::Duration::from_millis(80));
        // Pruning happens when the next answer starts.
        let next = hub.open(None);
        assert_eq!(hub.sizes(), (2, 1), "the finished pair and its comparison are gone; the running one stays");
        assert!(hub.comparison_turns("cmp").is_none());
        assert!(hub.snapshot(&a).is_none() && hub.follow(&b).is_none());
        assert!(hub.snapshot(&running).is_some() && hub.snapshot(&next).is_some());
        // A long session stays bounded: a thousand finished answers later, only what is fresh remains.
        for i in 0..1000 {
            let (x, y) = (hub.open(None), hub.open(None));
            hub.comparisons.lock().unwrap().insert(format!("c{i}"), (x.clone(), y.clone()));
            hub.push(&x, TurnEvent::Done { message_id: None });
            hub.push(&y, TurnEvent::Error { message: "down".into() });
        }
        std::thread::sleep(std::time::Duration::from_millis(80));
        hub.open(None);
        let (turns, comparisons) = hub.sizes();
        assert!(turns <= 3 && comparisons <= 1, "{turns} turns, {comparisons} comparisons kept");
    }
}
