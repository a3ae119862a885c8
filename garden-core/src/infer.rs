//! Talking to models: Ollama (`POST /api/chat`, streamed NDJSON) and any OpenAI-compatible server
//! (`POST /v1/chat/completions`, streamed server-sent events: llama.cpp's server, vLLM, LM
//! Studio). Endpoints are configured in the database; the active adapter's Ollama deployment is
//! one too.

use futures_util::StreamExt;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// One message of a conversation sent to a model (Ollama's `/api/chat` and OpenAI's
/// `/v1/chat/completions` take the same two fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// Which protocol an endpoint speaks, and the endpoint itself: wire types (`garden_types::chat`).
pub use garden_types::chat::{Endpoint, EndpointKind as Kind};

fn endpoint_row(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let kind: String = r.get(2)?;
    Ok(Endpoint {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: kind.parse().unwrap_or(Kind::Ollama),
        url: r.get(3)?,
        model: r.get(4)?,
        adapter_id: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const ENDPOINT_COLUMNS: &str = "id, name, kind, url, model, adapter_id, created_at";

/// What adding an endpoint needs.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub model: String,
    pub adapter_id: Option<String>,
}

fn check_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u.strip_prefix("http://").or_else(|| u.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Ok(u.to_string()),
        _ => Err(Error::invalid("url", format!("'{url}' is not an http(s) URL such as http://127.0.0.1:8080"))),
    }
}

pub fn add_endpoint(conn: &mut Connection, new: NewEndpoint) -> Result<Endpoint> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let e = add_endpoint_in(&tx, new)?;
    tx.commit()?;
    Ok(e)
}

/// `add_endpoint` inside the caller's transaction.
pub fn add_endpoint_in(tx: &Connection, new: NewEndpoint) -> Result<Endpoint> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(Error::invalid("name", "give a name of 1 to 80 characters"));
    }
    let kind: Kind = new.kind.trim().parse()?;
    let url = check_url(&new.url)?;
    let model = new.model.trim();
    if model.is_empty() {
        return Err(Error::invalid("model", "give the model name the server knows"));
    }
    if tx.query_row("SELECT 1 FROM endpoints WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some() {
        return Err(Error::invalid("name", format!("a model named '{name}' exists already")));
    }
    if let Some(a) = &new.adapter_id {
        crate::adapters::get(tx, a)?;
    }
    let id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO endpoints (id, name, kind, url, model, adapter_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, name, kind.as_str(), url, model, new.adapter_id, crate::now_ms()],
    )?;
    endpoint(tx, &id)
}

pub fn endpoint(conn: &Connection, id: &str) -> Result<Endpoint> {
    conn.query_row(&format!("SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE id = ?1 OR name = ?1"), [id], endpoint_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "model", id: id.into() })
}

pub fn endpoints(conn: &Connection) -> Result<Vec<Endpoint>> {
    let mut stmt = conn.prepare(&format!("SELECT {ENDPOINT_COLUMNS} FROM endpoints ORDER BY created_at, rowid"))?;
    let rows = stmt.query_map([], endpoint_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn remove_endpoint(conn: &mut Connection, id: &str) -> Result<()> {
    let e = endpoint(conn, id)?;
    let used: bool = conn
        .query_row("SELECT 1 FROM experiments WHERE status = 'running' AND (arm_a = ?1 OR arm_b = ?1)", [&e.id], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if used {
        return Err(Error::invalid("model", format!("'{}' is an arm of a running experiment: stop it first", e.name)));
    }
    conn.execute("DELETE FROM endpoints WHERE id = ?1", [&e.id])?;
    Ok(())
}

/// The endpoint for an adapter: its own configured one, else one made from its latest
/// succeeded Ollama deployment (and remembered).
pub fn endpoint_for_adapter(conn: &Connection, adapter_id: &str) -> Result<Endpoint> {
    if let Some(e) = find_endpoint_for_adapter(conn, adapter_id)? {
        return Ok(e);
    }
    let a = crate::adapters::get(conn, adapter_id)?;
    let d = crate::adapters::deployments(conn, adapter_id)?
        .into_iter()
        .find(|d| d.status == "succeeded")
        .ok_or_else(|| Error::invalid("adapter", format!("{} {} is not deployed anywhere yet: deploy it to Ollama first", a.name, a.version)))?;
    add_endpoint_in(
        conn,
        NewEndpoint {
            name: format!("{} {} (Ollama)", a.name, a.version),
            kind: "ollama".into(),
            url: d.target,
            model: d.model_name,
            adapter_id: Some(adapter_id.into()),
        },
    )
}

/// The model an adapter's deployment became, if it is one already; reads only (for pages).
pub fn find_endpoint_for_adapter(conn: &Connection, adapter_id: &str) -> Result<Option<Endpoint>> {
    Ok(conn
        .query_row(&format!("SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE adapter_id = ?1 ORDER BY created_at DESC LIMIT 1"), [adapter_id], endpoint_row)
        .optional()?)
}

fn service(e: &Endpoint) -> &'static str {
    match e.kind {
        Kind::Ollama => "Ollama",
        Kind::OpenAi => "the OpenAI-compatible server",
    }
}

fn err(e: &Endpoint, message: impl Into<String>) -> Error {
    Error::Service { service: service(e), url: e.url.clone(), message: message.into() }
}

/// Sampling options (defaults: temperature 0.8, top-p 0.92, 256 tokens, as in the guide's Modelfile).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: u32,
    pub seed: Option<u64>,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { temperature: 0.8, top_p: 0.92, max_tokens: 256, seed: None }
    }
}

