-- Workload identities: a token bound to a project may also be bound to a zone (the
-- place its holder runs). Pulls with it get only artifacts permitted in that zone,
-- and never expired ones.
ALTER TABLE tokens ADD COLUMN zone TEXT;
