//! The datasets a model version or an evaluation names: resolved to catalog entries
//! (never created on the way) and linked to the version in the lineage graph. Used by
//! the registry, the catalog and releases alike.

use warden_core::{DatasetId, ModelId, ProjectId};
use warden_store::DatasetRecord;

use crate::{App, AppError};

/// Most slashes in a `NAMESPACE/NAME` reference (deep file paths have a dozen or two).
const MAX_SPLITS: usize = 64;

/// A dataset named by its id (`dst_…`) or by `NAMESPACE/NAME`. Both parts may hold
/// slashes themselves (`s3://bank/raw` + `cards/2026`), so every split is tried.
#[derive(Debug, Clone)]
pub enum DatasetRef {
    Id(DatasetId),
    Name(String),
}

impl DatasetRef {
    pub fn parse(reference: &str) -> Result<Self, AppError> {
        if let Ok(id) = DatasetId::parse(reference) {
            return Ok(DatasetRef::Id(id));
        }
        if reference.starts_with("dst_") || !reference.contains('/') {
            return Err(AppError::Invalid(format!(
                "`{reference}` names no dataset: give its id (dst_…) or NAMESPACE/NAME, e.g. s3://bank/transactions"
            )));
        }
        // Each slash is a split to look up (before the caller is authorised): bounded,
        // so that one request cannot cost thousands of queries.
        if reference.len() > 4096 || reference.matches('/').count() > MAX_SPLITS {
            return Err(AppError::Invalid(format!(
                "a dataset reference is at most 4,096 characters with at most {MAX_SPLITS} slashes"
            )));
        }
        Ok(DatasetRef::Name(reference.to_string()))
    }

    /// The catalog entry, if the catalog holds one.
    pub(crate) async fn find(&self, store: &dyn warden_store::Store) -> Result<Option<DatasetRecord>, AppError> {
        match self {
            DatasetRef::Id(id) => Ok(store.get_dataset(id).await?),
            DatasetRef::Name(reference) => {
                for (i, _) in reference.match_indices('/') {
                    let (ns, name) = (&reference[..i], &reference[i + 1..]);
                    if ns.is_empty() || name.is_empty() {
                        continue;
                    }
                    if let Some(d) = store.find_dataset(ns, name).await? {
                        return Ok(Some(d));
                    }
                }
                Ok(None)
            }
        }
    }
}

impl std::fmt::Display for DatasetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatasetRef::Id(id) => write!(f, "{id}"),
            DatasetRef::Name(reference) => f.write_str(reference),
        }
    }
}

/// The catalog entries a model version names: each reference is a dataset id
/// (`dst_…`) or `NAMESPACE/NAME`. A reference the catalog does not hold is refused,
/// naming the project's nearest dataset; nothing is created on the way.
pub(crate) async fn resolve_datasets(
    app: &App,
    project: &ProjectId,
    references: &[String],
) -> Result<Vec<DatasetRecord>, AppError> {
    let mut out = Vec::with_capacity(references.len());
    for reference in references {
        let found = match DatasetRef::parse(reference) {
            Ok(r) => r.find(app.store()).await?,
            Err(_) => None,
        };
        match found {
            Some(d) => out.push(d),
            None => {
                let hint = nearest_dataset(app, project, reference)
                    .await?
                    .map_or_else(String::new, |n| format!("; the nearest is `{n}`"));
                return Err(AppError::rule(
                    422,
                    "model.known-datasets",
                    format!(
                        "dataset `{reference}` is not in the catalog (name a dataset id or NAMESPACE/NAME){hint}; \
                         register it first with `warden dataset create NAMESPACE NAME`"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The project's dataset whose `NAMESPACE/NAME` is closest to `reference`, when one
/// is close enough to be a likely typo or a missing namespace.
async fn nearest_dataset(app: &App, project: &ProjectId, reference: &str) -> Result<Option<String>, AppError> {
    let mut best: Option<(f64, String)> = None;
    let mut page = warden_store::Page::first(500);
    loop {
        let batch = app.store.list_datasets(Some(project), false, &page).await?;
        for d in &batch {
            let full = format!("{}/{}", d.namespace, d.name);
            // The whole reference, or its last part, against the name (a missing or
            // wrong namespace: `claims`, `warden/claims`).
            let tail = reference.rsplit('/').next().unwrap_or(reference);
            let score = strsim::normalized_levenshtein(reference, &full)
                .max(strsim::normalized_levenshtein(tail, &d.name))
                .max(if reference == d.id.as_str() { 1.0 } else { 0.0 });
            if score >= 0.6 && best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, full));
            }
        }
        match batch.last() {
            Some(last) if batch.len() == 500 => page.after = Some(last.id.to_string()),
            _ => break,
        }
    }
    Ok(best.map(|(_, n)| n))
}

/// Links a registered version to the runs and the (resolved) datasets it came from.
pub(crate) async fn link_version(
    app: &App,
    model: &ModelId,
    version: u64,
    runs: &[String],
    datasets: &[DatasetRecord],
) -> Result<(), AppError> {
    let node = warden_lineage::model_node(model.as_str(), version);
    let mut edges: Vec<(String, String)> = runs.iter().map(|r| (warden_lineage::run_node(r), node.clone())).collect();
    edges.extend(datasets.iter().map(|d| (warden_lineage::dataset_node(&d.namespace, &d.name), node.clone())));
    if !edges.is_empty() {
        app.store.add_lineage_edges(&edges).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_references_are_ids_or_bounded_names() {
        assert!(matches!(DatasetRef::parse("s3://bank/raw/cards/2026"), Ok(DatasetRef::Name(_))));
        assert!(matches!(DatasetRef::parse("claims"), Err(AppError::Invalid(_))));
        assert!(matches!(DatasetRef::parse("dst_nonsense/x"), Err(AppError::Invalid(_))));
        let deep = format!("host{}", "/d".repeat(MAX_SPLITS));
        assert!(matches!(DatasetRef::parse(&deep), Ok(DatasetRef::Name(_))), "{MAX_SPLITS} slashes");
        let deeper = format!("{deep}/d");
        assert!(matches!(DatasetRef::parse(&deeper), Err(AppError::Invalid(_))), "one more");
        assert!(matches!(DatasetRef::parse(&format!("a/{}", "x".repeat(5000))), Err(AppError::Invalid(_))));
    }
}
