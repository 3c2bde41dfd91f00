-- Who held which access when: every project membership, organisation role grant and
-- group membership, with when and by whom it was given and, once it ends, when and by
-- whom it was taken away. The current tables say who holds access now; this one
-- answers "as of" questions without replaying the ledger. Rows are written in the
-- same transaction as the change itself and never deleted.
CREATE TABLE access_history (
    -- A project id, `organisation` (organisation roles) or a group id (its members).
    scope      TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    -- The role, or `member` for a group's members.
    role       TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by TEXT,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE INDEX access_history_scope ON access_history (scope, granted_at);
CREATE INDEX access_history_member ON access_history (member_id, scope);

-- What is held today starts its history here.
INSERT INTO access_history (scope, member_id, role, granted_at, granted_by)
    SELECT project_id, member_id, role, added_at, added_by FROM project_members;
INSERT INTO access_history (scope, member_id, role, granted_at, granted_by)
    SELECT 'organisation', member_id, role, granted_at, granted_by FROM role_grants;
INSERT INTO access_history (scope, member_id, role, granted_at, granted_by)
    SELECT group_id, subject_id, 'member', added_at, NULL FROM group_members;
