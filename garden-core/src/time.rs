//! Dates for filters, imports and exports, on `jiff`: ISO-8601 / RFC 3339 text to Unix ms and
//! back, always in UTC.

use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;
use jiff::Timestamp;

use crate::error::{Error, Result};

/// Parses `2025-01-01`, `2025-01-01T10:20:30`, `2025-01-01 10:20:30.123Z`, `…+09:00` into Unix
/// ms (UTC; a time without offset is taken as UTC). Anything else, whatever its characters, is
/// `None`.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    // Date-time text is ASCII: this also keeps any slicing below on character boundaries.
    if !s.is_ascii() || s.len() < 10 {
        return None;
    }
    if s.len() == 10 {
        let date: Date = s.parse().ok()?;
        return Some(
            Offset::UTC
                .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .ok()?
                .as_millisecond(),
        );
    }
    let with_offset = s.ends_with(['Z', 'z']) || s[10..].contains(['+', '-']);
    let at: Timestamp = if with_offset {
        s.parse().ok()?
    } else {
        let civil: DateTime = s.parse().ok()?;
        Offset::UTC.to_timestamp(civil).ok()?
    };
    Some(at.as_millisecond())
}

/// Like [`parse_iso`], as a validation error naming the field.
pub fn parse_date_arg(field: &str, s: &str) -> Result<i64> {
    parse_iso(s).ok_or_else(|| {
        Error::invalid(
            field,
            format!("'{s}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"),
        )
    })
}

/// Unix ms → `2025-01-01T10:20:30Z` (or `…30.123Z` when there are milliseconds). Out of jiff's
/// range (beyond ±9999 years) the number itself is written.
pub fn format_iso(ms: i64) -> String {
    let Ok(at) = Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    if ms.rem_euclid(1000) == 0 {
        at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        at.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_iso("1970-01-01"), Some(0));
        assert_eq!(parse_iso("2025-01-01"), Some(1_735_689_600_000));
        assert_eq!(parse_iso("2025-01-01T00:00:01Z"), Some(1_735_689_601_000));
        assert_eq!(
            parse_iso("2025-01-01 09:00:00+09:00"),
            Some(1_735_689_600_000)
        );
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
        assert!(parse_date_arg("since", "soon")
            .unwrap_err()
            .to_string()
            .contains("since"));
    }

    #[test]
    fn text_that_is_not_a_date_is_none_whatever_its_characters() {
        // The hand-rolled parser this replaced panicked on a character boundary here.
        for bad in [
            "2025-01-01T10:00+aéb",
            "2025-01-01Té",
            "２０２５-01-01",
            "2025-01-01T10:00:00+0é:00",
            "é",
            "2025-01-0é",
            "2025-01-01 10:00 UTC",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
            assert!(parse_date_arg("until", bad).is_err());
        }
        assert_eq!(parse_iso("2025-01-01t00:00:01z"), Some(1_735_689_601_000));
        assert_eq!(
            parse_iso("2025-01-01T00:00:00,250Z"),
            Some(1_735_689_600_250)
        );
    }
}
