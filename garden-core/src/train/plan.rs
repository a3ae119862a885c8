//! Before launch, for the wizard and `garden-eden train` alike: the form's settings as a checked
//! [`TrainConfig`], the GPU a run is planned for, the base model's precision chosen for it, the
//! steps and time it takes, the memory verdict, the extras the settings need, and the review
//! ([`review`]) that gathers them; [`start`] queues what was reviewed.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use garden_types::runs::{BackendPlan, MemoryPlan, TrainParams, TrainPlan};

use super::backends::{launch, Backend};
use super::config::{Adjustment, Stage, TrainConfig, ZeroStage};
use super::estimate::{human_bytes, recommend, verdict_for, ModelShape, Target, Verdict};
use super::extras::{self, ExtraStatus};
use super::runs::{self, Run};
use super::supervisor::{NewRun, Supervisor};
use crate::error::{Error, Result};
use super::prefs::{self, StageData};
use crate::export::{Curation, DataFilter, Dataset, ExportRequest, Format};
use rusqlite::Connection;
use crate::hardware::Hardware;
use crate::Studio;

const GIB: u64 = 1 << 30;

/// The GPU the estimate and the precision are for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedTarget {
    pub target: Option<Target>,
    /// For sentences: "NVIDIA GeForce RTX 4090", "24 GB GPU (planned)".
    pub name: String,
    /// Whether it is this machine's own GPU.
    pub detected: bool,
}

/// This machine's GPU, unless the person plans for another one (`planned_gb` of memory, `gpus`
/// of them).
pub fn target(hardware: &Hardware, planned_gb: Option<u64>, gpus: Option<u32>) -> PlannedTarget {
    match planned_gb {
        Some(gb) => PlannedTarget {
            target: Some(Target { memory_bytes: gb.saturating_mul(GIB), count: gpus.unwrap_or(1).max(1) }),
            name: format!("{gb} GB GPU (planned)"),
            detected: false,
        },
        None => match (hardware.first(), hardware.gpu_memory()) {
            (Some(gpu), Some(memory)) => PlannedTarget {
                target: Some(Target { memory_bytes: memory, count: gpus.unwrap_or_else(|| hardware.count() as u32).max(1) }),
                name: gpu.name.clone(),
                detected: true,
            },
            _ => PlannedTarget { target: None, name: "CPU".into(), detected: true },
        },
    }
}

/// Chooses the base model's precision for the target when the person left it to garden-eden
/// (full when it fits with margin, else 4-bit QLoRA): changes `config` and returns the sentence
/// that explains it. `None` when the model's shape is unknown (nothing is changed then).
pub fn choose_precision(config: &mut TrainConfig, target: &PlannedTarget) -> Option<String> {
    let shape = ModelShape::lookup(&config.model_name_or_path).ok()?;
    let r = recommend(&shape, config, target.target, &target.name);
    r.apply(config);
    Some(r.sentence)
}

/// The memory verdict for the target (an error sentence when the model's shape is unknown).
pub fn memory(config: &TrainConfig, target: &PlannedTarget) -> Result<Verdict, String> {
    ModelShape::lookup(&config.model_name_or_path)
        .map(|shape| verdict_for(&shape, config, target.target))
        .map_err(|e| e.to_string())
}

/// The extras the settings need that the trainer's Python lacks (none when it cannot be asked:
/// the launch itself then says what is wrong).
pub async fn missing_extras(python: &Path, config: &TrainConfig) -> Vec<ExtraStatus> {
    extras::missing(python, &config.needed_extras()).await.unwrap_or_default()
}

use crate::form::{number, text};

/// How the base model is loaded, as the form (`quantization_bit`) and `--quantization-bit` say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrecisionChoice {
    /// Chosen for the GPU: full precision when it fits with margin, else 4-bit.
    Auto,
    /// bf16/fp16 on a GPU, fp32 on the CPU.
    Full,
    Bits8,
    Bits4,
}

impl PrecisionChoice {
    pub const ALL: [PrecisionChoice; 4] = [PrecisionChoice::Auto, PrecisionChoice::Full, PrecisionChoice::Bits8, PrecisionChoice::Bits4];

    /// The form's value: `auto`, `none`, `8` or `4`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrecisionChoice::Auto => "auto",
            PrecisionChoice::Full => "none",
            PrecisionChoice::Bits8 => "8",
            PrecisionChoice::Bits4 => "4",
        }
    }
}

impl FromStr for PrecisionChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<PrecisionChoice> {
        PrecisionChoice::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::invalid("quantization_bit", format!("'{s}' is not auto, none, 8 or 4")))
    }
}

