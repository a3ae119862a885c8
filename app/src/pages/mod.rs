//! One page a file.

pub mod adapter;
pub mod adapters;
pub mod chat;
pub mod compare;
pub mod conversation;
pub mod conversations;
pub mod dataset_new;
pub mod datasets;
pub mod experiments;
pub mod home;
pub mod import;
pub mod learn;
pub mod not_found;
pub mod run;
pub mod runs;
pub mod start;
pub mod train;
