//! The adapter registry: every trained (or brought) LoRA, versioned, with its lineage
//! (conversations → dataset → run → adapter → deployments), its metrics, and exactly one active.
//!
//! Plus what turns an adapter into something an assistant runs: native GGUF conversion and
//! merging (`convert`), the Ollama client and version-aware deployment (`ollama`, `deploy`), and
//! the guide's default Modelfile (`modelfile`).

pub mod convert;
pub mod deploy;
pub mod gguf;
pub mod mlx;
pub mod modelfile;
pub mod ollama;
pub mod peft;
pub mod safetensors;
pub mod synthetic;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Error, Result};
use crate::Studio;

pub use garden_types::adapters::{
    Activation, Adapter, AdapterView, AdaptersOverview, Comparison, DeployStatus, DeployStrategy, Deployment, Lineage,
    LineageDataset, LineageRun, Metrics, NamedActivation,
};
pub use peft::{PeftAdapter, WeightsFormat};

/// What registering needs; `version` and `base_model` are filled in when absent.
#[derive(Debug, Clone, Default)]
pub struct NewAdapter {
    pub name: String,
    pub version: Option<String>,
    pub description: String,
    pub base_model: Option<String>,
    pub base_path: Option<PathBuf>,
    pub path: PathBuf,
    pub run_id: Option<String>,
    pub dataset_id: Option<String>,
    /// What its run taught (`sft` for an adapter brought from elsewhere).
    pub stage: garden_types::prefs::Stage,
    /// The adapter its run started from (a preference stage on top of an SFT adapter): when that
    /// one is registered, it is this one's parent, whatever the names.
    pub starts_from: Option<PathBuf>,
}

impl NewAdapter {
    /// From the register form (or flags): blank optional fields count as absent, the path is
    /// trimmed.
    pub fn from_form(name: String, path: &str, base_model: Option<String>, version: Option<String>, base_path: Option<String>, description: Option<String>) -> NewAdapter {
        use crate::form::given;
        NewAdapter {
            name,
            version: given(version),
            description: description.unwrap_or_default(),
            base_model: given(base_model),
            base_path: given(base_path).map(Into::into),
            path: path.trim().into(),
            ..NewAdapter::default()
        }
    }
}

/// `format` reads `mlx` for mlx-lm's layout (stored as safetensors with `layout = 'mlx'`).
const COLUMNS: &str = "id, name, version, description, base_model, base_path, path, \
    CASE WHEN layout = 'mlx' THEN 'mlx' ELSE format END, rank, alpha, \
    target_modules, checksum, run_id, dataset_id, parent_id, is_active, avg_satisfaction, total_conversations, \
    training_loss, eval_loss, perplexity, metrics_updated_at, created_at, activated_at, stage";

