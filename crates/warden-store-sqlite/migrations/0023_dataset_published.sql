-- Whether a dataset's owners published it to the whole organisation's catalog (it is
-- shown there only if every class it carries allows that too).
ALTER TABLE datasets ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
