//! The continual-learning flow: where the loop stands, as the Keep learning page shows it.
//!
//! `garden_core::learn::status` builds it.

use serde::{Deserialize, Serialize};

use crate::runs::RunStatus;

/// The run the last learning cycle started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleRun {
    pub id: String,
    pub name: String,
    pub status: RunStatus,
}

/// The adapter that run registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVersion {
    pub id: String,
    /// `name version`.
    pub label: String,
    /// It is reachable as a model (deployed, or served by a configured model server).
    pub deployed: bool,
}

/// The continual-learning flow's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnView {
    /// The active adapter, `name version`.
    pub active: Option<String>,
    /// The active adapter is reachable as a model.
    pub active_deployed: bool,
    /// The dataset the next one builds on (its name).
    pub previous_dataset: Option<String>,
    /// New conversations are counted from here (Unix ms).
    pub since: Option<i64>,
    pub new_conversations: u64,
    /// What a preference cycle (KTO, DPO) would learn from now: the judgements since the last
    /// export of its kind, with the counts; one with a `refusal` cannot run yet.
    #[serde(default)]
    pub preference: Vec<crate::prefs::StageData>,
    /// The version the next adapter will get.
    pub next_version: Option<String>,
    /// The cycle's run, and the adapter it registered once it succeeded.
    pub run: Option<CycleRun>,
    pub new_adapter: Option<NewVersion>,
    /// The running experiment's name.
    pub experiment: Option<String>,
}