/// Sets the base model's precision as chosen (`Auto`: for the target) and returns the sentence
/// that says so. MLX loads the base model as it is, whatever the choice.
pub fn set_precision(config: &mut TrainConfig, choice: PrecisionChoice, target: &PlannedTarget) -> String {
    if config.backend == Backend::Mlx {
        config.quantization_bit = None;
        return "MLX loads the base model as it is: for 4-bit, choose an MLX 4-bit model (mlx-community …-4bit, or mlx_lm.convert -q).".to_owned();
    }
    match choice {
        PrecisionChoice::Auto => choose_precision(config, target)
            .unwrap_or_else(|| "Full precision: garden-eden does not know this model's shape, so it cannot estimate whether 4-bit is needed.".to_owned()),
        PrecisionChoice::Full => {
            config.quantization_bit = None;
            "Full precision (bf16 or fp16 on a GPU, fp32 on the CPU), as chosen.".to_owned()
        }
        PrecisionChoice::Bits4 => {
            config.quantization_bit = Some(4);
            "4-bit (QLoRA), as chosen: the base model is loaded quantised; the adapter trains in full precision.".to_owned()
        }
        PrecisionChoice::Bits8 => {
            config.quantization_bit = Some(8);
            "8-bit, as chosen: half the memory of full precision, slower than 4-bit.".to_owned()
        }
    }
}

impl TrainConfig {
    /// The form's LoRA and training settings over these (the tiny demo's or the defaults): the
    /// numbers, the ZeRO stage, a troubleshooting adjustment (applied after the numbers), the
    /// trainer (LLaMA-Factory unless `mlx`) and `trust_remote_code`. The error names the field.
    /// The model, the dataset and the precision are [`prepare`]'s.
    pub fn with_params(mut self, p: &TrainParams) -> Result<TrainConfig> {
        if let Some(v) = number("lora_rank", &p.lora_rank)? {
            self.lora_rank = v;
        }
        if let Some(v) = number("lora_alpha", &p.lora_alpha)? {
            self.lora_alpha = v;
        }
        if let Some(v) = number("lora_dropout", &p.lora_dropout)? {
            self.lora_dropout = v;
        }
        if let Some(v) = text(&p.lora_target) {
            self.lora_target = v.to_owned();
        }
        if let Some(v) = number("num_train_epochs", &p.num_train_epochs)? {
            self.num_train_epochs = v;
        }
        self.max_steps = number("max_steps", &p.max_steps)?.or(self.max_steps);
        if let Some(v) = number("learning_rate", &p.learning_rate)? {
            self.learning_rate = v;
        }
        if let Some(v) = number("per_device_train_batch_size", &p.per_device_train_batch_size)? {
            self.per_device_train_batch_size = v;
        }
        if let Some(v) = number("gradient_accumulation_steps", &p.gradient_accumulation_steps)? {
            self.gradient_accumulation_steps = v;
        }
        if let Some(v) = number("cutoff_len", &p.cutoff_len)? {
            self.cutoff_len = v;
        }
        self.deepspeed = text(&p.deepspeed).map(ZeroStage::from_str).transpose()?;
        if let Some(adjustment) = text(&p.adjust).map(Adjustment::from_str).transpose()? {
            self.apply(adjustment);
        }
        self.backend = match text(&p.backend) {
            None => Backend::LlamaFactory,
            // The web app runs these two; the others get files only.
            Some(b) => b
                .parse::<Backend>()
                .ok()
                .filter(|b| b.runs_here())
                .ok_or_else(|| Error::invalid("backend", format!("'{b}' is not llamafactory or mlx")))?,
        };
        self.trust_remote_code = text(&p.trust_remote_code).is_some_and(|v| v == "on" || v == "true");
        if let Some(v) = text(&p.pref_loss) {
            self.pref_loss = v.parse()?;
        }
        if let Some(v) = number("pref_beta", &p.pref_beta)? {
            self.pref_beta = v;
        }
        // On a Ray cluster, the GPUs field is what the run asks of it.
        self.cluster = text(&p.cluster).map(str::to_owned);
        if self.cluster.is_some() {
            self.gpus = number("gpus", &p.gpus)?;
        }
        Ok(self)
    }

    /// Trains on an exported dataset: LLaMA-Factory finds it by name in its folder's
    /// `dataset_info.json`, with its held-out split as `<name>_val`. The stage is the dataset's
    /// own (KTO exports train kto, pairs dpo, the others sft).
    pub fn use_dataset(&mut self, dataset: &Dataset) {
        self.stage = super::prefs::stage_for(dataset.format);
        self.dataset = dataset.name.clone();
        self.dataset_dir = Path::new(&dataset.path).parent().map(Path::to_path_buf).unwrap_or_default();
        self.eval_dataset = dataset.validation_path.as_ref().map(|_| format!("{}_val", dataset.name));
    }
}

