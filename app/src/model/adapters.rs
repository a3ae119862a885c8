//! Registered adapters, their deployments and checks.

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use super::*;

/// A registered adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterRow {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub base_model: String,
    pub path: String,
    pub format: String,
    pub rank: i64,
    pub alpha: f64,
    pub target_modules: Vec<String>,
    pub checksum: String,
    pub run_id: Option<String>,
    pub dataset_id: Option<String>,
    pub parent_id: Option<String>,
    pub is_active: bool,
    pub avg_satisfaction: Option<f64>,
    pub total_conversations: Option<i64>,
    pub training_loss: Option<f64>,
    pub eval_loss: Option<f64>,
    pub perplexity: Option<f64>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
}

/// One deployment to Ollama, with every step seen so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub id: String,
    pub adapter_id: String,
    pub target: String,
    pub model_name: String,
    pub strategy: String,
    pub ollama_version: Option<String>,
    pub status: String,
    pub progress: Vec<String>,
    pub error: Option<String>,
    pub hint: Option<String>,
    pub test_prompt: Option<String>,
    pub test_answer: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// The registry page: every version, runs waiting to be registered, whether rollback can go back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptersOverview {
    pub adapters: Vec<AdapterRow>,
    /// Succeeded runs whose adapter is not registered (automatic registration failed or predates it).
    pub unregistered_runs: Vec<(String, String)>,
    pub rollback_to: Option<String>,
}

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageDataset {
    pub id: String,
    pub name: String,
    pub examples: i64,
    pub conversations: i64,
    pub avg_satisfaction: Option<f64>,
}

/// One adapter with its lineage, deployments, activations and Modelfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterView {
    pub adapter: AdapterRow,
    pub run: Option<(String, String, String)>,
    pub dataset: Option<LineageDataset>,
    pub parent: Option<AdapterRow>,
    pub deployments: Vec<DeploymentRow>,
    /// (when, what happened)
    pub activations: Vec<(i64, String)>,
    pub modelfile: String,
    pub modelfile_note: String,
    /// For QLoRA adapters: why merge and GGUF use the full-precision base.
    pub base_precision_note: Option<String>,
    pub default_model_name: String,
    pub default_system: String,
    pub ollama_url: String,
}

/// One troubleshooting check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployCheck {
    pub label: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

#[cfg(feature = "ssr")]
mod adapter_convert {
    use super::*;

    impl From<garden_core::adapters::Adapter> for AdapterRow {
        fn from(a: garden_core::adapters::Adapter) -> Self {
            AdapterRow {
                id: a.id,
                name: a.name,
                version: a.version,
                description: a.description,
                base_model: a.base_model,
                path: a.path,
                format: a.format,
                rank: a.rank,
                alpha: a.alpha,
                target_modules: a.target_modules,
                checksum: a.checksum,
                run_id: a.run_id,
                dataset_id: a.dataset_id,
                parent_id: a.parent_id,
                is_active: a.is_active,
                avg_satisfaction: a.metrics.avg_satisfaction,
                total_conversations: a.metrics.total_conversations,
                training_loss: a.metrics.training_loss,
                eval_loss: a.metrics.eval_loss,
                perplexity: a.metrics.perplexity,
                created_at: a.created_at,
                activated_at: a.activated_at,
            }
        }
    }

    impl From<garden_core::adapters::Deployment> for DeploymentRow {
        fn from(d: garden_core::adapters::Deployment) -> Self {
            DeploymentRow {
                id: d.id,
                adapter_id: d.adapter_id,
                target: d.target,
                model_name: d.model_name,
                strategy: d.strategy,
                ollama_version: d.ollama_version,
                status: d.status,
                progress: d.progress,
                error: d.error,
                hint: d.hint,
                test_prompt: d.test_prompt,
                test_answer: d.test_answer,
                created_at: d.created_at,
                finished_at: d.finished_at,
            }
        }
    }

    impl From<garden_core::adapters::deploy::Check> for DeployCheck {
        fn from(c: garden_core::adapters::deploy::Check) -> Self {
            DeployCheck { label: c.label, ok: c.ok, detail: c.detail, fix: c.fix }
        }
    }
}
