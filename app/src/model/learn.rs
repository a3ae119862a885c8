//! The continual-learning flow and the Garden of Eden V3 import card (the core's own
//! `garden_types` types, as the server functions return them).

pub use garden_types::data::GoeHere;
pub use garden_types::learn::{CycleRun, LearnView, NewVersion};