/// The form's run: its checked settings, its dataset, and what the review says with them.
pub struct Prepared {
    pub config: TrainConfig,
    pub dataset: Dataset,
    /// One sentence on the base model's precision.
    pub precision: String,
    pub target: PlannedTarget,
    pub hardware: Hardware,
    /// What the stage trains on (the counts, KTO's weights, DPO's pairs by source).
    pub stage: super::prefs::StageData,
}

/// The form's dataset: the one chosen, or, when only a stage is, the newest dataset that stage
/// trains on (a KTO export for KTO, a pairs export for DPO, any other export for SFT).
pub fn chosen_dataset(conn: &Connection, p: &TrainParams) -> Result<Dataset> {
    if let Some(id) = text(&p.dataset_id) {
        return crate::export::get(conn, id);
    }
    let Some(stage) = text(&p.stage).map(str::parse::<Stage>).transpose()? else {
        return Err(Error::invalid("dataset", "choose a dataset"));
    };
    crate::export::list(conn)?.into_iter().find(|d| prefs::stage_for(d.format) == stage).ok_or_else(|| {
        let (what, how) = match stage {
            Stage::Sft => ("no dataset of conversations yet", "build one on Datasets (New dataset)"),
            Stage::Kto => ("no KTO dataset yet", "export your thumbs up and down (the wizard's data step, or Datasets with format kto)"),
            Stage::Dpo => ("no preference pairs dataset yet", "export your side-by-side votes as pairs (the wizard's data step, or Datasets with format pairs)"),
        };
        Error::invalid("dataset", format!("stage {} needs a dataset, and there is {what}: {how}", stage.as_str()))
    })
}

/// The form → checked settings for its dataset: the base model (the tiny demo model is made on
/// first use: the review needs its shape), the settings, and the precision for the planned GPU.
pub async fn prepare(studio: &Studio, p: &TrainParams) -> Result<Prepared> {
    let form = p.clone();
    let dataset = studio.db().call(move |c| chosen_dataset(c, &form)).await?;
    let base = if text(&p.model_kind) == Some("tiny") {
        TrainConfig::tiny_demo(super::ensure_tiny_model(studio.settings()).await?.to_string_lossy())
    } else {
        // The guide's model unless another is named.
        let default = TrainConfig::default();
        TrainConfig { model_name_or_path: text(&p.model).map_or(default.model_name_or_path.clone(), str::to_owned), ..default }
    };
    let mut config = base.with_params(p)?;
    config.use_dataset(&dataset);
    if let Some(stage) = text(&p.stage) {
        config.stage = stage.parse()?;
    }
    let hardware = crate::hardware::detect().await;
    let target = target(&hardware, number("target_gpu", &p.target_gpu)?, number("gpus", &p.gpus)?);
    let choice = match config.backend {
        // MLX loads the model as it is: the choice is not read.
        Backend::Mlx => PrecisionChoice::Auto,
        _ => text(&p.quantization_bit).unwrap_or("auto").parse()?,
    };
    let precision = set_precision(&mut config, choice, &target);
    // The supervisor sets the real output folder; this one only lets the settings be checked.
    config.output_dir = studio.settings().data_dir.join("runs").join("(new)").join("output");
    // The stage's data (refused with its counts when it cannot train), KTO's weights, and the
    // adapter a preference run starts from.
    let (c, d) = (config, dataset);
    let (config, dataset, stage) = studio
        .db()
        .call(move |conn| {
            let mut c = c;
            let stage = super::prefs::prepare(conn, &mut c, &d)?;
            Ok((c, d, stage))
        })
        .await?;
    config.validate()?;
    Ok(Prepared { config, dataset, precision, target, hardware, stage })
}

/// How many examples a run trains on and how many steps that makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// Training examples (the held-out split left out; at least 1).
    pub examples: u64,
    /// ⌈examples ÷ (batch × accumulation)⌉.
    pub per_epoch: u64,
    /// `max_steps` when set, else ⌈per_epoch × epochs⌉.
    pub total: u64,
}

pub fn steps(config: &TrainConfig, dataset: &Dataset) -> Steps {
    let examples = dataset.examples.saturating_sub(dataset.validation).max(1);
    let per_step = u64::from(config.per_device_train_batch_size * config.gradient_accumulation_steps).max(1);
    let per_epoch = examples.div_ceil(per_step);
    let total = config.max_steps.unwrap_or((per_epoch as f64 * config.num_train_epochs).ceil() as u64);
    Steps { examples, per_epoch, total }
}

