//! GPU memory estimate before launch.
