-- Views and what hangs off them, stored per workspace (issue #12): views, view fields,
-- view filters, view filter groups, view sorts, view groups, view field groups and the
-- sidebar's navigation menu items. One row per entity: `kind` is Twenty's metadata name
-- (`view`, `viewField`, …, `navigationMenuItem`), `data` the entity as /metadata returns
-- it (JSON), `view_id` its view for the children (destroying a view destroys them).
-- Kind `seededObject` marks the objects whose default INDEX view was created, so a view the
-- user destroyed is not created again.
CREATE TABLE _view_entities (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  view_id TEXT,
  data TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX _view_entities_by_view ON _view_entities (view_id);
