-- The workspace's request window (1,000 authenticated requests per minute), counted here
-- because the actor is the single owner of the workspace.
CREATE TABLE _rate_limit (
  key      TEXT PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  count    INTEGER NOT NULL
);
