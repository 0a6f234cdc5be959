-- Core directory (D1): which workspaces exist. Workspace data lives in each workspace's
-- actor; D1 answers cross-workspace questions. Append-only: change it with a new file.
CREATE TABLE workspace (
  id                TEXT PRIMARY KEY,
  display_name      TEXT,
  activation_status TEXT NOT NULL DEFAULT 'ACTIVE',
  created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
