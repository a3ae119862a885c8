//! Confidence intervals, the two-proportion z-test, Welch's t-test, and the sample sizes an
//! experiment needs.

#[allow(unused_imports)]
use super::*;

/// z with P(|Z| < z) = confidence.
pub(super) fn two_sided_z(confidence: f64) -> f64 {
    -normal_quantile(0.5 * (1.0 - confidence))
}

/// The Wilson score interval for a proportion (Wilson 1927): the p whose score test at the given
/// `confidence` (e.g. 0.95) does not reject. Unlike the Wald interval it stays inside `[0, 1]` and
/// behaves at 0 and n successes. None when n == 0, successes > n or confidence is not in (0, 1).
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> Option<Interval> {
    if n == 0 || successes > n || !in_open_unit(confidence) {
        return None;
    }
    let z = two_sided_z(confidence);
    let nf = n as f64;
    let p = successes as f64 / nf;
    let q = (n - successes) as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * q / nf + z2 / (4.0 * nf * nf)).sqrt();
    Some(Interval {
        low: if successes == 0 {
            0.0
        } else {
            (center - half).clamp(0.0, 1.0)
        },
        high: if successes == n {
            1.0
        } else {
            (center + half).clamp(0.0, 1.0)
        },
    })
}

/// Sample mean and unbiased variance; None with fewer than 2 values or a non-finite one.
/// All-equal samples get a variance of exactly 0.
pub(super) fn mean_var(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.len() < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len() as f64;
    let first = values[0];
    if values.iter().all(|&v| v == first) {
        return Some((first, 0.0, n));
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    Some((mean, var, n))
}

/// The t-interval for a mean: mean ± t_{(1+c)/2, n−1} · s/√n. None with fewer than 2 values, a
/// non-finite value, or a confidence outside (0, 1). All-equal values give a zero-width interval.
pub fn mean_interval(values: &[f64], confidence: f64) -> Option<Interval> {
    if !in_open_unit(confidence) {
        return None;
    }
    let (mean, var, n) = mean_var(values)?;
    let half = student_t_quantile(0.5 + 0.5 * confidence, n - 1.0) * (var / n).sqrt();
    Some(Interval {
        low: mean - half,
        high: mean + half,
    })
}

/// [`mean_interval`] for values that live in `[low, high]` (satisfaction in `[0, 1]`): the
/// t-interval, clipped to the range. With few values the t-interval can reach far outside it
/// (n = 2 can give [−4.48, 5.68]); clipping keeps it true, since the mean cannot leave the range.
/// The flag says whether it was clipped, so the display can say so.
pub fn bounded_mean_interval(values: &[f64], confidence: f64, low: f64, high: f64) -> Option<(Interval, bool)> {
    let i = mean_interval(values, confidence)?;
    let clipped = i.low < low || i.high > high;
    Some((Interval { low: i.low.max(low), high: i.high.min(high) }, clipped))
}


/// Newcombe's hybrid score interval for p₁ − p₂ (his method 10): with Wilson limits (l₁, u₁) and
/// (l₂, u₂), [d − √((p₁−l₁)² + (u₂−p₂)²), d + √((u₁−p₁)² + (p₂−l₂)²)].
pub(super) fn newcombe_interval(x1: u64, n1: u64, x2: u64, n2: u64, confidence: f64) -> Option<Interval> {
    let w1 = wilson_interval(x1, n1, confidence)?;
    let w2 = wilson_interval(x2, n2, confidence)?;
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let d = p1 - p2;
    let below = ((p1 - w1.low).powi(2) + (w2.high - p2).powi(2)).sqrt();
    let above = ((w1.high - p1).powi(2) + (p2 - w2.low).powi(2)).sqrt();
    Some(Interval {
        low: (d - below).clamp(-1.0, 1.0),
        high: (d + above).clamp(-1.0, 1.0),
    })
}

/// The pooled two-proportion z-test of arm B's success rate against arm A's, with a Newcombe
/// hybrid score interval for the difference (see [`ProportionTest`]).
///
/// None when either arm is empty or has more successes than trials, and when the pooled
/// proportion is 0 or 1 (no successes at all, or no failures at all): then the standard error
/// under the null hypothesis is 0 and the test is undefined.
pub fn two_proportion_z_test(
    succ_a: u64,
    n_a: u64,
    succ_b: u64,
    n_b: u64,
) -> Option<ProportionTest> {
    if n_a == 0 || n_b == 0 || succ_a > n_a || succ_b > n_b {
        return None;
    }
    if (succ_a == 0 && succ_b == 0) || (succ_a == n_a && succ_b == n_b) {
        return None;
    }
    let total = n_a as f64 + n_b as f64;
    let pooled = (succ_a as f64 + succ_b as f64) / total;
    let pooled_q = ((n_a - succ_a) as f64 + (n_b - succ_b) as f64) / total;
    let p_a = succ_a as f64 / n_a as f64;
    let p_b = succ_b as f64 / n_b as f64;
    let diff = p_b - p_a;
    let se = (pooled * pooled_q * (1.0 / n_a as f64 + 1.0 / n_b as f64)).sqrt();
    let z = diff / se;
    Some(ProportionTest {
        p_a,
        p_b,
        diff,
        diff_interval: newcombe_interval(succ_b, n_b, succ_a, n_a, DIFF_CONFIDENCE)?,
        z,
        p_value: (2.0 * normal_cdf(-z.abs())).min(1.0),
    })
}


/// Welch's unequal-variances t-test of mean(b) against mean(a).
///
/// None when either side has fewer than 2 values or a non-finite value, and when both sample
/// variances are 0 (all scores equal on both sides: the t statistic is undefined).
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<WelchTest> {
    let (mean_a, var_a, n_a) = mean_var(a)?;
    let (mean_b, var_b, n_b) = mean_var(b)?;
    let sa = var_a / n_a;
    let sb = var_b / n_b;
    let se2 = sa + sb;
    if se2 <= 0.0 {
        return None;
    }
    let se = se2.sqrt();
    let diff = mean_b - mean_a;
    let t = diff / se;
    // (sa + sb)² / (sa²/(n_a−1) + sb²/(n_b−1)), scaled by the larger term against underflow.
    let scale = sa.max(sb);
    let (ra, rb) = (sa / scale, sb / scale);
    let df = (ra + rb).powi(2) / (ra * ra / (n_a - 1.0) + rb * rb / (n_b - 1.0));
    let half = student_t_quantile(0.5 + 0.5 * DIFF_CONFIDENCE, df) * se;
    Some(WelchTest {
        mean_a,
        mean_b,
        diff,
        diff_interval: Interval {
            low: diff - half,
            high: diff + half,
        },
        t,
        df,
        p_value: (2.0 * student_t_cdf(-t.abs(), df)).min(1.0),
    })
}

/// Rounds a required sample size up, forgiving rounding noise of 1e-9 relative (so 16.000000000001
/// stays 16); at least 1.
pub(super) fn ceil_sample_size(n: f64) -> u64 {
    ((n * (1.0 - 1e-9)).ceil() as u64).max(1)
}

/// The unrounded per-arm n of [`sample_size_proportions`].
pub(super) fn sample_size_proportions_raw(p_a: f64, p_b: f64, alpha: f64, power: f64) -> Option<f64> {
    let valid = |p: f64| (0.0..=1.0).contains(&p);
    if !valid(p_a) || !valid(p_b) || !in_open_unit(alpha) || !in_open_unit(power) || p_a == p_b {
        return None;
    }
    let z_alpha = two_sided_z(1.0 - alpha);
    let z_power = normal_quantile(power);
    let p_bar = 0.5 * (p_a + p_b);
    let root = z_alpha * (2.0 * p_bar * (1.0 - p_bar)).sqrt()
        + z_power * (p_a * (1.0 - p_a) + p_b * (1.0 - p_b)).sqrt();
    Some(root.max(0.0).powi(2) / (p_a - p_b).powi(2))
}

/// Per-arm sample size for a two-sided pooled test of p_a against p_b at level `alpha` with the
/// given `power` (e.g. 0.05 and 0.8), without continuity correction:
/// n = (z_{1−α/2}·√(2 p̄ q̄) + z_power·√(p_a q_a + p_b q_b))² / (p_a − p_b)², p̄ = (p_a + p_b)/2,
/// rounded up (at least 1). None when p_a == p_b, a proportion is outside `[0, 1]`, or alpha or
/// power is outside (0, 1).
pub fn sample_size_proportions(p_a: f64, p_b: f64, alpha: f64, power: f64) -> Option<u64> {
    sample_size_proportions_raw(p_a, p_b, alpha, power).map(ceil_sample_size)
}

/// Per-arm sample size to detect a difference `diff` between two means with standard deviation
/// `sd` in each arm, two-sided at level `alpha` with the given `power`:
/// n = 2 (z_{1−α/2} + z_power)² sd² / diff², rounded up (at least 1). None when diff is 0 or not
/// finite, sd is not positive and finite, or alpha or power is outside (0, 1).
pub fn sample_size_means(sd: f64, diff: f64, alpha: f64, power: f64) -> Option<u64> {
    if diff == 0.0
        || !diff.is_finite()
        || sd <= 0.0
        || !sd.is_finite()
        || !in_open_unit(alpha)
        || !in_open_unit(power)
    {
        return None;
    }
    let z = (two_sided_z(1.0 - alpha) + normal_quantile(power)).max(0.0);
    Some(ceil_sample_size(2.0 * z * z * sd * sd / (diff * diff)))
}
