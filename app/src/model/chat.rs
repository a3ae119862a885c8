//! Models to chat with, answers, side-by-side comparisons and experiments.

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use super::*;

/// A model garden-eden can chat with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub model: String,
    pub adapter_id: Option<String>,
}

/// An answer being generated (or failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRow {
    pub id: String,
    pub text: String,
    pub done: bool,
    pub error: Option<String>,
}

/// The chat page: models, the conversation open, its answer in flight, recent chats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatView {
    pub endpoints: Vec<EndpointRow>,
    /// What a new conversation will talk to, in words.
    pub default_target: String,
    pub experiment: Option<String>,
    pub conversation: Option<ConversationView>,
    /// The model that answers this conversation, and (hidden in the UI) its experiment arm.
    pub conversation_endpoint: Option<String>,
    pub arm: Option<String>,
    pub pending: Option<TurnRow>,
    pub recent: Vec<(String, String, Option<f64>)>,
    pub adapters: Vec<(String, String)>,
}

/// One side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    pub id: String,
    pub prompt: String,
    pub name_a: String,
    pub name_b: String,
    pub answer_a: Option<String>,
    pub answer_b: Option<String>,
    pub turn_a: Option<TurnRow>,
    pub turn_b: Option<TurnRow>,
    pub left_arm: String,
    pub blind: bool,
    pub winner: Option<String>,
}

/// The compare page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareView {
    pub endpoints: Vec<EndpointRow>,
    pub datasets: Vec<(String, String)>,
    pub prompts: Vec<String>,
    pub comparison: Option<ComparisonRow>,
    pub tally: Vec<(String, String, u64, u64, u64, u64)>,
}

/// An interval, for display.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmView {
    pub arm: String,
    pub endpoint: String,
    pub conversations: u64,
    pub rated: u64,
    pub mean_satisfaction: Option<f64>,
    pub satisfaction_ci: Option<Ci>,
    /// The interval was clipped to [0, 1] (too few ratings for the t-interval to stay inside).
    pub satisfaction_clipped: bool,
    pub thumbs_up: u64,
    pub thumbs_total: u64,
    pub thumbs_rate: Option<f64>,
    pub thumbs_ci: Option<Ci>,
}

/// An experiment with its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub split_b: f64,
    pub winner: Option<String>,
    pub created_at: i64,
    pub a: ArmView,
    pub b: ArmView,
    /// (difference b − a, interval, test statistic, p) for thumbs and for satisfaction.
    pub thumbs_test: Option<(f64, Ci, f64, f64)>,
    pub satisfaction_test: Option<(f64, Ci, f64, f64, f64)>,
    pub prob_b_better_thumbs: f64,
    pub prob_b_better_satisfaction: Option<f64>,
    pub needed_per_arm: Option<u64>,
    /// (A wins, B wins, ties, both bad, Elo A, Elo B, P(A preferred) by Bradley–Terry)
    pub votes: (u64, u64, u64, u64, f64, f64, f64),
    pub better: Option<String>,
    pub verdict: String,
    pub chart_svg: String,
}

/// The experiments page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentsView {
    pub endpoints: Vec<EndpointRow>,
    pub experiments: Vec<ExperimentView>,
}

#[cfg(feature = "ssr")]
mod chat_convert {
    use super::*;

    impl From<garden_core::infer::Endpoint> for EndpointRow {
        fn from(e: garden_core::infer::Endpoint) -> Self {
            EndpointRow { id: e.id, name: e.name, kind: e.kind.as_str().into(), url: e.url, model: e.model, adapter_id: e.adapter_id }
        }
    }

    impl From<garden_core::chat::TurnSnapshot> for TurnRow {
        fn from(t: garden_core::chat::TurnSnapshot) -> Self {
            TurnRow { id: t.id, text: t.text, done: t.done, error: t.error }
        }
    }

    impl From<garden_core::stats::Interval> for Ci {
        fn from(i: garden_core::stats::Interval) -> Self {
            Ci { low: i.low, high: i.high }
        }
    }

    impl From<garden_core::experiments::ArmReport> for ArmView {
        fn from(a: garden_core::experiments::ArmReport) -> Self {
            ArmView {
                arm: a.arm,
                endpoint: a.endpoint,
                conversations: a.conversations,
                rated: a.rated,
                mean_satisfaction: a.mean_satisfaction,
                satisfaction_ci: a.satisfaction_interval.map(Into::into),
                satisfaction_clipped: a.satisfaction_interval_clipped,
                thumbs_up: a.thumbs_up,
                thumbs_total: a.thumbs_total,
                thumbs_rate: a.thumbs_up_rate,
                thumbs_ci: a.thumbs_interval.map(Into::into),
            }
        }
    }
}
