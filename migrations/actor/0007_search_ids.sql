-- The search index keyed for writes (issue #11). `_search.record_id` is UNINDEXED, so
-- `DELETE FROM _search WHERE record_id = ?` read the whole index on every create, update and
-- delete (33-90 ms per write at 100k records). Each record's FTS row now has a fixed rowid,
-- kept in this indexed table, and writes address the FTS row by that rowid.
CREATE TABLE _search_ids (
  id INTEGER PRIMARY KEY,
  object TEXT NOT NULL,
  record_id TEXT NOT NULL,
  UNIQUE (record_id, object)
);
-- Existing rows keep their rowids (no re-indexing); a record indexed twice keeps one row.
DELETE FROM _search WHERE rowid NOT IN (SELECT min(rowid) FROM _search GROUP BY object, record_id);
INSERT INTO _search_ids (id, object, record_id) SELECT rowid, object, record_id FROM _search;
