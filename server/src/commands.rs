//! The data commands: import, export-training-data, datasets. Each parses its flags, calls the
//! core, and prints a human line (or JSON with --json).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use garden_core::export::{self, Curation, DataFilter, ExportRequest, Format};
use garden_core::import::{self, ImportKind};
use garden_core::Studio;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// What the file is: goe-v3, openwebui, chatgpt, sharegpt, alpaca, jsonl.
    #[arg(long = "from", value_name = "KIND", required_unless_present = "sample")]
    pub kind: Option<String>,
    /// The file (for goe-v3, the database file; it is opened read-only). For goe-v3 it may be left
    /// out: the app's own database is used (~/Library/Application Support/garden-of-eden-v3/data.db
    /// on a Mac, ~/.local/share/garden-of-eden-v3/data.db on Linux).
    #[arg(conflicts_with = "sample")]
    pub path: Option<PathBuf>,
    /// Add a clearly labelled synthetic history instead, to try the whole loop.
    #[arg(long)]
    pub sample: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn import(studio: Studio, args: ImportArgs) -> anyhow::Result<()> {
    let report = if args.sample {
        import::sample_in_background(studio.db()).await?
    } else {
        let kind: ImportKind = args.kind.as_deref().unwrap_or_default().parse()?;
        let path = match args.path {
            Some(path) => path,
            None if kind == ImportKind::GoeV3 => import::goe::find_default().with_context(|| {
                let looked: Vec<String> =
                    import::goe::default_locations().iter().map(|p| p.display().to_string()).collect();
                format!("no Garden of Eden V3 database at {}: give its path", looked.join(" or "))
            })?,
            None => anyhow::bail!("give the file to import"),
        };
        let db = studio.db().clone();
        tokio::task::spawn_blocking(move || import::import_path(&db, kind, &path)).await??
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let s = &report.stored;
    println!(
        "Imported {} conversations ({} messages, {} ratings) from {}{}",
        s.conversations,
        s.messages,
        s.ratings,
        report.path,
        if s.already > 0 { format!("; {} were already here", s.already) } else { String::new() }
    );
    if !report.skipped.is_empty() {
        println!("Skipped {} rows:", report.skipped.len());
        for skipped in report.skipped.iter().take(20) {
            println!("  {}: {}", skipped.place, skipped.reason);
        }
        if report.skipped.len() > 20 {
            println!("  … and {} more (see --json)", report.skipped.len() - 20);
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// alpaca, sharegpt, jsonl, openai or kto (conversations), or pairs: preference pairs for
    /// DPO/ORPO from your side-by-side votes and from answers to the same prompt rated up and down.
    #[arg(long, default_value = "alpaca")]
    pub format: String,
    /// The training file to write (dataset_info.json and a .meta.json go beside it). Default: a
    /// new folder under the data dir.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Dataset name (the key in dataset_info.json); default: the output file's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Keep conversations whose satisfaction is at least this (unrated ones are left out).
    #[arg(long)]
    pub min_satisfaction: Option<f64>,
    /// Every message has at least this many characters.
    #[arg(long)]
    pub min_message_length: Option<usize>,
    /// Every message has at most this many characters.
    #[arg(long)]
    pub max_message_length: Option<usize>,
    /// Only conversations rated positively (satisfaction above 0.5).
    #[arg(long)]
    pub positive_only: bool,
    /// Leave out conversations rated negatively (below 0.5).
    #[arg(long)]
    pub exclude_negative: bool,
    /// At least this many user→assistant exchanges.
    #[arg(long)]
    pub min_turns: Option<usize>,
    /// Conversations started on or after this date (YYYY-MM-DD or ISO 8601).
    #[arg(long)]
    pub since: Option<String>,
    /// Conversations started before this date.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many examples, counted after filtering (newest first).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep duplicates.
    #[arg(long)]
    pub no_dedupe: bool,
    /// Keep emails, phone numbers, keys… as they are.
    #[arg(long)]
    pub no_scrub_pii: bool,
    /// Share held out for validation (written as <name>_val).
    #[arg(long, default_value_t = 0.1)]
    pub validation_ratio: f64,
    /// Seed of the train/validation split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the dataset record as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn export_training_data(studio: Studio, args: ExportArgs) -> anyhow::Result<()> {
    let format: Format = args.format.parse()?;
    let parse_date = |field: &str, v: &Option<String>| {
        v.as_deref().map(|s| garden_core::time::parse_date_arg(field, s)).transpose()
    };
    let request = ExportRequest {
        name: args.name,
        format,
        filter: DataFilter {
            min_satisfaction: args.min_satisfaction,
            min_message_length: args.min_message_length,
            max_message_length: args.max_message_length,
            positive_only: args.positive_only,
            exclude_negative: args.exclude_negative,
            min_turns: args.min_turns,
            since: parse_date("--since", &args.since)?,
            until: parse_date("--until", &args.until)?,
            limit: args.limit,
        },
        curation: Curation {
            dedupe: !args.no_dedupe,
            scrub_pii: !args.no_scrub_pii,
            validation_ratio: args.validation_ratio,
            seed: args.seed,
        },
        output: args.output,
    };
    let data_dir = studio.settings().data_dir.clone();
    let show_progress = std::io::stderr().is_terminal() && !args.json;
    let dataset = studio
        .db()
        .call(move |conn| {
            let bar = conversation_bar(show_progress);
            let result = export::export(conn, &data_dir, &request, &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            result
        })
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&dataset)?);
    } else if let Some(p) = &dataset.counts.pairs {
        println!(
            "Exported {} preference pairs ({} from votes, {} from thumbs)",
            dataset.examples, p.from_votes, p.from_thumbs
        );
        eprintln!(
            "  from {} votes ({} ties and {} both bad give no pair) and {} rated answers ({} prompts rated up and down)",
            p.votes, p.ties, p.both_bad, p.rated_answers, p.prompts_up_and_down
        );
        eprintln!(
            "  {} ({} for validation in {}), dataset_info.json beside it (ranking: true); train it with \
             `garden-eden train --dataset {} --stage dpo`",
            dataset.path,
            dataset.validation,
            dataset.validation_path.as_deref().unwrap_or("-"),
            dataset.name
        );
    } else {
        let avg = dataset.avg_satisfaction.map_or_else(|| "n/a (none rated)".to_owned(), |a| format!("{a:.2}"));
        println!("Exported {} examples, average satisfaction {avg}", dataset.examples);
        eprintln!(
            "  {} ({} for validation in {}), dataset_info.json beside it",
            dataset.path,
            dataset.validation,
            dataset.validation_path.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum DatasetsCommand {
    /// Every exported dataset, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn datasets(studio: Studio, command: DatasetsCommand) -> anyhow::Result<()> {
    match command {
        DatasetsCommand::List { json } => {
            let list = studio.db().call(|conn| export::list(conn)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No datasets yet: `garden-eden export-training-data` makes one.");
            } else {
                for d in list {
                    println!(
                        "{}  {:<24} {:<8} {:>7} examples  avg satisfaction {}  {}",
                        garden_core::time::format_iso(d.created_at),
                        d.name,
                        d.format.as_str(),
                        d.examples,
                        d.avg_satisfaction.map_or("-".into(), |a| format!("{a:.2}")),
                        d.path
                    );
                }
            }
        }
    }
    Ok(())
}

/// A one-line progress bar over the conversations read, on a terminal; hidden otherwise.
fn conversation_bar(shown: bool) -> indicatif::ProgressBar {
    if !shown {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  reading conversations [{bar:30}] {percent:>3}% ({pos}/{len})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("#-"),
    );
    bar
}
