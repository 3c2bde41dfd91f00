//! RFC 9457 problem details and the one catalogue of problem types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! catalogue {
    ($($variant:ident => ($code:literal, $status:literal, $title:literal)),* $(,)?) => {
        /// Every kind of error the API returns. The `type` URI and `title` of each are stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemType { $($variant),* }

        impl ProblemType {
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant),*];
            /// Short stable code; also the last segment of the type URI.
            pub fn code(self) -> &'static str { match self { $(ProblemType::$variant => $code),* } }
            pub fn status(self) -> u16 { match self { $(ProblemType::$variant => $status),* } }
            pub fn title(self) -> &'static str { match self { $(ProblemType::$variant => $title),* } }
        }
    };
}

catalogue! {
    BadRequest => ("bad-request", 400, "The request body is not valid"),
    InvalidParameter => ("invalid-parameter", 400, "A path or query parameter is not valid"),
    Unauthenticated => ("unauthenticated", 401, "Authentication is required"),
    AccountLocked => ("account-locked", 401, "The account is locked"),
    SecondFactorRequired => ("second-factor-required", 401, "A second factor is required"),
    Forbidden => ("forbidden", 403, "The caller is not allowed to do this"),
    NotFound => ("not-found", 404, "Not found"),
    MethodNotAllowed => ("method-not-allowed", 405, "Method not allowed"),
    Conflict => ("conflict", 409, "Conflict with existing state"),
    PayloadTooLarge => ("payload-too-large", 413, "The request body is too large"),
    UriTooLong => ("uri-too-long", 414, "The request URI is too long"),
    UnsupportedMediaType => ("unsupported-media-type", 415, "The request body must be JSON"),
    ValidationFailed => ("validation-failed", 422, "The request is well-formed but not acceptable"),
    TooManyFailures => ("too-many-failures", 429, "Too many failed attempts"),
    Internal => ("internal", 500, "Internal error"),
    Unavailable => ("unavailable", 503, "A dependency is unavailable"),
}

impl ProblemType {
    pub fn uri(self) -> String {
        format!("urn:warden:problem:{}", self.code())
    }
}

/// An RFC 9457 problem details object (`application/problem+json`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Problem {
    /// A URI naming the problem type, e.g. `urn:warden:problem:forbidden`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The short code of the type (extension member).
    pub code: String,
    /// The request id, for correlating with server logs (extension member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The rule that refused the request, e.g. `data_classes.ephi.allowed_zones` or
    /// `releases.separation-of-duties` (extension member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Every problem found in a submitted document, each with its location (extension
    /// member).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<DocumentError>,
}

/// One problem in a submitted document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct DocumentError {
    pub line: usize,
    pub column: usize,
    /// Dotted path of the offending node, e.g. `data_classes.ephi.allowed_zones[1]`.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            type_: kind.uri(),
            title: kind.title().to_string(),
            status: kind.status(),
            detail: Some(detail.into()),
            instance: None,
            code: kind.code().to_string(),
            request_id: None,
            rule: None,
            errors: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_codes_are_unique_and_statuses_are_errors() {
        let mut codes: Vec<_> = ProblemType::ALL.iter().map(|p| p.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ProblemType::ALL.len());
        assert!(ProblemType::ALL.iter().all(|p| (400..600).contains(&p.status())));
    }
}
