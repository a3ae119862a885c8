//! A/B experiments between two models (usually two adapter versions): sticky assignment of each
//! chat conversation to an arm by a stable hash, the evidence per arm, the statistics, a verdict,
//! and promotion of the winner only when the evidence says so.
//!
//! The subject is the chat conversation: garden-eden has one person at its keyboard, so the unit
//! that can be randomised is the conversation (the "session"), and a conversation stays with the
//! arm it started in.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::infer::{self, Endpoint};
use crate::compare::stored;
use crate::stats;

/// Experiments, their reports and the page: wire types (`garden_types::chat`).
pub use garden_types::chat::{AdapterEvidence, Arm, ArmReport, Experiment, ExperimentStatus, ExperimentsView, Interval, Judgement, Report, VoteSummary};

/// Significance level of the verdict.
pub const ALPHA: f64 = 0.05;
/// Power used for "how many more conversations".
pub const POWER: f64 = 0.8;

/// A number in [0, 1) from sha256(`salt`:`subject`): the same subject always lands the same way.
pub fn unit_hash(salt: &str, subject: &str) -> f64 {
    crate::draw::unit_interval(&[salt.as_bytes(), b":", subject.as_bytes()])
}

const EXPERIMENT_COLUMNS: &str = "id, name, arm_a, arm_b, split_b, status, winner, verdict, created_at, ended_at";

/// An experiments row, its arms' endpoint ids still to be looked up.
type Row = (String, String, String, String, f64, ExperimentStatus, Option<Arm>, Option<String>, i64, Option<i64>);

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let winner = r.get::<_, Option<String>>(6)?.map(|w| stored(6, &w)).transpose()?;
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, stored(5, &r.get::<_, String>(5)?)?, winner, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn with_arms(conn: &Connection, r: Row) -> Result<Experiment> {
    Ok(Experiment {
        id: r.0,
        name: r.1,
        arm_a: infer::endpoint(conn, &r.2)?,
        arm_b: infer::endpoint(conn, &r.3)?,
        split_b: r.4,
        status: r.5,
        winner: r.6,
        verdict: r.7,
        created_at: r.8,
        ended_at: r.9,
    })
}

/// An experiment by id or name.
pub fn get(conn: &Connection, id: &str) -> Result<Experiment> {
    let row = conn
        .query_row(&format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE id = ?1 OR name = ?1"), [id], read_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "experiment", id: id.into() })?;
    with_arms(conn, row)
}

/// The experiment routing the chat now, if any (one runs at a time).
pub fn running(conn: &Connection) -> Result<Option<Experiment>> {
    let row = conn.query_row(&format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE status = 'running'"), [], read_row).optional()?;
    row.map(|r| with_arms(conn, r)).transpose()
}

pub fn list(conn: &Connection) -> Result<Vec<Experiment>> {
    let mut stmt = conn.prepare("SELECT id FROM experiments ORDER BY created_at DESC, rowid DESC")?;
    let ids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    ids.iter().map(|id| get(conn, id)).collect()
}

/// Starts an experiment between two models (endpoint ids or names). One runs at a time.
pub fn start(conn: &mut Connection, name: &str, arm_a: &str, arm_b: &str, split_b: f64) -> Result<Experiment> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "give the experiment a name"));
    }
    if !(split_b > 0.0 && split_b < 1.0) {
        return Err(Error::invalid("split", format!("{split_b} must be between 0 and 1 (0.5 sends half the conversations to each arm)")));
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let a = infer::endpoint(&tx, arm_a)?;
    let b = infer::endpoint(&tx, arm_b)?;
    if a.id == b.id {
        return Err(Error::invalid("arms", "the two arms must be different models"));
    }
    if let Some(r) = running(&tx)? {
        return Err(Error::invalid("experiment", format!("'{}' is running: stop it first (one experiment routes the chat at a time)", r.name)));
    }
    let id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO experiments (id, name, arm_a, arm_b, split_b, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
        params![id, name, a.id, b.id, split_b, crate::now_ms()],
    )?;
    let e = get(&tx, &id)?;
    tx.commit()?;
    Ok(e)
}

