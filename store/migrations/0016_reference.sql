-- A case's short reference shown to people (certdesk.Reference: "CD-" and
-- the last five characters of its id, upper-cased), stored so a search by
-- it uses an index. Not unique: five random characters may repeat.
ALTER TABLE cases ADD COLUMN reference TEXT NOT NULL DEFAULT '';
UPDATE cases SET reference = 'CD-' || UPPER(SUBSTR(id, LENGTH(id) - 4, 5));
CREATE INDEX cases_reference ON cases (reference);
