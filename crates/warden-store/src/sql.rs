//! The SQL both engines share. PostgreSQL and SQLite (through sqlx) both take `$N`
//! placeholders, `RETURNING`, and `CAST(... AS ...)`, so one text serves both; the
//! engine crates supply the pool, the migrations and the connection settings.
//!
//! The macro expands inside an engine crate, which must depend on `sqlx`, `async-trait`,
//! `serde_json`, `warden-core` and `warden-store`.

/// Implements [`crate::Store`] for `$store` (a struct with `pool` and `writer` fields of
/// type `sqlx::Pool<$db>`, write transactions going to `writer`, and an `ENGINE: &str`
/// associated const) over database `$db`.
#[macro_export]
macro_rules! sql_store_impl {
    ($store:ty, $db:ty) => {
        mod shared_sql {
            use std::collections::BTreeSet;
            use std::str::FromStr;

            use sqlx::Row as _;
            use warden_core::{UploadId, ReleaseId, DatasetId, TransferId, DeletionId, ArtifactId, ModelId, SignerId, GroupId, PrincipalKind, ProjectId, Role, SubjectId, Timestamp, TokenId};
            use warden_store::{
                ArtifactRecord, AuditEntry, AuditFilter, AuditLeaf, CheckpointRecord, GroupRecord, ModelRecord,
                ModelVersionRecord, ModelAliasRecord, ModelTagRecord, VersionLineage, SignerRecord, UploadRecord, UploadPartRecord, SwitchRecord, ProviderRecord, MemberRef, MembershipRecord, Page, ProjectRecord,
                Result, RoleGrantRecord, StoreError, SubjectRecord, TokenRecord, PolicyVersionRecord, EvaluationRecord,
                ReleaseRecord, ApprovalRecord, Deployment, DeploymentRecord, DatasetRecord, LineageRunRecord, LineageWrite,
                TransferRecord, DeletionRequestRecord, DeletionTaskRecord, PayloadLogRecord, ProposalRecord,
            };

            type Row = <$db as sqlx::Database>::Row;

            /// Rows in the next audit INSERT: the largest power of two up to 256 that
            /// fits what is left.
            fn audit_chunk(left: usize) -> usize {
                1 << (usize::BITS - 1 - left.min(256).leading_zeros())
            }

            pub(crate) fn map_err(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
                move |e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.to_string()),
                    sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                        StoreError::Missing(format!("a record referenced by {what}"))
                    }
                    sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
                    sqlx::Error::Tls(e) => StoreError::Unavailable(e.to_string()),
                    sqlx::Error::PoolTimedOut => StoreError::Unavailable("timed out waiting for a connection".into()),
                    sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".into()),
                    sqlx::Error::WorkerCrashed => StoreError::Unavailable("the database worker stopped".into()),
                    other => StoreError::Internal(other.to_string()),
                }
            }

            fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
                StoreError::Internal(format!("corrupt {what} row: {e}"))
            }

            fn ts(v: Option<i64>) -> Option<Timestamp> {
                v.map(Timestamp)
            }

            fn kind_str(k: PrincipalKind) -> &'static str {
                k.as_str()
            }

            const SUBJECT_COLS: &str = "id, kind, name, display_name, email, password_hash, totp_secret, totp_enrolled, \
                 totp_last_step, failed_attempts, locked_until, disabled, oidc_issuer, oidc_subject, created_at";

            fn subject(row: &Row) -> Result<SubjectRecord> {
                let g = |e: sqlx::Error| bad("subject", e);
                let id: String = row.try_get("id").map_err(g)?;
                let kind: String = row.try_get("kind").map_err(g)?;
                Ok(SubjectRecord {
                    id: SubjectId::parse(&id).map_err(|e| bad("subject", e))?,
                    kind: if kind == "service" { PrincipalKind::Service } else { PrincipalKind::Human },
                    name: row.try_get("name").map_err(g)?,
                    display_name: row.try_get("display_name").map_err(g)?,
                    email: row.try_get("email").map_err(g)?,
                    password_hash: row.try_get("password_hash").map_err(g)?,
                    totp_secret: row.try_get("totp_secret").map_err(g)?,
                    totp_enrolled: row.try_get("totp_enrolled").map_err(g)?,
                    totp_last_step: row.try_get("totp_last_step").map_err(g)?,
                    failed_attempts: row.try_get("failed_attempts").map_err(g)?,
                    locked_until: ts(row.try_get("locked_until").map_err(g)?),
                    disabled: row.try_get("disabled").map_err(g)?,
                    oidc_issuer: row.try_get("oidc_issuer").map_err(g)?,
                    oidc_subject: row.try_get("oidc_subject").map_err(g)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            const TOKEN_COLS: &str =
                "id, subject_id, name, hash, project_id, role, mfa, created_at, expires_at, revoked_at, last_used_at, data_class, zone, parent_id";

            fn token(row: &Row) -> Result<TokenRecord> {
                let g = |e: sqlx::Error| bad("token", e);
                let id: String = row.try_get("id").map_err(g)?;
                let subject: String = row.try_get("subject_id").map_err(g)?;
                let project: Option<String> = row.try_get("project_id").map_err(g)?;
                let role: Option<String> = row.try_get("role").map_err(g)?;
                let parent: Option<String> = row.try_get("parent_id").map_err(g)?;
                Ok(TokenRecord {
                    id: TokenId::parse(&id).map_err(|e| bad("token", e))?,
                    subject: SubjectId::parse(&subject).map_err(|e| bad("token", e))?,
                    name: row.try_get("name").map_err(g)?,
                    hash: row.try_get("hash").map_err(g)?,
                    project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad("token", e))?,
                    role: role.map(|r| Role::from_str(&r)).transpose().map_err(|e| bad("token", e))?,
                    mfa: row.try_get("mfa").map_err(g)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                    expires_at: ts(row.try_get("expires_at").map_err(g)?),
                    revoked_at: ts(row.try_get("revoked_at").map_err(g)?),
                    last_used_at: ts(row.try_get("last_used_at").map_err(g)?),
                    data_class: row.try_get("data_class").map_err(g)?,
                    zone: row.try_get("zone").map_err(g)?,
                    parent: parent.map(|p| TokenId::parse(&p)).transpose().map_err(|e| bad("token", e))?,
                })
            }

            const PROJECT_COLS: &str = "id, name, description, cost_centre, created_at, created_by";

            fn project(row: &Row) -> Result<ProjectRecord> {
                let g = |e: sqlx::Error| bad("project", e);
                let id: String = row.try_get("id").map_err(g)?;
                let by: String = row.try_get("created_by").map_err(g)?;
                Ok(ProjectRecord {
                    id: ProjectId::parse(&id).map_err(|e| bad("project", e))?,
                    name: row.try_get("name").map_err(g)?,
                    description: row.try_get("description").map_err(g)?,
                    cost_centre: row.try_get("cost_centre").map_err(g)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                    created_by: SubjectId::parse(&by).map_err(|e| bad("project", e))?,
                })
            }

            fn group(row: &Row) -> Result<GroupRecord> {
                let g = |e: sqlx::Error| bad("group", e);
                let id: String = row.try_get("id").map_err(g)?;
                Ok(GroupRecord {
                    id: GroupId::parse(&id).map_err(|e| bad("group", e))?,
                    name: row.try_get("name").map_err(g)?,
                    description: row.try_get("description").map_err(g)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            fn member_ref(s: &str) -> Result<MemberRef> {
                MemberRef::parse(s).ok_or_else(|| bad("membership", format!("member id `{s}`")))
            }

            fn role(s: &str) -> Result<Role> {
                Role::from_str(s).map_err(|e| bad("role", e))
            }

            fn membership(row: &Row) -> Result<MembershipRecord> {
                let g = |e: sqlx::Error| bad("membership", e);
                let project: String = row.try_get("project_id").map_err(g)?;
                let member: String = row.try_get("member_id").map_err(g)?;
                let r: String = row.try_get("role").map_err(g)?;
                let by: String = row.try_get("added_by").map_err(g)?;
                Ok(MembershipRecord {
                    project: ProjectId::parse(&project).map_err(|e| bad("membership", e))?,
                    member: member_ref(&member)?,
                    role: role(&r)?,
                    added_at: Timestamp(row.try_get("added_at").map_err(g)?),
                    added_by: SubjectId::parse(&by).map_err(|e| bad("membership", e))?,
                })
            }

            fn grant(row: &Row) -> Result<RoleGrantRecord> {
                let g = |e: sqlx::Error| bad("role grant", e);
                let member: String = row.try_get("member_id").map_err(g)?;
                let r: String = row.try_get("role").map_err(g)?;
                let by: Option<String> = row.try_get("granted_by").map_err(g)?;
                Ok(RoleGrantRecord {
                    member: member_ref(&member)?,
                    role: role(&r)?,
                    granted_at: Timestamp(row.try_get("granted_at").map_err(g)?),
                    granted_by: by.map(|b| SubjectId::parse(&b)).transpose().map_err(|e| bad("role grant", e))?,
                })
            }

            const AUDIT_COLS: &str =
                "idx, time, category, action, actor, resource, outcome, project_id, request_id, event, leaf_hash";

            const AUDIT_COLS_L: &str = "l.idx, l.time, l.category, l.action, l.actor, l.resource, l.outcome, \
                l.project_id, l.request_id, l.event, l.leaf_hash";

            /// Search-index terms: prefix and the audit_log column it indexes, as
            /// `AuditLeaf::terms` makes them (the suite checks the two agree).
            const AUDIT_TERMS: [(&str, &str); 5] = [
                ("actor:", "actor"),
                ("resource:", "resource"),
                ("project:", "project_id"),
                ("action:", "action"),
                ("outcome:", "outcome"),
            ];

            /// Entries per search-index block (`warden_store::AUDIT_BLOCK`).
            const AUDIT_BLOCK: i64 = warden_store::AUDIT_BLOCK as i64;

            /// Locks the audit search index's head row (serialising indexers across
            /// replicas) and returns it: entries `[0, head)` are indexed.
            async fn lock_index_head(tx: &mut sqlx::Transaction<'static, $db>) -> Result<i64> {
                let row = sqlx::query("UPDATE audit_index_head SET size = size WHERE id = 1 RETURNING size")
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(map_err("audit index"))?;
                row.try_get("size").map_err(|e| bad("audit index", e))
            }

            /// Moves the index head to `to` and commits what was indexed with it.
            async fn move_index_head(mut tx: sqlx::Transaction<'static, $db>, to: i64) -> Result<()> {
                sqlx::query("UPDATE audit_index_head SET size = $1 WHERE id = 1")
                    .bind(to)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("audit index"))?;
                tx.commit().await.map_err(map_err("audit index"))
            }

            /// Runs of consecutive numbers in ascending `blocks`, as inclusive (first, last).
            fn block_runs(blocks: &[i64]) -> Vec<(i64, i64)> {
                let mut runs: Vec<(i64, i64)> = Vec::new();
                for &b in blocks {
                    match runs.last_mut() {
                        Some(run) if run.1 + 1 == b => run.1 = b,
                        _ => runs.push((b, b)),
                    }
                }
                runs
            }

            /// The filter's conditions on audit_log `l`; `bind_filter` binds $2..$10.
            const AUDIT_WHERE: &str = "(CAST($2 AS TEXT) IS NULL OR l.category = $2) \
                AND (CAST($3 AS TEXT) IS NULL OR l.action = $3) \
                AND (CAST($4 AS TEXT) IS NULL OR l.actor = $4) \
                AND (CAST($5 AS TEXT) IS NULL OR l.resource = $5) \
                AND (CAST($6 AS TEXT) IS NULL OR l.outcome = $6) \
                AND (CAST($7 AS TEXT) IS NULL OR l.project_id = $7) \
                AND (CAST($8 AS BIGINT) IS NULL OR l.time >= $8) \
                AND (CAST($9 AS BIGINT) IS NULL OR l.time < $9)";

            fn bind_filter<'q>(
                q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                after: i64,
                f: &'q AuditFilter,
                limit: i64,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
                q.bind(after)
                    .bind(&f.category)
                    .bind(&f.action)
                    .bind(&f.actor)
                    .bind(&f.resource)
                    .bind(&f.outcome)
                    .bind(&f.project)
                    .bind(f.since.map(|t| t.0))
                    .bind(f.until.map(|t| t.0))
                    .bind(limit)
            }

            fn audit_entry(row: &Row) -> Result<AuditEntry> {
                let g = |e: sqlx::Error| bad("audit", e);
                let idx: i64 = row.try_get("idx").map_err(g)?;
                Ok(AuditEntry {
                    index: u64::try_from(idx).map_err(|e| bad("audit", e))?,
                    leaf: AuditLeaf {
                        time: Timestamp(row.try_get("time").map_err(g)?),
                        category: row.try_get("category").map_err(g)?,
                        action: row.try_get("action").map_err(g)?,
                        actor: row.try_get("actor").map_err(g)?,
                        resource: row.try_get("resource").map_err(g)?,
                        outcome: row.try_get("outcome").map_err(g)?,
                        project: row.try_get("project_id").map_err(g)?,
                        request_id: row.try_get("request_id").map_err(g)?,
                        event: row.try_get("event").map_err(g)?,
                        leaf_hash: row.try_get("leaf_hash").map_err(g)?,
                    },
                })
            }

            fn checkpoint(row: &Row) -> Result<CheckpointRecord> {
                let g = |e: sqlx::Error| bad("checkpoint", e);
                let size: i64 = row.try_get("tree_size").map_err(g)?;
                Ok(CheckpointRecord {
                    tree_size: u64::try_from(size).map_err(|e| bad("checkpoint", e))?,
                    note: row.try_get("note").map_err(g)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            const ARTIFACT_COLS: &str = "id, project_id, kind, name, manifest, manifest_digest, total_size, verdict, \
                 evidence, expires_at, created_by, created_at";

            fn artifact(row: &Row) -> Result<ArtifactRecord> {
                let g = |e: sqlx::Error| bad("artifact", e);
                let id: String = row.try_get("id").map_err(g)?;
                let project: String = row.try_get("project_id").map_err(g)?;
                let by: String = row.try_get("created_by").map_err(g)?;
                let size: i64 = row.try_get("total_size").map_err(g)?;
                let evidence: String = row.try_get("evidence").map_err(g)?;
                Ok(ArtifactRecord {
                    id: ArtifactId::parse(&id).map_err(|e| bad("artifact", e))?,
                    project: ProjectId::parse(&project).map_err(|e| bad("artifact", e))?,
                    kind: row.try_get("kind").map_err(g)?,
                    name: row.try_get("name").map_err(g)?,
                    manifest: row.try_get("manifest").map_err(g)?,
                    manifest_digest: row.try_get("manifest_digest").map_err(g)?,
                    total_size: u64::try_from(size).map_err(|e| bad("artifact", e))?,
                    verdict: row.try_get("verdict").map_err(g)?,
                    evidence: serde_json::from_str(&evidence).map_err(|e| bad("artifact", e))?,
                    expires_at: ts(row.try_get("expires_at").map_err(g)?),
                    created_by: SubjectId::parse(&by).map_err(|e| bad("artifact", e))?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            fn model(row: &Row) -> Result<ModelRecord> {
                let g = |e: sqlx::Error| bad("model", e);
                let id: String = row.try_get("id").map_err(g)?;
                let project: String = row.try_get("project_id").map_err(g)?;
                let by: String = row.try_get("created_by").map_err(g)?;
                Ok(ModelRecord {
                    id: ModelId::parse(&id).map_err(|e| bad("model", e))?,
                    project: ProjectId::parse(&project).map_err(|e| bad("model", e))?,
                    name: row.try_get("name").map_err(g)?,
                    created_by: SubjectId::parse(&by).map_err(|e| bad("model", e))?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            const VERSION_COLS: &str = "model_id, version, artifact_id, lineage, created_by, created_at";

            fn model_version(row: &Row) -> Result<ModelVersionRecord> {
                let g = |e: sqlx::Error| bad("model version", e);
                let model: String = row.try_get("model_id").map_err(g)?;
                let artifact: String = row.try_get("artifact_id").map_err(g)?;
                let by: String = row.try_get("created_by").map_err(g)?;
                let version: i64 = row.try_get("version").map_err(g)?;
                Ok(ModelVersionRecord {
                    model: ModelId::parse(&model).map_err(|e| bad("model version", e))?,
                    version: u64::try_from(version).map_err(|e| bad("model version", e))?,
                    artifact: ArtifactId::parse(&artifact).map_err(|e| bad("model version", e))?,
                    lineage: serde_json::from_str(&row.try_get::<String, _>("lineage").map_err(g)?)
                        .map_err(|e| bad("model version", e))?,
                    created_by: SubjectId::parse(&by).map_err(|e| bad("model version", e))?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            const SIGNER_COLS: &str =
                "id, project_id, name, algorithm, public_key, not_before, not_after, revoked_at, created_by, created_at";

            fn signer(row: &Row) -> Result<SignerRecord> {
                let g = |e: sqlx::Error| bad("signer", e);
                let id: String = row.try_get("id").map_err(g)?;
                let project: Option<String> = row.try_get("project_id").map_err(g)?;
                let by: String = row.try_get("created_by").map_err(g)?;
                Ok(SignerRecord {
                    id: SignerId::parse(&id).map_err(|e| bad("signer", e))?,
                    project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad("signer", e))?,
                    name: row.try_get("name").map_err(g)?,
                    algorithm: row.try_get("algorithm").map_err(g)?,
                    public_key: row.try_get("public_key").map_err(g)?,
                    not_before: ts(row.try_get("not_before").map_err(g)?),
                    not_after: ts(row.try_get("not_after").map_err(g)?),
                    revoked_at: ts(row.try_get("revoked_at").map_err(g)?),
                    created_by: SubjectId::parse(&by).map_err(|e| bad("signer", e))?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                })
            }

            fn u64_of(v: i64, what: &str) -> Result<u64> {
                u64::try_from(v).map_err(|e| bad(what, e))
            }

            fn subject_of(s: &str, what: &str) -> Result<SubjectId> {
                SubjectId::parse(s).map_err(|e| bad(what, e))
            }

            const POLICY_COLS: &str = "version, document, digest, comment, created_by, created_at, restored_from";

            fn policy_version(row: &Row) -> Result<PolicyVersionRecord> {
                let g = |e: sqlx::Error| bad("policy version", e);
                let restored: Option<i64> = row.try_get("restored_from").map_err(g)?;
                Ok(PolicyVersionRecord {
                    version: u64_of(row.try_get("version").map_err(g)?, "policy version")?,
                    document: row.try_get("document").map_err(g)?,
                    digest: row.try_get("digest").map_err(g)?,
                    comment: row.try_get("comment").map_err(g)?,
                    created_by: subject_of(&row.try_get::<String, _>("created_by").map_err(g)?, "policy version")?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                    restored_from: restored.map(|v| u64_of(v, "policy version")).transpose()?,
                })
            }

            const EVALUATION_COLS: &str = "model_id, version, seq, metrics, report, dataset, added_by, added_at";

            fn evaluation(row: &Row) -> Result<EvaluationRecord> {
                let g = |e: sqlx::Error| bad("evaluation", e);
                let model: String = row.try_get("model_id").map_err(g)?;
                Ok(EvaluationRecord {
                    model: ModelId::parse(&model).map_err(|e| bad("evaluation", e))?,
                    version: u64_of(row.try_get("version").map_err(g)?, "evaluation")?,
                    seq: u64_of(row.try_get("seq").map_err(g)?, "evaluation")?,
                    metrics: serde_json::from_str(&row.try_get::<String, _>("metrics").map_err(g)?)
                        .map_err(|e| bad("evaluation", e))?,
                    report: row.try_get("report").map_err(g)?,
                    dataset: row.try_get("dataset").map_err(g)?,
                    added_by: subject_of(&row.try_get::<String, _>("added_by").map_err(g)?, "evaluation")?,
                    added_at: Timestamp(row.try_get("added_at").map_err(g)?),
                })
            }

            const RELEASE_COLS: &str = "id, project_id, model_id, version, zone, kind, reason, status, gate, \
                approvals_required, approver_role, policy_version, created_by, created_at, deployed_by, deployed_at, \
                previous, manifest, needs_review, reviewed_by, reviewed_at";

            fn release(row: &Row) -> Result<ReleaseRecord> {
                let w = "release";
                let g = |e: sqlx::Error| bad(w, e);
                let opt_subject = |col: &str| -> Result<Option<SubjectId>> {
                    let s: Option<String> = row.try_get(col).map_err(g)?;
                    s.map(|s| subject_of(&s, w)).transpose()
                };
                let id: String = row.try_get("id").map_err(g)?;
                let project: String = row.try_get("project_id").map_err(g)?;
                let model: String = row.try_get("model_id").map_err(g)?;
                let previous: Option<String> = row.try_get("previous").map_err(g)?;
                let required: i64 = row.try_get("approvals_required").map_err(g)?;
                let needs_review: i64 = row.try_get("needs_review").map_err(g)?;
                Ok(ReleaseRecord {
                    id: ReleaseId::parse(&id).map_err(|e| bad(w, e))?,
                    project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
                    model: ModelId::parse(&model).map_err(|e| bad(w, e))?,
                    version: u64_of(row.try_get("version").map_err(g)?, w)?,
                    zone: row.try_get("zone").map_err(g)?,
                    kind: row.try_get("kind").map_err(g)?,
                    reason: row.try_get("reason").map_err(g)?,
                    status: row.try_get("status").map_err(g)?,
                    gate: row.try_get("gate").map_err(g)?,
                    approvals_required: u32::try_from(required).map_err(|e| bad(w, e))?,
                    approver_role: row.try_get("approver_role").map_err(g)?,
                    policy_version: u64_of(row.try_get("policy_version").map_err(g)?, w)?,
                    created_by: subject_of(&row.try_get::<String, _>("created_by").map_err(g)?, w)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                    deployed_by: opt_subject("deployed_by")?,
                    deployed_at: ts(row.try_get("deployed_at").map_err(g)?),
                    previous: previous.map(|p| ReleaseId::parse(&p).map_err(|e| bad(w, e))).transpose()?,
                    manifest: row.try_get("manifest").map_err(g)?,
                    needs_review: needs_review != 0,
                    reviewed_by: opt_subject("reviewed_by")?,
                    reviewed_at: ts(row.try_get("reviewed_at").map_err(g)?),
                })
            }

            fn approval(row: &Row) -> Result<ApprovalRecord> {
                let g = |e: sqlx::Error| bad("approval", e);
                let mfa: i64 = row.try_get("mfa").map_err(g)?;
                Ok(ApprovalRecord {
                    approver: subject_of(&row.try_get::<String, _>("approver").map_err(g)?, "approval")?,
                    decision: row.try_get("decision").map_err(g)?,
                    comment: row.try_get("comment").map_err(g)?,
                    mfa: mfa != 0,
                    at: Timestamp(row.try_get("at").map_err(g)?),
                    withdrawn_at: ts(row.try_get("withdrawn_at").map_err(g)?),
                })
            }

            const DEPLOYMENT_COLS: &str = "zone, model_id, seq, project_id, release_id, version, deployed_at";

            fn deployment(row: &Row) -> Result<DeploymentRecord> {
                let w = "deployment";
                let g = |e: sqlx::Error| bad(w, e);
                let model: String = row.try_get("model_id").map_err(g)?;
                let project: String = row.try_get("project_id").map_err(g)?;
                let release: String = row.try_get("release_id").map_err(g)?;
                Ok(DeploymentRecord {
                    zone: row.try_get("zone").map_err(g)?,
                    project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
                    model: ModelId::parse(&model).map_err(|e| bad(w, e))?,
                    seq: u64_of(row.try_get("seq").map_err(g)?, w)?,
                    release: ReleaseId::parse(&release).map_err(|e| bad(w, e))?,
                    version: u64_of(row.try_get("version").map_err(g)?, w)?,
                    deployed_at: Timestamp(row.try_get("deployed_at").map_err(g)?),
                })
            }

            const DATASET_COLS: &str = "id, namespace, name, project_id, location, layer, classes, columns, residency, \
                owner, retention_days, tags, classified, created_at, updated_at, legal_hold, published";

            fn dataset(row: &Row) -> Result<DatasetRecord> {
                let w = "dataset";
                let g = |e: sqlx::Error| bad(w, e);
                let id: String = row.try_get("id").map_err(g)?;
                let project: Option<String> = row.try_get("project_id").map_err(g)?;
                let retention: Option<i64> = row.try_get("retention_days").map_err(g)?;
                let classified: i64 = row.try_get("classified").map_err(g)?;
                let published: i64 = row.try_get("published").map_err(g)?;
                let json = |col: &str| -> Result<String> { row.try_get::<String, _>(col).map_err(g) };
                Ok(DatasetRecord {
                    id: DatasetId::parse(&id).map_err(|e| bad(w, e))?,
                    namespace: row.try_get("namespace").map_err(g)?,
                    name: row.try_get("name").map_err(g)?,
                    project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad(w, e))?,
                    location: row.try_get("location").map_err(g)?,
                    layer: row.try_get("layer").map_err(g)?,
                    classes: serde_json::from_str(&json("classes")?).map_err(|e| bad(w, e))?,
                    columns: serde_json::from_str(&json("columns")?).map_err(|e| bad(w, e))?,
                    residency: row.try_get("residency").map_err(g)?,
                    owner: row.try_get("owner").map_err(g)?,
                    retention_days: retention.map(u32::try_from).transpose().map_err(|e| bad(w, e))?,
                    tags: serde_json::from_str(&json("tags")?).map_err(|e| bad(w, e))?,
                    classified: classified != 0,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                    updated_at: Timestamp(row.try_get("updated_at").map_err(g)?),
                    legal_hold: row.try_get("legal_hold").map_err(g)?,
                    published: published != 0,
                })
            }

            fn dataset_json(d: &DatasetRecord) -> Result<(String, String, String)> {
                let e = |e: serde_json::Error| StoreError::Internal(e.to_string());
                Ok((
                    serde_json::to_string(&d.classes).map_err(e)?,
                    serde_json::to_string(&d.columns).map_err(e)?,
                    serde_json::to_string(&d.tags).map_err(e)?,
                ))
            }

            const RUN_COLS: &str = "run_id, job_namespace, job_name, state, parent_run, started_at, ended_at, updated_at, zone";

            fn lineage_run(row: &Row) -> Result<LineageRunRecord> {
                let g = |e: sqlx::Error| bad("lineage run", e);
                Ok(LineageRunRecord {
                    run_id: row.try_get("run_id").map_err(g)?,
                    job_namespace: row.try_get("job_namespace").map_err(g)?,
                    job_name: row.try_get("job_name").map_err(g)?,
                    state: row.try_get("state").map_err(g)?,
                    parent_run: row.try_get("parent_run").map_err(g)?,
                    started_at: ts(row.try_get("started_at").map_err(g)?),
                    ended_at: ts(row.try_get("ended_at").map_err(g)?),
                    updated_at: Timestamp(row.try_get("updated_at").map_err(g)?),
                    zone: row.try_get("zone").map_err(g)?,
                })
            }

            const TRANSFER_COLS: &str = "id, project_id, dataset_id, to_zone, reason, status, requested_by, requested_at, \
                decided_by, decided_at";

            fn transfer(row: &Row) -> Result<TransferRecord> {
                let w = "transfer";
                let g = |e: sqlx::Error| bad(w, e);
                let s = |col: &str| -> Result<String> { row.try_get::<String, _>(col).map_err(g) };
                let by: Option<String> = row.try_get("decided_by").map_err(g)?;
                Ok(TransferRecord {
                    id: TransferId::parse(&s("id")?).map_err(|e| bad(w, e))?,
                    project: ProjectId::parse(&s("project_id")?).map_err(|e| bad(w, e))?,
                    dataset: DatasetId::parse(&s("dataset_id")?).map_err(|e| bad(w, e))?,
                    to_zone: s("to_zone")?,
                    reason: s("reason")?,
                    status: s("status")?,
                    requested_by: subject_of(&s("requested_by")?, w)?,
                    requested_at: Timestamp(row.try_get("requested_at").map_err(g)?),
                    decided_by: by.map(|b| subject_of(&b, w)).transpose()?,
                    decided_at: ts(row.try_get("decided_at").map_err(g)?),
                })
            }

            const PAYLOAD_COLS: &str = "id, project_id, key_id, zone, class, nonce, ciphertext, created_at, expires_at";

            fn payload_log(row: &Row) -> Result<PayloadLogRecord> {
                let w = "payload log";
                let g = |e: sqlx::Error| bad(w, e);
                let project: String = row.try_get("project_id").map_err(g)?;
                Ok(PayloadLogRecord {
                    id: row.try_get("id").map_err(g)?,
                    project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
                    key: row.try_get("key_id").map_err(g)?,
                    zone: row.try_get("zone").map_err(g)?,
                    class: row.try_get("class").map_err(g)?,
                    nonce: row.try_get("nonce").map_err(g)?,
                    ciphertext: row.try_get("ciphertext").map_err(g)?,
                    created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                    expires_at: Timestamp(row.try_get("expires_at").map_err(g)?),
                })
            }

            const PROPOSAL_COLS: &str =
                "id, dataset_id, project_id, body, status, proposed_by, proposed_at, decided_by, decided_at";

            fn proposal(row: &Row) -> Result<ProposalRecord> {
                let w = "proposal";
                let g = |e: sqlx::Error| bad(w, e);
                let s = |col: &str| -> Result<String> { row.try_get::<String, _>(col).map_err(g) };
                let by: Option<String> = row.try_get("decided_by").map_err(g)?;
                Ok(ProposalRecord {
                    id: s("id")?,
                    dataset: DatasetId::parse(&s("dataset_id")?).map_err(|e| bad(w, e))?,
                    project: ProjectId::parse(&s("project_id")?).map_err(|e| bad(w, e))?,
                    body: s("body")?,
                    status: s("status")?,
                    proposed_by: subject_of(&s("proposed_by")?, w)?,
                    proposed_at: Timestamp(row.try_get("proposed_at").map_err(g)?),
                    decided_by: by.map(|b| subject_of(&b, w)).transpose()?,
                    decided_at: ts(row.try_get("decided_at").map_err(g)?),
                })
            }

            const TASK_COLS: &str = "seq, target, kind, project_id, owner, due_at, status, evidence, closed_by, closed_at";

            fn deletion_task(row: &Row) -> Result<DeletionTaskRecord> {
                let w = "deletion task";
                let g = |e: sqlx::Error| bad(w, e);
                let project: Option<String> = row.try_get("project_id").map_err(g)?;
                let by: Option<String> = row.try_get("closed_by").map_err(g)?;
                Ok(DeletionTaskRecord {
                    seq: u64_of(row.try_get("seq").map_err(g)?, w)?,
                    target: row.try_get("target").map_err(g)?,
                    kind: row.try_get("kind").map_err(g)?,
                    project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad(w, e))?,
                    owner: row.try_get("owner").map_err(g)?,
                    due_at: Timestamp(row.try_get("due_at").map_err(g)?),
                    status: row.try_get("status").map_err(g)?,
                    evidence: row.try_get("evidence").map_err(g)?,
                    closed_by: by.map(|b| subject_of(&b, w)).transpose()?,
                    closed_at: ts(row.try_get("closed_at").map_err(g)?),
                })
            }

            /// Inserts a dataset (or, with `ignore_existing`, nothing when the name is
            /// taken); true when a row was written.
            async fn insert_dataset<'e, E>(ex: E, d: &DatasetRecord, ignore_existing: bool) -> Result<bool>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let (classes, columns, tags) = dataset_json(d)?;
                let tail = if ignore_existing { " ON CONFLICT (namespace, name) DO NOTHING" } else { "" };
                let r = sqlx::query(&format!(
                    "INSERT INTO datasets ({DATASET_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17){tail}"
                ))
                .bind(d.id.as_str())
                .bind(&d.namespace)
                .bind(&d.name)
                .bind(d.project.as_ref().map(ProjectId::as_str))
                .bind(d.location.as_deref())
                .bind(d.layer.as_deref())
                .bind(classes)
                .bind(columns)
                .bind(d.residency.as_deref())
                .bind(d.owner.as_deref())
                .bind(d.retention_days.map(i64::from))
                .bind(tags)
                .bind(i64::from(d.classified))
                .bind(d.created_at.0)
                .bind(d.updated_at.0)
                .bind(d.legal_hold.as_deref())
                .bind(i64::from(d.published))
                .execute(ex)
                .await
                .map_err(map_err("a dataset with this namespace and name"))?;
                Ok(r.rows_affected() == 1)
            }

            /// Decides a pending row of `table` (transfers, proposals): once, and only from
            /// `pending`.
            async fn decide_pending(
                pool: &sqlx::Pool<$db>,
                table: &str,
                id: &str,
                status: &str,
                by: &SubjectId,
                at: Timestamp,
            ) -> Result<bool> {
                let r = sqlx::query(&format!(
                    "UPDATE {table} SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND status = 'pending'"
                ))
                .bind(id)
                .bind(status)
                .bind(by.as_str())
                .bind(at.0)
                .execute(pool)
                .await
                .map_err(map_err(table))?;
                Ok(r.rows_affected() == 1)
            }

            async fn bump_catalog<'e, E>(ex: E) -> Result<()>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query("UPDATE catalog_head SET version = version + 1 WHERE id = 1")
                    .execute(ex)
                    .await
                    .map_err(map_err("catalog head"))?;
                Ok(())
            }

            /// Numbers and inserts edges under the head row's lock (taken by the caller's
            /// transaction with this very update).
            async fn insert_edges(tx: &mut sqlx::Transaction<'static, $db>, edges: &[(String, String)]) -> Result<()> {
                let n = i64::try_from(edges.len()).map_err(|e| bad("lineage", e))?;
                let row = sqlx::query("UPDATE lineage_head SET next = next + $1 WHERE id = 1 RETURNING next")
                    .bind(n)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(map_err("lineage head"))?;
                let end: i64 = row.try_get("next").map_err(|e| bad("lineage head", e))?;
                let first = end - n + 1;
                for (c, chunk) in edges.chunks(300).enumerate() {
                    let base = first + (c * 300) as i64;
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO lineage_edges (id, from_node, to_node) ");
                    qb.push_values(chunk.iter().enumerate(), |mut b, (i, (from, to))| {
                        b.push_bind(base + i as i64).push_bind(from.as_str()).push_bind(to.as_str());
                    });
                    qb.push(" ON CONFLICT (from_node, to_node) DO NOTHING");
                    qb.build().execute(&mut **tx).await.map_err(map_err("lineage edge"))?;
                }
                Ok(())
            }

            fn i64_of(v: u64) -> Result<i64> {
                i64::try_from(v).map_err(|_| StoreError::OutOfRange(v.to_string()))
            }

            /// One row by a single text key, decoded, or none.
            async fn optional<T>(
                pool: &sqlx::Pool<$db>,
                sql: &str,
                key: &str,
                decode: fn(&Row) -> Result<T>,
                what: &str,
            ) -> Result<Option<T>> {
                sqlx::query(sql).bind(key).fetch_optional(pool).await.map_err(map_err(what))?.as_ref().map(decode).transpose()
            }

            fn collect<T>(rows: Vec<Row>, f: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
                rows.iter().map(f).collect()
            }

            async fn insert_subject<'e, E>(ex: E, s: &SubjectRecord) -> Result<()>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query(&format!(
                    "INSERT INTO subjects ({SUBJECT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
                ))
                .bind(s.id.as_str())
                .bind(kind_str(s.kind))
                .bind(&s.name)
                .bind(&s.display_name)
                .bind(&s.email)
                .bind(&s.password_hash)
                .bind(&s.totp_secret)
                .bind(s.totp_enrolled)
                .bind(s.totp_last_step)
                .bind(s.failed_attempts)
                .bind(s.locked_until.map(|t| t.0))
                .bind(s.disabled)
                .bind(&s.oidc_issuer)
                .bind(&s.oidc_subject)
                .bind(s.created_at.0)
                .execute(ex)
                .await
                .map_err(map_err(&format!("a user or service named `{}`", s.name)))?;
                Ok(())
            }

            async fn insert_token<'e, E>(ex: E, t: &TokenRecord) -> Result<()>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query(&format!("INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"))
                    .bind(t.id.as_str())
                    .bind(t.subject.as_str())
                    .bind(&t.name)
                    .bind(&t.hash)
                    .bind(t.project.as_ref().map(|p| p.as_str()))
                    .bind(t.role.map(|r| r.as_str()))
                    .bind(t.mfa)
                    .bind(t.created_at.0)
                    .bind(t.expires_at.map(|x| x.0))
                    .bind(t.revoked_at.map(|x| x.0))
                    .bind(t.last_used_at.map(|x| x.0))
                    .bind(t.data_class.as_deref())
                    .bind(t.zone.as_deref())
                    .bind(t.parent.as_ref().map(|p| p.as_str()))
                    .execute(ex)
                    .await
                    .map_err(map_err("a token with this value"))?;
                Ok(())
            }

            async fn insert_grant<'e, E>(ex: E, g: &RoleGrantRecord) -> Result<()>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query("INSERT INTO role_grants (member_id, role, granted_at, granted_by) VALUES ($1,$2,$3,$4)")
                    .bind(g.member.as_str())
                    .bind(g.role.as_str())
                    .bind(g.granted_at.0)
                    .bind(g.granted_by.as_ref().map(|s| s.as_str()))
                    .execute(ex)
                    .await
                    .map_err(map_err(&format!("the grant of `{}` to `{}`", g.role, g.member.as_str())))?;
                Ok(())
            }

            async fn insert_membership<'e, E>(ex: E, m: &MembershipRecord) -> Result<()>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query(
                    "INSERT INTO project_members (project_id, member_id, role, added_at, added_by) VALUES ($1,$2,$3,$4,$5)",
                )
                .bind(m.project.as_str())
                .bind(m.member.as_str())
                .bind(m.role.as_str())
                .bind(m.added_at.0)
                .bind(m.added_by.as_str())
                .execute(ex)
                .await
                .map_err(map_err(&format!("the membership of `{}` as `{}`", m.member.as_str(), m.role)))?;
                Ok(())
            }

            fn roles(rows: Vec<Row>) -> Result<BTreeSet<Role>> {
                rows.iter()
                    .map(|r| {
                        let s: String = r.try_get("role").map_err(|e| bad("role", e))?;
                        role(&s)
                    })
                    .collect()
            }

            impl $store {
                async fn begin_write(&self) -> Result<sqlx::Transaction<'static, $db>> {
                    self.writer.begin().await.map_err(map_err("transaction"))
                }
            }

            #[async_trait::async_trait]
            impl warden_store::Store for $store {
                fn engine(&self) -> &'static str {
                    <$store>::ENGINE
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map_err("ping"))?;
                    Ok(())
                }

                async fn count_subjects(&self) -> Result<i64> {
                    let row = sqlx::query("SELECT COUNT(*) AS n FROM subjects")
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err("count"))?;
                    row.try_get("n").map_err(|e| bad("count", e))
                }

                async fn bootstrap(
                    &self,
                    admin: &SubjectRecord,
                    grant: &RoleGrantRecord,
                    token: &TokenRecord,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query("SELECT COUNT(*) AS n FROM subjects")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map_err("count"))?;
                    let n: i64 = row.try_get("n").map_err(|e| bad("count", e))?;
                    if n > 0 {
                        return Ok(false);
                    }
                    insert_subject(&mut *tx, admin).await?;
                    insert_grant(&mut *tx, grant).await?;
                    insert_token(&mut *tx, token).await?;
                    tx.commit().await.map_err(map_err("bootstrap"))?;
                    Ok(true)
                }

                async fn create_subject(&self, s: &SubjectRecord) -> Result<()> {
                    insert_subject(&self.pool, s).await
                }

                async fn get_subject(&self, id: &SubjectId) -> Result<Option<SubjectRecord>> {
                    optional(&self.pool, &format!("SELECT {SUBJECT_COLS} FROM subjects WHERE id = $1"), id.as_str(), subject, "subject").await
                }

                async fn get_subject_by_name(&self, name: &str) -> Result<Option<SubjectRecord>> {
                    optional(&self.pool, &format!("SELECT {SUBJECT_COLS} FROM subjects WHERE name = $1"), name, subject, "subject").await
                }

                async fn get_subject_by_oidc(&self, issuer: &str, sub: &str) -> Result<Option<SubjectRecord>> {
                    sqlx::query(&format!(
                        "SELECT {SUBJECT_COLS} FROM subjects WHERE oidc_issuer = $1 AND oidc_subject = $2"
                    ))
                    .bind(issuer)
                    .bind(sub)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err("subject"))?
                    .as_ref()
                    .map(subject)
                    .transpose()
                }

                async fn list_subjects(&self, kind: Option<PrincipalKind>, page: &Page) -> Result<Vec<SubjectRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {SUBJECT_COLS} FROM subjects WHERE id > $1 AND (CAST($2 AS TEXT) IS NULL OR kind = $2) \
                         ORDER BY id LIMIT $3"
                    ))
                    .bind(page.after_str())
                    .bind(kind.map(kind_str))
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("subjects"))?;
                    collect(rows, subject)
                }

                async fn set_disabled(&self, id: &SubjectId, disabled: bool) -> Result<bool> {
                    let r = sqlx::query("UPDATE subjects SET disabled = $2 WHERE id = $1")
                        .bind(id.as_str())
                        .bind(disabled)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("subject"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn set_totp_pending(&self, id: &SubjectId, secret: &str) -> Result<bool> {
                    let r = sqlx::query(
                        "UPDATE subjects SET totp_secret = $2, totp_enrolled = $3, totp_last_step = NULL WHERE id = $1",
                    )
                    .bind(id.as_str())
                    .bind(secret)
                    .bind(false)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("subject"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn totp_secrets_in_clear(&self) -> Result<Vec<(SubjectId, String)>> {
                    let rows = sqlx::query(
                        "SELECT id, totp_secret FROM subjects WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'sealed:%' ORDER BY id",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("subjects"))?;
                    rows.iter()
                        .map(|r| {
                            let id: String = r.try_get("id").map_err(|e| bad("subject", e))?;
                            let secret: String = r.try_get("totp_secret").map_err(|e| bad("subject", e))?;
                            Ok((SubjectId::parse(&id).map_err(|e| bad("subject", e))?, secret))
                        })
                        .collect()
                }

                async fn replace_totp_secret(&self, id: &SubjectId, old: &str, new: &str) -> Result<bool> {
                    let r = sqlx::query("UPDATE subjects SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2")
                        .bind(id.as_str())
                        .bind(old)
                        .bind(new)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("subject"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn confirm_totp(&self, id: &SubjectId, step: i64) -> Result<bool> {
                    let r = sqlx::query(
                        "UPDATE subjects SET totp_enrolled = $2, totp_last_step = $3 \
                         WHERE id = $1 AND totp_secret IS NOT NULL",
                    )
                    .bind(id.as_str())
                    .bind(true)
                    .bind(step)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("subject"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn use_totp_step(&self, id: &SubjectId, step: i64) -> Result<bool> {
                    let r = sqlx::query(
                        "UPDATE subjects SET totp_last_step = $2 \
                         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                    )
                    .bind(id.as_str())
                    .bind(step)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("subject"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn record_failure(&self, id: &SubjectId, max_attempts: i64, lock_until: Timestamp) -> Result<i64> {
                    let row = sqlx::query(
                        "UPDATE subjects SET failed_attempts = failed_attempts + 1, \
                         locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
                         WHERE id = $1 RETURNING failed_attempts",
                    )
                    .bind(id.as_str())
                    .bind(max_attempts)
                    .bind(lock_until.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err("subject"))?;
                    match row {
                        Some(r) => r.try_get("failed_attempts").map_err(|e| bad("subject", e)),
                        None => Ok(0),
                    }
                }

                async fn reset_failures(&self, id: &SubjectId) -> Result<()> {
                    sqlx::query(
                        "UPDATE subjects SET failed_attempts = 0, locked_until = NULL \
                         WHERE id = $1 AND (failed_attempts <> 0 OR locked_until IS NOT NULL)",
                    )
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("subject"))?;
                    Ok(())
                }

                async fn create_token(&self, t: &TokenRecord) -> Result<()> {
                    insert_token(&self.pool, t).await
                }

                async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>> {
                    optional(&self.pool, &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1"), id.as_str(), token, "token").await
                }

                async fn find_token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
                    optional(&self.pool, &format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1"), hash, token, "token").await
                }

                async fn list_tokens(&self, subject_id: &SubjectId, page: &Page) -> Result<Vec<TokenRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {TOKEN_COLS} FROM tokens WHERE subject_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                    ))
                    .bind(subject_id.as_str())
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("tokens"))?;
                    collect(rows, token)
                }

                async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<u64> {
                    // The token and every token minted from it, transitively, in one statement.
                    let r = sqlx::query(
                        "WITH RECURSIVE minted(id) AS (SELECT id FROM tokens WHERE id = $1 \
                         UNION SELECT t.id FROM tokens t JOIN minted m ON t.parent_id = m.id) \
                         UPDATE tokens SET revoked_at = $2 WHERE id IN (SELECT id FROM minted) AND revoked_at IS NULL",
                    )
                    .bind(id.as_str())
                    .bind(at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("token"))?;
                    Ok(r.rows_affected())
                }

                async fn touch_token(&self, id: &TokenId, at: Timestamp) -> Result<()> {
                    sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
                        .bind(id.as_str())
                        .bind(at.0)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("token"))?;
                    Ok(())
                }

                async fn create_project(&self, p: &ProjectRecord, members: &[MembershipRecord]) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(&format!("INSERT INTO projects ({PROJECT_COLS}) VALUES ($1,$2,$3,$4,$5,$6)"))
                        .bind(p.id.as_str())
                        .bind(&p.name)
                        .bind(&p.description)
                        .bind(&p.cost_centre)
                        .bind(p.created_at.0)
                        .bind(p.created_by.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err(&format!("a project named `{}`", p.name)))?;
                    for m in members {
                        insert_membership(&mut *tx, m).await?;
                    }
                    tx.commit().await.map_err(map_err("project"))?;
                    Ok(())
                }

                async fn get_project(&self, id: &ProjectId) -> Result<Option<ProjectRecord>> {
                    optional(&self.pool, &format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1"), id.as_str(), project, "project").await
                }

                async fn list_projects(&self, page: &Page) -> Result<Vec<ProjectRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {PROJECT_COLS} FROM projects WHERE id > $1 ORDER BY id LIMIT $2"
                    ))
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("projects"))?;
                    collect(rows, project)
                }

                async fn list_projects_of(&self, s: &SubjectId, page: &Page) -> Result<Vec<ProjectRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {PROJECT_COLS} FROM projects p WHERE p.id > $2 AND EXISTS ( \
                           SELECT 1 FROM project_members m WHERE m.project_id = p.id AND (m.member_id = $1 \
                           OR m.member_id IN (SELECT group_id FROM group_members WHERE subject_id = $1))) \
                         ORDER BY p.id LIMIT $3"
                    ))
                    .bind(s.as_str())
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("projects"))?;
                    collect(rows, project)
                }

                async fn add_member(&self, m: &MembershipRecord) -> Result<()> {
                    insert_membership(&self.pool, m).await
                }

                async fn remove_member(&self, p: &ProjectId, member: &MemberRef, r: Role) -> Result<bool> {
                    let res = sqlx::query(
                        "DELETE FROM project_members WHERE project_id = $1 AND member_id = $2 AND role = $3",
                    )
                    .bind(p.as_str())
                    .bind(member.as_str())
                    .bind(r.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("membership"))?;
                    Ok(res.rows_affected() == 1)
                }

                async fn list_members(&self, p: &ProjectId) -> Result<Vec<MembershipRecord>> {
                    let rows = sqlx::query(
                        "SELECT project_id, member_id, role, added_at, added_by FROM project_members \
                         WHERE project_id = $1 ORDER BY member_id, role",
                    )
                    .bind(p.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("members"))?;
                    collect(rows, membership)
                }

                async fn project_roles(&self, p: &ProjectId, s: &SubjectId) -> Result<BTreeSet<Role>> {
                    let rows = sqlx::query(
                        "SELECT role FROM project_members WHERE project_id = $1 AND (member_id = $2 \
                         OR member_id IN (SELECT group_id FROM group_members WHERE subject_id = $2))",
                    )
                    .bind(p.as_str())
                    .bind(s.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("members"))?;
                    roles(rows)
                }

                async fn create_group(&self, g: &GroupRecord) -> Result<()> {
                    sqlx::query("INSERT INTO subject_groups (id, name, description, created_at) VALUES ($1,$2,$3,$4)")
                        .bind(g.id.as_str())
                        .bind(&g.name)
                        .bind(&g.description)
                        .bind(g.created_at.0)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err(&format!("a group named `{}`", g.name)))?;
                    Ok(())
                }

                async fn get_group(&self, id: &GroupId) -> Result<Option<GroupRecord>> {
                    optional(&self.pool, "SELECT id, name, description, created_at FROM subject_groups WHERE id = $1", id.as_str(), group, "group").await
                }

                async fn list_groups(&self, page: &Page) -> Result<Vec<GroupRecord>> {
                    let rows = sqlx::query(
                        "SELECT id, name, description, created_at FROM subject_groups WHERE id > $1 \
                         ORDER BY id LIMIT $2",
                    )
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("groups"))?;
                    collect(rows, group)
                }

                async fn add_group_member(&self, g: &GroupId, s: &SubjectId, at: Timestamp) -> Result<()> {
                    sqlx::query("INSERT INTO group_members (group_id, subject_id, added_at) VALUES ($1,$2,$3)")
                        .bind(g.as_str())
                        .bind(s.as_str())
                        .bind(at.0)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err(&format!("membership of `{s}` in `{g}`")))?;
                    Ok(())
                }

                async fn remove_group_member(&self, g: &GroupId, s: &SubjectId) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND subject_id = $2")
                        .bind(g.as_str())
                        .bind(s.as_str())
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("group membership"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn list_group_members(&self, g: &GroupId) -> Result<Vec<SubjectId>> {
                    let rows = sqlx::query("SELECT subject_id FROM group_members WHERE group_id = $1 ORDER BY subject_id")
                        .bind(g.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("group members"))?;
                    rows.iter()
                        .map(|r| {
                            let s: String = r.try_get("subject_id").map_err(|e| bad("group member", e))?;
                            SubjectId::parse(&s).map_err(|e| bad("group member", e))
                        })
                        .collect()
                }

                async fn grant_role(&self, g: &RoleGrantRecord) -> Result<()> {
                    insert_grant(&self.pool, g).await
                }

                async fn revoke_role(&self, member: &MemberRef, r: Role) -> Result<bool> {
                    let res = sqlx::query("DELETE FROM role_grants WHERE member_id = $1 AND role = $2")
                        .bind(member.as_str())
                        .bind(r.as_str())
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("role grant"))?;
                    Ok(res.rows_affected() == 1)
                }

                async fn org_roles(&self, s: &SubjectId) -> Result<BTreeSet<Role>> {
                    let rows = sqlx::query(
                        "SELECT role FROM role_grants WHERE member_id = $1 \
                         OR member_id IN (SELECT group_id FROM group_members WHERE subject_id = $1)",
                    )
                    .bind(s.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("role grants"))?;
                    roles(rows)
                }

                async fn list_role_grants(&self, member: &MemberRef) -> Result<Vec<RoleGrantRecord>> {
                    let rows = sqlx::query(
                        "SELECT member_id, role, granted_at, granted_by FROM role_grants WHERE member_id = $1 ORDER BY role",
                    )
                    .bind(member.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("role grants"))?;
                    collect(rows, grant)
                }

                async fn record_blob(
                    &self,
                    project: &ProjectId,
                    digest: &str,
                    size: u64,
                    by: &SubjectId,
                    at: Timestamp,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO blobs (digest, size, created_at, created_by) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (digest) DO NOTHING",
                    )
                    .bind(digest)
                    .bind(i64_of(size)?)
                    .bind(at.0)
                    .bind(by.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("blob"))?;
                    sqlx::query(
                        "INSERT INTO project_blobs (project_id, digest, added_at, added_by) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (project_id, digest) DO NOTHING",
                    )
                    .bind(project.as_str())
                    .bind(digest)
                    .bind(at.0)
                    .bind(by.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("project blob"))?;
                    tx.commit().await.map_err(map_err("blob"))?;
                    Ok(())
                }

                async fn project_blob(&self, project: &ProjectId, digest: &str) -> Result<Option<u64>> {
                    let row = sqlx::query(
                        "SELECT b.size FROM project_blobs p JOIN blobs b ON b.digest = p.digest \
                         WHERE p.project_id = $1 AND p.digest = $2",
                    )
                    .bind(project.as_str())
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err("blob"))?;
                    match row {
                        None => Ok(None),
                        Some(r) => {
                            let v: i64 = r.try_get("size").map_err(|e| bad("blob", e))?;
                            Ok(Some(u64::try_from(v).map_err(|e| bad("blob", e))?))
                        }
                    }
                }

                async fn create_artifact(&self, a: &ArtifactRecord) -> Result<()> {
                    sqlx::query(&format!(
                        "INSERT INTO artifacts ({ARTIFACT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
                    ))
                    .bind(a.id.as_str())
                    .bind(a.project.as_str())
                    .bind(&a.kind)
                    .bind(&a.name)
                    .bind(&a.manifest)
                    .bind(&a.manifest_digest)
                    .bind(i64_of(a.total_size)?)
                    .bind(&a.verdict)
                    .bind(a.evidence.to_string())
                    .bind(a.expires_at.map(|t| t.0))
                    .bind(a.created_by.as_str())
                    .bind(a.created_at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("artifact"))?;
                    Ok(())
                }

                async fn get_artifact(&self, project: &ProjectId, id: &ArtifactId) -> Result<Option<ArtifactRecord>> {
                    sqlx::query(&format!("SELECT {ARTIFACT_COLS} FROM artifacts WHERE project_id = $1 AND id = $2"))
                        .bind(project.as_str())
                        .bind(id.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("artifact"))?
                        .as_ref()
                        .map(artifact)
                        .transpose()
                }

                async fn list_artifacts(&self, project: &ProjectId, page: &Page) -> Result<Vec<ArtifactRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {ARTIFACT_COLS} FROM artifacts WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                    ))
                    .bind(project.as_str())
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("artifacts"))?;
                    collect(rows, artifact)
                }

                async fn dataset_artifacts(&self, limit: u32) -> Result<Vec<ArtifactRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {ARTIFACT_COLS} FROM artifacts a WHERE verdict = 'admitted' \
                         AND evidence LIKE '%\"dataset\":\"dst\\_%' ESCAPE '\\' \
                         AND NOT EXISTS (SELECT 1 FROM artifact_purges p WHERE p.artifact_id = a.id) \
                         ORDER BY created_at, id LIMIT $1"
                    ))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("artifacts"))?;
                    collect(rows, artifact)
                }

                async fn purge_artifact(
                    &self,
                    a: &ArtifactRecord,
                    digests: &[String],
                    reason: &str,
                    at: Timestamp,
                ) -> Result<Option<Vec<String>>> {
                    let mut tx = self.begin_write().await?;
                    let r = sqlx::query(
                        "INSERT INTO artifact_purges (artifact_id, purged_at, reason) VALUES ($1, $2, $3) \
                         ON CONFLICT (artifact_id) DO NOTHING",
                    )
                    .bind(a.id.as_str())
                    .bind(at.0)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("artifact purge"))?;
                    if r.rows_affected() != 1 {
                        return Ok(None);
                    }
                    let mut orphans = Vec::new();
                    for d in digests {
                        // Another admitted, unpurged artifact of the project may share the blob.
                        let shared = sqlx::query(
                            "SELECT COUNT(*) AS n FROM artifacts x WHERE x.project_id = $1 AND x.id <> $2 \
                             AND x.verdict = 'admitted' AND x.manifest LIKE $3 \
                             AND NOT EXISTS (SELECT 1 FROM artifact_purges p WHERE p.artifact_id = x.id)",
                        )
                        .bind(a.project.as_str())
                        .bind(a.id.as_str())
                        .bind(format!("%\"{d}\"%"))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map_err("artifact purge"))?;
                        let n: i64 = shared.try_get("n").map_err(|e| bad("artifact purge", e))?;
                        if n > 0 {
                            continue;
                        }
                        sqlx::query("DELETE FROM project_blobs WHERE project_id = $1 AND digest = $2")
                            .bind(a.project.as_str())
                            .bind(d)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err("artifact purge"))?;
                        let left = sqlx::query("SELECT COUNT(*) AS n FROM project_blobs WHERE digest = $1")
                            .bind(d)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(map_err("artifact purge"))?;
                        let n: i64 = left.try_get("n").map_err(|e| bad("artifact purge", e))?;
                        if n == 0 {
                            sqlx::query("DELETE FROM blobs WHERE digest = $1")
                                .bind(d)
                                .execute(&mut *tx)
                                .await
                                .map_err(map_err("artifact purge"))?;
                            orphans.push(d.clone());
                        }
                    }
                    tx.commit().await.map_err(map_err("artifact purge"))?;
                    Ok(Some(orphans))
                }

                async fn artifacts_with_blob(&self, project: &ProjectId, digest: &str) -> Result<Vec<ArtifactRecord>> {
                    // Manifests are canonical JSON: a file's digest appears as `"sha256:…"`.
                    // Digests are hex, so the pattern holds no LIKE wildcards.
                    if !digest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':') {
                        return Ok(Vec::new());
                    }
                    let rows = sqlx::query(&format!(
                        "SELECT {ARTIFACT_COLS} FROM artifacts WHERE project_id = $1 AND verdict = 'admitted' \
                         AND manifest LIKE $2 ORDER BY id"
                    ))
                    .bind(project.as_str())
                    .bind(format!("%\"{digest}\"%"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("artifacts"))?;
                    collect(rows, artifact)
                }

                async fn ensure_model(&self, m: &ModelRecord) -> Result<ModelRecord> {
                    sqlx::query(
                        "INSERT INTO models (id, project_id, name, created_by, created_at) VALUES ($1,$2,$3,$4,$5) \
                         ON CONFLICT (project_id, name) DO NOTHING",
                    )
                    .bind(m.id.as_str())
                    .bind(m.project.as_str())
                    .bind(&m.name)
                    .bind(m.created_by.as_str())
                    .bind(m.created_at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("model"))?;
                    self.get_model(&m.project, &m.name).await?.ok_or_else(|| StoreError::Internal("model vanished".into()))
                }

                async fn get_model(&self, project: &ProjectId, name: &str) -> Result<Option<ModelRecord>> {
                    sqlx::query("SELECT id, project_id, name, created_by, created_at FROM models WHERE project_id = $1 AND name = $2")
                        .bind(project.as_str())
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("model"))?
                        .as_ref()
                        .map(model)
                        .transpose()
                }

                async fn list_models(&self, project: &ProjectId, page: &Page) -> Result<Vec<ModelRecord>> {
                    let rows = sqlx::query(
                        "SELECT id, project_id, name, created_by, created_at FROM models \
                         WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                    )
                    .bind(project.as_str())
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("models"))?;
                    collect(rows, model)
                }

                async fn add_model_version(
                    &self,
                    m: &ModelId,
                    a: &ArtifactId,
                    lineage: &VersionLineage,
                    by: &SubjectId,
                    at: Timestamp,
                ) -> Result<ModelVersionRecord> {
                    let lineage = serde_json::to_string(lineage).map_err(|e| StoreError::Internal(e.to_string()))?;
                    // The primary key makes a concurrent duplicate fail; the caller retries.
                    let row = sqlx::query(&format!(
                        "INSERT INTO model_versions ({VERSION_COLS}) \
                         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM model_versions WHERE model_id = $1 \
                         RETURNING {VERSION_COLS}"
                    ))
                    .bind(m.as_str())
                    .bind(a.as_str())
                    .bind(lineage)
                    .bind(by.as_str())
                    .bind(at.0)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err("model version"))?;
                    model_version(&row)
                }

                async fn list_model_versions(&self, m: &ModelId) -> Result<Vec<ModelVersionRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {VERSION_COLS} FROM model_versions WHERE model_id = $1 ORDER BY version"
                    ))
                    .bind(m.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("model versions"))?;
                    collect(rows, model_version)
                }

                async fn set_model_alias(&self, m: &ModelId, x: &ModelAliasRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO model_aliases (model_id, alias, version, updated_by, updated_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model_id, alias) \
                         DO UPDATE SET version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                    )
                    .bind(m.as_str())
                    .bind(&x.alias)
                    .bind(i64_of(x.version)?)
                    .bind(x.updated_by.as_str())
                    .bind(x.updated_at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("model alias"))?;
                    Ok(())
                }

                async fn delete_model_alias(&self, m: &ModelId, alias: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2")
                        .bind(m.as_str())
                        .bind(alias)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("model alias"))?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_model_aliases(&self, m: &ModelId) -> Result<Vec<ModelAliasRecord>> {
                    let rows = sqlx::query(
                        "SELECT alias, version, updated_by, updated_at FROM model_aliases WHERE model_id = $1 ORDER BY alias",
                    )
                    .bind(m.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("model aliases"))?;
                    collect(rows, |row| {
                        let g = |e: sqlx::Error| bad("model alias", e);
                        let by: String = row.try_get("updated_by").map_err(g)?;
                        Ok(ModelAliasRecord {
                            alias: row.try_get("alias").map_err(g)?,
                            version: u64::try_from(row.try_get::<i64, _>("version").map_err(g)?)
                                .map_err(|e| bad("model alias", e))?,
                            updated_by: SubjectId::parse(&by).map_err(|e| bad("model alias", e))?,
                            updated_at: Timestamp(row.try_get("updated_at").map_err(g)?),
                        })
                    })
                }

                async fn set_model_tag(&self, m: &ModelId, x: &ModelTagRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO model_tags (model_id, version, key, value, updated_by, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (model_id, version, key) \
                         DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                    )
                    .bind(m.as_str())
                    .bind(i64_of(x.version)?)
                    .bind(&x.key)
                    .bind(&x.value)
                    .bind(x.updated_by.as_str())
                    .bind(x.updated_at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("model tag"))?;
                    Ok(())
                }

                async fn delete_model_tag(&self, m: &ModelId, version: u64, key: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM model_tags WHERE model_id = $1 AND version = $2 AND key = $3")
                        .bind(m.as_str())
                        .bind(i64_of(version)?)
                        .bind(key)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("model tag"))?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_model_tags(&self, m: &ModelId) -> Result<Vec<ModelTagRecord>> {
                    let rows = sqlx::query(
                        "SELECT version, key, value, updated_by, updated_at FROM model_tags WHERE model_id = $1 \
                         ORDER BY version, key",
                    )
                    .bind(m.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("model tags"))?;
                    collect(rows, |row| {
                        let g = |e: sqlx::Error| bad("model tag", e);
                        let by: String = row.try_get("updated_by").map_err(g)?;
                        Ok(ModelTagRecord {
                            version: u64::try_from(row.try_get::<i64, _>("version").map_err(g)?)
                                .map_err(|e| bad("model tag", e))?,
                            key: row.try_get("key").map_err(g)?,
                            value: row.try_get("value").map_err(g)?,
                            updated_by: SubjectId::parse(&by).map_err(|e| bad("model tag", e))?,
                            updated_at: Timestamp(row.try_get("updated_at").map_err(g)?),
                        })
                    })
                }

                async fn set_budget(
                    &self,
                    project: &ProjectId,
                    period: &str,
                    tokens: Option<i64>,
                    by: &SubjectId,
                    at: Timestamp,
                ) -> Result<()> {
                    match tokens {
                        Some(t) => sqlx::query(
                            "INSERT INTO gateway_budgets (project_id, period, tokens, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (project_id, period) DO UPDATE SET tokens = excluded.tokens, \
                             set_by = excluded.set_by, set_at = excluded.set_at",
                        )
                        .bind(project.as_str())
                        .bind(period)
                        .bind(t)
                        .bind(by.as_str())
                        .bind(at.0)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("budget"))?,
                        None => sqlx::query("DELETE FROM gateway_budgets WHERE project_id = $1 AND period = $2")
                            .bind(project.as_str())
                            .bind(period)
                            .execute(&self.pool)
                            .await
                            .map_err(map_err("budget"))?,
                    };
                    Ok(())
                }

                async fn budgets(&self, project: &ProjectId) -> Result<Vec<(String, i64)>> {
                    let rows = sqlx::query("SELECT period, tokens FROM gateway_budgets WHERE project_id = $1 ORDER BY period")
                        .bind(project.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("budgets"))?;
                    rows.iter()
                        .map(|r| {
                            Ok((
                                r.try_get("period").map_err(|e| bad("budget", e))?,
                                r.try_get("tokens").map_err(|e| bad("budget", e))?,
                            ))
                        })
                        .collect()
                }

                async fn reserve(&self, scope: &str, window: i64, amount: i64, limit: i64) -> Result<bool> {
                    sqlx::query(
                        "INSERT INTO gateway_counters (scope, window_start, used) VALUES ($1, $2, 0) \
                         ON CONFLICT (scope, window_start) DO NOTHING",
                    )
                    .bind(scope)
                    .bind(window)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("counter"))?;
                    let r = sqlx::query(
                        "UPDATE gateway_counters SET used = used + $3 \
                         WHERE scope = $1 AND window_start = $2 AND used + $3 <= $4",
                    )
                    .bind(scope)
                    .bind(window)
                    .bind(amount)
                    .bind(limit)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("counter"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn adjust(&self, scope: &str, window: i64, delta: i64) -> Result<()> {
                    sqlx::query("UPDATE gateway_counters SET used = used + $3 WHERE scope = $1 AND window_start = $2")
                        .bind(scope)
                        .bind(window)
                        .bind(delta)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("counter"))?;
                    Ok(())
                }

                async fn counter(&self, scope: &str, window: i64) -> Result<i64> {
                    let row = sqlx::query("SELECT used FROM gateway_counters WHERE scope = $1 AND window_start = $2")
                        .bind(scope)
                        .bind(window)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("counter"))?;
                    match row {
                        Some(r) => r.try_get("used").map_err(|e| bad("counter", e)),
                        None => Ok(0),
                    }
                }

                async fn add_policy_version(&self, x: &PolicyVersionRecord) -> Result<bool> {
                    let r = sqlx::query(&format!(
                        "INSERT INTO policy_versions ({POLICY_COLS}) \
                         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS \
                         (SELECT 1 FROM policy_versions WHERE version >= $1) AND \
                         (SELECT COALESCE(MAX(version), 0) FROM policy_versions) = $1 - 1"
                    ))
                    .bind(i64_of(x.version)?)
                    .bind(&x.document)
                    .bind(&x.digest)
                    .bind(&x.comment)
                    .bind(x.created_by.as_str())
                    .bind(x.created_at.0)
                    .bind(x.restored_from.map(i64_of).transpose()?)
                    .execute(&self.writer)
                    .await;
                    match r {
                        Ok(r) => Ok(r.rows_affected() == 1),
                        // Two replicas applying at once: the primary key keeps one.
                        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
                        Err(e) => Err(map_err("policy version")(e)),
                    }
                }

                async fn latest_policy(&self) -> Result<Option<PolicyVersionRecord>> {
                    let row = sqlx::query(&format!(
                        "SELECT {POLICY_COLS} FROM policy_versions ORDER BY version DESC LIMIT 1"
                    ))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err("policy version"))?;
                    row.as_ref().map(policy_version).transpose()
                }

                async fn get_policy_version(&self, version: u64) -> Result<Option<PolicyVersionRecord>> {
                    let row = sqlx::query(&format!("SELECT {POLICY_COLS} FROM policy_versions WHERE version = $1"))
                        .bind(i64_of(version)?)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("policy version"))?;
                    row.as_ref().map(policy_version).transpose()
                }

                async fn list_policy_versions(&self, limit: u32) -> Result<Vec<PolicyVersionRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {POLICY_COLS} FROM policy_versions ORDER BY version DESC LIMIT $1"
                    ))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("policy versions"))?;
                    collect(rows, policy_version)
                }

                async fn add_evaluation(&self, x: &EvaluationRecord) -> Result<EvaluationRecord> {
                    let metrics = serde_json::to_string(&x.metrics).map_err(|e| StoreError::Internal(e.to_string()))?;
                    let row = sqlx::query(&format!(
                        "INSERT INTO model_evaluations ({EVALUATION_COLS}) \
                         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7 FROM model_evaluations \
                         WHERE model_id = $1 AND version = $2 RETURNING {EVALUATION_COLS}"
                    ))
                    .bind(x.model.as_str())
                    .bind(i64_of(x.version)?)
                    .bind(metrics)
                    .bind(x.report.as_deref())
                    .bind(x.dataset.as_deref())
                    .bind(x.added_by.as_str())
                    .bind(x.added_at.0)
                    .fetch_one(&self.writer)
                    .await
                    .map_err(map_err("evaluation"))?;
                    evaluation(&row)
                }

                async fn list_evaluations(&self, m: &ModelId, version: u64) -> Result<Vec<EvaluationRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {EVALUATION_COLS} FROM model_evaluations WHERE model_id = $1 AND version = $2 ORDER BY seq"
                    ))
                    .bind(m.as_str())
                    .bind(i64_of(version)?)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("evaluations"))?;
                    collect(rows, evaluation)
                }

                async fn create_release(&self, x: &ReleaseRecord) -> Result<()> {
                    sqlx::query(&format!(
                        "INSERT INTO releases ({RELEASE_COLS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
                    ))
                    .bind(x.id.as_str())
                    .bind(x.project.as_str())
                    .bind(x.model.as_str())
                    .bind(i64_of(x.version)?)
                    .bind(&x.zone)
                    .bind(&x.kind)
                    .bind(&x.reason)
                    .bind(&x.status)
                    .bind(&x.gate)
                    .bind(i64::from(x.approvals_required))
                    .bind(&x.approver_role)
                    .bind(i64_of(x.policy_version)?)
                    .bind(x.created_by.as_str())
                    .bind(x.created_at.0)
                    .bind(x.deployed_by.as_ref().map(SubjectId::as_str))
                    .bind(x.deployed_at.map(|t| t.0))
                    .bind(x.previous.as_ref().map(ReleaseId::as_str))
                    .bind(x.manifest.as_deref())
                    .bind(i64::from(x.needs_review))
                    .bind(x.reviewed_by.as_ref().map(SubjectId::as_str))
                    .bind(x.reviewed_at.map(|t| t.0))
                    .execute(&self.writer)
                    .await
                    .map_err(map_err("release"))?;
                    Ok(())
                }

                async fn get_release(&self, project: &ProjectId, id: &ReleaseId) -> Result<Option<ReleaseRecord>> {
                    let row = sqlx::query(&format!("SELECT {RELEASE_COLS} FROM releases WHERE id = $1 AND project_id = $2"))
                        .bind(id.as_str())
                        .bind(project.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("release"))?;
                    row.as_ref().map(release).transpose()
                }

                async fn list_releases(&self, project: &ProjectId, page: &Page) -> Result<Vec<ReleaseRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {RELEASE_COLS} FROM releases WHERE project_id = $1 AND ($2 = '' OR id < $2) \
                         ORDER BY id DESC LIMIT $3"
                    ))
                    .bind(project.as_str())
                    .bind(page.after.as_deref().unwrap_or(""))
                    .bind(i64::from(page.limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("releases"))?;
                    collect(rows, release)
                }

                async fn list_approvals(&self, id: &ReleaseId) -> Result<Vec<ApprovalRecord>> {
                    let rows = sqlx::query(
                        "SELECT approver, decision, comment, mfa, at, withdrawn_at FROM release_approvals \
                         WHERE release_id = $1 ORDER BY at, approver",
                    )
                    .bind(id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("approvals"))?;
                    collect(rows, approval)
                }

                async fn decide_release(&self, id: &ReleaseId, a: &ApprovalRecord) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    // The release row is the lock that orders decisions and deploys.
                    let pending = sqlx::query("UPDATE releases SET status = status WHERE id = $1 AND status = 'pending'")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("release"))?;
                    if pending.rows_affected() != 1 {
                        return Ok(false);
                    }
                    // A withdrawn approval may be given again; a standing one may not.
                    let r = sqlx::query(
                        "INSERT INTO release_approvals (release_id, approver, decision, comment, mfa, at, withdrawn_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, NULL) ON CONFLICT (release_id, approver) DO UPDATE SET \
                         decision = excluded.decision, comment = excluded.comment, mfa = excluded.mfa, at = excluded.at, \
                         withdrawn_at = NULL WHERE release_approvals.withdrawn_at IS NOT NULL",
                    )
                    .bind(id.as_str())
                    .bind(a.approver.as_str())
                    .bind(&a.decision)
                    .bind(&a.comment)
                    .bind(i64::from(a.mfa))
                    .bind(a.at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("approval"))?;
                    if r.rows_affected() != 1 {
                        return Err(StoreError::Conflict("a decision by this approver on this release".into()));
                    }
                    if a.decision == "reject" {
                        sqlx::query("UPDATE releases SET status = 'rejected' WHERE id = $1")
                            .bind(id.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err("release"))?;
                    }
                    tx.commit().await.map_err(map_err("approval"))?;
                    Ok(true)
                }

                async fn withdraw_approval(&self, id: &ReleaseId, approver: &SubjectId, at: Timestamp) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let pending = sqlx::query("UPDATE releases SET status = status WHERE id = $1 AND status = 'pending'")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("release"))?;
                    if pending.rows_affected() != 1 {
                        return Ok(false);
                    }
                    let r = sqlx::query(
                        "UPDATE release_approvals SET withdrawn_at = $3 WHERE release_id = $1 AND approver = $2 \
                         AND decision = 'approve' AND withdrawn_at IS NULL",
                    )
                    .bind(id.as_str())
                    .bind(approver.as_str())
                    .bind(at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("approval"))?;
                    tx.commit().await.map_err(map_err("approval"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn deploy_release(&self, d: &Deployment) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let pending = sqlx::query("UPDATE releases SET status = status WHERE id = $1 AND status = 'pending'")
                        .bind(d.release.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("release"))?;
                    if pending.rows_affected() != 1 {
                        return Ok(false);
                    }
                    if !d.break_glass {
                        let rows = sqlx::query(
                            "SELECT approver FROM release_approvals WHERE release_id = $1 AND decision = 'approve' \
                             AND withdrawn_at IS NULL ORDER BY approver",
                        )
                        .bind(d.release.as_str())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map_err("approvals"))?;
                        let standing: Vec<String> =
                            rows.iter().map(|r| r.try_get("approver")).collect::<std::result::Result<_, _>>().map_err(|e| bad("approvals", e))?;
                        let mut expected: Vec<String> = d.approvers.iter().map(|a| a.as_str().to_string()).collect();
                        expected.sort();
                        if standing != expected {
                            return Ok(false);
                        }
                    }
                    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM zone_deployments WHERE zone = $1 AND model_id = $2")
                        .bind(&d.zone)
                        .bind(d.model.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map_err("deployment"))?;
                    let last: i64 = row.try_get("seq").map_err(|e| bad("deployment", e))?;
                    if last != i64_of(d.after_seq)? {
                        return Ok(false);
                    }
                    let inserted = sqlx::query(&format!(
                        "INSERT INTO zone_deployments ({DEPLOYMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    ))
                    .bind(&d.zone)
                    .bind(d.model.as_str())
                    .bind(last + 1)
                    .bind(d.project.as_str())
                    .bind(d.release.as_str())
                    .bind(i64_of(d.version)?)
                    .bind(d.at.0)
                    .execute(&mut *tx)
                    .await;
                    match inserted {
                        Ok(_) => {}
                        // Another replica deployed to the same place in the history first.
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(false),
                        Err(e) => return Err(map_err("deployment")(e)),
                    }
                    sqlx::query(
                        "UPDATE releases SET status = 'deployed', deployed_by = $2, deployed_at = $3, previous = $4, \
                         manifest = $5, needs_review = $6 WHERE id = $1",
                    )
                    .bind(d.release.as_str())
                    .bind(d.by.as_str())
                    .bind(d.at.0)
                    .bind(d.previous.as_ref().map(ReleaseId::as_str))
                    .bind(&d.manifest)
                    .bind(i64::from(d.break_glass))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("release"))?;
                    tx.commit().await.map_err(map_err("deployment"))?;
                    Ok(true)
                }

                async fn close_release(&self, id: &ReleaseId, status: &str) -> Result<bool> {
                    let r = sqlx::query("UPDATE releases SET status = $2 WHERE id = $1 AND status = 'pending'")
                        .bind(id.as_str())
                        .bind(status)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err("release"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn review_release(&self, id: &ReleaseId, by: &SubjectId, at: Timestamp) -> Result<bool> {
                    let r = sqlx::query(
                        "UPDATE releases SET needs_review = 0, reviewed_by = $2, reviewed_at = $3 \
                         WHERE id = $1 AND needs_review = 1",
                    )
                    .bind(id.as_str())
                    .bind(by.as_str())
                    .bind(at.0)
                    .execute(&self.writer)
                    .await
                    .map_err(map_err("release"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn zone_history(&self, zone: &str, m: &ModelId) -> Result<Vec<DeploymentRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {DEPLOYMENT_COLS} FROM zone_deployments WHERE zone = $1 AND model_id = $2 ORDER BY seq"
                    ))
                    .bind(zone)
                    .bind(m.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("deployments"))?;
                    collect(rows, deployment)
                }

                async fn active_in_zone(
                    &self,
                    zone: &str,
                    project: Option<&ProjectId>,
                    at: Timestamp,
                ) -> Result<Vec<DeploymentRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {DEPLOYMENT_COLS} FROM zone_deployments d WHERE zone = $1 AND deployed_at <= $2 \
                         AND ($3 = '' OR project_id = $3) AND seq = (SELECT MAX(seq) FROM zone_deployments e \
                         WHERE e.zone = d.zone AND e.model_id = d.model_id AND e.deployed_at <= $2) ORDER BY model_id"
                    ))
                    .bind(zone)
                    .bind(at.0)
                    .bind(project.map(ProjectId::as_str).unwrap_or(""))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("deployments"))?;
                    collect(rows, deployment)
                }

                async fn unreviewed_releases(&self, project: &ProjectId) -> Result<Vec<ReleaseRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {RELEASE_COLS} FROM releases WHERE project_id = $1 AND needs_review = 1 ORDER BY id"
                    ))
                    .bind(project.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("releases"))?;
                    collect(rows, release)
                }

                async fn create_dataset(&self, d: &DatasetRecord) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    insert_dataset(&mut *tx, d, false).await?;
                    bump_catalog(&mut *tx).await?;
                    tx.commit().await.map_err(map_err("dataset"))?;
                    Ok(())
                }

                async fn update_dataset(&self, d: &DatasetRecord) -> Result<bool> {
                    let (classes, columns, tags) = dataset_json(d)?;
                    let mut tx = self.begin_write().await?;
                    let r = sqlx::query(
                        "UPDATE datasets SET project_id = $2, location = $3, layer = $4, classes = $5, columns = $6, \
                         residency = $7, owner = $8, retention_days = $9, tags = $10, classified = $11, updated_at = $12, \
                         legal_hold = $13, published = $14 WHERE id = $1",
                    )
                    .bind(d.id.as_str())
                    .bind(d.project.as_ref().map(ProjectId::as_str))
                    .bind(d.location.as_deref())
                    .bind(d.layer.as_deref())
                    .bind(classes)
                    .bind(columns)
                    .bind(d.residency.as_deref())
                    .bind(d.owner.as_deref())
                    .bind(d.retention_days.map(i64::from))
                    .bind(tags)
                    .bind(i64::from(d.classified))
                    .bind(d.updated_at.0)
                    .bind(d.legal_hold.as_deref())
                    .bind(i64::from(d.published))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("dataset"))?;
                    if r.rows_affected() != 1 {
                        return Ok(false);
                    }
                    bump_catalog(&mut *tx).await?;
                    tx.commit().await.map_err(map_err("dataset"))?;
                    Ok(true)
                }

                async fn delete_dataset(&self, id: &DatasetId) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    for table in ["dataset_proposals", "transfers"] {
                        sqlx::query(&format!("DELETE FROM {table} WHERE dataset_id = $1"))
                            .bind(id.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err("dataset"))?;
                    }
                    let r = sqlx::query("DELETE FROM datasets WHERE id = $1")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("dataset"))?;
                    if r.rows_affected() != 1 {
                        return Ok(false);
                    }
                    bump_catalog(&mut *tx).await?;
                    tx.commit().await.map_err(map_err("dataset"))?;
                    Ok(true)
                }

                async fn get_dataset(&self, id: &DatasetId) -> Result<Option<DatasetRecord>> {
                    optional(&self.pool, &format!("SELECT {DATASET_COLS} FROM datasets WHERE id = $1"), id.as_str(), dataset, "dataset").await
                }

                async fn find_dataset(&self, namespace: &str, name: &str) -> Result<Option<DatasetRecord>> {
                    let row = sqlx::query(&format!("SELECT {DATASET_COLS} FROM datasets WHERE namespace = $1 AND name = $2"))
                        .bind(namespace)
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("dataset"))?;
                    row.as_ref().map(dataset).transpose()
                }

                async fn list_datasets(&self, project: Option<&ProjectId>, unclassified: bool, page: &Page) -> Result<Vec<DatasetRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {DATASET_COLS} FROM datasets WHERE ($1 = '' OR project_id = $1) AND ($2 = 0 OR classified = 0) \
                         AND id > $3 ORDER BY id LIMIT $4"
                    ))
                    .bind(project.map(ProjectId::as_str).unwrap_or(""))
                    .bind(i64::from(unclassified))
                    .bind(page.after_str())
                    .bind(page.limit_i64())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("datasets"))?;
                    collect(rows, dataset)
                }

                async fn catalog_version(&self) -> Result<u64> {
                    let row = sqlx::query("SELECT version FROM catalog_head WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err("catalog head"))?;
                    u64_of(row.try_get("version").map_err(|e| bad("catalog head", e))?, "catalog head")
                }

                async fn write_lineage(&self, w: &LineageWrite) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // The head row first: it orders every lineage write (events and edges).
                    insert_edges(&mut tx, &w.edges).await?;
                    let e = &w.event;
                    sqlx::query(
                        "INSERT INTO lineage_events (seq, run_id, event_type, event_time, producer, received_at, received_by, event) \
                         SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM lineage_events",
                    )
                    .bind(e.run_id.as_deref())
                    .bind(&e.event_type)
                    .bind(e.event_time.0)
                    .bind(&e.producer)
                    .bind(e.received_at.0)
                    .bind(e.received_by.as_str())
                    .bind(&e.event)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("lineage event"))?;
                    if let Some(r) = &w.run {
                        // A finished run stays finished when a late START or RUNNING arrives.
                        sqlx::query(&format!(
                            "INSERT INTO lineage_runs ({RUN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                             ON CONFLICT (run_id) DO UPDATE SET \
                             state = CASE WHEN lineage_runs.state IN ('COMPLETE', 'FAIL', 'ABORT') \
                                          AND excluded.state IN ('START', 'RUNNING', 'OTHER') \
                                     THEN lineage_runs.state ELSE excluded.state END, \
                             parent_run = COALESCE(excluded.parent_run, lineage_runs.parent_run), \
                             started_at = COALESCE(lineage_runs.started_at, excluded.started_at), \
                             ended_at = COALESCE(excluded.ended_at, lineage_runs.ended_at), \
                             zone = COALESCE(excluded.zone, lineage_runs.zone), \
                             updated_at = excluded.updated_at"
                        ))
                        .bind(&r.run_id)
                        .bind(&r.job_namespace)
                        .bind(&r.job_name)
                        .bind(&r.state)
                        .bind(r.parent_run.as_deref())
                        .bind(r.started_at.map(|t| t.0))
                        .bind(r.ended_at.map(|t| t.0))
                        .bind(r.updated_at.0)
                        .bind(r.zone.as_deref())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("lineage run"))?;
                    }
                    let mut added = false;
                    for d in &w.datasets {
                        added |= insert_dataset(&mut *tx, d, true).await?;
                    }
                    if added {
                        bump_catalog(&mut *tx).await?;
                    }
                    tx.commit().await.map_err(map_err("lineage"))?;
                    Ok(())
                }

                async fn add_lineage_edges(&self, edges: &[(String, String)]) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    insert_edges(&mut tx, edges).await?;
                    tx.commit().await.map_err(map_err("lineage"))?;
                    Ok(())
                }

                async fn lineage_edges_since(&self, after: u64, limit: u32) -> Result<Vec<(u64, String, String)>> {
                    let rows = sqlx::query("SELECT id, from_node, to_node FROM lineage_edges WHERE id > $1 ORDER BY id LIMIT $2")
                        .bind(i64_of(after)?)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("lineage edges"))?;
                    rows.iter()
                        .map(|r| {
                            let g = |e: sqlx::Error| bad("lineage edge", e);
                            Ok((u64_of(r.try_get("id").map_err(g)?, "lineage edge")?, r.try_get("from_node").map_err(g)?, r.try_get("to_node").map_err(g)?))
                        })
                        .collect()
                }

                async fn zoned_runs(&self, limit: u32) -> Result<Vec<LineageRunRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {RUN_COLS} FROM lineage_runs WHERE zone IS NOT NULL ORDER BY updated_at DESC LIMIT $1"
                    ))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("lineage runs"))?;
                    collect(rows, lineage_run)
                }

                async fn create_transfer(&self, x: &TransferRecord) -> Result<()> {
                    sqlx::query(&format!("INSERT INTO transfers ({TRANSFER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"))
                        .bind(x.id.as_str())
                        .bind(x.project.as_str())
                        .bind(x.dataset.as_str())
                        .bind(&x.to_zone)
                        .bind(&x.reason)
                        .bind(&x.status)
                        .bind(x.requested_by.as_str())
                        .bind(x.requested_at.0)
                        .bind(x.decided_by.as_ref().map(SubjectId::as_str))
                        .bind(x.decided_at.map(|t| t.0))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err("transfer"))?;
                    Ok(())
                }

                async fn get_transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>> {
                    optional(&self.pool, &format!("SELECT {TRANSFER_COLS} FROM transfers WHERE id = $1"), id.as_str(), transfer, "transfer").await
                }

                async fn decide_transfer(&self, id: &TransferId, status: &str, by: &SubjectId, at: Timestamp) -> Result<bool> {
                    decide_pending(&self.writer, "transfers", id.as_str(), status, by, at).await
                }

                async fn list_transfers(&self, project: &ProjectId) -> Result<Vec<TransferRecord>> {
                    let rows = sqlx::query(&format!("SELECT {TRANSFER_COLS} FROM transfers WHERE project_id = $1 ORDER BY id DESC"))
                        .bind(project.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("transfers"))?;
                    collect(rows, transfer)
                }

                async fn approved_transfers(&self) -> Result<Vec<(DatasetId, String)>> {
                    let rows = sqlx::query("SELECT dataset_id, to_zone FROM transfers WHERE status = 'approved'")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("transfers"))?;
                    rows.iter()
                        .map(|r| {
                            let g = |e: sqlx::Error| bad("transfer", e);
                            let d: String = r.try_get("dataset_id").map_err(g)?;
                            Ok((DatasetId::parse(&d).map_err(|e| bad("transfer", e))?, r.try_get("to_zone").map_err(g)?))
                        })
                        .collect()
                }

                async fn create_proposal(&self, x: &ProposalRecord) -> Result<()> {
                    sqlx::query(&format!("INSERT INTO dataset_proposals ({PROPOSAL_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"))
                        .bind(&x.id)
                        .bind(x.dataset.as_str())
                        .bind(x.project.as_str())
                        .bind(&x.body)
                        .bind(&x.status)
                        .bind(x.proposed_by.as_str())
                        .bind(x.proposed_at.0)
                        .bind(x.decided_by.as_ref().map(SubjectId::as_str))
                        .bind(x.decided_at.map(|t| t.0))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err("proposal"))?;
                    Ok(())
                }

                async fn get_proposal(&self, id: &str) -> Result<Option<ProposalRecord>> {
                    optional(&self.pool, &format!("SELECT {PROPOSAL_COLS} FROM dataset_proposals WHERE id = $1"), id, proposal, "proposal").await
                }

                async fn decide_proposal(&self, id: &str, status: &str, by: &SubjectId, at: Timestamp) -> Result<bool> {
                    decide_pending(&self.writer, "dataset_proposals", id, status, by, at).await
                }

                async fn list_proposals(&self, dataset: &DatasetId) -> Result<Vec<ProposalRecord>> {
                    let rows = sqlx::query(&format!("SELECT {PROPOSAL_COLS} FROM dataset_proposals WHERE dataset_id = $1 ORDER BY id"))
                        .bind(dataset.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("proposals"))?;
                    collect(rows, proposal)
                }

                async fn add_payload_log(&self, x: &PayloadLogRecord) -> Result<()> {
                    sqlx::query(&format!("INSERT INTO payload_logs ({PAYLOAD_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"))
                        .bind(&x.id)
                        .bind(x.project.as_str())
                        .bind(x.key.as_deref())
                        .bind(&x.zone)
                        .bind(&x.class)
                        .bind(x.nonce.as_slice())
                        .bind(x.ciphertext.as_slice())
                        .bind(x.created_at.0)
                        .bind(x.expires_at.0)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err("payload log"))?;
                    Ok(())
                }

                async fn get_payload_log(&self, project: &ProjectId, id: &str) -> Result<Option<PayloadLogRecord>> {
                    let row = sqlx::query(&format!("SELECT {PAYLOAD_COLS} FROM payload_logs WHERE id = $1 AND project_id = $2"))
                        .bind(id)
                        .bind(project.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("payload log"))?;
                    row.as_ref().map(payload_log).transpose()
                }

                async fn expire_payload_logs(&self, now: Timestamp, limit: u32) -> Result<Vec<PayloadLogRecord>> {
                    let mut tx = self.begin_write().await?;
                    let rows = sqlx::query(&format!(
                        "SELECT {PAYLOAD_COLS} FROM payload_logs WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2"
                    ))
                    .bind(now.0)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err("payload logs"))?;
                    let mut gone = collect(rows, payload_log)?;
                    for p in &mut gone {
                        sqlx::query("DELETE FROM payload_logs WHERE id = $1")
                            .bind(&p.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err("payload log"))?;
                        p.ciphertext.clear();
                        p.nonce.clear();
                    }
                    tx.commit().await.map_err(map_err("payload logs"))?;
                    Ok(gone)
                }

                async fn create_deletion(&self, x: &DeletionRequestRecord, tasks: &[DeletionTaskRecord]) -> Result<()> {
                    let datasets: Vec<&str> = x.datasets.iter().map(DatasetId::as_str).collect();
                    let datasets = serde_json::to_string(&datasets).map_err(|e| StoreError::Internal(e.to_string()))?;
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO deletion_requests (id, subject_ref, reason, datasets, requested_by, requested_at, due_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(x.id.as_str())
                    .bind(&x.subject_ref)
                    .bind(&x.reason)
                    .bind(datasets)
                    .bind(x.requested_by.as_str())
                    .bind(x.requested_at.0)
                    .bind(x.due_at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("deletion request"))?;
                    for t in tasks {
                        sqlx::query(&format!(
                            "INSERT INTO deletion_tasks (request_id, {TASK_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
                        ))
                        .bind(x.id.as_str())
                        .bind(i64_of(t.seq)?)
                        .bind(&t.target)
                        .bind(&t.kind)
                        .bind(t.project.as_ref().map(ProjectId::as_str))
                        .bind(t.owner.as_deref())
                        .bind(t.due_at.0)
                        .bind(&t.status)
                        .bind(t.evidence.as_deref())
                        .bind(t.closed_by.as_ref().map(SubjectId::as_str))
                        .bind(t.closed_at.map(|t| t.0))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("deletion task"))?;
                    }
                    tx.commit().await.map_err(map_err("deletion request"))?;
                    Ok(())
                }

                async fn get_deletion(&self, id: &DeletionId) -> Result<Option<(DeletionRequestRecord, Vec<DeletionTaskRecord>)>> {
                    let Some(row) = sqlx::query(
                        "SELECT id, subject_ref, reason, datasets, requested_by, requested_at, due_at FROM deletion_requests WHERE id = $1",
                    )
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err("deletion request"))?
                    else {
                        return Ok(None);
                    };
                    let w = "deletion request";
                    let g = |e: sqlx::Error| bad(w, e);
                    let datasets: Vec<String> =
                        serde_json::from_str(&row.try_get::<String, _>("datasets").map_err(g)?).map_err(|e| bad(w, e))?;
                    let request = DeletionRequestRecord {
                        id: id.clone(),
                        subject_ref: row.try_get("subject_ref").map_err(g)?,
                        reason: row.try_get("reason").map_err(g)?,
                        datasets: datasets.iter().map(|d| DatasetId::parse(d)).collect::<std::result::Result<_, _>>().map_err(|e| bad(w, e))?,
                        requested_by: subject_of(&row.try_get::<String, _>("requested_by").map_err(g)?, w)?,
                        requested_at: Timestamp(row.try_get("requested_at").map_err(g)?),
                        due_at: Timestamp(row.try_get("due_at").map_err(g)?),
                    };
                    let rows = sqlx::query(&format!("SELECT {TASK_COLS} FROM deletion_tasks WHERE request_id = $1 ORDER BY seq"))
                        .bind(id.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("deletion tasks"))?;
                    Ok(Some((request, collect(rows, deletion_task)?)))
                }

                async fn close_deletion_task(&self, id: &DeletionId, seq: u64, evidence: &str, by: &SubjectId, at: Timestamp) -> Result<bool> {
                    let r = sqlx::query(
                        "UPDATE deletion_tasks SET status = 'done', evidence = $3, closed_by = $4, closed_at = $5 \
                         WHERE request_id = $1 AND seq = $2 AND status = 'open'",
                    )
                    .bind(id.as_str())
                    .bind(i64_of(seq)?)
                    .bind(evidence)
                    .bind(by.as_str())
                    .bind(at.0)
                    .execute(&self.writer)
                    .await
                    .map_err(map_err("deletion task"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn open_deletion_tasks(&self, limit: u32) -> Result<Vec<(DeletionId, DeletionTaskRecord)>> {
                    let rows = sqlx::query(&format!(
                        "SELECT request_id, {TASK_COLS} FROM deletion_tasks WHERE status = 'open' ORDER BY due_at, request_id, seq LIMIT $1"
                    ))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("deletion tasks"))?;
                    rows.iter()
                        .map(|r| {
                            let id: String = r.try_get("request_id").map_err(|e| bad("deletion task", e))?;
                            Ok((DeletionId::parse(&id).map_err(|e| bad("deletion task", e))?, deletion_task(r)?))
                        })
                        .collect()
                }

                async fn get_lineage_run(&self, run_id: &str) -> Result<Option<LineageRunRecord>> {
                    optional(&self.pool, &format!("SELECT {RUN_COLS} FROM lineage_runs WHERE run_id = $1"), run_id, lineage_run, "lineage run").await
                }

                async fn set_switch(&self, x: &SwitchRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO gateway_switches (target, reason, set_by, set_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (target) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by, \
                         set_at = excluded.set_at",
                    )
                    .bind(&x.target)
                    .bind(&x.reason)
                    .bind(x.set_by.as_str())
                    .bind(x.set_at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("switch"))?;
                    Ok(())
                }

                async fn clear_switch(&self, target: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM gateway_switches WHERE target = $1")
                        .bind(target)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("switch"))?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_switches(&self) -> Result<Vec<SwitchRecord>> {
                    let rows = sqlx::query("SELECT target, reason, set_by, set_at FROM gateway_switches ORDER BY target")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("switches"))?;
                    collect(rows, |row| {
                        let g = |e: sqlx::Error| bad("switch", e);
                        let by: String = row.try_get("set_by").map_err(g)?;
                        Ok(SwitchRecord {
                            target: row.try_get("target").map_err(g)?,
                            reason: row.try_get("reason").map_err(g)?,
                            set_by: SubjectId::parse(&by).map_err(|e| bad("switch", e))?,
                            set_at: Timestamp(row.try_get("set_at").map_err(g)?),
                        })
                    })
                }

                async fn put_provider(&self, x: &ProviderRecord) -> Result<bool> {
                    let models = serde_json::to_string(&x.models).map_err(|e| bad("provider", e))?;
                    let q = if x.revision == 1 {
                        "INSERT INTO gateway_providers (name, base_url, region, external, models, prices, key_nonce, \
                         key_sealed, created_by, created_at, updated_by, updated_at, revision) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (name) DO NOTHING"
                    } else {
                        "UPDATE gateway_providers SET base_url = $2, region = $3, external = $4, models = $5, prices = $6, \
                         key_nonce = $7, key_sealed = $8, updated_by = $11, updated_at = $12, revision = $13 \
                         WHERE name = $1 AND revision = $13 - 1 AND created_by = $9 AND created_at = $10"
                    };
                    let r = sqlx::query(q)
                        .bind(&x.name)
                        .bind(&x.base_url)
                        .bind(&x.region)
                        .bind(x.external)
                        .bind(models)
                        .bind(&x.prices)
                        .bind(x.key_nonce.as_deref())
                        .bind(x.key_sealed.as_deref())
                        .bind(x.created_by.as_str())
                        .bind(x.created_at.0)
                        .bind(x.updated_by.as_str())
                        .bind(x.updated_at.0)
                        .bind(x.revision)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err("provider"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn delete_provider(&self, name: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM gateway_providers WHERE name = $1")
                        .bind(name)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err("provider"))?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_providers(&self) -> Result<Vec<ProviderRecord>> {
                    let rows = sqlx::query(
                        "SELECT name, base_url, region, external, models, prices, key_nonce, key_sealed, created_by, \
                         created_at, updated_by, updated_at, revision FROM gateway_providers ORDER BY name",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("providers"))?;
                    collect(rows, |row| {
                        let g = |e: sqlx::Error| bad("provider", e);
                        let subject = |col: &str| subject_of(&row.try_get::<String, _>(col).map_err(g)?, "provider");
                        Ok(ProviderRecord {
                            name: row.try_get("name").map_err(g)?,
                            base_url: row.try_get("base_url").map_err(g)?,
                            region: row.try_get("region").map_err(g)?,
                            external: row.try_get("external").map_err(g)?,
                            models: serde_json::from_str(&row.try_get::<String, _>("models").map_err(g)?)
                                .map_err(|e| bad("provider", e))?,
                            prices: row.try_get("prices").map_err(g)?,
                            key_nonce: row.try_get("key_nonce").map_err(g)?,
                            key_sealed: row.try_get("key_sealed").map_err(g)?,
                            created_by: subject("created_by")?,
                            created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                            updated_by: subject("updated_by")?,
                            updated_at: Timestamp(row.try_get("updated_at").map_err(g)?),
                            revision: row.try_get("revision").map_err(g)?,
                        })
                    })
                }

                async fn create_upload(&self, x: &UploadRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO blob_uploads (id, project_id, created_by, created_at, expires_at, size) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(x.id.as_str())
                    .bind(x.project.as_str())
                    .bind(x.created_by.as_str())
                    .bind(x.created_at.0)
                    .bind(x.expires_at.0)
                    .bind(i64_of(x.size)?)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("upload"))?;
                    Ok(())
                }

                async fn get_upload(&self, id: &UploadId) -> Result<Option<UploadRecord>> {
                    let row = sqlx::query(
                        "SELECT id, project_id, created_by, created_at, expires_at, size FROM blob_uploads WHERE id = $1",
                    )
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err("upload"))?;
                    let Some(row) = row else { return Ok(None) };
                    let g = |e: sqlx::Error| bad("upload", e);
                    let (id, project, by): (String, String, String) = (
                        row.try_get("id").map_err(g)?,
                        row.try_get("project_id").map_err(g)?,
                        row.try_get("created_by").map_err(g)?,
                    );
                    Ok(Some(UploadRecord {
                        id: UploadId::parse(&id).map_err(|e| bad("upload", e))?,
                        project: ProjectId::parse(&project).map_err(|e| bad("upload", e))?,
                        created_by: SubjectId::parse(&by).map_err(|e| bad("upload", e))?,
                        created_at: Timestamp(row.try_get("created_at").map_err(g)?),
                        expires_at: Timestamp(row.try_get("expires_at").map_err(g)?),
                        size: u64::try_from(row.try_get::<i64, _>("size").map_err(g)?).map_err(|e| bad("upload", e))?,
                    }))
                }

                async fn add_upload_part(&self, id: &UploadId, p: &UploadPartRecord) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let moved = sqlx::query("UPDATE blob_uploads SET size = size + $1 WHERE id = $2 AND size = $3")
                        .bind(i64_of(p.size)?)
                        .bind(id.as_str())
                        .bind(i64_of(p.offset)?)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("upload"))?;
                    if moved.rows_affected() == 0 {
                        return Ok(false);
                    }
                    sqlx::query("INSERT INTO blob_upload_parts (upload_id, \"offset\", size, object) VALUES ($1, $2, $3, $4)")
                        .bind(id.as_str())
                        .bind(i64_of(p.offset)?)
                        .bind(i64_of(p.size)?)
                        .bind(&p.object)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("upload part"))?;
                    tx.commit().await.map_err(map_err("upload part"))?;
                    Ok(true)
                }

                async fn list_upload_parts(&self, id: &UploadId) -> Result<Vec<UploadPartRecord>> {
                    let rows = sqlx::query(
                        "SELECT \"offset\", size, object FROM blob_upload_parts WHERE upload_id = $1 ORDER BY \"offset\"",
                    )
                    .bind(id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("upload parts"))?;
                    collect(rows, |row| {
                        let g = |e: sqlx::Error| bad("upload part", e);
                        Ok(UploadPartRecord {
                            offset: u64::try_from(row.try_get::<i64, _>("offset").map_err(g)?)
                                .map_err(|e| bad("upload part", e))?,
                            size: u64::try_from(row.try_get::<i64, _>("size").map_err(g)?)
                                .map_err(|e| bad("upload part", e))?,
                            object: row.try_get("object").map_err(g)?,
                        })
                    })
                }

                async fn delete_upload(&self, id: &UploadId) -> Result<Vec<String>> {
                    let mut tx = self.begin_write().await?;
                    let rows = sqlx::query("DELETE FROM blob_upload_parts WHERE upload_id = $1 RETURNING object")
                        .bind(id.as_str())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map_err("upload parts"))?;
                    sqlx::query("DELETE FROM blob_uploads WHERE id = $1")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("upload"))?;
                    tx.commit().await.map_err(map_err("upload"))?;
                    rows.iter().map(|r| r.try_get("object").map_err(|e| bad("upload part", e))).collect()
                }

                async fn expired_uploads(&self, now: Timestamp, limit: u32) -> Result<Vec<UploadId>> {
                    let rows = sqlx::query("SELECT id FROM blob_uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2")
                        .bind(now.0)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("uploads"))?;
                    rows.iter()
                        .map(|r| {
                            let id: String = r.try_get("id").map_err(|e| bad("upload", e))?;
                            UploadId::parse(&id).map_err(|e| bad("upload", e))
                        })
                        .collect()
                }

                async fn create_signer(&self, x: &SignerRecord) -> Result<()> {
                    sqlx::query(&format!("INSERT INTO signers ({SIGNER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"))
                        .bind(x.id.as_str())
                        .bind(x.project.as_ref().map(|p| p.as_str()))
                        .bind(&x.name)
                        .bind(&x.algorithm)
                        .bind(&x.public_key)
                        .bind(x.not_before.map(|t| t.0))
                        .bind(x.not_after.map(|t| t.0))
                        .bind(x.revoked_at.map(|t| t.0))
                        .bind(x.created_by.as_str())
                        .bind(x.created_at.0)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("signer"))?;
                    Ok(())
                }

                async fn get_signer(&self, id: &SignerId) -> Result<Option<SignerRecord>> {
                    optional(&self.pool, &format!("SELECT {SIGNER_COLS} FROM signers WHERE id = $1"), id.as_str(), signer, "signer").await
                }

                async fn list_signers(&self, project: Option<&ProjectId>) -> Result<Vec<SignerRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {SIGNER_COLS} FROM signers WHERE project_id IS NULL OR project_id = $1 ORDER BY id"
                    ))
                    .bind(project.map(|p| p.as_str()).unwrap_or(""))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("signers"))?;
                    collect(rows, signer)
                }

                async fn revoke_signer(&self, id: &SignerId, at: Timestamp) -> Result<bool> {
                    let r = sqlx::query("UPDATE signers SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                        .bind(id.as_str())
                        .bind(at.0)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err("signer"))?;
                    Ok(r.rows_affected() == 1)
                }

                async fn append_audit(&self, leaves: &[AuditLeaf]) -> Result<u64> {
                    if leaves.is_empty() {
                        return self.audit_size().await;
                    }
                    let n = i64::try_from(leaves.len()).map_err(|e| StoreError::Internal(e.to_string()))?;
                    let mut tx = self.begin_write().await?;
                    // Taking the head row first serialises appenders (row lock on
                    // PostgreSQL, the write lock on SQLite): indexes never gap or repeat.
                    let row = sqlx::query("UPDATE audit_head SET size = size + $1 WHERE id = 1 RETURNING size")
                        .bind(n)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map_err("audit head"))?;
                    let end: i64 = row.try_get("size").map_err(|e| bad("audit head", e))?;
                    let first = end - n;
                    // Power-of-two chunks: a handful of statement shapes, each prepared
                    // once and cached, instead of a new statement for every batch size.
                    let mut at = 0usize;
                    while at < leaves.len() {
                        let len = audit_chunk(leaves.len() - at);
                        let chunk = &leaves[at..at + len];
                        let base = first + at as i64;
                        at += len;
                        let mut qb = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO audit_log ({AUDIT_COLS}) "));
                        qb.push_values(chunk.iter().enumerate(), |mut b, (i, l)| {
                            b.push_bind(base + i as i64)
                                .push_bind(l.time.0)
                                .push_bind(l.category.as_str())
                                .push_bind(l.action.as_str())
                                .push_bind(l.actor.as_deref())
                                .push_bind(l.resource.as_deref())
                                .push_bind(l.outcome.as_str())
                                .push_bind(l.project.as_deref())
                                .push_bind(l.request_id.as_deref())
                                .push_bind(l.event.as_str())
                                .push_bind(l.leaf_hash.as_slice());
                        });
                        qb.build().execute(&mut *tx).await.map_err(map_err("audit entry"))?;
                    }
                    tx.commit().await.map_err(map_err("audit append"))?;
                    u64::try_from(first).map_err(|e| bad("audit head", e))
                }

                async fn index_audit(&self, max: u64) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let from = lock_index_head(&mut tx).await?;
                    // Entries below the log's head are committed (they commit with it).
                    let row = sqlx::query("SELECT size FROM audit_head WHERE id = 1")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map_err("audit head"))?;
                    let size: i64 = row.try_get("size").map_err(|e| bad("audit head", e))?;
                    let to = size.min(from.saturating_add(i64_of(max)?));
                    if to <= from {
                        return u64::try_from(from).map_err(|e| bad("audit index", e));
                    }
                    // One row per distinct term per block; a block indexed in part before
                    // (the appends paused inside it) gains only the terms it lacked.
                    for (prefix, column) in AUDIT_TERMS {
                        sqlx::query(&format!(
                            "INSERT INTO audit_index (term, block) SELECT DISTINCT '{prefix}' || {column}, idx / {AUDIT_BLOCK} \
                             FROM audit_log WHERE idx >= $1 AND idx < $2 AND {column} IS NOT NULL \
                             ON CONFLICT (term, block) DO NOTHING"
                        ))
                        .bind(from)
                        .bind(to)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err("audit index"))?;
                    }
                    move_index_head(tx, to).await?;
                    u64::try_from(to).map_err(|e| bad("audit index", e))
                }

                async fn index_audit_terms(&self, from: u64, to: u64, terms: &[(String, u64)]) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let head = lock_index_head(&mut tx).await?;
                    if head != i64_of(from)? {
                        return Ok(false);
                    }
                    for chunk in terms.chunks(512) {
                        let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO audit_index (term, block) ");
                        qb.push_values(chunk, |mut b, (term, block)| {
                            b.push_bind(term.as_str()).push_bind(*block as i64);
                        });
                        qb.push(" ON CONFLICT (term, block) DO NOTHING");
                        qb.build().execute(&mut *tx).await.map_err(map_err("audit index"))?;
                    }
                    move_index_head(tx, i64_of(to)?).await?;
                    Ok(true)
                }

                async fn audit_size(&self) -> Result<u64> {
                    let row = sqlx::query("SELECT size FROM audit_head WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err("audit head"))?;
                    let size: i64 = row.try_get("size").map_err(|e| bad("audit head", e))?;
                    u64::try_from(size).map_err(|e| bad("audit head", e))
                }

                async fn audit_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
                    let rows = sqlx::query("SELECT leaf_hash FROM audit_log WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                        .bind(i64_of(from)?)
                        .bind(i64_of(to)?)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err("audit hashes"))?;
                    rows.iter().map(|r| r.try_get("leaf_hash").map_err(|e| bad("audit", e))).collect()
                }

                async fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {AUDIT_COLS} FROM audit_log WHERE idx >= $1 ORDER BY idx LIMIT $2"
                    ))
                    .bind(i64_of(from)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("audit entries"))?;
                    collect(rows, audit_entry)
                }

                async fn search_audit(&self, f: &AuditFilter, page: &Page) -> Result<Vec<AuditEntry>> {
                    let after: i64 = match page.after.as_deref() {
                        None => -1,
                        Some(c) => c.parse().map_err(|_| StoreError::OutOfRange(format!("the audit cursor `{c}`")))?,
                    };
                    let limit = page.limit_i64();
                    // The most selective term the filter names, if any.
                    let term = [("actor:", &f.actor), ("resource:", &f.resource), ("project:", &f.project), ("action:", &f.action), ("outcome:", &f.outcome)]
                        .into_iter()
                        .find_map(|(prefix, v)| v.as_ref().map(|v| format!("{prefix}{v}")));
                    let mut found = Vec::new();
                    // Entries below the index head come through the index, in index order;
                    // the tail above it (a few thousand at most) is scanned.
                    let mut tail_after = after;
                    if let Some(term) = &term {
                        let row = sqlx::query("SELECT size FROM audit_index_head WHERE id = 1")
                            .fetch_one(&self.pool)
                            .await
                            .map_err(map_err("audit index"))?;
                        let indexed: i64 = row.try_get("size").map_err(|e| bad("audit index", e))?;
                        // The blocks the term occurs in, a few dozen at a time; runs of
                        // consecutive blocks are read as one range of entries, filtered.
                        let in_range = format!(
                            "SELECT {AUDIT_COLS} FROM audit_log l WHERE l.idx > $1 AND l.idx < $11 AND {AUDIT_WHERE} ORDER BY l.idx LIMIT $10"
                        );
                        let mut next_block = (after + 1) / AUDIT_BLOCK;
                        let last_block = (indexed - 1) / AUDIT_BLOCK;
                        while after + 1 < indexed && next_block <= last_block {
                            let rows = sqlx::query(
                                "SELECT block FROM audit_index WHERE term = $1 AND block >= $2 AND block <= $3 ORDER BY block LIMIT 64",
                            )
                            .bind(term)
                            .bind(next_block)
                            .bind(last_block)
                            .fetch_all(&self.pool)
                            .await
                            .map_err(map_err("audit index"))?;
                            let blocks: Vec<i64> =
                                collect(rows, |r| r.try_get("block").map_err(|e| bad("audit index", e)))?;
                            let Some(&last) = blocks.last() else { break };
                            for (lo, hi) in block_runs(&blocks) {
                                let below = (lo * AUDIT_BLOCK).max(after + 1) - 1;
                                let above = ((hi + 1) * AUDIT_BLOCK).min(indexed);
                                let rows = bind_filter(sqlx::query(&in_range), below, f, limit - found.len() as i64).bind(above);
                                found.extend(collect(rows.fetch_all(&self.pool).await.map_err(map_err("audit search"))?, audit_entry)?);
                                if found.len() as i64 >= limit {
                                    return Ok(found);
                                }
                            }
                            next_block = last + 1;
                        }
                        tail_after = after.max(indexed - 1);
                    }
                    let sql = format!(
                        "SELECT {AUDIT_COLS} FROM audit_log l WHERE l.idx > $1 AND {AUDIT_WHERE} ORDER BY l.idx LIMIT $10"
                    );
                    let rows = bind_filter(sqlx::query(&sql), tail_after, f, limit - found.len() as i64);
                    found.extend(collect(rows.fetch_all(&self.pool).await.map_err(map_err("audit search"))?, audit_entry)?);
                    Ok(found)
                }

                async fn put_checkpoint(&self, c: &CheckpointRecord) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO audit_checkpoints (tree_size, note, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (tree_size) DO NOTHING",
                    )
                    .bind(i64_of(c.tree_size)?)
                    .bind(&c.note)
                    .bind(c.created_at.0)
                    .execute(&self.writer)
                    .await
                    .map_err(map_err("checkpoint"))?;
                    Ok(())
                }

                async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
                    sqlx::query("SELECT tree_size, note, created_at FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1")
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("checkpoint"))?
                        .as_ref()
                        .map(checkpoint)
                        .transpose()
                }

                async fn list_checkpoints(&self, from_size: u64, limit: u32) -> Result<Vec<CheckpointRecord>> {
                    let rows = sqlx::query(
                        "SELECT tree_size, note, created_at FROM audit_checkpoints WHERE tree_size >= $1 \
                         ORDER BY tree_size LIMIT $2",
                    )
                    .bind(i64_of(from_size)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err("checkpoints"))?;
                    collect(rows, checkpoint)
                }

                async fn checkpoint_covering(&self, size: u64) -> Result<Option<CheckpointRecord>> {
                    Ok(self.list_checkpoints(size, 1).await?.into_iter().next())
                }

                async fn export_cursor(&self, name: &str) -> Result<u64> {
                    let row = sqlx::query("SELECT next_index FROM audit_export_cursors WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err("export cursor"))?;
                    match row {
                        None => Ok(0),
                        Some(r) => {
                            let v: i64 = r.try_get("next_index").map_err(|e| bad("export cursor", e))?;
                            u64::try_from(v).map_err(|e| bad("export cursor", e))
                        }
                    }
                }

                async fn set_export_cursor(&self, name: &str, next_index: u64, at: Timestamp) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO audit_export_cursors (name, next_index, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (name) DO UPDATE SET next_index = excluded.next_index, updated_at = excluded.updated_at",
                    )
                    .bind(name)
                    .bind(i64_of(next_index)?)
                    .bind(at.0)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err("export cursor"))?;
                    Ok(())
                }
            }
        }
    };
}
