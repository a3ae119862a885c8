//! Training runs, their metric points, and the plan reviewed before a run starts.
