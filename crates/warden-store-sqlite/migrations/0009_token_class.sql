-- Gateway keys: a token bound to a project may also be bound to a data class; the
-- gateway applies that class's rules to every call made with it.
ALTER TABLE tokens ADD COLUMN data_class TEXT;
