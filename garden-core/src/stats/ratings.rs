//! Pairwise votes: counts, Elo ratings and Bradley–Terry strengths.

#[allow(unused_imports)]
use super::*;

/// A's score in one game: 1, 0 or ½.
pub(super) fn score_a(vote: Vote) -> f64 {
    match vote {
        Vote::A => 1.0,
        Vote::B => 0.0,
        Vote::Tie | Vote::BothBad => 0.5,
    }
}


/// The Elo expected score of a player rated `rating` against one rated `opponent`:
/// 1 / (1 + 10^((opponent − rating)/400)).
pub(super) fn elo_expected(rating: f64, opponent: f64) -> f64 {
    1.0 / (1.0 + 10f64.powf((opponent - rating) / 400.0))
}

/// The batch Elo update of one player: rating + k·Σᵢ (scoreᵢ − Eᵢ), with
/// Eᵢ = 1/(1 + 10^((opponentᵢ − rating)/400)) and scores 1 (win), ½ (draw), 0 (loss). Opponents and
/// scores are paired in order; extra entries of the longer slice are ignored.
pub fn elo_update(rating: f64, opponents: &[f64], scores: &[f64], k: f64) -> f64 {
    let surplus: f64 = opponents
        .iter()
        .zip(scores)
        .map(|(&opponent, &score)| score - elo_expected(rating, opponent))
        .sum();
    rating + k * surplus
}

/// Counts the votes and rates the two arms.
///
/// - Elo: both start at [`ELO_START`]; each vote is one game in order with K = [`ELO_K`], a tie or
///   "both bad" scoring ½ each. The update is zero-sum, so elo_a + elo_b stays 3000.
/// - Bradley–Terry: for two players the maximum-likelihood strengths are proportional to the wins,
///   π_A/(π_A + π_B) = w_A/(w_A + w_B), where ties and "both bad" count as half a win for each
///   side. Each side gets 0.5 extra wins of smoothing, so that a clean sweep does not give 0 and 1
///   (and no votes give ½): bt_strength_a = (w_A + ½)/(w_A + w_B + 1), and the strengths sum to 1.
pub fn summarize_votes(votes: &[Vote]) -> VoteSummary {
    let count = |kind: Vote| votes.iter().filter(|&&v| v == kind).count() as u64;
    let (a, b, ties, both_bad) = (
        count(Vote::A),
        count(Vote::B),
        count(Vote::Tie),
        count(Vote::BothBad),
    );

    let mut elo_a = ELO_START;
    let mut elo_b = ELO_START;
    for vote in votes {
        let delta = ELO_K * (score_a(*vote) - elo_expected(elo_a, elo_b));
        elo_a += delta;
        elo_b -= delta;
    }

    let half_games = 0.5 * (ties + both_bad) as f64;
    let wins_a = a as f64 + half_games;
    let wins_b = b as f64 + half_games;
    let bt_strength_a = (wins_a + 0.5) / (wins_a + wins_b + 1.0);
    let bt_strength_b = 1.0 - bt_strength_a;

    VoteSummary {
        a,
        b,
        ties,
        both_bad,
        elo_a,
        elo_b,
        bt_strength_a,
        bt_strength_b,
        p_a_preferred: bt_strength_a,
    }
}
