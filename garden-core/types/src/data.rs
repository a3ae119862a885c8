//! Health checks, conversations, imports and exported datasets.
