//! The continual-learning flow and the Garden of Eden V3 import card.

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use super::*;

/// The continual-learning flow's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnView {
    pub active: Option<String>,
    pub active_deployed: bool,
    pub previous_dataset: Option<String>,
    pub since: Option<i64>,
    pub new_conversations: u64,
    pub next_version: Option<String>,
    /// The cycle's run: (id, name, status), and whether its adapter is registered and deployed.
    pub run: Option<(String, String, String)>,
    pub new_adapter: Option<(String, String, bool)>,
    pub experiment: Option<String>,
}

/// Garden of Eden V3's database on this machine: where it was found, and where garden-eden looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoeHere {
    pub found: Option<String>,
    pub looked: Vec<String>,
}
