//! Config files and commands for other trainers (Axolotl, Unsloth, MLX).
