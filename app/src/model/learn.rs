//! The continual-learning flow (the core's own `garden_types::learn` types) and the Garden of
//! Eden V3 import card.

use serde::{Deserialize, Serialize};

pub use garden_types::learn::{CycleRun, LearnView, NewVersion};

/// Garden of Eden V3's database on this machine: where it was found, and where garden-eden looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoeHere {
    pub found: Option<String>,
    pub looked: Vec<String>,
}
