//! `garden-eden chat`, `garden-eden ab …` and `garden-eden models …`: the terminal side of chat,
//! A/B experiments and model servers. Each calls the same core as the web app.

use std::io::{BufRead, Write};

use clap::{Args, Subcommand};
use garden_core::chat::{self, Hub, SendRequest, TurnEvent, TurnUpdate};
use garden_core::experiments::{self, ArmReport, Report};
use garden_core::{infer, Studio};

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The model (name or id from `garden-eden models list`); default: the running experiment's
    /// pick, else the active adapter's deployment, else the first model.
    #[arg(long)]
    pub model: Option<String>,
    /// Continue a chat conversation.
    #[arg(long)]
    pub conversation: Option<String>,
    /// Send one message, print the answer and exit (otherwise: read messages from stdin).
    #[arg(long, short = 'm')]
    pub message: Option<String>,
    /// Rate the answer: up or down.
    #[arg(long)]
    pub thumbs: Option<String>,
    /// Rate the conversation, 0..1.
    #[arg(long)]
    pub satisfaction: Option<f64>,
}

#[derive(Subcommand, Debug)]
pub enum AbCommand {
    /// Start an experiment between two models (names or ids).
    Start {
        name: String,
        #[arg(long)]
        a: String,
        #[arg(long)]
        b: String,
        /// Share of conversations sent to B.
        #[arg(long, default_value_t = 0.5)]
        split: f64,
    },
    /// The running experiment (or the latest) in one line.
    Status,
    /// The full report: per arm, the tests, the verdict.
    Report {
        experiment: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stop the experiment; with --promote, activate the winner the evidence names.
    Stop {
        experiment: Option<String>,
        #[arg(long)]
        promote: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// The models garden-eden can chat with.
    List,
    /// Add a model server: Ollama, or an OpenAI-compatible one (llama.cpp, vLLM, LM Studio).
    Add {
        name: String,
        /// ollama or openai
        #[arg(long, default_value = "openai")]
        kind: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        model: String,
        /// The registered adapter it serves (version, name@version or id).
        #[arg(long)]
        adapter: Option<String>,
    },
    Remove { model: String },
}

async fn one_turn(studio: &Studio, hub: &Hub, req: SendRequest) -> anyhow::Result<chat::Sent> {
    let sent = chat::send(studio, hub, req).await?;
    let mut follower = hub.follow(&sent.turn_id).ok_or_else(|| anyhow::anyhow!("the answer vanished"))?;
    let mut out = std::io::stdout();
    // What is on the terminal so far: a snapshot after a lag prints only what is new.
    let mut shown = String::new();
    while let Some(update) = follower.next().await {
        match update {
            TurnUpdate::Snapshot(s) => {
                if let Some(rest) = s.text.strip_prefix(shown.as_str()) {
                    print!("{rest}");
                }
                shown = s.text;
                if let Some(e) = s.error {
                    anyhow::bail!("{e}");
                }
            }
            TurnUpdate::Event(TurnEvent::Delta { text }) => {
                print!("{text}");
                shown.push_str(&text);
            }
            TurnUpdate::Event(TurnEvent::Done { .. }) => break,
            TurnUpdate::Event(TurnEvent::Error { message }) => anyhow::bail!("{message}"),
        }
        let _ = out.flush();
    }
    println!();
    Ok(sent)
}

pub async fn chat(studio: Studio, args: ChatArgs) -> anyhow::Result<()> {
    let hub = Hub::new();
    let mut conversation = args.conversation.clone();
    let endpoint = args.model.clone();
    let mut last_answer_conv = None;
    let messages: Box<dyn Iterator<Item = String>> = match &args.message {
        Some(m) => Box::new(std::iter::once(m.clone())),
        None => {
            eprintln!("Type a message and press Enter (an empty line or Ctrl+D ends).");
            Box::new(std::io::stdin().lock().lines().map_while(Result::ok).take_while(|l| !l.trim().is_empty()).collect::<Vec<_>>().into_iter())
        }
    };
    for text in messages {
        let sent = one_turn(&studio, &hub, SendRequest { conversation_id: conversation.clone(), endpoint_id: endpoint.clone(), text, ..Default::default() }).await?;
        if conversation.is_none() {
            eprintln!("(conversation {} with {}{})", sent.conversation_id, sent.endpoint.name, sent.arm.map(|a| format!(", experiment arm {}", a.upper())).unwrap_or_default());
        }
        conversation = Some(sent.conversation_id.clone());
        last_answer_conv = Some(sent.conversation_id);
    }
    if let Some(conv) = last_answer_conv {
        if let Some(t) = args.thumbs.as_deref() {
            let value = match t {
                "up" => 1,
                "down" => -1,
                other => anyhow::bail!("--thumbs {other}: use up or down"),
            };
            let c = conv.clone();
            studio
                .db()
                .call(move |db| {
                    let id: String = db.query_row(
                        "SELECT id FROM messages WHERE conversation_id = ?1 AND role = 'assistant' ORDER BY position DESC LIMIT 1",
                        [&c],
                        |r| r.get(0),
                    )?;
                    garden_core::conversations::set_thumbs(db, &id, Some(value))
                })
                .await?;
        }
        if let Some(s) = args.satisfaction {
            studio.db().call(move |db| garden_core::conversations::set_satisfaction(db, &conv, Some(s))).await?;
        }
    }
    Ok(())
}

fn arm_line(a: &ArmReport) -> String {
    let ci = |c: Option<experiments::Interval>, pct: bool| {
        c.map(|c| if pct { format!("[{:.0}%, {:.0}%]", c.low * 100.0, c.high * 100.0) } else { format!("[{:.2}, {:.2}]", c.low, c.high) }).unwrap_or_default()
    };
    format!(
        "  {} {:<28} conversations {:>4}  satisfaction {} {}  thumbs-up {}/{} {} {}",
        a.arm.upper(),
        a.endpoint,
        a.conversations,
        a.mean_satisfaction.map_or("  -  ".into(), |m| format!("{m:.2}")),
        ci(a.satisfaction_interval, false) + if a.satisfaction_interval_clipped { " (clipped to 0–1: too few ratings)" } else { "" },
        a.thumbs_up,
        a.thumbs_total,
        a.thumbs_up_rate.map_or("".into(), |r| format!("{:.0}%", r * 100.0)),
        ci(a.thumbs_interval, true)
    )
}

pub fn print_judgement(j: &experiments::Judgement) {
    if let Some(t) = &j.thumbs_test {
        println!(
            "  thumbs-up B − A {:+.1} points, 95% CI [{:+.1}, {:+.1}]; two-proportion z = {:.2}, p = {:.4}",
            t.diff * 100.0,
            t.diff_interval.low * 100.0,
            t.diff_interval.high * 100.0,
            t.z,
            t.p_value
        );
    }
    if let Some(t) = &j.satisfaction_test {
        println!(
            "  satisfaction B − A {:+.3}, 95% CI [{:+.3}, {:+.3}]; Welch's t = {:.2}, df = {:.1}, p = {:.4}",
            t.diff, t.diff_interval.low, t.diff_interval.high, t.t, t.df, t.p_value
        );
    }
    println!(
        "  P(B better): {:.0}% by thumbs{}",
        j.prob_b_better_thumbs * 100.0,
        j.prob_b_better_satisfaction.map(|p| format!(", {:.0}% by satisfaction", p * 100.0)).unwrap_or_default()
    );
    if let Some(n) = j.needed_per_arm {
        println!("  needed to detect the observed difference: {n} per arm (α 0.05, power 0.8)");
    }
    println!("Verdict: {}", j.verdict);
}

fn print_report(r: &Report) {
    println!("{} ({}{})", r.experiment.name, r.experiment.status, r.experiment.winner.map(|w| format!(", winner {}", w.upper())).unwrap_or_default());
    println!("{}", arm_line(&r.a));
    println!("{}", arm_line(&r.b));
    let v = &r.votes;
    println!("  side-by-side votes: A {} B {} ties {} both bad {}; Elo {:.0} / {:.0}", v.a, v.b, v.ties, v.both_bad, v.elo_a, v.elo_b);
    print_judgement(&r.judgement);
}

async fn pick(studio: &Studio, key: Option<String>) -> anyhow::Result<String> {
    match key {
        Some(k) => Ok(studio.db().call(move |c| experiments::get(c, &k)).await?.id),
        None => studio
            .db()
            .call(|c| Ok(experiments::running(c)?.or(experiments::list(c)?.into_iter().next())))
            .await?
            .map(|e| e.id)
            .ok_or_else(|| anyhow::anyhow!("no experiments yet: garden-eden ab start NAME --a MODEL --b MODEL")),
    }
}

pub async fn ab(studio: Studio, cmd: AbCommand) -> anyhow::Result<()> {
    match cmd {
        AbCommand::Start { name, a, b, split } => {
            let e = studio.db().call(move |c| experiments::start(c, &name, &a, &b, split)).await?;
            println!("Started {}: A = {}, B = {}, {:.0}% of new chat conversations go to B", e.name, e.arm_a.name, e.arm_b.name, e.split_b * 100.0);
        }
        AbCommand::Status => {
            let id = pick(&studio, None).await?;
            let r = studio.db().call(move |c| experiments::report(c, &id)).await?;
            println!("{} ({}): A {} conversations, B {}. {}", r.experiment.name, r.experiment.status, r.a.conversations, r.b.conversations, r.judgement.verdict);
        }
        AbCommand::Report { experiment, json } => {
            let id = pick(&studio, experiment).await?;
            let r = studio.db().call(move |c| experiments::report(c, &id)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_report(&r);
            }
        }
        AbCommand::Stop { experiment, promote } => {
            let id = pick(&studio, experiment).await?;
            if promote {
                let (e, adapter) = studio.db().call(move |c| experiments::promote(c, &id, None, false)).await?;
                println!("Stopped {}; winner {}. {}", e.name, e.winner.map(|w| w.upper()).unwrap_or_default(), e.verdict.unwrap_or_default());
                if let Some(a) = adapter {
                    println!("{} {} is now the active adapter (avg_satisfaction and total_conversations updated)", a.name, a.version);
                }
            } else {
                let e = studio.db().call(move |c| experiments::stop(c, &id)).await?;
                println!("Stopped {}. {}", e.name, e.verdict.unwrap_or_default());
            }
        }
    }
    Ok(())
}

pub async fn models(studio: Studio, cmd: ModelsCommand) -> anyhow::Result<()> {
    match cmd {
        ModelsCommand::List => {
            for e in studio.db().call(|c| infer::endpoints(c)).await? {
                println!("{:<28} {:<7} {:<32} {}  {}", e.name, e.kind.as_str(), e.url, e.model, e.id);
            }
        }
        ModelsCommand::Add { name, kind, url, model, adapter } => {
            let e = studio
                .db()
                .call(move |c| {
                    let adapter_id = match adapter {
                        Some(a) => Some(garden_core::adapters::find(c, &a)?.id),
                        None => None,
                    };
                    infer::add_endpoint(c, infer::NewEndpoint { name, kind, url, model, adapter_id })
                })
                .await?;
            println!("Added {} ({} at {}, model {})", e.name, e.kind.as_str(), e.url, e.model);
        }
        ModelsCommand::Remove { model } => {
            studio.db().call(move |c| infer::remove_endpoint(c, &model)).await?;
            println!("Removed");
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum LearnCommand {
    /// Where the loop stands: the active adapter, new conversations, the next version.
    Plan,
    /// Export what is new, merge it with the previous dataset, train the next version (follows it).
    /// With `--stage kto|dpo`: export the judgements since the last export of that kind (thumbs,
    /// or votes and thumbs as pairs) and train the next version on them, on top of the active one.
    Start {
        /// Train from the base model instead of the current adapter (SFT cycles only).
        #[arg(long)]
        from_base: bool,
        #[arg(long)]
        max_steps: Option<u64>,
        /// Take conversations (or judgements) from this date (YYYY-MM-DD) instead of the last export's.
        #[arg(long)]
        since: Option<String>,
        /// What to learn from: sft (new conversations), kto (thumbs up and down) or dpo (side-by-side votes).
        #[arg(long, value_name = "sft|kto|dpo", value_parser = ["sft", "kto", "dpo"], default_value = "sft")]
        stage: String,
        /// DPO's loss.
        #[arg(long, value_name = "sigmoid|orpo|simpo", value_parser = ["sigmoid", "orpo", "simpo"])]
        pref_loss: Option<String>,
        /// The preference stage's β.
        #[arg(long)]
        pref_beta: Option<f64>,
    },
    /// Start the A/B experiment between the active adapter and the newly trained one.
    Experiment {
        /// The cycle's run (default: the latest run of the active adapter's name).
        #[arg(long)]
        run: Option<String>,
        #[arg(long, default_value_t = 0.5)]
        split: f64,
    },
}

pub async fn learn(studio: Studio, cmd: LearnCommand) -> anyhow::Result<()> {
    use garden_core::learn;
    match cmd {
        LearnCommand::Plan => {
            let p = studio.db().call(|c| learn::plan(c)).await?;
            match &p.active {
                Some(a) => println!("Active: {} {}", a.name, a.version),
                None => println!("No active adapter: train one and activate it first"),
            }
            println!("Previous dataset: {}", p.previous_dataset.as_ref().map_or("none".into(), |d| format!("{} ({} examples)", d.name, d.examples)));
            println!("Conversations since then: {}", p.new_conversations);
            if let Some(v) = &p.next_version {
                println!("Next version: {v}");
            }
        }
        LearnCommand::Start { from_base, max_steps, since, stage, pref_loss, pref_beta } => {
            let since = since.map(|s| garden_core::time::parse_date_arg("since", &s)).transpose()?;
            let stage: garden_core::train::config::Stage = stage.parse()?;
            let pref_loss = pref_loss.map(|l| l.parse::<garden_core::train::prefs::PrefLoss>()).transpose()?;
            let supervisor = garden_core::train::Supervisor::start(studio.clone()).await?;
            let opts = learn::CycleOptions { since, from_current_adapter: !from_base, max_steps, stage, pref_loss, pref_beta };
            let cycle = learn::start(&studio, &supervisor, &opts).await?;
            if stage.is_preference() {
                let d = &cycle.dataset;
                let detail = match &d.counts.pairs {
                    Some(p) => format!("{} pairs: {} from votes, {} from thumbs", d.examples, p.from_votes, p.from_thumbs),
                    None => format!("{} rated answers", d.examples),
                };
                println!("New judgements: {} ({detail}; {} held out); training run {} ({}) on top of the active adapter", d.name, d.validation, cycle.run.id, stage.as_str());
            } else {
                println!(
                    "New data: {} ({} examples); merged: {} ({} examples, {} duplicates dropped); training run {}",
                    cycle.new_data.name, cycle.new_data.examples, cycle.dataset.name, cycle.dataset.examples, cycle.dataset.counts.exact_duplicates, cycle.run.id
                );
            }
            let done = crate::train_cmd::follow(&studio, &cycle.run.id).await?;
            crate::train_cmd::report(&done);
            println!("Next: deploy the new version (garden-eden adapters deploy …), then `garden-eden learn experiment`.");
        }
        LearnCommand::Experiment { run, split } => {
            let run_id = match run {
                Some(r) => r,
                None => studio
                    .db()
                    .call(|c| learn::latest_cycle_run(c))
                    .await?
                    .map(|r| r.id)
                    .ok_or_else(|| anyhow::anyhow!("no new version trained since the active one: `garden-eden learn start` first"))?,
            };
            let e = learn::start_experiment(&studio, &run_id, split).await?;
            println!("Started {}: A = {}, B = {}. Promote with `garden-eden ab stop --promote` once the report names a winner.", e.name, e.arm_a.name, e.arm_b.name);
        }
    }
    Ok(())
}
