//! Chat: a message goes to a model, the answer streams back (through the [`Hub`]), and
//! everything is stored with which model, adapter and experiment arm answered. This is how new
//! training data and A/B evidence are collected. Side-by-side comparisons are in
//! [`crate::compare`].

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::infer::{self, ChatMessage, Endpoint, Sampling};
pub use crate::turns::{Follower, Hub, TurnEvent, TurnSnapshot, TurnUpdate};
use crate::Studio;
/// The chat page and its parts: wire types (`garden_types::chat`).
pub use garden_types::chat::{Arm, ChatView, Choice, ConversationModel, RecentChat};

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

impl SendRequest {
    /// From the chat form: blank ids count as absent; default sampling, no system prompt.
    pub fn from_form(conversation_id: Option<String>, endpoint_id: Option<String>, text: String) -> SendRequest {
        use crate::form::given;
        SendRequest { conversation_id: given(conversation_id), endpoint_id: given(endpoint_id), text, ..SendRequest::default() }
    }
}

/// Where the answer is coming from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub conversation_id: String,
    pub turn_id: String,
    pub user_message_id: String,
    pub endpoint: Endpoint,
    pub experiment_id: Option<String>,
    pub arm: Option<Arm>,
}

/// Picks the model for a new conversation (see [`SendRequest::endpoint_id`]).
fn choose(conn: &Connection, explicit: Option<&str>, conversation_id: &str) -> Result<(Endpoint, Option<(String, Arm)>)> {
    if let Some(e) = explicit.filter(|s| !s.is_empty()) {
        return Ok((infer::endpoint(conn, e)?, None));
    }
    if let Some((exp, arm)) = crate::experiments::assign(conn, conversation_id)? {
        let e = crate::experiments::arm_endpoint(conn, &exp, arm)?;
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
                    let (endpoint_id, exp, arm): (Option<String>, Option<String>, Option<Arm>) = tx
                        .query_row("SELECT endpoint_id, experiment_id, arm FROM conversations WHERE id = ?1 AND source = 'chat'", [id], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?.and_then(|a| a.parse().ok())))
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
                        params![id, title, now, endpoint.id, experiment.as_ref().map(|x| &x.0), experiment.as_ref().map(|x| x.1.as_str())],
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

/// Recent chat conversations (satisfaction by the documented rule), newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<RecentChat>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, c.title, {} FROM conversations c WHERE c.source = 'chat' ORDER BY c.updated_at DESC LIMIT ?1",
        crate::conversations::SCORE_SQL
    ))?;
    let rows = stmt
        .query_map([limit], |r| Ok(RecentChat { id: r.get(0)?, title: r.get(1)?, satisfaction: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Which model answers a chat conversation (its name) and, while its experiment runs, its arm
/// (the page hides the model then, so the person's ratings stay blind).
pub fn conversation_model(conn: &Connection, id: &str) -> Result<ConversationModel> {
    Ok(conn
        .query_row(
            "SELECT e.name, CASE WHEN x.status = 'running' THEN c.arm END FROM conversations c
               LEFT JOIN endpoints e ON e.id = c.endpoint_id LEFT JOIN experiments x ON x.id = c.experiment_id WHERE c.id = ?1",
            [id],
            |r| Ok(ConversationModel { endpoint: r.get(0)?, arm: r.get::<_, Option<String>>(1)?.and_then(|a| a.parse().ok()) }),
        )
        .optional()?
        .unwrap_or_default())
}

/// What a new conversation will talk to, in words (see [`SendRequest::endpoint_id`]).
fn default_target(conn: &Connection, experiment: Option<&crate::experiments::Experiment>) -> Result<String> {
    Ok(match (experiment, crate::adapters::active(conn)?) {
        (Some(e), _) => format!("the running experiment \u{201c}{}\u{201d} picks the model", e.name),
        (None, Some(a)) => match infer::find_endpoint_for_adapter(conn, &a.id) {
            Ok(Some(e)) => format!("the active adapter, {} {} ({})", a.name, a.version, e.name),
            _ => format!("the active adapter {} {} is not deployed: the first model below answers", a.name, a.version),
        },
        (None, None) => "the first model below (no adapter is active)".to_string(),
    })
}

/// The chat page: the models, what a new conversation talks to, the conversation open (with its
/// model, or its arm while its experiment runs) and its answer in flight, recent chats, and the
/// adapters a model server can serve.
pub async fn page(studio: &Studio, hub: &Hub, conversation: Option<String>) -> Result<ChatView> {
    let conversation = conversation.filter(|c| !c.is_empty());
    let pending = conversation.as_deref().and_then(|c| hub.pending(c));
    studio
        .db()
        .call(move |c| {
            let experiment = crate::experiments::running(c)?;
            let (detail, model) = match &conversation {
                Some(id) => (Some(crate::conversations::get(c, id)?), conversation_model(c, id)?),
                None => (None, ConversationModel::default()),
            };
            let adapters = crate::adapters::list(c)?.into_iter().map(|a| Choice { label: a.label(), id: a.id }).collect();
            Ok(ChatView {
                endpoints: infer::endpoints(c)?,
                default_target: default_target(c, experiment.as_ref())?,
                experiment: experiment.map(|e| e.name),
                conversation: detail,
                conversation_endpoint: model.endpoint,
                arm: model.arm,
                pending,
                recent: recent(c, 20)?,
                adapters,
            })
        })
        .await
}
