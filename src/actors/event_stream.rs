//! Twenty's event streams (graphql-sse on `/metadata`, issue #6): the workspace actor's
//! half.
//!
//! Twenty's web app opens one stream with the subscription
//! `onEventSubscription(eventStreamId)` and registers the record queries it displays with
//! `addQueryToEventStream(input: {eventStreamId, queryId, operationSignature})`; every
//! committed change that matches a query is pushed to the stream with the ids of the
//! queries it matched (Twenty: `engine/subscriptions/event-stream.resolver.ts`,
//! `event-stream.service.ts`, `object-record-event/object-record-event-publisher.ts`).
//!
//! Here the gateway holds the SSE response and bridges it to a hibernatable WebSocket into
//! this actor (`gateway::event_stream`), so an open stream costs the actor no memory and
//! does not keep it awake. The socket is tagged [`TAG`] and `es:{eventStreamId}` and its
//! attachment ([`StreamAttachment`]) says who owns it; the stream's row in
//! `_event_streams` (ownership, for the mutations, which run without the socket list) and
//! its queries in `_event_stream_queries` live exactly as long as the socket: accepted
//! with it, deleted by its close, and swept at the next connect if a close was lost.
//!
//! **Architecture Invariant:** like every realtime delivery, stream events come only from
//! `WorkspaceActor::publish`, i.e. after commit, in commit order.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use worker::{Request, Response, SqlStorage, WebSocket, WebSocketPair};

use super::protocol::HEADER_EVENT_STREAM_ID;
use super::sql;
use super::workspace::WorkspaceActor;
use crate::encode;
use crate::error::ApiError;
use crate::identity::principal::{Principal, HEADER_PRINCIPAL};
use crate::metadata;
use crate::schema::engine::Change;
use crate::schema::error::{ErrorKind, QueryError};
use crate::schema::filter;
use crate::schema::metadata::{ObjectMetadata, WorkspaceModel};
use crate::schema::sql::{Param, Sql};

/// Open event streams one workspace actor accepts. Every committed change lists the
/// stream sockets (by tag) and reads their queries, so this bounds what a mutation pays
/// for fan-out; one per open browser tab is the expected use.
pub const MAX_EVENT_STREAMS_PER_ACTOR: usize = 1_000;
/// Queries one stream may follow. The web app registers one per record list, board,
/// table or show page on screen (a handful, a few dozen at most); each matching query may
/// cost one SQL evaluation per change, so a stream cannot make mutations slow.
pub const MAX_QUERIES_PER_STREAM: usize = 100;
/// Largest `operationSignature` (its JSON text). The web app's signatures hold the object
/// name, the query's variables (filter, orderBy, limit) and its selected fields: a few KiB.
/// Stored in SQLite (not in the socket attachment, which workerd caps at 2 KiB).
pub const MAX_SIGNATURE_BYTES: usize = 16 * 1024;
/// Longest `queryId` (the web app's are short names such as `record-table-...`).
pub const MAX_QUERY_ID_LEN: usize = 256;
/// Longest `eventStreamId` (the web app's are UUIDs). It becomes a socket tag
/// (`es:{id}`), and workerd caps tags at 256 characters.
pub const MAX_STREAM_ID_LEN: usize = 128;
/// workerd's cap on a socket attachment; ours is far smaller (ids and a timestamp).
const MAX_ATTACHMENT_BYTES: usize = 2_048;

/// The tag every event-stream socket carries (`get_websockets_with_tag`), so publishing
/// to streams never walks the topic sockets of `/ws` and the reverse.
pub const TAG: &str = "event-stream";

/// The tag of one stream's socket.
pub fn stream_tag(id: &str) -> String {
    format!("es:{id}")
}

/// What a hibernated event-stream socket carries. Stored as `{"eventStream": {...}}`, a
/// shape `/ws` sockets' attachments never parse as, so the topic machinery (presence,
/// `record:` topics) never sees these sockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamAttachment {
    /// This socket's id (tells a stream's old socket from its replacement).
    pub sid: String,
    pub event_stream_id: String,
    /// `user:{userId}` or `apiKey:{apiKeyId}` (see [`owner_of`]).
    pub owner: String,
    pub workspace_member_id: Option<String>,
    pub connected_at: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    event_stream: StreamAttachment,
}

/// The attachment of an event-stream socket; `None` for any other socket.
pub fn load_attachment(ws: &WebSocket) -> Option<StreamAttachment> {
    let raw: String = ws.deserialize_attachment().ok().flatten()?;
    serde_json::from_str::<Stored>(&raw)
        .ok()
        .map(|s| s.event_stream)
}

