//! The audit ledger as a service: the event schema, the group-commit appender that
//! acknowledges an event only once it is durable, signed checkpoints, proofs over the
//! stored log, and export to SIEMs (OCSF JSON Lines to a file, Splunk HEC over HTTP).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod digest;
mod error;
pub mod event;
pub mod export;
mod ledger;
pub mod ocsf;
pub mod pin;
mod tiled;
pub mod witness;

pub use error::LedgerError;
pub use event::{Actor, AuditEvent, Category, ResourceRef};
pub use ledger::{Ledger, LedgerConfig};
pub use warden_tlog::note::{SigningKey, VerifierKey};
