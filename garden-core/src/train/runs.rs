//! Runs and their metric points in the database.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};

pub use garden_types::runs::{FromRun, MetricPoint, ModelProgress, ModelState, Phase, Run, RunSnapshot, RunStatus, RunView};

/// `run.new_adapter()`: named after the run, base and dataset from the run
/// (`adapters::register_run` takes it). Only a succeeded run has an adapter to register.
impl FromRun for crate::adapters::NewAdapter {
    type Error = Error;

    fn from_run(run: &Run) -> Result<Self> {
        if run.status != RunStatus::Succeeded {
            return Err(Error::invalid("run", format!("run {} has not succeeded (it is {})", run.name, run.status.as_str())));
        }
        let base = run.config.get("model_name_or_path").and_then(serde_json::Value::as_str).map(String::from);
        let base_path = base.as_deref().map(std::path::PathBuf::from).filter(|p| p.join("config.json").is_file());
        Ok(crate::adapters::NewAdapter {
            name: run.name.clone(),
            version: None,
            description: format!("Trained by run {}", run.name),
            base_model: base,
            base_path,
            path: run.output_dir.clone().into(),
            run_id: Some(run.id.clone()),
            dataset_id: run.dataset_id.clone(),
            stage: run.stage,
            starts_from: run.config.get("adapter_name_or_path").and_then(serde_json::Value::as_str).map(Into::into),
        })
    }
}

const RUN_COLUMNS: &str = "r.id, r.name, r.dataset_id, r.backend, r.config, r.yaml, r.status, r.pid,
    r.output_dir, r.log_path, r.error, r.exit_code, r.total_steps, r.cancel_requested,
    r.created_at, r.started_at, r.finished_at,
    r.phase, r.model_progress, r.stage,
    (SELECT c.name FROM clusters c WHERE c.id = r.cluster_id), r.job_id,
    (SELECT loss FROM run_metrics m WHERE m.run_id = r.id AND loss IS NOT NULL ORDER BY step DESC LIMIT 1),
    (SELECT eval_loss FROM run_metrics m WHERE m.run_id = r.id AND eval_loss IS NOT NULL ORDER BY step DESC LIMIT 1)";

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        id: r.get(0)?,
        name: r.get(1)?,
        dataset_id: r.get(2)?,
        // Written by the supervisor from `Backend::as_str`.
        backend: r.get::<_, String>(3)?.parse().unwrap_or_default(),
        config: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or(serde_json::Value::Null),
        yaml: r.get(5)?,
        status: RunStatus::parse(&r.get::<_, String>(6)?),
        pid: r.get(7)?,
        output_dir: r.get(8)?,
        log_path: r.get(9)?,
        error: r.get(10)?,
        exit_code: r.get(11)?,
        total_steps: r.get(12)?,
        cancel_requested: r.get::<_, i64>(13)? != 0,
        created_at: r.get(14)?,
        started_at: r.get(15)?,
        finished_at: r.get(16)?,
        phase: r.get::<_, Option<String>>(17)?.as_deref().and_then(Phase::parse),
        model_progress: r.get::<_, Option<String>>(18)?.and_then(|j| serde_json::from_str(&j).ok()),
        stage: crate::compare::stored(19, &r.get::<_, String>(19)?)?,
        cluster: r.get(20)?,
        job_id: r.get(21)?,
        final_loss: r.get(22)?,
        final_eval_loss: r.get(23)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> Result<Run> {
    conn.query_row(&format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?1"), [id], run_from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "run", id: id.to_owned() })
}

/// Records the run's phase and the base model's progress.
pub fn set_model_progress(conn: &Connection, id: &str, phase: Phase, progress: Option<&ModelProgress>) -> Result<()> {
    let json = progress.map(serde_json::to_string).transpose().map_err(|e| Error::Task(e.to_string()))?;
    conn.execute(
        "UPDATE runs SET phase = ?2, model_progress = COALESCE(?3, model_progress) WHERE id = ?1",
        params![id, phase.as_str(), json],
    )?;
    Ok(())
}

/// Every run, newest first.
pub fn list(conn: &Connection) -> Result<Vec<Run>> {
    let mut stmt = conn.prepare(&format!("SELECT {RUN_COLUMNS} FROM runs r ORDER BY r.created_at DESC, r.id"))?;
    let runs = stmt.query_map([], run_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(runs)
}

/// Runs with this status, oldest first.
pub fn with_status(conn: &Connection, status: RunStatus) -> Result<Vec<Run>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {RUN_COLUMNS} FROM runs r WHERE r.status = ?1 ORDER BY r.created_at, r.id"
    ))?;
    let runs = stmt.query_map([status.as_str()], run_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(runs)
}

