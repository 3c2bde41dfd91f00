//! Warden's wire types: request and response bodies of the REST API, and the catalogue
//! of problem types (RFC 9457). Converted explicitly from domain types at the edge.

#![forbid(unsafe_code)]

mod problem;
mod types;

pub use problem::{DocumentError, Problem, ProblemType};
pub use types::*;
