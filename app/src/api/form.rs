//! Form fields arrive as strings: parse them on the server, with errors that name the field.

use crate::error::AppError;

/// The trimmed value, if not empty.
pub fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A number, if given.
pub fn number<T: std::str::FromStr>(field: &str, v: &Option<String>) -> Result<Option<T>, AppError> {
    text(v)
        .map(|s| {
            s.parse::<T>().map_err(|_| AppError::Invalid {
                field: field.to_owned(),
                message: format!("'{s}' is not a number"),
            })
        })
        .transpose()
}
