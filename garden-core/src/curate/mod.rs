//! Curation: duplicate removal, PII scrubbing, train/validation split.
//!
//! Everything here is called once per example by the export pipeline (up to about a million
//! messages), so it is built to be cheap: the regexes are compiled once per process, a text with
//! nothing to scrub comes back as `Cow::Borrowed` without allocating, and the duplicate keys are
//! 128-bit hashes computed by a hand-written streaming hash.
//!
//! # PII scrubbing ([`Scrubber::scrub`])
//!
//! Emails, phone numbers, IP addresses, URL credentials, API keys, card numbers, national ID
//! numbers and IBANs are replaced with placeholders; the detectors, what each accepts and what
//! it leaves alone are documented in `curate/scrub.rs`.
//!
//! # Duplicates ([`exact_key`], [`near_key`], [`Deduper`])
//!
//! The exact key hashes each text's byte length and bytes; the near key hashes a normalised
//! form (Unicode lower case, punctuation/symbols/emoji dropped, whitespace runs collapsed to one
//! space, trimmed) with a separator byte (`0xFF`, never in UTF-8) after each text.
//!
//! # Split ([`is_validation`])
//!
//! `SHA-256(seed as 8 little-endian bytes ‖ key as UTF-8)`; the first 8 bytes of the digest,
//! big-endian, shifted right by 11, divided by 2⁵³ give a uniform `u` in `[0, 1)`; the example
//! is in validation iff `u < ratio`. Easy to reproduce anywhere, e.g. in Python.

mod dedupe;
mod scrub;
mod split;

pub use dedupe::{exact_key, near_key, Deduper, Seen};
pub use scrub::{iban_valid, luhn_valid, PiiCounts, Scrubber};
pub use split::is_validation;
