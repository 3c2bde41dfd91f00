-- Versions of the policy document (zones, data classes, release rules). Never
-- changed: applying or rolling back adds a version.
CREATE TABLE policy_versions (
    version       BIGINT PRIMARY KEY,
    document      TEXT NOT NULL,
    digest        TEXT NOT NULL,
    comment       TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    restored_from BIGINT
);

-- Evaluation evidence attached to model versions (immutable).
CREATE TABLE model_evaluations (
    model_id  TEXT NOT NULL,
    version   BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    -- JSON object: metric name -> number.
    metrics   TEXT NOT NULL,
    report    TEXT,
    dataset   TEXT,
    added_by  TEXT NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (model_id, version, seq),
    FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
);

CREATE TABLE releases (
    id                 TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects (id),
    model_id           TEXT NOT NULL,
    version            BIGINT NOT NULL,
    zone               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('release', 'rollback', 'break-glass')),
    reason             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'rejected', 'deployed', 'failed', 'superseded')),
    gate               TEXT NOT NULL,
    approvals_required BIGINT NOT NULL,
    approver_role      TEXT NOT NULL,
    policy_version     BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    deployed_by        TEXT,
    deployed_at        BIGINT,
    previous           TEXT,
    manifest           TEXT,
    needs_review       BIGINT NOT NULL DEFAULT 0,
    reviewed_by        TEXT,
    reviewed_at        BIGINT,
    FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
);
CREATE INDEX releases_project ON releases (project_id, id);

CREATE TABLE release_approvals (
    release_id   TEXT NOT NULL REFERENCES releases (id),
    approver     TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment      TEXT NOT NULL,
    mfa          BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    withdrawn_at BIGINT,
    PRIMARY KEY (release_id, approver)
);

-- What became active in each zone, per model: append-only, so any past moment can be
-- answered from it. (zone, model, seq) is unique: two deploys racing for the same
-- place in the history cannot both commit.
CREATE TABLE zone_deployments (
    zone        TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    project_id  TEXT NOT NULL,
    release_id  TEXT NOT NULL REFERENCES releases (id),
    version     BIGINT NOT NULL,
    deployed_at BIGINT NOT NULL,
    PRIMARY KEY (zone, model_id, seq)
);
CREATE INDEX zone_deployments_time ON zone_deployments (zone, deployed_at);

CREATE FUNCTION warden_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION warden_immutable();
CREATE TRIGGER model_evaluations_immutable BEFORE UPDATE OR DELETE ON model_evaluations
    FOR EACH ROW EXECUTE FUNCTION warden_immutable();
CREATE TRIGGER zone_deployments_immutable BEFORE UPDATE OR DELETE ON zone_deployments
    FOR EACH ROW EXECUTE FUNCTION warden_immutable();