/// The running experiment's arm for `subject` (assigned on first sight, then sticky), or `None`
/// when no experiment runs.
pub fn assign(conn: &Connection, subject: &str) -> Result<Option<(String, Arm)>> {
    let Some(e) = running(conn)? else { return Ok(None) };
    if let Some(arm) = conn
        .query_row("SELECT arm FROM assignments WHERE experiment_id = ?1 AND subject = ?2", params![e.id, subject], |r| stored::<Arm>(0, &r.get::<_, String>(0)?))
        .optional()?
    {
        return Ok(Some((e.id, arm)));
    }
    let arm = if unit_hash(&e.id, subject) < e.split_b { Arm::B } else { Arm::A };
    conn.execute(
        "INSERT INTO assignments (experiment_id, subject, arm, assigned_at) VALUES (?1, ?2, ?3, ?4)",
        params![e.id, subject, arm.as_str(), crate::now_ms()],
    )?;
    Ok(Some((e.id, arm)))
}

pub fn arm_endpoint(conn: &Connection, experiment: &str, arm: Arm) -> Result<Endpoint> {
    Ok(get(conn, experiment)?.endpoint(arm).clone())
}

/// Which conversations are an arm's evidence.
#[derive(Clone, Copy)]
enum Selection<'a> {
    /// Those an experiment assigned to the arm.
    Arm { experiment: &'a str, arm: Arm },
    /// Every conversation a model serving the adapter answered, in or out of experiments.
    Adapter(&'a str),
}

/// The evidence from the selected conversations: per conversation (oldest first) its
/// satisfaction by the documented rule, its thumbs up and its thumbs.
fn evidence(conn: &Connection, selection: Selection<'_>, arm: Arm, endpoint: &str, adapter_id: Option<String>) -> Result<(ArmReport, Vec<f64>)> {
    let per_conversation = format!(
        "SELECT {}, (SELECT COUNT(*) FROM feedback f WHERE f.conversation_id = c.id AND f.thumbs = 1),
                (SELECT COUNT(*) FROM feedback f WHERE f.conversation_id = c.id AND f.thumbs IS NOT NULL)
           FROM conversations c",
        crate::conversations::SCORE_SQL
    );
    let read = |r: &rusqlite::Row<'_>| Ok((r.get::<_, Option<f64>>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?));
    let rows: Vec<(Option<f64>, i64, i64)> = match selection {
        Selection::Arm { experiment, arm } => conn
            .prepare(&format!("{per_conversation} WHERE c.experiment_id = ?1 AND c.arm = ?2 ORDER BY c.created_at, c.rowid"))?
            .query_map(params![experiment, arm.as_str()], read)?
            .collect::<rusqlite::Result<_>>()?,
        Selection::Adapter(adapter) => conn
            .prepare(&format!(
                "{per_conversation} WHERE c.endpoint_id IN (SELECT id FROM endpoints WHERE adapter_id = ?1) ORDER BY c.created_at, c.rowid"
            ))?
            .query_map([adapter], read)?
            .collect::<rusqlite::Result<_>>()?,
    };
    let conversations = rows.len() as u64;
    let scores: Vec<f64> = rows.iter().filter_map(|r| r.0).collect();
    let (up, total) = rows.iter().fold((0i64, 0i64), |(u, t), r| (u + r.1, t + r.2));
    let mut running_mean = Vec::with_capacity(scores.len());
    let mut sum = 0.0;
    for (i, s) in scores.iter().enumerate() {
        sum += s;
        running_mean.push(sum / (i + 1) as f64);
    }
    let (up, total) = (up as u64, total as u64);
    let bounded = stats::bounded_mean_interval(&scores, 0.95, 0.0, 1.0);
    let report = ArmReport {
        arm,
        endpoint: endpoint.into(),
        adapter_id,
        conversations,
        rated: scores.len() as u64,
        mean_satisfaction: (!scores.is_empty()).then(|| sum / scores.len() as f64),
        satisfaction_interval: bounded.map(|(i, _)| i),
        satisfaction_interval_clipped: bounded.is_some_and(|(_, clipped)| clipped),
        thumbs_up: up,
        thumbs_total: total,
        thumbs_up_rate: (total > 0).then(|| up as f64 / total as f64),
        thumbs_interval: stats::wilson_interval(up, total, 0.95),
        running_mean,
    };
    Ok((report, scores))
}

fn arm_evidence(conn: &Connection, e: &Experiment, arm: Arm) -> Result<(ArmReport, Vec<f64>)> {
    let endpoint = e.endpoint(arm);
    evidence(conn, Selection::Arm { experiment: &e.id, arm }, arm, &endpoint.name, endpoint.adapter_id.clone())
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn p_str(p: f64) -> String {
    if p < 0.001 { "p < 0.001".into() } else { format!("p = {p:.3}") }
}

/// The statistics and the verdict for two sides; `names` says how to call them.
pub fn judge(a: &ArmReport, sa: &[f64], b: &ArmReport, sb: &[f64], names: (&str, &str)) -> Judgement {
    let thumbs_test = stats::two_proportion_z_test(a.thumbs_up, a.thumbs_total, b.thumbs_up, b.thumbs_total);
    let satisfaction_test = stats::welch_t_test(sa, sb);
    let name = |arm: Arm| if arm == Arm::A { names.0.to_string() } else { names.1.to_string() };
    // Thumbs first (every rated answer is evidence), then conversation satisfaction.
    let mut better = None;
    let mut verdict = None;
    if let Some(t) = thumbs_test.as_ref().filter(|t| t.p_value < ALPHA) {
        let w = if t.diff > 0.0 { Arm::B } else { Arm::A };
        let (mine, other) = if w == Arm::A { (t.p_a, t.p_b) } else { (t.p_b, t.p_a) };
        verdict = Some(format!("{} is better ({}, thumbs-up {} vs {})", name(w), p_str(t.p_value), pct(mine), pct(other)));
        better = Some(w);
    } else if let Some(t) = satisfaction_test.as_ref().filter(|t| t.p_value < ALPHA) {
        let w = if t.diff > 0.0 { Arm::B } else { Arm::A };
        let (mine, other) = if w == Arm::A { (t.mean_a, t.mean_b) } else { (t.mean_b, t.mean_a) };
        verdict = Some(format!("{} is better ({}, satisfaction {mine:.2} vs {other:.2})", name(w), p_str(t.p_value)));
        better = Some(w);
    }
    let needed_per_arm = match (&thumbs_test, &satisfaction_test) {
        (Some(t), _) if t.p_a != t.p_b => stats::sample_size_proportions(t.p_a, t.p_b, ALPHA, POWER),
        (_, Some(t)) if t.diff != 0.0 => stats::sample_size_means(pooled_sd(sa, sb), t.diff, ALPHA, POWER),
        _ => None,
    };
    let verdict = verdict.unwrap_or_else(|| {
        let have = a.conversations.min(b.conversations);
        if a.thumbs_total + b.thumbs_total == 0 && a.rated + b.rated == 0 {
            "No evidence yet: chat, and rate the answers (thumbs) or the conversations".to_string()
        } else if a.conversations == 0 || b.conversations == 0 {
            format!("No detectable difference yet: {} has no conversations", if a.conversations == 0 { names.0 } else { names.1 })
        } else {
            match needed_per_arm {
                Some(n) => format!(
                    "No detectable difference yet, ~{} more conversations needed ({n} per arm to detect the difference seen so far)",
                    n.saturating_sub(have) * 2
                ),
                None if a.mean_satisfaction.is_some() && b.mean_satisfaction.is_some() && a.mean_satisfaction != b.mean_satisfaction => {
                    "No test possible yet: every rating within each side is the same; rate more conversations".to_string()
                }
                None => "No detectable difference: the two look the same so far".to_string(),
            }
        }
    });
    Judgement {
        prob_b_better_thumbs: stats::prob_b_beats_a_beta(a.thumbs_up, a.thumbs_total, b.thumbs_up, b.thumbs_total),
        prob_b_better_satisfaction: stats::prob_b_beats_a_normal(sa, sb),
        thumbs_test: thumbs_test,
        satisfaction_test: satisfaction_test,
        needed_per_arm,
        better,
        verdict,
    }
}

/// Everything the evidence says, with the verdict line.
pub fn report(conn: &Connection, id: &str) -> Result<Report> {
    let e = get(conn, id)?;
    let (a, sa) = arm_evidence(conn, &e, Arm::A)?;
    let (b, sb) = arm_evidence(conn, &e, Arm::B)?;
    let votes = stats::summarize_votes(&crate::compare::votes_between(conn, &e.arm_a.id, &e.arm_b.id)?);
    let judgement = judge(&a, &sa, &b, &sb, (&format!("A ({})", e.arm_a.name), &format!("B ({})", e.arm_b.name)));
    Ok(Report { experiment: e, a, b, votes, judgement })
}

/// The experiments page: the models to pick arms from, and every experiment with its report,
/// newest first.
pub fn overview(conn: &Connection) -> Result<ExperimentsView> {
    let experiments = list(conn)?.into_iter().map(|e| report(conn, &e.id)).collect::<Result<_>>()?;
    Ok(ExperimentsView { endpoints: infer::endpoints(conn)?, experiments })
}

/// Two adapters compared on all the chat evidence collected for each (every conversation a model
/// serving that adapter answered, in or out of experiments).
pub fn compare_adapters(conn: &Connection, a: &crate::adapters::Adapter, b: &crate::adapters::Adapter) -> Result<AdapterEvidence> {
    let (ea, sa) = evidence(conn, Selection::Adapter(&a.id), Arm::A, &format!("{} {}", a.name, a.version), Some(a.id.clone()))?;
    let (eb, sb) = evidence(conn, Selection::Adapter(&b.id), Arm::B, &format!("{} {}", b.name, b.version), Some(b.id.clone()))?;
    let judgement = judge(&ea, &sa, &eb, &sb, (&ea.endpoint.clone(), &eb.endpoint.clone()));
    Ok(AdapterEvidence { a: ea, b: eb, judgement })
}

fn pooled_sd(a: &[f64], b: &[f64]) -> f64 {
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let n = all.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean = all.iter().sum::<f64>() / n;
    (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Stops the experiment (the chat goes back to the active adapter), keeping its verdict.
pub fn stop(conn: &mut Connection, id: &str) -> Result<Experiment> {
    let r = report(conn, id)?;
    if r.experiment.status != ExperimentStatus::Running {
        return Ok(r.experiment);
    }
    conn.execute(
        "UPDATE experiments SET status = ?4, ended_at = ?2, verdict = ?3 WHERE id = ?1",
        params![r.experiment.id, crate::now_ms(), r.judgement.verdict, ExperimentStatus::Stopped.as_str()],
    )?;
    get(conn, id)
}

/// Declares the winner: only the arm the evidence names (unless `force`), whose adapter is then
/// activated and gets the arm's metrics (avg_satisfaction, total_conversations) in the registry.
/// The experiment is stopped. All in one transaction.
pub fn promote(conn: &mut Connection, id: &str, arm: Option<Arm>, force: bool) -> Result<(Experiment, Option<crate::adapters::Adapter>)> {
    // The report is read inside the transaction that acts on it: a vote or a conversation that
    // lands in between cannot change the evidence after it was judged.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let r = report(&tx, id)?;
    let arm = match (arm, r.judgement.better) {
        (Some(x), _) if force => x,
        (Some(x), Some(b)) if x == b => x,
        (None, Some(b)) => b,
        (Some(x), _) => {
            return Err(Error::invalid("winner", format!("the evidence does not say arm {} is better: {}", x.upper(), r.judgement.verdict)));
        }
        (None, None) => return Err(Error::invalid("winner", format!("no winner yet: {}", r.judgement.verdict))),
    };
    let side = if arm == Arm::A { &r.a } else { &r.b };
    tx.execute(
        "UPDATE experiments SET status = ?5, winner = ?2, ended_at = COALESCE(ended_at, ?3), verdict = ?4 WHERE id = ?1",
        params![r.experiment.id, arm.as_str(), crate::now_ms(), r.judgement.verdict, ExperimentStatus::Stopped.as_str()],
    )?;
    let adapter = match &side.adapter_id {
        Some(aid) => {
            tx.execute(
                "UPDATE adapters SET avg_satisfaction = ?2, total_conversations = ?3, metrics_updated_at = ?4 WHERE id = ?1",
                params![aid, side.mean_satisfaction, side.conversations as i64, crate::now_ms()],
            )?;
            crate::adapters::activate_in(&tx, aid, &format!("won experiment {}: {}", r.experiment.name, r.judgement.verdict))?;
            Some(crate::adapters::get(&tx, aid)?)
        }
        None => None,
    };
    let e = get(&tx, id)?;
    tx.commit()?;
    Ok((e, adapter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_satisfaction_interval_from_few_ratings_is_clipped_and_says_so() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        crate::migrate::apply(&mut c, std::path::Path::new(":memory:")).unwrap();
        let add = |c: &mut Connection, name: &str| {
            let new = infer::NewEndpoint { name: name.into(), kind: "ollama".into(), url: "http://127.0.0.1:9".into(), model: format!("{name}:1"), adapter_id: None };
            infer::add_endpoint(c, new).unwrap().id
        };
        let (a, b) = (add(&mut c, "a"), add(&mut c, "b"));
        let e = start(&mut c, "few", &a, &b, 0.5).unwrap();
        // Arm A: two ratings, 0 and 1 (the t-interval is about [−5.9, 6.9]); arm B: twelve close ones.
        let scores = [("a", vec![0.0, 1.0]), ("b", (0..12).map(|i| 0.8 + if i % 2 == 0 { 0.02 } else { -0.02 }).collect())];
        for (arm, values) in scores {
            for (i, v) in values.into_iter().enumerate() {
                let id = format!("{arm}{i}");
                c.execute(
                    "INSERT INTO conversations (id, title, source, source_ref, created_at, updated_at, experiment_id, arm)
                     VALUES (?1, 't', 'chat', ?1, 0, 0, ?2, ?3)",
                    params![id, e.id, arm],
                )
                .unwrap();
                crate::conversations::set_satisfaction(&mut c, &id, Some(v)).unwrap();
            }
        }
        let r = report(&c, &e.id).unwrap();
        let i = r.a.satisfaction_interval.unwrap();
        assert_eq!((i.low, i.high), (0.0, 1.0));
        assert!(r.a.satisfaction_interval_clipped, "{:?}", r.a);
        let i = r.b.satisfaction_interval.unwrap();
        assert!(i.low > 0.7 && i.high < 0.9, "{i:?}");
        assert!(!r.b.satisfaction_interval_clipped);
    }

    #[test]
    fn the_hash_is_stable_and_splits_evenly() {
        // Pinned: a conversation must stay in its arm across versions (the first 53 bits of
        // sha256("e:s") = 12101e85ce9aeb13…, as a fraction of 2⁵³).
        assert_eq!(unit_hash("e", "s"), 0.07055845991872511);
        let b = (0..10_000).filter(|i| unit_hash("exp", &i.to_string()) < 0.5).count();
        assert!((4_800..5_200).contains(&b), "{b}");
        let b = (0..10_000).filter(|i| unit_hash("exp", &i.to_string()) < 0.2).count();
        assert!((1_850..2_150).contains(&b), "{b}");
    }
}
