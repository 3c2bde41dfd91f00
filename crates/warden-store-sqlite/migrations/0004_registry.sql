-- Intake records (immutable once written) and the model registry.
CREATE TABLE artifacts (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- RFC 8785 JSON of the files (path, digest, size), and its SHA-256.
    manifest        TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    total_size      INTEGER NOT NULL,
    verdict         TEXT NOT NULL CHECK (verdict IN ('admitted', 'rejected')),
    -- JSON: reasons, per-file scan reports, signature checks, metadata.
    evidence        TEXT NOT NULL,
    expires_at      INTEGER,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX artifacts_project ON artifacts (project_id, id);

CREATE TABLE models (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE model_versions (
    model_id    TEXT NOT NULL REFERENCES models (id),
    version     INTEGER NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifacts (id),
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (model_id, version)
);

CREATE TRIGGER artifacts_no_update BEFORE UPDATE ON artifacts
BEGIN SELECT RAISE(ABORT, 'intake records are immutable'); END;
CREATE TRIGGER artifacts_no_delete BEFORE DELETE ON artifacts
BEGIN SELECT RAISE(ABORT, 'intake records are immutable'); END;
CREATE TRIGGER model_versions_no_update BEFORE UPDATE ON model_versions
BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
CREATE TRIGGER model_versions_no_delete BEFORE DELETE ON model_versions
BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
