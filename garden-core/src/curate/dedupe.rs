//! Duplicate keys: 128-bit hashes of an example's texts, exact and normalised, and the set that
//! remembers them (see the curate module doc for the definitions).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

// Why a hand-written hash: SHA-256 would do (and is what `is_validation` uses, where a
// well-known definition matters more than speed), but dedupe hashes every byte of every example
// twice; this two-lane folded-multiply hash (the mixing step of wyhash/foldhash) takes 8 bytes
// per step and is several times faster than software SHA-256. The keys only need to avoid
// accidental collisions, not resist attackers: each lane is a 64-bit hash with its own seed and
// multiplier, so two distinct examples share a 128-bit key with probability about 2⁻¹²⁸ per
// pair (2⁻⁶⁴ per lane). It is deterministic (fixed constants, little-endian words), so keys are
// the same on every run and platform.
const SEED_A: u64 = 0x243f_6a88_85a3_08d3; // digits of π
const SEED_B: u64 = 0x1319_8a2e_0370_7344;
const MUL_A: u64 = 0xa076_1d64_78bd_642f; // wyhash's primes
const MUL_B: u64 = 0xe703_7ed1_a0b4_28db;
const FIN_A: u64 = 0x8ebc_6af0_9c88_c6e3;
const FIN_B: u64 = 0x5899_65cc_7537_4cc3;

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The streaming 128-bit hash behind the duplicate keys.
struct Hash128 {
    a: u64,
    b: u64,
    /// Bytes not yet absorbed, little-endian, `pending_len` of them.
    pending: u64,
    pending_len: u32,
    len: u64,
}

impl Hash128 {
    fn new() -> Self {
        Hash128 {
            a: SEED_A,
            b: SEED_B,
            pending: 0,
            pending_len: 0,
            len: 0,
        }
    }

    #[inline]
    fn absorb(&mut self, w: u64) {
        self.a = fold_mul(self.a ^ w, MUL_A);
        self.b = fold_mul(self.b ^ w.rotate_left(32), MUL_B);
    }

    #[inline]
    fn byte(&mut self, x: u8) {
        self.pending |= u64::from(x) << (8 * self.pending_len);
        self.pending_len += 1;
        self.len += 1;
        if self.pending_len == 8 {
            let w = self.pending;
            self.absorb(w);
            self.pending = 0;
            self.pending_len = 0;
        }
    }

    fn bytes(&mut self, mut data: &[u8]) {
        while self.pending_len != 0 {
            let Some((&x, rest)) = data.split_first() else {
                return;
            };
            self.byte(x);
            data = rest;
        }
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            self.absorb(u64::from_le_bytes(c.try_into().unwrap()));
        }
        self.len += (data.len() - chunks.remainder().len()) as u64;
        for &x in chunks.remainder() {
            self.byte(x);
        }
    }

    fn finish(mut self) -> u128 {
        if self.pending_len > 0 {
            // Zero padding; the length below tells "ab" from "ab\0".
            let w = self.pending;
            self.absorb(w);
        }
        let a = fold_mul(self.a ^ self.len, FIN_A);
        let b = fold_mul(self.b ^ self.len.rotate_left(32), FIN_B);
        let a = fold_mul(a ^ (a >> 32), MUL_B);
        let b = fold_mul(b ^ (b >> 32), MUL_A);
        (u128::from(a) << 64) | u128::from(b)
    }
}

/// Exact-duplicate key: hash of the texts exactly as given (each prefixed by its length, so
/// `["ab", "c"]` and `["a", "bc"]` differ).
pub fn exact_key(texts: &[&str]) -> u128 {
    let mut h = Hash128::new();
    for t in texts {
        h.bytes(&(t.len() as u64).to_le_bytes());
        h.bytes(t.as_bytes());
    }
    h.finish()
}

/// Near-duplicate key: hash after normalising each text: Unicode lower case, whitespace runs →
/// one space, everything that is neither a letter, a digit nor whitespace (punctuation,
/// symbols, emoji, combining accents) removed, trimmed. `"Hello,  World!"` and `"hello world"`
/// collide; Korean and other scripts keep their letters.
pub fn near_key(texts: &[&str]) -> u128 {
    let mut sink = Sink::new();
    for t in texts {
        let b = t.as_bytes();
        // Something was written for this text / whitespace is pending before the next word.
        let (mut wrote, mut space) = (false, false);
        let mut i = 0;
        while i < b.len() {
            let x = b[i];
            if x.is_ascii() {
                i += 1;
                if x.is_ascii_alphanumeric() {
                    if space && wrote {
                        sink.push(b' ');
                    }
                    (space, wrote) = (false, true);
                    sink.push(x.to_ascii_lowercase());
                } else if x.is_ascii_whitespace() || x == 0x0b {
                    space = true;
                }
                continue;
            }
            let Some(c) = t[i..].chars().next() else {
                break;
            };
            let n = c.len_utf8();
            let caseless = matches!(c,
                '\u{AC00}'..='\u{D7A3}' // Hangul syllables
                | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
                | '\u{3041}'..='\u{3096}' // Hiragana
                | '\u{30A1}'..='\u{30FA}' // Katakana
            );
            if caseless || c.is_alphanumeric() {
                if space && wrote {
                    sink.push(b' ');
                }
                (space, wrote) = (false, true);
                if caseless {
                    b[i..i + n].iter().for_each(|&y| sink.push(y));
                } else {
                    c.to_lowercase().for_each(|l| sink.push_char(l));
                }
            } else if c.is_whitespace() {
                space = true;
            }
            i += n;
        }
        sink.push(0xFF); // never in UTF-8: separates the texts
    }
    sink.finish()
}

