//! Where garden-eden keeps its data and where it finds the tools it drives.

use std::path::{Path, PathBuf};

/// The default Ollama address (Ollama's own default).
pub const DEFAULT_OLLAMA_URL: &str = "http://127.0.0.1:11434";

/// Settings shared by the web app and the CLI.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Holds the SQLite database and every artefact garden-eden writes.
    pub data_dir: PathBuf,
    /// The Python interpreter of the environment that has LLaMA-Factory (and llama-cpp-python).
    /// `None`: `<data_dir>/venv/bin/python` if it exists, else the one in the default data dir,
    /// where the set-up script creates it.
    pub python: Option<PathBuf>,
    /// The Python with MLX (mlx-lm), for the MLX backend. It is an environment of its own:
    /// mlx-lm needs a newer transformers than LLaMA-Factory 0.9.5 accepts. `None`:
    /// `<data_dir>/mlx-venv/bin/python` if it exists, else the one in the default data dir.
    pub mlx_python: Option<PathBuf>,
    /// Base URL of the Ollama server.
    pub ollama_url: String,
}

impl Settings {
    /// Settings with defaults for everything but the data dir.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Settings {
            data_dir: data_dir.into(),
            python: None,
            mlx_python: None,
            ollama_url: DEFAULT_OLLAMA_URL.to_owned(),
        }
    }

    /// The platform's data dir for garden-eden: `~/.local/share/garden-eden` on Linux,
    /// `~/Library/Application Support/garden-eden` on macOS (the `dirs` crate's data dir).
    pub fn default_data_dir() -> PathBuf {
        dirs::data_dir()
            .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("garden-eden")
    }

    /// Path of the SQLite database.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("garden-eden.sqlite3")
    }

    /// The Python interpreter garden-eden runs LLaMA-Factory with.
    pub fn python_path(&self) -> PathBuf {
        if let Some(python) = &self.python {
            return python.clone();
        }
        let own = venv_python(&self.data_dir);
        if own.exists() {
            own
        } else {
            venv_python(&Self::default_data_dir())
        }
    }
}

fn venv_python(data_dir: &Path) -> PathBuf {
    data_dir.join("venv").join("bin").join("python")
}

impl Settings {
    /// The Python garden-eden runs MLX training with (see [`Settings::mlx_python`]).
    pub fn mlx_python_path(&self) -> PathBuf {
        if let Some(python) = &self.mlx_python {
            return python.clone();
        }
        let in_venv = |d: &Path| d.join("mlx-venv").join("bin").join("python");
        let own = in_venv(&self.data_dir);
        if own.exists() { own } else { in_venv(&Self::default_data_dir()) }
    }
}
