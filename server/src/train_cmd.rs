//! `garden-eden train` and `garden-eden runs …`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use garden_core::train::extras::{self, Extra};
use garden_core::train::config::Stage;
use garden_core::train::plan::{self, PrecisionChoice};
use garden_core::train::prefs::{self, StageData};
use garden_core::train::runs::{self, ModelState, Phase, RunStatus};
use garden_core::train::supervisor::{self, NewRun};
use garden_core::train::{Supervisor, TrainConfig};
use garden_core::Studio;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The dataset to train on: its id or name (see `garden-eden datasets list`). Optional with a
    /// --config YAML that names its own dataset and dataset_dir.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Base model: a local folder or a Hugging Face id from your hub cache.
    #[arg(long, conflicts_with = "tiny")]
    pub model: Option<String>,
    /// Use the tiny demo model (CPU, seconds) at this folder (make it with python/make_tiny_model.py).
    #[arg(long, value_name = "DIR")]
    pub tiny: Option<PathBuf>,
    /// A run name.
    #[arg(long, default_value = "run")]
    pub name: String,
    /// Settings: a LLaMA-Factory training YAML (.yaml/.yml, as in its examples or the Garden of Eden
    /// guide) or garden-eden's JSON (the `config` of `runs show --json`); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub lora_rank: Option<u32>,
    #[arg(long)]
    pub lora_alpha: Option<u32>,
    #[arg(long)]
    pub epochs: Option<f64>,
    #[arg(long)]
    pub max_steps: Option<u64>,
    #[arg(long)]
    pub learning_rate: Option<f64>,
    #[arg(long)]
    pub batch_size: Option<u32>,
    /// Load the base model in 4 bits (QLoRA) or 8 bits; `none` for full precision. Left out,
    /// garden-eden chooses for this machine's GPU (full precision when it fits with margin, else
    /// 4-bit) and says why.
    #[arg(long, value_name = "4|8|none", value_parser = ["4", "8", "none"])]
    pub quantization_bit: Option<String>,
    /// The trainer: LLaMA-Factory (default), or MLX (mlx-lm: Apple silicon, or wherever `mlx`
    /// imports).
    #[arg(long, value_name = "llamafactory|mlx", value_parser = ["llamafactory", "mlx"])]
    pub backend: Option<String>,
    /// Run Python code that ships with the model (trust_remote_code). Only for models whose code
    /// you trust: it runs with your rights.
    #[arg(long)]
    pub trust_remote_code: bool,
    /// Queue it and return instead of following it.
    #[arg(long)]
    pub detach: bool,
    /// Print the review (precision, GPU memory estimate, the YAML) as JSON and start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Plan for a GPU of this many GB (another machine) instead of this machine's.
    #[arg(long, value_name = "GB")]
    pub plan_gpu: Option<u64>,
    /// What the run teaches: sft (your good conversations), kto (answers rated up and down: a
    /// `--format kto` export) or dpo (your side-by-side choices: a `--format pairs` export).
    /// Default: the dataset's own (kto exports train kto, pairs dpo, the rest sft).
    #[arg(long, value_name = "sft|kto|dpo", value_parser = ["sft", "kto", "dpo"])]
    pub stage: Option<String>,
    /// DPO's loss: sigmoid (DPO, against a reference: the adapter it starts from, or the base),
    /// orpo or simpo (reference-free: no second model in memory).
    #[arg(long, value_name = "sigmoid|orpo|simpo", value_parser = ["sigmoid", "orpo", "simpo"])]
    pub pref_loss: Option<String>,
    /// β of the preference loss (default 0.1): how far the model may move from its reference.
    #[arg(long, value_name = "B")]
    pub pref_beta: Option<f64>,
    /// Train on this registered Ray cluster (`garden-eden clusters add`) instead of this machine:
    /// the live charts and the adapter come back here.
    #[arg(long, value_name = "CLUSTER")]
    pub on: Option<String>,
    /// GPUs to ask of the cluster (with --on): default one when it has any, else its CPUs; more
    /// than one trains across that many Ray workers.
    #[arg(long, value_name = "N", requires = "on")]
    pub gpus: Option<u32>,
}

