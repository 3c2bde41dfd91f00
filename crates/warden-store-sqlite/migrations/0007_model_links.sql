-- What a model version was made from (training runs, datasets: JSON, immutable with
-- the version), named pointers to versions (aliases), and labels on versions (tags).
ALTER TABLE model_versions ADD COLUMN lineage TEXT NOT NULL DEFAULT '{}';

CREATE TABLE model_aliases (
    model_id   TEXT NOT NULL,
    alias      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (model_id, alias),
    FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
);

CREATE TABLE model_tags (
    model_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (model_id, version, key),
    FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
);
