//! One page a file.

pub mod conversations;
pub mod home;
pub mod not_found;