pub async fn train(studio: Studio, args: TrainArgs) -> anyhow::Result<()> {
    let mut config = match (&args.config, &args.tiny) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if is_yaml {
                garden_core::train::yaml::from_llamafactory_yaml(&text).with_context(|| path.display().to_string())?
            } else {
                serde_json::from_str::<TrainConfig>(&text).with_context(|| format!("{} is not a training config", path.display()))?
            }
        }
        (None, Some(tiny)) => TrainConfig::tiny_demo(tiny.to_string_lossy()),
        (None, None) => TrainConfig::default(),
    };
    if let Some(tiny) = &args.tiny {
        config.model_name_or_path = tiny.to_string_lossy().into_owned();
    }
    if let Some(model) = args.model {
        config.model_name_or_path = model;
    }
    let mut dataset_id = None;
    let mut chosen_dataset = None;
    match &args.dataset {
        Some(wanted) => {
            let wanted = wanted.clone();
            let dataset = studio
                .db()
                .call(|c| garden_core::export::list(c))
                .await?
                .into_iter()
                .find(|d| d.id == wanted || d.name == wanted)
                .with_context(|| format!("no dataset '{wanted}' (see `garden-eden datasets list`)"))?;
            config.use_dataset(&dataset);
            dataset_id = Some(dataset.id.clone());
            chosen_dataset = Some(dataset);
        }
        None if config.dataset.is_empty() => bail!("give --dataset (see `garden-eden datasets list`), or a --config YAML that names a dataset"),
        None => {}
    }
    if let Some(v) = args.lora_rank {
        config.lora_rank = v;
    }
    if let Some(v) = args.lora_alpha {
        config.lora_alpha = v;
    }
    if let Some(v) = args.epochs {
        config.num_train_epochs = v;
    }
    if args.max_steps.is_some() {
        config.max_steps = args.max_steps;
    }
    if let Some(v) = args.learning_rate {
        config.learning_rate = v;
    }
    if let Some(v) = args.batch_size {
        config.per_device_train_batch_size = v;
    }
    if args.trust_remote_code {
        config.trust_remote_code = true;
        eprintln!("trust_remote_code: this run executes Python code that comes with the model.");
    }
    if let Some(backend) = &args.backend {
        config.backend = backend.parse().context("--backend")?;
    }
    if let Some(stage) = &args.stage {
        config.stage = stage.parse()?;
    }
    if let Some(loss) = &args.pref_loss {
        if config.stage != Stage::Dpo {
            bail!("--pref-loss is for the dpo stage (a pairs dataset, or --stage dpo); this run trains {}", config.stage.as_str());
        }
        config.pref_loss = loss.parse()?;
    }
    if args.on.is_some() {
        config.cluster = args.on.clone();
        config.gpus = args.gpus;
    }
    if let Some(beta) = args.pref_beta {
        if !config.stage.is_preference() {
            bail!("--pref-beta is for the kto and dpo stages; this run trains {}", config.stage.as_str());
        }
        config.pref_beta = beta;
    }
    // What the stage trains on, as the wizard's review shows it: refused (with the counts and
    // what to do) when the data cannot teach it; KTO's class weights; the adapter a preference
    // run starts from (the active one).
    let stage_data = match chosen_dataset {
        Some(dataset) => {
            let mut c = config.clone();
            let (config2, data) = studio
                .db()
                .call(move |conn| {
                    let data = prefs::prepare(conn, &mut c, &dataset)?;
                    Ok((c, data))
                })
                .await?;
            config = config2;
            if config.stage.is_preference() && !args.dry_run {
                println!("{}", stage_line(&config, &data));
            }
            Some(data)
        }
        None => None,
    };
    let mlx = config.backend == garden_core::train::backends::Backend::Mlx;
    if mlx {
        for note in garden_core::train::mlx::limitations(&config) {
            println!("MLX: {note}");
        }
    }
    let hardware = garden_core::hardware::detect().await;
    let target = plan::target(&hardware, args.plan_gpu, None);
    let mut precision = None;
    match args.quantization_bit.as_deref() {
        Some(choice) => {
            plan::set_precision(&mut config, choice.parse::<PrecisionChoice>().context("--quantization-bit")?, &target);
        }
        // A YAML that sets quantization_bit, or the tiny model, keeps its own settings.
        // On a cluster, its GPUs decide: the person sets --quantization-bit for them.
        None if args.config.is_none() && args.tiny.is_none() && !mlx && args.on.is_none() => {
            precision = plan::choose_precision(&mut config, &target);
            if let (Some(sentence), false) = (&precision, args.dry_run) {
                println!("{sentence}");
            }
        }
        None => {}
    }
    if args.dry_run {
        // Where it would go: this machine, or the cluster with what it has and the GPUs asked.
        let cluster = match &args.on {
            Some(name) => {
                let name = name.clone();
                let c = studio.db().call(move |c| garden_core::train::ray::get(c, &name)).await?;
                let view = garden_core::train::ray::view(vec![c]).await.remove(0);
                let gpus = view.resources.as_ref().map(|r| garden_core::train::ray::gpus_for(&config, r.gpus)).ok();
                Some(serde_json::json!({ "cluster": view, "gpus": gpus }))
            }
            None => None,
        };
        let yaml = match cluster.as_ref().and_then(|c| c["gpus"].as_u64()) {
            Some(gpus) => garden_core::train::ray::remote_yaml(&config, gpus as u32),
            None => config.to_yaml(hardware.device()),
        };
        let memory = plan::memory(&config, &target);
        let review = serde_json::json!({
            "target": target,
            "precision": precision,
            "quantization_bit": config.quantization_bit,
            "memory": memory.as_ref().ok(),
            "memory_error": memory.as_ref().err(),
            "missing_extras": plan::missing_extras(&studio.settings().python_path(), &config).await,
            "stage": stage_data,
            "on": cluster,
            "yaml": yaml,
        });
        println!("{}", serde_json::to_string_pretty(&review)?);
        return Ok(());
    }
    let supervisor = Supervisor::start(studio.clone()).await?;
    let run = match supervisor.submit(NewRun { name: args.name.clone(), dataset_id: dataset_id.clone(), config: config.clone() }).await {
        Err(garden_core::Error::MissingExtra { extra, purpose, python, command }) => {
            // Nothing was launched. Offer to install it here, or say exactly how.
            eprintln!("This run needs {extra} ({purpose}), which the trainer's Python ({}) does not have.", python.display());
            if !std::io::stdin().is_terminal() {
                bail!("install it with `garden-eden extras install {extra}`, or run: {command}");
            }
            eprint!("Install {extra} into that environment now with pip? [y/N] ");
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if !answer.trim().eq_ignore_ascii_case("y") {
                bail!("not installed; to install it later: garden-eden extras install {extra}   (or: {command})");
            }
            let extras: Vec<Extra> = extra.split_whitespace().map(extras::parse).collect::<Result<_, _>>()?;
            install_extras(&python, &extras).await?;
            supervisor.submit(NewRun { name: args.name, dataset_id, config }).await?
        }
        other => other?,
    };
    println!("Run {} queued (output in {})", run.id, run.output_dir);
    if args.detach {
        return Ok(());
    }
    let done = follow(&studio, &run.id).await?;
    report(&done);
    if done.stage.is_preference() {
        print_rewards(&studio, &done).await?;
    }
    if done.status != RunStatus::Succeeded {
        bail!("run {} {}", done.id, done.status.as_str());
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Every run, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One run: status, settings, final losses.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a run gracefully (its adapter is saved), by force after 30 s.
    Cancel { id: String },
    /// Continue a cancelled, failed or interrupted run from its last checkpoint, and follow it.
    Resume { id: String },
    /// Print the trainer's log; --follow shows progress until the run ends.
    Logs {
        id: String,
        #[arg(long, short)]
        follow: bool,
    },
}

