//! Side by side: one prompt, two models' answers streaming at once (blind or not), then a vote;
//! the votes between two models; prompts held out from training to compare on.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::infer::{self, ChatMessage, Sampling};
use crate::turns::Hub;
use crate::Studio;

/// A comparison, the page's view of it, a vote and the tally: wire types (`garden_types::chat`).
pub use garden_types::chat::{Arm, CompareView, Comparison, ComparisonView, TallyRow, Winner};

/// Starts a comparison: stores it and generates both answers at once.
pub async fn compare(studio: &Studio, hub: &Hub, prompt: &str, a: &str, b: &str, blind: bool, prompt_set: Option<String>) -> Result<Comparison> {
    let prompt = prompt.trim().to_string();
    if prompt.is_empty() {
        return Err(Error::invalid("prompt", "write a prompt first"));
    }
    let (a, b) = (a.to_string(), b.to_string());
    let id = uuid::Uuid::new_v4().to_string();
    // Blind: a fair coin decides the sides (from the id, so a reload shows the same layout).
    let left_arm = if blind && crate::draw::unit_interval(&[b"sides:", id.as_bytes()]) >= 0.5 { Arm::B } else { Arm::A };
    let (p, i) = (prompt.clone(), id.clone());
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
                params![i, p, ea.id, eb.id, left_arm.as_str(), blind, prompt_set, crate::now_ms()],
            )?;
            get_comparison(c, &i)
        })
        .await?;
    for arm in Arm::ALL {
        let endpoint = match arm {
            Arm::A => c.endpoint_a.clone(),
            Arm::B => c.endpoint_b.clone(),
        };
        let turn = hub.open(None);
        let (db, vid) = (studio.db().clone(), id.clone());
        let column = if arm == Arm::A { "answer_a" } else { "answer_b" };
        hub.generate(turn.clone(), endpoint, vec![ChatMessage { role: "user".into(), content: prompt.clone() }], Sampling::default(), move |answer| {
            db.with_conn(|c| {
                c.execute(&format!("UPDATE votes SET {column} = ?2 WHERE id = ?1"), params![vid, answer])?;
                Ok(None)
            })
        });
        match arm {
            Arm::A => c.turn_a = Some(turn),
            Arm::B => c.turn_b = Some(turn),
        }
    }
    if let (Some(a), Some(b)) = (&c.turn_a, &c.turn_b) {
        hub.remember_comparison(&c.id, a, b);
    }
    Ok(c)
}

/// A stored state (an arm, a vote, an experiment's status) read back; a value outside the
/// schema's CHECK reads as an error naming its column.
pub(crate) fn stored<T: std::str::FromStr>(column: usize, value: &str) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e)))
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
                    stored::<Arm>(6, &r.get::<_, String>(6)?)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, Option<String>>(8)?.map(|w| stored::<Winner>(8, &w)).transpose()?,
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

/// Records the vote once both answers are in.
pub fn vote(conn: &mut Connection, id: &str, winner: Winner) -> Result<Comparison> {
    let c = get_comparison(conn, id)?;
    if c.answer_a.is_none() || c.answer_b.is_none() {
        return Err(Error::invalid("vote", "wait for both answers before voting"));
    }
    conn.execute("UPDATE votes SET winner = ?2, voted_at = ?3 WHERE id = ?1", params![id, winner.as_str(), crate::now_ms()])?;
    get_comparison(conn, id)
}

/// A comparison with its answers still in flight (from the hub), as the page shows it. The
/// hub's turns are found by the comparison's id when it has none (a page reload).
pub fn view(hub: &Hub, mut c: Comparison) -> ComparisonView {
    if let Some((a, b)) = hub.comparison_turns(&c.id) {
        c.turn_a.get_or_insert(a);
        c.turn_b.get_or_insert(b);
    }
    let snapshot = |t: &Option<String>| t.as_deref().and_then(|t| hub.snapshot(t));
    ComparisonView { turn_a: snapshot(&c.turn_a), turn_b: snapshot(&c.turn_b), comparison: c }
}

