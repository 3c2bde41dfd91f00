//! The closed set of actions. Every API operation declares exactly one of these; the
//! Cedar schema declares the same set (a test keeps the two equal).

macro_rules! actions {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// One action per API operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];
            /// The Cedar action id.
            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }
            pub fn parse(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    ProjectList => "project.list",
    Whoami => "whoami",
    TotpEnrol => "totp.enrol",
    TotpConfirm => "totp.confirm",
    SessionStepUp => "session.step-up",
    TokenList => "token.list",
    TokenRevoke => "token.revoke",
    TokenCreate => "token.create",
    ProjectListAll => "project.list-all",
    UserList => "user.list",
    DirectoryLookup => "directory.lookup",
    UserGet => "user.get",
    GroupList => "group.list",
    GroupGet => "group.get",
    AuditRead => "audit.read",
    AuditCheckpoint => "audit.checkpoint",
    EvidenceRead => "evidence.read",
    ProjectCreate => "project.create",
    UserCreate => "user.create",
    UserDisable => "user.disable",
    UserUnlock => "user.unlock",
    RoleGrant => "role.grant",
    RoleRevoke => "role.revoke",
    GroupCreate => "group.create",
    GroupMemberAdd => "group.member.add",
    GroupMemberRemove => "group.member.remove",
    ServiceCreate => "service.create",
    ProjectGet => "project.get",
    ProjectMemberList => "project.member.list",
    ProjectMemberAdd => "project.member.add",
    ProjectMemberRemove => "project.member.remove",
    ServiceTokenCreate => "service.token.create",
    BlobUpload => "blob.upload",
    BlobRead => "blob.read",
    ArtifactCreate => "artifact.create",
    ArtifactRead => "artifact.read",
    ModelVersionCreate => "model.version.create",
    ModelRead => "model.read",
    ModelAliasSet => "model.alias.set",
    ModelTagSet => "model.tag.set",
    GatewayInvoke => "gateway.invoke",
    GatewaySwitch => "gateway.switch",
    GatewaySwitchList => "gateway.switch.list",
    GatewayProviderSet => "gateway.provider.set",
    GatewayProviderList => "gateway.provider.list",
    GatewayBudgetSet => "gateway.budget.set",
    GatewayBudgetRead => "gateway.budget.read",
    SignerCreate => "signer.create",
    SignerRevoke => "signer.revoke",
    SignerList => "signer.list",
    ModelPlace => "model.place",
    ModelEvaluationAdd => "model.evaluation.add",
    PolicyRead => "policy.read",
    PolicyApply => "policy.apply",
    PolicyRollback => "policy.rollback",
    PolicyExplain => "policy.explain",
    ReleaseCreate => "release.create",
    ReleaseRead => "release.read",
    ReleaseApprove => "release.approve",
    ReleaseDeploy => "release.deploy",
    ReleaseRollback => "release.rollback",
    ReleaseBreakGlass => "release.break-glass",
    ReleaseReview => "release.review",
    DatasetCreate => "dataset.create",
    DatasetUpdate => "dataset.update",
    DatasetRead => "dataset.read",
    DatasetList => "dataset.list",
    LineageWrite => "lineage.write",
    LineageRead => "lineage.read",
    TransferRequest => "transfer.request",
    TransferApprove => "transfer.approve",
    TransferRead => "transfer.read",
    FindingsRead => "findings.read",
    DeletionRequest => "deletion.request",
    DeletionRead => "deletion.read",
    DeletionClose => "deletion.close",
    PayloadRead => "payload.read",
    RetentionRun => "retention.run",
    DatasetPropose => "dataset.propose",
    DatasetDecide => "dataset.decide",
    DatasetDelete => "dataset.delete",
    QuarantinePlace => "quarantine.place",
    QuarantineLift => "quarantine.lift",
    QuarantineList => "quarantine.list",
}

impl Action {
    /// Reads that are evidence themselves and always recorded: the audit ledger, and
    /// pulls of stored content.
    pub fn is_sensitive_read(self) -> bool {
        matches!(self, Action::AuditRead | Action::EvidenceRead | Action::BlobRead | Action::PayloadRead)
    }

    /// Action groups in the schema (not operations themselves).
    pub const GROUPS: &'static [&'static str] = &[
        "authenticated",
        "self-service",
        "read",
        "privileged",
        "project-read",
        "project-manage",
        "project-write",
        "release-approval",
    ];

    /// Whether the action changes state (such decisions are always recorded, allow or deny).
    pub fn is_mutation(self) -> bool {
        !matches!(
            self,
            Action::ProjectList
                | Action::Whoami
                | Action::TokenList
                | Action::ProjectListAll
                | Action::UserList
                | Action::DirectoryLookup
                | Action::UserGet
                | Action::GroupList
                | Action::GroupGet
                | Action::AuditRead
                | Action::AuditCheckpoint
                | Action::EvidenceRead
                | Action::QuarantineList
                | Action::ProjectGet
                | Action::ProjectMemberList
                | Action::BlobRead
                | Action::ArtifactRead
                | Action::ModelRead
                | Action::SignerList
                // Gateway calls change nothing; each is recorded by the gateway itself
                // with its outcome (answered, refused by a class rule, failed upstream).
                | Action::GatewayInvoke
                | Action::GatewaySwitchList
                | Action::GatewayProviderList
                | Action::GatewayBudgetRead
                // Reads of the policy, releases, the catalog and lineage; placement
                // questions; payload reads (recorded as sensitive reads instead).
                | Action::PolicyRead
                | Action::PolicyExplain
                | Action::ModelPlace
                | Action::ReleaseRead
                | Action::DatasetRead
                | Action::DatasetList
                | Action::LineageRead
                | Action::TransferRead
                | Action::FindingsRead
                | Action::DeletionRead
                | Action::PayloadRead
        )
    }
}