pub async fn runs_command(studio: Studio, command: RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::List { json } => {
            let list = studio.db().call(|c| runs::list(c)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No runs yet: `garden-eden train --dataset <name>` starts one.");
            } else {
                for r in list {
                    println!(
                        "{}  {:<10} {:<4} {:<16} loss {:<8} eval {:<8} {}",
                        r.id,
                        r.status.as_str(),
                        r.stage.as_str(),
                        r.name,
                        r.final_loss.map_or("-".into(), |l| format!("{l:.4}")),
                        r.final_eval_loss.map_or("-".into(), |l| format!("{l:.4}")),
                        garden_core::time::format_iso(r.created_at)
                    );
                }
            }
        }
        RunsCommand::Show { id, json } => {
            let run = studio.db().call(move |c| runs::get(c, &id)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&run)?);
            } else {
                report(&run);
                println!("\n{}", run.yaml);
            }
        }
        RunsCommand::Cancel { id } => {
            let run = supervisor::cancel(studio.db(), &id).await?;
            println!("Run {} {}", run.id, if run.status == RunStatus::Cancelled { "cancelled" } else { "is stopping (saving its adapter)" });
        }
        RunsCommand::Resume { id } => {
            let supervisor = Supervisor::start(studio.clone()).await?;
            let run = supervisor.resume(&id).await?;
            let done = follow(&studio, &run.id).await?;
            report(&done);
        }
        RunsCommand::Logs { id, follow: keep } => {
            let run = studio.db().call({ let id = id.clone(); move |c| runs::get(c, &id) }).await?;
            let text = std::fs::read_to_string(&run.log_path).unwrap_or_default();
            print!("{text}");
            if keep && !run.status.is_finished() {
                let done = follow(&studio, &run.id).await?;
                report(&done);
            }
        }
    }
    Ok(())
}

