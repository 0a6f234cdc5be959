//! Realtime (issue #6): the workspace actor's WebSockets, topics, record events, presence
//! and notifications.
//!
//! Sockets are accepted with the hibernation API only (`State::accept_web_socket`; never
//! `ws.accept()` with event listeners), so an idle workspace with open sockets costs no
//! memory: workerd evicts the actor and wakes it for the next frame or close. Everything a
//! socket needs is in its [`Attachment`] (who, since when, which topics), so after a wake
//! the socket list, subscriptions and presence are rebuilt from `state.get_websockets()`;
//! what lives only in memory ([`Local`]) can be lost: the close/error deduplication and the
//! per-socket frame windows.
//!
//! **Architecture Invariant:** events are published only after commit. [`publish`] takes the
//! `Change`s a mutation returned, which `graphql::execute` hands back only once their
//! transaction committed; a rolled-back mutation returns none, so it publishes nothing.
//!
//! [`publish`]: WorkspaceActor::publish

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use worker::{Request, Response, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::protocol::HEADER_WS_TICKET;
use super::socket_index::SocketIndex;
use super::sql;
use super::workspace::WorkspaceActor;
use crate::error::ApiError;
use crate::gateway::realtime::DEFAULT_TICKET_TTL_SECS;
use crate::identity::principal::{Principal, HEADER_PRINCIPAL};
use crate::metadata;
use crate::schema::engine::Change;
use crate::schema::error::{ErrorKind, QueryError};
use crate::schema::metadata::WorkspaceModel;

/// Open sockets one workspace actor accepts. A committed change costs one send per
/// subscriber of its topic (the [`SocketIndex`] finds them without a scan), so this bounds
/// the worst fan-out a mutation pays for: twice the 10,000 the realtime bench holds, well
/// under workerd's own ceiling of 32,768 WebSockets per object.
pub const MAX_SOCKETS_PER_ACTOR: usize = 20_000;
/// Closed sockets remembered to ignore their second close/error event (workerd can report
/// both, back to back). A bounded FIFO: an event arriving thousands of closes later is not
/// a duplicate worth remembering.
const CLOSED_SIDS_REMEMBERED: usize = 4_096;
/// Topics one socket may follow. Subscriptions live in the socket's attachment, which
/// workerd caps in size (see [`MAX_ATTACHMENT_BYTES`]); 16 topics of at most
/// [`MAX_TOPIC_LEN`] characters fit with room for the rest.
pub const MAX_SUBSCRIPTIONS_PER_SOCKET: usize = 16;
/// Largest client frame we parse. Client messages are small control messages (subscribe,
/// markRead with up to [`MAX_MARK_READ_IDS`] ids); anything larger is refused unparsed.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Longest topic: `record:{uuid}:{uuid}` is 80 characters.
pub const MAX_TOPIC_LEN: usize = 100;
/// workerd refuses attachments over its fixed `MAX_ATTACHMENT_SIZE`; we cap ours at a
/// conservative 2 KiB and check before writing, so going over is a clear `LIMIT_EXCEEDED`
/// error frame, not an exception.
pub const MAX_ATTACHMENT_BYTES: usize = 2_048;
/// Unread notifications replayed on subscribe; older ones stay unread in storage, so a
/// reconnect cannot flood a socket.
pub const MAX_REPLAYED_NOTIFICATIONS: usize = 100;
/// Ids one `markRead` may name (the frame size bounds it anyway; this keeps one statement's
/// `json_each` small).
pub const MAX_MARK_READ_IDS: usize = 100;

/// Frames one socket may send per minute. Clients send a handful (subscriptions at start,
/// a ping every half minute); each frame may cost SQL (membership, notifications), so a
/// runaway client is answered with `RATE_LIMITED` errors instead of occupying the actor.
pub const MAX_FRAMES_PER_SOCKET_PER_MINUTE: u32 = 120;

/// What a hibernated socket carries: enough to rebuild subscriptions and presence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// This socket's id: tells sockets apart across wakes (JS identity does not survive).
    pub sid: String,
    pub workspace_id: String,
    pub user_id: Option<String>,
    pub workspace_member_id: Option<String>,
    /// The API key a socket was opened with: revoking the key closes the socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    /// ISO-8601, when the socket was accepted.
    pub connected_at: String,
    pub topics: Vec<String>,
}

/// In-memory realtime state of one actor instance: only what can be lost safely.
pub struct Local {
    /// When this instance was constructed (epoch ms). The admin inspection shows it, so an
    /// operator (and a test) can tell an actor that hibernated and woke from one that
    /// stayed in memory.
    pub started_at: f64,
    /// Sockets whose close or error has been handled. workerd can report both for one
    /// socket and may still list it in `get_websockets()` while its close handler runs;
    /// skipping these keeps presence counts right and emits one `leave`. At most
    /// [`CLOSED_SIDS_REMEMBERED`], oldest forgotten first.
    closed: RefCell<(HashSet<String>, VecDeque<String>)>,
    /// Open sockets by id, topic and member; `None` until first used after a wake (or
    /// after a panic dropped it), then rebuilt from `get_websockets()`.
    index: RefCell<Option<SocketIndex<WebSocket>>>,
    /// Per-socket frame windows, by sid. In memory on purpose, like the workspace's
    /// request window: a wake forgets at most a minute of counting. Entries leave with
    /// their socket, so this is bounded by [`MAX_SOCKETS_PER_ACTOR`].
    frames: RefCell<HashMap<String, crate::ratelimit::Window>>,
}

