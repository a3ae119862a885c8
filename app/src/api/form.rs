//! Form fields arrive as strings: parse them on the server, with errors that name the field.

use crate::error::AppError;

pub use garden_core::form::text;

/// A number, if given (the core's parser; its error names the field).
pub fn number<T: std::str::FromStr>(field: &str, v: &Option<String>) -> Result<Option<T>, AppError> {
    Ok(garden_core::form::number(field, v)?)
}
