//! Ray clusters a run can be handed to: registered once by name and dashboard URL, shown with
//! what the cluster itself reports having.

use serde::{Deserialize, Serialize};

/// A registered Ray cluster (its dashboard and Jobs API, port 8265 by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    /// The dashboard's URL, `http://gpu-box:8265`.
    pub url: String,
    pub created_at: i64,
}

/// What the cluster reports it has, all nodes together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    pub nodes: u32,
    pub cpus: f64,
    pub gpus: f64,
    /// Memory Ray may schedule, in bytes.
    pub memory_bytes: u64,
    /// GPU kinds Ray names (`A100`, `L4`, …), when it names them.
    pub gpu_kinds: Vec<String>,
}

impl Resources {
    /// One line: `1 node · 2 CPUs · 0 GPUs · 3.1 GB memory`.
    pub fn summary(&self) -> String {
        let plural = |n: f64, one: &str, many: &str| if (n - 1.0).abs() < f64::EPSILON { format!("{n} {one}") } else { format!("{n} {many}") };
        let mut s = format!(
            "{} · {} · {}",
            plural(f64::from(self.nodes), "node", "nodes"),
            plural(self.cpus, "CPU", "CPUs"),
            plural(self.gpus, "GPU", "GPUs")
        );
        if !self.gpu_kinds.is_empty() {
            s.push_str(&format!(" ({})", self.gpu_kinds.join(", ")));
        }
        s.push_str(&format!(" · {:.1} GB memory", self.memory_bytes as f64 / 1e9));
        s
    }
}

/// A cluster with what it answered just now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    pub cluster: Cluster,
    /// Its resources, or why it could not be asked (one sentence).
    pub resources: Result<Resources, String>,
}

/// A run's Ray cluster as the review shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterTarget {
    pub name: String,
    pub url: String,
    /// What it has now, or why it did not answer.
    pub resources: Result<Resources, String>,
    /// GPUs the run will ask of it (none when it did not answer).
    pub gpus: Option<u32>,
    /// Why the run would be refused there (too few GPUs, not answering), in one sentence.
    pub problem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_in_words() {
        let r = Resources { nodes: 1, cpus: 2.0, gpus: 0.0, memory_bytes: 3_100_000_000, gpu_kinds: vec![] };
        assert_eq!(r.summary(), "1 node · 2 CPUs · 0 GPUs · 3.1 GB memory");
        let r = Resources { nodes: 2, cpus: 32.0, gpus: 1.0, memory_bytes: 64_000_000_000, gpu_kinds: vec!["A10G".into()] };
        assert_eq!(r.summary(), "2 nodes · 32 CPUs · 1 GPU (A10G) · 64.0 GB memory");
    }
}
