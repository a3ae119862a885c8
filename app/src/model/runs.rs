//! Training runs, their points and the training plan: the core's own types (garden-types), as
//! the server functions return them.

pub use garden_types::runs::{
    ExtraInstall, ExtraStatus, InstallState, MetricPoint, ModelProgress, Phase, Run, RunSnapshot, RunStatus, RunView, TrainParams,
    TrainPlan,
};
