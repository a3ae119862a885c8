//! Preference pairs for DPO, ORPO and SimPO, from what the person judged: a chosen and a rejected
//! answer to the same prompt, in LLaMA-Factory's ranking format (`ranking: true`, sharegpt
//! formatting with OpenAI tags: `messages` ending on a user turn, then `chosen` and `rejected`
//! message objects).
//!
//! # Where pairs come from
//! - **Side-by-side votes** (Compare): the winner's answer is chosen and the loser's rejected; the
//!   prompt is the comparison's prompt (its shared history: Compare asks with no earlier turns).
//!   Ties and "both bad" give no pair, nor a vote whose two answers are the same text.
//! - **Thumbs**: answers to the same prompt with the same history before it (the same system
//!   prompt and the same earlier exchanges, text for text) where one was rated up and another
//!   down: the same question asked of two models (an A/B experiment, two chats) or asked again.
//!   Each answer rated up is paired with each answer rated down, newest first, at most
//!   [`MAX_PAIRS_PER_PROMPT`] per prompt so that one question asked many times does not dominate.
//!   Conversations are read as the other exports read them: consecutive user messages joined, an
//!   answer with no question before it left out.
//!
//! # The filter and curation
//! - `since` / `until`: the time of the judgement (the vote; for thumbs, the later of the two).
//! - `min_message_length` / `max_message_length`: every user and assistant text of the pair (its
//!   history, its prompt, both answers), in characters.
//! - `min_turns`: exchanges in the prompt, its final question included.
//! - `limit`: at most this many pairs, newest judgements first.
//! - `min_satisfaction`, `positive_only` and `exclude_negative` are refused: a conversation's
//!   satisfaction says nothing about which of two answers is better, and a pair's rejected answer
//!   is rated down by definition.
//! - PII is scrubbed from every text; exact and near duplicates are dropped (the whole pair: its
//!   history, prompt, chosen and rejected answers); the validation split is drawn per prompt
//!   (its system, history and question), so the same prompt never lands on both sides.
//!
//! Each exported pair's judgements (the vote, or the two rated answers) are recorded with the
//! dataset (`dataset_judgements`): the lineage votes and thumbs → pairs dataset → run → adapter.

use std::collections::HashMap;
use std::rc::Rc;

use super::*;
use crate::curate::{self, exact_key, Deduper, Scrubber, Seen};

pub use garden_types::prefs::PairCounts;

/// At most this many pairs from one prompt's thumbs.
pub const MAX_PAIRS_PER_PROMPT: usize = 8;

/// What a judgement in a dataset is: a side-by-side vote (`votes.id`) or a thumb on an answer
/// (the rated answer's `messages.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JudgementKind {
    Vote,
    Thumbs,
}

impl JudgementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JudgementKind::Vote => "vote",
            JudgementKind::Thumbs => "thumbs",
        }
    }
}

/// One judgement an exported pair came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Judgement {
    pub kind: JudgementKind,
    /// The vote's id, or the rated answer's message id.
    pub id: String,
    pub validation: bool,
}

/// The text before the answers: the system prompt, earlier exchanges, the question.
#[derive(Debug)]
struct Context {
    system: String,
    /// (user, assistant) exchanges; the prompt's question is `exchanges[upto].0`.
    exchanges: Vec<(String, String)>,
}

/// A pair before curation.
#[derive(Debug, Clone)]
struct Candidate {
    kind: JudgementKind,
    context: Rc<Context>,
    /// The question is exchange `upto`; the history is the exchanges before it.
    upto: usize,
    chosen: String,
    rejected: String,
    /// When it was judged (Unix ms).
    at: i64,
    /// The vote, or the answers rated up and down.
    refs: Vec<String>,
}

impl Candidate {
    fn question(&self) -> &str {
        &self.context.exchanges[self.upto].0
    }

    /// The user and assistant texts the length filter looks at.
    fn texts(&self) -> impl Iterator<Item = &str> {
        self.context.exchanges[..self.upto]
            .iter()
            .flat_map(|(u, a)| [u.as_str(), a.as_str()])
            .chain([self.question(), self.chosen.as_str(), self.rejected.as_str()])
    }
}

/// The key of a prompt: its system text, earlier exchanges and question, exactly.
fn prompt_key(system: &str, exchanges: &[(String, String)], upto: usize) -> u128 {
    let mut texts: Vec<&str> = Vec::with_capacity(2 * upto + 2);
    texts.push(system);
    for (u, a) in &exchanges[..upto] {
        texts.push(u);
        texts.push(a);
    }
    texts.push(&exchanges[upto].0);
    exact_key(&texts)
}

/// The satisfaction filters are refused for pairs (see the module doc); the rest is checked as
/// for every export.
fn check_filter(filter: &DataFilter) -> Result<()> {
    filter.validate()?;
    let refuse = |field: &str| {
        Err(Error::invalid(
            field,
            "does not apply to preference pairs: a pair's rejected answer is rated down by definition, and a \
             conversation's satisfaction does not say which of two answers is better. Leave it out (pairs are \
             filtered by date, message length, turns and limit)",
        ))
    };
    if filter.min_satisfaction.is_some() {
        return refuse("min_satisfaction");
    }
    if filter.positive_only {
        return refuse("positive_only");
    }
    if filter.exclude_negative {
        return refuse("exclude_negative");
    }
    Ok(())
}

