//! The policy in force on this replica: the document, its compiled engine, and the
//! copy every replica refreshes from the store; and placement answers from it.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use sha2::Digest as _;
use warden_core::Principal;
use warden_policy::{Engine, Facts, Placement};
use warden_policy_doc::Document;

use crate::{Action, AppError, Resource};

/// How long a replica trusts its copy of the active document.
pub(crate) const RECHECK: Duration = Duration::from_secs(1);
/// The document in force and the engine compiled from it.
pub struct ActivePolicy {
    /// 0 before any version is stored (the shipped default, in memory only).
    pub version: u64,
    pub digest: String,
    pub text: String,
    pub document: Document,
    pub engine: Engine,
}

impl ActivePolicy {
    /// `zone` must be a zone of this document.
    pub(crate) fn zone_declared(&self, zone: &str) -> Result<(), AppError> {
        if self.document.zones.contains_key(zone) {
            return Ok(());
        }
        Err(AppError::rule(422, "zones.declared", format!("zone `{zone}` is not declared in the policy")))
    }

    /// Every one of `classes` must be a data class of this document.
    pub(crate) fn classes_declared(&self, classes: &[String]) -> Result<(), AppError> {
        let Some(c) = classes.iter().find(|c| !self.document.data_classes.contains_key(*c)) else { return Ok(()) };
        let known: Vec<&str> = self.document.data_classes.keys().map(String::as_str).collect();
        Err(AppError::rule(
            422,
            "data_classes.declared",
            format!("data class `{c}` is not declared in the policy (declared: {})", known.join(", ")),
        ))
    }
}

pub(crate) struct PolicyState {
    pub(crate) store: Arc<dyn warden_store::Store>,
    pub(crate) current: RwLock<Arc<ActivePolicy>>,
    pub(crate) refresh: warden_store::fresh::Refresh,
}

pub(crate) fn digest(text: &str) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(text.as_bytes())))
}

pub(crate) fn compile(version: u64, text: &str) -> Result<ActivePolicy, AppError> {
    let document = Document::parse(text).map_err(|p| AppError::Internal(format!("stored policy v{version}: {p}")))?;
    let engine = document.engine().map_err(|e| AppError::Internal(format!("policy v{version}: {e}")))?;
    Ok(ActivePolicy { version, digest: digest(text), text: text.to_string(), document, engine })
}

impl PolicyState {
    pub(crate) fn new(store: Arc<dyn warden_store::Store>) -> Result<Self, AppError> {
        let active = compile(0, warden_policy_doc::DEFAULT)?;
        Ok(Self {
            store,
            current: RwLock::new(Arc::new(active)),
            refresh: warden_store::fresh::Refresh::every(RECHECK),
        })
    }

    pub(crate) fn now(&self) -> Arc<ActivePolicy> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn set(&self, active: Arc<ActivePolicy>) {
        match self.current.write() {
            Ok(mut g) => *g = active,
            Err(poisoned) => *poisoned.into_inner() = active,
        }
    }

    /// Loads the latest stored version when it is not the one in force.
    pub(crate) async fn reload(&self) -> Result<Arc<ActivePolicy>, AppError> {
        let current = self.now();
        let Some(latest) = self.store.latest_policy().await? else { return Ok(current) };
        if latest.version == current.version {
            return Ok(current);
        }
        let active = Arc::new(compile(latest.version, &latest.document)?);
        self.set(active.clone());
        Ok(active)
    }
}

/// The policy's answer, with the rules that decided it.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub allowed: bool,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    pub explanation: String,
    pub facts: Placement,
    pub policy_version: u64,
}

pub(crate) fn explain(policy: &ActivePolicy, who: &Principal, facts: Placement) -> Explanation {
    let d = policy.engine.decide(
        who,
        Action::ModelPlace,
        &Resource::Zone(facts.zone.clone()),
        &Facts { placement: Some(facts.clone()), ..Facts::default() },
    );
    Explanation {
        allowed: d.allowed,
        explanation: d.explain(Action::ModelPlace),
        rules: d.policies,
        reasons: d.reasons,
        facts,
        policy_version: policy.version,
    }
}
