//! The LLM gateway's mechanics, below the operations that authorise and record a call:
//! data classes and the providers they allow, routing and failover, rate limits and
//! budgets, redaction of requests and restoring of answers (JSON and streams), payload
//! logs, the provider registry and kill switches. `warden-app` holds the `/v1`
//! operations and calls these in order (`warden_app::gateway`).

#![forbid(unsafe_code)]

mod budget;
mod class;
mod error;
mod payload;
mod providers;
mod redact;
mod route;
mod stream;
mod switches;

pub use budget::*;
pub use class::*;
pub use error::*;
pub use payload::*;
pub use providers::*;
pub use redact::*;
pub use route::*;
pub use stream::*;
pub use switches::*;

/// What a gateway part could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input (a provider definition, say) is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Something inside Warden failed.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] warden_store::StoreError),
}
