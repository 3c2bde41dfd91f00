-- The search index records in which blocks of 256 consecutive entries a term occurs,
-- not every entry: indexing writes one row per distinct term per block instead of one
-- per term per event (a fifth of the audit log's write cost at high append rates), and
-- a search reads the blocks its most selective term names and filters their entries.
-- Derived data: it is rebuilt from the log, starting again from entry 0.
DROP TABLE audit_index;
CREATE TABLE audit_index (
    term  TEXT NOT NULL,
    block INTEGER NOT NULL,
    PRIMARY KEY (term, block)
) WITHOUT ROWID;
UPDATE audit_index_head SET size = 0 WHERE id = 1;