/// A column holding one of a fixed set of strings, read with the type's `parse`.
fn stored<T>(r: &Row<'_>, i: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, format!("unexpected value '{s}'").into())
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Adapter> {
    let targets: String = r.get(10)?;
    Ok(Adapter {
        id: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        description: r.get(3)?,
        base_model: r.get(4)?,
        base_path: r.get(5)?,
        path: r.get(6)?,
        format: stored(r, 7, WeightsFormat::parse)?,
        rank: r.get(8)?,
        alpha: r.get(9)?,
        target_modules: serde_json::from_str(&targets).unwrap_or_default(),
        checksum: r.get(11)?,
        run_id: r.get(12)?,
        dataset_id: r.get(13)?,
        parent_id: r.get(14)?,
        is_active: r.get::<_, i64>(15)? == 1,
        metrics: Metrics {
            avg_satisfaction: r.get(16)?,
            total_conversations: r.get(17)?,
            training_loss: r.get(18)?,
            eval_loss: r.get(19)?,
            perplexity: r.get(20)?,
            updated_at: r.get(21)?,
        },
        created_at: r.get(22)?,
        activated_at: r.get(23)?,
        stage: crate::compare::stored(24, &r.get::<_, String>(24)?)?,
    })
}

/// A version is `MAJOR.MINOR.PATCH` (a leading `v` is accepted and dropped).
pub fn parse_version(v: &str) -> Result<(u64, u64, u64)> {
    let s = v.trim().trim_start_matches('v');
    let parts: Vec<&str> = s.split('.').collect();
    let nums: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
    match nums.as_deref() {
        Some([a, b, c]) => Ok((*a, *b, *c)),
        _ => Err(Error::invalid("version", format!("'{v}' is not MAJOR.MINOR.PATCH (for example 1.0.0)"))),
    }
}

fn normalize_version(v: &str) -> Result<String> {
    let (a, b, c) = parse_version(v)?;
    Ok(format!("{a}.{b}.{c}"))
}

/// The next version for `name`: 1.0.0 for a new name, else the highest with MINOR + 1.
pub fn next_version(conn: &Connection, name: &str) -> Result<String> {
    let mut stmt = conn.prepare("SELECT version FROM adapters WHERE name = ?1")?;
    let versions: Vec<String> = stmt.query_map([name], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(versions
        .iter()
        .filter_map(|v| parse_version(v).ok())
        .max()
        .map_or_else(|| "1.0.0".to_string(), |(a, b, _)| format!("{a}.{}.0", b + 1)))
}

/// Checks the folder (config, weights, LoRA pairs) and registers it in one transaction.
/// Nothing is written when any check fails. A PEFT folder and an mlx-lm folder
/// (`adapters.safetensors`, format `mlx`) are both accepted; for mlx-lm, `alpha` is recorded as
/// `scale × rank`, so `alpha / rank` is its scale, as for PEFT.
pub fn register(conn: &mut Connection, new: NewAdapter) -> Result<Adapter> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.len() > 100 || name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid("name", "give a name of 1 to 100 printable characters"));
    }
    if new.path.as_os_str().is_empty() {
        return Err(Error::invalid("adapter path", "give the folder that holds adapter_config.json"));
    }
    let path = std::fs::canonicalize(&new.path).map_err(|_| Error::Invalid {
        field: "adapter path".into(),
        message: format!("{} does not exist", new.path.display()),
    })?;
    // The guide registers with the weights file (`…/adapter_model.bin`): a file inside an
    // adapter folder stands for that folder.
    let path = match path.parent() {
        Some(folder) if path.is_file() && folder.join("adapter_config.json").is_file() => folder.to_owned(),
        _ => path,
    };
    let adapter = PeftAdapter::open(&path)?;
    adapter.check_finite()?;
    let base_model = match new.base_model.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(b) => b.to_string(),
        None => adapter.config.base_model.clone().ok_or_else(|| {
            Error::invalid("base model", "the adapter does not name its base model: give --base-model")
        })?,
    };
    // Names end up in Modelfiles and terminals: one line, no control characters.
    for (field, value) in [("base model", Some(base_model.as_str())), ("description", Some(new.description.as_str()))] {
        if let Some(c) = value.and_then(|v| v.chars().find(|c| c.is_control())) {
            return Err(Error::invalid(field, format!("contains the control character U+{:04X}", c as u32)));
        }
    }
    if let Some(p) = &new.base_path {
        if p.to_string_lossy().chars().any(char::is_control) {
            return Err(Error::invalid("base path", "contains a control character"));
        }
    }
    let checksum = crate::fsutil::sha256_file(&adapter.weights)?;
    let targets = serde_json::to_string(&adapter.targets()).unwrap_or_else(|_| "[]".into());
    let format = adapter.format.as_str();
    let base_path = new.base_path.as_ref().map(|p| p.display().to_string()).or_else(|| {
        peft::resolve_base(None, &adapter.config).ok().map(|p| p.display().to_string())
    });

    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version = match &new.version {
        Some(v) => normalize_version(v)?,
        None => next_version(&tx, &name)?,
    };
    let taken: bool = tx
        .query_row("SELECT 1 FROM adapters WHERE name = ?1 AND version = ?2", params![name, version], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if taken {
        return Err(Error::invalid("version", format!("{name} {version} is already registered: give another version")));
    }
    if let Some(run_id) = &new.run_id {
        let existing: Option<String> = tx.query_row("SELECT name || ' ' || version FROM adapters WHERE run_id = ?1", [run_id], |r| r.get(0)).optional()?;
        if let Some(e) = existing {
            return Err(Error::invalid("run", format!("run {run_id} is already registered as {e}")));
        }
    }
    // The adapter the run started from, when registered; else the version before: the highest
    // lower version of the same name.
    let started_from: Option<String> = match new.starts_from.as_ref().map(std::fs::canonicalize) {
        Some(Ok(p)) => tx
            .query_row("SELECT id FROM adapters WHERE path = ?1 ORDER BY created_at DESC LIMIT 1", [p.display().to_string()], |r| r.get(0))
            .optional()?,
        _ => None,
    };
    let parent_id: Option<String> = if started_from.is_some() { started_from } else {
        let mut stmt = tx.prepare("SELECT id, version FROM adapters WHERE name = ?1")?;
        let rows: Vec<(String, String)> = stmt.query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let mine = parse_version(&version)?;
        rows.into_iter()
            .filter_map(|(id, v)| parse_version(&v).ok().map(|v| (v, id)))
            .filter(|(v, _)| *v < mine)
            .max()
            .map(|(_, id)| id)
    };
    let (training_loss, eval_loss) = match &new.run_id {
        Some(run_id) => final_losses(&tx, run_id)?,
        None => (None, None),
    };
    let perplexity = eval_loss.or(training_loss).map(f64::exp);
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::now_ms();
    tx.execute(
        "INSERT INTO adapters (id, name, version, description, base_model, base_path, path, format, rank, alpha,
            target_modules, checksum, run_id, dataset_id, parent_id, training_loss, eval_loss, perplexity,
            metrics_updated_at, created_at, layout, stage)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?8 = 'mlx' THEN 'safetensors' ELSE ?8 END, ?9, ?10, ?11, ?12,
                 ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, CASE WHEN ?8 = 'mlx' THEN 'mlx' ELSE 'peft' END, ?21)",
        params![
            id,
            name,
            version,
            new.description.trim(),
            base_model,
            base_path,
            path.display().to_string(),
            format,
            adapter.config.r as i64,
            adapter.config.lora_alpha,
            targets,
            checksum,
            new.run_id,
            new.dataset_id,
            parent_id,
            training_loss,
            eval_loss,
            perplexity,
            (training_loss.is_some() || eval_loss.is_some()).then_some(now),
            now,
            new.stage.as_str(),
        ],
    )?;
    let adapter = get(&tx, &id)?;
    tx.commit()?;
    Ok(adapter)
}

