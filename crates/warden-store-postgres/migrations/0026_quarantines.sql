-- Quarantines: a dataset or a model version held back (no release, pull, gateway use
-- or new training use) until someone other than who placed it lifts it. Rows are kept
-- after lifting, as the history of holds; at most one is open per target.
CREATE TABLE quarantines (
    id         TEXT PRIMARY KEY,
    -- The lineage node: `dataset:NAMESPACE/NAME` or `model:<model id>@<version>`.
    target     TEXT NOT NULL,
    project_id TEXT NOT NULL,
    reason     TEXT NOT NULL,
    placed_by  TEXT NOT NULL,
    placed_at  BIGINT NOT NULL,
    lifted_by  TEXT,
    lifted_at  BIGINT,
    lift_reason TEXT
);
CREATE UNIQUE INDEX quarantines_open ON quarantines (target) WHERE lifted_at IS NULL;
CREATE INDEX quarantines_project ON quarantines (project_id, placed_at);
CREATE INDEX model_versions_artifact ON model_versions (artifact_id);
