//! Authorisation for Warden: the Cedar schema, the built-in policies and decisions.
//!
//! This is the only crate that uses `cedar-policy`. It is pure: the caller supplies the
//! principal, the action, the resource and the facts (project roles) it has looked up.
//! Deny is the default: a request is allowed only when a policy permits it and no
//! policy forbids it.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod action;

use std::collections::BTreeSet;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy,
    PolicyId, PolicySet, Request, RestrictedExpression, Schema,
};
use warden_core::{Principal, ProjectId, Role, SubjectId};

pub use action::Action;

/// The schema, as shipped; also served to operators who want to write their own policies.
pub const SCHEMA: &str = include_str!("warden.cedarschema");
/// The built-in policies.
pub const POLICIES: &str = include_str!("policies.cedar");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the Cedar schema does not parse: {0}")]
    Schema(String),
    #[error("policy does not parse: {0}")]
    Parse(String),
    #[error("policy `{id}` does not validate against the schema: {detail}")]
    Validation { id: String, detail: String },
}

/// What an operation acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    Organisation,
    Project(ProjectId),
    Subject(SubjectId),
    /// A zone of the policy document, by name.
    Zone(String),
}

impl Resource {
    pub fn project(&self) -> Option<&ProjectId> {
        match self {
            Resource::Project(p) => Some(p),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Resource::Organisation => "organisation",
            Resource::Project(_) => "project",
            Resource::Subject(_) => "subject",
            Resource::Zone(_) => "zone",
        }
    }

    pub fn id(&self) -> String {
        match self {
            Resource::Organisation => "warden".to_string(),
            Resource::Project(p) => p.to_string(),
            Resource::Subject(s) => s.to_string(),
            Resource::Zone(z) => z.clone(),
        }
    }
}

/// Facts about the request that the caller looked up before asking.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The principal's roles in the resource's project, narrowed by the token scope.
    pub project_roles: BTreeSet<Role>,
    /// The role a token or grant would carry.
    pub requested_role: Option<Role>,
    /// The data class a token being minted would carry (`Some("")` for none).
    pub requested_class: Option<String>,
    /// For a credential with a data class: the classes at least as strict as its own
    /// (the policy document decides strictness); `None` for a credential without one.
    pub classes_within_credential: Option<BTreeSet<String>>,
    /// The resource is published to the whole organisation (a dataset its owners
    /// published, whose classes all allow that).
    pub resource_public: bool,
    /// For `model.place`: what the placement depends on.
    pub placement: Option<Placement>,
}

/// The facts of a placement question: a model version's classes and its artifact's
/// evidence, and the zone it would go to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    pub zone: String,
    pub classes: BTreeSet<String>,
    pub signed: bool,
    /// The intake scan's verdict: `safe` or `unsafe`.
    pub scan_verdict: String,
    pub expired: bool,
    pub permitted_zones: BTreeSet<String>,
}

/// The outcome of one authorisation question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Ids of the policies that determined the outcome (the permits that allowed, or the
    /// forbids that denied). Empty for a default deny.
    pub policies: Vec<String>,
    /// The `@reason` of each of those policies that has one, in the same order.
    pub reasons: Vec<String>,
    /// Evaluation errors (a policy that errors is skipped, so errors never allow).
    pub errors: Vec<String>,
    /// Denied, and no permit would have allowed it even without the forbids: the
    /// caller's roles do not reach the action at all.
    pub unpermitted: bool,
}

impl Decision {
    /// One sentence for a 403 body or an explain command.
    pub fn explain(&self, action: Action) -> String {
        if self.allowed {
            format!("`{}` allowed by {}", action.as_str(), quoted(&self.policies))
        } else if self.policies.is_empty() || self.unpermitted {
            let mut s = format!("no policy permits `{}` for this caller on this resource", action.as_str());
            if !self.policies.is_empty() {
                s.push_str(&format!("; it is also forbidden by {}", quoted(&self.policies)));
                if !self.reasons.is_empty() {
                    s.push_str(": ");
                    s.push_str(&self.reasons.join("; "));
                }
            }
            s
        } else {
            let mut s = format!("`{}` denied by {}", action.as_str(), quoted(&self.policies));
            if !self.reasons.is_empty() {
                s.push_str(": ");
                s.push_str(&self.reasons.join("; "));
            }
            s
        }
    }
}