/// The last training loss and last eval loss a run recorded.
fn final_losses(conn: &Connection, run_id: &str) -> Result<(Option<f64>, Option<f64>)> {
    let loss = conn
        .query_row("SELECT loss FROM run_metrics WHERE run_id = ?1 AND loss IS NOT NULL ORDER BY step DESC LIMIT 1", [run_id], |r| r.get(0))
        .optional()?;
    let eval = conn
        .query_row("SELECT eval_loss FROM run_metrics WHERE run_id = ?1 AND eval_loss IS NOT NULL ORDER BY step DESC LIMIT 1", [run_id], |r| r.get(0))
        .optional()?;
    Ok((loss, eval))
}

/// Registers a trained run's adapter, as [`crate::train::Run::new_adapter`] describes it (named
/// after the run, next version, base and dataset from the run). Returns the existing entry when
/// that run is already registered.
pub fn register_run(conn: &mut Connection, new: NewAdapter) -> Result<Adapter> {
    let run_id = new.run_id.clone().ok_or_else(|| Error::invalid("run", "the adapter names no run"))?;
    if let Some(a) = of_run(conn, &run_id)? {
        return Ok(a);
    }
    register(conn, new)
}

/// The adapter a run trained, when it is registered.
pub fn of_run(conn: &Connection, run_id: &str) -> Result<Option<Adapter>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE run_id = ?1"), [run_id], from_row).optional()?)
}

pub fn get(conn: &Connection, id: &str) -> Result<Adapter> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "adapter", id: id.into() })
}

