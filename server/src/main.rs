//! `garden-eden`: the command line. Every command is a thin shell over the core.

// Everything the commands print is cleaned of terminal escapes (see `term`): these shadow std's
// macros in every module below.
macro_rules! println {
    () => { $crate::term::emit("", true, false) };
    ($($t:tt)*) => { $crate::term::emit(&format!($($t)*), true, false) };
}
macro_rules! print {
    ($($t:tt)*) => { $crate::term::emit(&format!($($t)*), false, false) };
}
macro_rules! eprintln {
    () => { $crate::term::emit("", true, true) };
    ($($t:tt)*) => { $crate::term::emit(&format!($($t)*), true, true) };
}
macro_rules! eprint {
    ($($t:tt)*) => { $crate::term::emit(&format!($($t)*), false, true) };
}

mod term;

mod ab_cmd;
mod adapters_cmd;
mod clusters_cmd;
mod commands;
mod compare_cmd;
mod train_cmd;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use garden_core::doctor::{self, Status};
use garden_core::{Settings, Studio};
use garden_eden::{check_bind_addr, default_site_root, serve, ServeConfig};

#[derive(Parser, Debug)]
#[command(name = "garden-eden", version, about = "Turn your assistant conversations into a personalised LoRA adapter, locally.")]
struct Cli {
    /// Where the database and every artefact live.
    #[arg(long, global = true, env = "GARDEN_EDEN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Python interpreter of the environment with LLaMA-Factory.
    #[arg(long, global = true, env = "GARDEN_EDEN_PYTHON")]
    python: Option<PathBuf>,
    /// Log what happens (-v: info, -vv: debug); without it, commands other than `serve` print only
    /// their result, progress and errors.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Python interpreter of the environment with MLX (mlx-lm), for the MLX backend.
    #[arg(long, global = true, env = "GARDEN_EDEN_MLX_PYTHON")]
    mlx_python: Option<PathBuf>,
    /// Ollama's address (its own OLLAMA_HOST variable is honoured too).
    #[arg(long, global = true, env = "OLLAMA_HOST")]
    ollama_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web app.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000", env = "GARDEN_EDEN_ADDR")]
        addr: SocketAddr,
        /// Allow listening on an address other machines can reach (dangerous: see README).
        #[arg(long)]
        allow_remote: bool,
        /// Extra host names the server answers to (besides localhost and loopback addresses).
        #[arg(long = "allow-host", value_name = "HOST")]
        allow_hosts: Vec<String>,
        /// Folder with the built web assets (pkg/).
        #[arg(long, env = "LEPTOS_SITE_ROOT")]
        site_root: Option<PathBuf>,
    },
    /// Apply pending database migrations and print the schema version.
    Migrate,
    /// Import conversation history (or, with --sample, a synthetic one to try things with).
    Import(commands::ImportArgs),
    /// Export training data for LLaMA-Factory from the conversations that pass the filter, or
    /// (--format pairs) preference pairs from your side-by-side votes and thumbs.
    ExportTrainingData(commands::ExportArgs),
    /// Exported datasets.
    #[command(subcommand)]
    Datasets(commands::DatasetsCommand),
    /// Train a LoRA adapter with LLaMA-Factory on an exported dataset, and follow it.
    Train(train_cmd::TrainArgs),
    /// The trainer's optional GPU packages (bitsandbytes for QLoRA, deepspeed for ZeRO): list, install.
    #[command(subcommand)]
    Extras(train_cmd::ExtrasCommand),
    /// Training runs: list, show, cancel, resume, logs.
    #[command(subcommand)]
    Runs(train_cmd::RunsCommand),
    /// Register a trained LoRA adapter (validated: config, weights, rank, targets).
    RegisterAdapter(adapters_cmd::RegisterArgs),
    /// Compare two adapters (by version, name@version or id): satisfaction, conversations, losses.
    CompareAdapters(adapters_cmd::CompareArgs),
    /// Side by side: one prompt to two models, both answers printed (blind: as A and B, the models
    /// hidden until the vote), and your vote (--vote a|b|tie|both-bad) recorded for preference
    /// training (`export-training-data --format pairs`).
    Compare(compare_cmd::CompareArgs),
    /// The adapter registry: list, show, activate, rollback, delete, metrics, convert, merge,
    /// deploy, modelfile, check.
    #[command(subcommand)]
    Adapters(adapters_cmd::AdaptersCommand),
    /// Chat with a model from the terminal (stored like the web chat; --thumbs/--satisfaction rate it).
    Chat(ab_cmd::ChatArgs),
    /// A/B experiments: start, status, report, stop [--promote].
    #[command(subcommand)]
    Ab(ab_cmd::AbCommand),
    /// Continual learning: plan, start (export, merge, train N+1), experiment (A/B vs the active one).
    #[command(subcommand)]
    Learn(ab_cmd::LearnCommand),
    /// The models garden-eden chats with: list, add, remove.
    #[command(subcommand)]
    Models(ab_cmd::ModelsCommand),
    /// Ray clusters to train on (`train --on NAME`): list, add, remove.
    #[command(subcommand)]
    Clusters(clusters_cmd::ClustersCommand),
    /// A stand-in for the Ollama server that follows its REST contract but runs no model (tests).
    #[command(hide = true)]
    OllamaStandIn {
        #[arg(long, default_value = "127.0.0.1:11434")]
        addr: SocketAddr,
        /// The version it claims: 0.34.1 and later refuse adapters.
        #[arg(long = "claim-version", default_value = "0.34.1")]
        claim_version: String,
        /// Where blobs go.
        #[arg(long)]
        blobs: PathBuf,
        /// Models it has from the start (for `from`).
        #[arg(long = "model")]
        models: Vec<String>,
    },
    /// Fill the data dir with a large synthetic history (for benchmarks).
    #[command(hide = true)]
    BenchHistory {
        #[arg(long, default_value_t = 100_000)]
        conversations: u64,
        /// User/assistant exchanges per conversation.
        #[arg(long, default_value_t = 5)]
        turns: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The guided first run (the web app's "Start here"): each step from import to a blind
    /// comparison, done or not, and what to do next.
    Next {
        /// Print the steps as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the environment: Python/LLaMA-Factory, llama.cpp, Ollama, GPU, disk.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    garden_core::private_files();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Servers log what they do; other commands keep the terminal for their result, progress and
/// errors, and log with `-v` (info) or `-vv` (debug). GARDEN_EDEN_LOG or RUST_LOG decide when set.
fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let server = matches!(cli.command, Command::Serve { .. } | Command::OllamaStandIn { .. });
    let level = match (server, cli.verbose) {
        (_, 2..) => "debug",
        (true, _) | (false, 1) => "info",
        (false, 0) => "warn",
    };
    let filter = EnvFilter::try_from_env("GARDEN_EDEN_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},leptos=warn,tower_http=warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn settings(cli: &Cli) -> Settings {
    let mut settings =
        Settings::new(cli.data_dir.clone().unwrap_or_else(Settings::default_data_dir));
    settings.python = cli.python.clone();
    settings.mlx_python = cli.mlx_python.clone();
    if let Some(url) = &cli.ollama_url {
        settings.ollama_url = normalise_ollama_url(url);
    }
    settings
}

/// OLLAMA_HOST may be `host:port`, `:port` or a URL; a wildcard bind address means this machine.
fn normalise_ollama_url(value: &str) -> String {
    let value = value.trim().trim_end_matches('/');
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else if let Some(port) = value.strip_prefix(':') {
        format!("http://127.0.0.1:{port}")
    } else {
        format!("http://{value}")
    };
    // `ollama serve` with OLLAMA_HOST set to the unspecified address listens everywhere; talk
    // to it on loopback.
    match with_scheme.split_once("://") {
        Some((scheme, rest)) => {
            let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "11434"));
            let unspecified = host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified());
            let host = if unspecified { "127.0.0.1" } else { host };
            format!("{scheme}://{host}:{port}")
        }
        None => with_scheme,
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = settings(&cli);
    match cli.command {
        Command::Serve {
            addr,
            allow_remote,
            allow_hosts,
            site_root,
        } => {
            check_bind_addr(addr, allow_remote)?;
            if !addr.ip().is_loopback() {
                eprintln!(
                    "WARNING: garden-eden is listening on {addr}, reachable from other machines. \
                     Anyone who reaches it can start training processes and write files as this user."
                );
            }
            let studio = Studio::open(settings).context("opening the data dir")?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on {addr} (is another garden-eden running?)"))?;
            let config = ServeConfig {
                studio,
                site_root: site_root.unwrap_or_else(default_site_root),
                allowed_hosts: allow_hosts,
            };
            eprintln!("garden-eden is running at http://{addr}  (Ctrl+C stops it)");
            serve(config, listener, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let path = settings.db_path();
            let studio = Studio::open(settings).context("opening the database")?;
            let version = studio
                .db()
                .call(|conn| garden_core::migrate::current_version(conn))
                .await?;
            println!("{}: schema version {version} (up to date)", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            commands::import(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportTrainingData(args) => {
            commands::export_training_data(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Datasets(command) => {
            commands::datasets(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Train(args) => {
            train_cmd::train(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Extras(command) => {
            train_cmd::extras_command(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs(command) => {
            train_cmd::runs_command(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::RegisterAdapter(args) => {
            adapters_cmd::register(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CompareAdapters(args) => {
            adapters_cmd::compare(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare(args) => {
            compare_cmd::compare(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Adapters(command) => {
            adapters_cmd::command(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat(args) => {
            ab_cmd::chat(Studio::open(settings)?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ab(command) => {
            ab_cmd::ab(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Learn(command) => {
            ab_cmd::learn(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Models(command) => {
            ab_cmd::models(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Clusters(command) => {
            clusters_cmd::clusters(Studio::open(settings)?, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::OllamaStandIn { addr, claim_version, blobs, models } => {
            anyhow::ensure!(addr.ip().is_loopback(), "the Ollama stand-in listens on loopback only");
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
            eprintln!("Ollama stand-in (tests only; runs no model) claiming version {claim_version} at http://{addr}");
            let config = garden_eden::ollama_stand_in::StandInConfig { version: claim_version, dir: blobs, models };
            tokio::select! {
                r = garden_eden::ollama_stand_in::serve(listener, config) => r?,
                () = shutdown_signal() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchHistory { conversations, turns, seed } => {
            let studio = Studio::open(settings)?;
            studio
                .db()
                .call(move |conn| garden_core::bench::generate(conn, conversations, turns, seed))
                .await?;
            println!("{conversations} conversations, {} messages", conversations * turns * 2);
            Ok(ExitCode::SUCCESS)
        }
        Command::Next { json } => {
            let studio = Studio::open(settings).context("opening the data dir")?;
            let journey = studio.db().call(|c| garden_core::journey::journey(c)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&journey)?);
                return Ok(ExitCode::SUCCESS);
            }
            let next = journey.next();
            for (i, step) in journey.steps.iter().enumerate() {
                let mark = if step.done { "done" } else if Some(i) == next { "next" } else { "    " };
                println!("{mark}  {}. {:<32} {}", i + 1, step.title, step.detail);
            }
            match next {
                Some(i) => println!(
                    "\nNext: {}. In the web app: http://127.0.0.1:3000/start?step={} (then {}).",
                    journey.steps[i].title, journey.steps[i].key, journey.steps[i].href
                ),
                None => println!("\nEvery step is done: `garden-eden learn plan` shows what the next cycle would learn from."),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor { json } => {
            let studio = Studio::open(settings).context("opening the data dir")?;
            let report = doctor::run(&studio).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for check in &report.checks {
                    let mark = match check.status {
                        Status::Ok => "ok     ",
                        Status::Warn => "warn   ",
                        Status::Missing => "missing",
                    };
                    println!("{mark}  {:<20} {}", check.label, check.detail);
                    if let Some(fix) = &check.fix {
                        println!("         {:<20} fix: {fix}", "");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::normalise_ollama_url;

    #[test]
    fn ollama_host_forms() {
        assert_eq!(normalise_ollama_url("http://127.0.0.1:11434/"), "http://127.0.0.1:11434");
        assert_eq!(normalise_ollama_url("localhost:11434"), "http://localhost:11434");
        assert_eq!(normalise_ollama_url(":11500"), "http://127.0.0.1:11500");
        assert_eq!(normalise_ollama_url("[::]:11434"), "http://127.0.0.1:11434");
        assert_eq!(normalise_ollama_url("studio.lan"), "http://studio.lan:11434");
    }
}
