-- The workspace's data model: one row per object, its fields embedded (schema::metadata).
-- Record tables (rec_<objectId>) are created from this model, not by migrations, because
-- each workspace has its own custom objects.
CREATE TABLE _object_metadata (
  id            TEXT PRIMARY KEY,
  name_singular TEXT NOT NULL UNIQUE,
  name_plural   TEXT NOT NULL UNIQUE,
  data          TEXT NOT NULL
);