fn quoted(ids: &[String]) -> String {
    ids.iter().map(|i| format!("policy `{i}`")).collect::<Vec<_>>().join(", ")
}

/// The policy engine: parsed schema and validated policies.
pub struct Engine {
    schema: Schema,
    policies: PolicySet,
    authorizer: Authorizer,
    /// Entity sets by principal, roles and resource: building one (with the schema's
    /// action entities and their transitive closure) costs more than the decision.
    entities: Memo<String, std::sync::Arc<Entities>>,
    /// For each action, only the policies whose action scope can include it (the same
    /// answers; Cedar no longer evaluates the rest on every decision).
    by_action: std::collections::HashMap<Action, PolicySet>,
    /// The same, permits only: whether a forbidden request was permitted at all.
    permits_by_action: std::collections::HashMap<Action, PolicySet>,
    /// Each policy's `@reason`, by id (reading an annotation parses its key each time).
    reasons: std::collections::HashMap<String, String>,
    /// Decisions already made by this engine. A decision is a function of its inputs
    /// (the key holds every one the entities and the context are built from) and of the
    /// policies, which an engine never changes: a new policy makes a new engine.
    decisions: Memo<DecisionKey, Decision>,
}

/// A map that empties itself once it holds a few thousand entries (`CACHED`): a bound
/// on memory without bookkeeping per entry, for values cheap to build again.
struct Memo<K, V>(std::sync::Mutex<std::collections::HashMap<K, V>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Memo<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<K, V>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &K) -> Option<V> {
        self.lock().get(key).cloned()
    }

    fn put(&self, key: K, value: V) {
        let mut map = self.lock();
        if map.len() >= CACHED {
            map.clear();
        }
        map.insert(key, value);
    }
}

/// Everything a decision depends on besides the engine's policies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DecisionKey {
    subject: SubjectId,
    org_roles: BTreeSet<Role>,
    mfa: bool,
    totp_enrolled: bool,
    narrowed: bool,
    action: Action,
    resource: Resource,
    project_roles: BTreeSet<Role>,
    requested_role: Option<Role>,
    gateway_key: bool,
    requested_class: Option<String>,
    classes_within_credential: Option<BTreeSet<String>>,
    resource_public: bool,
}

