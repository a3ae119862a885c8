//! Data shared by the server and the browser, by domain.

mod adapters;
mod chat;
mod data;
mod learn;
mod runs;

pub use adapters::*;
pub use chat::*;
pub use data::*;
pub use learn::*;
pub use runs::*;
