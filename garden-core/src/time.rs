//! Dates without a date library: ISO-8601 parsing for filters and imports, formatting for exports.

use crate::error::{Error, Result};

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count from 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `2025-01-01`, `2025-01-01T10:20:30`, `2025-01-01 10:20:30.123Z`, `…+09:00` into Unix
/// ms (UTC; a time without offset is taken as UTC).
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let rb = rest.as_bytes();
    if rb.len() < 5 || rb[2] != b':' {
        return None;
    }
    let hh: i64 = rest.get(0..2)?.parse().ok()?;
    let mm: i64 = rest.get(3..5)?.parse().ok()?;
    let mut i = 5;
    let mut ss = 0i64;
    if rb.get(5) == Some(&b':') {
        ss = rest.get(6..8)?.parse().ok()?;
        i = 8;
    }
    let mut frac_ms = 0i64;
    if rb.get(i) == Some(&b'.') || rb.get(i) == Some(&b',') {
        let start = i + 1;
        let mut end = start;
        while end < rb.len() && rb[end].is_ascii_digit() {
            end += 1;
        }
        let digits = rest.get(start..end)?;
        if digits.is_empty() {
            return None;
        }
        let padded = format!("{:0<3}", &digits[..digits.len().min(3)]);
        frac_ms = padded.parse().ok()?;
        i = end;
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let offset = match rest.get(i..)? {
        "" | "Z" | "z" => 0,
        tz => {
            let sign = match tz.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let tz = tz[1..].replace(':', "");
            if tz.len() != 4 {
                return None;
            }
            let h: i64 = tz[0..2].parse().ok()?;
            let m: i64 = tz[2..4].parse().ok()?;
            sign * (h * 60 + m) * 60_000
        }
    };
    ms += (hh * 3600 + mm * 60 + ss) * 1000 + frac_ms - offset;
    Some(ms)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Like [`parse_iso`], as a validation error naming the field.
pub fn parse_date_arg(field: &str, s: &str) -> Result<i64> {
    parse_iso(s).ok_or_else(|| {
        Error::invalid(field, format!("'{s}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"))
    })
}

/// Unix ms → `2025-01-01T10:20:30Z` (or `…30.123Z` when there are milliseconds).
pub fn format_iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let base = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    if millis == 0 { format!("{base}Z") } else { format!("{base}.{millis:03}Z") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_iso("1970-01-01"), Some(0));
        assert_eq!(parse_iso("2025-01-01"), Some(1_735_689_600_000));
        assert_eq!(parse_iso("2025-01-01T00:00:01Z"), Some(1_735_689_601_000));
        assert_eq!(parse_iso("2025-01-01 09:00:00+09:00"), Some(1_735_689_600_000));
        assert_eq!(parse_iso("2025-01-01T00:00:00.5Z"), Some(1_735_689_600_500));
        assert_eq!(parse_iso("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(parse_iso("2025-02-29"), None);
        assert_eq!(parse_iso("2025-13-01"), None);
        assert_eq!(parse_iso("yesterday"), None);
        assert_eq!(parse_iso("2025-01-01T25:00"), None);
        assert_eq!(format_iso(1_735_689_601_000), "2025-01-01T00:00:01Z");
        assert_eq!(format_iso(1_735_689_600_500), "2025-01-01T00:00:00.500Z");
        for ms in [0, 1_735_689_600_500, 1_795_676_709_000, -86_400_000] {
            assert_eq!(parse_iso(&format_iso(ms)), Some(ms));
        }
        assert!(parse_date_arg("since", "soon").unwrap_err().to_string().contains("since"));
    }
}
