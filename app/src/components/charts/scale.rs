//! The arithmetic of a chart, free of any UI: "nice" axis ticks (1, 2 or 5 × 10^k) with labels
//! that stay distinct (scientific notation where fixed decimals would round them together),
//! linear and log scales, TensorBoard's debiased EMA, and number formatting for read-outs.

/// A tick step: `mantissa × 10^exp`, mantissa 1, 2 or 5. Ticks are integer multiples of it, so a
/// tick is held exactly as `n × 10^exp` (its label is written from the integer, never from a
/// rounded float).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub mantissa: i64,
    pub exp: i32,
}

impl Step {
    /// The smallest nice step at least `raw` (a positive, finite number).
    pub fn at_least(raw: f64) -> Step {
        let exp = raw.log10().floor() as i32;
        let f = raw / pow10(exp);
        // `f` is in [1, 10) up to rounding; a hair over a nice number still counts as it.
        let (mantissa, exp) = if f <= 1.000_000_1 {
            (1, exp)
        } else if f <= 2.000_000_1 {
            (2, exp)
        } else if f <= 5.000_000_1 {
            (5, exp)
        } else {
            (1, exp + 1)
        };
        Step { mantissa, exp }
    }

    pub fn value(self) -> f64 {
        scaled(self.mantissa, self.exp)
    }

    /// The next nice step down: 5 → 2 → 1 → 0.5.
    pub fn finer(self) -> Step {
        match self.mantissa {
            5 => Step { mantissa: 2, exp: self.exp },
            2 => Step { mantissa: 1, exp: self.exp },
            _ => Step { mantissa: 5, exp: self.exp - 1 },
        }
    }
}

/// `n × 10^exp`, rounded once (a division by an exact power of ten for negative exponents).
fn scaled(n: i64, exp: i32) -> f64 {
    if exp >= 0 {
        n as f64 * pow10(exp)
    } else {
        n as f64 / pow10(-exp)
    }
}

fn pow10(exp: i32) -> f64 {
    10f64.powi(exp)
}

/// One tick: exactly `n × 10^exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickValue {
    pub n: i64,
    pub exp: i32,
}

impl TickValue {
    pub fn value(self) -> f64 {
        scaled(self.n, self.exp)
    }
}

/// An axis: its domain and its ticks with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// Where `v` falls between `lo` (0.0) and `hi` (1.0).
    pub fn fraction(&self, v: f64) -> f64 {
        let (lo, hi, v) = if self.log { (self.lo.log10(), self.hi.log10(), v.log10()) } else { (self.lo, self.hi, v) };
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    }
}

/// How the domain meets the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fit {
    /// Padded by this share of the span on each side (y): the line never runs along the frame,
    /// and the ticks are the nice multiples inside the padded domain.
    Padded(f64),
    /// The data's own extent; ticks are the multiples inside it (x).
    Exact,
}