/// Finds an adapter by id, by `name@version`/`name version`, or by version alone (`v1.1.0` or
/// `1.1.0`, when only one name has it).
pub fn find(conn: &Connection, key: &str) -> Result<Adapter> {
    let key = key.trim();
    if let Some(a) = conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE id = ?1"), [key], from_row).optional()? {
        return Ok(a);
    }
    let (name, version) = match key.rsplit_once(['@', ' ']) {
        Some((n, v)) if parse_version(v).is_ok() => (Some(n.trim()), v),
        _ => (None, key),
    };
    let Ok(version) = normalize_version(version) else {
        return Err(Error::NotFound { what: "adapter", id: key.into() });
    };
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM adapters WHERE version = ?1 AND (?2 IS NULL OR name = ?2)"))?;
    let found: Vec<Adapter> = stmt.query_map(params![version, name], from_row)?.collect::<rusqlite::Result<_>>()?;
    match found.len() {
        0 => Err(Error::NotFound { what: "adapter", id: key.into() }),
        1 => Ok(found.into_iter().next().expect("one")),
        _ => Err(Error::invalid(
            "adapter",
            format!(
                "version {version} exists for {}: say which, e.g. '{}@{version}'",
                found.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                found[0].name
            ),
        )),
    }
}

/// Every adapter, newest first.
pub fn list(conn: &Connection) -> Result<Vec<Adapter>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM adapters ORDER BY created_at DESC, rowid DESC"))?;
    let rows = stmt.query_map([], from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn active(conn: &Connection) -> Result<Option<Adapter>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE is_active = 1"), [], from_row).optional()?)
}

/// Makes `id` the one active adapter, in one transaction (the previous one is deactivated in
/// the same statement batch; the database's unique index guarantees at most one).
pub fn activate(conn: &mut Connection, id: &str, reason: &str) -> Result<Adapter> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let a = activate_in(&tx, id, reason)?;
    tx.commit()?;
    Ok(a)
}

/// `activate` inside the caller's transaction (promoting an experiment's winner does it together
/// with the experiment's own changes).
pub fn activate_in(tx: &Connection, id: &str, reason: &str) -> Result<Adapter> {
    let target = get(tx, id)?;
    let previous = active(tx)?;
    if previous.as_ref().is_some_and(|p| p.id == target.id) {
        return Ok(target);
    }
    tx.execute("UPDATE adapters SET is_active = 0 WHERE is_active = 1", [])?;
    tx.execute("UPDATE adapters SET is_active = 1, activated_at = ?2 WHERE id = ?1", params![id, crate::now_ms()])?;
    tx.execute(
        "INSERT INTO adapter_activations (adapter_id, previous_id, reason, at) VALUES (?1, ?2, ?3, ?4)",
        params![id, previous.map(|p| p.id), reason, crate::now_ms()],
    )?;
    get(tx, id)
}

/// Where rollback would go: the version that was active before the current one (or, with no
/// history, the previous version of the same name). `None` when nothing is active or there is
/// nothing earlier.
pub fn rollback_target(conn: &Connection) -> Result<Option<Adapter>> {
    let Some(current) = active(conn)? else { return Ok(None) };
    let previous: Option<String> = conn
        .query_row(
            "SELECT previous_id FROM adapter_activations WHERE adapter_id = ?1 AND previous_id IS NOT NULL ORDER BY at DESC, rowid DESC LIMIT 1",
            [&current.id],
            |r| r.get(0),
        )
        .optional()?
        .or(current.parent_id.clone());
    match previous {
        Some(p) => Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE id = ?1"), [p], from_row).optional()?),
        None => Ok(None),
    }
}

/// Rollback: activates [`rollback_target`].
pub fn rollback(conn: &mut Connection) -> Result<Adapter> {
    let current = active(conn)?.ok_or_else(|| Error::invalid("rollback", "no adapter is active, so there is nothing to roll back"))?;
    let previous = rollback_target(conn)?.ok_or_else(|| {
        Error::invalid("rollback", format!("{} {} has no earlier version to go back to", current.name, current.version))
    })?;
    activate(conn, &previous.id, &format!("rollback from {} {}", current.name, current.version))
}