/// The time a run takes, from the seconds per step of the latest finished run of the same model
/// here ([`runs::seconds_per_step`]).
pub fn time_estimate(seconds_per_step: Option<f64>, total_steps: u64) -> String {
    match seconds_per_step {
        Some(s) => {
            let total = (s * total_steps as f64).round() as u64;
            format!("about {}m{:02}s (from your last run of this model here: {s:.2} s a step)", total / 60, total % 60)
        }
        None => "unknown until a first run of this model has finished here".to_owned(),
    }
}

/// The memory verdict in words, with its parts and one-click suggestions (an error sentence when
/// the model's shape is unknown).
pub fn memory_plan(config: &TrainConfig, target: &PlannedTarget) -> std::result::Result<MemoryPlan, String> {
    memory(config, target).map(|v| MemoryPlan {
        fit: v.fit,
        total: human_bytes(v.estimate.total_bytes),
        gpu: target.target.map(|t| format!("{}, {}", target.name, human_bytes(t.memory_bytes))),
        parts: v.estimate.parts.iter().map(|(k, b)| (k.clone(), human_bytes(*b))).collect(),
        formula: v.estimate.formula,
        message: v.message,
        suggestions: v.suggestions,
    })
}

/// The same settings for the trainers garden-eden does not run (or that the run does not use).
pub fn other_backends(config: &TrainConfig, dataset: &Dataset) -> Vec<BackendPlan> {
    Backend::ALL
        .into_iter()
        .filter(|b| !b.runs_here() && *b != config.backend)
        .map(|b| match launch(b, config, Path::new(&dataset.path), dataset.format.as_str()) {
            Ok(l) => BackendPlan { label: b.label().to_owned(), files: l.files, command: l.command.join(" "), notes: l.notes, error: None },
            Err(e) => BackendPlan { label: b.label().to_owned(), files: vec![], command: String::new(), notes: vec![], error: Some(e.to_string()) },
        })
        .collect()
}

/// What the wizard reviews before launch: the exact configuration the trainer is given, the
/// steps and time, the GPU and precision, the memory estimate, missing extras, other trainers.
pub async fn review(studio: &Studio, p: &TrainParams) -> Result<TrainPlan> {
    let Prepared { config, dataset, precision, target, hardware, stage } = prepare(studio, p).await?;
    let steps = steps(&config, &dataset);
    let model = config.model_name_or_path.clone();
    let per_step = studio.db().call(move |c| runs::seconds_per_step(c, &model)).await?;
    let mlx = config.backend == Backend::Mlx;
    let cluster = match config.cluster.clone() {
        Some(name) => Some(super::ray::target(studio, &name, &config).await?),
        None => None,
    };
    let yaml = if let Some(gpus) = cluster.as_ref().map(|c| c.gpus.unwrap_or(0)) {
        super::ray::remote_yaml(&config, gpus)
    } else if mlx {
        // What the MLX runner will be given (its data folder is made in the run's folder).
        let data = Path::new("<run folder>/mlx-data");
        serde_json::to_string_pretty(&super::mlx::config_for(&config, data, steps.examples, None)).unwrap_or_default()
    } else {
        config.to_yaml(hardware.device())
    };
    let preference = config.stage.is_preference();
    let starting_adapter = match config.adapter_name_or_path.clone() {
        Some(path) => Some(studio.db().call(move |c| adapter_label(c, &path)).await?),
        None => None,
    };
    Ok(TrainPlan {
        starting_adapter,
        pref_loss: (config.stage == Stage::Dpo).then_some(config.pref_loss),
        pref_beta: preference.then_some(config.pref_beta),
        yaml,
        backend: config.backend.label().to_owned(),
        backend_notes: if mlx { super::mlx::limitations(&config) } else { Vec::new() },
        trust_remote_code: config.trust_remote_code,
        examples: steps.examples,
        steps_per_epoch: steps.per_epoch,
        total_steps: steps.total,
        time_estimate: Some(time_estimate(per_step, steps.total)),
        memory: memory_plan(&config, &target),
        other_backends: other_backends(&config, &dataset),
        device: match &cluster {
            Some(c) => format!("on the Ray cluster {} ({})", c.name, c.resources.as_ref().map_or_else(|e| e.clone(), |r| r.summary())),
            None if target.detected => hardware.summary(),
            None => format!("planned for a {}", target.name),
        },
        precision,
        // The cluster's Python is checked when the run is handed to it.
        missing_extras: if cluster.is_some() { Vec::new() } else { missing_extras(&studio.settings().python_path(), &config).await },
        stage: Some(stage),
        cluster,
    })
}

