//! Side by side: one prompt, two models' answers streaming at once (blind or not), then a vote;
//! the votes between two models; prompts held out from training to compare on.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::infer::{self, ChatMessage, Endpoint, Sampling};
use crate::turns::Hub;
use crate::Studio;

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
    let left_arm = if blind && crate::draw::unit_interval(&[b"sides:", id.as_bytes()]) >= 0.5 { "b" } else { "a" };
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
    if let (Some(a), Some(b)) = (&c.turn_a, &c.turn_b) {
        hub.remember_comparison(&c.id, a, b);
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
