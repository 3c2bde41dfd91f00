//! Data classes as the gateway applies them: what a class lets an LLM call do, and
//! which classes a credential may hand on.

use std::collections::BTreeSet;

use warden_core::Principal;
use warden_llm::Provider;
use warden_policy_doc::{Redaction, RedactionThreshold};

use warden_policy_doc::Document;

/// What a data class allows an LLM call to do, as the policy document in force says
/// (`prohibit_external_llm_calls`, `regions`, `llm_redaction`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataClass {
    pub name: String,
    /// Whether providers outside the organisation may be called.
    pub external: bool,
    /// Regions external providers must be in (`None`: any).
    pub regions: Option<Vec<String>>,
    /// What happens to personal data before the request leaves.
    pub redaction: Redaction,
    /// The least confidence a finding needs to be redacted.
    pub threshold: RedactionThreshold,
    /// Payloads are kept (sealed) for this many days, when the class logs them.
    pub payload_retention_days: Option<u32>,
    /// The zone whose key seals logged payloads: the first the class allows.
    pub home_zone: Option<String>,
}

impl DataClass {
    /// The class `name` of the policy document in force.
    pub fn of(doc: &Document, name: &str) -> Option<DataClass> {
        let c = doc.data_classes.get(name)?;
        Some(DataClass {
            name: name.to_string(),
            external: !c.prohibit_external_llm_calls,
            regions: (!c.regions.is_empty()).then(|| c.regions.clone()),
            redaction: c.llm_redaction,
            threshold: c.redaction_threshold,
            payload_retention_days: c.retention_days.filter(|_| c.payload_logging),
            home_zone: c.allowed_zones.first().cloned(),
        })
    }

    /// A request may move to a class at least as strict as its key's, never a laxer one:
    /// no external calls where the key allows none, regions within the key's, and
    /// personal data treated at least as carefully.
    pub fn at_least_as_strict_as(&self, key: &DataClass) -> bool {
        let egress = match (self.external, key.external) {
            (false, _) => true,
            (true, false) => false,
            (true, true) => match (&self.regions, &key.regions) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(mine), Some(theirs)) => mine.iter().all(|r| theirs.contains(r)),
            },
        };
        let protects = self.redaction != Redaction::None || key.redaction == Redaction::None;
        // A higher threshold lets more through.
        let thorough = self.redaction == Redaction::None || self.threshold <= key.threshold;
        egress && protects && thorough
    }

    /// Why this class may not send to `p`, if it may not.
    pub fn refuses(&self, p: &Provider) -> Option<String> {
        let c = &p.config;
        if c.external && !self.external {
            return Some(format!(
                "data class `{}` prohibits external LLM calls (provider `{}` is external; rule \
                 data_classes.{}.prohibit_external_llm_calls)",
                self.name, c.name, self.name
            ));
        }
        if let Some(regions) = self.regions.as_ref().filter(|_| c.external) {
            if !regions.contains(&c.region) {
                return Some(format!(
                    "data class `{}` may be processed only in {} (provider `{}` is in `{}`; rule data_classes.{}.regions)",
                    self.name,
                    regions.join(", "),
                    c.name,
                    c.region,
                    self.name
                ));
            }
        }
        None
    }
}

/// For a credential with a data class (a gateway key), the classes of the policy in
/// force that are at least as strict as its own: the only classes a credential it mints
/// may carry. `None` for a credential without a class; an undeclared class allows none.
pub fn classes_within_credential(doc: &Document, principal: &Principal) -> Option<BTreeSet<String>> {
    let mine = principal.scope.as_ref()?.data_class.as_deref()?;
    let Some(mine) = DataClass::of(doc, mine) else { return Some(BTreeSet::new()) };
    Some(
        doc.data_classes
            .keys()
            .filter(|name| DataClass::of(doc, name).is_some_and(|c| c.at_least_as_strict_as(&mine)))
            .cloned()
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(redaction: Redaction, threshold: RedactionThreshold) -> DataClass {
        DataClass {
            name: "c".into(),
            external: true,
            regions: None,
            redaction,
            threshold,
            payload_retention_days: None,
            home_zone: None,
        }
    }

    #[test]
    fn a_key_cannot_move_to_a_class_that_redacts_less() {
        use RedactionThreshold::{High, Low, Medium};
        let key = class(Redaction::Mask, Low);
        // A higher threshold lets findings through that the key's class would mask.
        assert!(!class(Redaction::Mask, Medium).at_least_as_strict_as(&key));
        assert!(!class(Redaction::Mask, High).at_least_as_strict_as(&key));
        assert!(!class(Redaction::None, Low).at_least_as_strict_as(&key));
        assert!(class(Redaction::Mask, Low).at_least_as_strict_as(&key));
        assert!(class(Redaction::Drop, Low).at_least_as_strict_as(&key));
        // The other way round is stricter, so allowed.
        assert!(class(Redaction::Mask, Low).at_least_as_strict_as(&class(Redaction::Mask, High)));
    }
}
