-- Intake records (immutable once written) and the model registry.
CREATE TABLE artifacts (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- RFC 8785 JSON of the files (path, digest, size), and its SHA-256.
    manifest        TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    total_size      BIGINT NOT NULL,
    verdict         TEXT NOT NULL CHECK (verdict IN ('admitted', 'rejected')),
    -- JSON: reasons, per-file scan reports, signature checks, metadata.
    evidence        TEXT NOT NULL,
    expires_at      BIGINT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX artifacts_project ON artifacts (project_id, id);

CREATE TABLE models (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE model_versions (
    model_id    TEXT NOT NULL REFERENCES models (id),
    version     BIGINT NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifacts (id),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (model_id, version)
);

CREATE TRIGGER artifacts_immutable BEFORE UPDATE OR DELETE ON artifacts
    FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only();
CREATE TRIGGER model_versions_immutable BEFORE UPDATE OR DELETE ON model_versions
    FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only();
