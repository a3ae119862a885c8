//! Models, answers, side-by-side comparisons and experiments: nothing to mirror. The pages and
//! server functions use the core's own types from `garden_types::chat` as they are.

pub use garden_types::chat::{
    Arm, ArmReport, ChatView, Choice, CompareView, Comparison, ComparisonView, Endpoint, EndpointKind, Experiment, ExperimentStatus, ExperimentsView,
    Interval, Judgement, RecentChat, Report, TallyRow, TurnSnapshot, VoteSummary, Winner,
};
