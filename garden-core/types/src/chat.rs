//! Models to chat with, answers as they stream, side-by-side comparisons, votes and experiments.
//!
//! The core defines its rows with these types (`garden_core::infer`, `chat`, `turns`, `compare`
//! and `experiments` re-export them at their old paths); the web app shows them as they are. The
//! serde names are the stored ones: the states below are written to SQLite as their `as_str`
//! strings (`endpoints.kind`, `experiments.status` and `.winner`, `assignments.arm`,
//! `conversations.arm`, `votes.left_arm` and `.winner`).


use serde::{Deserialize, Serialize};


// ---------------------------------------------------------------------------------------------
// Models and answers
// ---------------------------------------------------------------------------------------------

/// Which protocol a model server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// Ollama's `POST /api/chat`, streamed NDJSON.
    Ollama,
    /// `POST /v1/chat/completions`, streamed server-sent events (llama.cpp, vLLM, LM Studio).
    OpenAi,
}

impl EndpointKind {
    pub const ALL: [EndpointKind; 2] = [EndpointKind::Ollama, EndpointKind::OpenAi];

    /// The stored string (and the serde name): `ollama` or `openai`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Ollama => "ollama",
            EndpointKind::OpenAi => "openai",
        }
    }
}

one_string_each!(EndpointKind, "kind", "ollama or openai");

/// A model garden-eden can chat with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub name: String,
    pub kind: EndpointKind,
    pub url: String,
    pub model: String,
    /// The registered adapter this endpoint serves, when it serves one (lineage, A/B, metrics).
    pub adapter_id: Option<String>,
    pub created_at: i64,
}

/// What a watcher of an answer receives (the event stream's `delta`, `done` and `error` events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TurnEvent {
    Delta { text: String },
    Done { message_id: Option<String> },
    Error { message: String },
}

/// One answer being generated (or just generated): the event stream's `snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnSnapshot {
    pub id: String,
    pub conversation_id: Option<String>,
    /// The text so far.
    pub text: String,
    pub done: bool,
    pub error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The chat page
// ---------------------------------------------------------------------------------------------

/// Something to pick from a list: an adapter, a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    /// What people read (`name version` for an adapter).
    pub label: String,
}

/// A recent chat conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentChat {
    pub id: String,
    pub title: String,
    /// Its satisfaction by the documented rule.
    pub satisfaction: Option<f64>,
}

/// Which model answers a chat conversation and, while its experiment runs, its arm (the page
/// hides the model then, so the person's ratings stay blind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationModel {
    /// The model's name; `None` once it was removed.
    pub endpoint: Option<String>,
    pub arm: Option<Arm>,
}

/// The chat page: models, the conversation open, its answer in flight, recent chats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatView {
    pub endpoints: Vec<Endpoint>,
    /// What a new conversation will talk to, in words.
    pub default_target: String,
    /// The running experiment's name.
    pub experiment: Option<String>,
    pub conversation: Option<crate::data::ConversationDetail>,
    /// The model that answers the open conversation, and (hidden in the UI) its experiment arm.
    pub conversation_endpoint: Option<String>,
    pub arm: Option<Arm>,
    pub pending: Option<TurnSnapshot>,
    pub recent: Vec<RecentChat>,
    /// The registered adapters, for "serves adapter".
    pub adapters: Vec<Choice>,
}

// ---------------------------------------------------------------------------------------------
// Side by side
// ---------------------------------------------------------------------------------------------

/// One side of an experiment or a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arm {
    A,
    B,
}

impl Arm {
    pub const ALL: [Arm; 2] = [Arm::A, Arm::B];

    /// The stored string (and the serde name): `a` or `b`.
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::A => "a",
            Arm::B => "b",
        }
    }

    /// `A` or `B`, as the pages and reports name it.
    pub fn upper(self) -> &'static str {
        match self {
            Arm::A => "A",
            Arm::B => "B",
        }
    }

    pub fn other(self) -> Arm {
        match self {
            Arm::A => Arm::B,
            Arm::B => Arm::A,
        }
    }
}

one_string_each!(Arm, "arm", "a or b");

/// A side-by-side vote: which answer was better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    A,
    B,
    Tie,
    /// Both answers unusable.
    BothBad,
}

impl Winner {
    pub const ALL: [Winner; 4] = [Winner::A, Winner::B, Winner::Tie, Winner::BothBad];

