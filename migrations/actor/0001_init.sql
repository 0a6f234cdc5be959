-- Actor bookkeeping. The migration ledger (_migrations) is created by the runner itself.
-- Facts about this actor: its workspace id (learned from the first request), creation time.
CREATE TABLE _actor_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Transactional outbox: every change is written here in the same transaction as the data,
-- then mirrored to D1 (and published) by the actor's alarm. Nothing is lost if the mirror
-- is down: rows stay until delivered.
CREATE TABLE _outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at  TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  payload     TEXT    NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0
);