/// Side-by-side votes cast in the date range: the pairs they give, counted in `counts`.
fn vote_candidates(conn: &Connection, since: i64, until: i64, counts: &mut PairCounts) -> Result<Vec<Candidate>> {
    let mut stmt = conn.prepare(
        "SELECT id, prompt, answer_a, answer_b, winner, COALESCE(voted_at, created_at) FROM votes
          WHERE winner IS NOT NULL AND COALESCE(voted_at, created_at) >= ?1 AND COALESCE(voted_at, created_at) < ?2
          ORDER BY COALESCE(voted_at, created_at) DESC, id",
    )?;
    let mut rows = stmt.query(params![since, until])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        counts.votes += 1;
        let (id, prompt, a, b, winner, at): (String, String, Option<String>, Option<String>, String, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
        let (chosen, rejected) = match (winner.as_str(), a, b) {
            ("tie", ..) => {
                counts.ties += 1;
                continue;
            }
            ("both_bad", ..) => {
                counts.both_bad += 1;
                continue;
            }
            ("a", Some(a), Some(b)) => (a, b),
            ("b", Some(a), Some(b)) => (b, a),
            // A vote is only taken once both answers are in; a row without them gives nothing.
            _ => continue,
        };
        if chosen.trim() == rejected.trim() {
            counts.same_answers += 1;
            continue;
        }
        let context = Rc::new(Context { system: String::new(), exchanges: vec![(prompt, String::new())] });
        out.push(Candidate { kind: JudgementKind::Vote, context, upto: 0, chosen, rejected, at, refs: vec![id] });
    }
    counts.candidates_from_votes = out.len() as u64;
    Ok(out)
}

/// An answer rated with a thumb, in its conversation.
struct Rated {
    context: Rc<Context>,
    upto: usize,
    up: bool,
    /// When the thumb was given.
    at: i64,
    message_id: String,
}

/// Answers to the same prompt rated up and down: their pairs, counted in `counts`.
fn thumbs_candidates(conn: &Connection, since: i64, until: i64, counts: &mut PairCounts) -> Result<Vec<Candidate>> {
    let mut conversations = conn.prepare(
        "SELECT DISTINCT m.conversation_id FROM feedback f JOIN messages m ON m.id = f.message_id
          WHERE f.thumbs IS NOT NULL AND m.role = 'assistant' ORDER BY m.conversation_id",
    )?;
    let ids: Vec<String> = conversations.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut messages = conn.prepare(
        "SELECT m.id, m.role, m.content, f.thumbs, f.created_at FROM messages m
           LEFT JOIN feedback f ON f.message_id = m.id AND f.thumbs IS NOT NULL
          WHERE m.conversation_id = ?1 ORDER BY m.position",
    )?;
    let mut by_prompt: HashMap<u128, Vec<Rated>> = HashMap::new();
    for id in ids {
        let mut system: Option<String> = None;
        let mut exchanges: Vec<(String, String)> = Vec::new();
        // (exchange index, up, at, message id) of each rated answer.
        let mut rated: Vec<(usize, bool, i64, String)> = Vec::new();
        let mut pending_user: Option<String> = None;
        let mut rows = messages.query([&id])?;
        while let Some(r) = rows.next()? {
            let (mid, role, content, thumbs, at): (String, String, String, Option<i64>, Option<i64>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            let join = |into: &mut Option<String>, text: String| match into {
                Some(s) => {
                    s.push_str("\n\n");
                    s.push_str(&text);
                }
                None => *into = Some(text),
            };
            match role.as_str() {
                "system" => join(&mut system, content),
                "user" => join(&mut pending_user, content),
                "assistant" => {
                    if let Some(user) = pending_user.take() {
                        if let (Some(t), Some(at)) = (thumbs, at) {
                            rated.push((exchanges.len(), t > 0, at, mid));
                        }
                        exchanges.push((user, content));
                    }
                }
                _ => {}
            }
        }
        let rated: Vec<_> = rated.into_iter().filter(|(_, _, at, _)| (since..until).contains(at)).collect();
        if rated.is_empty() {
            continue;
        }
        let context = Rc::new(Context { system: system.unwrap_or_default(), exchanges });
        for (upto, up, at, message_id) in rated {
            counts.rated_answers += 1;
            let key = prompt_key(&context.system, &context.exchanges, upto);
            by_prompt.entry(key).or_default().push(Rated { context: Rc::clone(&context), upto, up, at, message_id });
        }
    }
    let mut out = Vec::new();
    let mut groups: Vec<Vec<Rated>> = by_prompt.into_values().collect();
    // Deterministic: by each prompt's newest judgement, then its answers' ids.
    for g in &mut groups {
        g.sort_by(|x, y| y.at.cmp(&x.at).then_with(|| x.message_id.cmp(&y.message_id)));
    }
    groups.sort_by(|x, y| y[0].at.cmp(&x[0].at).then_with(|| x[0].message_id.cmp(&y[0].message_id)));
    for group in groups {
        let (ups, downs): (Vec<&Rated>, Vec<&Rated>) = group.iter().partition(|r| r.up);
        if ups.is_empty() || downs.is_empty() {
            continue;
        }
        counts.prompts_up_and_down += 1;
        let mut made = 0;
        'pairs: for up in &ups {
            for down in &downs {
                if made == MAX_PAIRS_PER_PROMPT {
                    break 'pairs;
                }
                let chosen = &up.context.exchanges[up.upto].1;
                let rejected = &down.context.exchanges[down.upto].1;
                if chosen.trim() == rejected.trim() {
                    continue;
                }
                made += 1;
                out.push(Candidate {
                    kind: JudgementKind::Thumbs,
                    context: Rc::clone(&up.context),
                    upto: up.upto,
                    chosen: chosen.clone(),
                    rejected: rejected.clone(),
                    at: up.at.max(down.at),
                    refs: vec![up.message_id.clone(), down.message_id.clone()],
                });
            }
        }
    }
    counts.candidates_from_thumbs = out.len() as u64;
    Ok(out)
}

