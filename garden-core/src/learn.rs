//! Continual learning: the guide's five steps as one guided flow:
//! 1. export what came since the last dataset (or a date);
//! 2. merge it with the previous dataset, without duplicates;
//! 3. train version N+1 (optionally starting from the current adapter);
//! 4. register it with the next version number (the supervisor does, when the run succeeds);
//! 5. start an A/B experiment against the active adapter; promote only when the experiment says
//!    it is better ([`crate::experiments::promote`]); rollback stays available.
//!
//! A **preference cycle** (`stage` KTO or DPO) learns from judgements instead of conversations:
//! it exports the judgements since the last export of its kind (thumbs as KTO examples, or
//! side-by-side votes and thumbs as preference pairs; see [`crate::train::plan::export_stage_data`]),
//! and trains version N+1 with that stage on top of the active adapter, which is the usual recipe
//! (SFT first, preferences after; with DPO's sigmoid loss the active adapter is also the
//! reference). Too little new data is refused with the counts before anything is exported, so
//! the judgements stay "new" for the next try. Steps 4 and 5 are the same: registered as the next
//! version (with its stage, and the pairs dataset's judgements as its lineage), then A/B tested;
//! promotion still needs the experiment's evidence.
//!
//! "Since the last export" is the newest export of the same format: pairs are taken by when
//! they were judged (the vote, or the later thumb), KTO examples by when their conversation
//! started.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::adapters::{self, Adapter};
use crate::error::{Error, Result};
use crate::export::{self, Counts, Curation, DataFilter, Dataset, ExportRequest, Format};
use crate::train::config::Stage;
use crate::train::plan::{export_stage_data, history_format, history_stage_data};
use crate::train::prefs::{self, PrefLoss};
use crate::train::{runs, Run, RunStatus, TrainConfig};
use crate::Studio;

/// Where the loop stands, as the page shows it: wire types (`garden_types::learn`).
pub use garden_types::learn::{CycleRun, LearnView, NewVersion};

/// Where the loop stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub active: Option<Adapter>,
    /// The run that trained the active adapter (its settings are reused).
    pub active_run: Option<Run>,
    pub previous_dataset: Option<Dataset>,
    /// Conversations are taken from here on (Unix ms): the previous dataset's creation.
    pub since: Option<i64>,
    /// Conversations added since then (any source).
    pub new_conversations: u64,
    /// The version the next adapter will get.
    pub next_version: Option<String>,
}

pub fn plan(conn: &Connection) -> Result<Plan> {
    let active = adapters::active(conn)?;
    let active_run = match active.as_ref().and_then(|a| a.run_id.clone()) {
        Some(r) => runs::get(conn, &r).ok(),
        None => None,
    };
    let previous_dataset = previous_sft_dataset(conn, active.as_ref())?;
    let since = previous_dataset.as_ref().map(|d| d.created_at);
    let new_conversations: i64 = conn.query_row(
        "SELECT COUNT(*) FROM conversations WHERE created_at >= ?1",
        [since.unwrap_or(0)],
        |r| r.get(0),
    )?;
    let next_version = match &active {
        Some(a) => Some(adapters::next_version(conn, &a.name)?),
        None => None,
    };
    Ok(Plan { active, active_run, previous_dataset, since, new_conversations: new_conversations as u64, next_version })
}

/// The conversations dataset the next SFT cycle builds on: the active adapter's, or, for a
/// version trained on judgements (KTO, DPO), the nearest ancestor's; else the newest one.
fn previous_sft_dataset(conn: &Connection, active: Option<&Adapter>) -> Result<Option<Dataset>> {
    let sft = |d: &Dataset| prefs::stage_for(d.format) == Stage::Sft;
    let mut seen = HashSet::new();
    let mut next = active.cloned();
    while let Some(a) = next {
        if !seen.insert(a.id.clone()) {
            break;
        }
        if let Some(d) = a.dataset_id.as_deref().and_then(|id| export::get(conn, id).ok()).filter(sft) {
            return Ok(Some(d));
        }
        next = a.parent_id.as_deref().and_then(|p| adapters::get(conn, p).ok());
    }
    Ok(export::list(conn)?.into_iter().find(sft))
}