fn save_attachment(ws: &WebSocket, a: &StreamAttachment) -> Result<(), String> {
    let raw = serde_json::to_string(&Stored {
        event_stream: a.clone(),
    })
    .map_err(|e| e.to_string())?;
    if raw.len() > MAX_ATTACHMENT_BYTES {
        return Err(format!(
            "stream state would exceed {MAX_ATTACHMENT_BYTES} bytes"
        ));
    }
    ws.serialize_attachment(raw).map_err(|e| e.to_string())
}

/// Who owns a stream, as Twenty's `isAuthorized` compares it: the user (one user is one
/// userWorkspace in this workspace's actor) or the API key. Anonymous callers own nothing.
pub fn owner_of(principal: &Principal) -> Option<String> {
    match principal {
        Principal::User { user_id, .. } => Some(format!("user:{user_id}")),
        Principal::ApiKey { api_key_id, .. } => Some(format!("apiKey:{api_key_id}")),
        Principal::Anonymous => None,
    }
}

/// `eventStreamId` must be a non-empty id of at most [`MAX_STREAM_ID_LEN`] characters.
pub fn check_stream_id(id: &str) -> Result<(), QueryError> {
    if id.is_empty() || id.len() > MAX_STREAM_ID_LEN || id.chars().any(char::is_control) {
        return Err(QueryError::bad_input(format!(
            "eventStreamId must be 1 to {MAX_STREAM_ID_LEN} characters"
        )));
    }
    Ok(())
}

