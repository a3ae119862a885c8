//! Formatting used on both sides of the wire (so SSR and hydration agree): dates through jiff,
//! satisfaction, and query strings.

/// Unix milliseconds → `2026-11-26 07:05 UTC` (jiff; the number itself beyond ±9999 years).
pub fn datetime_utc(ms: i64) -> String {
    utc(ms, "%Y-%m-%d %H:%M UTC")
}

/// Unix milliseconds → `07:05:09 UTC`.
pub fn time_utc(ms: i64) -> String {
    utc(ms, "%H:%M:%S UTC")
}

fn utc(ms: i64, format: &str) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.strftime(format).to_string())
}

/// 0.8333 → `0.83`; none → `–`.
pub fn satisfaction(s: Option<f64>) -> String {
    s.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `a=1&b=x%20y`
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", url_encode(k.as_ref()), url_encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(datetime_utc(0), "1970-01-01 00:00 UTC");
        // 2026-11-26T07:05:09Z
        assert_eq!(datetime_utc(1_795_676_709_000), "2026-11-26 07:05 UTC");
        assert_eq!(time_utc(1_795_676_709_000), "07:05:09 UTC");
        assert_eq!(datetime_utc(-60_000), "1969-12-31 23:59 UTC");
        assert_eq!(datetime_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(datetime_utc(i64::MAX), i64::MAX.to_string());
    }
}

