-- When each workspace member's membership was last removed (issue #19): a member record
-- deleted or destroyed writes its row here, and admission refuses tokens issued at or
-- before that time, so restoring the record never revives them.
CREATE TABLE _member_removals (
  member_id TEXT PRIMARY KEY,
  removed_at INTEGER NOT NULL
);
