-- The audit tree's hashes as C2SP tlog-tiles lays them out: tile (level, idx) holds
-- the 256 hashes of height 8·level from the idx-th run on, concatenated (8192 bytes).
-- Only full tiles are stored; the ledger keeps the ones still filling in memory and
-- serves proofs from these, so it never holds the whole tree. Derived from the log's
-- leaf hashes (a tile missing is rebuilt from them) and, like the log, never changed.
CREATE TABLE audit_tiles (
    level  BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    hashes BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TRIGGER audit_tiles_append_only BEFORE UPDATE OR DELETE ON audit_tiles
    FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only();