/// An adapter folder as people know it: `name version` when it is registered, else the folder.
fn adapter_label(conn: &Connection, path: &Path) -> Result<String> {
    let found = crate::adapters::list(conn)?.into_iter().find(|a| Path::new(&a.path) == path);
    Ok(found.map_or_else(|| path.display().to_string(), |a| format!("{} ({})", a.label(), a.path)))
}

/// The export format a stage's data is made with from the history: OpenAI messages for SFT (one
/// example per conversation), KTO's for KTO, preference pairs for DPO.
pub fn history_format(stage: Stage) -> Format {
    match stage {
        Stage::Sft => Format::Openai,
        Stage::Kto => Format::Kto,
        Stage::Dpo => Format::Pairs,
    }
}

/// What the history holds for `stage` (from `since`, Unix ms, when given), and, when it could not
/// train, why and what to do:
/// - SFT: the conversations with an answer (the dataset's filter then chooses among them);
/// - KTO: the answers rated up and down (a conversation rated only as a whole counts once, by
///   its satisfaction), and the class weights they give; counted in SQL, before duplicates are
///   dropped (the review counts the exported file exactly);
/// - DPO: the pairs a pairs export with the default curation would write, by source (the
///   export's own pipeline, nothing written), at least [`prefs::MIN_PAIRS`] for training.
pub fn history_stage_data(conn: &Connection, stage: Stage, since: Option<i64>) -> Result<StageData> {
    let from = since.unwrap_or(i64::MIN);
    let whence = if since.is_some() { "what came since the last export" } else { "your history" };
    let mut data = StageData {
        stage,
        label: stage.label().to_owned(),
        explanation: stage.explanation().to_owned(),
        examples: 0,
        kto: None,
        pairs: None,
        refusal: None,
    };
    match stage {
        Stage::Sft => {
            let n: i64 = conn.query_row(
                "SELECT COUNT(*) FROM conversations c WHERE c.created_at >= ?1
                    AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.role = 'assistant')",
                [from],
                |r| r.get(0),
            )?;
            data.examples = n as u64;
            if n == 0 {
                data.refusal = Some(format!(
                    "no conversation with an answer to learn from in {whence}: import your history (Import) or chat, \
                     then build a dataset (Datasets)"
                ));
            }
        }
        Stage::Kto => {
            let (up, down): (i64, i64) = conn.query_row(
                "SELECT COALESCE(SUM(f.thumbs = 1), 0), COALESCE(SUM(f.thumbs = -1), 0)
                   FROM feedback f JOIN messages m ON m.id = f.message_id JOIN conversations c ON c.id = m.conversation_id
                  WHERE f.thumbs IS NOT NULL AND m.role = 'assistant' AND c.created_at >= ?1",
                [from],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let (whole_up, whole_down): (i64, i64) = conn.query_row(
                &format!(
                    "SELECT COALESCE(SUM(s >= 0.5), 0), COALESCE(SUM(s < 0.5), 0) FROM (
                        SELECT {} AS s FROM conversations c WHERE c.created_at >= ?1
                           AND NOT EXISTS (SELECT 1 FROM feedback g WHERE g.conversation_id = c.id AND g.thumbs IS NOT NULL)
                           AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.role = 'assistant'))
                      WHERE s IS NOT NULL",
                    crate::conversations::SCORE_SQL
                ),
                [from],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let b = prefs::balance((up + whole_up) as u64, (down + whole_down) as u64);
            data.examples = b.desirable + b.undesirable;
            if b.desirable == 0 || b.undesirable == 0 {
                let missing = if b.desirable == 0 { "up" } else { "down" };
                data.refusal = Some(format!(
                    "KTO needs answers rated up and answers rated down, and {whence} has {} rated up and {} rated \
                     down: rate some answers {missing} (Chat, or a conversation's page)",
                    b.desirable, b.undesirable
                ));
            }
            data.kto = Some(b);
        }
        Stage::Dpo => {
            let filter = DataFilter { since, ..DataFilter::default() };
            let preview = crate::export::preview(conn, Format::Pairs, &filter, &Curation::default(), 0)?;
            let c = &preview.counts;
            let pairs = c.pairs.clone().unwrap_or_default();
            data.examples = c.written;
            if c.train < prefs::MIN_PAIRS {
                data.refusal = Some(format!(
                    "DPO needs at least {} preference pairs for training, and {whence} gives {} ({} from votes, {} from \
                     thumbs; {} votes were ties or \"both bad\"): vote for the better answer in Compare, or rate two answers \
                     to the same question one up and one down",
                    prefs::MIN_PAIRS,
                    c.train,
                    pairs.from_votes,
                    pairs.from_thumbs,
                    pairs.ties + pairs.both_bad
                ));
            }
            data.pairs = Some(pairs);
        }
    }
    Ok(data)
}