/// What building the pairs gave: the counts and each written pair's judgements.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub counts: Counts,
    pub judgements: Vec<Judgement>,
}

/// Builds the pairs from the votes and thumbs, filters and curates them, and feeds each one to
/// `sink` (one JSON object, written as a JSONL line). Everything is read in one read transaction.
pub(super) fn run(
    conn: &Connection,
    filter: &DataFilter,
    curation: &Curation,
    sink: &mut (dyn Sink + Send),
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Built> {
    check_filter(filter)?;
    curation.validate()?;
    let since = filter.since.unwrap_or(i64::MIN);
    let until = filter.until.unwrap_or(i64::MAX);
    let _read = if conn.is_autocommit() { Some(conn.unchecked_transaction()?) } else { None };
    let mut pairs = PairCounts::default();
    let mut candidates = vote_candidates(conn, since, until, &mut pairs)?;
    candidates.extend(thumbs_candidates(conn, since, until, &mut pairs)?);
    // Newest judgements first (the limit keeps the newest); ties by kind, then the first id.
    candidates.sort_by(|x, y| {
        y.at.cmp(&x.at).then_with(|| x.kind.as_str().cmp(y.kind.as_str())).then_with(|| x.refs.cmp(&y.refs))
    });

    let total = candidates.len() as u64;
    let mut counts = Counts {
        conversations: pairs.votes + pairs.rated_answers,
        examples: total,
        chars_min: u64::MAX,
        ..Counts::default()
    };
    let scrubber = curation.scrub_pii.then(Scrubber::new);
    let mut dedupe = curation.dedupe.then(Deduper::new);
    let mut judgements = Vec::new();
    let mut chars_sum = 0u64;
    let mut buf = Vec::with_capacity(4096);
    for (n, c) in candidates.iter().enumerate() {
        if n % 256 == 0 {
            progress(n as u64, total);
        }
        let length_ok = |text: &str| {
            let chars = text.chars().count();
            filter.min_message_length.is_none_or(|min| chars >= min) && filter.max_message_length.is_none_or(|max| chars <= max)
        };
        if !c.texts().all(length_ok) || filter.min_turns.is_some_and(|min| c.upto + 1 < min) {
            pairs.filtered += 1;
            continue;
        }
        counts.passed_filter += 1;
        let clean = |text: &str, pii: &mut curate::PiiCounts| -> String {
            match &scrubber {
                Some(s) => s.scrub(text, pii).into_owned(),
                None => text.to_owned(),
            }
        };
        let mut pii = curate::PiiCounts::default();
        let system = clean(&c.context.system, &mut pii);
        let history: Vec<(String, String)> =
            c.context.exchanges[..c.upto].iter().map(|(u, a)| (clean(u, &mut pii), clean(a, &mut pii))).collect();
        let question = clean(c.question(), &mut pii);
        let chosen = clean(&c.chosen, &mut pii);
        let rejected = clean(&c.rejected, &mut pii);
        if let Some(d) = dedupe.as_mut() {
            let mut texts: Vec<&str> = vec![&system];
            for (u, a) in &history {
                texts.push(u);
                texts.push(a);
            }
            texts.extend([question.as_str(), "chosen", chosen.as_str(), "rejected", rejected.as_str()]);
            match d.check(&texts) {
                Seen::New => {}
                Seen::Exact => {
                    counts.exact_duplicates += 1;
                    continue;
                }
                Seen::Near => {
                    counts.near_duplicates += 1;
                    continue;
                }
            }
        }
        if filter.limit.is_some_and(|l| counts.written >= l as u64) {
            counts.limited = true;
            break;
        }
        counts.pii.add(&pii);
        // The split is drawn per prompt, from the text as stored.
        let key = crate::hex(&prompt_key(&c.context.system, &c.context.exchanges, c.upto).to_le_bytes());
        let validation = curate::is_validation(curation.seed, &key, curation.validation_ratio);
        buf.clear();
        write_pair(&mut buf, &system, &history, &question, &chosen, &rejected, c.kind)?;
        sink.write(&buf, validation)?;
        counts.written += 1;
        if validation {
            counts.validation += 1;
        } else {
            counts.train += 1;
        }
        match c.kind {
            JudgementKind::Vote => pairs.from_votes += 1,
            JudgementKind::Thumbs => pairs.from_thumbs += 1,
        }
        let chars = [system.as_str(), question.as_str(), chosen.as_str(), rejected.as_str()]
            .into_iter()
            .chain(history.iter().flat_map(|(u, a)| [u.as_str(), a.as_str()]))
            .map(|t| t.chars().count() as u64)
            .sum::<u64>();
        chars_sum += chars;
        counts.chars_min = counts.chars_min.min(chars);
        counts.chars_max = counts.chars_max.max(chars);
        judgements.extend(c.refs.iter().map(|id| Judgement { kind: c.kind, id: id.clone(), validation }));
    }
    progress(total, total);
    if counts.written == 0 {
        counts.chars_min = 0;
    } else {
        counts.chars_mean = chars_sum as f64 / counts.written as f64;
    }
    counts.pairs = Some(pairs);
    Ok(Built { counts, judgements })
}

/// `{"messages":[…, user],"chosen":{assistant},"rejected":{assistant},"source":"vote"|"thumbs"}`.
fn write_pair(
    out: &mut Vec<u8>,
    system: &str,
    history: &[(String, String)],
    question: &str,
    chosen: &str,
    rejected: &str,
    kind: JudgementKind,
) -> Result<()> {
    let message = |role: &str, content: &str| json!({"role": role, "content": content});
    let mut messages = Vec::with_capacity(2 * history.len() + 2);
    if !system.is_empty() {
        messages.push(message("system", system));
    }
    for (u, a) in history {
        messages.push(message("user", u));
        messages.push(message("assistant", a));
    }
    messages.push(message("user", question));
    let pair = json!({
        "messages": messages,
        "chosen": message("assistant", chosen),
        "rejected": message("assistant", rejected),
        "source": kind.as_str(),
    });
    serde_json::to_writer(&mut *out, &pair).map_err(|e| Error::Task(e.to_string()))
}

/// The message when no pair passes: what there was and what to do.
fn nothing_to_write(counts: &Counts) -> Error {
    let p = counts.pairs.clone().unwrap_or_default();
    let mut what = vec![format!("{} side-by-side votes ({} ties, {} both bad)", p.votes, p.ties, p.both_bad)];
    what.push(format!(
        "{} rated answers ({} prompts with an answer rated up and another rated down)",
        p.rated_answers, p.prompts_up_and_down
    ));
    if p.filtered > 0 {
        what.push(format!("{} pairs left out by the filter", p.filtered));
    }
    if counts.exact_duplicates + counts.near_duplicates > 0 {
        what.push(format!("{} duplicates", counts.exact_duplicates + counts.near_duplicates));
    }
    Error::invalid(
        "pairs",
        format!(
            "no preference pair to export from {}: vote for the better answer in Compare (ties and \"both bad\" teach \
             nothing), or rate two answers to the same question one up and one down",
            what.join(", ")
        ),
    )
}

/// Exports the pairs (see [`super::export`], which hands `pairs` requests here): the files, the
/// dataset_info.json entries (`ranking: true`), the `.meta.json` sidecar, the dataset row and its
/// judgements, committed together.
pub(super) fn export(
    conn: &mut Connection,
    data_dir: &Path,
    request: &ExportRequest,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Dataset> {
    let target = Target::plan(data_dir, request, "pairs")?;
    let mut sink = target.sink(request)?;
    let Built { counts, judgements } = run(conn, &request.filter, &request.curation, &mut sink, progress)?;
    if counts.written == 0 {
        return Err(nothing_to_write(&counts));
    }
    let extra = json!({ "judgements": judgements.len() });
    target.finish(conn, request, sink, counts, extra, |tx, dataset| record_judgements(tx, &dataset.id, &judgements))
}

/// Records which votes and rated answers a dataset's pairs came from.
fn record_judgements(conn: &Connection, dataset_id: &str, judgements: &[Judgement]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO dataset_judgements (dataset_id, kind, ref_id, split) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for j in judgements {
        stmt.execute(params![dataset_id, j.kind.as_str(), j.id, if j.validation { "validation" } else { "train" }])?;
    }
    Ok(())
}

/// The judgements a dataset's pairs came from (votes first, then rated answers).
pub fn judgements(conn: &Connection, dataset_id: &str) -> Result<Vec<Judgement>> {
    let mut stmt = conn.prepare(
        "SELECT kind, ref_id, split FROM dataset_judgements WHERE dataset_id = ?1 ORDER BY kind DESC, ref_id",
    )?;
    let rows = stmt
        .query_map([dataset_id], |r| {
            let kind: String = r.get(0)?;
            let split: String = r.get(2)?;
            Ok(Judgement {
                kind: if kind == "vote" { JudgementKind::Vote } else { JudgementKind::Thumbs },
                id: r.get(1)?,
                validation: split == "validation",
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Votes and rated answers not yet in any pairs dataset (what a new preference cycle would add).
pub fn unused_judgements(conn: &Connection) -> Result<(u64, u64)> {
    let votes: i64 = conn.query_row(
        "SELECT COUNT(*) FROM votes v WHERE v.winner IN ('a', 'b')
            AND NOT EXISTS (SELECT 1 FROM dataset_judgements j WHERE j.kind = 'vote' AND j.ref_id = v.id)",
        [],
        |r| r.get(0),
    )?;
    let thumbs: i64 = conn.query_row(
        "SELECT COUNT(*) FROM feedback f WHERE f.thumbs IS NOT NULL AND f.message_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM dataset_judgements j WHERE j.kind = 'thumbs' AND j.ref_id = f.message_id)",
        [],
        |r| r.get(0),
    )?;
    Ok((votes as u64, thumbs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::{store, NewConversation, NewMessage, Role};
    use crate::db::Db;
    use crate::infer::{self, NewEndpoint};

    const DAY: i64 = 86_400_000;

    fn no_curation() -> Curation {
        Curation { dedupe: false, scrub_pii: false, validation_ratio: 0.0, seed: 1 }
    }

    fn studio_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        (dir, db)
    }

    /// Two models to compare, and their ids.
    fn endpoints(db: &Db) -> (String, String) {
        db.with_conn(|c| {
            let add = |c: &mut Connection, name: &str| {
                infer::add_endpoint(
                    c,
                    NewEndpoint { name: name.into(), kind: "openai".into(), url: "http://127.0.0.1:9".into(), model: format!("{name}:1"), adapter_id: None },
                )
                .map(|e| e.id)
            };
            Ok((add(c, "base")?, add(c, "eden")?))
        })
        .unwrap()
    }

    /// A comparison with both answers in, voted `winner` (or not voted) at `at`.
    #[allow(clippy::too_many_arguments)]
    fn vote(db: &Db, ends: &(String, String), id: &str, prompt: &str, a: &str, b: &str, winner: Option<&str>, at: i64) {
        let (ea, eb) = ends.clone();
        let (id, prompt, a, b, winner) = (id.to_owned(), prompt.to_owned(), a.to_owned(), b.to_owned(), winner.map(str::to_owned));
        db.with_conn(move |c| {
            c.execute(
                "INSERT INTO votes (id, prompt, endpoint_a, endpoint_b, answer_a, answer_b, left_arm, blind, winner, created_at, voted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'b', 1, ?7, ?8, ?9)",
                params![id, prompt, ea, eb, a, b, winner, at - 1000, winner.as_ref().map(|_| at)],
            )?;
            Ok(())
        })
        .unwrap();
    }

    fn msg(role: Role, content: &str, thumbs: Option<i8>, at: i64) -> NewMessage {
        NewMessage { role, content: content.into(), created_at: at, model: None, thumbs }
    }

    /// A conversation: an optional system prompt, then (question, answer, thumbs) exchanges.
    fn conversation(db: &Db, r: &str, system: Option<&str>, turns: &[(&str, &str, Option<i8>)], at: i64) {
        let mut messages: Vec<NewMessage> = system.map(|s| msg(Role::System, s, None, at)).into_iter().collect();
        for (u, a, t) in turns {
            messages.push(msg(Role::User, u, None, at));
            messages.push(msg(Role::Assistant, a, *t, at));
        }
        let c = NewConversation { source_ref: r.into(), title: r.into(), created_at: at, messages, satisfaction: None };
        db.with_conn(move |conn| {
            let tx = conn.transaction()?;
            store(&tx, "test", None, vec![c])?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    }

    fn pairs_of(db: &Db, filter: &DataFilter, curation: &Curation) -> (Counts, Vec<Value>) {
        let p = db.with_conn(|c| preview(c, Format::Pairs, filter, curation, 1000)).unwrap();
        let pairs = p.samples.iter().map(|s| serde_json::from_str(s).unwrap()).collect();
        (p.counts, pairs)
    }

    fn find<'a>(pairs: &'a [Value], question: &str) -> Vec<&'a Value> {
        pairs.iter().filter(|p| p["messages"].as_array().unwrap().last().unwrap()["content"] == question).collect()
    }

    #[test]
    fn a_vote_chooses_the_winner_over_the_loser_and_ties_teach_nothing() {
        let (_dir, db) = studio_db();
        let ends = endpoints(&db);
        vote(&db, &ends, "v-a", "Name a colour.", "Blue, like the sky.", "Seven.", Some("a"), 5 * DAY);
        vote(&db, &ends, "v-b", "Say hello politely.", "hey", "Hello, and welcome!", Some("b"), 6 * DAY);
        vote(&db, &ends, "v-tie", "Pick a fruit.", "Apple.", "Pear.", Some("tie"), 7 * DAY);
        vote(&db, &ends, "v-bad", "Add two and two.", "Five.", "Three.", Some("both_bad"), 8 * DAY);
        vote(&db, &ends, "v-same", "Spell cat.", "C-A-T", " C-A-T ", Some("a"), 9 * DAY);
        vote(&db, &ends, "v-open", "Not voted yet.", "One.", "Two.", None, 10 * DAY);

        let (counts, pairs) = pairs_of(&db, &DataFilter::default(), &no_curation());
        assert_eq!(pairs.len(), 2, "{pairs:#?}");
        let p = counts.pairs.clone().unwrap();
        assert_eq!((p.votes, p.ties, p.both_bad, p.same_answers), (5, 1, 1, 1), "the open comparison is no vote: {p:?}");
        assert_eq!((p.candidates_from_votes, p.from_votes, p.from_thumbs), (2, 2, 0));
        assert_eq!(counts.written, 2);

        // Newest judgement first: v-b, then v-a.
        let b = &pairs[0];
        assert_eq!(b["messages"], json!([{"role": "user", "content": "Say hello politely."}]), "the shared history ends on the user turn");
        assert_eq!(b["chosen"], json!({"role": "assistant", "content": "Hello, and welcome!"}));
        assert_eq!(b["rejected"], json!({"role": "assistant", "content": "hey"}));
        assert_eq!(b["source"], "vote");
        let a = &pairs[1];
        assert_eq!(a["chosen"]["content"], "Blue, like the sky.");
        assert_eq!(a["rejected"]["content"], "Seven.");
        for q in ["Pick a fruit.", "Add two and two.", "Spell cat.", "Not voted yet."] {
            assert!(find(&pairs, q).is_empty(), "{q} gives no pair");
        }
    }

    #[test]
    fn a_vote_cast_through_compare_becomes_a_pair() {
        let (_dir, db) = studio_db();
        let ends = endpoints(&db);
        vote(&db, &ends, "v", "Which is better?", "This one.", "That one.", None, DAY);
        db.with_conn(|c| crate::compare::vote(c, "v", crate::compare::Winner::B)).unwrap();
        let (_, pairs) = pairs_of(&db, &DataFilter::default(), &no_curation());
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0]["chosen"]["content"].as_str(), pairs[0]["rejected"]["content"].as_str()), (Some("That one."), Some("This one.")));
    }

    #[test]
    fn answers_to_the_same_prompt_rated_up_and_down_make_pairs() {
        let (_dir, db) = studio_db();
        // The same question asked twice (two models, or asked again), one answer up, one down.
        conversation(&db, "q1-good", Some("You are kind."), &[("How do I boil an egg?", "Simmer it nine minutes.", Some(1))], DAY);
        conversation(&db, "q1-bad", Some("You are kind."), &[("How do I boil an egg?", "Microwave it whole.", Some(-1))], 2 * DAY);
        // The same question with another system prompt is another prompt: no pair with the above.
        conversation(&db, "q1-other-system", Some("You are terse."), &[("How do I boil an egg?", "Boil it.", Some(-1))], 3 * DAY);
        // Multi-turn: the same history before the rated answers.
        let hello = ("Hi there, can you help?", "Of course, what do you need?", None);
        conversation(&db, "trip-good", None, &[hello, ("Plan a trip to Jeju.", "Day 1: Seongsan; day 2: Hallasan.", Some(1))], 4 * DAY);
        conversation(&db, "trip-bad", None, &[hello, ("Plan a trip to Jeju.", "Go somewhere else.", Some(-1))], 5 * DAY);
        // A different history before the same question: another prompt.
        conversation(&db, "trip-other", None, &[("Hello!", "Hi!", None), ("Plan a trip to Jeju.", "Stay home.", Some(-1))], 6 * DAY);
        // Only ups for this one: nothing to prefer.
        conversation(&db, "only-up-1", None, &[("Is snow white?", "Usually.", Some(1))], 7 * DAY);
        conversation(&db, "only-up-2", None, &[("Is snow white?", "Mostly, yes.", Some(1))], 8 * DAY);
        // Rated up and down but the same text: no preference.
        conversation(&db, "same-1", None, &[("Say yes.", "Yes.", Some(1))], 9 * DAY);
        conversation(&db, "same-2", None, &[("Say yes.", "Yes.", Some(-1))], 10 * DAY);

        let (counts, pairs) = pairs_of(&db, &DataFilter::default(), &no_curation());
        let p = counts.pairs.unwrap();
        assert_eq!(p.rated_answers, 10);
        assert_eq!(p.prompts_up_and_down, 3, "egg, trip and yes: {p:?}");
        assert_eq!((p.from_thumbs, p.from_votes, p.votes), (2, 0, 0), "{pairs:#?}");

        let egg = find(&pairs, "How do I boil an egg?");
        assert_eq!(egg.len(), 1);
        assert_eq!(
            egg[0]["messages"],
            json!([{"role": "system", "content": "You are kind."}, {"role": "user", "content": "How do I boil an egg?"}])
        );
        assert_eq!(egg[0]["chosen"], json!({"role": "assistant", "content": "Simmer it nine minutes."}));
        assert_eq!(egg[0]["rejected"], json!({"role": "assistant", "content": "Microwave it whole."}));
        assert_eq!(egg[0]["source"], "thumbs");

        let trip = find(&pairs, "Plan a trip to Jeju.");
        assert_eq!(trip.len(), 1, "the answer after another history is not paired");
        assert_eq!(
            trip[0]["messages"],
            json!([
                {"role": "user", "content": "Hi there, can you help?"},
                {"role": "assistant", "content": "Of course, what do you need?"},
                {"role": "user", "content": "Plan a trip to Jeju."}
            ])
        );
        assert_eq!(trip[0]["chosen"]["content"], "Day 1: Seongsan; day 2: Hallasan.");
        assert_eq!(trip[0]["rejected"]["content"], "Go somewhere else.");
        assert!(find(&pairs, "Is snow white?").is_empty() && find(&pairs, "Say yes.").is_empty());
        // Every pair is in LLaMA-Factory's ranking shape: a conversation ending on a user turn.
        for pair in &pairs {
            let messages = pair["messages"].as_array().unwrap();
            assert_eq!(messages.last().unwrap()["role"], "user");
            assert_eq!((pair["chosen"]["role"].as_str(), pair["rejected"]["role"].as_str()), (Some("assistant"), Some("assistant")));
        }
    }

    #[test]
    fn the_filter_dedupe_scrub_and_limit_apply_to_pairs() {
        let (_dir, db) = studio_db();
        let ends = endpoints(&db);
        vote(&db, &ends, "pii", "Mail me at jane.doe@example.com please", "Sure, I will write to jane.doe@example.com.", "No.", Some("a"), 10 * DAY);
        vote(&db, &ends, "dup-1", "Write a haiku about rain.", "Soft rain on the roof.", "Rain is wet.", Some("a"), 9 * DAY);
        vote(&db, &ends, "dup-2", "Write a haiku about rain.", "Soft rain on the roof.", "Rain is wet.", Some("a"), 8 * DAY);
        vote(&db, &ends, "near", "write a haiku about rain", "soft rain on the roof", "rain is wet", Some("a"), 7 * DAY);
        vote(&db, &ends, "short", "Hi", "Hello there, friend!", "Yo.", Some("a"), 6 * DAY);
        vote(&db, &ends, "old", "What is the capital of France?", "Paris.", "Lyon.", Some("a"), DAY);

        let curation = Curation { validation_ratio: 0.0, ..Curation::default() };
        let (counts, pairs) = pairs_of(&db, &DataFilter::default(), &curation);
        assert_eq!((counts.exact_duplicates, counts.near_duplicates), (1, 1), "{counts:?}");
        assert_eq!(counts.written, 4);
        let pii = &pairs[0];
        assert_eq!(pii["messages"][0]["content"], "Mail me at [EMAIL] please");
        assert_eq!(pii["chosen"]["content"], "Sure, I will write to [EMAIL].");
        assert_eq!(counts.pii.email, 2);

        // Length: every text of the pair (prompt, chosen, rejected).
        let (counts, pairs) = pairs_of(&db, &DataFilter { min_message_length: Some(4), ..Default::default() }, &no_curation());
        assert!(find(&pairs, "Hi").is_empty());
        assert!(find(&pairs, "Mail me at jane.doe@example.com please").is_empty(), "its rejected answer \"No.\" is too short");
        assert_eq!(counts.pairs.as_ref().unwrap().filtered, 2);
        // Dates: the vote's time.
        let (_, pairs) = pairs_of(&db, &DataFilter { until: Some(2 * DAY), ..Default::default() }, &no_curation());
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0]["chosen"]["content"], "Paris.");
        // The limit keeps the newest.
        let (counts, pairs) = pairs_of(&db, &DataFilter { limit: Some(2), ..Default::default() }, &no_curation());
        assert_eq!(pairs.len(), 2);
        assert!(counts.limited);
        assert_eq!(pairs[0]["chosen"]["content"], "Sure, I will write to jane.doe@example.com.", "PII kept when not scrubbing");
        // min_turns counts the prompt's exchanges: every vote is one.
        let (_, pairs) = pairs_of(&db, &DataFilter { min_turns: Some(2), ..Default::default() }, &no_curation());
        assert!(pairs.is_empty());

        // The satisfaction filters do not apply to pairs, and say so.
        for (filter, field) in [
            (DataFilter { min_satisfaction: Some(0.5), ..Default::default() }, "min_satisfaction"),
            (DataFilter { positive_only: true, ..Default::default() }, "positive_only"),
            (DataFilter { exclude_negative: true, ..Default::default() }, "exclude_negative"),
        ] {
            let err = db.with_conn(|c| preview(c, Format::Pairs, &filter, &no_curation(), 0)).unwrap_err();
            assert!(matches!(&err, Error::Invalid { field: f, .. } if f == field), "{err}");
        }
    }

    #[test]
    fn the_validation_split_keeps_each_prompt_on_one_side() {
        let (_dir, db) = studio_db();
        let ends = endpoints(&db);
        let mut n = 0;
        for q in 0..20 {
            for k in 0..3 {
                n += 1;
                vote(&db, &ends, &format!("v{q}-{k}"), &format!("Question number {q}?"), &format!("A good answer {k} to {q}."), &format!("A bad answer {k}."), Some("a"), n * 1000);
            }
        }
        let mut sink = Collect(Vec::new());
        let curation = Curation { validation_ratio: 0.3, ..Curation::default() };
        let built = db.with_conn(|c| run(c, &DataFilter::default(), &curation, &mut sink, &mut |_, _| {})).unwrap();
        assert_eq!(built.counts.written, 60);
        assert!(built.counts.validation > 0 && built.counts.train > 0, "{:?}", built.counts);
        assert_eq!(built.counts.validation + built.counts.train, 60);
        let mut side: HashMap<String, bool> = HashMap::new();
        for (text, validation) in &sink.0 {
            let v: Value = serde_json::from_str(text).unwrap();
            let q = v["messages"][0]["content"].as_str().unwrap().to_owned();
            assert_eq!(*side.entry(q.clone()).or_insert(*validation), *validation, "{q} is on both sides");
        }
        assert_eq!(built.judgements.len(), 60);
        assert_eq!(built.judgements.iter().filter(|j| j.validation).count() as u64, built.counts.validation);
    }

    struct Collect(Vec<(String, bool)>);

    impl Sink for Collect {
        fn write(&mut self, bytes: &[u8], validation: bool) -> Result<()> {
            self.0.push((String::from_utf8(bytes.to_vec()).unwrap(), validation));
            Ok(())
        }
    }

    #[test]
    fn an_export_writes_both_splits_with_ranking_entries_and_records_its_judgements() {
        let (dir, db) = studio_db();
        let ends = endpoints(&db);
        for i in 0..12 {
            vote(&db, &ends, &format!("v{i}"), &format!("Prompt {i}: tell me something."), &format!("Something true about {i}."), &format!("Nothing {i}."), Some(if i % 2 == 0 { "a" } else { "b" }), (i + 1) * DAY);
        }
        vote(&db, &ends, "tie", "A tie.", "x", "y", Some("tie"), 20 * DAY);
        conversation(&db, "up", None, &[("Ask once more?", "The better answer.", Some(1))], 21 * DAY);
        conversation(&db, "down", None, &[("Ask once more?", "The worse answer.", Some(-1))], 22 * DAY);
        conversation(&db, "lonely", None, &[("Unpaired?", "Rated alone.", Some(1))], 23 * DAY);
        assert_eq!(db.with_conn(|c| unused_judgements(c)).unwrap(), (12, 3));

        let request = ExportRequest {
            name: Some("prefs".into()),
            format: Format::Pairs,
            filter: DataFilter::default(),
            curation: Curation { validation_ratio: 0.3, seed: 3, ..Curation::default() },
            output: None,
        };
        let ds = db.with_conn(|c| export(c, dir.path(), &request, &mut |_, _| {})).unwrap();
        assert_eq!((ds.format, ds.name.as_str(), ds.examples), (Format::Pairs, "prefs", 13));
        let p = ds.counts.pairs.clone().unwrap();
        assert_eq!((p.from_votes, p.from_thumbs, p.ties), (12, 1, 1), "the metadata counts pairs by source");
        let read = |path: &str| -> Vec<Value> {
            std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
        };
        let train = read(&ds.path);
        let val = read(ds.validation_path.as_deref().expect("a validation split"));
        assert_eq!((train.len() as u64, val.len() as u64), (ds.examples - ds.validation, ds.validation));
        assert!(!val.is_empty() && !train.is_empty());

        let info: Value = serde_json::from_str(&std::fs::read_to_string(&ds.dataset_info).unwrap()).unwrap();
        let folder = Path::new(&ds.path).parent().unwrap();
        for (key, file) in [("prefs", Path::new(&ds.path)), ("prefs_val", Path::new(ds.validation_path.as_deref().unwrap()))] {
            let entry = &info[key];
            assert_eq!(entry["ranking"], true, "{key}");
            assert_eq!(entry["formatting"], "sharegpt");
            assert_eq!(entry["file_name"], file.file_name().unwrap().to_str().unwrap());
            assert_eq!(entry["columns"], json!({"messages": "messages", "chosen": "chosen", "rejected": "rejected"}));
            assert_eq!(entry["tags"]["assistant_tag"], "assistant");
            assert_eq!(file.parent().unwrap(), folder);
        }
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(folder.join("prefs.meta.json")).unwrap()).unwrap();
        assert_eq!(meta["dataset"]["counts"]["pairs"]["from_votes"], 12);
        assert_eq!(meta["judgements"], 14);

        // The lineage: every vote that gave a pair, and both rated answers of the thumbs pair.
        let judgements = db.with_conn(|c| judgements(c, &ds.id)).unwrap();
        assert_eq!(judgements.len(), 14);
        assert_eq!(judgements.iter().filter(|j| j.kind == JudgementKind::Vote).count(), 12);
        assert!(!judgements.iter().any(|j| j.id == "tie"));
        assert_eq!(judgements.iter().filter(|j| j.validation).count() as u64, val.iter().map(|p| if p["source"] == "vote" { 1 } else { 2 }).sum::<u64>());
        let thumbs: Vec<String> = judgements.iter().filter(|j| j.kind == JudgementKind::Thumbs).map(|j| j.id.clone()).collect();
        let contents: Vec<String> = db
            .with_conn(|c| {
                let mut out = Vec::new();
                for id in &thumbs {
                    out.push(c.query_row("SELECT content FROM messages WHERE id = ?1", [id], |r| r.get(0))?);
                }
                Ok(out)
            })
            .unwrap();
        let mut contents = contents;
        contents.sort();
        assert_eq!(contents, ["The better answer.", "The worse answer."]);
        // What a next cycle would add: the tie (no pair) is not counted, the lonely thumb is.
        assert_eq!(db.with_conn(|c| unused_judgements(c)).unwrap(), (0, 1));
        assert_eq!(db.with_conn(|c| get(c, &ds.id)).unwrap(), ds);
    }

    #[test]
    fn no_pair_is_a_clear_error_and_writes_nothing() {
        let (dir, db) = studio_db();
        let ends = endpoints(&db);
        vote(&db, &ends, "tie", "Pick a fruit.", "Apple.", "Pear.", Some("tie"), DAY);
        vote(&db, &ends, "bad", "Add two and two.", "Five.", "Three.", Some("both_bad"), 2 * DAY);
        conversation(&db, "up", None, &[("Is snow white?", "Usually.", Some(1))], 3 * DAY);
        let out = dir.path().join("out");
        let request = ExportRequest {
            name: Some("nothing".into()),
            format: Format::Pairs,
            filter: DataFilter::default(),
            curation: Curation::default(),
            output: Some(out.join("nothing.jsonl")),
        };
        let err = db.with_conn(|c| export(c, dir.path(), &request, &mut |_, _| {})).unwrap_err();
        assert!(matches!(&err, Error::Invalid { field, .. } if field == "pairs"), "{err}");
        let text = err.to_string();
        assert!(text.contains("2 side-by-side votes (1 ties, 1 both bad)"), "{text}");
        assert!(text.contains("1 rated answers (0 prompts with an answer rated up and another rated down)"), "{text}");
        assert!(text.contains("vote for the better answer in Compare") && text.contains("one up and one down"), "{text}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "no half-written or temporary file");
        assert!(db.with_conn(|c| list(c)).unwrap().is_empty());
        let recorded: i64 = db.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM dataset_judgements", [], |r| r.get(0))?)).unwrap();
        assert_eq!(recorded, 0);
    }
}