/// When the last export of a preference stage's kind was made (Unix ms): the next cycle takes
/// what came after it.
pub fn last_export(conn: &Connection, stage: Stage) -> Result<Option<i64>> {
    let format = history_format(stage);
    Ok(export::list(conn)?.into_iter().find(|d| d.format == format).map(|d| d.created_at))
}

/// What a preference cycle of `stage` would learn from now (see [`history_stage_data`]): the
/// judgements since [`last_export`], or since `since` when given.
pub fn preference_data(conn: &Connection, stage: Stage, since: Option<i64>) -> Result<crate::train::prefs::StageData> {
    let since = match since {
        Some(s) => Some(s),
        None => last_export(conn, stage)?,
    };
    history_stage_data(conn, stage, since)
}

/// Where the loop stands, in words for the page: the active adapter (and whether a model serves
/// it), the previous dataset, what is new, the cycle's run and the version it registered, and
/// the running experiment.
pub fn status(conn: &Connection) -> Result<LearnView> {
    let p = plan(conn)?;
    let run = latest_cycle_run(conn)?;
    let deployed = |id: &str| crate::infer::find_endpoint_for_adapter(conn, id).is_ok_and(|e| e.is_some());
    let new_adapter = match &run {
        Some(r) if r.status == RunStatus::Succeeded => {
            adapters::of_run(conn, &r.id)?.map(|a| NewVersion { label: a.label(), deployed: deployed(&a.id), id: a.id })
        }
        _ => None,
    };
    Ok(LearnView {
        active_deployed: p.active.as_ref().is_some_and(|a| deployed(&a.id)),
        active: p.active.as_ref().map(Adapter::label),
        previous_dataset: p.previous_dataset.map(|d| d.name),
        since: p.since,
        new_conversations: p.new_conversations,
        next_version: p.next_version,
        run: run.map(|r| CycleRun { id: r.id, name: r.name, status: r.status }),
        new_adapter,
        experiment: crate::experiments::running(conn)?.map(|e| e.name),
        preference: [Stage::Kto, Stage::Dpo].into_iter().map(|s| preference_data(conn, s, None)).collect::<Result<_>>()?,
    })
}

/// Options of one cycle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CycleOptions {
    /// Take conversations from this time (Unix ms) instead of the previous dataset's creation.
    pub since: Option<i64>,
    /// Start version N+1 from the current adapter's weights (else from the base).
    pub from_current_adapter: bool,
    /// Override the previous run's step limit (tests, quick tries).
    pub max_steps: Option<u64>,
    /// What version N+1 learns from: new conversations (SFT, the default) or new judgements
    /// (KTO from thumbs, DPO from votes and thumbs).
    #[serde(default)]
    pub stage: Stage,
    /// DPO's loss and a preference stage's β (else the previous run's, or the defaults).
    #[serde(default)]
    pub pref_loss: Option<PrefLoss>,
    #[serde(default)]
    pub pref_beta: Option<f64>,
}

impl Default for CycleOptions {
    fn default() -> Self {
        CycleOptions { since: None, from_current_adapter: true, max_steps: None, stage: Stage::Sft, pref_loss: None, pref_beta: None }
    }
}

/// One JSON example per line (JSONL) or one array (JSON) → the examples.
fn read_examples(path: &Path, format: Format) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    if format.extension() == "json" {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(a)) => Ok(a),
            _ => Err(Error::Import { path: path.into(), place: "the file".into(), message: "is not a JSON array of examples".into() }),
        }
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| Error::Import { path: path.into(), place: format!("line {}", i + 1), message: e.to_string() })
            })
            .collect()
    }
}

/// The identity of an example for de-duplication: its content, without bookkeeping fields.
fn example_key(v: &Value) -> [u8; 32] {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["conversation_id", "timestamp", "satisfaction"] {
            o.remove(k);
        }
    }
    Sha256::digest(serde_json::to_vec(&v).unwrap_or_default()).into()
}

fn write_examples(path: &Path, format: Format, examples: &[Value]) -> Result<String> {
    let mut bytes = Vec::new();
    if format.extension() == "json" {
        bytes = serde_json::to_vec_pretty(&Value::Array(examples.to_vec())).map_err(|e| Error::Task(e.to_string()))?;
        bytes.push(b'\n');
    } else {
        for e in examples {
            bytes.extend(serde_json::to_vec(e).map_err(|e| Error::Task(e.to_string()))?);
            bytes.push(b'\n');
        }
    }
    crate::fsutil::write_atomically(path, &bytes)?;
    Ok(crate::hex(&Sha256::digest(&bytes)))
}