impl Local {
    /// The state of an instance constructed now (not `Default`: it reads the clock).
    pub fn started_now() -> Self {
        Local {
            started_at: worker::Date::now().as_millis() as f64,
            closed: RefCell::new((HashSet::new(), VecDeque::new())),
            index: RefCell::new(None),
            frames: RefCell::new(HashMap::new()),
        }
    }

    /// Forgets the socket index (a panic may have left it half-updated); the next use
    /// rebuilds it from workerd's list.
    pub fn drop_index(&self) {
        self.index.replace(None);
    }

    fn is_closed(&self, sid: &str) -> bool {
        self.closed.borrow().0.contains(sid)
    }

    /// Records a handled close; false if it was already handled.
    fn mark_closed(&self, sid: &str) -> bool {
        let mut closed = self.closed.borrow_mut();
        if !closed.0.insert(sid.to_string()) {
            return false;
        }
        closed.1.push_back(sid.to_string());
        if closed.1.len() > CLOSED_SIDS_REMEMBERED {
            if let Some(old) = closed.1.pop_front() {
                closed.0.remove(&old);
            }
        }
        true
    }
}

/// A topic a client may subscribe to.
#[derive(Debug, PartialEq, Eq)]
pub enum Topic<'a> {
    Record {
        workspace_id: &'a str,
        object_metadata_id: &'a str,
    },
    Notification {
        user_id: &'a str,
    },
    Workflow {
        workflow_run_id: &'a str,
    },
    Presence {
        workspace_id: &'a str,
    },
}

/// Parses `record:{workspaceId}:{objectMetadataId}`, `notification:{userId}`,
/// `workflow:{workflowRunId}`, `presence:{workspaceId}`.
pub fn parse_topic(topic: &str) -> Option<Topic<'_>> {
    if topic.len() > MAX_TOPIC_LEN {
        return None;
    }
    let id_ok = |s: &str| !s.is_empty() && !s.contains(':');
    let (kind, rest) = topic.split_once(':')?;
    match kind {
        "record" => {
            let (w, o) = rest.split_once(':')?;
            (id_ok(w) && id_ok(o)).then_some(Topic::Record {
                workspace_id: w,
                object_metadata_id: o,
            })
        }
        "notification" => id_ok(rest).then_some(Topic::Notification { user_id: rest }),
        "workflow" => id_ok(rest).then_some(Topic::Workflow {
            workflow_run_id: rest,
        }),
        "presence" => id_ok(rest).then_some(Topic::Presence { workspace_id: rest }),
        _ => None,
    }
}

/// Why a socket may not follow `topic`: `(code, message)`. `object_exists` says whether an
/// object metadata id is in the workspace's model.
pub fn authorize(
    topic: &str,
    who: &Attachment,
    object_exists: impl Fn(&str) -> bool,
) -> Result<(), (&'static str, String)> {
    let forbidden = |m: &str| Err(("FORBIDDEN", m.to_string()));
    match parse_topic(topic) {
        None => Err((
            "BAD_REQUEST",
            format!(
                "Unknown topic {topic:?}: expected record:{{workspaceId}}:{{objectMetadataId}}, \
                 notification:{{userId}}, workflow:{{workflowRunId}} or presence:{{workspaceId}}"
            ),
        )),
        Some(Topic::Record {
            workspace_id,
            object_metadata_id,
        }) => {
            if workspace_id != who.workspace_id {
                forbidden("This topic belongs to another workspace")
            } else if !object_exists(object_metadata_id) {
                Err((
                    "NOT_FOUND",
                    format!("No object with metadata id {object_metadata_id}"),
                ))
            } else {
                Ok(())
            }
        }
        Some(Topic::Presence { workspace_id }) if workspace_id != who.workspace_id => {
            forbidden("This topic belongs to another workspace")
        }
        Some(Topic::Notification { user_id }) if Some(user_id) != who.user_id.as_deref() => {
            forbidden("Notifications are readable by their user only")
        }
        Some(_) => Ok(()),
    }
}

/// Keys whose value differs between `before` and `after` (sorted); empty unless both are
/// objects (creations and destructions have no "updated" fields).
pub fn updated_fields(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let (Some(Value::Object(b)), Some(Value::Object(a))) = (before, after) else {
        return vec![];
    };
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        // A missing key reads as null, as it does for clients.
        .filter(|k| b.get(*k).unwrap_or(&Value::Null) != a.get(*k).unwrap_or(&Value::Null))
        .cloned()
        .collect()
}

/// The `subscription` frame of one committed change.
pub fn record_event(
    topic: &str,
    change: &Change,
    object_name_singular: &str,
    workspace_member_id: Option<&str>,
) -> Value {
    json!({
        "type": "subscription",
        "topic": topic,
        "data": {
            "action": change.action,
            "objectNameSingular": object_name_singular,
            "recordId": change.record_id,
            "workspaceMemberId": workspace_member_id,
            "properties": {
                "before": change.before,
                "after": change.after,
                "updatedFields": updated_fields(change.before.as_ref(), change.after.as_ref()),
            },
        },
    })
}

