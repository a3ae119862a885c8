//! The few JSON pieces the exporter writes, byte for byte what `serde_json`'s compact serialiser
//! writes for the same values (the tests compare the two), without building a `Value` first.

/// What each byte becomes inside a JSON string, as serde_json writes it: 0 = itself, `u` = `\u00XX`,
/// anything else = a backslash and that letter.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes of `w` needs escaping (below 0x20, `"` or `\`). Exact as a
/// yes/no: bytes of 0x80 and above (UTF-8 sequences) never match.
#[inline(always)]
fn needs_escape(w: u64) -> bool {
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let q = w ^ (LO * b'"' as u64);
    let quote = q.wrapping_sub(LO) & !q;
    let b = w ^ (LO * b'\\' as u64);
    let backslash = b.wrapping_sub(LO) & !b;
    (control | quote | backslash) & HI != 0
}

/// Appends `s` as a quoted JSON string.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        if i + 8 <= n {
            let w = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
            if !needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(n);
        while i < end {
            let c = bytes[i];
            let e = ESCAPE[c as usize];
            if e != 0 {
                out.extend_from_slice(&bytes[start..i]);
                if e == b'u' {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]);
                } else {
                    out.extend_from_slice(&[b'\\', e]);
                }
                start = i + 1;
            }
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends a number the way serde_json writes an `f64` (`null` when there is none or it is not
/// finite).
pub(super) fn number(out: &mut Vec<u8>, value: Option<f64>) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_match_serde_json_byte_for_byte() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "안녕하세요 \"quoted\" back\\slash".into(),
            "tab\there\nnew line\r\u{0c}\u{08}\u{0b}\u{7f}\u{1f}\u{0}".into(),
            "exactly8".into(),
            "seven!\"".into(),
            "🌱 emoji and 감사합니다 and \u{2028}".into(),
        ];
        // Every byte below 0x80 at every offset of a 17-byte string.
        for c in 0u8..0x80 {
            for at in 0..17 {
                let mut s: Vec<char> = "abcdefghijklmnopq".chars().collect();
                s[at] = c as char;
                cases.push(s.into_iter().collect());
            }
        }
        for s in cases {
            let mut ours = Vec::new();
            string(&mut ours, &s);
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
        for v in [None, Some(0.9), Some(1.0), Some(0.0), Some(2.0 / 3.0), Some(f64::NAN)] {
            let mut ours = Vec::new();
            number(&mut ours, v);
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::json!(v).to_string());
        }
    }
}