/// The compare page: the models, the datasets with held-out prompts (and the chosen one's
/// prompts), the comparison open, and the tally of votes.
pub async fn page(studio: &Studio, hub: &Hub, comparison: Option<String>, dataset: Option<String>) -> Result<CompareView> {
    let (endpoints, datasets, prompts, comparison, tally) = studio
        .db()
        .call(move |c| {
            let datasets = crate::export::list(c)?
                .into_iter()
                .filter(|d| d.validation_path.is_some())
                .map(|d| garden_types::chat::Choice { id: d.id, label: d.name })
                .collect();
            let prompts = match dataset.as_deref().filter(|d| !d.is_empty()) {
                Some(d) => held_out_prompts(c, d, 50)?,
                None => Vec::new(),
            };
            let comparison = comparison.as_deref().filter(|x| !x.is_empty()).map(|id| get_comparison(c, id)).transpose()?;
            Ok((infer::endpoints(c)?, datasets, prompts, comparison, tally(c)?))
        })
        .await?;
    Ok(CompareView { endpoints, datasets, prompts, comparison: comparison.map(|c| view(hub, c)), tally })
}

/// Votes between two endpoints (either order), oldest first, as seen from `a`'s side.
pub fn votes_between(conn: &Connection, a: &str, b: &str) -> Result<Vec<crate::stats::Vote>> {
    use crate::stats::Vote;
    let mut stmt = conn.prepare(
        "SELECT endpoint_a, winner FROM votes WHERE winner IS NOT NULL
           AND ((endpoint_a = ?1 AND endpoint_b = ?2) OR (endpoint_a = ?2 AND endpoint_b = ?1)) ORDER BY voted_at, rowid",
    )?;
    let rows: Vec<(String, Winner)> = stmt.query_map(params![a, b], |r| Ok((r.get(0)?, stored(1, &r.get::<_, String>(1)?)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .map(|(first, w)| {
            let flipped = first != a;
            match (w, flipped) {
                (Winner::A, false) | (Winner::B, true) => Vote::A,
                (Winner::B, false) | (Winner::A, true) => Vote::B,
                (Winner::Tie, _) => Vote::Tie,
                (Winner::BothBad, _) => Vote::BothBad,
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

/// Votes per pair of models, the pair voted on last first.
pub fn tally(conn: &Connection) -> Result<Vec<TallyRow>> {
    let mut stmt = conn.prepare(
        "SELECT ea.name, eb.name, SUM(v.winner = 'a'), SUM(v.winner = 'b'), SUM(v.winner = 'tie'), SUM(v.winner = 'both_bad')
           FROM votes v JOIN endpoints ea ON ea.id = v.endpoint_a JOIN endpoints eb ON eb.id = v.endpoint_b
          WHERE v.winner IS NOT NULL GROUP BY v.endpoint_a, v.endpoint_b ORDER BY MAX(v.voted_at) DESC",
    )?;
    let count = |r: &rusqlite::Row<'_>, i: usize| r.get::<_, i64>(i).map(|n| n as u64);
    let rows = stmt
        .query_map([], |r| Ok(TallyRow { name_a: r.get(0)?, name_b: r.get(1)?, a: count(r, 2)?, b: count(r, 3)?, ties: count(r, 4)?, both_bad: count(r, 5)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_are_stored_as_their_strings_and_tallied_by_name() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        crate::migrate::apply(&mut c, std::path::Path::new(":memory:")).unwrap();
        let add = |c: &mut Connection, name: &str| {
            let new = infer::NewEndpoint { name: name.into(), kind: "openai".into(), url: "http://127.0.0.1:9".into(), model: format!("{name}:1"), adapter_id: None };
            infer::add_endpoint(c, new).unwrap().id
        };
        let (a, b) = (add(&mut c, "base"), add(&mut c, "eden"));
        c.execute(
            "INSERT INTO votes (id, prompt, endpoint_a, endpoint_b, left_arm, blind, created_at) VALUES ('v', 'p', ?1, ?2, 'b', 1, 0)",
            params![a, b],
        )
        .unwrap();
        let got = get_comparison(&c, "v").unwrap();
        assert_eq!((got.left_arm, got.winner, got.endpoint_a.kind), (Arm::B, None, infer::Kind::OpenAi));
        assert!(vote(&mut c, "v", Winner::Tie).unwrap_err().to_string().contains("wait for both answers"));
        c.execute("UPDATE votes SET answer_a = 'x', answer_b = 'y' WHERE id = 'v'", []).unwrap();
        assert_eq!(vote(&mut c, "v", Winner::BothBad).unwrap().winner, Some(Winner::BothBad));
        let stored: String = c.query_row("SELECT winner FROM votes WHERE id = 'v'", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, "both_bad");
        assert_eq!(tally(&c).unwrap(), vec![TallyRow { name_a: "base".into(), name_b: "eden".into(), a: 0, b: 0, ties: 0, both_bad: 1 }]);
        assert_eq!(votes_between(&c, &b, &a).unwrap(), vec![crate::stats::Vote::BothBad]);
    }
}
