//! The types that cross the wire: what garden-eden's core returns, the server sends and the
//! browser shows. Serde only (no database, no runtime), so the browser bundle can use them; the
//! core defines its rows with them and the UI uses them as they are, with no mirrors.
//!
//! One module a domain; each type's documentation says what it means, not how it is stored.

/// A value that is not one of a field's fixed set (a form field, a flag, a stored string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// The field it was given for (`deepspeed`, `backend`, …).
    pub field: &'static str,
    /// One sentence: the value and what it may be.
    pub message: String,
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnknownValue {}

/// `Display`, `FromStr` (erring with [`UnknownValue`]) and `PartialEq<&str>` for a state type from
/// its `ALL` and `as_str` (its serde names): one string each, stored and shown the same.
macro_rules! one_string_each {
    ($t:ty, $field:literal, $expected:literal) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $t {
            type Err = $crate::UnknownValue;

            fn from_str(s: &str) -> Result<Self, $crate::UnknownValue> {
                <$t>::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| $crate::UnknownValue {
                    field: $field,
                    message: format!(concat!("'{}' is not ", $expected), s),
                })
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

pub mod adapters;
pub mod chat;
pub mod clusters;
pub mod data;
pub mod learn;
pub mod prefs;
pub mod runs;
pub mod stats;