/// Merges two datasets of the same format into a new one (older examples first, exact duplicates
/// dropped, training and validation kept apart: an example held out in either stays held out).
/// Its `parent_ids` name both.
pub fn merge_datasets(conn: &mut Connection, data_dir: &Path, older: &str, newer: &str, name: &str) -> Result<Dataset> {
    let a = export::get(conn, older)?;
    let b = export::get(conn, newer)?;
    if a.format != b.format {
        return Err(Error::invalid("datasets", format!("{} is {} and {} is {}: only datasets of one format merge", a.name, a.format.as_str(), b.name, b.format.as_str())));
    }
    let name = export::sanitize_name(name);
    if name.is_empty() {
        return Err(Error::invalid("name", "use letters, digits, '-' or '_'"));
    }
    let mut seen = HashSet::new();
    let mut val = Vec::new();
    for d in [&a, &b] {
        if let Some(p) = &d.validation_path {
            for e in read_examples(Path::new(p), d.format)? {
                if seen.insert(example_key(&e)) {
                    val.push(e);
                }
            }
        }
    }
    let mut train = Vec::new();
    let mut duplicates = 0u64;
    for d in [&a, &b] {
        for e in read_examples(Path::new(&d.path), d.format)? {
            if seen.insert(example_key(&e)) {
                train.push(e);
            } else {
                duplicates += 1;
            }
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let dir = data_dir.join("datasets").join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    let ext = a.format.extension();
    let train_path = dir.join(format!("{name}.{ext}"));
    let val_path = dir.join(format!("{name}_val.{ext}"));
    let sha256 = write_examples(&train_path, a.format, &train)?;
    if !val.is_empty() {
        write_examples(&val_path, a.format, &val)?;
    }
    let mut info = serde_json::Map::new();
    let file = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    info.insert(name.clone(), a.format.dataset_info(&file(&train_path)));
    if !val.is_empty() {
        info.insert(format!("{name}_val"), a.format.dataset_info(&file(&val_path)));
    }
    let info_path = dir.join("dataset_info.json");
    crate::fsutil::write_atomically(&info_path, &serde_json::to_vec_pretty(&Value::Object(info)).unwrap_or_default())?;
    let weight = |d: &Dataset| d.avg_satisfaction.map(|s| (s, d.examples as f64));
    let avg = match (weight(&a), weight(&b)) {
        (Some((x, n)), Some((y, m))) if n + m > 0.0 => Some((x * n + y * m) / (n + m)),
        (Some((x, _)), None) | (None, Some((x, _))) => Some(x),
        _ => None,
    };
    let counts = Counts {
        conversations: a.counts.conversations + b.counts.conversations,
        passed_filter: a.counts.passed_filter + b.counts.passed_filter,
        examples: (train.len() + val.len()) as u64 + duplicates,
        exact_duplicates: duplicates,
        written: (train.len() + val.len()) as u64,
        train: train.len() as u64,
        validation: val.len() as u64,
        ..Counts::default()
    };
    let dataset = Dataset {
        id,
        name,
        format: a.format,
        filter: b.filter.clone(),
        curation: b.curation.clone(),
        counts,
        examples: (train.len() + val.len()) as u64,
        validation: val.len() as u64,
        avg_satisfaction: avg,
        path: train_path.to_string_lossy().into_owned(),
        validation_path: (!val.is_empty()).then(|| val_path.to_string_lossy().into_owned()),
        dataset_info: info_path.to_string_lossy().into_owned(),
        sha256,
        parent_ids: vec![a.id.clone(), b.id.clone()],
        created_at: crate::now_ms(),
    };
    let meta = json!({"dataset": &dataset, "merged_from": [a.name, b.name], "duplicates_dropped": duplicates});
    crate::fsutil::write_atomically(&dir.join(format!("{}.meta.json", dataset.name)), &serde_json::to_vec_pretty(&meta).unwrap_or_default())?;
    export::insert(conn, &dataset)?;
    Ok(dataset)
}

/// What a started cycle made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    pub new_data: Dataset,
    pub dataset: Dataset,
    pub run: Run,
}

/// Steps 1–3: export what is new, merge it with the previous dataset, and queue version N+1's
/// training (named like the active adapter, so the registry gives it the next version). A
/// preference stage goes to [`start_preference`].
pub async fn start(studio: &Studio, supervisor: &crate::train::Supervisor, opts: &CycleOptions) -> Result<Cycle> {
    if opts.stage.is_preference() {
        return start_preference(studio, supervisor, opts).await;
    }
    let p = studio.db().call(|c| plan(c)).await?;
    let active = p.active.clone().ok_or_else(|| Error::invalid("adapter", "no adapter is active: train one and activate it first"))?;
    let run = p.active_run.clone().ok_or_else(|| {
        Error::invalid("adapter", format!("{} {} was not trained here, so there are no settings to reuse: train version 1 in garden-eden first", active.name, active.version))
    })?;
    let previous = p.previous_dataset.clone().ok_or_else(|| Error::invalid("dataset", "there is no previous dataset to build on"))?;
    let since = opts.since.or(p.since);
    let mut filter: DataFilter = previous.filter.clone();
    filter.since = since;
    filter.until = None;
    filter.limit = None;
    let request = ExportRequest {
        name: Some(format!("{}-new-{}", previous.name, crate::time::format_iso(crate::now_ms()).replace([':', '-'], "").chars().take(15).collect::<String>())),
        format: previous.format,
        filter,
        curation: Curation { ..previous.curation.clone() },
        output: None,
    };
    let data_dir = studio.settings().data_dir.clone();
    let next = p.next_version.clone().unwrap_or_else(|| "next".into());
    let (prev_id, merged_name) = (previous.id.clone(), format!("{}-v{}", active.name, next));
    let (new_data, dataset) = studio
        .db()
        .call(move |c| {
            let new_data = export::export(c, &data_dir, &request, &mut |_, _| {}).map_err(|e| match e {
                Error::Invalid { field, message } if field == "filter" => {
                    Error::invalid("new conversations", format!("nothing new to learn from since the last dataset ({message})"))
                }
                e => e,
            })?;
            let merged = merge_datasets(c, &data_dir, &prev_id, &new_data.id, &merged_name)?;
            Ok((new_data, merged))
        })
        .await?;
    let mut config = previous_settings(&run)?;
    // The previous version may have learned from judgements: this one learns from conversations.
    config.stage = Stage::Sft;
    config.ref_adapter = None;
    config.dataset = dataset.name.clone();
    config.dataset_dir = PathBuf::from(&dataset.dataset_info).parent().map(Path::to_path_buf).unwrap_or_default();
    config.eval_dataset = dataset.validation_path.as_ref().map(|_| format!("{}_val", dataset.name));
    config.adapter_name_or_path = opts.from_current_adapter.then(|| PathBuf::from(&active.path));
    if let Some(s) = opts.max_steps {
        config.max_steps = Some(s);
    }
    let run = supervisor
        .submit(crate::train::supervisor::NewRun { name: active.name.clone(), dataset_id: Some(dataset.id.clone()), config })
        .await?;
    Ok(Cycle { new_data, dataset, run })
}

/// The settings of the run that trained the active adapter.
fn previous_settings(run: &Run) -> Result<TrainConfig> {
    serde_json::from_value(run.config.clone()).map_err(|e| Error::Task(format!("the previous run's settings: {e}")))
}

/// Steps 1–3 of a preference cycle: checks that the judgements since the last export of its kind
/// can train the stage (refused with the counts, nothing exported, otherwise), exports them, and
/// queues version N+1 with the stage on top of the active adapter, with the previous run's other
/// settings.
pub async fn start_preference(studio: &Studio, supervisor: &crate::train::Supervisor, opts: &CycleOptions) -> Result<Cycle> {
    let stage = opts.stage;
    if !stage.is_preference() {
        return Err(Error::invalid("stage", "a preference cycle is KTO or DPO"));
    }
    if !opts.from_current_adapter {
        return Err(Error::invalid(
            "from_base",
            format!(
                "a {} cycle trains on top of the active adapter (the usual recipe: SFT first, preferences after); \
                 starting from the bare base is for SFT cycles",
                stage.as_str()
            ),
        ));
    }
    let p = studio.db().call(|c| plan(c)).await?;
    let active = p.active.clone().ok_or_else(|| Error::invalid("adapter", "no adapter is active: train one and activate it first"))?;
    let run = p.active_run.clone().ok_or_else(|| {
        Error::invalid("adapter", format!("{} {} was not trained here, so there are no settings to reuse: train version 1 in garden-eden first", active.name, active.version))
    })?;
    if active.format == adapters::WeightsFormat::Mlx {
        return Err(Error::invalid(
            "adapter",
            format!("{} is an MLX adapter: preference stages train with LLaMA-Factory on a PEFT adapter", active.label()),
        ));
    }
    let data_dir = studio.settings().data_dir.clone();
    let next = p.next_version.clone().unwrap_or_else(|| "next".into());
    let name = format!("{}-v{next}-{}", active.name, stage.as_str());
    let since = opts.since;
    let dataset = studio
        .db()
        .call(move |c| {
            let since = match since {
                Some(s) => Some(s),
                None => last_export(c, stage)?,
            };
            // Refused before exporting, so that what is there stays new for the next try.
            let data = history_stage_data(c, stage, since)?;
            if let Some(refusal) = data.refusal {
                return Err(Error::invalid("new judgements", refusal));
            }
            export_stage_data(c, &data_dir, stage, since, Some(name))
        })
        .await?;
    let mut config = previous_settings(&run)?;
    config.use_dataset(&dataset);
    config.stage = stage;
    if let Some(loss) = opts.pref_loss {
        config.pref_loss = loss;
    }
    if let Some(beta) = opts.pref_beta {
        config.pref_beta = beta;
    }
    config.adapter_name_or_path = Some(PathBuf::from(&active.path));
    config.ref_adapter = None;
    if let Some(s) = opts.max_steps {
        config.max_steps = Some(s);
    }
    let (config, dataset) = studio
        .db()
        .call(move |c| {
            let mut config = config;
            prefs::prepare(c, &mut config, &dataset)?;
            Ok((config, dataset))
        })
        .await?;
    config.validate()?;
    let run = supervisor
        .submit(crate::train::supervisor::NewRun { name: active.name.clone(), dataset_id: Some(dataset.id.clone()), config })
        .await?;
    Ok(Cycle { new_data: dataset.clone(), dataset, run })
}

/// Step 5, once the run has succeeded (and registered version N+1): the A/B experiment between
/// the active adapter (A) and the new one (B). Each must be reachable as a model: a configured
/// model serving it, or its Ollama deployment (`deploy` it first).
pub async fn start_experiment(studio: &Studio, run_id: &str, split_b: f64) -> Result<crate::experiments::Experiment> {
    let run_id = run_id.to_string();
    studio
        .db()
        .call(move |c| {
            let run = runs::get(c, &run_id)?;
            if run.status != RunStatus::Succeeded {
                return Err(Error::invalid("run", format!("run {} has not succeeded (it is {})", run.name, run.status.as_str())));
            }
            let new = adapters::register_run(c, run.new_adapter()?)?;
            let active = adapters::active(c)?.ok_or_else(|| Error::invalid("adapter", "no adapter is active"))?;
            if active.id == new.id {
                return Err(Error::invalid("adapter", "the new adapter is already active"));
            }
            let a = crate::infer::endpoint_for_adapter(c, &active.id)?;
            let b = crate::infer::endpoint_for_adapter(c, &new.id)?;
            let name = format!("{} {} vs {}", new.name, new.version, active.version);
            crate::experiments::start(c, &name, &a.id, &b.id, split_b)
        })
        .await
}

/// The run the last cycle started, if it is still the newest run of the active adapter's name.
pub fn latest_cycle_run(conn: &Connection) -> Result<Option<Run>> {
    let Some(active) = adapters::active(conn)? else { return Ok(None) };
    let id: Option<String> = conn
        .query_row("SELECT id FROM runs WHERE name = ?1 ORDER BY created_at DESC LIMIT 1", [&active.name], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) if Some(&id) != active.run_id.as_ref() => Ok(Some(runs::get(conn, &id)?)),
        _ => Ok(None),
    }
}
