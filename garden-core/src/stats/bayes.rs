//! The Bayesian view: the probability that B beats A, from Beta posteriors (thumbs) or a normal
//! approximation (satisfaction).

#[allow(unused_imports)]
use super::*;

/// P(X₂ > X₁) for independent X₁ ~ Beta(a1, b1), X₂ ~ Beta(a2, b2) with a2 a positive integer:
/// Σ_{i=0}^{a2−1} B(a1+i, b1+b2) / ((b2+i) B(1+i, b2) B(a1, b1)), each term through ln B so that
/// nothing overflows or underflows before the exponent.
pub(super) fn beta_beats(a1: f64, b1: f64, a2: f64, b2: f64) -> f64 {
    let ln_beta_1 = ln_beta(a1, b1);
    let mut sum = 0.0;
    let mut i = 0.0;
    while i < a2 {
        let ln_term = ln_beta(a1 + i, b1 + b2) - (b2 + i).ln() - ln_beta(1.0 + i, b2) - ln_beta_1;
        sum += ln_term.exp();
        i += 1.0;
    }
    sum
}

/// The posterior probability that arm B's success rate is higher than arm A's, with independent
/// uniform Beta(1, 1) priors: P(p_B > p_A) for p_A ~ Beta(1 + succ_a, 1 + n_a − succ_a) and
/// p_B ~ Beta(1 + succ_b, 1 + n_b − succ_b).
///
/// Exact, by Evan Miller's closed-form sum ("Formulas for Bayesian A/B Testing"); of the four
/// equivalent forms (summing over B's successes, A's failures, or the complement summing over A's
/// successes or B's failures) the one with the fewest terms is used, so the cost is
/// O(min(successes, failures) + 1) ln B evaluations. Both arms empty give exactly 0.5.
/// Successes greater than n are treated as n.
pub fn prob_b_beats_a_beta(succ_a: u64, n_a: u64, succ_b: u64, n_b: u64) -> f64 {
    let succ_a = succ_a.min(n_a);
    let succ_b = succ_b.min(n_b);
    let alpha_a = succ_a as f64 + 1.0;
    let beta_a = (n_a - succ_a) as f64 + 1.0;
    let alpha_b = succ_b as f64 + 1.0;
    let beta_b = (n_b - succ_b) as f64 + 1.0;
    let shortest = alpha_a.min(beta_a).min(alpha_b).min(beta_b);
    let p = if alpha_b == shortest {
        beta_beats(alpha_a, beta_a, alpha_b, beta_b)
    } else if beta_a == shortest {
        // p_B > p_A ⇔ 1 − p_A > 1 − p_B, and 1 − p ~ Beta(β, α).
        beta_beats(beta_b, alpha_b, beta_a, alpha_a)
    } else if alpha_a == shortest {
        1.0 - beta_beats(alpha_b, beta_b, alpha_a, beta_a)
    } else {
        1.0 - beta_beats(beta_a, alpha_a, beta_b, alpha_b)
    };
    p.clamp(0.0, 1.0)
}

/// For scores: the normal approximation to P(μ_B > μ_A), Φ((mean_b − mean_a) / se) with
/// se = √(s_a²/n_a + s_b²/n_b). None when either side has fewer than 2 values or a non-finite
/// one. With se = 0 (no spread on either side) it is 1, 0 or 0.5 as mean_b is above, below or equal
/// to mean_a.
pub fn prob_b_beats_a_normal(a: &[f64], b: &[f64]) -> Option<f64> {
    let (mean_a, var_a, n_a) = mean_var(a)?;
    let (mean_b, var_b, n_b) = mean_var(b)?;
    let diff = mean_b - mean_a;
    let se = (var_a / n_a + var_b / n_b).sqrt();
    if se == 0.0 {
        return Some(if diff > 0.0 {
            1.0
        } else if diff < 0.0 {
            0.0
        } else {
            0.5
        });
    }
    Some(normal_cdf(diff / se))
}