/// About `target` intervals of a nice step over `min..=max`.
///
/// The domain is the data's extent (padded or not, see [`Fit`]), never stretched to a round
/// number: a loss moving between 7.55 and 7.62 gets an axis from about 7.55 to 7.62, not 0 to 12.
/// The ticks are the multiples of the nice step (1, 2 or 5 × 10^k) inside it, the step giving
/// the count of intervals nearest `target` (the coarser on a tie).
///
/// `bounds`, when given, caps the padding (values that can only lie in 0..1 never get an axis
/// running past them). `integer` keeps the step at 1 or more (steps, counts).
pub fn linear_axis(min: f64, max: f64, target: usize, fit: Fit, bounds: Option<(f64, f64)>, integer: bool) -> Axis {
    let (mut min, mut max) = if min.is_finite() && max.is_finite() && min <= max { (min, max) } else { (0.0, 1.0) };
    // A flat series still gets an axis around it, and a span too small for f64 to tell apart
    // from the values is widened to one it can.
    let floor = min.abs().max(max.abs()) * 1e-9;
    if max - min <= floor {
        let half = if min == 0.0 && max == 0.0 { 0.5 } else { (min.abs().max(max.abs()) * 0.05).max(floor) };
        min -= half;
        max += half;
    }
    let span = max - min;
    let (mut lo, mut hi) = match fit {
        Fit::Padded(share) => (min - share * span, max + share * span),
        Fit::Exact => (min, max),
    };
    // Data on one side of zero keeps the axis there.
    if min >= 0.0 && lo < 0.0 {
        lo = 0.0;
    }
    if max <= 0.0 && hi > 0.0 {
        hi = 0.0;
    }
    if let Some((b_lo, b_hi)) = bounds {
        if min >= b_lo {
            lo = lo.max(b_lo);
        }
        if max <= b_hi {
            hi = hi.min(b_hi);
        }
    }
    let target = target.max(1);
    // The multiples of `step` inside lo..=hi (a hair outside still counts: 1e-3 as 0.001000…01).
    let range = |step: Step| {
        let unit = step.value();
        ((lo / unit - 1e-9).ceil() as i64, (hi / unit + 1e-9).floor() as i64)
    };
    let intervals = |step: Step| {
        let (a, b) = range(step);
        b - a
    };
    // From the smallest nice step giving at most `target` intervals, the finer ones while they
    // come nearer the target.
    let mut step = Step::at_least((hi - lo) / target as f64);
    // Too coarse to leave two ticks inside (a span just past a multiple): one finer.
    while intervals(step) < 1 && !(integer && step.finer().exp < 0) {
        step = step.finer();
    }
    loop {
        let finer = step.finer();
        if integer && finer.exp < 0 {
            break;
        }
        let (now, next) = (intervals(step), intervals(finer));
        if (next - target as i64).abs() < (now - target as i64).abs() {
            step = finer;
        } else {
            break;
        }
    }
    if integer && step.exp < 0 {
        step = Step { mantissa: 1, exp: 0 };
    }
    let (k_lo, k_hi) = range(step);
    let ticks: Vec<TickValue> = (k_lo..=k_hi).map(|k| TickValue { n: k * step.mantissa, exp: step.exp }).collect();
    let labels = labels(&ticks);
    Axis { lo, hi, log: false, ticks: ticks.iter().map(|t| t.value()).zip(labels).collect() }
}

/// A log10 axis over positive data. Less than a decade: nice linear ticks placed on the log
/// scale. A decade or more: the decades (with 2× and 5× between them when there are few).
pub fn log_axis(min: f64, max: f64, target: usize) -> Option<Axis> {
    if !(min > 0.0 && max.is_finite() && min <= max) {
        return None;
    }
    if max / min < 10.0 {
        let mut axis = linear_axis(min, max, target, Fit::Padded(0.05), None, false);
        if axis.lo <= 0.0 {
            // Zero has no place on a log scale: start just under the data instead.
            let first = axis.ticks.iter().position(|(v, _)| *v > 0.0).unwrap_or(0);
            axis.ticks.drain(..first);
            axis.lo = min / 1.05;
            if let Some((v, _)) = axis.ticks.first() {
                axis.lo = axis.lo.min(*v);
            }
        }
        axis.log = true;
        return Some(axis);
    }
    let e_lo = (min.log10() + 1e-9).floor() as i32;
    let e_hi = (max.log10() - 1e-9).ceil() as i32;
    let decades = (e_hi - e_lo).max(1);
    let every = ((decades as usize).div_ceil(target.max(1))).max(1) as i32;
    let mut ticks = Vec::new();
    for e in e_lo..=e_hi {
        if (e - e_lo) % every == 0 {
            ticks.push(TickValue { n: 1, exp: e });
        }
        if decades <= 2 && e < e_hi {
            ticks.push(TickValue { n: 2, exp: e });
            ticks.push(TickValue { n: 5, exp: e });
        }
    }
    let labels = labels(&ticks);
    Some(Axis {
        lo: pow10(e_lo),
        hi: pow10(e_hi),
        log: true,
        ticks: ticks.iter().map(|t| t.value()).zip(labels).collect(),
    })
}

