//! The statistics an experiment's report carries: intervals, test results and vote summaries
//! (computed by `garden_core::stats`).

use serde::{Deserialize, Serialize};

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The result of `two_proportion_z_test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProportionTest {
    pub p_a: f64,
    pub p_b: f64,
    /// p_b − p_a.
    pub diff: f64,
    /// 95 % interval for `diff` by Newcombe's hybrid score method ("method 10" of Newcombe 1998,
    /// Statistics in Medicine 17:873–890), built from the two Wilson intervals; it stays inside
    /// `[−1, 1]` and behaves with small counts, unlike the Wald interval.
    pub diff_interval: Interval,
    /// (p_b − p_a) / √(p̄(1 − p̄)(1/n_a + 1/n_b)) with the pooled proportion p̄.
    pub z: f64,
    /// Two-sided p-value of the pooled z-test, 2·Φ(−|z|).
    pub p_value: f64,
}

/// The result of `welch_t_test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelchTest {
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean_b − mean_a.
    pub diff: f64,
    /// 95 % interval for `diff`: diff ± t_{0.975, df} · √(s_a²/n_a + s_b²/n_b).
    pub diff_interval: Interval,
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom (not an integer in general).
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// One pairwise judgement between the two arms' answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// Arm A's answer was better.
    A,
    /// Arm B's answer was better.
    B,
    /// Both equally good.
    Tie,
    /// Both unusable; counts as a tie for the ratings.
    BothBad,
}

/// What a list of pairwise votes says about the two arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoteSummary {
    pub a: u64,
    pub b: u64,
    pub ties: u64,
    pub both_bad: u64,
    /// Elo ratings after playing the votes in order (see `summarize_votes`).
    pub elo_a: f64,
    pub elo_b: f64,
    /// Bradley–Terry strengths, normalized to sum to 1 (see `summarize_votes`).
    pub bt_strength_a: f64,
    pub bt_strength_b: f64,
    /// The estimated probability that a user prefers A's answer: `bt_strength_a`.
    pub p_a_preferred: f64,
}
