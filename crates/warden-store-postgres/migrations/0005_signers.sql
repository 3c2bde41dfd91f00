-- Trusted signers: public keys whose signatures intake accepts, for the whole
-- organisation (project_id NULL) or one project, within their validity dates.
CREATE TABLE signers (
    id          TEXT PRIMARY KEY,
    project_id  TEXT REFERENCES projects (id),
    name        TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    not_before  BIGINT,
    not_after   BIGINT,
    revoked_at  BIGINT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX signers_project ON signers (project_id);