/// Labels for one axis's ticks, all in one notation: scientific when the smallest non-zero tick is
/// under 0.01 or the largest reaches a million, fixed decimals otherwise (as many as the finest
/// tick needs, the same for all).
pub fn labels(ticks: &[TickValue]) -> Vec<String> {
    let nonzero: Vec<f64> = ticks.iter().filter(|t| t.n != 0).map(|t| t.value().abs()).collect();
    let smallest = nonzero.iter().copied().fold(f64::INFINITY, f64::min);
    let largest = nonzero.iter().copied().fold(0.0, f64::max);
    let scientific = !nonzero.is_empty() && (smallest < 1e-2 || largest >= 1e6);
    if scientific {
        ticks.iter().map(|t| scientific_label(*t)).collect()
    } else {
        let decimals = ticks.iter().map(|t| fixed_decimals(*t)).max().unwrap_or(0);
        ticks.iter().map(|t| fixed_label(*t, decimals)).collect()
    }
}

/// Decimals `t` needs written out in full (trailing zeros of `n` absorbed).
fn fixed_decimals(t: TickValue) -> usize {
    let (mut n, mut exp) = (t.n, t.exp);
    while n != 0 && n % 10 == 0 && exp < 0 {
        n /= 10;
        exp += 1;
    }
    if exp < 0 { (-exp) as usize } else { 0 }
}

fn fixed_label(t: TickValue, decimals: usize) -> String {
    if t.n == 0 {
        return if decimals > 0 { format!("0.{}", "0".repeat(decimals)) } else { "0".to_owned() };
    }
    let sign = if t.n < 0 { "-" } else { "" };
    let mut digits = t.n.unsigned_abs().to_string();
    if t.exp >= 0 {
        digits.push_str(&"0".repeat(t.exp as usize));
        return format!("{sign}{digits}{}", if decimals > 0 { format!(".{}", "0".repeat(decimals)) } else { String::new() });
    }
    let shift = (-t.exp) as usize;
    if digits.len() <= shift {
        digits = format!("{}{digits}", "0".repeat(shift + 1 - digits.len()));
    }
    let (int, frac) = digits.split_at(digits.len() - shift);
    let mut frac = frac.to_owned();
    // Pad or trim to the axis's decimals (trimmed digits are zeros: `decimals` is the most any
    // tick needs).
    if frac.len() < decimals {
        frac.push_str(&"0".repeat(decimals - frac.len()));
    } else {
        frac.truncate(decimals);
    }
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
}

/// `25 × 10^-6` → `2.5e-5`; zero → `0`.
fn scientific_label(t: TickValue) -> String {
    if t.n == 0 {
        return "0".to_owned();
    }
    let sign = if t.n < 0 { "-" } else { "" };
    let digits = t.n.unsigned_abs().to_string();
    let exp = t.exp + digits.len() as i32 - 1;
    let (lead, rest) = digits.split_at(1);
    let rest = rest.trim_end_matches('0');
    if rest.is_empty() { format!("{sign}{lead}e{exp}") } else { format!("{sign}{lead}.{rest}e{exp}") }
}

