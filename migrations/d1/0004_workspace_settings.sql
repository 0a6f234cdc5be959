-- Workspace settings the web app edits (Settings > General, Members) and pending
-- invitations. Settings the server stores but does not act on (allowImpersonation,
-- retention days, AI tiers, …) live in one JSON object: they are echoed back, never queried.
ALTER TABLE workspace ADD COLUMN logo TEXT;
-- The workspace's public invite link is {FRONTEND_URL}/invite/{invite_hash}.
ALTER TABLE workspace ADD COLUMN invite_hash TEXT;
-- Twenty's default: the public invite link works until an admin turns it off.
ALTER TABLE workspace ADD COLUMN is_public_invite_link_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE workspace ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
UPDATE workspace SET invite_hash = lower(hex(randomblob(16))) WHERE invite_hash IS NULL;
CREATE UNIQUE INDEX workspace_invite_hash ON workspace (invite_hash);

-- A personal invitation ("invitation token" app token in Twenty). Only the SHA-256 of the
-- token in the emailed link is stored.
CREATE TABLE workspace_invitation (
  id           TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
  email        TEXT NOT NULL COLLATE NOCASE,
  role_id      TEXT,
  token_hash   TEXT NOT NULL UNIQUE,
  expires_at   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  UNIQUE (workspace_id, email)
);
