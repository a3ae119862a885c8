//! Registered adapters, their deployments and the checks on them.
