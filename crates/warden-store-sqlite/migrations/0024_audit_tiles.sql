-- The audit tree's hashes as C2SP tlog-tiles lays them out: tile (level, idx) holds
-- the 256 hashes of height 8·level from the idx-th run on, concatenated (8192 bytes).
-- Only full tiles are stored; the ledger keeps the ones still filling in memory and
-- serves proofs from these, so it never holds the whole tree. Derived from the log's
-- leaf hashes (a tile missing is rebuilt from them) and, like the log, never changed.
CREATE TABLE audit_tiles (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER audit_tiles_no_update BEFORE UPDATE ON audit_tiles
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER audit_tiles_no_delete BEFORE DELETE ON audit_tiles
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
