//! Importers: bringing conversation histories into garden-eden.
