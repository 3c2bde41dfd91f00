-- Content-addressed blobs known to Warden, and the projects that uploaded them.
CREATE TABLE blobs (
    digest     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE project_blobs (
    project_id TEXT NOT NULL REFERENCES projects (id),
    digest     TEXT NOT NULL REFERENCES blobs (digest),
    added_at   BIGINT NOT NULL,
    added_by   TEXT NOT NULL,
    PRIMARY KEY (project_id, digest)
);
