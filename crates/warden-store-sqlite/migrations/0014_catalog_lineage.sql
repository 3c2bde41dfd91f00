-- The data catalog: datasets with their classes, residency and retention. Datasets
-- named by lineage events but never described are kept with `classified = 0`.
CREATE TABLE datasets (
    id             TEXT PRIMARY KEY,
    namespace      TEXT NOT NULL,
    name           TEXT NOT NULL,
    project_id     TEXT REFERENCES projects (id),
    location       TEXT,
    layer          TEXT,
    -- JSON: the dataset's classes, and its columns with their own.
    classes        TEXT NOT NULL,
    columns        TEXT NOT NULL,
    residency      TEXT,
    owner          TEXT,
    retention_days INTEGER,
    tags           TEXT NOT NULL,
    classified     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (namespace, name)
);
CREATE INDEX datasets_project ON datasets (project_id, id);

-- Bumped with every catalog write, so replicas know when to reload classes.
CREATE TABLE catalog_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_head (id, version) VALUES (1, 0);

-- OpenLineage events as received (unknown facets kept), runs, and the lineage edges.
CREATE TABLE lineage_events (
    seq         INTEGER PRIMARY KEY,
    run_id      TEXT,
    event_type  TEXT NOT NULL,
    event_time  INTEGER NOT NULL,
    producer    TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    received_by TEXT NOT NULL,
    event       TEXT NOT NULL
);
CREATE INDEX lineage_events_run ON lineage_events (run_id, seq);

CREATE TABLE lineage_runs (
    run_id        TEXT PRIMARY KEY,
    job_namespace TEXT NOT NULL,
    job_name      TEXT NOT NULL,
    state         TEXT NOT NULL,
    parent_run    TEXT,
    started_at    INTEGER,
    ended_at      INTEGER,
    updated_at    INTEGER NOT NULL
);

-- Edges are append-only and numbered under the head row's lock, so a replica that has
-- read every edge up to N never misses one committed later with a smaller number.
CREATE TABLE lineage_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL
);
INSERT INTO lineage_head (id, next) VALUES (1, 0);
CREATE TABLE lineage_edges (
    id        INTEGER PRIMARY KEY,
    from_node TEXT NOT NULL,
    to_node   TEXT NOT NULL,
    UNIQUE (from_node, to_node)
);
CREATE TRIGGER lineage_events_no_update BEFORE UPDATE ON lineage_events
BEGIN SELECT RAISE(ABORT, 'lineage events are append-only'); END;
CREATE TRIGGER lineage_events_no_delete BEFORE DELETE ON lineage_events
BEGIN SELECT RAISE(ABORT, 'lineage events are append-only'); END;
CREATE TRIGGER lineage_edges_no_update BEFORE UPDATE ON lineage_edges
BEGIN SELECT RAISE(ABORT, 'lineage edges are append-only'); END;
