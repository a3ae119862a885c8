//! The types that cross the wire: what garden-eden's core returns, the server sends and the
//! browser shows. Serde only (no database, no runtime), so the browser bundle can use them; the
//! core defines its rows with them and the UI uses them as they are, with no mirrors.
//!
//! One module a domain; each type's documentation says what it means, not how it is stored.

pub mod adapters;
pub mod chat;
pub mod data;
pub mod learn;
pub mod runs;
pub mod stats;