/// What the wizard's data step offers, a stage each: what the history holds for it (see
/// [`history_stage_data`]) or, when that cannot train, an earlier export that can (the newest).
/// A stage with `refusal` set is not offered; its refusal says why.
pub fn stage_options(conn: &Connection) -> Result<Vec<StageData>> {
    let datasets = crate::export::list(conn)?;
    Stage::ALL
        .into_iter()
        .map(|stage| {
            let history = history_stage_data(conn, stage, None)?;
            if history.refusal.is_none() {
                return Ok(history);
            }
            for d in datasets.iter().filter(|d| prefs::stage_for(d.format) == stage) {
                match prefs::stage_data(stage, d) {
                    Ok(data) if data.refusal.is_none() => return Ok(data),
                    // An export whose file is gone or unreadable is simply not offered.
                    _ => continue,
                }
            }
            Ok(history)
        })
        .collect()
}

/// Exports the data a preference stage trains on: the thumbs as KTO examples, or the votes and
/// thumbs as preference pairs, with the default curation (duplicates, PII, a validation split);
/// `since` (Unix ms) takes only what came from then on. SFT's data is built on Datasets, where
/// the filter is chosen.
pub fn export_stage_data(conn: &mut Connection, data_dir: &Path, stage: Stage, since: Option<i64>, name: Option<String>) -> Result<Dataset> {
    if stage == Stage::Sft {
        return Err(Error::invalid(
            "stage",
            "SFT trains on conversations chosen by a filter: build that dataset on Datasets (New dataset)",
        ));
    }
    let request = ExportRequest {
        name: Some(name.unwrap_or_else(|| {
            let at = crate::time::format_iso(crate::now_ms()).replace([':', '-'], "");
            format!("{}-{}", if stage == Stage::Kto { "thumbs" } else { "pairs" }, at.trim_end_matches('Z').replace('T', "-").split('.').next().unwrap_or(""))
        })),
        format: history_format(stage),
        filter: DataFilter { since, ..DataFilter::default() },
        curation: Curation::default(),
        output: None,
    };
    crate::export::export(conn, data_dir, &request, &mut |_, _| {})
}

/// Queues the reviewed run, named by the form or after its dataset and model.
pub async fn start(supervisor: &Supervisor, p: &TrainParams) -> Result<Run> {
    let Prepared { config, dataset, .. } = prepare(supervisor.studio(), p).await?;
    let name = p.name.clone().filter(|n| !n.trim().is_empty());
    let name = name.unwrap_or_else(|| format!("{} on {}", dataset.name, short_model(&config.model_name_or_path)));
    supervisor.submit(NewRun { name, dataset_id: Some(dataset.id), config }).await
}

