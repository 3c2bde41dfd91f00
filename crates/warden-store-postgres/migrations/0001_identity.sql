-- Identity, projects, groups, roles and tokens.
CREATE TABLE subjects (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('human', 'service')),
    name            TEXT NOT NULL UNIQUE,
    display_name    TEXT,
    email           TEXT,
    password_hash   TEXT,
    totp_secret     TEXT,
    totp_enrolled   BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step  BIGINT,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    oidc_issuer     TEXT,
    oidc_subject    TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    cost_centre TEXT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES subjects (id)
);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    subject_id   TEXT NOT NULL REFERENCES subjects (id),
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    project_id   TEXT REFERENCES projects (id),
    role         TEXT,
    mfa          BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX tokens_subject ON tokens (subject_id, id);

CREATE TABLE subject_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id   TEXT NOT NULL REFERENCES subject_groups (id),
    subject_id TEXT NOT NULL REFERENCES subjects (id),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (group_id, subject_id)
);
CREATE INDEX group_members_subject ON group_members (subject_id);

-- member_id is a subject (usr_/svc_) or a group (grp_).
CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id),
    member_id  TEXT NOT NULL,
    role       TEXT NOT NULL,
    added_at   BIGINT NOT NULL,
    added_by   TEXT NOT NULL,
    PRIMARY KEY (project_id, member_id, role)
);
CREATE INDEX project_members_member ON project_members (member_id);

CREATE TABLE role_grants (
    member_id  TEXT NOT NULL,
    role       TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by TEXT,
    PRIMARY KEY (member_id, role)
);
