-- Gateway payloads, kept only for classes whose policy turns payload logging on:
-- AES-256-GCM under the zone's key (derived from the master key), deleted by the
-- retention job when they expire.
CREATE TABLE payload_logs (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    key_id     TEXT,
    zone       TEXT NOT NULL,
    class      TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX payload_logs_expiry ON payload_logs (expires_at);
