//! This replica's copy of the lineage graph and the catalog's classes, read from the
//! store as it grows.

use std::collections::HashMap;

use warden_core::{DatasetId, ProjectId};
use warden_lineage::Graph;

#[derive(Default)]
pub(crate) struct Loaded {
    pub graph: Graph,
    pub last_edge: u64,
    pub catalog_version: Option<u64>,
    /// Dataset node → its classes (with its columns').
    pub classes: HashMap<String, Vec<String>>,
    /// Dataset node → what residency and deletion need of it.
    pub datasets: HashMap<String, DatasetFacts>,
}

/// What residency checks and deletion requests need of a catalogued dataset.
#[derive(Debug, Clone)]
pub(crate) struct DatasetFacts {
    pub id: DatasetId,
    pub project: Option<ProjectId>,
    pub residency: Option<String>,
    pub owner: Option<String>,
    pub legal_hold: Option<String>,
    /// Published by its owners (shown to everyone when its classes allow it).
    pub published: bool,
    pub classified: bool,
}

/// The replica's copy of the lineage graph and the catalog's classes.
#[derive(Default)]
pub(crate) struct LineageCache {
    pub loaded: tokio::sync::RwLock<Loaded>,
}
