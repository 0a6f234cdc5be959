-- Identity directory: users, their workspace memberships, refresh tokens, API keys and the
-- public halves of the token signing keys. D1 answers "who is this and which workspaces may
-- they enter"; workspace data (including the workspaceMember record) lives in the actor.
PRAGMA foreign_keys = ON;

CREATE TABLE user (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL UNIQUE COLLATE NOCASE,
  first_name           TEXT NOT NULL DEFAULT '',
  last_name            TEXT NOT NULL DEFAULT '',
  password_hash        TEXT,
  default_workspace_id TEXT REFERENCES workspace (id) ON DELETE SET NULL,
  locale               TEXT NOT NULL DEFAULT 'en',
  is_email_verified    INTEGER NOT NULL DEFAULT 0,
  created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  deleted_at           TEXT
);

-- A user's membership in a workspace. workspace_member_id is the id of the workspaceMember
-- record in the workspace's actor (it goes into access tokens).
CREATE TABLE user_workspace (
  id                  TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  workspace_id        TEXT NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
  workspace_member_id TEXT NOT NULL,
  role                TEXT NOT NULL DEFAULT 'MEMBER' CHECK (role IN ('ADMIN', 'MEMBER')),
  created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  removed_at          TEXT,
  UNIQUE (user_id, workspace_id)
);
CREATE INDEX user_workspace_workspace ON user_workspace (workspace_id);

-- Refresh tokens ("app tokens" in Twenty). A renew rotates: the presented row gets
-- revoked_at and replaced_by, a new row is issued. last_used_at drives the 24 h inactivity
-- rule.
CREATE TABLE app_token (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  workspace_id  TEXT REFERENCES workspace (id) ON DELETE CASCADE,
  type          TEXT NOT NULL DEFAULT 'REFRESH_TOKEN',
  target_type   TEXT NOT NULL CHECK (target_type IN ('ACCESS', 'WORKSPACE_AGNOSTIC')),
  created_at    TEXT NOT NULL,
  last_used_at  TEXT NOT NULL,
  expires_at    TEXT NOT NULL,
  revoked_at    TEXT,
  replaced_by   TEXT
);
CREATE INDEX app_token_user ON app_token (user_id);

CREATE TABLE api_key (
  id           TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  revoked_at   TEXT,
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX api_key_workspace ON api_key (workspace_id);

-- Public keys of every key that has signed tokens (the private key is a secret). A retired
-- key keeps verifying until max_expires_at, the expiry of the longest-lived token it signed.
CREATE TABLE signing_key (
  kid            TEXT PRIMARY KEY,
  algorithm      TEXT NOT NULL DEFAULT 'RS256',
  public_jwk     TEXT NOT NULL,
  first_used_at  TEXT NOT NULL,
  max_expires_at INTEGER NOT NULL
);

-- Login tokens are single-use: a token's jti is recorded when it is exchanged.
CREATE TABLE used_login_token (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
