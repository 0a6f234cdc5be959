-- Password reset tokens: single use (revoked_at is set by the statement that consumes one),
-- short-lived, and stored as the SHA-256 of the token in the emailed link.
CREATE TABLE password_reset_token (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  expires_at TEXT NOT NULL,
  revoked_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX password_reset_token_user ON password_reset_token (user_id);
