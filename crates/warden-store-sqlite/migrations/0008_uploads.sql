-- Chunked, resumable uploads. A session collects parts (objects under `uploads/` in
-- the blob store) at consecutive offsets; completing it streams the parts through
-- digest verification into the content-addressed store, after which the session and
-- its parts are deleted. Nothing here is ever served.
CREATE TABLE blob_uploads (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Bytes received so far: the next part must start here.
    size       INTEGER NOT NULL
);
CREATE INDEX blob_uploads_expiry ON blob_uploads (expires_at);

CREATE TABLE blob_upload_parts (
    upload_id TEXT NOT NULL REFERENCES blob_uploads (id) ON DELETE CASCADE,
    "offset"  INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    object    TEXT NOT NULL,
    PRIMARY KEY (upload_id, "offset")
);
