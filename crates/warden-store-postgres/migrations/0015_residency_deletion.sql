-- Where a run ran (its zone), for residency checks; legal holds on datasets.
ALTER TABLE lineage_runs ADD COLUMN zone TEXT;
ALTER TABLE datasets ADD COLUMN legal_hold TEXT;

-- Approved moves of a dataset's data into a zone outside its residency region.
CREATE TABLE transfers (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects (id),
    dataset_id   TEXT NOT NULL REFERENCES datasets (id),
    to_zone      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT
);
CREATE INDEX transfers_dataset ON transfers (dataset_id, to_zone);

-- Deletion requests (GDPR Art. 17, purges) and one task per place the data may be.
CREATE TABLE deletion_requests (
    id           TEXT PRIMARY KEY,
    subject_ref  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    datasets     TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    due_at       BIGINT NOT NULL
);
CREATE TABLE deletion_tasks (
    request_id  TEXT NOT NULL REFERENCES deletion_requests (id),
    seq         BIGINT NOT NULL,
    target      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    project_id  TEXT,
    owner       TEXT,
    due_at      BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
    evidence    TEXT,
    closed_by   TEXT,
    closed_at   BIGINT,
    PRIMARY KEY (request_id, seq)
);
CREATE INDEX deletion_tasks_open ON deletion_tasks (status, due_at);