/// Succeeded runs whose adapter is not in the registry: (run id, run name), newest first.
pub fn unregistered_runs(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, r.name FROM runs r WHERE r.status = 'succeeded'
         AND NOT EXISTS (SELECT 1 FROM adapters a WHERE a.run_id = r.id) ORDER BY r.created_at DESC",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Removes an adapter from the registry (its files stay where they are). The active one cannot
/// be removed: activate another first.
pub fn delete(conn: &mut Connection, id: &str) -> Result<Adapter> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let a = get(&tx, id)?;
    if a.is_active {
        return Err(Error::invalid("adapter", format!("{} {} is active: activate another version first", a.name, a.version)));
    }
    tx.execute("DELETE FROM adapters WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(a)
}

/// Sets the performance metrics (satisfaction, conversations, losses); `None` leaves a value as it is.
pub fn update_metrics(conn: &mut Connection, id: &str, m: &Metrics) -> Result<Adapter> {
    if let Some(s) = m.avg_satisfaction {
        if !(0.0..=1.0).contains(&s) {
            return Err(Error::invalid("avg_satisfaction", format!("{s} is outside 0..1")));
        }
    }
    if m.total_conversations.is_some_and(|n| n < 0) {
        return Err(Error::invalid("total_conversations", "must not be negative"));
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    get(&tx, id)?;
    tx.execute(
        "UPDATE adapters SET avg_satisfaction = COALESCE(?2, avg_satisfaction),
            total_conversations = COALESCE(?3, total_conversations), training_loss = COALESCE(?4, training_loss),
            eval_loss = COALESCE(?5, eval_loss), perplexity = COALESCE(?6, perplexity), metrics_updated_at = ?7
         WHERE id = ?1",
        params![id, m.avg_satisfaction, m.total_conversations, m.training_loss, m.eval_loss, m.perplexity, crate::now_ms()],
    )?;
    let a = get(&tx, id)?;
    tx.commit()?;
    Ok(a)
}

pub fn compare(conn: &Connection, a: &str, b: &str) -> Result<Comparison> {
    Ok(Comparison::of(find(conn, a)?, find(conn, b)?))
}

const DEPLOY_COLUMNS: &str = "id, adapter_id, target, model_name, strategy, ollama_version, status, progress, error, hint, test_prompt, test_answer, created_at, finished_at";

fn deployment_row(r: &Row<'_>) -> rusqlite::Result<Deployment> {
    let progress: String = r.get(7)?;
    Ok(Deployment {
        id: r.get(0)?,
        adapter_id: r.get(1)?,
        target: r.get(2)?,
        model_name: r.get(3)?,
        strategy: stored(r, 4, DeployStrategy::parse)?,
        ollama_version: r.get(5)?,
        status: stored(r, 6, DeployStatus::parse)?,
        progress: serde_json::from_str(&progress).unwrap_or_default(),
        error: r.get(8)?,
        hint: r.get(9)?,
        test_prompt: r.get(10)?,
        test_answer: r.get(11)?,
        created_at: r.get(12)?,
        finished_at: r.get(13)?,
    })
}

pub fn deployments(conn: &Connection, adapter_id: &str) -> Result<Vec<Deployment>> {
    let mut stmt = conn.prepare(&format!("SELECT {DEPLOY_COLUMNS} FROM deployments WHERE adapter_id = ?1 ORDER BY created_at DESC, rowid DESC"))?;
    let rows = stmt.query_map([adapter_id], deployment_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn deployment(conn: &Connection, id: &str) -> Result<Deployment> {
    conn.query_row(&format!("SELECT {DEPLOY_COLUMNS} FROM deployments WHERE id = ?1"), [id], deployment_row)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "deployment", id: id.into() })
}

pub fn lineage(conn: &Connection, id: &str) -> Result<Lineage> {
    let adapter = find(conn, id)?;
    let run = match &adapter.run_id {
        Some(r) => conn
            .query_row(
                "SELECT r.id, r.name, r.status, r.finished_at, json_extract(r.config, '$.quantization_bit'), c.name || ' at ' || c.url
                   FROM runs r LEFT JOIN clusters c ON c.id = r.cluster_id WHERE r.id = ?1",
                [r],
                |r| {
                Ok(LineageRun {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    status: r.get(2)?,
                    finished_at: r.get(3)?,
                    quantization_bit: r.get::<_, Option<i64>>(4)?.and_then(|b| u8::try_from(b).ok()),
                    cluster: r.get(5)?,
                })
            },
            )
            .optional()?,
        None => None,
    };
    let dataset = match &adapter.dataset_id {
        Some(d) => conn
            .query_row("SELECT id, name, format, examples, counts, avg_satisfaction, filter FROM datasets WHERE id = ?1", [d], |r| {
                let counts: String = r.get(4)?;
                let counts: serde_json::Value = serde_json::from_str(&counts).unwrap_or_default();
                let filter: String = r.get(6)?;
                Ok(LineageDataset {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    format: r.get(2)?,
                    examples: r.get(3)?,
                    conversations: counts.get("passed_filter").and_then(serde_json::Value::as_i64).unwrap_or(0),
                    avg_satisfaction: r.get(5)?,
                    filter: serde_json::from_str(&filter).unwrap_or_default(),
                    votes: 0,
                    rated_answers: 0,
                })
            })
            .optional()?
            .map(|mut d| -> Result<LineageDataset> {
                // A preference dataset's judgements: the votes and the rated answers.
                let (votes, rated): (i64, i64) = conn.query_row(
                    "SELECT COALESCE(SUM(kind = 'vote'), 0), COALESCE(SUM(kind = 'thumbs'), 0) FROM dataset_judgements WHERE dataset_id = ?1",
                    [&d.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                (d.votes, d.rated_answers) = (votes, rated);
                Ok(d)
            })
            .transpose()?,
        None => None,
    };
    let parent = match &adapter.parent_id {
        Some(p) => conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE id = ?1"), [p], from_row).optional()?,
        None => None,
    };
    let mut stmt = conn.prepare("SELECT adapter_id, previous_id, reason, at FROM adapter_activations WHERE adapter_id = ?1 OR previous_id = ?1 ORDER BY at DESC, rowid DESC")?;
    let activations = stmt
        .query_map([&adapter.id], |r| Ok(Activation { adapter_id: r.get(0)?, previous_id: r.get(1)?, reason: r.get(2)?, at: r.get(3)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Lineage { deployments: deployments(conn, &adapter.id)?, adapter, run, dataset, parent, activations })
}

/// The registry page: every adapter (newest first), succeeded runs not yet registered, and the
/// version rollback would activate.
pub fn overview(conn: &Connection) -> Result<AdaptersOverview> {
    Ok(AdaptersOverview { adapters: list(conn)?, unregistered_runs: unregistered_runs(conn)?, rollback_to: rollback_target(conn)? })
}

/// An adapter's activations (newest first) with the names of both sides.
pub fn named_activations(conn: &Connection, activations: &[Activation]) -> Result<Vec<NamedActivation>> {
    let name = |id: Option<&String>| -> Result<Option<String>> {
        match id {
            Some(id) => Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM adapters WHERE id = ?1"), [id], from_row).optional()?.map(|a| a.label())),
            None => Ok(None),
        }
    };
    activations
        .iter()
        .map(|x| Ok(NamedActivation { adapter_name: name(Some(&x.adapter_id))?, previous_name: name(x.previous_id.as_ref())?, activation: x.clone() }))
        .collect()
}

/// One adapter's page (by id or any key [`find`] takes): its lineage, named activations, the
/// Modelfile its last deployment wrote and the deploy form's defaults.
pub async fn view(studio: &Studio, key: &str) -> Result<AdapterView> {
    let key = key.to_string();
    let (l, activations) = studio
        .db()
        .call(move |c| {
            let l = lineage(c, &key)?;
            let named = named_activations(c, &l.activations)?;
            Ok((l, named))
        })
        .await?;
    Ok(AdapterView {
        modelfile: deploy::modelfile_text(studio, &l.adapter)?,
        modelfile_note: modelfile::NOTE.to_string(),
        default_model_name: deploy::default_model_name(&l.adapter),
        default_system: modelfile::DEFAULT_SYSTEM.to_string(),
        ollama_url: studio.settings().ollama_url.clone(),
        adapter: l.adapter,
        run: l.run,
        dataset: l.dataset,
        parent: l.parent,
        deployments: l.deployments,
        activations,
    })
}

/// Registers the adapter of the succeeded run `run_id` (see [`register_run`]).
pub fn register_from_run(conn: &mut Connection, run_id: &str) -> Result<Adapter> {
    let run = crate::train::runs::get(conn, run_id)?;
    register_run(conn, run.new_adapter()?)
}

/// The adapter folder of a registered adapter, opened and checked again (files can move).
pub fn open_files(a: &Adapter) -> Result<PeftAdapter> {
    PeftAdapter::open(Path::new(&a.path))
}

#[cfg(test)]
mod tests;