/// Who is connected: per workspace member, open sockets and the earliest connection time,
/// ordered by member id. Sockets without a member (API keys) are not presence.
pub fn presence<'a>(sockets: impl IntoIterator<Item = &'a Attachment>) -> Vec<Value> {
    let mut by_member: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for a in sockets {
        let Some(m) = a.workspace_member_id.as_deref() else {
            continue;
        };
        let entry = by_member.entry(m).or_insert((0, &a.connected_at));
        entry.0 += 1;
        if a.connected_at.as_str() < entry.1 {
            entry.1 = &a.connected_at;
        }
    }
    by_member
        .into_iter()
        .map(|(m, (n, since))| json!({ "workspaceMemberId": m, "connections": n, "since": since }))
        .collect()
}

/// A client frame: `{type, topic?, data?}`.
#[derive(Debug, Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    topic: Option<String>,
    #[serde(default)]
    data: Value,
}

fn error_frame(topic: Option<&str>, code: &str, message: &str) -> Value {
    json!({ "type": "error", "topic": topic, "data": { "code": code, "message": message } })
}

fn send(ws: &WebSocket, frame: &Value) {
    send_text(ws, &frame.to_string());
}

/// Sends each batch's frame to its sockets in a task of its own, after the current event
/// (the mutation whose changes these are) has answered: the writer does not wait for a
/// fan-out that costs one send per subscriber (about a third of a second for 10,000
/// sockets, see bench/). Timers of equal delay run in creation order, so events still go
/// out in commit order. The frames were built from committed changes; only their sending
/// is deferred.
pub(super) fn deliver_after_response(batches: Vec<(Vec<WebSocket>, String)>) {
    if batches.iter().all(|(targets, _)| targets.is_empty()) {
        return;
    }
    worker::wasm_bindgen_futures::spawn_local(async move {
        // A macrotask, not a microtask: microtasks run before workerd sends the response.
        worker::Delay::from(std::time::Duration::ZERO).await;
        for (targets, text) in batches {
            send_to_all(&targets, &text);
        }
    });
}

