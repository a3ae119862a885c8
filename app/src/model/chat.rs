//! Models, answers, side-by-side comparisons and experiments: nothing to mirror. The pages and
//! server functions use the core's own types from `garden_types::chat` as they are.

pub use garden_types::chat::{
    Arm, ArmReport, Choice, CompareView, Comparison, ComparisonView, Endpoint, EndpointKind, Experiment, ExperimentStatus, ExperimentsView,
    Interval, Judgement, RecentChat, Report, TallyRow, TurnSnapshot, VoteSummary, Winner,
};

/// The chat page, its open conversation as the conversation page shows it.
pub type ChatView = garden_types::chat::ChatView<super::ConversationView>;
