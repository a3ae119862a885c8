//! Runs and their metric points in the database.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// The trainer stopped while garden-eden was not watching (crash, reboot): resume it.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> RunStatus {
        match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "succeeded" => RunStatus::Succeeded,
            "cancelled" => RunStatus::Cancelled,
            "interrupted" => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        }
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// A training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub name: String,
    pub dataset_id: Option<String>,
    pub backend: String,
    pub config: serde_json::Value,
    pub yaml: String,
    pub status: RunStatus,
    pub pid: Option<i64>,
    pub output_dir: String,
    pub log_path: String,
    pub error: Option<String>,
    pub exit_code: Option<i64>,
    pub total_steps: Option<i64>,
    pub cancel_requested: bool,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Last training and eval loss recorded.
    pub final_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    /// Where a running run is: finding or downloading its base model, or training.
    pub phase: Option<Phase>,
    /// The base model's phase: where it was found, or how far its download is.
    pub model_progress: Option<ModelProgress>,
}

impl Run {
    /// What registering this run's adapter needs: named after the run, base and dataset from the
    /// run (`adapters::register_run` takes it). Only a succeeded run has an adapter to register.
    pub fn new_adapter(&self) -> Result<crate::adapters::NewAdapter> {
        if self.status != RunStatus::Succeeded {
            return Err(Error::invalid("run", format!("run {} has not succeeded (it is {})", self.name, self.status.as_str())));
        }
        let base = self.config.get("model_name_or_path").and_then(serde_json::Value::as_str).map(String::from);
        let base_path = base.as_deref().map(std::path::PathBuf::from).filter(|p| p.join("config.json").is_file());
        Ok(crate::adapters::NewAdapter {
            name: self.name.clone(),
            version: None,
            description: format!("Trained by run {}", self.name),
            base_model: base,
            base_path,
            path: self.output_dir.clone().into(),
            run_id: Some(self.id.clone()),
            dataset_id: self.dataset_id.clone(),
        })
    }
}

/// The two phases of a running run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The base model is being found, checked or downloaded; no trainer runs yet.
    Model,
    Training,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Model => "model",
            Phase::Training => "training",
        }
    }

    fn parse(s: &str) -> Option<Phase> {
        match s {
            "model" => Some(Phase::Model),
            "training" => Some(Phase::Training),
            _ => None,
        }
    }
}

/// How the base model was resolved, or how far its download is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelProgress {
    /// The Hugging Face id (or the local folder).
    pub repo: String,
    /// `local` (a folder), `cached` (already in the Hugging Face cache), `downloading`,
    /// `downloaded`, `failed`.
    pub state: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub files_done: u64,
    pub files_total: u64,
    /// Bytes a second over the last few seconds.
    pub bytes_per_s: Option<f64>,
    pub eta_s: Option<f64>,
    /// The folder the trainer loads.
    pub path: Option<String>,
    /// One sentence for people (what was found, or why it failed and what to do).
    pub message: Option<String>,
}

/// One point of a run's charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub step: i64,
    pub total_steps: Option<i64>,
    pub epoch: Option<f64>,
    pub loss: Option<f64>,
    pub eval_loss: Option<f64>,
    pub lr: Option<f64>,
    pub percentage: Option<f64>,
    pub elapsed_s: Option<f64>,
    pub remaining_s: Option<f64>,
    pub throughput: Option<f64>,
}

const RUN_COLUMNS: &str = "r.id, r.name, r.dataset_id, r.backend, r.config, r.yaml, r.status, r.pid,
    r.output_dir, r.log_path, r.error, r.exit_code, r.total_steps, r.cancel_requested,
    r.created_at, r.started_at, r.finished_at,
    r.phase, r.model_progress,
    (SELECT loss FROM run_metrics m WHERE m.run_id = r.id AND loss IS NOT NULL ORDER BY step DESC LIMIT 1),
    (SELECT eval_loss FROM run_metrics m WHERE m.run_id = r.id AND eval_loss IS NOT NULL ORDER BY step DESC LIMIT 1)";

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        id: r.get(0)?,
        name: r.get(1)?,
        dataset_id: r.get(2)?,
        backend: r.get(3)?,
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
        final_loss: r.get(19)?,
        final_eval_loss: r.get(20)?,
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
        "SELECT step, total_steps, epoch, loss, eval_loss, lr, percentage, elapsed_s, remaining_s, throughput
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
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(points)
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
        step: v.get("current_steps")?.as_i64()?,
        total_steps: v.get("total_steps").and_then(serde_json::Value::as_i64),
        epoch: f("epoch"),
        loss: f("loss"),
        eval_loss: f("eval_loss"),
        lr: f("lr"),
        percentage: f("percentage"),
        elapsed_s: t("elapsed_time"),
        remaining_s: t("remaining_time"),
        throughput: f("throughput"),
    })
}

/// Stores points: one per step, later values fill in or replace earlier ones.
pub fn upsert_points(conn: &Connection, run_id: &str, points: &[MetricPoint]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO run_metrics (run_id, step, total_steps, epoch, loss, eval_loss, lr, percentage,
                                  elapsed_s, remaining_s, throughput, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
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
            recorded_at = excluded.recorded_at",
    )?;
    let now = crate::now_ms();
    for p in points {
        stmt.execute(params![
            run_id, p.step, p.total_steps, p.epoch, p.loss, p.eval_loss, p.lr, p.percentage,
            p.elapsed_s, p.remaining_s, p.throughput, now
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
