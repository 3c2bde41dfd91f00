-- The credential a token was minted with. Revoking a token revokes every token minted
-- from it (and from those, transitively); a token never expires after its parent.
ALTER TABLE tokens ADD COLUMN parent_id TEXT;
CREATE INDEX tokens_parent ON tokens (parent_id);