/// Sends one text frame to many sockets. The text crosses from wasm to JS once, not once
/// per socket (`send_with_str` would copy and decode it again for every socket).
fn send_to_all(targets: &[WebSocket], text: &str) {
    use worker::wasm_bindgen::{JsCast, JsValue};
    let Some(first) = targets.first() else {
        return;
    };
    let send = js_sys::Reflect::get(first.as_ref(), &JsValue::from_str("send"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(send) = send else {
        return targets.iter().for_each(|ws| send_text(ws, text));
    };
    let text = JsValue::from_str(text);
    for ws in targets {
        // A socket can close between listing and sending; its close handler cleans up.
        if let Err(e) = send.call1(ws.as_ref(), &text) {
            tracing::debug!(error = ?e, "realtime send failed");
        }
    }
}

/// Sends an already serialized frame: a fan-out serializes once, not once per socket.
fn send_text(ws: &WebSocket, text: &str) {
    // A socket can close between listing and sending; its close handler cleans up.
    if let Err(e) = ws.send_with_str(text) {
        tracing::debug!(error = %e, "realtime send failed");
    }
}

fn load_attachment(ws: &WebSocket) -> Option<Attachment> {
    // Stored as a JSON string: serde_wasm_bindgen would turn maps into JS `Map`s, and a
    // string's size is what workerd's limit measures.
    let raw: String = ws.deserialize_attachment().ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

fn save_attachment(ws: &WebSocket, a: &Attachment) -> Result<(), String> {
    let raw = serde_json::to_string(a).map_err(|e| e.to_string())?;
    if raw.len() > MAX_ATTACHMENT_BYTES {
        return Err(format!(
            "socket state would exceed {MAX_ATTACHMENT_BYTES} bytes"
        ));
    }
    ws.serialize_attachment(raw).map_err(|e| e.to_string())
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An admission refusal as a plain HTTP error (the upgrade is plain HTTP, not GraphQL).
fn admission_error(e: QueryError, retry_after: Option<u64>) -> ApiError {
    match e.kind {
        ErrorKind::TooManyRequests => ApiError::RateLimited {
            retry_after_secs: retry_after.unwrap_or(60),
        },
        ErrorKind::Unauthenticated => ApiError::Unauthorized(e.message),
        ErrorKind::Internal => ApiError::Internal(e.message),
        _ => ApiError::Forbidden(e.message),
    }
}

impl WorkspaceActor {
    /// `POST /ws/ticket`: stores the hash of a fresh single-use ticket for the principal.
    pub(super) async fn ws_ticket(
        &self,
        req: &Request,
        workspace_id: &str,
    ) -> Result<Response, ApiError> {
        let principal = principal_header(req)?;
        self.admit(&principal, workspace_id)
            .await
            .map_err(|(e, d)| admission_error(e, d.map(|d| d.retry_after)))?;
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)
            .map_err(|e| ApiError::Internal(format!("random: {e}")))?;
        use base64::Engine as _;
        let ticket = format!(
            "{workspace_id}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        );
        let now = worker::Date::now().as_millis() as i64;
        let ttl_secs =
            metadata::config_secs(&self.env, "WS_TICKET_TTL_SECS", DEFAULT_TICKET_TTL_SECS);
        let expires_at = now + ttl_secs.clamp(1, DEFAULT_TICKET_TTL_SECS) * 1000;
        let s = self.state.storage().sql();
        // Expired tickets are swept here: issuing is the only way to add rows, so the
        // table never holds more than a minute's worth.
        sql::exec(
            &s,
            "DELETE FROM _ws_tickets WHERE expires_at <= ?",
            vec![(now as f64).into()],
        )?;
        let principal_json = serde_json::to_string(&principal)?;
        sql::exec(
            &s,
            "INSERT INTO _ws_tickets (ticket, principal, expires_at) VALUES (?, ?, ?)",
            vec![
                sha256_hex(&ticket).into(),
                principal_json.into(),
                (expires_at as f64).into(),
            ],
        )?;
        let expires_iso = chrono::DateTime::from_timestamp_millis(expires_at)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        Ok(Response::from_json(
            &json!({ "ticket": ticket, "expiresAt": expires_iso }),
        )?)
    }

    /// Consumes a ticket: the one statement that reads it also deletes it, and an actor
    /// runs one synchronous statement at a time, so two connections cannot share it.
    fn consume_ticket(&self, ticket: &str) -> Result<Option<Principal>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            principal: String,
            expires_at: f64,
        }
        let rows: Vec<Row> = sql::rows(
            &self.state.storage().sql(),
            "DELETE FROM _ws_tickets WHERE ticket = ? RETURNING principal, expires_at",
            vec![sha256_hex(ticket).into()],
        )?;
        let now = worker::Date::now().as_millis() as f64;
        Ok(rows
            .into_iter()
            .next()
            .filter(|r| r.expires_at > now)
            .and_then(|r| serde_json::from_str(&r.principal).ok()))
    }

    /// `GET /ws` (forwarded): admits the caller and accepts a hibernatable socket.
    pub(super) async fn ws_connect(
        &self,
        req: &Request,
        workspace_id: &str,
    ) -> Result<Response, ApiError> {
        let principal = match req.headers().get(HEADER_WS_TICKET)? {
            Some(ticket) => self
                .consume_ticket(&ticket)?
                .ok_or_else(|| ApiError::Unauthorized("Invalid or expired ticket".into()))?,
            None => principal_header(req)?,
        };
        let (_, member) = self
            .admit(&principal, workspace_id)
            .await
            .map_err(|(e, d)| admission_error(e, d.map(|d| d.retry_after)))?;
        if self.with_index(|ix| ix.len()) >= MAX_SOCKETS_PER_ACTOR {
            return Err(ApiError::ServiceUnavailable(format!(
                "This workspace has {MAX_SOCKETS_PER_ACTOR} realtime connections open; retry later"
            )));
        }
        let attachment = Attachment {
            sid: uuid::Uuid::new_v4().to_string(),
            workspace_id: workspace_id.to_string(),
            user_id: principal.user_id().map(str::to_string),
            workspace_member_id: member
                .as_ref()
                .and_then(|m| m["id"].as_str())
                .map(str::to_string),
            api_key_id: match &principal {
                Principal::ApiKey { api_key_id, .. } => Some(api_key_id.clone()),
                _ => None,
            },
            connected_at: metadata::now_iso(),
            topics: vec![],
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        if let Err(e) = save_attachment(&pair.server, &attachment) {
            // A socket without state would be invisible to every listing: drop it.
            let _ = pair
                .server
                .close(Some(1011), Some("could not store connection state"));
            return Err(ApiError::Internal(e));
        }
        // workerd answers this exact frame itself, without waking a hibernated actor.
        if let Ok(pair) =
            worker::WebSocketRequestResponsePair::new(r#"{"type":"ping"}"#, r#"{"type":"pong"}"#)
        {
            self.state.set_websocket_auto_response(&pair);
        }
        let member_id = attachment.workspace_member_id.clone();
        let since = attachment.connected_at.clone();
        let connections = self.with_index(|ix| ix.insert(pair.server.clone(), attachment));
        if let (Some(member_id), 1) = (member_id, connections) {
            let entry = json!({ "connections": 1, "since": since });
            self.broadcast_presence(workspace_id, "join", &member_id, entry);
        }
        Ok(Response::from_websocket(pair.client)?)
    }

    /// Runs `f` on the socket index, building it first if this instance has none yet.
    /// `f` must not call back into realtime (the index is borrowed while it runs).
    fn with_index<R>(&self, f: impl FnOnce(&mut SocketIndex<WebSocket>) -> R) -> R {
        let mut slot = self.realtime.index.borrow_mut();
        let ix = slot.get_or_insert_with(|| {
            let mut ix = SocketIndex::default();
            for ws in self.state.get_websockets() {
                if let Some(a) = load_attachment(&ws) {
                    if !self.realtime.is_closed(&a.sid) {
                        ix.insert(ws, a);
                    }
                }
            }
            ix
        });
        f(ix)
    }

    /// The sockets following `topic` whose member still belongs to the workspace; the
    /// others (a member removed since connecting) are closed with 4403 and get nothing
    /// more. `removed` remembers each member's verdict (true: removed) across the topics of
    /// one publish, so a member costs one lookup per publish.
    fn subscribers(&self, topic: &str, removed: &mut HashMap<String, bool>) -> Vec<WebSocket> {
        let listed: Vec<(WebSocket, Option<String>)> = self.with_index(|ix| {
            ix.subscribers(topic)
                .map(|(ws, a)| (ws.clone(), a.workspace_member_id.clone()))
                .collect()
        });
        let mut kept = Vec::with_capacity(listed.len());
        for (ws, member) in listed {
            if let Some(m) = member {
                let gone = match removed.get(&m) {
                    Some(gone) => *gone,
                    None => {
                        let gone = self.member_removed(&m);
                        removed.insert(m, gone);
                        gone
                    }
                };
                if gone {
                    let _ = ws.close(Some(4403), Some("not a member"));
                    continue;
                }
            }
            kept.push(ws);
        }
        kept
    }

    /// Sends `frame` to every socket following `topic` (serialized once).
    fn fan_out(&self, topic: &str, frame: &Value) {
        let targets = self.subscribers(topic, &mut HashMap::new());
        if targets.is_empty() {
            return;
        }
        send_to_all(&targets, &frame.to_string());
    }

    fn broadcast_presence(&self, workspace_id: &str, action: &str, member_id: &str, entry: Value) {
        let topic = format!("presence:{workspace_id}");
        let frame = json!({
            "type": "subscription",
            "topic": topic,
            "data": {
                "action": action,
                "workspaceMemberId": member_id,
                "connections": entry["connections"],
                "since": entry["since"],
            },
        });
        self.fan_out(&topic, &frame);
    }

    /// Closes every channel opened with API key `key` (`/ws` sockets and event streams),
    /// after the key was revoked.
    pub(super) fn close_channels_of_api_key(&self, key: &str) {
        let sockets: Vec<WebSocket> =
            self.with_index(|ix| ix.sockets_of_api_key(key).cloned().collect());
        for ws in sockets {
            let _ = ws.close(Some(4403), Some("API key revoked"));
        }
        let owner = format!("apiKey:{key}");
        self.close_event_streams(|a| a.owner == owner);
    }

    /// Who is connected now (the `presence` answer).
    fn presence_now(&self) -> Vec<Value> {
        self.with_index(|ix| presence(ix.attachments()))
    }

    /// Publishes committed changes, in commit order, to `record:` subscribers, and creates
    /// and delivers the notifications they cause. Call only with changes whose transaction
    /// committed. `workspace_member_id` is the acting member (none for API keys). Never
    /// fails the caller: the changes are committed whatever happens here, so a delivery
    /// problem is logged.
    pub fn publish(&self, changes: &[Change], workspace_member_id: Option<&str>) {
        if changes.is_empty() {
            return;
        }
        self.record_member_removals(changes);
        // A removed member's event streams end with its membership.
        for c in changes {
            if c.object == "workspaceMember" && matches!(c.action, "deleted" | "destroyed") {
                self.close_event_streams(|a| {
                    a.workspace_member_id.as_deref() == Some(c.record_id.as_str())
                });
            }
        }
        if let Err(e) = self.try_publish(changes, workspace_member_id) {
            tracing::error!(error = %e.log_message(), "realtime publish failed");
        }
        // graphql-sse event streams (`actors::event_stream`): their own sockets and queries.
        self.publish_to_event_streams(changes, workspace_member_id);
    }

    fn try_publish(
        &self,
        changes: &[Change],
        workspace_member_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let model = self.model()?;
        let notifications = self.notify_assignments(&model, changes, workspace_member_id)?;
        let Some(workspace_id) =
            self.with_index(|ix| ix.attachments().next().map(|a| a.workspace_id.clone()))
        else {
            return Ok(()); // nobody connected
        };
        // A removed member's sockets close (4403) whatever they follow, and get nothing.
        let mut removed = HashMap::new();
        let mut batches: Vec<(Vec<WebSocket>, String)> = vec![];
        for c in changes {
            if c.object == "workspaceMember" && matches!(c.action, "deleted" | "destroyed") {
                let sockets: Vec<WebSocket> =
                    self.with_index(|ix| ix.sockets_of_member(&c.record_id).cloned().collect());
                for ws in sockets {
                    let _ = ws.close(Some(4403), Some("not a member"));
                }
                removed.insert(c.record_id.clone(), true);
            }
        }
        for change in changes {
            let Some(object) = model
                .objects
                .iter()
                .find(|o| o.name_singular == change.object)
            else {
                continue;
            };
            let topic = format!("record:{workspace_id}:{}", object.id);
            let targets = self.subscribers(&topic, &mut removed);
            if targets.is_empty() {
                continue;
            }
            let frame = record_event(&topic, change, &object.name_singular, workspace_member_id);
            batches.push((targets, frame.to_string()));
        }
        for (user_id, notification) in notifications {
            let topic = format!("notification:{user_id}");
            let targets = self.subscribers(&topic, &mut removed);
            let frame = notification_frame(&topic, "created", notification);
            batches.push((targets, frame.to_string()));
        }
        deliver_after_response(batches);
        Ok(())
    }

    /// A task whose assignee became a member notifies that member's user. Persisted first,
    /// so a user offline now sees it on the next subscribe.
    fn notify_assignments(
        &self,
        model: &WorkspaceModel,
        changes: &[Change],
        assigned_by: Option<&str>,
    ) -> Result<Vec<(String, Value)>, ApiError> {
        let mut out = vec![];
        for c in changes {
            if c.object != "task" || !matches!(c.action, "created" | "updated") {
                continue;
            }
            let after = c.after.as_ref().and_then(|a| a["assigneeId"].as_str());
            let before = c.before.as_ref().and_then(|b| b["assigneeId"].as_str());
            let Some(assignee) = after.filter(|a| Some(*a) != before) else {
                continue;
            };
            if model.object("workspaceMember").is_none() {
                continue;
            }
            let Some(user_id) = self
                .member_record(assignee)
                .map_err(|e| ApiError::Internal(e.message))?
                .and_then(|m| m["userId"].as_str().map(str::to_string))
            else {
                continue;
            };
            let notification = json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "kind": "taskAssigned",
                "data": {
                    "taskId": c.record_id,
                    "title": c.after.as_ref().map(|a| a["title"].clone()),
                    "assigneeId": assignee,
                    "assignedBy": assigned_by,
                },
                "createdAt": metadata::now_iso(),
                "readAt": null,
            });
            sql::exec(
                &self.state.storage().sql(),
                "INSERT INTO _notifications (id, user_id, kind, data, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    notification["id"].as_str().unwrap_or_default().into(),
                    user_id.clone().into(),
                    "taskAssigned".into(),
                    notification["data"].to_string().into(),
                    notification["createdAt"]
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                ],
            )?;
            out.push((user_id, notification));
        }
        Ok(out)
    }

    /// A client frame. Every failure is answered with an `error` frame; nothing here may
    /// panic or close the socket except a socket whose state is unreadable.
    pub(super) async fn ws_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) {
        let Some(mut me) = load_attachment(&ws) else {
            // Event-stream sockets carry frames one way only (actor to gateway): ignored.
            if super::event_stream::load_attachment(&ws).is_some() {
                return;
            }
            send(
                &ws,
                &error_frame(None, "INTERNAL_ERROR", "Connection state lost; reconnect"),
            );
            let _ = ws.close(Some(1011), Some("connection state lost"));
            return;
        };
        let window = self.realtime.frames.borrow().get(&me.sid).copied();
        let (window, decision) = crate::ratelimit::hit(
            window,
            worker::Date::now().as_millis(),
            MAX_FRAMES_PER_SOCKET_PER_MINUTE,
            crate::ratelimit::MINUTE_MS,
        );
        self.realtime
            .frames
            .borrow_mut()
            .insert(me.sid.clone(), window);
        if !decision.allowed {
            return send(
                &ws,
                &error_frame(
                    None,
                    "RATE_LIMITED",
                    &format!(
                        "At most {MAX_FRAMES_PER_SOCKET_PER_MINUTE} frames per minute; retry in {} s",
                        decision.retry_after
                    ),
                ),
            );
        }
        let text = match message {
            WebSocketIncomingMessage::String(s) => s,
            WebSocketIncomingMessage::Binary(_) => {
                return send(
                    &ws,
                    &error_frame(None, "BAD_REQUEST", "Frames must be JSON text"),
                );
            }
        };
        if text.len() > MAX_MESSAGE_BYTES {
            return send(
                &ws,
                &error_frame(
                    None,
                    "BAD_REQUEST",
                    &format!("Frames are limited to {MAX_MESSAGE_BYTES} bytes"),
                ),
            );
        }
        let msg: ClientMessage = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(e) => {
                return send(
                    &ws,
                    &error_frame(
                        None,
                        "BAD_REQUEST",
                        &format!("Expected {{type, topic?, data?}} JSON: {e}"),
                    ),
                );
            }
        };
        let topic = msg.topic.as_deref();
        match msg.kind.as_str() {
            "ping" => send(&ws, &json!({ "type": "pong" })),
            "pong" => {}
            "presence" => {
                let members = self.presence_now();
                send(
                    &ws,
                    &json!({ "type": "presence", "data": { "workspaceId": me.workspace_id, "members": members } }),
                );
            }
            "subscribe" => self.subscribe(&ws, &mut me, topic),
            "unsubscribe" => {
                let Some(topic) = topic else {
                    return send(
                        &ws,
                        &error_frame(None, "BAD_REQUEST", "unsubscribe needs a topic"),
                    );
                };
                me.topics.retain(|t| t != topic);
                match save_attachment(&ws, &me) {
                    Ok(()) => {
                        self.with_index(|ix| ix.set_topics(&me.sid, &me.topics));
                        send(&ws, &json!({ "type": "unsubscribed", "topic": topic }))
                    }
                    Err(e) => send(&ws, &error_frame(Some(topic), "INTERNAL_ERROR", &e)),
                }
            }
            "markRead" => self.mark_read(&ws, &me, &msg.data),
            other => send(
                &ws,
                &error_frame(
                    topic,
                    "BAD_REQUEST",
                    &format!(
                        "Unknown message type {other:?}: expected subscribe, unsubscribe, \
                         ping, pong, presence or markRead"
                    ),
                ),
            ),
        }
    }

    fn subscribe(&self, ws: &WebSocket, me: &mut Attachment, topic: Option<&str>) {
        let Some(topic) = topic else {
            return send(
                ws,
                &error_frame(None, "BAD_REQUEST", "subscribe needs a topic"),
            );
        };
        // A member removed since connecting loses realtime with everything else.
        if let Some(member_id) = &me.workspace_member_id {
            if self.member_removed(member_id) {
                send(
                    ws,
                    &error_frame(
                        Some(topic),
                        "FORBIDDEN",
                        "User is not a member of the workspace",
                    ),
                );
                let _ = ws.close(Some(4403), Some("not a member"));
                return;
            }
        }
        let model = self.model().ok();
        let object_exists = |id: &str| {
            model
                .as_ref()
                .is_some_and(|m| m.objects.iter().any(|o| o.id == id && o.is_active))
        };
        if let Err((code, message)) = authorize(topic, me, object_exists) {
            return send(ws, &error_frame(Some(topic), code, &message));
        }
        if !me.topics.iter().any(|t| t == topic) {
            if me.topics.len() >= MAX_SUBSCRIPTIONS_PER_SOCKET {
                return send(
                    ws,
                    &error_frame(
                        Some(topic),
                        "LIMIT_EXCEEDED",
                        &format!(
                            "A connection follows at most {MAX_SUBSCRIPTIONS_PER_SOCKET} topics"
                        ),
                    ),
                );
            }
            me.topics.push(topic.to_string());
            if let Err(e) = save_attachment(ws, me) {
                me.topics.pop();
                return send(ws, &error_frame(Some(topic), "LIMIT_EXCEEDED", &e));
            }
            self.with_index(|ix| ix.set_topics(&me.sid, &me.topics));
        }
        match parse_topic(topic) {
            Some(Topic::Presence { workspace_id }) => {
                let members = self.presence_now();
                send(
                    ws,
                    &json!({
                        "type": "subscribed",
                        "topic": topic,
                        "data": { "workspaceId": workspace_id, "members": members },
                    }),
                );
            }
            Some(Topic::Notification { user_id }) => {
                send(ws, &json!({ "type": "subscribed", "topic": topic }));
                match self.unread(user_id) {
                    Ok(list) => {
                        for n in list {
                            send(ws, &notification_frame(topic, "unread", n));
                        }
                    }
                    Err(e) => send(
                        ws,
                        &error_frame(Some(topic), "INTERNAL_ERROR", &e.public_message()),
                    ),
                }
            }
            _ => send(ws, &json!({ "type": "subscribed", "topic": topic })),
        }
    }

    fn unread(&self, user_id: &str) -> Result<Vec<Value>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            kind: String,
            data: String,
            created_at: String,
        }
        let rows: Vec<Row> = sql::rows(
            &self.state.storage().sql(),
            "SELECT id, kind, data, created_at FROM _notifications \
             WHERE user_id = ? AND read_at IS NULL ORDER BY created_at, id LIMIT ?",
            vec![user_id.into(), (MAX_REPLAYED_NOTIFICATIONS as f64).into()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "kind": r.kind,
                    "data": serde_json::from_str::<Value>(&r.data).unwrap_or(Value::Null),
                    "createdAt": r.created_at,
                    "readAt": null,
                })
            })
            .collect())
    }

    fn mark_read(&self, ws: &WebSocket, me: &Attachment, data: &Value) {
        let Some(user_id) = &me.user_id else {
            return send(
                ws,
                &error_frame(None, "FORBIDDEN", "Only users have notifications"),
            );
        };
        let ids: Option<Vec<&str>> = data["ids"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        let Some(ids) = ids.filter(|ids| !ids.is_empty() && ids.len() <= MAX_MARK_READ_IDS) else {
            return send(
                ws,
                &error_frame(
                    None,
                    "BAD_REQUEST",
                    &format!("markRead needs data.ids: 1 to {MAX_MARK_READ_IDS} notification ids"),
                ),
            );
        };
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let marked: Result<Vec<Row>, _> = sql::rows(
            &self.state.storage().sql(),
            "UPDATE _notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL \
             AND id IN (SELECT value FROM json_each(?)) RETURNING id",
            vec![
                metadata::now_iso().into(),
                user_id.as_str().into(),
                Value::from(ids).to_string().into(),
            ],
        );
        match marked {
            Ok(rows) => {
                let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
                send(ws, &json!({ "type": "markedRead", "data": { "ids": ids } }));
            }
            Err(e) => {
                tracing::error!(error = %e, "markRead failed");
                send(
                    ws,
                    &error_frame(None, "INTERNAL_ERROR", "Could not mark notifications read"),
                );
            }
        }
    }

    /// A socket closed or failed: forget it and, if it was its member's last, say `leave`.
    pub(super) fn ws_closed(&self, ws: &WebSocket) {
        let Some(me) = load_attachment(ws) else {
            return;
        };
        if !self.realtime.mark_closed(&me.sid) {
            return; // close after error, or the reverse: handled once
        }
        // Completes the closing handshake; fails harmlessly if the socket is already gone.
        let _ = ws.close(Some(1000), Some("closed"));
        self.realtime.frames.borrow_mut().remove(&me.sid);
        let member = me.workspace_member_id.as_deref();
        // An index built just now (first event after a wake) already skips this socket.
        let left = self.with_index(|ix| {
            ix.remove(&me.sid);
            member.map(|m| ix.member_connections(m))
        });
        if let (Some(member_id), Some(0)) = (member, left) {
            let entry = json!({ "connections": 0, "since": me.connected_at });
            self.broadcast_presence(&me.workspace_id, "leave", member_id, entry);
        }
    }
}