/// Feeds bytes to a [`Hash128`] through a 64-byte buffer: whole words are much cheaper to
/// absorb than single bytes. The result depends only on the byte sequence.
struct Sink {
    hash: Hash128,
    buf: [u8; 64],
    len: usize,
}

impl Sink {
    fn new() -> Sink {
        Sink {
            hash: Hash128::new(),
            buf: [0; 64],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        if self.len == self.buf.len() {
            self.hash.bytes(&self.buf);
            self.len = 0;
        }
        self.buf[self.len] = b;
        self.len += 1;
    }

    #[inline]
    fn push_char(&mut self, c: char) {
        let mut tmp = [0u8; 4];
        c.encode_utf8(&mut tmp).bytes().for_each(|b| self.push(b));
    }

    fn finish(mut self) -> u128 {
        self.hash.bytes(&self.buf[..self.len]);
        self.hash.finish()
    }
}

/// What [`Deduper::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Neither this example nor a near-copy was seen before.
    New,
    /// The very same texts were seen before.
    Exact,
    /// Texts equal to an earlier example's after normalisation (see [`near_key`]) were seen.
    Near,
}

/// Passes a key through: the keys are already uniform hashes, so SipHash on top would only
/// cost time.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; this keeps the trait honest for anything else (FNV-1a).
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

type KeySet = HashSet<u128, BuildHasherDefault<KeyHasher>>;

/// Remembers the exact and near keys of the examples it has checked (2 × 16 bytes each, plus
/// the hash sets' overhead) — never the texts.
#[derive(Debug, Default)]
pub struct Deduper {
    exact: KeySet,
    near: KeySet,
}

impl Deduper {
    pub fn new() -> Self {
        Self::default()
    }

    /// Classifies the example made of `texts` and remembers it. An exact duplicate is reported
    /// as [`Seen::Exact`] (even though it is also a near one).
    pub fn check(&mut self, texts: &[&str]) -> Seen {
        if !self.exact.insert(exact_key(texts)) {
            return Seen::Exact;
        }
        if self.near.insert(near_key(texts)) {
            Seen::New
        } else {
            Seen::Near
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn exact_keys() {
        assert_eq!(exact_key(&["a", "b"]), exact_key(&["a", "b"]));
        assert_ne!(exact_key(&["ab", "c"]), exact_key(&["a", "bc"]));
        assert_ne!(exact_key(&["ab"]), exact_key(&["ab", ""]));
        assert_ne!(exact_key(&["ab"]), exact_key(&["ab\0"]));
        assert_ne!(exact_key(&["Hello"]), exact_key(&["hello"]));
        assert_ne!(exact_key(&[]), exact_key(&[""]));
        let long = "x".repeat(1000);
        let mut longer = long.clone();
        longer.push('y');
        assert_ne!(exact_key(&[&long]), exact_key(&[&longer]));
    }

    #[test]
    fn near_keys() {
        assert_eq!(near_key(&["Hello,  World!"]), near_key(&["hello world"]));
        assert_eq!(
            near_key(&["  What is Rust?\n\n", "Rust is a language."]),
            near_key(&["what is rust", "rust is a LANGUAGE"])
        );
        assert_ne!(near_key(&["hello world"]), near_key(&["hello", "world"]));
        assert_ne!(near_key(&["hello world"]), near_key(&["hello worlds"]));
        assert_eq!(near_key(&["안녕하세요!"]), near_key(&["안녕하세요"]));
        assert_ne!(near_key(&["안녕하세요"]), near_key(&["안녕"]));
        assert_ne!(near_key(&["안녕하세요"]), near_key(&[""]));
        assert_eq!(near_key(&["ÄPFEL"]), near_key(&["äpfel"]));
    }

    #[test]
    fn dedupe() {
        let mut d = Deduper::new();
        assert_eq!(d.check(&["Hello, world!", "Hi."]), Seen::New);
        assert_eq!(d.check(&["Hello, world!", "Hi."]), Seen::Exact);
        assert_eq!(d.check(&["hello world", "hi"]), Seen::Near);
        assert_eq!(d.check(&["hello world", "hi"]), Seen::Exact);
        assert_eq!(d.check(&["Something else", "Hi."]), Seen::New);
        assert_eq!(d.check(&["Hello, world!"]), Seen::New);
    }
}