    /// The stored string (and the serde name): `a`, `b`, `tie` or `both_bad`.
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::A => "a",
            Winner::B => "b",
            Winner::Tie => "tie",
            Winner::BothBad => "both_bad",
        }
    }

    /// The arm's answer won.
    pub fn of(arm: Arm) -> Winner {
        match arm {
            Arm::A => Winner::A,
            Arm::B => Winner::B,
        }
    }
}

one_string_each!(Winner, "vote", "a, b, tie or both_bad");

/// A side-by-side comparison: one prompt, two answers streaming, then a vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub id: String,
    pub prompt: String,
    pub endpoint_a: Endpoint,
    pub endpoint_b: Endpoint,
    pub answer_a: Option<String>,
    pub answer_b: Option<String>,
    /// Which arm is shown on the left (shuffled in blind mode).
    pub left_arm: Arm,
    pub blind: bool,
    pub winner: Option<Winner>,
    pub prompt_set: Option<String>,
    pub created_at: i64,
    /// Turn ids while the answers are generated.
    pub turn_a: Option<String>,
    pub turn_b: Option<String>,
}

/// A comparison as the page shows it: with its answers in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonView {
    pub comparison: Comparison,
    pub turn_a: Option<TurnSnapshot>,
    pub turn_b: Option<TurnSnapshot>,
}

/// The votes between one ordered pair of models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TallyRow {
    pub name_a: String,
    pub name_b: String,
    pub a: u64,
    pub b: u64,
    pub ties: u64,
    pub both_bad: u64,
}

/// The compare page: models, prompt sets, the comparison open, and the tally of votes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareView {
    pub endpoints: Vec<Endpoint>,
    /// Datasets with a validation split (their prompts are held out from training).
    pub datasets: Vec<Choice>,
    /// The chosen dataset's held-out prompts.
    pub prompts: Vec<String>,
    pub comparison: Option<ComparisonView>,
    pub tally: Vec<TallyRow>,
}

// ---------------------------------------------------------------------------------------------
// Experiments
// ---------------------------------------------------------------------------------------------

/// Whether an experiment routes the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExperimentStatus {
    Running,
    Stopped,
}

impl ExperimentStatus {
    pub const ALL: [ExperimentStatus; 2] = [ExperimentStatus::Running, ExperimentStatus::Stopped];

    /// The stored string (and the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentStatus::Running => "running",
            ExperimentStatus::Stopped => "stopped",
        }
    }
}

one_string_each!(ExperimentStatus, "status", "running or stopped");

/// An A/B experiment between two models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub id: String,
    pub name: String,
    pub arm_a: Endpoint,
    pub arm_b: Endpoint,
    /// Share of conversations sent to B.
    pub split_b: f64,
    pub status: ExperimentStatus,
    /// The arm promoted.
    pub winner: Option<Arm>,
    /// The verdict line when it was stopped.
    pub verdict: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

impl Experiment {
    /// The model serving an arm.
    pub fn endpoint(&self, arm: Arm) -> &Endpoint {
        match arm {
            Arm::A => &self.arm_a,
            Arm::B => &self.arm_b,
        }
    }
}

pub use crate::stats::{Interval, ProportionTest, VoteSummary, WelchTest};

/// The evidence for one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmReport {
    pub arm: Arm,
    /// The model's name (or `name version` of the adapter).
    pub endpoint: String,
    pub adapter_id: Option<String>,
    pub conversations: u64,
    /// Conversations with a satisfaction (explicit, or from thumbs: the documented rule).
    pub rated: u64,
    pub mean_satisfaction: Option<f64>,
    /// The 95% t-interval of the mean, clipped to [0, 1] (satisfaction cannot leave it).
    pub satisfaction_interval: Option<Interval>,
    /// The t-interval reached past [0, 1] and was clipped (so few ratings that the interval
    /// says little): shown as "clipped" next to it.
    #[serde(default)]
    pub satisfaction_interval_clipped: bool,
    pub thumbs_up: u64,
    pub thumbs_total: u64,
    pub thumbs_up_rate: Option<f64>,
    pub thumbs_interval: Option<Interval>,
    /// Running mean satisfaction after each rated conversation (the chart).
    pub running_mean: Vec<f64>,
}