/// Checks a query to add; returns the `objectNameSingular` its signature names (`None` for
/// signatures of other kinds, e.g. Twenty's metadata signatures, which record events never
/// match).
pub fn check_query(query_id: &str, signature: &Value) -> Result<Option<String>, QueryError> {
    if query_id.is_empty() || query_id.len() > MAX_QUERY_ID_LEN {
        return Err(QueryError::bad_input(format!(
            "queryId must be 1 to {MAX_QUERY_ID_LEN} characters"
        )));
    }
    let Value::Object(sig) = signature else {
        return Err(QueryError::bad_input(
            "operationSignature must be an object such as {objectNameSingular, variables}",
        ));
    };
    if signature.to_string().len() > MAX_SIGNATURE_BYTES {
        return Err(QueryError::bad_input(format!(
            "operationSignature is larger than {MAX_SIGNATURE_BYTES} bytes"
        )));
    }
    Ok(sig
        .get("objectNameSingular")
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// Twenty's `DatabaseEventAction` of a change.
pub fn action_name(action: &str) -> String {
    action.to_ascii_uppercase()
}

/// Twenty's `diff` of an update (`objectRecordChangedValues`): `{field: {before, after}}`
/// for every key of `after` whose value changed, leaving out `updatedAt` and
/// `searchVector` (they change on every write).
pub fn diff(before: &Value, after: &Value) -> Map<String, Value> {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return Map::new();
    };
    a.iter()
        .filter(|(k, _)| *k != "updatedAt" && *k != "searchVector")
        .filter(|(k, v)| b.get(*k).unwrap_or(&Value::Null) != *v)
        .map(|(k, v)| {
            let old = b.get(k).cloned().unwrap_or(Value::Null);
            (k.clone(), json!({ "before": old, "after": v }))
        })
        .collect()
}

/// The `ObjectRecordEvent` of one committed change, or `None` for an update that changed
/// nothing but bookkeeping (Twenty skips events whose `updatedFields` is empty).
/// `user_id`/`workspace_member_id` are the writer's.
pub fn record_event(
    change: &Change,
    user_id: Option<&str>,
    workspace_member_id: Option<&str>,
) -> Option<Value> {
    let (updated_fields, diff) = match (change.action, &change.before, &change.after) {
        ("updated", Some(b), Some(a)) => {
            let d = diff(b, a);
            if d.is_empty() {
                return None;
            }
            let fields: Vec<String> = d.keys().cloned().collect();
            (json!(fields), Value::Object(d))
        }
        _ => (Value::Null, Value::Null),
    };
    Some(json!({
        "action": action_name(change.action),
        "objectNameSingular": change.object,
        "recordId": change.record_id,
        "userId": user_id,
        "workspaceMemberId": workspace_member_id,
        "properties": {
            "updatedFields": updated_fields,
            "before": change.before,
            "after": change.after,
            "diff": diff,
        },
    }))
}

/// The records a query's filter is tried on, and whether Twenty's default soft-delete
/// condition is waived (`isQueryMatchingObjectRecordEvent`): an update matches if its
/// record matched before OR after; other events are judged on `after ?? before`; deletes
/// and restores are judged whatever the record's `deletedAt`.
pub fn candidates(change: &Change) -> (Vec<&Value>, bool) {
    let ignore_soft_delete = matches!(change.action, "deleted" | "restored");
    let delivered = change.after.as_ref().or(change.before.as_ref());
    let records = if change.action == "updated" {
        [change.after.as_ref(), change.before.as_ref()]
            .into_iter()
            .flatten()
            .collect()
    } else {
        delivered.into_iter().collect()
    };
    (records, ignore_soft_delete)
}

/// The ids of the queries (`(queryId, operationSignature)`) one change matches, in the
/// order given: same `objectNameSingular`, and an empty filter or one that
/// `filter_matches(filter, record, ignore_soft_delete)` accepts for a candidate record.
pub fn matching_query_ids(
    queries: &[(String, Value)],
    change: &Change,
    mut filter_matches: impl FnMut(&Value, &Value, bool) -> bool,
) -> Vec<String> {
    let (records, ignore_soft_delete) = candidates(change);
    if records.is_empty() {
        return vec![];
    }
    queries
        .iter()
        .filter(|(_, sig)| sig["objectNameSingular"].as_str() == Some(change.object.as_str()))
        .filter(|(_, sig)| {
            let filter = &sig["variables"]["filter"];
            let empty = match filter {
                Value::Null => true,
                Value::Object(m) => m.is_empty(),
                _ => false,
            };
            empty
                || records
                    .iter()
                    .any(|r| filter_matches(filter, r, ignore_soft_delete))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The statement that says whether `record` (a change's record: stored data plus `id`
/// and `deletedAt`) matches `filter`: the filter compiled exactly as `/graphql` compiles
/// it, over a one-row subquery standing in for the table. Relation filters read the
/// current rows of the related tables, as a query run now would.
pub fn match_statement(
    model: &WorkspaceModel,
    object: &ObjectMetadata,
    filter: &Value,
    record: &Value,
    ignore_soft_delete: bool,
) -> Result<Sql, QueryError> {
    let compiled = filter::compile(model, object, filter, "r")?;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let deleted_at = match record["deletedAt"].as_str() {
        Some(d) => Param::Text(d.to_string()),
        None => Param::Null,
    };
    let mut q = Sql::with(
        "SELECT 1 AS m FROM (SELECT ? AS id, ? AS deleted_at, ? AS data) AS r WHERE (",
        vec![Param::Text(id), deleted_at, Param::Text(record.to_string())],
    );
    q.push(compiled.sql);
    q.push_str(")");
    if !compiled.mentions_deleted_at && !ignore_soft_delete {
        q.push_str(" AND r.deleted_at IS NULL");
    }
    Ok(q)
}

/// One frame of a stream: the `EventSubscription` value the gateway answers the
/// subscription with.
pub fn frame(event_stream_id: &str, events: Vec<Value>) -> Value {
    json!({
        "eventStreamId": event_stream_id,
        "objectRecordEventsWithQueryIds": events,
        "metadataEvents": [],
        "queueJobEvents": [],
    })
}

fn not_authorized(action: &str) -> QueryError {
    QueryError::new(
        ErrorKind::Forbidden,
        format!("You are not authorized to {action} this event stream"),
    )
    .with_sub_code("NOT_AUTHORIZED")
    .with_user_friendly("You are not authorized to perform this action.")
}

fn already_exists() -> QueryError {
    QueryError::new(ErrorKind::Forbidden, "Event stream already exists")
        .with_sub_code("EVENT_STREAM_ALREADY_EXISTS")
        .with_user_friendly("Failed to receive real time updates.")
}

/// The owner of a stream, if it exists.
fn stream_owner(s: &SqlStorage, id: &str) -> Result<Option<String>, QueryError> {
    #[derive(Deserialize)]
    struct Row {
        owner: String,
    }
    let rows: Vec<Row> = sql::rows(
        s,
        "SELECT owner FROM _event_streams WHERE id = ?",
        vec![id.into()],
    )
    .map_err(metadata::storage_err)?;
    Ok(rows.into_iter().next().map(|r| r.owner))
}

/// `addQueryToEventStream`: `false` for a stream that does not exist (never opened,
/// closed, or in another workspace), as Twenty answers; FORBIDDEN `NOT_AUTHORIZED` for
/// someone else's. Adding a `queryId` again replaces its signature.
pub fn add_query(
    s: &SqlStorage,
    owner: &str,
    stream_id: &str,
    query_id: &str,
    signature: &Value,
) -> Result<bool, QueryError> {
    check_stream_id(stream_id)?;
    let object_name = check_query(query_id, signature)?;
    match stream_owner(s, stream_id)? {
        None => return Ok(false),
        Some(o) if o != owner => return Err(not_authorized("add a query to")),
        Some(_) => {}
    }
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let others: Vec<Count> = sql::rows(
        s,
        "SELECT count(*) AS n FROM _event_stream_queries WHERE stream_id = ? AND query_id != ?",
        vec![stream_id.into(), query_id.into()],
    )
    .map_err(metadata::storage_err)?;
    if others.first().map(|c| c.n).unwrap_or(0) >= MAX_QUERIES_PER_STREAM as i64 {
        return Err(QueryError::bad_input(format!(
            "An event stream follows at most {MAX_QUERIES_PER_STREAM} queries; remove some first"
        ))
        .with_sub_code("LIMIT_EXCEEDED"));
    }
    sql::exec(
        s,
        "INSERT INTO _event_stream_queries (stream_id, query_id, object_name, signature) \
         VALUES (?, ?, ?, ?) ON CONFLICT (stream_id, query_id) DO UPDATE SET \
         object_name = excluded.object_name, signature = excluded.signature",
        vec![
            stream_id.into(),
            query_id.into(),
            object_name
                .map(Into::into)
                .unwrap_or(worker::SqlStorageValue::Null),
            signature.to_string().into(),
        ],
    )
    .map_err(metadata::storage_err)?;
    Ok(true)
}

/// `removeQueryFromEventStream`: `false` for a stream that does not exist; FORBIDDEN
/// `NOT_AUTHORIZED` for someone else's; `true` otherwise (also when the query was not
/// there, as in Twenty).
pub fn remove_query(
    s: &SqlStorage,
    owner: &str,
    stream_id: &str,
    query_id: &str,
) -> Result<bool, QueryError> {
    check_stream_id(stream_id)?;
    match stream_owner(s, stream_id)? {
        None => return Ok(false),
        Some(o) if o != owner => return Err(not_authorized("remove a query from")),
        Some(_) => {}
    }
    sql::exec(
        s,
        "DELETE FROM _event_stream_queries WHERE stream_id = ? AND query_id = ?",
        vec![stream_id.into(), query_id.into()],
    )
    .map_err(metadata::storage_err)?;
    Ok(true)
}

fn delete_stream(s: &SqlStorage, id: &str) -> worker::Result<()> {
    sql::exec(
        s,
        "DELETE FROM _event_stream_queries WHERE stream_id = ?",
        vec![id.into()],
    )?;
    sql::exec(
        s,
        "DELETE FROM _event_streams WHERE id = ?",
        vec![id.into()],
    )?;
    Ok(())
}

/// A refusal the gateway turns into the subscription's GraphQL error.
fn refusal(e: &QueryError) -> Response {
    encode::graphql_error(e)
}

impl WorkspaceActor {
    /// Ends the streams whose state matches `pred` (revoked key, removed member): closing
    /// the socket completes the client's response; the close handler drops the rows.
    pub(super) fn close_event_streams(&self, pred: impl Fn(&StreamAttachment) -> bool) {
        for (ws, a) in self.streams() {
            if pred(&a) {
                let _ = ws.close(Some(4403), Some("access revoked"));
            }
        }
    }

    /// Open event-stream sockets with their state.
    fn streams(&self) -> Vec<(WebSocket, StreamAttachment)> {
        self.state
            .get_websockets_with_tag(TAG)
            .into_iter()
            .filter_map(|ws| load_attachment(&ws).map(|a| (ws, a)))
            .collect()
    }

    /// `onEventSubscription` (forwarded by the gateway as a WebSocket upgrade): admits the
    /// caller, creates the stream (replacing the caller's own stream of that id, as Twenty
    /// does) and accepts its hibernatable socket. Refusals are answered as a GraphQL error
    /// body (not 101) for the gateway to report on the SSE stream.
    pub(super) async fn event_stream_connect(
        &self,
        req: &Request,
        workspace_id: &str,
    ) -> Result<Response, ApiError> {
        let principal: Principal = req
            .headers()
            .get(HEADER_PRINCIPAL)?
            .and_then(|h| serde_json::from_str(&h).ok())
            .ok_or_else(|| ApiError::Internal("actor request without principal".into()))?;
        let stream_id = req
            .headers()
            .get(HEADER_EVENT_STREAM_ID)?
            .unwrap_or_default();
        if let Err(e) = check_stream_id(&stream_id) {
            return Ok(refusal(&e));
        }
        let member = match self.admit(&principal, workspace_id).await {
            Ok((_, member)) => member,
            Err((e, _)) => return Ok(refusal(&e)),
        };
        let Some(owner) = owner_of(&principal) else {
            return Ok(refusal(&metadata::missing_token()));
        };
        let live = self.streams();
        let existing: Vec<&(WebSocket, StreamAttachment)> = live
            .iter()
            .filter(|(_, a)| a.event_stream_id == stream_id)
            .collect();
        if existing.iter().any(|(_, a)| a.owner != owner) {
            return Ok(refusal(&already_exists()));
        }
        if live.len() - existing.len() >= MAX_EVENT_STREAMS_PER_ACTOR {
            // A limit the client can wait out, not a server fault.
            return Ok(refusal(
                &QueryError::new(
                    ErrorKind::TooManyRequests,
                    format!(
                        "This workspace has {MAX_EVENT_STREAMS_PER_ACTOR} event streams open; retry later"
                    ),
                )
                .with_sub_code("LIMIT_EXCEEDED"),
            ));
        }
        // The caller's own stream of this id is destroyed and created anew (Twenty:
        // `destroyEventStream` then `createEventStream`): its queries are forgotten.
        for (ws, _) in &existing {
            let _ = ws.close(Some(1000), Some("replaced by a new subscription"));
        }
        let s = self.state.storage().sql();
        // Rows of streams without a socket (a close that never ran) go now; the list of
        // live ids is bound as one JSON array.
        let keep: Vec<&str> = live
            .iter()
            .map(|(_, a)| a.event_stream_id.as_str())
            .filter(|id| *id != stream_id)
            .collect();
        let keep = Value::from(keep).to_string();
        sql::exec(
            &s,
            "DELETE FROM _event_stream_queries WHERE stream_id NOT IN (SELECT value FROM json_each(?))",
            vec![keep.clone().into()],
        )?;
        sql::exec(
            &s,
            "DELETE FROM _event_streams WHERE id NOT IN (SELECT value FROM json_each(?))",
            vec![keep.into()],
        )?;
        let now = metadata::now_iso();
        sql::exec(
            &s,
            "INSERT INTO _event_streams (id, owner, created_at) VALUES (?, ?, ?)",
            vec![
                stream_id.as_str().into(),
                owner.as_str().into(),
                now.as_str().into(),
            ],
        )?;
        let attachment = StreamAttachment {
            sid: uuid::Uuid::new_v4().to_string(),
            event_stream_id: stream_id.clone(),
            owner,
            workspace_member_id: member
                .as_ref()
                .and_then(|m| m["id"].as_str())
                .map(str::to_string),
            connected_at: now,
        };
        let pair = WebSocketPair::new()?;
        let tag = stream_tag(&stream_id);
        self.state
            .accept_websocket_with_tags(&pair.server, &[TAG, tag.as_str()]);
        if let Err(e) = save_attachment(&pair.server, &attachment) {
            let _ = pair
                .server
                .close(Some(1011), Some("could not store stream state"));
            let _ = delete_stream(&s, &stream_id);
            return Err(ApiError::Internal(e));
        }
        Ok(Response::from_websocket(pair.client)?)
    }

    /// A socket closed or failed: if it was an event stream's, the stream and its queries
    /// go with it (unless a newer socket of the same owner took the stream over). Returns
    /// whether it was an event-stream socket.
    pub(super) fn event_stream_closed(&self, ws: &WebSocket) -> bool {
        let Some(me) = load_attachment(ws) else {
            return false;
        };
        let _ = ws.close(Some(1000), Some("closed"));
        let taken_over = self
            .state
            .get_websockets_with_tag(&stream_tag(&me.event_stream_id))
            .iter()
            .filter_map(load_attachment)
            .any(|a| a.sid != me.sid);
        if !taken_over {
            if let Err(e) = delete_stream(&self.state.storage().sql(), &me.event_stream_id) {
                tracing::warn!(error = %e, "could not delete a closed event stream");
            }
        }
        true
    }

    /// Publishes committed changes to the event streams whose queries they match: one
    /// frame per change and stream, in commit order. Never fails the caller (the changes
    /// are committed); problems are logged. Costs one socket listing when no stream is open.
    pub(super) fn publish_to_event_streams(
        &self,
        changes: &[Change],
        workspace_member_id: Option<&str>,
    ) {
        let streams = self.streams();
        if streams.is_empty() || changes.is_empty() {
            return;
        }
        if let Err(e) = self.try_publish_to_event_streams(&streams, changes, workspace_member_id) {
            tracing::error!(error = %e.log_message(), "event stream publish failed");
        }
    }

    fn try_publish_to_event_streams(
        &self,
        streams: &[(WebSocket, StreamAttachment)],
        changes: &[Change],
        workspace_member_id: Option<&str>,
    ) -> Result<(), ApiError> {
        // A member removed since subscribing gets nothing more: its stream ends. (Members
        // are cached, so this costs one lookup per distinct member at most.)
        let streams: Vec<&(WebSocket, StreamAttachment)> = streams
            .iter()
            .filter(|(ws, a)| {
                let removed = a
                    .workspace_member_id
                    .as_ref()
                    .is_some_and(|m| self.member_removed(m));
                if removed {
                    let _ = ws.close(Some(4403), Some("not a member"));
                }
                !removed
            })
            .collect();
        if streams.is_empty() {
            return Ok(());
        }
        let model = self.model()?;
        let s = self.state.storage().sql();
        // The queries of the changed objects, of every stream at once.
        let mut objects: Vec<&str> = changes.iter().map(|c| c.object.as_str()).collect();
        objects.sort_unstable();
        objects.dedup();
        #[derive(Deserialize)]
        struct Row {
            stream_id: String,
            query_id: String,
            signature: String,
        }
        let rows: Vec<Row> = sql::rows(
            &s,
            "SELECT stream_id, query_id, signature FROM _event_stream_queries \
             WHERE object_name IN (SELECT value FROM json_each(?)) ORDER BY stream_id, query_id",
            vec![Value::from(objects).to_string().into()],
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut queries: std::collections::HashMap<String, Vec<(String, Value)>> =
            std::collections::HashMap::new();
        for r in rows {
            if let Ok(sig) = serde_json::from_str(&r.signature) {
                queries
                    .entry(r.stream_id)
                    .or_default()
                    .push((r.query_id, sig));
            }
        }
        let user_id = workspace_member_id
            .and_then(|m| self.member_record(m).ok().flatten())
            .and_then(|m| m["userId"].as_str().map(str::to_string));
        // Matched now (against the state this change committed), sent after the response.
        let mut batches = vec![];
        for (ws, a) in streams {
            let Some(qs) = queries.get(&a.event_stream_id) else {
                continue;
            };
            for change in changes {
                let Some(object) = model.object(&change.object) else {
                    continue;
                };
                let ids = matching_query_ids(qs, change, |filter, record, ignore| {
                    self.record_matches(&model, object, filter, record, ignore)
                });
                if ids.is_empty() {
                    continue;
                }
                let Some(event) = record_event(change, user_id.as_deref(), workspace_member_id)
                else {
                    continue;
                };
                let f = frame(
                    &a.event_stream_id,
                    vec![json!({ "queryIds": ids, "objectRecordEvent": event })],
                );
                batches.push((vec![ws.clone()], f.to_string()));
            }
        }
        super::realtime::deliver_after_response(batches);
        Ok(())
    }

    /// Whether `record` matches a query's `filter`; a filter that does not compile (a
    /// signature naming unknown fields) matches nothing.
    fn record_matches(
        &self,
        model: &WorkspaceModel,
        object: &ObjectMetadata,
        filter: &Value,
        record: &Value,
        ignore_soft_delete: bool,
    ) -> bool {
        let q = match match_statement(model, object, filter, record, ignore_soft_delete) {
            Ok(q) => q,
            Err(e) => {
                tracing::debug!(error = %e.message, "event stream query filter does not compile");
                return false;
            }
        };
        let q = q.bindable();
        let rows: worker::Result<Vec<Value>> = sql::rows(
            &self.state.storage().sql(),
            &q.text,
            super::store::params(&q),
        );
        match rows {
            Ok(rows) => !rows.is_empty(),
            Err(e) => {
                tracing::debug!(error = %e, "event stream query filter failed");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::filter::test_model;

    fn change(action: &'static str, before: Option<Value>, after: Option<Value>) -> Change {
        Change {
            action,
            object: "person".into(),
            record_id: "p1".into(),
            before,
            after,
        }
    }

    fn person(job: &str, deleted_at: Option<&str>) -> Value {
        json!({ "id": "p1", "deletedAt": deleted_at, "jobTitle": job, "updatedAt": job })
    }

    #[test]
    fn signatures_and_ids_are_bounded() {
        assert!(check_stream_id("3f0e0c1e-0000-4000-8000-000000000000").is_ok());
        for bad in ["", &"x".repeat(MAX_STREAM_ID_LEN + 1), "a\nb"] {
            assert!(check_stream_id(bad).is_err(), "{bad:?}");
        }
        let sig = json!({ "objectNameSingular": "person", "variables": {} });
        assert_eq!(check_query("q1", &sig).unwrap().as_deref(), Some("person"));
        assert_eq!(
            check_query("q1", &json!({ "metadataName": "view" })).unwrap(),
            None
        );
        let long_id = "q".repeat(MAX_QUERY_ID_LEN + 1);
        let cases: Vec<(&str, Value)> = vec![
            ("", sig.clone()),
            (&long_id, sig.clone()),
            ("q1", json!("person")),
            (
                "q1",
                json!({ "objectNameSingular": "x".repeat(MAX_SIGNATURE_BYTES) }),
            ),
        ];
        for (id, sig) in cases {
            let e = check_query(id, &sig).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadUserInput, "{id:?}");
        }
    }

    #[test]
    fn events_have_twentys_shape() {
        let created = change("created", None, Some(person("a", None)));
        let e = record_event(&created, Some("u1"), Some("m1")).unwrap();
        assert_eq!(e["action"], "CREATED");
        assert_eq!(e["objectNameSingular"], "person");
        assert_eq!(e["recordId"], "p1");
        assert_eq!(e["userId"], "u1");
        assert_eq!(e["workspaceMemberId"], "m1");
        assert_eq!(e["properties"]["after"]["jobTitle"], "a");
        assert_eq!(e["properties"]["before"], Value::Null);
        assert_eq!(e["properties"]["updatedFields"], Value::Null);

        let updated = change("updated", Some(person("a", None)), Some(person("b", None)));
        let e = record_event(&updated, None, None).unwrap();
        assert_eq!(e["action"], "UPDATED");
        // updatedAt changes on every write and is not part of the diff.
        assert_eq!(e["properties"]["updatedFields"], json!(["jobTitle"]));
        assert_eq!(
            e["properties"]["diff"],
            json!({ "jobTitle": { "before": "a", "after": "b" } })
        );

        // An update that changed only bookkeeping sends nothing.
        let mut same = person("a", None);
        same["updatedAt"] = json!("later");
        assert!(record_event(
            &change("updated", Some(person("a", None)), Some(same)),
            None,
            None
        )
        .is_none());
        let destroyed = change("destroyed", Some(person("a", None)), None);
        assert_eq!(
            record_event(&destroyed, None, None).unwrap()["action"],
            "DESTROYED"
        );
    }

    #[test]
    fn queries_match_by_object_and_filter() {
        let q = |id: &str, sig: Value| (id.to_string(), sig);
        let queries = vec![
            q(
                "all-people",
                json!({ "objectNameSingular": "person", "variables": {} }),
            ),
            q("no-vars", json!({ "objectNameSingular": "person" })),
            q(
                "empty-filter",
                json!({ "objectNameSingular": "person", "variables": { "filter": {} } }),
            ),
            q(
                "ceo",
                json!({ "objectNameSingular": "person", "variables": { "filter": { "jobTitle": { "eq": "ceo" } } } }),
            ),
            q(
                "companies",
                json!({ "objectNameSingular": "company", "variables": {} }),
            ),
            q("metadata", json!({ "metadataName": "view" })),
        ];
        // A fake filter: matches when the record's jobTitle is "ceo", soft-deleted records
        // only when the default condition is waived.
        let fake = |_: &Value, r: &Value, ignore: bool| {
            r["jobTitle"] == "ceo" && (ignore || r["deletedAt"].is_null())
        };
        let all = ["all-people", "no-vars", "empty-filter"];
        let with_ceo = ["all-people", "no-vars", "empty-filter", "ceo"];
        let cases: Vec<(&str, Change, Vec<&str>)> = vec![
            (
                "create, no match",
                change("created", None, Some(person("dev", None))),
                all.to_vec(),
            ),
            (
                "create, match",
                change("created", None, Some(person("ceo", None))),
                with_ceo.to_vec(),
            ),
            // An update matches if the record matched before or after (it left or entered).
            (
                "update leaving",
                change(
                    "updated",
                    Some(person("ceo", None)),
                    Some(person("dev", None)),
                ),
                with_ceo.to_vec(),
            ),
            (
                "update entering",
                change(
                    "updated",
                    Some(person("dev", None)),
                    Some(person("ceo", None)),
                ),
                with_ceo.to_vec(),
            ),
            // A soft delete is judged whatever deletedAt says.
            (
                "delete",
                change(
                    "deleted",
                    Some(person("ceo", None)),
                    Some(person("ceo", Some("2026-01-01"))),
                ),
                with_ceo.to_vec(),
            ),
            (
                "restore",
                change(
                    "restored",
                    Some(person("ceo", Some("2026-01-01"))),
                    Some(person("ceo", None)),
                ),
                with_ceo.to_vec(),
            ),
            // A destroyed soft-deleted record no longer matches a filtered query.
            (
                "destroy",
                change("destroyed", Some(person("ceo", Some("2026-01-01"))), None),
                all.to_vec(),
            ),
            ("no record", change("destroyed", None, None), vec![]),
        ];
        for (name, c, want) in cases {
            assert_eq!(matching_query_ids(&queries, &c, fake), want, "{name}");
        }
        let mut other = change("created", None, Some(person("ceo", None)));
        other.object = "company".into();
        assert_eq!(
            matching_query_ids(&queries, &other, fake),
            vec!["companies"]
        );
    }

    /// The filter statement on real SQLite: `/graphql`'s filter semantics on one record.
    #[test]
    fn filters_evaluate_on_one_record() {
        let model = test_model::model();
        let object = model.object("person").unwrap();
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let matches = |filter: Value, record: Value, ignore: bool| -> bool {
            let q = match_statement(&model, object, &filter, &record, ignore).unwrap();
            let params: Vec<rusqlite::types::Value> = q
                .params
                .iter()
                .map(|p| match p {
                    Param::Null => rusqlite::types::Value::Null,
                    Param::Int(i) => rusqlite::types::Value::Integer(*i),
                    Param::Real(f) => rusqlite::types::Value::Real(*f),
                    Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
                })
                .collect();
            let mut stmt = db.prepare(&q.text).unwrap();
            let mut rows = stmt.query(rusqlite::params_from_iter(params)).unwrap();
            rows.next().unwrap().is_some()
        };
        let id = "3f0e0c1e-0000-4000-8000-000000000001";
        let ceo = json!({ "id": id, "deletedAt": null, "jobTitle": "ceo",
                          "name": { "firstName": "Ada", "lastName": "L" }, "score": 7 });
        let mut gone = ceo.clone();
        gone["deletedAt"] = json!("2026-01-01T00:00:00.000Z");
        let cases: Vec<(Value, &Value, bool, bool)> = vec![
            (json!({ "jobTitle": { "eq": "ceo" } }), &ceo, false, true),
            (json!({ "jobTitle": { "eq": "cto" } }), &ceo, false, false),
            (
                json!({ "name": { "firstName": { "ilike": "%ad%" } } }),
                &ceo,
                false,
                true,
            ),
            (json!({ "score": { "gte": 5 } }), &ceo, false, true),
            (
                json!({ "or": [{ "score": { "lt": 5 } }, { "jobTitle": { "in": ["ceo"] } }] }),
                &ceo,
                false,
                true,
            ),
            (
                json!({ "not": { "jobTitle": { "eq": "ceo" } } }),
                &ceo,
                false,
                false,
            ),
            (json!({ "id": { "eq": id } }), &ceo, false, true),
            // Soft-deleted records are out unless the filter names deletedAt or the
            // event is a delete/restore.
            (json!({ "jobTitle": { "eq": "ceo" } }), &gone, false, false),
            (json!({ "jobTitle": { "eq": "ceo" } }), &gone, true, true),
            (
                json!({ "deletedAt": { "is": "NOT_NULL" } }),
                &gone,
                false,
                true,
            ),
        ];
        for (filter, record, ignore, want) in cases {
            assert_eq!(
                matches(filter.clone(), record.clone(), ignore),
                want,
                "{filter}"
            );
        }
        assert!(
            match_statement(&model, object, &json!({ "nope": { "eq": 1 } }), &ceo, false).is_err()
        );
    }
}
