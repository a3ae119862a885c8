//! Training: the typed configuration, runs and their metrics, and the supervisor that runs the
//! real LLaMA-Factory as a subprocess.

pub mod config;
pub mod runs;
pub mod supervisor;

pub use config::{Adjustment, TrainConfig};
pub use runs::{MetricPoint, Run, RunStatus};
pub use supervisor::{RunEvent, Supervisor};
