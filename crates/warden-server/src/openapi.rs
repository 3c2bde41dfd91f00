//! The OpenAPI 3.1 document, generated from the handlers, and the table that gives every
//! operation its declared action (checked by tests against the document and the schema).

use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_api::Problem;
use warden_app::Action;

use crate::handlers::*;
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Warden API", description = "Control plane for AI in regulated industries."),
    components(schemas(Problem)),
    // Registered by hand (its path spans segments: `{*path}`), documented here.
    paths(audit_tile),
    tags(
        (name = "identity", description = "Users, services, groups, roles, tokens, sign-in"),
        (name = "projects", description = "Projects (data products) and their members"),
        (name = "artifacts", description = "Content-addressed blobs and model artifacts"),
        (name = "audit", description = "Evidence"),
        (name = "evidence", description = "The auditor's questions, answered with proofs that verify offline"),
    )
)]
struct ApiDoc;

/// The action each operation declares. Public operations (no authentication) map to
/// `None`.
pub const OPERATIONS: &[(&str, Option<Action>)] = &[
    ("login", None),
    ("whoami", Some(Action::Whoami)),
    ("totp_enrol", Some(Action::TotpEnrol)),
    ("totp_confirm", Some(Action::TotpConfirm)),
    ("step_up", Some(Action::SessionStepUp)),
    ("list_tokens", Some(Action::TokenList)),
    ("create_token", Some(Action::TokenCreate)),
    ("revoke_token", Some(Action::TokenRevoke)),
    ("list_projects", Some(Action::ProjectList)),
    ("create_project", Some(Action::ProjectCreate)),
    ("get_project", Some(Action::ProjectGet)),
    ("list_members", Some(Action::ProjectMemberList)),
    ("add_member", Some(Action::ProjectMemberAdd)),
    ("remove_member", Some(Action::ProjectMemberRemove)),
    ("list_users", Some(Action::UserList)),
    ("create_user", Some(Action::UserCreate)),
    ("get_user", Some(Action::UserGet)),
    ("disable_user", Some(Action::UserDisable)),
    ("enable_user", Some(Action::UserDisable)),
    ("unlock_user", Some(Action::UserUnlock)),
    ("create_service", Some(Action::ServiceCreate)),
    ("create_service_token", Some(Action::ServiceTokenCreate)),
    ("grant_role", Some(Action::RoleGrant)),
    ("revoke_role", Some(Action::RoleRevoke)),
    ("lookup_name", Some(Action::DirectoryLookup)),
    ("list_groups", Some(Action::GroupList)),
    ("create_group", Some(Action::GroupCreate)),
    ("get_group", Some(Action::GroupGet)),
    ("add_group_member", Some(Action::GroupMemberAdd)),
    ("remove_group_member", Some(Action::GroupMemberRemove)),
    ("upload_blob", Some(Action::BlobUpload)),
    ("download_blob", Some(Action::BlobRead)),
    ("create_upload", Some(Action::BlobUpload)),
    ("get_upload", Some(Action::BlobUpload)),
    ("append_upload", Some(Action::BlobUpload)),
    ("complete_upload", Some(Action::BlobUpload)),
    ("abort_upload", Some(Action::BlobUpload)),
    ("create_artifact", Some(Action::ArtifactCreate)),
    ("get_artifact", Some(Action::ArtifactRead)),
    ("create_model_version", Some(Action::ModelVersionCreate)),
    ("list_models", Some(Action::ModelRead)),
    ("get_model", Some(Action::ModelRead)),
    ("get_model_version", Some(Action::ModelRead)),
    ("set_model_alias", Some(Action::ModelAliasSet)),
    ("delete_model_alias", Some(Action::ModelAliasSet)),
    ("set_model_tag", Some(Action::ModelTagSet)),
    ("delete_model_tag", Some(Action::ModelTagSet)),
    ("create_signer", Some(Action::SignerCreate)),
    ("list_signers", Some(Action::SignerList)),
    ("revoke_signer", Some(Action::SignerRevoke)),
    ("audit_public_key", None),
    ("audit_checkpoint", Some(Action::AuditCheckpoint)),
    ("audit_cosigned_checkpoint", Some(Action::AuditCheckpoint)),
    ("audit_checkpoints", Some(Action::AuditRead)),
    ("audit_entry", Some(Action::AuditRead)),
    ("audit_entries", Some(Action::AuditRead)),
    ("audit_inclusion", Some(Action::AuditRead)),
    ("audit_consistency", Some(Action::AuditRead)),
    ("audit_tile", Some(Action::AuditRead)),
    ("audit_events", Some(Action::AuditRead)),
    ("chat_completions", Some(Action::GatewayInvoke)),
    ("embeddings", Some(Action::GatewayInvoke)),
    ("models", Some(Action::GatewayInvoke)),
    ("list_switches", Some(Action::GatewaySwitchList)),
    ("set_switch", Some(Action::GatewaySwitch)),
    ("clear_switch", Some(Action::GatewaySwitch)),
    ("list_providers", Some(Action::GatewayProviderList)),
    ("put_provider", Some(Action::GatewayProviderSet)),
    ("delete_provider", Some(Action::GatewayProviderSet)),
    ("list_budgets", Some(Action::GatewayBudgetRead)),
    ("set_budget", Some(Action::GatewayBudgetSet)),
    ("delete_budget", Some(Action::GatewayBudgetSet)),
    ("get_policy", Some(Action::PolicyRead)),
    ("apply_policy", Some(Action::PolicyApply)),
    ("list_policy_versions", Some(Action::PolicyRead)),
    ("get_policy_version", Some(Action::PolicyRead)),
    ("rollback_policy", Some(Action::PolicyRollback)),
    ("explain_placement", Some(Action::PolicyExplain)),
    ("add_evaluation", Some(Action::ModelEvaluationAdd)),
    ("list_evaluations", Some(Action::ModelRead)),
    ("create_release", Some(Action::ReleaseCreate)),
    ("list_releases", Some(Action::ReleaseRead)),
    ("get_release", Some(Action::ReleaseRead)),
    ("approve_release", Some(Action::ReleaseApprove)),
    ("reject_release", Some(Action::ReleaseApprove)),
    ("withdraw_approval", Some(Action::ReleaseApprove)),
    ("deploy_release", Some(Action::ReleaseDeploy)),
    ("review_release", Some(Action::ReleaseReview)),
    ("rollback_release", Some(Action::ReleaseRollback)),
    ("break_glass", Some(Action::ReleaseBreakGlass)),
    ("active_releases", Some(Action::ReleaseRead)),
    ("retention_status", Some(Action::DeletionRead)),
    ("place_quarantine", Some(Action::QuarantinePlace)),
    ("lift_quarantine", Some(Action::QuarantineLift)),
    ("list_quarantines", Some(Action::QuarantineList)),
    ("evidence_data_access", Some(Action::EvidenceRead)),
    ("evidence_locations", Some(Action::EvidenceRead)),
    ("evidence_access", Some(Action::EvidenceRead)),
    ("evidence_active", Some(Action::EvidenceRead)),
    ("evidence_change", Some(Action::EvidenceRead)),
    ("evidence_log", Some(Action::EvidenceRead)),
    ("evidence_data_handling", Some(Action::EvidenceRead)),
    ("create_dataset", Some(Action::DatasetCreate)),
    ("update_dataset", Some(Action::DatasetUpdate)),
    ("patch_dataset", Some(Action::DatasetUpdate)),
    ("delete_dataset", Some(Action::DatasetDelete)),
    ("list_datasets", Some(Action::DatasetList)),
    ("get_dataset", Some(Action::DatasetRead)),
    ("post_lineage", Some(Action::LineageWrite)),
    ("get_lineage", Some(Action::LineageRead)),
    ("version_classes", Some(Action::ModelRead)),
    ("findings", Some(Action::FindingsRead)),
    ("request_transfer", Some(Action::TransferRequest)),
    ("list_transfers", Some(Action::TransferRead)),
    ("approve_transfer", Some(Action::TransferApprove)),
    ("reject_transfer", Some(Action::TransferApprove)),
    ("request_deletion", Some(Action::DeletionRequest)),
    ("get_deletion", Some(Action::DeletionRead)),
    ("deletion_report", Some(Action::DeletionRead)),
    ("close_deletion_task", Some(Action::DeletionClose)),
    ("read_payload_log", Some(Action::PayloadRead)),
    ("run_retention", Some(Action::RetentionRun)),
    ("propose_classes", Some(Action::DatasetPropose)),
    ("list_proposals", Some(Action::DatasetRead)),
    ("accept_proposal", Some(Action::DatasetDecide)),
    ("reject_proposal", Some(Action::DatasetDecide)),
];

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(whoami))
        .routes(routes!(totp_enrol))
        .routes(routes!(totp_confirm))
        .routes(routes!(step_up))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(unlock_user))
        .routes(routes!(create_service))
        .routes(routes!(create_service_token))
        .routes(routes!(grant_role))
        .routes(routes!(revoke_role))
        .routes(routes!(lookup_name))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group))
        .routes(routes!(add_group_member, remove_group_member))
        .routes(routes!(upload_blob, download_blob))
        .routes(routes!(create_upload))
        .routes(routes!(get_upload, append_upload, complete_upload, abort_upload))
        .routes(routes!(create_artifact))
        .routes(routes!(get_artifact))
        .routes(routes!(create_model_version))
        .routes(routes!(list_models))
        .routes(routes!(get_model))
        .routes(routes!(get_model_version))
        .routes(routes!(crate::gateway::chat_completions))
        .routes(routes!(crate::gateway::embeddings))
        .routes(routes!(crate::gateway::models))
        .routes(routes!(crate::gateway::list_switches))
        .routes(routes!(crate::gateway::set_switch, crate::gateway::clear_switch))
        .routes(routes!(crate::gateway::list_providers))
        .routes(routes!(crate::gateway::put_provider, crate::gateway::delete_provider))
        .routes(routes!(crate::gateway::list_budgets))
        .routes(routes!(crate::gateway::set_budget, crate::gateway::delete_budget))
        .routes(routes!(set_model_alias, delete_model_alias))
        .routes(routes!(set_model_tag, delete_model_tag))
        .routes(routes!(create_signer, list_signers))
        .routes(routes!(revoke_signer))
        .routes(routes!(audit_public_key))
        .routes(routes!(audit_checkpoint))
        .routes(routes!(audit_cosigned_checkpoint))
        .routes(routes!(audit_checkpoints))
        .routes(routes!(audit_entry))
        .routes(routes!(audit_entries))
        .routes(routes!(audit_inclusion))
        .routes(routes!(audit_consistency))
        .routes(routes!(audit_events))
        .routes(routes!(crate::releases::get_policy, crate::releases::apply_policy))
        .routes(routes!(crate::releases::list_policy_versions))
        .routes(routes!(crate::releases::get_policy_version))
        .routes(routes!(crate::releases::rollback_policy))
        .routes(routes!(crate::releases::explain_placement))
        .routes(routes!(crate::releases::add_evaluation, crate::releases::list_evaluations))
        .routes(routes!(crate::releases::list_releases, crate::releases::create_release))
        .routes(routes!(crate::releases::get_release))
        .routes(routes!(crate::releases::approve_release))
        .routes(routes!(crate::releases::reject_release))
        .routes(routes!(crate::releases::withdraw_approval))
        .routes(routes!(crate::releases::deploy_release))
        .routes(routes!(crate::releases::review_release))
        .routes(routes!(crate::releases::rollback_release))
        .routes(routes!(crate::releases::break_glass))
        .routes(routes!(crate::releases::active_releases))
        .routes(routes!(crate::catalog::place_quarantine, crate::catalog::list_quarantines))
        .routes(routes!(crate::catalog::lift_quarantine))
        .routes(routes!(crate::evidence::evidence_data_access))
        .routes(routes!(crate::evidence::evidence_locations))
        .routes(routes!(crate::evidence::evidence_access))
        .routes(routes!(crate::evidence::evidence_active))
        .routes(routes!(crate::evidence::evidence_change))
        .routes(routes!(crate::evidence::evidence_log))
        .routes(routes!(crate::evidence::evidence_data_handling))
        .routes(routes!(crate::catalog::create_dataset))
        .routes(routes!(crate::catalog::update_dataset, crate::catalog::patch_dataset, crate::catalog::delete_dataset))
        .routes(routes!(crate::catalog::list_datasets))
        .routes(routes!(crate::catalog::get_dataset))
        .routes(routes!(crate::catalog::post_lineage, crate::catalog::get_lineage))
        .routes(routes!(crate::catalog::version_classes))
        .routes(routes!(crate::catalog::findings))
        .routes(routes!(crate::catalog::request_transfer, crate::catalog::list_transfers))
        .routes(routes!(crate::catalog::approve_transfer))
        .routes(routes!(crate::catalog::reject_transfer))
        .routes(routes!(crate::catalog::request_deletion))
        .routes(routes!(crate::catalog::get_deletion))
        .routes(routes!(crate::catalog::deletion_report))
        .routes(routes!(crate::catalog::close_deletion_task))
        .routes(routes!(crate::catalog::read_payload_log))
        .routes(routes!(crate::catalog::run_retention))
        .routes(routes!(crate::catalog::retention_status))
        .routes(routes!(crate::catalog::propose_classes, crate::catalog::list_proposals))
        .routes(routes!(crate::catalog::accept_proposal))
        .routes(routes!(crate::catalog::reject_proposal))
}

/// Adds the bearer scheme, requires it on every operation not marked public, and
/// records each operation's action as `x-warden-action`.
pub fn finish(mut doc: OpenApiDoc) -> OpenApiDoc {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A Warden API token, or an OIDC ID/access token"))
                .build(),
        ),
    );
    let actions: BTreeMap<&str, Option<Action>> = OPERATIONS.iter().copied().collect();
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            match actions.get(id.as_str()) {
                Some(Some(action)) => {
                    op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                    let ext = op.extensions.get_or_insert_with(Default::default);
                    ext.insert("x-warden-action".to_string(), serde_json::json!(action.as_str()));
                }
                Some(None) => op.security = Some(vec![SecurityRequirement::default()]),
                // Unknown operations get no action; a test fails on them.
                None => {}
            }
        }
    }
    doc
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> Vec<&mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The document as served.
pub fn document() -> OpenApiDoc {
    let (_, doc) = api_router().split_for_parts();
    finish(doc)
}