fn notification_frame(topic: &str, action: &str, notification: Value) -> Value {
    json!({
        "type": "subscription",
        "topic": topic,
        "data": { "action": action, "notification": notification },
    })
}

fn principal_header(req: &Request) -> Result<Principal, ApiError> {
    req.headers()
        .get(HEADER_PRINCIPAL)?
        .and_then(|h| serde_json::from_str(&h).ok())
        .ok_or_else(|| ApiError::Internal("actor request without principal".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Attachment {
        Attachment {
            sid: "s1".into(),
            workspace_id: "w1".into(),
            user_id: Some("u1".into()),
            workspace_member_id: Some("m1".into()),
            api_key_id: None,
            connected_at: "2026-01-01T00:00:00.000Z".into(),
            topics: vec![],
        }
    }

    #[test]
    fn topics_parse() {
        assert_eq!(
            parse_topic("record:w1:o1"),
            Some(Topic::Record {
                workspace_id: "w1",
                object_metadata_id: "o1"
            })
        );
        assert_eq!(
            parse_topic("notification:u1"),
            Some(Topic::Notification { user_id: "u1" })
        );
        assert_eq!(
            parse_topic("presence:w1"),
            Some(Topic::Presence { workspace_id: "w1" })
        );
        assert_eq!(
            parse_topic("workflow:r1"),
            Some(Topic::Workflow {
                workflow_run_id: "r1"
            })
        );
        for bad in [
            "record:w1",
            "record::o",
            "record:w:o:x",
            "nope:x",
            "presence:",
            "",
        ] {
            assert_eq!(parse_topic(bad), None, "{bad}");
        }
        assert_eq!(parse_topic(&format!("workflow:{}", "x".repeat(200))), None);
    }

    #[test]
    fn topics_authorize() {
        let all = |_: &str| true;
        assert!(authorize("record:w1:o1", &me(), all).is_ok());
        assert_eq!(
            authorize("record:w2:o1", &me(), all).unwrap_err().0,
            "FORBIDDEN"
        );
        assert_eq!(
            authorize("record:w1:o1", &me(), |_| false).unwrap_err().0,
            "NOT_FOUND"
        );
        assert!(authorize("notification:u1", &me(), all).is_ok());
        assert_eq!(
            authorize("notification:u2", &me(), all).unwrap_err().0,
            "FORBIDDEN"
        );
        assert!(authorize("presence:w1", &me(), all).is_ok());
        assert_eq!(
            authorize("presence:w2", &me(), all).unwrap_err().0,
            "FORBIDDEN"
        );
        assert_eq!(
            authorize("garbage", &me(), all).unwrap_err().0,
            "BAD_REQUEST"
        );
        let mut key = me();
        key.user_id = None;
        assert_eq!(
            authorize("notification:u1", &key, all).unwrap_err().0,
            "FORBIDDEN"
        );
    }

    #[test]
    fn updated_fields_diff() {
        let b = json!({"a": 1, "b": 2, "c": null});
        let a = json!({"a": 1, "b": 3, "d": 4});
        assert_eq!(updated_fields(Some(&b), Some(&a)), vec!["b", "d"]);
        assert!(updated_fields(None, Some(&a)).is_empty());
    }

    #[test]
    fn presence_groups_by_member() {
        let mut a = me();
        let mut b = me();
        b.sid = "s2".into();
        b.connected_at = "2025-12-31T00:00:00.000Z".into();
        a.topics.push("x".into());
        let mut c = me();
        c.workspace_member_id = Some("m0".into());
        let mut k = me();
        k.workspace_member_id = None;
        let p = presence([&a, &b, &c, &k]);
        assert_eq!(
            p,
            vec![
                json!({"workspaceMemberId": "m0", "connections": 1, "since": "2026-01-01T00:00:00.000Z"}),
                json!({"workspaceMemberId": "m1", "connections": 2, "since": "2025-12-31T00:00:00.000Z"}),
            ]
        );
    }

    #[test]
    fn attachment_fits_with_max_topics() {
        let mut a = me();
        a.sid = uuid::Uuid::new_v4().to_string();
        a.workspace_id = uuid::Uuid::new_v4().to_string();
        a.user_id = Some(uuid::Uuid::new_v4().to_string());
        a.workspace_member_id = Some(uuid::Uuid::new_v4().to_string());
        a.topics = (0..MAX_SUBSCRIPTIONS_PER_SOCKET)
            .map(|_| "x".repeat(MAX_TOPIC_LEN))
            .collect();
        assert!(serde_json::to_string(&a).unwrap().len() <= MAX_ATTACHMENT_BYTES);
    }
}