/// `garden-eden extras …`: the trainer's optional GPU packages.
#[derive(Subcommand, Debug)]
pub enum ExtrasCommand {
    /// Which extras the trainer's Python has.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Install extras into the trainer's Python with pip (bitsandbytes, deepspeed).
    Install {
        #[arg(required = true)]
        names: Vec<String>,
    },
}

pub async fn extras_command(studio: Studio, command: ExtrasCommand) -> anyhow::Result<()> {
    let python = studio.settings().python_path();
    match command {
        ExtrasCommand::List { json } => {
            let list = garden_core::train::extras::status(&python).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for e in list {
                    let state = e.installed.map_or_else(|| "not installed".to_owned(), |v| format!("{v} installed"));
                    println!("{:<14} {:<16} {}  (installs {})", e.package, state, e.purpose, e.pin);
                }
            }
        }
        ExtrasCommand::Install { names } => {
            let extras: Vec<Extra> = names.iter().map(|n| extras::parse(n)).collect::<Result<_, _>>()?;
            install_extras(&python, &extras).await?;
        }
    }
    Ok(())
}

/// pip into the trainer's environment, with a progress bar for each download.
async fn install_extras(python: &std::path::Path, extras: &[Extra]) -> anyhow::Result<()> {
    let pins: Vec<&str> = extras.iter().map(|e| e.pin()).collect();
    println!("Installing {} into {}", pins.join(" "), garden_core::train::extras::environment(python).display());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {msg:40!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("#-"),
    );
    garden_core::train::extras::install(python, extras, |p| match (p.done_bytes, p.total_bytes) {
        (Some(done), Some(total)) => {
            bar.set_length(total);
            bar.set_position(done);
        }
        _ => {
            let line = p.line.trim();
            if line.starts_with("Collecting") || line.starts_with("Downloading") {
                bar.set_message(line.to_owned());
                bar.set_position(0);
            } else {
                bar.println(format!("  {line}"));
            }
        }
    })
    .await?;
    bar.finish_and_clear();
    println!("Installed: {}", pins.join(" "));
    Ok(())
}