/// Streams a chat answer: `on_delta` gets each piece of text as it arrives; returns the whole.
pub async fn chat_stream(e: &Endpoint, messages: &[ChatMessage], sampling: Sampling, mut on_delta: impl FnMut(&str)) -> Result<String> {
    let http = crate::http::client();
    let (url, body) = match e.kind {
        Kind::Ollama => {
            let mut options = json!({"temperature": sampling.temperature, "top_p": sampling.top_p, "num_predict": sampling.max_tokens});
            if let Some(s) = sampling.seed {
                options["seed"] = json!(s);
            }
            (format!("{}/api/chat", e.url), json!({"model": e.model, "messages": messages, "stream": true, "options": options}))
        }
        Kind::OpenAi => {
            let mut body = json!({"model": e.model, "messages": messages, "stream": true, "temperature": sampling.temperature,
                "top_p": sampling.top_p, "max_tokens": sampling.max_tokens});
            if let Some(s) = sampling.seed {
                body["seed"] = json!(s);
            }
            (format!("{}/v1/chat/completions", e.url), body)
        }
    };
    let resp = http.post(&url).json(&body).timeout(Duration::from_secs(600)).send().await.map_err(|x| {
        if x.is_connect() {
            err(e, format!("nothing answers there: is the server running?{}", if e.kind == Kind::Ollama { " Start it with `ollama serve`." } else { "" }))
        } else {
            err(e, x.to_string())
        }
    })?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").map(|x| x.get("message").and_then(Value::as_str).map(String::from).unwrap_or_else(|| x.to_string().trim_matches('"').to_string())))
            .unwrap_or_else(|| text.chars().take(300).collect());
        return Err(err(e, format!("model {} answered {status}: {msg}", e.model)));
    }
    let mut whole = String::new();
    let mut lines = std::pin::pin!(crate::http::lines(resp));
    while let Some(line) = lines.next().await {
        let line = line.map_err(|x| err(e, format!("the answer stream broke: {}", crate::http::line_error(&x))))?;
        if let Some(piece) = parse_line(e, line.trim())? {
            whole.push_str(&piece);
            on_delta(&piece);
        }
    }
    Ok(whole)
}

/// One line of a stream → the text it adds.
fn parse_line(e: &Endpoint, line: &str) -> Result<Option<String>> {
    if line.is_empty() {
        return Ok(None);
    }
    let json = match e.kind {
        Kind::Ollama => line,
        Kind::OpenAi => match line.strip_prefix("data:") {
            Some(d) if d.trim() == "[DONE]" => return Ok(None),
            Some(d) => d.trim(),
            None => return Ok(None),
        },
    };
    let v: Value = serde_json::from_str(json).map_err(|_| err(e, format!("unexpected stream line: {}", line.chars().take(200).collect::<String>())))?;
    if let Some(x) = v.get("error") {
        return Err(err(e, x.get("message").and_then(Value::as_str).map(String::from).unwrap_or_else(|| x.to_string())));
    }
    let piece = match e.kind {
        Kind::Ollama => v.pointer("/message/content"),
        Kind::OpenAi => v.pointer("/choices/0/delta/content"),
    };
    Ok(piece.and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from))
}
