//! The statistics behind A/B experiments between two adapters ("arm A" and "arm B").
//!
//! Three kinds of feedback are compared:
//! - thumbs up/down: proportions ([`wilson_interval`], [`two_proportion_z_test`],
//!   [`prob_b_beats_a_beta`], [`sample_size_proportions`]);
//! - satisfaction scores in `[0, 1]`: means ([`mean_interval`], [`welch_t_test`],
//!   [`prob_b_beats_a_normal`], [`sample_size_means`]);
//! - pairwise votes: A, B, tie or both bad ([`summarize_votes`], [`elo_update`]).
//!
//! Differences are always **B − A**, so a positive difference means arm B did better.
//!
//! The special functions come from the [`statrs`] crate: the normal distribution (Φ through its
//! `erfc`, Φ⁻¹ through its inverse `erfc`), ln Γ, ln B, the regularized incomplete beta function
//! and Student's t cdf and density. What is computed here is the statistics built on them
//! (Wilson and Newcombe intervals, the z- and Welch tests, Evan Miller's closed form for the Beta
//! posterior, sample sizes, Elo and Bradley–Terry ratings) and one distribution function statrs
//! does not get right: the **Student's t quantile**. statrs 0.18's `StudentsT::inverse_cdf` goes
//! through its `inv_beta_reg` (statrs-dev/statrs#435), which panics for p = 1e-300, never
//! returns for p = 1e-100 at 1000 degrees of freedom, is wrong by orders of magnitude below
//! p ≈ 1e-12 at small df (−9.2e7 instead of −3.2e11 at df = 1) and off by 9e-4 relative at
//! df = 1e6, p = 0.2. So [`student_t_quantile`] uses closed forms for 1 and 2 degrees of freedom,
//! the leading term of the tail series far out, and otherwise Newton's method on statrs's cdf. The accuracy each function reaches is stated on it. Functions that cannot give a meaningful
//! answer return `None` rather than a NaN, so the UI never has to print "NaN".

mod bayes;
mod distributions;
mod intervals;
mod ratings;

pub use bayes::*;
pub use distributions::*;
pub use intervals::*;
pub use ratings::*;
pub use garden_types::stats::{Interval, ProportionTest, Vote, VoteSummary, WelchTest};
#[allow(unused_imports)]
use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};
#[allow(unused_imports)]
use statrs::function::{beta, gamma};
#[allow(unused_imports)]
use std::f64::consts::PI;

