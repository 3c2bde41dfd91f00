-- Artifacts whose content retention removed (the intake record itself stays, immutable).
CREATE TABLE artifact_purges (
    artifact_id TEXT PRIMARY KEY REFERENCES artifacts (id),
    purged_at   BIGINT NOT NULL,
    reason      TEXT NOT NULL
);