/// A value for people to read: four significant digits, scientific below 0.001 and from a
/// million (`7.621`, `0.0123`, `2.5e-5`).
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.3e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
        return format!("{mantissa}e{exp}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

/// Seconds → `0m14s`, `1h02m`.
pub fn format_duration(s: f64) -> String {
    let s = if s.is_finite() { s.max(0.0) as u64 } else { 0 };
    if s >= 3600 { format!("{}h{:02}m", s / 3600, s % 3600 / 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

/// TensorBoard's smoothing: an exponential moving average debiased like Adam's moments, so the
/// first points are not pulled towards zero. `weight` 0 returns the data; it is held below 1.
/// Non-finite values pass through and do not disturb the average.
pub fn ema(values: &[f64], weight: f64) -> Vec<f64> {
    let w = if weight.is_finite() { weight.clamp(0.0, 0.999) } else { 0.0 };
    let mut last = 0.0;
    let mut count = 0;
    values
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                return v;
            }
            last = last * w + (1.0 - w) * v;
            count += 1;
            let debias = 1.0 - w.powi(count);
            if debias > 0.0 { last / debias } else { v }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(a: &Axis) -> Vec<&str> {
        a.ticks.iter().map(|(_, l)| l.as_str()).collect()
    }

    fn distinct(a: &Axis) -> bool {
        let mut l = labels_of(a);
        l.sort_unstable();
        l.dedup();
        l.len() == a.ticks.len()
    }

    #[test]
    fn nice_steps() {
        assert_eq!(Step::at_least(0.019), Step { mantissa: 2, exp: -2 });
        assert_eq!(Step::at_least(0.02), Step { mantissa: 2, exp: -2 });
        assert_eq!(Step::at_least(3.0), Step { mantissa: 5, exp: 0 });
        assert_eq!(Step::at_least(7.0), Step { mantissa: 1, exp: 1 });
        assert_eq!(Step::at_least(1.0), Step { mantissa: 1, exp: 0 });
        assert_eq!(Step::at_least(2.4e-4), Step { mantissa: 5, exp: -4 });
    }

    #[test]
    fn a_loss_that_moves_little_fills_the_axis() {
        let a = linear_axis(7.55, 7.62, 5, Fit::Padded(0.05), None, false);
        assert!(a.lo <= 7.55 && a.hi >= 7.62, "{a:?}");
        assert!(a.lo > 7.54 && a.hi < 7.63, "the axis fits the data, padded a little: {a:?}");
        assert_eq!(labels_of(&a), ["7.56", "7.58", "7.60", "7.62"]);
        assert!(distinct(&a));
        assert!(a.ticks.iter().all(|(v, _)| *v >= a.lo && *v <= a.hi), "ticks inside the domain: {a:?}");
        for (v, l) in &a.ticks {
            assert!((v - l.parse::<f64>().unwrap()).abs() < 1e-12, "{v} {l}");
        }
    }

    #[test]
    fn learning_rates_get_distinct_non_zero_labels() {
        let a = linear_axis(1e-5, 1e-3, 5, Fit::Padded(0.05), None, false);
        assert!(distinct(&a), "{a:?}");
        assert!(a.lo <= 1e-5 && a.hi >= 1e-3);
        assert_eq!(labels_of(&a), ["0", "2e-4", "4e-4", "6e-4", "8e-4", "1e-3"]);
        // A warm-up plateau at 1e-3 and a decay that stays near it.
        let b = linear_axis(9.5e-4, 1e-3, 5, Fit::Padded(0.05), None, false);
        assert!(distinct(&b), "{b:?}");
        assert!(b.ticks.iter().all(|(v, l)| *v > 0.0 && l != "0"), "{b:?}");
        assert!(labels_of(&b).contains(&"9.6e-4"), "{b:?}");
        let c = linear_axis(2.5e-5, 2.5e-5, 5, Fit::Padded(0.05), None, false);
        assert!(distinct(&c) && c.lo < 2.5e-5 && c.hi > 2.5e-5, "{c:?}");
        assert!(labels_of(&c).iter().all(|l| l.contains("e-5")), "{c:?}");
    }

    #[test]
    fn every_axis_brackets_its_data_with_distinct_readable_ticks() {
        let ranges = [
            (7.55, 7.62),
            (0.0, 12.0),
            (1e-5, 1e-3),
            (2e-4, 2e-4),
            (0.0, 2e-4),
            (3.2e-7, 9.9e-7),
            (-0.4, 0.25),
            (0.693, 0.6931),
            (1234.0, 98765.0),
            (2.0e6, 2.5e6),
            (-3e-3, -1e-3),
            (0.1, 0.3),
        ];
        for (min, max) in ranges {
            let a = linear_axis(min, max, 5, Fit::Padded(0.03), None, false);
            assert!(a.lo <= min && a.hi >= max, "{min}..{max}: {a:?}");
            assert!(a.ticks.len() >= 2 && a.ticks.len() <= 8, "{min}..{max}: {a:?}");
            assert!(distinct(&a), "{min}..{max}: {a:?}");
            for (v, l) in &a.ticks {
                assert!(*v >= a.lo - 1e-12 * v.abs().max(1.0) && *v <= a.hi + 1e-12 * v.abs().max(1.0), "{min}..{max}: {a:?}");
                let parsed: f64 = l.parse().unwrap_or_else(|_| panic!("{l} is a number"));
                assert!((parsed - v).abs() <= 1e-9 * v.abs().max(1e-300), "{l} reads as {v}");
            }
            // The data fills most of the axis (no 0-to-12 axis for a loss moving by 0.07).
            assert!((max - min) / (a.hi - a.lo) > 0.8 || max == min, "{min}..{max}: {a:?}");
        }
    }

    #[test]
    fn labels_use_one_notation_per_axis() {
        let t = |n, exp| TickValue { n, exp };
        assert_eq!(labels(&[t(0, -1), t(5, -1), t(10, -1)]), ["0.0", "0.5", "1.0"]);
        assert_eq!(labels(&[t(0, 0), t(5, 0), t(10, 0)]), ["0", "5", "10"]);
        assert_eq!(labels(&[t(25, -6), t(50, -6)]), ["2.5e-5", "5e-5"]);
        assert_eq!(labels(&[t(1, 6), t(2, 6)]), ["1e6", "2e6"]);
        assert_eq!(labels(&[t(-2, 0), t(0, 0), t(2, 0)]), ["-2", "0", "2"]);
        assert_eq!(labels(&[t(-5, -2), t(0, -2), t(5, -2)]), ["-0.05", "0.00", "0.05"]);
        assert_eq!(labels(&[t(2, 1), t(4, 1)]), ["20", "40"]);
    }

    #[test]
    fn axes_without_data_or_with_flat_data() {
        let a = linear_axis(f64::NAN, 1.0, 5, Fit::Padded(0.05), None, false);
        assert_eq!(a.lo, 0.0);
        assert!(a.hi >= 1.0 && a.hi < 1.1, "{a:?}");
        let z = linear_axis(0.0, 0.0, 5, Fit::Padded(0.05), None, false);
        assert!(z.lo <= 0.0 && z.hi > 0.0 && distinct(&z), "{z:?}");
        let flat = linear_axis(7.6, 7.6, 5, Fit::Padded(0.05), None, false);
        assert!(flat.lo < 7.6 && flat.hi > 7.6 && distinct(&flat), "{flat:?}");
        let neg = linear_axis(-3.0, -1.0, 5, Fit::Padded(0.05), None, false);
        assert!(neg.hi <= 0.0 && neg.lo <= -3.0, "{neg:?}");
    }

    #[test]
    fn bounds_cap_the_padding() {
        let a = linear_axis(0.2, 1.0, 5, Fit::Padded(0.05), Some((0.0, 1.0)), false);
        assert_eq!(a.hi, 1.0);
        assert!(a.lo <= 0.2 && a.lo >= 0.0);
        assert!(distinct(&a));
    }

    #[test]
    fn an_exact_integer_axis_for_steps() {
        let a = linear_axis(1.0, 12.0, 6, Fit::Exact, None, true);
        assert_eq!((a.lo, a.hi), (1.0, 12.0));
        assert_eq!(labels_of(&a), ["2", "4", "6", "8", "10", "12"]);
        let one = linear_axis(3.0, 3.0, 6, Fit::Exact, None, true);
        assert!(one.lo < 3.0 && one.hi > 3.0 && labels_of(&one).contains(&"3"), "{one:?}");
        let big = linear_axis(0.0, 12_345.0, 6, Fit::Exact, None, true);
        assert_eq!(labels_of(&big), ["0", "2000", "4000", "6000", "8000", "10000", "12000"]);
    }

    #[test]
    fn log_axes() {
        let a = log_axis(1e-5, 1e-3, 5).unwrap();
        assert!(a.log && a.lo <= 1e-5 && a.hi >= 1e-3);
        assert_eq!(labels_of(&a), ["1e-5", "2e-5", "5e-5", "1e-4", "2e-4", "5e-4", "1e-3"]);
        assert!((a.fraction(1e-4) - 0.5).abs() < 1e-12);
        // Less than a decade: linear ticks, placed by log.
        let b = log_axis(7.55, 7.62, 5).unwrap();
        assert!(b.log && b.lo <= 7.55 && b.hi >= 7.62 && distinct(&b), "{b:?}");
        let f = b.fraction(7.58);
        let linear = (7.58 - b.lo) / (b.hi - b.lo);
        assert!(f > 0.0 && f < 1.0 && (f - linear).abs() < 0.01);
        // Many decades: every other decade.
        let c = log_axis(1e-9, 1e3, 5).unwrap();
        assert!(c.ticks.len() <= 7 && distinct(&c), "{c:?}");
        // A range from under 1 to a few: the zero tick goes, the data stays inside.
        let d = log_axis(0.5, 4.0, 5).unwrap();
        assert!(d.lo > 0.0 && d.lo <= 0.5 && d.hi >= 4.0 && d.ticks.iter().all(|(v, _)| *v > 0.0), "{d:?}");
        assert!(log_axis(0.0, 1.0, 5).is_none());
        assert!(log_axis(-1.0, 1.0, 5).is_none());
    }

    #[test]
    fn values_for_people() {
        assert_eq!(format_value(7.621_34), "7.621");
        assert_eq!(format_value(0.0123), "0.0123");
        assert_eq!(format_value(1e-3), "0.001");
        assert_eq!(format_value(2.5e-5), "2.5e-5");
        assert_eq!(format_value(9.999_99e-4), "1e-3");
        assert_eq!(format_value(-0.5), "-0.5");
        assert_eq!(format_value(123_456.0), "123456");
        assert_eq!(format_value(2.0e7), "2e7");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_duration(14.2), "0m14s");
        assert_eq!(format_duration(3725.0), "1h02m");
    }

    #[test]
    fn ema_like_tensorboard() {
        // Weight 0: the data itself.
        assert_eq!(ema(&[3.0, 1.0, 2.0], 0.0), [3.0, 1.0, 2.0]);
        // Debiased: a constant series stays constant from the first point.
        for v in ema(&[5.0; 10], 0.9) {
            assert!((v - 5.0).abs() < 1e-12);
        }
        // By hand, weight 0.5: last = 0.5·0 + 0.5·4 = 2 → /0.5 = 4; last = 1 + 0 = 1 → /0.75 = 4/3.
        let s = ema(&[4.0, 0.0], 0.5);
        assert!((s[0] - 4.0).abs() < 1e-12 && (s[1] - 4.0 / 3.0).abs() < 1e-12, "{s:?}");
        // A NaN passes through without poisoning what follows.
        let n = ema(&[1.0, f64::NAN, 1.0], 0.6);
        assert!(n[1].is_nan() && (n[2] - 1.0).abs() < 1e-12);
        // Smoothing narrows a noisy series.
        let noisy: Vec<f64> = (0..50).map(|i| 7.6 + if i % 2 == 0 { 0.05 } else { -0.05 }).collect();
        let smooth = ema(&noisy, 0.9);
        let spread = |v: &[f64]| v[10..].iter().copied().fold(f64::MIN, f64::max) - v[10..].iter().copied().fold(f64::MAX, f64::min);
        assert!(spread(&smooth) < spread(&noisy) / 3.0);
        // A weight of 1 or more is held below 1 (the first value does not stick forever).
        let capped = ema(&[1.0, 2.0], 1.0);
        assert!(capped[1] > 1.0);
    }
}
