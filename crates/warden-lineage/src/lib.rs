//! Lineage for Warden: OpenLineage events read and checked as Marquez does, and the
//! lineage graph (datasets, runs, model versions) walked in memory with depth limits,
//! cycle detection and class propagation that names the path of each class.
//!
//! Pure: the store keeps the events and edges; the application keeps a graph per
//! replica and adds new edges as they are written (edges are append-only).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod event;
pub mod graph;

pub use event::{
    dataset_node, job_node, model_node, parse, run_node, DatasetRef, Event, EventError, EventType, JobRef, RunEvent,
};
pub use graph::{Direction, Graph, Walk};
