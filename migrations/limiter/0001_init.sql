-- One fixed window per key (ratelimit.rs). A LimiterActor owns a single key.
CREATE TABLE _rate_limit (
  key      TEXT PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  count    INTEGER NOT NULL
);