/// Most entries a `Memo` holds before it is emptied.
const CACHED: usize = 4096;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// The engine with the built-in policies.
    pub fn builtin() -> Result<Self, PolicyError> {
        Self::with_policies(POLICIES)
    }

    /// The built-in policies plus `extra` (policies compiled from the policy document).
    pub fn with_extra(extra: &str) -> Result<Self, PolicyError> {
        Self::with_policies(&format!("{POLICIES}\n{extra}"))
    }

    /// An engine with the given policy text. Every policy needs an `@id("...")`
    /// annotation and must validate against the schema.
    pub fn with_policies(text: &str) -> Result<Self, PolicyError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| PolicyError::Schema(e.to_string()))?;
        let parsed = PolicySet::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        let mut policies = PolicySet::new();
        for p in parsed.policies() {
            let id = p
                .annotation("id")
                .ok_or_else(|| PolicyError::Parse(format!("a policy has no @id annotation: {p}")))?
                .to_string();
            let renamed: Policy = p.new_id(PolicyId::new(id.clone()));
            policies.add(renamed).map_err(|e| PolicyError::Parse(format!("policy `{id}`: {e}")))?;
        }
        let validator = cedar_policy::Validator::new(schema.clone());
        let result = validator.validate(&policies, cedar_policy::ValidationMode::Strict);
        if let Some(err) = result.validation_errors().next() {
            return Err(PolicyError::Validation { id: err.policy_id().to_string(), detail: err.to_string() });
        }
        let by_action = by_action(&schema, &policies)?;
        let permits_by_action = by_action
            .iter()
            .map(|(a, set)| {
                let mut permits = PolicySet::new();
                for p in set.policies().filter(|p| p.effect() == cedar_policy::Effect::Permit) {
                    permits.add(p.clone()).map_err(|e| PolicyError::Parse(e.to_string()))?;
                }
                Ok((*a, permits))
            })
            .collect::<Result<_, PolicyError>>()?;
        let reasons = policies
            .policies()
            .filter_map(|p| p.annotation("reason").map(|r| (p.id().to_string(), r.to_string())))
            .collect();
        Ok(Self {
            schema,
            policies,
            authorizer: Authorizer::new(),
            entities: Default::default(),
            by_action,
            permits_by_action,
            reasons,
            decisions: Default::default(),
        })
    }

    /// Answers: may `principal` perform `action` on `resource`? Deny by default; any
    /// internal failure to build the request is a deny with the error recorded.
    pub fn decide(&self, principal: &Principal, action: Action, resource: &Resource, facts: &Facts) -> Decision {
        let key = facts.placement.is_none().then(|| DecisionKey {
            subject: principal.id.clone(),
            org_roles: principal.org_roles.clone(),
            mfa: principal.mfa,
            totp_enrolled: principal.totp_enrolled,
            narrowed: principal.is_narrowed(),
            action,
            resource: resource.clone(),
            project_roles: facts.project_roles.clone(),
            requested_role: facts.requested_role,
            gateway_key: is_gateway_key(principal),
            requested_class: facts.requested_class.clone(),
            classes_within_credential: facts.classes_within_credential.clone(),
            resource_public: facts.resource_public,
        });
        if let Some(d) = key.as_ref().and_then(|k| self.decisions.get(k)) {
            return d;
        }
        let decision = match self.try_decide(principal, action, resource, facts) {
            Ok(d) => d,
            Err(e) => Decision {
                allowed: false,
                policies: Vec::new(),
                reasons: Vec::new(),
                errors: vec![e],
                unpermitted: true,
            },
        };
        if let (Some(key), true) = (key, decision.errors.is_empty()) {
            self.decisions.put(key, decision.clone());
        }
        decision
    }

    /// The entities of a decision: the principal with its organisation roles, and the
    /// resource with its parents. Cached (they depend on nothing else); the cache is
    /// emptied when it grows past a few thousand sets.
    fn entities_for(
        &self,
        principal: &Principal,
        resource: &Resource,
        subject_uid: &EntityUid,
        resource_uid: &EntityUid,
    ) -> Result<std::sync::Arc<Entities>, String> {
        let roles: Vec<&str> = principal.org_roles.iter().map(|r| r.as_str()).collect();
        let key = format!("{subject_uid}|{}|{resource_uid}", roles.join(","));
        if let Some(e) = self.entities.get(&key) {
            return Ok(e);
        }
        let mut entities = Vec::new();
        let mut role_parents = std::collections::HashSet::new();
        for role in &principal.org_roles {
            let r = uid("Role", role.as_str())?;
            entities.push(Entity::new_no_attrs(r.clone(), Default::default()));
            role_parents.insert(r);
        }
        entities.push(Entity::new_no_attrs(subject_uid.clone(), role_parents));
        let org = || uid("Organisation", "warden");
        match resource {
            Resource::Organisation => entities.push(Entity::new_no_attrs(resource_uid.clone(), Default::default())),
            Resource::Project(_) | Resource::Zone(_) => {
                let o = org()?;
                entities.push(Entity::new_no_attrs(o.clone(), Default::default()));
                entities.push(Entity::new_no_attrs(resource_uid.clone(), [o].into_iter().collect()));
            }
            Resource::Subject(_) => {
                if resource_uid != subject_uid {
                    entities.push(Entity::new_no_attrs(resource_uid.clone(), Default::default()));
                }
            }
        }
        let built = std::sync::Arc::new(
            Entities::from_entities(entities, Some(&self.schema)).map_err(|e| format!("entities: {e}"))?,
        );
        self.entities.put(key, built.clone());
        Ok(built)
    }

    fn try_decide(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
        facts: &Facts,
    ) -> Result<Decision, String> {
        let subject_uid = uid("Subject", principal.id.as_str())?;
        let action_uid = uid("Action", action.as_str())?;
        let resource_uid = match resource {
            Resource::Organisation => uid("Organisation", "warden")?,
            Resource::Project(p) => uid("Project", p.as_str())?,
            Resource::Subject(s) => uid("Subject", s.as_str())?,
            Resource::Zone(z) => uid("Zone", z)?,
        };
        let entities = self.entities_for(principal, resource, &subject_uid, &resource_uid)?;
        let context = match (&facts.placement, action) {
            (Some(p), Action::ModelPlace) => {
                let mut c = serde_json_context(principal, facts);
                if let (Some(c), serde_json::Value::Object(p)) =
                    (c.as_object_mut(), serde_json::to_value(p).map_err(|e| e.to_string())?)
                {
                    c.extend(p);
                }
                Context::from_json_value(c, Some((&self.schema, &action_uid))).map_err(|e| format!("context: {e}"))?
            }
            (None, Action::ModelPlace) => return Err("a placement question needs its facts".into()),
            // The common case, built directly (no JSON to parse); the request is still
            // checked against the schema below.
            _ => typed_context(principal, facts)?,
        };
        let request = Request::new(subject_uid, action_uid, resource_uid, context, Some(&self.schema))
            .map_err(|e| format!("request: {e}"))?;
        let policies = self.by_action.get(&action).unwrap_or(&self.policies);
        let response = self.authorizer.is_authorized(&request, policies, &entities);
        let mut policies: Vec<String> = response.diagnostics().reason().map(|p| p.to_string()).collect();
        policies.sort();
        let reasons = policies.iter().filter_map(|id| self.reasons.get(id).cloned()).collect();
        let errors: Vec<String> = response.diagnostics().errors().map(|e| e.to_string()).collect();
        let allowed = response.decision() == CedarDecision::Allow;
        // Denied by forbids: would any permit have allowed it? If not, that is the
        // first reason, and the forbids come after it.
        let unpermitted = !allowed
            && (policies.is_empty() || {
                let permits = self.permits_by_action.get(&action).unwrap_or(&self.policies);
                self.authorizer.is_authorized(&request, permits, &entities).decision() != CedarDecision::Allow
            });
        Ok(Decision { allowed, policies, reasons, errors, unpermitted })
    }

    /// Names of every non-group action the schema declares (for the tidy test).
    pub fn schema_actions(&self) -> Vec<String> {
        self.schema
            .actions()
            .map(|a| a.id().unescaped().to_string())
            .filter(|a| !Action::GROUPS.contains(&a.as_str()))
            .collect()
    }
}

