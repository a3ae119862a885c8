//! The registry and deployment commands: register-adapter, compare-adapters, adapters …
//! Each parses its flags, calls the core, and prints a human summary (or JSON with --json).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use garden_core::adapters::{self, convert, deploy, gguf::GgmlType, peft, Adapter, DeployStatus, Metrics, NewAdapter};
use garden_core::Studio;

#[derive(Args, Debug)]
pub struct RegisterArgs {
    /// A name for the adapter (versions of one adapter share it).
    #[arg(long)]
    pub name: String,
    /// What it was trained on: an Ollama name (qwen2.5:14b), a Hugging Face id or a folder.
    /// Default: the adapter's own base_model_name_or_path.
    #[arg(long)]
    pub base_model: Option<String>,
    /// The PEFT adapter folder (adapter_config.json + adapter_model.safetensors).
    #[arg(long)]
    pub adapter_path: PathBuf,
    /// MAJOR.MINOR.PATCH; default: the next minor version for this name.
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    /// The base model's folder on this machine (for conversion, merging and checks), when the
    /// base model is given as an Ollama name.
    #[arg(long)]
    pub base_path: Option<PathBuf>,
    /// The dataset it was trained on (id), for lineage.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Make it the active adapter right away.
    #[arg(long)]
    pub activate: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// First adapter: version (v1.0.0), name@version, or id.
    pub a: String,
    /// Second adapter.
    pub b: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdaptersCommand {
    /// Every registered adapter, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One adapter with its lineage and deployments.
    Show {
        adapter: String,
        #[arg(long)]
        json: bool,
    },
    /// Make an adapter the active one.
    Activate { adapter: String },
    /// Go back to the adapter that was active before the current one.
    Rollback,
    /// Remove an adapter from the registry (its files stay).
    Delete { adapter: String },
    /// Set the performance metrics (satisfaction, conversation count, losses).
    Metrics {
        adapter: String,
        #[arg(long)]
        avg_satisfaction: Option<f64>,
        #[arg(long)]
        total_conversations: Option<i64>,
    },
    /// Convert a PEFT adapter to a GGUF LoRA (llama.cpp, Ollama) natively.
    Convert {
        /// A registered adapter or a PEFT adapter folder.
        adapter: String,
        /// The base model's folder (default: the registered or configured one).
        #[arg(long)]
        base: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// f32 (as llama.cpp's converter), f16 or bf16.
        #[arg(long, default_value = "f32")]
        outtype: String,
        #[arg(long)]
        json: bool,
    },
    /// Merge a LoRA into its base model, writing a complete model folder.
    Merge {
        adapter: String,
        #[arg(long)]
        base: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Deploy to Ollama (adapter layer or merged model, chosen by Ollama's version), then send
    /// the test prompt.
    Deploy {
        adapter: String,
        /// Default: garden-eden-<name>-<version>.
        #[arg(long)]
        model_name: Option<String>,
        /// The SYSTEM prompt.
        #[arg(long)]
        system: Option<String>,
        /// Quantize the merged model (q4_K_M, q8_0…).
        #[arg(long)]
        quantize: Option<String>,
        /// auto, adapter or merged.
        #[arg(long, default_value = "auto")]
        route: String,
        #[arg(long)]
        test_prompt: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write the guide's default Modelfile for an adapter and print it.
    Modelfile {
        adapter: String,
        #[arg(long)]
        system: Option<String>,
    },
    /// Check each part of deploying an adapter (files, base, architecture, Modelfile, Ollama).
    Check { adapter: String },
}

fn line(a: &Adapter) -> String {
    let m = &a.metrics;
    let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    format!(
        "{}{:<20} {:<8} base {:<24} loss {:<7} eval {:<7} sat {:<6} convs {:<5} {}",
        if a.is_active { "* " } else { "  " },
        a.name,
        a.version,
        a.base_model,
        num(m.training_loss),
        num(m.eval_loss),
        num(m.avg_satisfaction),
        m.total_conversations.map_or("-".into(), |n| n.to_string()),
        a.id
    )
}

pub async fn register(studio: Studio, args: RegisterArgs) -> anyhow::Result<()> {
    let new = NewAdapter {
        name: args.name,
        version: args.version,
        description: args.description,
        base_model: args.base_model,
        base_path: args.base_path,
        path: args.adapter_path,
        run_id: None,
        dataset_id: args.dataset,
        stage: Default::default(),
        starts_from: None,
    };
    let activate = args.activate;
    let a = studio
        .db()
        .call(move |c| {
            let a = adapters::register(c, new)?;
            if activate {
                adapters::activate(c, &a.id, "registered with --activate")
            } else {
                Ok(a)
            }
        })
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&a)?);
    } else {
        println!(
            "Registered {} {} (rank {}, alpha {}, targets {}) from {}{}",
            a.name,
            a.version,
            a.rank,
            a.alpha,
            a.target_modules.join(","),
            a.path,
            if a.is_active { "; it is now active" } else { "" }
        );
        println!("id {}  checksum sha256:{}", a.id, a.checksum);
    }
    Ok(())
}

pub async fn compare(studio: Studio, args: CompareArgs) -> anyhow::Result<()> {
    let (a, b) = (args.a.clone(), args.b.clone());
    let (cmp, evidence) = studio
        .db()
        .call(move |c| {
            let cmp = adapters::compare(c, &a, &b)?;
            let ev = garden_core::experiments::compare_adapters(c, &cmp.a, &cmp.b)?;
            Ok((cmp, ev))
        })
        .await?;
    if args.json {
        println!("{}", serde_json::json!({"comparison": cmp, "evidence": evidence}));
        return Ok(());
    }
    let f = |v: Option<f64>| v.map_or("n/a (a side has no value)".to_string(), |v| format!("{v:+.4}"));
    println!("{} {}  vs  {} {}   (differences are second minus first)", cmp.a.name, cmp.a.version, cmp.b.name, cmp.b.version);
    println!("  satisfaction_diff       {}", f(cmp.satisfaction_diff));
    println!(
        "  conversation_count_diff {}",
        cmp.conversation_count_diff.map_or("n/a (a side has no value)".into(), |v| format!("{v:+}"))
    );
    println!("  training_loss_diff      {}", f(cmp.training_loss_diff));
    println!("  eval_loss_diff          {}", f(cmp.eval_loss_diff));
    println!("  perplexity_diff         {}", f(cmp.perplexity_diff));
    println!("Evidence from chat (every conversation a model serving each adapter answered):");
    for a in [&evidence.a, &evidence.b] {
        println!(
            "  {:<24} conversations {:>4}, rated {:>4}, satisfaction {}, thumbs-up {}/{}",
            a.endpoint,
            a.conversations,
            a.rated,
            a.mean_satisfaction.map_or("-".into(), |m| format!("{m:.2}{}", a.satisfaction_interval.map(|i| format!(" [{:.2}, {:.2}]{}", i.low, i.high, if a.satisfaction_interval_clipped { " (clipped to 0–1: too few ratings)" } else { "" })).unwrap_or_default())),
            a.thumbs_up,
            a.thumbs_total
        );
    }
    crate::ab_cmd::print_judgement(&evidence.judgement);
    Ok(())
}

/// A registered adapter (by key) or an adapter folder, with the base folder to use.
async fn resolve(studio: &Studio, key: &str, base: Option<PathBuf>) -> anyhow::Result<(peft::PeftAdapter, PathBuf)> {
    let as_path = Path::new(key);
    if as_path.join("adapter_config.json").is_file() {
        let files = peft::PeftAdapter::open(as_path)?;
        let base = peft::resolve_base(base.as_deref(), &files.config)?;
        return Ok((files, base));
    }
    let k = key.to_string();
    let a = studio.db().call(move |c| adapters::find(c, &k)).await?;
    let files = adapters::open_files(&a)?;
    let base = match base {
        Some(b) => b,
        None => deploy::base_folder(&a, &files)?,
    };
    Ok((files, base))
}

pub async fn command(studio: Studio, cmd: AdaptersCommand) -> anyhow::Result<()> {
    match cmd {
        AdaptersCommand::List { json } => {
            let list = studio.db().call(|c| adapters::list(c)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No adapters yet. A succeeded training run registers its adapter; or use `garden-eden register-adapter`.");
            } else {
                for a in &list {
                    println!("{}", line(a));
                }
            }
        }
        AdaptersCommand::Show { adapter, json } => {
            let l = studio.db().call(move |c| adapters::lineage(c, &adapter)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&l)?);
            } else {
                println!("{}", line(&l.adapter));
                println!("  path {}", l.adapter.path);
                if let Some(d) = &l.dataset {
                    println!("  dataset {} ({} examples from {} conversations)", d.name, d.examples, d.conversations);
                }
                if let Some(r) = &l.run {
                    match &r.cluster {
                        Some(c) => println!("  run {} ({}) on the Ray cluster {c}", r.name, r.status),
                        None => println!("  run {} ({})", r.name, r.status),
                    }
                }
                if let Some(p) = &l.parent {
                    if p.name == l.adapter.name {
                        println!("  previous version {}", p.version);
                    } else {
                        println!("  trained on top of {} {}", p.name, p.version);
                    }
                }
                for d in &l.deployments {
                    println!("  deployed as {} ({}, {}) {}", d.model_name, d.strategy, d.status, d.error.as_deref().unwrap_or(""));
                }
            }
        }
        AdaptersCommand::Activate { adapter } => {
            let a = studio
                .db()
                .call(move |c| {
                    let a = adapters::find(c, &adapter)?;
                    adapters::activate(c, &a.id, "activated from the command line")
                })
                .await?;
            println!("{} {} is now the active adapter", a.name, a.version);
        }
        AdaptersCommand::Rollback => {
            let a = studio.db().call(|c| adapters::rollback(c)).await?;
            println!("Rolled back: {} {} is active again", a.name, a.version);
        }
        AdaptersCommand::Delete { adapter } => {
            let a = studio
                .db()
                .call(move |c| {
                    let a = adapters::find(c, &adapter)?;
                    adapters::delete(c, &a.id)
                })
                .await?;
            println!("Removed {} {} from the registry; its files are still in {}", a.name, a.version, a.path);
        }
        AdaptersCommand::Metrics { adapter, avg_satisfaction, total_conversations } => {
            let a = studio
                .db()
                .call(move |c| {
                    let a = adapters::find(c, &adapter)?;
                    adapters::update_metrics(c, &a.id, &Metrics { avg_satisfaction, total_conversations, ..Metrics::default() })
                })
                .await?;
            println!("{}", line(&a));
        }
        AdaptersCommand::Convert { adapter, base, out, outtype, json } => {
            let ty = GgmlType::parse(&outtype).with_context(|| format!("--outtype {outtype}: use f32, f16 or bf16"))?;
            let (files, base) = resolve(&studio, &adapter, base).await?;
            let report = tokio::task::spawn_blocking(move || {
                let base = peft::BaseModel::open(&base)?;
                convert::to_gguf(&files, &base, &out, ty)
            })
            .await??;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("Wrote {} ({} tensors, {}, {} bytes, alpha {})", report.path.display(), report.tensors, report.out_type, report.bytes, report.alpha);
            }
        }
        AdaptersCommand::Merge { adapter, base, out, json } => {
            let (files, base) = resolve(&studio, &adapter, base).await?;
            let report = tokio::task::spawn_blocking(move || {
                let base = peft::BaseModel::open(&base)?;
                convert::merge(&files, &base, &out)
            })
            .await??;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("Wrote {} ({} of {} tensors merged, {} shard(s), {} bytes)", report.dir.display(), report.merged, report.tensors, report.shards, report.bytes);
            }
        }
        AdaptersCommand::Deploy { adapter, model_name, system, quantize, route, test_prompt, json } => {
            let opts = deploy::DeployOptions { model_name, system, quantize, route: deploy::Route::parse(&route)?, test_prompt };
            let d = deploy::start(&studio, &adapter, &opts).await?;
            eprintln!("Deploying to Ollama at {} as {}", d.target, d.model_name);
            let d = deploy::run(&studio, &d.id, &opts).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                for p in &d.progress {
                    println!("  {p}");
                }
            }
            if d.status != DeployStatus::Succeeded {
                anyhow::bail!("{}\n  what to do: {}", d.error.unwrap_or_default(), d.hint.unwrap_or_default());
            }
            if !json {
                println!("Deployed {} ({} route). Test prompt: {}", d.model_name, d.strategy, d.test_prompt.unwrap_or_default());
                println!("Answer: {}", d.test_answer.unwrap_or_default());
            }
        }
        AdaptersCommand::Modelfile { adapter, system } => {
            let a = studio.db().call(move |c| adapters::find(c, &adapter)).await?;
            let system = system.unwrap_or_else(|| adapters::modelfile::DEFAULT_SYSTEM.to_string());
            let text = deploy::write_modelfiles(&studio, &a, &system)?;
            print!("{text}");
            eprintln!("Written to {}", deploy::work_dir(&studio, &a.id).join("Modelfile").display());
            eprintln!("{}", adapters::modelfile::NOTE);
        }
        AdaptersCommand::Check { adapter } => {
            let checks = deploy::checks(&studio, &adapter).await?;
            let mut failed = false;
            for c in &checks {
                println!("{}  {:<40} {}", if c.ok { "ok  " } else { "FAIL" }, c.label, c.detail);
                if let Some(fix) = &c.fix {
                    println!("      {:<40} fix: {fix}", "");
                }
                failed |= !c.ok;
            }
            if failed {
                anyhow::bail!("some checks failed (see the fixes above)");
            }
        }
    }
    Ok(())
}
