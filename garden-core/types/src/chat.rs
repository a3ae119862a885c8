//! Models to chat with, answers as they stream, side-by-side comparisons, votes and experiments.
