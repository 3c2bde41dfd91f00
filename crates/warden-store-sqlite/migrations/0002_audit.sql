-- The audit ledger: an append-only Merkle log. Entries get consecutive indexes under
-- the row lock on audit_head, so appends from several replicas are linearizable.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO audit_head (id, size) VALUES (1, 0);

CREATE TABLE audit_log (
    idx        INTEGER PRIMARY KEY,
    time       INTEGER NOT NULL,
    category   TEXT NOT NULL,
    action     TEXT NOT NULL,
    actor      TEXT,
    resource   TEXT,
    outcome    TEXT NOT NULL,
    project_id TEXT,
    request_id TEXT,
    -- The leaf: the event's RFC 8785 canonical JSON.
    event      TEXT NOT NULL,
    leaf_hash  BLOB NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time, idx);
CREATE INDEX audit_log_actor ON audit_log (actor, idx);
CREATE INDEX audit_log_action ON audit_log (action, idx);
CREATE INDEX audit_log_project ON audit_log (project_id, idx);

CREATE TABLE audit_checkpoints (
    tree_size  INTEGER PRIMARY KEY,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit_export_cursors (
    name       TEXT PRIMARY KEY,
    next_index INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- No update or delete path: the database refuses them too.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
