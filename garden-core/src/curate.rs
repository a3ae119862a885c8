//! Curation: duplicate removal, PII scrubbing, train/validation split.
