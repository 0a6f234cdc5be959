-- Twenty's graphql-sse event streams on /metadata (issue #6).
-- One row per open stream: `onEventSubscription(eventStreamId)` creates it for its owner
-- (`user:{userId}` or `apiKey:{apiKeyId}`) when the stream's hibernatable socket is
-- accepted, and the socket's close deletes it. Ownership is checked against this row by
-- `addQueryToEventStream` / `removeQueryFromEventStream`.
CREATE TABLE _event_streams (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- The queries a stream follows: Twenty's `operationSignature` JSON per `queryId`.
-- `object_name` is the signature's `objectNameSingular`, extracted at insert time so a
-- publish reads only the queries of the objects it changed.
CREATE TABLE _event_stream_queries (
  stream_id TEXT NOT NULL,
  query_id TEXT NOT NULL,
  object_name TEXT,
  signature TEXT NOT NULL,
  PRIMARY KEY (stream_id, query_id)
);
CREATE INDEX _event_stream_queries_object ON _event_stream_queries (object_name, stream_id);
