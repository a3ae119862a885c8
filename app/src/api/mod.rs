//! Server functions, grouped by domain. Each is a few lines: get the studio, call the core, map
//! the error.

pub mod adapters;
pub mod chat;
pub mod conversations;
pub mod datasets;
#[cfg(feature = "ssr")]
pub(crate) mod form;
pub mod health;
pub mod import;
pub mod runs;