/// Splits `policies` by the actions their scope can match: an action matches
/// `action == A` when it is A, and `action in [G…]` when it is one of them or in one of
/// those groups (the schema's action hierarchy); unscoped policies go everywhere.
fn by_action(
    schema: &Schema,
    policies: &PolicySet,
) -> Result<std::collections::HashMap<Action, PolicySet>, PolicyError> {
    let actions = schema.action_entities().map_err(|e| PolicyError::Schema(e.to_string()))?;
    let mut out = std::collections::HashMap::new();
    for action in Action::ALL {
        let me = uid("Action", action.as_str()).map_err(PolicyError::Schema)?;
        let mut scope: std::collections::HashSet<EntityUid> =
            actions.ancestors(&me).map(|a| a.cloned().collect()).unwrap_or_default();
        scope.insert(me.clone());
        let mut set = PolicySet::new();
        for p in policies.policies() {
            let relevant = match p.action_constraint() {
                cedar_policy::ActionConstraint::Any => true,
                cedar_policy::ActionConstraint::Eq(a) => a == me,
                cedar_policy::ActionConstraint::In(groups) => groups.iter().any(|g| scope.contains(g)),
            };
            if relevant {
                set.add(p.clone()).map_err(|e| PolicyError::Parse(e.to_string()))?;
            }
        }
        out.insert(*action, set);
    }
    Ok(out)
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, String> {
    // Parsing a type name runs Cedar's parser: do it once per type, not per decision.
    static TYPES: std::sync::LazyLock<Vec<(&str, EntityTypeName)>> = std::sync::LazyLock::new(|| {
        ["Subject", "Action", "Role", "Organisation", "Project", "Zone"]
            .into_iter()
            .filter_map(|t| EntityTypeName::from_str(&format!("Warden::{t}")).ok().map(|n| (t, n)))
            .collect()
    });
    let ty = match TYPES.iter().find(|(t, _)| *t == ty) {
        Some((_, n)) => n.clone(),
        None => EntityTypeName::from_str(&format!("Warden::{ty}")).map_err(|e| e.to_string())?,
    };
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

/// The request context of every action but placement (`RequestContext` in the schema).
fn typed_context(principal: &Principal, facts: &Facts) -> Result<Context, String> {
    let roles = |set: &BTreeSet<Role>| {
        RestrictedExpression::new_set(set.iter().map(|r| RestrictedExpression::new_string(r.as_str().to_string())))
    };
    Context::from_pairs([
        ("mfa".to_string(), RestrictedExpression::new_bool(principal.mfa)),
        ("totp_enrolled".to_string(), RestrictedExpression::new_bool(principal.totp_enrolled)),
        ("org_roles".to_string(), roles(&principal.org_roles)),
        ("project_roles".to_string(), roles(&facts.project_roles)),
        (
            "requested_role".to_string(),
            RestrictedExpression::new_string(facts.requested_role.map(|r| r.as_str()).unwrap_or("").to_string()),
        ),
        ("token_scoped".to_string(), RestrictedExpression::new_bool(principal.is_narrowed())),
        ("gateway_key".to_string(), RestrictedExpression::new_bool(is_gateway_key(principal))),
        (
            "requested_class".to_string(),
            RestrictedExpression::new_string(facts.requested_class.clone().unwrap_or_default()),
        ),
        (
            "classes_within_credential".to_string(),
            RestrictedExpression::new_set(
                facts.classes_within_credential.iter().flatten().map(|c| RestrictedExpression::new_string(c.clone())),
            ),
        ),
        ("class_bound".to_string(), RestrictedExpression::new_bool(facts.classes_within_credential.is_some())),
        ("resource_public".to_string(), RestrictedExpression::new_bool(facts.resource_public)),
    ])
    .map_err(|e| format!("context: {e}"))
}

/// A gateway key is a credential with a data class: it calls the gateway and nothing else.
fn is_gateway_key(principal: &Principal) -> bool {
    principal.scope.as_ref().is_some_and(|s| s.data_class.is_some())
}

fn serde_json_context(principal: &Principal, facts: &Facts) -> serde_json::Value {
    let strs = |set: &BTreeSet<Role>| set.iter().map(|r| r.as_str().to_string()).collect::<Vec<_>>();
    serde_json::json!({
        "mfa": principal.mfa,
        "totp_enrolled": principal.totp_enrolled,
        "org_roles": strs(&principal.org_roles),
        "project_roles": strs(&facts.project_roles),
        "requested_role": facts.requested_role.map(|r| r.as_str()).unwrap_or(""),
        "token_scoped": principal.is_narrowed(),
        "gateway_key": is_gateway_key(principal),
        "requested_class": facts.requested_class.clone().unwrap_or_default(),
        "classes_within_credential": facts.classes_within_credential.iter().flatten().collect::<Vec<_>>(),
        "class_bound": facts.classes_within_credential.is_some(),
        "resource_public": facts.resource_public,
    })
}

#[cfg(test)]
mod tests;
