//! Form fields and flags arrive as strings: blank means absent, and a bad value is an error that
//! names its field. The web app's server functions and the core's form builders share these.

use crate::error::{Error, Result};

/// The trimmed value, if not empty.
pub fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The trimmed value as an owned string, if not empty.
pub fn given(v: Option<String>) -> Option<String> {
    text(&v).map(str::to_owned)
}

/// A number, if given; the error names the field.
pub fn number<T: std::str::FromStr>(field: &str, v: &Option<String>) -> Result<Option<T>> {
    text(v).map(|s| s.parse::<T>().map_err(|_| Error::invalid(field, format!("'{s}' is not a number")))).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_absent_and_bad_numbers_name_their_field() {
        assert_eq!(text(&Some("  x ".into())), Some("x"));
        assert_eq!(given(Some("   ".into())), None);
        assert_eq!(number::<u32>("steps", &Some(" 12 ".into())).unwrap(), Some(12));
        assert_eq!(number::<u32>("steps", &None).unwrap(), None);
        assert!(number::<u32>("steps", &Some("many".into())).unwrap_err().to_string().contains("steps"));
    }
}
