-- Global search (Twenty's `search` query): one FTS5 row per live record of a searchable
-- object, holding the text of the fields Twenty searches (its searchVector fields).
CREATE VIRTUAL TABLE _search USING fts5(
  object UNINDEXED,
  record_id UNINDEXED,
  content,
  tokenize = 'unicode61 remove_diacritics 2'
);
