//! The behaviour every engine must show. Each engine's tests call [`run`] on a fresh,
//! empty store; a failure panics with the name of the broken rule.

use warden_core::{PrincipalKind, SubjectId, Timestamp, TokenId};

use crate::*;

mod audit;
mod catalog;
mod gateway;
mod identity;
mod registry;
mod release;

pub(super) const T0: Timestamp = Timestamp(1_700_000_000_000);

pub(super) fn human(name: &str) -> SubjectRecord {
    SubjectRecord::new(SubjectId::generate_user(T0.0), PrincipalKind::Human, name, T0)
}

pub(super) fn token_for(subject: &SubjectId, hash: &str) -> TokenRecord {
    TokenRecord {
        id: TokenId::generate(T0.0),
        subject: subject.clone(),
        name: "t".into(),
        hash: hash.into(),
        project: None,
        role: None,
        mfa: false,
        created_at: T0,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        data_class: None,
        zone: None,
        parent: None,
    }
}

/// Runs every check against an empty store.
pub async fn run(store: &dyn Store) {
    store.ping().await.expect("ping answers");
    identity::bootstrap_once(store).await;
    identity::subjects(store).await;
    identity::lockout(store).await;
    identity::totp(store).await;
    identity::tokens(store).await;
    identity::projects_and_isolation(store).await;
    identity::groups_and_roles(store).await;
    audit::audit(store).await;
    audit::audit_tiles(store).await;
    registry::blobs(store).await;
    registry::uploads(store).await;
    gateway::switches(store).await;
    gateway::providers(store).await;
    gateway::counters(store).await;
    registry::registry(store).await;
    registry::signers(store).await;
    release::policy_versions(store).await;
    release::releases(store).await;
    catalog::catalog_and_lineage(store).await;
    catalog::quarantines(store).await;
}
