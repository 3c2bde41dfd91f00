-- Search terms for the audit log, kept apart from it and filled in batches of
-- thousands behind the head (`audit_index_head.size` = entries indexed so far).
-- Secondary indexes on audit_log itself cost a scattered page write per index per
-- event on every group commit; this table takes the same writes a few thousand
-- events at a time. Searches read it for the indexed part and scan the short tail.
-- It is derived data: the Merkle tree, not this table, is the evidence.
DROP INDEX audit_log_actor;
DROP INDEX audit_log_action;
DROP INDEX audit_log_project;

CREATE TABLE audit_index (
    term TEXT NOT NULL,
    idx  INTEGER NOT NULL,
    PRIMARY KEY (term, idx)
) WITHOUT ROWID;

CREATE TABLE audit_index_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO audit_index_head (id, size) VALUES (1, 0);
