//! The continual-learning flow.