/// Every Elo rating starts here in [`summarize_votes`].
pub const ELO_START: f64 = 1500.0;
/// The Elo K-factor [`summarize_votes`] uses.
pub const ELO_K: f64 = 32.0;
/// The confidence level of the difference intervals in [`ProportionTest`] and [`WelchTest`].
pub const DIFF_CONFIDENCE: f64 = 0.95;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tol: f64) -> bool {
        (actual - expected).abs() <= tol
    }

    #[track_caller]
    fn assert_close(actual: f64, expected: f64, tol: f64) {
        assert!(
            close(actual, expected, tol),
            "expected {expected}, got {actual} (tolerance {tol})"
        );
    }

    #[track_caller]
    fn assert_rel(actual: f64, expected: f64, rel: f64) {
        assert!(
            (actual - expected).abs() <= rel * expected.abs(),
            "expected {expected}, got {actual} (relative tolerance {rel})"
        );
    }

    // ----- Distribution helpers -----

    #[test]
    fn normal_table_values() {
        // Standard normal table: Φ(1.96) = 0.9750 and its inverse 1.96 (any textbook table, e.g.
        // NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.1 "Cumulative Distribution
        // Function of the Standard Normal Distribution"). The full-precision digits are
        // scipy.stats.norm.cdf(1.96) and norm.ppf(0.975) (scipy 1.17). statrs 0.18's erfc is good to
        // about 1e-10 relative (statrs-dev/statrs#412): Φ(1.96) comes out 1.1e-12 high.
        assert_close(normal_cdf(1.96), 0.9750021048517795, 2e-12);
        assert_close(normal_quantile(0.975), 1.959963984540054, 1e-13);
        assert_close(normal_cdf(-1.96), 1.0 - 0.9750021048517795, 2e-12);
        assert_close(normal_quantile(0.025), -1.959963984540054, 1e-13);
    }

    #[test]
    fn normal_cdf_matches_high_precision_values() {
        // Not a published example: accuracy checks against mpmath.ncdf at 40 digits (mpmath 1.3),
        // rounded to doubles. Relative error, so the far lower tail is checked too. statrs 0.18's erfc
        // carries constants truncated to 10 digits (statrs-dev/statrs#412): the measured relative
        // error is up to 7.1e-11 (at −20; 1e-17 at 0.1), where the hand-rolled erfc this replaced
        // reached 1e-13.
        let cases = [
            (0.1, 0.539827837277029),
            (1.0, 0.8413447460685429),
            (2.5, 0.9937903346742238),
            (-0.7, 0.24196365222307303),
            (-1.4, 0.08075665923377107),
            (-2.0, 0.02275013194817921),
            (-2.9, 0.0018658133003840384),
            (-3.0, 0.0013498980316300946),
            (-5.0, 2.866515718791939e-7),
            (-8.0, 6.220960574271784e-16),
            (-20.0, 2.7536241186062337e-89),
            (-37.5, 4.605353009581955e-308),
        ];
        for (z, expected) in cases {
            assert_rel(normal_cdf(z), expected, 1e-10);
        }
        assert_eq!(normal_cdf(0.0), 0.5);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn normal_quantile_matches_high_precision_values() {
        // Not a published example: roots of mpmath.ncdf(x) = p at 60 digits (mpmath 1.3).
        let cases = [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798407),
            (1e-10, -6.361340902404057),
            (0.001, -3.0902323061678136),
            (0.02425, -1.972961051311885),
            (0.3, -0.5244005127080408),
        ];
        for (p, expected) in cases {
            assert_rel(normal_quantile(p), expected, 1e-13);
        }
        // The upper tail mirrors the lower one (1 − p is not exact for tiny p, so only moderate p).
        for p in [0.001, 0.02425, 0.3] {
            assert_rel(normal_quantile(1.0 - p), -normal_quantile(p), 1e-12);
        }
        // Round trip across the whole range, to the accuracy of statrs's Φ (up to 1e-10 relative,
        // at p = 0.23; see normal_cdf_matches_high_precision_values).
        for i in 1..200 {
            let p = f64::from(i) / 200.0;
            assert_rel(normal_cdf(normal_quantile(p)), p, 2e-10);
        }
        assert_eq!(normal_quantile(0.5), 0.0);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan());
        assert!(normal_quantile(-0.1).is_nan());
    }

    #[test]
    fn ln_gamma_values() {
        // Γ(n) = (n−1)! and Γ(½) = √π exactly (definitions); the others are mpmath.loggamma
        // (mpmath 1.3), rounded to doubles.
        let mut factorial = 1.0f64;
        for n in 1..25 {
            if n > 1 {
                factorial *= f64::from(n - 1);
            }
            assert_close(ln_gamma(f64::from(n)), factorial.ln(), 1e-13);
        }
        assert_close(ln_gamma(0.5), 0.5 * PI.ln(), 4e-15);
        let cases = [
            (0.1, 2.252712651734206),
            (1.5, -0.12078223763524522),
            (3.7, 1.428072326665388),
            (12.5, 18.734347511936445),
            (170.3, 702.9773854513282),
            (1e5, 1051287.7089736569),
        ];
        for (x, expected) in cases {
            assert_close(ln_gamma(x), expected, 1e-14 * expected.abs().max(1.0));
        }
        // Γ(−½) = −2√π.
        assert_close(ln_gamma(-0.5), (2.0 * PI.sqrt()).ln(), 1e-14);
        assert_eq!(ln_gamma(0.0), f64::INFINITY);
        assert_eq!(ln_gamma(-3.0), f64::INFINITY);
    }

    #[test]
    fn beta_inc_values() {
        // Closed forms that follow from the definition: I_x(1,1) = x, I_x(a,1) = xᵃ,
        // I_x(1,b) = 1 − (1−x)ᵇ, I_x(½,½) = (2/π)·asin(√x), and I_x(a,b) = 1 − I_{1−x}(b,a).
        for i in 1..20 {
            let x = f64::from(i) / 20.0;
            assert_close(beta_inc(1.0, 1.0, x), x, 1e-15);
            assert_close(beta_inc(3.5, 1.0, x), x.powf(3.5), 1e-14);
            assert_close(beta_inc(1.0, 2.25, x), 1.0 - (1.0 - x).powf(2.25), 1e-14);
            assert_close(beta_inc(0.5, 0.5, x), 2.0 / PI * x.sqrt().asin(), 1e-14);
            assert_close(
                beta_inc(2.5, 7.0, x),
                1.0 - beta_inc(7.0, 2.5, 1.0 - x),
                1e-14,
            );
        }
        // mpmath.betainc(a, b, 0, x, regularized=True) at 40 digits (mpmath 1.3).
        let cases = [
            (0.5, 0.5, 0.3, 0.36901011956554536),
            (2.5, 7.25, 0.2, 0.38444272519976463),
            (30.0, 40.0, 0.45, 0.6447480085585681),
            (0.1, 5.0, 0.01, 0.7690889207843463),
            (200.0, 300.0, 0.41, 0.6776281647721789),
        ];
        for (a, b, x, expected) in cases {
            assert_close(beta_inc(a, b, x), expected, 1e-12);
        }
        assert_eq!(beta_inc(2.0, 3.0, 0.0), 0.0);
        assert_eq!(beta_inc(2.0, 3.0, 1.0), 1.0);
        assert!(beta_inc(0.0, 3.0, 0.5).is_nan());
    }

    #[test]
    fn student_t_table_values() {
        // Critical values of Student's t, two-sided 95 % (upper 0.975 point): 2.228 for 10
        // degrees of freedom and 2.776 for 4 (NIST/SEMATECH e-Handbook of Statistical Methods,
        // 1.3.6.7.2 "Critical Values of the Student's t Distribution"). The full digits are
        // scipy.stats.t.ppf(0.975, 10) and t.ppf(0.975, 4), and t.cdf(2.0, 5) (scipy 1.17; mpmath
        // gives 0.94903026058507082188).
        assert_close(student_t_quantile(0.975, 10.0), 2.228138851986274, 1e-12);
        assert_close(student_t_quantile(0.975, 4.0), 2.7764451051977934, 1e-12);
        assert_close(student_t_cdf(2.0, 5.0), 0.9490302605850708, 1e-13);
    }

    #[test]
    fn student_t_closed_forms_and_high_precision_values() {
        // One degree of freedom is the Cauchy distribution, F(t) = ½ + atan(t)/π; two degrees give
        // F(t) = ½ + t/(2√(2 + t²)) (both follow from integrating the density).
        for i in -40..=40 {
            let t = f64::from(i) * 0.37;
            assert_close(student_t_cdf(t, 1.0), 0.5 + t.atan() / PI, 1e-14);
            assert_close(
                student_t_cdf(t, 2.0),
                0.5 + t / (2.0 * (2.0 + t * t).sqrt()),
                1e-14,
            );
        }
        // Non-integer degrees of freedom: mpmath at 40 digits via the incomplete beta function.
        let cases = [
            (-3.5, 2.5, 0.02617277348016017),
            (0.3, 0.7, 0.5853824068143325),
            (-40.0, 1.5, 0.0014898121954656227),
            (1.2, 1000.0, 0.8847882238377665),
            (-2.455356398286006, 24.988529290231416, 0.010689000731433492),
        ];
        for (t, df, expected) in cases {
            assert_rel(student_t_cdf(t, df), expected, 1e-12);
        }
        // Many degrees of freedom, where statrs's incomplete beta loses precision in proportion to
        // df (it measures 3.9e-10 here; mpmath at 40 digits as above).
        assert_rel(student_t_cdf(-1.96, 1e6), 0.024998033792634893, 1e-9);
        // Quantiles from scipy.stats.t.ppf (scipy 1.17).
        let quantiles = [
            (0.001, 0.5, -102849.11563017554),
            (0.2, 1.5, -1.1533643782954688),
            (0.9999, 3.0, 22.203742273205),
            (0.975, 1e6, 1.959966356814107),
            (0.6, 2.2, 0.2853915458883041),
        ];
        for (p, df, expected) in quantiles {
            assert_rel(student_t_quantile(p, df), expected, 1e-10);
        }
        // Round trips, including heavy tails.
        for &df in &[0.5, 1.0, 3.3, 30.0, 5000.0] {
            for &p in &[1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.999] {
                let t = student_t_quantile(p, df);
                assert_rel(student_t_cdf(t, df), p, 1e-10);
            }
        }
        assert_eq!(student_t_cdf(0.0, 7.0), 0.5);
        assert!(student_t_cdf(1.0, 0.0).is_nan());
        assert!(student_t_quantile(0.5, -1.0).is_nan());
    }

    #[test]
    fn student_t_quantile_far_tail() {
        // The defect this guards against: the previous hand-rolled Newton iteration stopped after
        // 300 small steps in the power-law tail and returned −7.5e91 for p = 1e-300 at df = 1, and
        // statrs's own StudentsT::inverse_cdf panics there (and never returns for p = 1e-100 at
        // df = 1000). Closed forms: df = 1 is the Cauchy distribution, t = tan(π(p − ½)) =
        // −cot(πp); df = 2 gives t = (2p − 1)/√(2p(1 − p)). The values are mpmath 1.3 at 40
        // digits (those two closed forms, and for the other df the root of
        // ½·betainc(df/2, ½, 0, df/(df + t²), regularized=True) = p), rounded to doubles.
        assert_rel(student_t_quantile(1e-300, 1.0), -3.1830988618379066e299, 1e-15);
        assert_rel(student_t_quantile(1e-300, 2.0), -7.071067811865475e149, 1e-15);
        assert_rel(student_t_quantile(1e-100, 1.0), -3.183098861837907e99, 1e-15);
        assert_rel(student_t_quantile(1e-12, 1.0), -318309886183.7907, 1e-15);
        assert_rel(student_t_quantile(1e-12, 2.0), -707106.7811854868, 1e-15);
        // The upper tail mirrors (1 − p is exact for p ≥ ½): 1 − 1e-12 as a double is
        // 1 − 9.999778782798785e-13.
        assert_rel(student_t_quantile(1.0 - 1e-12, 1.0), 318316927901.77966, 1e-15);
        for i in -20..=20 {
            let p = 0.5 + f64::from(i) * 0.024;
            // (Relative: near p = 0 the f64 tan(π(p − ½)) here is itself off by a few ulps.)
            assert_rel(student_t_quantile(p, 1.0), (PI * (p - 0.5)).tan(), 1e-14);
            assert_rel(
                student_t_quantile(p, 2.0),
                (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt(),
                1e-14,
            );
        }
        // Other df, far out (the leading term of the tail series, measured 4e-14 relative) and
        // nearer in (Newton's method on statrs's cdf).
        let cases = [
            (1e-300, 1.5, -5.219469427344636e199),
            (1e-300, 3.0, -1.033110836044653e100),
            (1e-300, 4.0, -1.3160740129524924e75),
            (1e-300, 7.0, -1.4457941326481904e43),
            (1e-300, 10.0, -2.564525718948198e30),
            (1e-300, 30.0, -50178575360.50508),
            (1e-300, 100.0, -9682.734287069563),
            (1e-300, 1000.0, -54.291388553051746),
            (1e-100, 0.5, -1.02849115631634e199),
            (1e-100, 2.5, -8.765437882279991e39),
            (1e-100, 1000.0, -23.930617087826445),
            (1e-20, 7.0, -1445.7919808114368),
            (1e-6, 3.0, -103.29946778041933),
            (0.2, 30.0, -0.8537672614712976),
            (0.9999, 100.0, 3.8615997909500908),
        ];
        for (p, df, expected) in cases {
            assert_rel(student_t_quantile(p, df), expected, 1e-12);
        }
        // A quantile beyond the f64 range (df = ½, p = 1e-300: −1.03e599) is clamped to finite.
        assert_eq!(student_t_quantile(1e-300, 0.5), -f64::MAX);
        // df = 0.02 just below p = 1: ln t ≈ −ln(1 − p)/df ≈ 1800.
        assert_eq!(student_t_quantile(1.0 - f64::EPSILON, 0.02), f64::MAX);
        // Finite, odd in sign and monotone in p over 300 decades, for every df.
        for &df in &[0.3, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 10.0, 30.0, 200.0, 5000.0, 1e6] {
            let mut previous = f64::NEG_INFINITY;
            for k in (2..=1200).rev() {
                let p = 10f64.powf(-f64::from(k) / 4.0);
                let t = student_t_quantile(p, df);
                assert!(t.is_finite() && t < 0.0, "df {df}, p {p:e}: {t}");
                assert!(t >= previous, "df {df}: not monotone at p {p:e} ({previous} then {t})");
                previous = t;
            }
            for k in 1..50 {
                let p = 0.5 + f64::from(k) / 100.0;
                let t = student_t_quantile(p, df);
                assert!(t > 0.0 && t >= previous, "df {df}, p {p}: {t}");
                previous = t;
            }
        }
    }

    // ----- Intervals -----

    #[test]
    fn wilson_newcombe_1998_table_i() {
        // Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison
        // of seven methods", Statistics in Medicine 17:857–872, Table I, method 3 (score interval
        // without continuity correction), to 4 decimals:
        // 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0.0000–0.1611;
        // 1/29 → 0.0061–0.1718. (scipy-based recomputation: 0.255289–0.366210, 0.062386–0.160487,
        // 0–0.161125, 0.006113–0.171755.)
        let cases = [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ];
        for (x, n, low, high) in cases {
            let interval = wilson_interval(x, n, 0.95).unwrap();
            assert_close(interval.low, low, 5e-5);
            assert_close(interval.high, high, 5e-5);
        }
        assert_eq!(wilson_interval(0, 20, 0.95).unwrap().low, 0.0);
        assert_eq!(wilson_interval(20, 20, 0.95).unwrap().high, 1.0);
        // By symmetry, 20/20 mirrors 0/20.
        assert_close(
            wilson_interval(20, 20, 0.95).unwrap().low,
            1.0 - 0.1611,
            5e-5,
        );
    }

    #[test]
    fn wilson_edge_cases() {
        assert_eq!(wilson_interval(0, 0, 0.95), None);
        assert_eq!(wilson_interval(5, 4, 0.95), None);
        assert_eq!(wilson_interval(1, 4, 1.0), None);
        assert_eq!(wilson_interval(1, 4, 0.0), None);
        let narrow = wilson_interval(40, 100, 0.8).unwrap();
        let wide = wilson_interval(40, 100, 0.99).unwrap();
        assert!(wide.low < narrow.low && wide.high > narrow.high);
    }

    #[test]
    fn satisfaction_intervals_stay_in_zero_to_one() {
        // Two very different ratings: the raw t-interval (df 1, t = 12.71) spills far outside [0, 1].
        let raw = mean_interval(&[0.0, 1.0], 0.95).unwrap();
        assert!(raw.low < -4.0 && raw.high > 5.0, "{raw:?}");
        let (bounded, clipped) = bounded_mean_interval(&[0.0, 1.0], 0.95, 0.0, 1.0).unwrap();
        assert_eq!(bounded, Interval { low: 0.0, high: 1.0 });
        assert!(clipped);
        let (inside, clipped) = bounded_mean_interval(&[0.6, 0.7, 0.8, 0.7, 0.65], 0.95, 0.0, 1.0).unwrap();
        assert!(!clipped && inside.low > 0.5 && inside.high < 0.9, "{inside:?}");
    }

    #[test]
    fn mean_interval_t_table() {
        // 1, 2, 3, 4, 5: mean 3, s = √2.5, n = 5; the 95 % interval is 3 ± t_{0.975,4}·√(2.5/5)
        // with t_{0.975,4} = 2.776 (NIST/SEMATECH e-Handbook, 1.3.6.7.2 "Critical Values of the
        // Student's t Distribution"): 3 ± 1.963. Full digits from
        // scipy.stats.t.interval(0.95, 4, loc=3, scale=√0.5): 1.0367568385224428 and
        // 4.963243161477557.
        let interval = mean_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        assert_close(interval.low, 3.0 - 2.776 * 0.5f64.sqrt(), 1e-3);
        assert_close(interval.low, 1.0367568385224428, 1e-12);
        assert_close(interval.high, 4.963243161477557, 1e-12);

        assert_eq!(mean_interval(&[1.0], 0.95), None);
        assert_eq!(mean_interval(&[], 0.95), None);
        assert_eq!(mean_interval(&[1.0, f64::NAN], 0.95), None);
        assert_eq!(mean_interval(&[1.0, 2.0], 1.0), None);
        let flat = mean_interval(&[0.7, 0.7, 0.7], 0.95).unwrap();
        assert_eq!(
            flat,
            Interval {
                low: 0.7,
                high: 0.7
            }
        );
    }

    // ----- Proportions -----

    #[test]
    fn z_test_usablestats_example() {
        // usablestats.com "Ask Stats" question 866
        // (https://www.usablestats.com/askstats/question/866/):
        // 118 of 3303 vs 80 of 3303; pooled p = 0.02997, difference 0.01150, SE 0.004196,
        // z = 2.74195, two-sided p = 0.00611. (Their z is from the rounded SE; unrounded it is
        // 2.741947, p = 0.0061076.) Arm B is the 118/3303 group so that diff = b − a > 0.
        let test = two_proportion_z_test(80, 3303, 118, 3303).unwrap();
        assert_close(test.diff, 0.01150, 5e-6);
        assert_close(test.z, 2.74195, 1e-3);
        assert_close(test.p_value, 0.00611, 1e-5);
        let swapped = two_proportion_z_test(118, 3303, 80, 3303).unwrap();
        assert_close(swapped.z, -test.z, 1e-15);
        assert_close(swapped.p_value, test.p_value, 1e-15);
    }

    #[test]
    fn newcombe_1998_hybrid_score_intervals() {
        // Newcombe RG (1998), "Interval estimation for the difference between independent
        // proportions: comparison of eleven methods", Statistics in Medicine 17:873–890, Table II,
        // method 10 (score-based hybrid, no continuity correction), 95 %, for p₁ − p₂:
        // (a) 56/70 − 48/80 → 0.0524, 0.3339; (b) 9/10 − 3/10 → 0.1705, 0.8090;
        // (d) 5/56 − 0/29 → −0.0381, 0.1926; (e) 0/10 − 0/20 → −0.1611, 0.2775;
        // (h) 10/10 − 0/10 → 0.6075, 1.0000. (Recomputed with scipy's normal quantile:
        // 0.052431–0.333873, 0.170523–0.809018, −0.038137–0.192560, −0.161125–0.277533,
        // 0.607509–1.)
        let cases = [
            ((56, 70, 48, 80), (0.0524, 0.3339)),
            ((9, 10, 3, 10), (0.1705, 0.8090)),
            ((5, 56, 0, 29), (-0.0381, 0.1926)),
            ((0, 10, 0, 20), (-0.1611, 0.2775)),
            ((10, 10, 0, 10), (0.6075, 1.0)),
        ];
        for ((x1, n1, x2, n2), (low, high)) in cases {
            let interval = newcombe_interval(x1, n1, x2, n2, 0.95).unwrap();
            assert_close(interval.low, low, 5e-5);
            assert_close(interval.high, high, 5e-5);
        }
        // The same example (a) through the public test, with A = 48/80 and B = 56/70.
        let test = two_proportion_z_test(48, 80, 56, 70).unwrap();
        assert_close(test.diff, 0.2, 1e-15);
        assert_close(test.diff_interval.low, 0.0524, 5e-5);
        assert_close(test.diff_interval.high, 0.3339, 5e-5);
    }

    #[test]
    fn z_test_edge_cases() {
        // Empty arms.
        assert_eq!(two_proportion_z_test(0, 0, 0, 0), None);
        assert_eq!(two_proportion_z_test(0, 0, 3, 10), None);
        assert_eq!(two_proportion_z_test(3, 10, 0, 0), None);
        // Pooled proportion 0 or 1: undefined.
        assert_eq!(two_proportion_z_test(0, 10, 0, 20), None);
        assert_eq!(two_proportion_z_test(10, 10, 20, 20), None);
        // More successes than trials.
        assert_eq!(two_proportion_z_test(11, 10, 2, 20), None);
        // One arm at 0 %, the other not: defined.
        let test = two_proportion_z_test(0, 10, 5, 10).unwrap();
        assert!(test.z > 0.0 && test.p_value < 0.05);
        assert!(test.diff_interval.low > 0.0 && test.diff_interval.high <= 1.0);
        // Equal rates: z = 0, p = 1.
        let same = two_proportion_z_test(5, 10, 10, 20).unwrap();
        assert_eq!(same.z, 0.0);
        assert_eq!(same.p_value, 1.0);
        // Serializes for the UI.
        let json = serde_json::to_string(&same).unwrap();
        let back: ProportionTest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, same);
    }

    // ----- Means -----

    const WIKI_A1: [f64; 15] = [
        27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4,
    ];
    const WIKI_A2: [f64; 15] = [
        27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4,
    ];

    #[test]
    fn welch_wikipedia_example() {
        // Wikipedia, "Welch's t-test", section "Examples", first example (A1 and A2, 15 values
        // each): Welch's test gives t = −2.46, ν ≈ 25.0, p = 0.021 for A1 − A2
        // (https://en.wikipedia.org/wiki/Welch%27s_t-test). Our difference is b − a, so with
        // a = A1 and b = A2 the sign flips. Full digits from scipy.stats.ttest_ind(A1, A2,
        // equal_var=False) (scipy 1.17): t = −2.455356398286006, df = 24.988529290231416,
        // p = 0.021378001462866992, 95 % interval for A2 − A1 0.3492370661924069–3.984096267140929.
        let test = welch_t_test(&WIKI_A1, &WIKI_A2).unwrap();
        assert_close(test.t, 2.46, 5e-3);
        assert_close(test.df, 25.0, 5e-2);
        assert_close(test.p_value, 0.021, 5e-4);
        assert_close(test.t, 2.455356398286006, 1e-12);
        assert_close(test.df, 24.988529290231416, 1e-10);
        assert_close(test.p_value, 0.021378001462866992, 1e-12);
        assert_close(test.diff_interval.low, 0.3492370661924069, 1e-10);
        assert_close(test.diff_interval.high, 3.984096267140929, 1e-10);
        assert_close(test.diff, test.mean_b - test.mean_a, 1e-15);

        let reverse = welch_t_test(&WIKI_A2, &WIKI_A1).unwrap();
        assert_close(reverse.t, -test.t, 1e-12);
        assert_close(reverse.p_value, test.p_value, 1e-15);
    }

    #[test]
    fn welch_r_t_test_output() {
        // R's t.test(ts1, ts2) (Welch is R's default) as printed in a Cross Validated answer on
        // Welch confidence intervals in Python, mirrored at https://boxhoidap.com/huong-dan-welchs-
        // t-test-confidence-interval-python-tran-khoang-tin-cay-t-test-cua-welch:
        // ts1 = 11 9 10 11 10 12 9 11 12 9, ts2 = 11 13 10 13 12 9 11 12 12 11 →
        // t = −1.8325, df = 17.9, p-value = 0.08356, 95 % CI −2.1469104 to 0.1469104, means 10.4
        // and 11.4. That is ts1 − ts2; here a = ts1, b = ts2, so everything flips sign.
        let ts1 = [11.0, 9.0, 10.0, 11.0, 10.0, 12.0, 9.0, 11.0, 12.0, 9.0];
        let ts2 = [11.0, 13.0, 10.0, 13.0, 12.0, 9.0, 11.0, 12.0, 12.0, 11.0];
        let test = welch_t_test(&ts1, &ts2).unwrap();
        assert_close(test.mean_a, 10.4, 1e-12);
        assert_close(test.mean_b, 11.4, 1e-12);
        assert_close(test.t, 1.8325, 5e-5);
        assert_close(test.df, 17.9, 5e-2);
        assert_close(test.p_value, 0.08356, 5e-6);
        assert_close(test.diff_interval.low, -0.1469104, 5e-8);
        assert_close(test.diff_interval.high, 2.1469104, 5e-8);
    }

    #[test]
    fn welch_edge_cases() {
        // Fewer than two values on a side.
        assert_eq!(welch_t_test(&[], &[]), None);
        assert_eq!(welch_t_test(&[0.5], &[0.4, 0.6]), None);
        assert_eq!(welch_t_test(&[0.4, 0.6], &[0.9]), None);
        // Both variances 0, even with different means.
        assert_eq!(welch_t_test(&[0.5, 0.5, 0.5], &[0.5, 0.5]), None);
        assert_eq!(welch_t_test(&[0.1, 0.1, 0.1], &[0.3, 0.3]), None);
        // One variance 0: df = n_other − 1.
        let test = welch_t_test(&[0.5, 0.5, 0.5], &[0.6, 0.8, 0.7, 0.9]).unwrap();
        assert_close(test.df, 3.0, 1e-12);
        assert!(test.t > 0.0);
        // Identical samples with spread: t = 0, p = 1.
        let same = welch_t_test(&[0.2, 0.4, 0.9], &[0.2, 0.4, 0.9]).unwrap();
        assert_eq!(same.t, 0.0);
        assert_eq!(same.p_value, 1.0);
        assert!(same.diff_interval.low < 0.0 && same.diff_interval.high > 0.0);
    }

    // ----- Bayesian -----

    /// P(p_B > p_A) = ∫ f_B(x) F_A(x) dx by the trapezoid rule on a fine grid, with F_A itself the
    /// running trapezoid integral of f_A: no incomplete beta function and no closed form involved.
    fn integrate_prob_b_beats_a(succ_a: u64, n_a: u64, succ_b: u64, n_b: u64) -> f64 {
        let density = |s: u64, n: u64, x: f64| {
            let (a, b) = ((s + 1) as f64, (n - s + 1) as f64);
            if x <= 0.0 || x >= 1.0 {
                return if (x <= 0.0 && a == 1.0) || (x >= 1.0 && b == 1.0) {
                    (-ln_beta(a, b)).exp()
                } else {
                    0.0
                };
            }
            ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_beta(a, b)).exp()
        };
        let steps = 40_000;
        let h = 1.0 / f64::from(steps);
        let mut cdf_a = 0.0;
        let mut prev_fa = density(succ_a, n_a, 0.0);
        let mut prev_term = 0.0; // f_B(0)·F_A(0) = 0
        let mut total = 0.0;
        for i in 1..=steps {
            let x = f64::from(i) * h;
            let fa = density(succ_a, n_a, x);
            cdf_a += 0.5 * h * (prev_fa + fa);
            prev_fa = fa;
            let term = density(succ_b, n_b, x) * cdf_a;
            total += 0.5 * h * (prev_term + term);
            prev_term = term;
        }
        total
    }

    #[test]
    fn bayesian_beta_probability() {
        // Symmetric arms: exactly ½ by symmetry.
        assert_close(prob_b_beats_a_beta(0, 0, 0, 0), 0.5, 1e-15);
        assert_close(prob_b_beats_a_beta(7, 10, 7, 10), 0.5, 1e-13);
        assert_close(prob_b_beats_a_beta(300, 1000, 300, 1000), 0.5, 1e-9);
        // A empty (uniform), B 3/3 → Beta(4, 1) with density 4x³: P = ∫₀¹ 4x³·x dx = 4/5 exactly.
        // (statrs's ln B, through its Lanczos ln Γ, leaves 1.2e-14 here.)
        assert_close(prob_b_beats_a_beta(0, 0, 3, 3), 0.8, 5e-14);
        assert_close(prob_b_beats_a_beta(3, 3, 0, 0), 0.2, 5e-14);
        // Complement: P(B > A) + P(A > B) = 1 (ties have probability 0).
        for &(sa, na, sb, nb) in &[
            (20, 100, 30, 100),
            (1, 10, 2, 10),
            (0, 5, 9, 12),
            (40, 41, 3, 70),
        ] {
            let forward = prob_b_beats_a_beta(sa, na, sb, nb);
            let backward = prob_b_beats_a_beta(sb, nb, sa, na);
            assert_close(forward + backward, 1.0, 1e-12);
        }
        // Against direct numerical integration (independent of the closed form); scipy's
        // integrate.quad of beta.pdf·beta.cdf gives 0.9476031033523692 for 20/100 vs 30/100 and
        // 0.7067669172932329 for 1/10 vs 2/10.
        assert_close(
            prob_b_beats_a_beta(20, 100, 30, 100),
            0.9476031033523692,
            1e-11,
        );
        assert_close(prob_b_beats_a_beta(1, 10, 2, 10), 0.7067669172932329, 1e-12);
        // Between them these cases use all four forms of the sum (the shortest being A's
        // successes, A's failures, B's successes or B's failures).
        for &(sa, na, sb, nb) in &[
            (20, 100, 30, 100),
            (1, 10, 2, 10),
            (0, 5, 9, 12),
            (12, 40, 3, 9),
            (40, 41, 3, 70),
            (3, 9, 19, 20),
        ] {
            let numeric = integrate_prob_b_beats_a(sa, na, sb, nb);
            assert_close(prob_b_beats_a_beta(sa, na, sb, nb), numeric, 1e-6);
        }
        // Successes above n are clamped.
        assert_close(prob_b_beats_a_beta(5, 3, 3, 3), 0.5, 1e-13);
        // Large counts stay finite and agree with the normal approximation to a few per mille.
        let large = prob_b_beats_a_beta(5000, 10_000, 5100, 10_000);
        let (pa, pb): (f64, f64) = (0.5, 0.51);
        let z = (pb - pa) / (pa * (1.0 - pa) / 10_000.0 + pb * (1.0 - pb) / 10_000.0).sqrt();
        assert_close(large, normal_cdf(z), 2e-3);
    }

    #[test]
    fn bayesian_normal_probability() {
        let a = [0.2, 0.4, 0.6];
        let b = [0.4, 0.6, 0.8];
        // diff = 0.2, se = √(0.04/3 + 0.04/3) → Φ(0.2/0.163299…) = Φ(1.224745…).
        let expected = normal_cdf(0.2 / (0.08f64 / 3.0).sqrt());
        assert_close(prob_b_beats_a_normal(&a, &b).unwrap(), expected, 1e-14);
        assert_close(
            prob_b_beats_a_normal(&b, &a).unwrap(),
            1.0 - expected,
            1e-14,
        );
        assert_close(prob_b_beats_a_normal(&a, &a).unwrap(), 0.5, 1e-15);
        assert_eq!(prob_b_beats_a_normal(&[0.5], &b), None);
        assert_eq!(prob_b_beats_a_normal(&[], &[]), None);
        assert_eq!(prob_b_beats_a_normal(&[0.5, 0.5], &[0.7, 0.7]), Some(1.0));
        assert_eq!(prob_b_beats_a_normal(&[0.5, 0.5], &[0.5, 0.5]), Some(0.5));
    }

    // ----- Sample sizes -----

    #[test]
    fn sample_size_zar_example() {
        // Zar JH (1999), Biostatistical Analysis, 4th ed., Example 24.26, as reproduced in the
        // Unistat manual, "6.7.6 Two Proportions"
        // (https://www.unistat.com/guide/sample-size-and-power-two-proportions/):
        // p₁ = 0.45, p₂ = 0.25, power 0.90, two-sided α = 0.05, n₂/n₁ = 1 → 127.2343. That figure
        // includes Fleiss' continuity correction n = n′/4·(1 + √(1 + 4/(n′|p₁ − p₂|)))², applied
        // here to our uncorrected n′ (= 117.4307).
        let raw = sample_size_proportions_raw(0.45, 0.25, 0.05, 0.90).unwrap();
        assert_close(raw, 117.4307, 1e-4);
        let corrected = raw / 4.0 * (1.0 + (1.0 + 4.0 / (raw * 0.2)).sqrt()).powi(2);
        assert_close(corrected, 127.2343, 1e-4);
        assert_eq!(sample_size_proportions(0.45, 0.25, 0.05, 0.90), Some(118));
        assert_eq!(sample_size_proportions(0.25, 0.45, 0.05, 0.90), Some(118));
    }

    #[test]
    fn sample_size_ten_vs_fifteen_percent() {
        // Arithmetic of the pooled formula (not a quoted published figure): p̄ = 0.125,
        // 1.959964·√(2·0.125·0.875) = 0.916685, 0.841621·√(0.09 + 0.1275) = 0.392504,
        // (1.309189)² / 0.05² = 685.597 → 686 per arm (scipy: 685.5968583253613).
        let raw = sample_size_proportions_raw(0.10, 0.15, 0.05, 0.80).unwrap();
        assert_close(raw, 685.5968583253613, 1e-9);
        assert_eq!(sample_size_proportions(0.10, 0.15, 0.05, 0.80), Some(686));
        assert_eq!(sample_size_proportions(0.3, 0.3, 0.05, 0.8), None);
        assert_eq!(sample_size_proportions(0.3, 1.3, 0.05, 0.8), None);
        assert_eq!(sample_size_proportions(0.3, 0.4, 0.0, 0.8), None);
        assert_eq!(sample_size_proportions(0.3, 0.4, 0.05, 1.0), None);
        // Extremes are fine.
        assert!(sample_size_proportions(0.0, 1.0, 0.05, 0.8).unwrap() >= 1);
    }

    #[test]
    fn sample_size_means_lehr() {
        // Lehr R (1992), "Sixteen S-squared over D-squared: a relation for crude sample size
        // estimates", Statistics in Medicine 11:1099–1102: n ≈ 16·s²/d² per group for two-sided
        // α = 0.05 and power 0.80, from 2·(1.96 + 0.84)² ≈ 15.7. So d = s gives 16, and
        // d = s/2 gives 2·(1.959964 + 0.841621)²·4 = 62.79 → 63 (16·4 = 64 is the rounded rule).
        assert_eq!(sample_size_means(1.0, 1.0, 0.05, 0.80), Some(16));
        assert_eq!(sample_size_means(0.2, 0.1, 0.05, 0.80), Some(63));
        assert_eq!(sample_size_means(0.2, -0.1, 0.05, 0.80), Some(63));
        assert_eq!(sample_size_means(0.2, 0.0, 0.05, 0.80), None);
        assert_eq!(sample_size_means(0.0, 0.1, 0.05, 0.80), None);
        assert_eq!(sample_size_means(0.2, 0.1, 1.0, 0.80), None);
    }

    // ----- Votes -----

    #[test]
    fn elo_wikipedia_example() {
        // Wikipedia, "Elo rating system" (https://en.wikipedia.org/wiki/Elo_rating_system), the
        // worked example also quoted verbatim in MATLAB Cody Problem 3057 "Chess Performance":
        // player A rated 1613 loses to 1609, draws with 1477, beats 1388, beats 1586 and loses to
        // 1720 (score 2.5); expected score 0.506 + 0.686 + 0.785 + 0.539 + 0.351 = 2.867, and with
        // K = 32 the new rating is 1613 + 32·(2.5 − 2.867) = 1601. (Later revisions of the article
        // round the terms to 0.51, 0.69, 0.79, 0.54, 0.35 = 2.88, still giving 1601.)
        let opponents = [1609.0, 1477.0, 1388.0, 1586.0, 1720.0];
        let scores = [0.0, 0.5, 1.0, 1.0, 0.0];
        let published = [0.506, 0.686, 0.785, 0.539, 0.351];
        for (&opponent, &e) in opponents.iter().zip(&published) {
            assert_close(elo_expected(1613.0, opponent), e, 5e-4);
        }
        let expected: f64 = opponents.iter().map(|&o| elo_expected(1613.0, o)).sum();
        assert_close(expected, 2.867, 5e-4);
        let updated = elo_update(1613.0, &opponents, &scores, 32.0);
        assert_close(updated, 1601.0, 0.5);
        assert_close(updated, 1613.0 + 32.0 * (2.5 - expected), 1e-12);
        // No games, no change.
        assert_eq!(elo_update(1613.0, &[], &[], 32.0), 1613.0);
    }

    #[test]
    fn vote_summaries() {
        // Nothing yet.
        let empty = summarize_votes(&[]);
        assert_eq!((empty.a, empty.b, empty.ties, empty.both_bad), (0, 0, 0, 0));
        assert_eq!((empty.elo_a, empty.elo_b), (1500.0, 1500.0));
        assert_eq!(empty.bt_strength_a, 0.5);
        assert_eq!(empty.p_a_preferred, 0.5);

        // All ties: Elo between equals does not move, strengths stay equal.
        let ties = summarize_votes(&[Vote::Tie, Vote::BothBad, Vote::Tie]);
        assert_eq!((ties.ties, ties.both_bad), (2, 1));
        assert_eq!((ties.elo_a, ties.elo_b), (1500.0, 1500.0));
        assert_eq!((ties.bt_strength_a, ties.bt_strength_b), (0.5, 0.5));

        // One win for A between equals: A gains K·(1 − ½) = 16.
        let one = summarize_votes(&[Vote::A]);
        assert_eq!((one.elo_a, one.elo_b), (1516.0, 1484.0));
        assert_close(one.bt_strength_a, 1.5 / 2.0, 1e-15);

        // A, A, A, B, tie: wins 3.5 vs 1.5, smoothed (3.5 + ½)/(5 + 1) = 2/3.
        let votes = [Vote::A, Vote::A, Vote::A, Vote::B, Vote::Tie];
        let summary = summarize_votes(&votes);
        assert_eq!((summary.a, summary.b, summary.ties), (3, 1, 1));
        assert_close(summary.bt_strength_a, 2.0 / 3.0, 1e-15);
        assert_close(summary.bt_strength_a + summary.bt_strength_b, 1.0, 1e-15);
        assert_eq!(summary.p_a_preferred, summary.bt_strength_a);
        assert!(summary.elo_a > summary.elo_b);
        assert_close(summary.elo_a + summary.elo_b, 3000.0, 1e-9);
        // The sequential ratings equal replaying the games one by one with elo_update.
        let (mut ra, mut rb) = (1500.0, 1500.0);
        for vote in votes {
            let s = score_a(vote);
            let (na, nb) = (
                elo_update(ra, &[rb], &[s], 32.0),
                elo_update(rb, &[ra], &[1.0 - s], 32.0),
            );
            ra = na;
            rb = nb;
        }
        assert_close(summary.elo_a, ra, 1e-9);
        assert_close(summary.elo_b, rb, 1e-9);

        // A clean sweep for B stays away from 0.
        let sweep = summarize_votes(&[Vote::B; 4]);
        assert_close(sweep.bt_strength_a, 0.5 / 5.0, 1e-15);
        assert!(sweep.elo_b > 1500.0);
    }

    #[test]
    fn vote_serde_names() {
        let votes = [Vote::A, Vote::B, Vote::Tie, Vote::BothBad];
        assert_eq!(
            serde_json::to_string(&votes).unwrap(),
            r#"["a","b","tie","both_bad"]"#
        );
        let back: Vec<Vote> = serde_json::from_str(r#"["both_bad","a"]"#).unwrap();
        assert_eq!(back, [Vote::BothBad, Vote::A]);
        let summary = summarize_votes(&votes);
        let json = serde_json::to_string(&summary).unwrap();
        assert_eq!(serde_json::from_str::<VoteSummary>(&json).unwrap(), summary);
    }
}
