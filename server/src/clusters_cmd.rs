//! `garden-eden clusters …`: the Ray clusters runs can be handed to (`train --on NAME`).

use clap::Subcommand;
use garden_core::train::ray::{self, ClusterView};
use garden_core::Studio;

#[derive(Subcommand, Debug)]
pub enum ClustersCommand {
    /// The registered clusters, with what each has now (nodes, CPUs, GPUs, memory).
    List,
    /// Register a Ray cluster by its dashboard URL (where `ray start --head` runs; port 8265).
    Add {
        name: String,
        /// The dashboard's URL, such as http://gpu-box:8265.
        #[arg(long)]
        url: String,
    },
    /// Forget a cluster (its finished runs keep their outputs).
    Remove { name: String },
}

fn line(v: &ClusterView) -> String {
    let what = match &v.resources {
        Ok(r) => r.summary(),
        Err(e) => format!("not answering: {e}"),
    };
    format!("{:<20} {:<32} {what}", v.cluster.name, v.cluster.url)
}

pub async fn clusters(studio: Studio, cmd: ClustersCommand) -> anyhow::Result<()> {
    match cmd {
        ClustersCommand::List => {
            let all = ray::views(&studio).await?;
            if all.is_empty() {
                println!("No cluster yet: on the GPU machine run `ray start --head --dashboard-host 0.0.0.0` (its port 8265 reachable only from machines you trust: whoever reaches it can run code there), then `garden-eden clusters add NAME --url http://THAT-MACHINE:8265`.");
            }
            for v in &all {
                println!("{}", line(v));
            }
        }
        ClustersCommand::Add { name, url } => {
            let v = ray::register(&studio, &name, &url).await?;
            println!("Added {}", line(&v));
            if v.resources.is_err() {
                eprintln!("It did not answer now; runs sent there (`train --on {}`) are refused until it does.", v.cluster.name);
            }
        }
        ClustersCommand::Remove { name } => {
            studio.db().call(move |c| ray::remove(c, &name)).await?;
            println!("Removed");
        }
    }
    Ok(())
}