/// A model's folder name, or its id.
fn short_model(m: &str) -> String {
    Path::new(m).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| m.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::{Gpu, GpuKind};

    fn rtx(gb: u64) -> Hardware {
        Hardware {
            kind: GpuKind::Nvidia,
            gpus: vec![Gpu {
                name: "NVIDIA GeForce RTX 4090".into(),
                total_bytes: gb * GIB,
                free_bytes: Some(gb * GIB),
                compute_capability: Some("8.9".into()),
                bf16: true,
            }],
            note: None,
        }
    }

    #[test]
    fn the_guides_default_on_a_24_gb_gpu_is_qlora() {
        let t = target(&rtx(24), None, None);
        assert!(t.detected && t.name.contains("4090"));
        let mut c = TrainConfig { dataset: "d".into(), ..TrainConfig::default() };
        let sentence = choose_precision(&mut c, &t).unwrap();
        assert_eq!(c.quantization_bit, Some(4), "{sentence}");
        assert!(sentence.contains("RTX 4090"), "{sentence}");
        assert_eq!(memory(&c, &t).unwrap().fit, super::super::estimate::Fit::Fits);
    }

    fn form(pairs: &[(&str, &str)]) -> TrainParams {
        TrainParams::from_pairs(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())))
    }

    fn field_of(r: Result<TrainConfig>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_form_builds_the_config() {
        let c = TrainConfig::default()
            .with_params(&form(&[
                ("lora_rank", "8"),
                ("per_device_train_batch_size", "8"),
                ("gradient_accumulation_steps", "2"),
                ("deepspeed", "z3"),
                ("adjust", "out_of_memory"),
                ("backend", "mlx"),
                ("trust_remote_code", "on"),
            ]))
            .unwrap();
        assert_eq!(c.lora_rank, 8);
        assert_eq!((c.per_device_train_batch_size, c.gradient_accumulation_steps), (4, 4), "the adjustment comes after the numbers");
        assert_eq!(c.deepspeed, Some(ZeroStage::Zero3));
        assert_eq!(c.backend, Backend::Mlx);
        assert!(c.trust_remote_code);
        let plain = TrainConfig::default().with_params(&TrainParams::default()).unwrap();
        assert_eq!(plain, TrainConfig::default());
        assert_eq!(field_of(TrainConfig::default().with_params(&form(&[("lora_rank", "many")]))), "lora_rank");
        assert_eq!(field_of(TrainConfig::default().with_params(&form(&[("deepspeed", "z1")]))), "deepspeed");
        assert_eq!(field_of(TrainConfig::default().with_params(&form(&[("adjust", "louder")]))), "adjust");
        assert_eq!(field_of(TrainConfig::default().with_params(&form(&[("backend", "axolotl")]))), "backend");
        assert!(matches!("16".parse::<PrecisionChoice>(), Err(Error::Invalid { field, .. }) if field == "quantization_bit"));
    }

    #[test]
    fn precision_as_chosen() {
        let t = target(&rtx(24), None, None);
        let mut c = TrainConfig::default();
        assert!(set_precision(&mut c, PrecisionChoice::Bits8, &t).starts_with("8-bit"));
        assert_eq!(c.quantization_bit, Some(8));
        set_precision(&mut c, PrecisionChoice::Full, &t);
        assert_eq!(c.quantization_bit, None);
        let mut mlx = TrainConfig { backend: Backend::Mlx, quantization_bit: Some(4), ..TrainConfig::default() };
        assert!(set_precision(&mut mlx, PrecisionChoice::Bits4, &t).starts_with("MLX"));
        assert_eq!(mlx.quantization_bit, None);
        assert_eq!(time_estimate(Some(0.5), 150), "about 1m15s (from your last run of this model here: 0.50 s a step)");
    }

    const TOPICS: [&str; 12] = ["tea", "rain", "bread", "rivers", "owls", "maps", "snow", "moss", "kites", "honey", "clocks", "bridges"];

    /// A fresh database: `ups` answers rated up and `downs` rated down (each its own question),
    /// and `votes` side-by-side votes with a winner plus a tie.
    fn history(ups: usize, downs: usize, votes: usize) -> Connection {
        use crate::conversations::{store, NewConversation, NewMessage, Role};
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        crate::migrate::apply(&mut c, Path::new(":memory:")).unwrap();
        let conversations: Vec<NewConversation> = (0..ups + downs)
            .map(|i| {
                let m = |role, content: String, thumbs| NewMessage { role, content, created_at: 1_000 + i as i64, model: None, thumbs };
                let topic = TOPICS[i];
                let answer = if i < ups { format!("Here is what I know about {topic}, with one clear example.") } else { format!("Whatever, {topic}.") };
                NewConversation {
                    source_ref: format!("c{i}"),
                    title: format!("c{i}"),
                    created_at: 1_000 + i as i64,
                    messages: vec![m(Role::User, format!("Could you tell me about {topic}?"), None), m(Role::Assistant, answer, Some(if i < ups { 1 } else { -1 }))],
                    satisfaction: None,
                }
            })
            .collect();
        let tx = c.transaction().unwrap();
        store(&tx, "test", None, conversations).unwrap();
        tx.commit().unwrap();
        let add = |c: &mut Connection, name: &str| {
            let new = crate::infer::NewEndpoint { name: name.into(), kind: "openai".into(), url: "http://127.0.0.1:9".into(), model: format!("{name}:1"), adapter_id: None };
            crate::infer::add_endpoint(c, new).unwrap().id
        };
        let (a, b) = (add(&mut c, "base"), add(&mut c, "eden"));
        for (i, topic) in TOPICS.iter().enumerate().take(votes + 1) {
            c.execute(
                "INSERT INTO votes (id, prompt, endpoint_a, endpoint_b, answer_a, answer_b, left_arm, blind, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'a', 1, 0)",
                rusqlite::params![format!("v{i}"), format!("Say something nice about {topic}."), a, b, format!("{topic} make an ordinary day brighter."), "No."],
            )
            .unwrap();
            let winner = if i == votes { crate::compare::Winner::Tie } else { crate::compare::Winner::A };
            crate::compare::vote(&mut c, &format!("v{i}"), winner).unwrap();
        }
        c
    }

    fn option(options: &[StageData], stage: Stage) -> &StageData {
        options.iter().find(|o| o.stage == stage).unwrap()
    }

    #[test]
    fn a_stage_is_offered_only_when_its_data_exists() {
        // Answers rated up only, and no vote with a winner: SFT only.
        let c = history(5, 0, 0);
        let options = stage_options(&c).unwrap();
        assert_eq!(options.iter().map(|o| o.stage).collect::<Vec<_>>(), Stage::ALL.to_vec());
        assert_eq!((option(&options, Stage::Sft).refusal.clone(), option(&options, Stage::Sft).examples), (None, 5));
        let kto = option(&options, Stage::Kto);
        assert!(kto.refusal.as_deref().is_some_and(|r| r.contains("your history has 5 rated up and 0 rated down")), "{kto:?}");
        let dpo = option(&options, Stage::Dpo);
        assert!(dpo.refusal.as_deref().is_some_and(|r| r.contains("at least 4 preference pairs") && r.contains("gives 0")), "{dpo:?}");
        assert_eq!(dpo.pairs.as_ref().map(|p| p.ties), Some(1));

        // Both classes, and six votes with a winner: all three, with their counts.
        let c = history(6, 2, 6);
        let options = stage_options(&c).unwrap();
        let kto = option(&options, Stage::Kto);
        assert_eq!(kto.refusal, None);
        assert_eq!(kto.examples, 8);
        assert_eq!(kto.kto, Some(prefs::balance(6, 2)));
        let dpo = option(&options, Stage::Dpo);
        assert_eq!(dpo.refusal, None, "{dpo:?}");
        let pairs = dpo.pairs.clone().unwrap();
        assert_eq!((dpo.examples, pairs.from_votes, pairs.from_thumbs, pairs.ties), (6, 6, 0, 1));
        assert_eq!(dpo.label, Stage::Dpo.label());
    }

    #[test]
    fn the_data_step_exports_a_preference_stages_data_and_the_form_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = history(4, 3, 6);
        let form = |stage: &str, dataset: Option<&str>| TrainParams { stage: Some(stage.into()), dataset_id: dataset.map(str::to_owned), ..TrainParams::default() };
        let none = chosen_dataset(&c, &form("dpo", None)).unwrap_err().to_string();
        assert!(none.contains("no preference pairs dataset yet"), "{none}");
        let pairs = export_stage_data(&mut c, dir.path(), Stage::Dpo, None, None).unwrap();
        assert_eq!((pairs.format, pairs.name.starts_with("pairs-")), (Format::Pairs, true));
        let kto = export_stage_data(&mut c, dir.path(), Stage::Kto, None, Some("thumbs".into())).unwrap();
        assert_eq!((kto.format, kto.name.as_str()), (Format::Kto, "thumbs"));
        assert!(export_stage_data(&mut c, dir.path(), Stage::Sft, None, None).unwrap_err().to_string().contains("Datasets"));
        // Only a stage chosen: its newest dataset.
        assert_eq!(chosen_dataset(&c, &form("dpo", None)).unwrap().id, pairs.id);
        assert_eq!(chosen_dataset(&c, &form("kto", None)).unwrap().id, kto.id);
        assert_eq!(chosen_dataset(&c, &form("dpo", Some(&kto.id))).unwrap().id, kto.id, "a dataset chosen is taken as it is");
        assert!(chosen_dataset(&c, &TrainParams::default()).unwrap_err().to_string().contains("choose a dataset"));
        // Nothing new since: what a cycle would add is empty.
        let later = history_stage_data(&c, Stage::Dpo, Some(crate::now_ms() + 1)).unwrap();
        assert!(later.refusal.as_deref().is_some_and(|r| r.contains("what came since the last export gives 0")), "{later:?}");
    }

    #[test]
    fn planning_for_another_gpu_or_the_cpu() {
        let cpu = target(&Hardware::cpu_only(), None, None);
        assert_eq!(cpu.target, None);
        let planned = target(&Hardware::cpu_only(), Some(80), Some(2));
        assert_eq!(planned.target, Some(Target { memory_bytes: 80 * GIB, count: 2 }));
        assert!(!planned.detected);
        let mut c = TrainConfig::default();
        assert!(choose_precision(&mut c, &planned).unwrap().starts_with("Full precision"));
        assert_eq!(c.quantization_bit, None);
        let mut unknown = TrainConfig { model_name_or_path: "someone/unknown-model".into(), ..TrainConfig::default() };
        assert_eq!(choose_precision(&mut unknown, &planned), None);
        assert!(memory(&unknown, &planned).is_err());
    }
}