/// Every point of a run, by step.
pub fn metrics(conn: &Connection, run_id: &str) -> Result<Vec<MetricPoint>> {
    let mut stmt = conn.prepare(
        "SELECT step, total_steps, epoch, loss, eval_loss, lr, percentage, elapsed_s, remaining_s, throughput,
                rewards_chosen, rewards_rejected, rewards_margins, rewards_accuracies,
                eval_rewards_chosen, eval_rewards_rejected, eval_rewards_margins, eval_rewards_accuracies, kl
           FROM run_metrics WHERE run_id = ?1 ORDER BY step",
    )?;
    let points = stmt
        .query_map([run_id], |r| {
            Ok(MetricPoint {
                step: r.get(0)?,
                total_steps: r.get(1)?,
                epoch: r.get(2)?,
                loss: r.get(3)?,
                eval_loss: r.get(4)?,
                lr: r.get(5)?,
                percentage: r.get(6)?,
                elapsed_s: r.get(7)?,
                remaining_s: r.get(8)?,
                throughput: r.get(9)?,
                rewards_chosen: r.get(10)?,
                rewards_rejected: r.get(11)?,
                rewards_margins: r.get(12)?,
                rewards_accuracies: r.get(13)?,
                eval_rewards_chosen: r.get(14)?,
                eval_rewards_rejected: r.get(15)?,
                eval_rewards_margins: r.get(16)?,
                eval_rewards_accuracies: r.get(17)?,
                kl: r.get(18)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(points)
}

/// A run with every point recorded so far (the run's page).
pub fn view(conn: &Connection, id: &str) -> Result<RunView> {
    Ok(RunView { run: get(conn, id)?, points: metrics(conn, id)? })
}

/// A run's whole live state: the first event of its stream.
pub fn snapshot(conn: &Connection, id: &str) -> Result<RunSnapshot> {
    let RunView { run, points } = view(conn, id)?;
    Ok(RunSnapshot::of(run, points))
}

/// Seconds per step of the latest finished run of this base model on this machine, if any: the
/// basis of the time estimate before launch.
pub fn seconds_per_step(conn: &Connection, model: &str) -> Result<Option<f64>> {
    let mut stmt = conn.prepare(
        "SELECT (SELECT m.elapsed_s / m.step FROM run_metrics m
                  WHERE m.run_id = r.id AND m.elapsed_s > 0 AND m.step > 0 ORDER BY m.step DESC LIMIT 1)
           FROM runs r
          WHERE r.status = 'succeeded' AND json_extract(r.config, '$.model_name_or_path') = ?1
          ORDER BY r.finished_at DESC LIMIT 1",
    )?;
    Ok(stmt.query_row([model], |r| r.get::<_, Option<f64>>(0)).optional()?.flatten())
}

/// `"0:01:05"` / `"1 day, 2:03:04"` → seconds.
fn hms(s: &str) -> Option<f64> {
    let (days, rest) = match s.split_once(", ") {
        Some((d, rest)) => (d.split_whitespace().next()?.parse::<f64>().ok()?, rest),
        None => (0.0, s),
    };
    let parts: Vec<f64> = rest.split(':').map(|p| p.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().ok()?;
    let secs = parts.iter().fold(0.0, |acc, p| acc * 60.0 + p);
    Some(days * 86_400.0 + secs)
}

/// Parses one line of LLaMA-Factory's trainer_log.jsonl. Lines without `current_steps` (the
/// final summary) give `None`.
pub fn parse_log_line(line: &str) -> Option<MetricPoint> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let f = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
    let t = |k: &str| v.get(k).and_then(serde_json::Value::as_str).and_then(hms);
    Some(MetricPoint {
        total_steps: v.get("total_steps").and_then(serde_json::Value::as_i64),
        epoch: f("epoch"),
        loss: f("loss"),
        eval_loss: f("eval_loss"),
        lr: f("lr"),
        percentage: f("percentage"),
        elapsed_s: t("elapsed_time"),
        remaining_s: t("remaining_time"),
        throughput: f("throughput"),
        // LLaMA-Factory's own log carries one preference value: DPO's `rewards/accuracies`.
        rewards_accuracies: if v.get("eval_loss").is_some() { None } else { f("accuracy") },
        ..MetricPoint::at_step(v.get("current_steps")?.as_i64()?)
    })
}

/// Stores points: one per step, later values fill in or replace earlier ones.
pub fn upsert_points(conn: &Connection, run_id: &str, points: &[MetricPoint]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO run_metrics (run_id, step, total_steps, epoch, loss, eval_loss, lr, percentage,
                                  elapsed_s, remaining_s, throughput, recorded_at,
                                  rewards_chosen, rewards_rejected, rewards_margins, rewards_accuracies,
                                  eval_rewards_chosen, eval_rewards_rejected, eval_rewards_margins,
                                  eval_rewards_accuracies, kl)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
         ON CONFLICT (run_id, step) DO UPDATE SET
            total_steps = COALESCE(excluded.total_steps, total_steps),
            epoch = COALESCE(excluded.epoch, epoch),
            loss = COALESCE(excluded.loss, loss),
            eval_loss = COALESCE(excluded.eval_loss, eval_loss),
            lr = COALESCE(excluded.lr, lr),
            percentage = COALESCE(excluded.percentage, percentage),
            elapsed_s = COALESCE(excluded.elapsed_s, elapsed_s),
            remaining_s = COALESCE(excluded.remaining_s, remaining_s),
            throughput = COALESCE(excluded.throughput, throughput),
            rewards_chosen = COALESCE(excluded.rewards_chosen, rewards_chosen),
            rewards_rejected = COALESCE(excluded.rewards_rejected, rewards_rejected),
            rewards_margins = COALESCE(excluded.rewards_margins, rewards_margins),
            rewards_accuracies = COALESCE(excluded.rewards_accuracies, rewards_accuracies),
            eval_rewards_chosen = COALESCE(excluded.eval_rewards_chosen, eval_rewards_chosen),
            eval_rewards_rejected = COALESCE(excluded.eval_rewards_rejected, eval_rewards_rejected),
            eval_rewards_margins = COALESCE(excluded.eval_rewards_margins, eval_rewards_margins),
            eval_rewards_accuracies = COALESCE(excluded.eval_rewards_accuracies, eval_rewards_accuracies),
            kl = COALESCE(excluded.kl, kl),
            recorded_at = excluded.recorded_at",
    )?;
    let now = crate::now_ms();
    for p in points {
        stmt.execute(params![
            run_id, p.step, p.total_steps, p.epoch, p.loss, p.eval_loss, p.lr, p.percentage,
            p.elapsed_s, p.remaining_s, p.throughput, now,
            p.rewards_chosen, p.rewards_rejected, p.rewards_margins, p.rewards_accuracies,
            p.eval_rewards_chosen, p.eval_rewards_rejected, p.eval_rewards_margins,
            p.eval_rewards_accuracies, p.kl
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_parse() {
        let p = parse_log_line(r#"{"current_steps": 3, "total_steps": 24, "loss": 7.66, "lr": 0.0005, "epoch": 0.3, "percentage": 12.5, "elapsed_time": "0:01:05", "remaining_time": "1 day, 0:00:10"}"#).unwrap();
        assert_eq!(p.step, 3);
        assert_eq!(p.loss, Some(7.66));
        assert_eq!(p.elapsed_s, Some(65.0));
        assert_eq!(p.remaining_s, Some(86_410.0));
        let e = parse_log_line(r#"{"current_steps": 4, "total_steps": 24, "eval_loss": 7.1, "epoch": 0.4}"#).unwrap();
        assert_eq!((e.loss, e.eval_loss), (None, Some(7.1)));
        assert!(parse_log_line(r#"{"train_runtime": 1.0}"#).is_none());
        assert!(parse_log_line("not json").is_none());
    }
}
