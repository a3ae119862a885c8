//! Registered adapters, their deployments and checks: nothing to mirror. The pages and server
//! functions use the core's own types from `garden_types::adapters` as they are; the main ones
//! are re-exported here (only names no other domain uses).

pub use garden_types::adapters::{Adapter, AdapterView, AdaptersOverview, Deployment, NamedActivation};