/// The statistics and the verdict for two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub thumbs_test: Option<ProportionTest>,
    pub satisfaction_test: Option<WelchTest>,
    pub prob_b_better_thumbs: f64,
    pub prob_b_better_satisfaction: Option<f64>,
    /// Conversations per arm needed to detect the difference seen so far.
    pub needed_per_arm: Option<u64>,
    /// The side the evidence names, when it names one.
    pub better: Option<Arm>,
    pub verdict: String,
}

/// An experiment with everything its evidence says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub experiment: Experiment,
    pub a: ArmReport,
    pub b: ArmReport,
    pub votes: VoteSummary,
    /// The tests and the verdict (flattened: the JSON keeps one level).
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// Two adapters compared on all the chat evidence collected for each (every conversation a model
/// serving that adapter answered, in or out of experiments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterEvidence {
    pub a: ArmReport,
    pub b: ArmReport,
    pub judgement: Judgement,
}

/// The experiments page: the models to pick arms from, and every experiment, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentsView {
    pub endpoints: Vec<Endpoint>,
    pub experiments: Vec<Report>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn states_have_one_string_each_and_it_is_the_serde_name() {
        fn check<T: Serialize + for<'de> Deserialize<'de> + FromStr + PartialEq + std::fmt::Debug + Copy>(all: &[T], s: impl Fn(T) -> &'static str)
        where
            <T as FromStr>::Err: std::fmt::Debug,
        {
            for &v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(s(v).into()));
                assert_eq!(s(v).parse::<T>().unwrap(), v);
                assert_eq!(serde_json::from_value::<T>(serde_json::Value::String(s(v).into())).unwrap(), v);
            }
        }
        check(&EndpointKind::ALL, EndpointKind::as_str);
        check(&Arm::ALL, Arm::as_str);
        check(&Winner::ALL, Winner::as_str);
        check(&ExperimentStatus::ALL, ExperimentStatus::as_str);
        assert_eq!(Winner::BothBad.as_str(), "both_bad");
        assert_eq!(EndpointKind::OpenAi.as_str(), "openai");
        assert_eq!("c".parse::<Arm>().unwrap_err().to_string(), "'c' is not a or b");
        assert_eq!("x".parse::<Winner>().unwrap_err().to_string(), "'x' is not a, b, tie or both_bad");
        assert!(Arm::B == "b" && Winner::Tie == "tie" && ExperimentStatus::Running == "running");
    }

    #[test]
    fn a_report_keeps_one_json_level() {
        let endpoint = Endpoint {
            id: "e".into(),
            name: "e".into(),
            kind: EndpointKind::Ollama,
            url: "http://x".into(),
            model: "m".into(),
            adapter_id: None,
            created_at: 0,
        };
        let arm = |arm| ArmReport {
            arm,
            endpoint: "e".into(),
            adapter_id: None,
            conversations: 0,
            rated: 0,
            mean_satisfaction: None,
            satisfaction_interval: None,
            satisfaction_interval_clipped: false,
            thumbs_up: 0,
            thumbs_total: 0,
            thumbs_up_rate: None,
            thumbs_interval: Some(Interval { low: 0.0, high: 1.0 }),
            running_mean: vec![],
        };
        let r = Report {
            experiment: Experiment {
                id: "x".into(),
                name: "x".into(),
                arm_a: endpoint.clone(),
                arm_b: endpoint,
                split_b: 0.5,
                status: ExperimentStatus::Running,
                winner: None,
                verdict: None,
                created_at: 0,
                ended_at: None,
            },
            a: arm(Arm::A),
            b: arm(Arm::B),
            votes: VoteSummary { a: 0, b: 0, ties: 0, both_bad: 0, elo_a: 1500.0, elo_b: 1500.0, bt_strength_a: 0.5, bt_strength_b: 0.5, p_a_preferred: 0.5 },
            judgement: Judgement {
                thumbs_test: None,
                satisfaction_test: None,
                prob_b_better_thumbs: 0.5,
                prob_b_better_satisfaction: None,
                needed_per_arm: None,
                better: Some(Arm::B),
                verdict: "v".into(),
            },
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["better"], "b");
        assert_eq!(v["verdict"], "v");
        assert_eq!(v["experiment"]["status"], "running");
        assert_eq!(v["a"]["arm"], "a");
        assert_eq!(v["a"]["thumbs_interval"]["high"], 1.0);
        assert_eq!(serde_json::from_value::<Report>(v).unwrap(), r);
    }
}
