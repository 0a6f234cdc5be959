-- Realtime (issue #6).
-- Single-use WebSocket tickets: `POST /ws/ticket` issues one for a verified principal,
-- `GET /ws?ticket=` consumes it (deleted in the same synchronous step that reads it, so a
-- ticket admits at most one connection). `expires_at` is epoch milliseconds.
CREATE TABLE _ws_tickets (
  ticket TEXT PRIMARY KEY,
  principal TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Per-user notifications, delivered on the `notification:{userId}` topic. `read_at` is
-- NULL until the user marks the notification read; unread ones are replayed on subscribe.
CREATE TABLE _notifications (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  read_at TEXT
);
CREATE INDEX _notifications_user_unread ON _notifications (user_id, read_at, created_at);
