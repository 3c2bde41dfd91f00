-- Proposed column classes from a local scan of a sample (counts only, never values),
-- accepted or rejected by the dataset's owners.
CREATE TABLE dataset_proposals (
    id          TEXT PRIMARY KEY,
    dataset_id  TEXT NOT NULL REFERENCES datasets (id),
    project_id  TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    proposed_by TEXT NOT NULL,
    proposed_at INTEGER NOT NULL,
    decided_by  TEXT,
    decided_at  INTEGER
);
CREATE INDEX dataset_proposals_dataset ON dataset_proposals (dataset_id, id);