/// Shows a progress bar (indicatif) until the run ends: the base model's phase as a status line,
/// then the training steps with loss and time left. Without a terminal, only the model phase's
/// changes are printed.
pub async fn follow(studio: &Studio, id: &str) -> anyhow::Result<runs::Run> {
    let tty = std::io::stderr().is_terminal();
    let bar = if tty { indicatif::ProgressBar::new(100) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {prefix:<9} [{bar:30}] {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("#-"),
    );
    let mut last_model_line: Option<ModelState> = None;
    loop {
        let id2 = id.to_owned();
        let (run, last) = studio
            .db()
            .call(move |c| Ok((runs::get(c, &id2)?, runs::metrics(c, &id2)?.pop())))
            .await?;
        bar.set_prefix(run.status.as_str());
        if let (Some(Phase::Model), Some(m), RunStatus::Running) = (run.phase, &run.model_progress, run.status) {
            // The base model's phase: bytes, speed and time left.
            let line = model_line(m);
            if !tty && last_model_line != Some(m.state) {
                eprintln!("  {line}");
            }
            last_model_line = Some(m.state);
            bar.set_message(line);
        } else {
            let pct = last.as_ref().and_then(|p| p.percentage).unwrap_or(0.0);
            let loss = last.as_ref().and_then(|p| p.loss).map_or("-".into(), |l| format!("{l:.4}"));
            let eta = last.as_ref().and_then(|p| p.remaining_s).map_or("-".into(), |s| format!("{s:.0}s"));
            bar.set_position(pct.clamp(0.0, 100.0).round() as u64);
            let margin = last.as_ref().and_then(|p| p.rewards_margins).map_or(String::new(), |m| format!("  margin {m:.3}"));
            bar.set_message(format!("{pct:>5.1}%  loss {loss}{margin}  eta {eta}"));
        }
        if run.status.is_finished() {
            bar.finish();
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `model Qwen/Qwen2.5-14B-Instruct  3.1 GiB / 29.5 GiB  10.5%  85.2 MiB/s  eta 5m17s`
fn model_line(m: &runs::ModelProgress) -> String {
    use garden_core::doctor::human_bytes;
    if m.state != ModelState::Downloading || m.total_bytes == 0 {
        return m.message.clone().unwrap_or_else(|| format!("model {}: {}", m.repo, m.state));
    }
    let pct = m.done_bytes as f64 / m.total_bytes as f64 * 100.0;
    let speed = m.bytes_per_s.map_or("-".to_owned(), |s| format!("{}/s", human_bytes(s as u64)));
    let eta = m.eta_s.map_or("-".to_owned(), |s| format!("{}m{:02}s", s as u64 / 60, s as u64 % 60));
    format!("model {}  {} / {}  {pct:.1}%  {speed}  eta {eta}", m.repo, human_bytes(m.done_bytes), human_bytes(m.total_bytes))
}

pub fn report(run: &runs::Run) {
    println!(
        "Run {} ({}{}{}): {}; training loss {}, eval loss {}; output {}",
        run.id,
        run.name,
        if run.stage.is_preference() { format!(", {}", run.stage.as_str()) } else { String::new() },
        run.cluster.as_ref().map_or(String::new(), |c| format!(", on the Ray cluster {c}")),
        run.status.as_str(),
        run.final_loss.map_or("-".into(), |l| format!("{l:.4}")),
        run.final_eval_loss.map_or("-".into(), |l| format!("{l:.4}")),
        run.output_dir
    );
    if let Some(error) = &run.error {
        println!("{error}");
    }
}

/// One line on what a preference stage trains on: the counts, KTO's weights, the loss and the
/// adapter it starts from.
fn stage_line(config: &garden_core::train::TrainConfig, data: &StageData) -> String {
    let mut line = format!("Stage {}: {}", config.stage.as_str(), data.label);
    if let Some(k) = &data.kto {
        line.push_str(&format!(
            "; {} answers rated up and {} down, weighted {} and {} (kto_chosen_weight, kto_rejected_weight)",
            k.desirable, k.undesirable, k.chosen_weight, k.rejected_weight
        ));
    }
    if let Some(p) = &data.pairs {
        line.push_str(&format!(
            "; {} training pairs ({} from votes, {} from thumbs), loss {}, beta {}",
            data.examples,
            p.from_votes,
            p.from_thumbs,
            config.pref_loss.as_str(),
            config.pref_beta
        ));
    }
    if let Some(a) = &config.adapter_name_or_path {
        line.push_str(&format!("; starts from the adapter in {}", a.display()));
        if config.ref_adapter.is_some() {
            line.push_str(" (also the reference)");
        }
    }
    line
}

/// A preference run's last rewards: chosen, rejected, their margin, the share ranked right (and
/// the same on the validation pairs).
async fn print_rewards(studio: &Studio, run: &runs::Run) -> anyhow::Result<()> {
    let id = run.id.clone();
    let points = studio.db().call(move |c| runs::metrics(c, &id)).await?;
    let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
    if let Some(p) = points.iter().rev().find(|p| p.rewards_margins.is_some() || p.rewards_chosen.is_some()) {
        println!(
            "Rewards at step {}: chosen {}, rejected {}, margin {}, accuracy {}{}",
            p.step,
            f(p.rewards_chosen),
            f(p.rewards_rejected),
            f(p.rewards_margins),
            f(p.rewards_accuracies),
            p.kl.map_or(String::new(), |kl| format!(", KL {kl:.4}"))
        );
    }
    if let Some(p) = points.iter().rev().find(|p| p.eval_rewards_margins.is_some()) {
        println!(
            "Validation at step {}: margin {}, accuracy {}",
            p.step,
            f(p.eval_rewards_margins),
            f(p.eval_rewards_accuracies)
        );
    }
    Ok(())
}
