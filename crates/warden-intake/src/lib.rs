//! Intake checks on model files, without ever executing them.
//!
//! - [`pickle`]: walks a pickle opcode by opcode (protocols 0-5), resolving every import
//!   (`GLOBAL`, `INST`, `STACK_GLOBAL` through the stack and memo) against an allow-list.
//! - [`scan_file`]: reads every file as a pickle stream first (pickles have no magic
//!   number), then recognises the container (PyTorch zip archive, joblib with
//!   zlib/gzip, safetensors, GGUF, ONNX, images, UTF-8 text and JSON) and scans what it
//!   holds, with limits against zip bombs and oversize or deeply nested pickles. What is
//!   not recognised is `Unknown`, never `Safe`.
//! - [`safetensors`]: validates the header (length, JSON, dtypes, shapes, offsets).
//!
//! Reading is streaming: large payloads inside pickles are skipped, not buffered.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod manifest;
pub mod model_signing;
pub mod pickle;
pub mod safetensors;
mod scan;
pub mod signature;

pub use scan::{scan_file, scan_reader, Format, Limits, Report, Verdict};
