//! Checks and formats for free-text fields, shared by the operations.

use warden_core::Timestamp;

use crate::AppError;

/// `value` is at most `max` characters and has no control characters but newlines.
pub(crate) fn text_ok(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max || value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::Invalid(format!(
            "`{field}` must be at most {max} characters without control characters"
        )));
    }
    Ok(())
}

/// A timestamp as RFC 3339 (UTC), or empty when out of range.
pub(crate) fn rfc3339(t: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
