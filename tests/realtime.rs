//! Realtime (issue #6), black-box: a real WebSocket client against a real `wrangler dev`.
//!
//! Every read has a timeout, so a missing event fails the test instead of hanging it.

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long a test waits for a frame it expects.
const WAIT: Duration = Duration::from_secs(10);
/// How long a test listens to conclude nothing more is coming.
const QUIET: Duration = Duration::from_millis(1500);

struct Client {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
}

type Connected = Result<(Client, tungstenite::handshake::client::Response), tungstenite::Error>;

fn ws_url(server: &TestServer, path: &str) -> String {
    server.url(path).replacen("http://", "ws://", 1)
}

fn open(request: tungstenite::handshake::client::Request) -> Connected {
    let (ws, resp) = tungstenite::connect(request)?;
    Ok((Client { ws }, resp))
}

/// Connects offering `twenty-edge, <token>` as subprotocols, as a browser would.
fn connect_with_token(server: &TestServer, token: &str) -> Connected {
    let mut req = ws_url(server, "/ws").into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("twenty-edge, {token}")).unwrap(),
    );
    open(req)
}

fn connect_with_ticket(server: &TestServer, ticket: &str) -> Connected {
    open(
        ws_url(server, &format!("/ws?ticket={ticket}"))
            .into_client_request()
            .unwrap(),
    )
}

fn connect(server: &TestServer, s: &Session) -> Client {
    connect_with_token(server, &s.access).expect("connect").0
}

/// An upgrade request through the plain HTTP client, to read a refusal's body.
fn upgrade<'a>(server: &'a TestServer, path: &str) -> common::Call<'a> {
    server
        .get(path)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
}

fn ticket(server: &TestServer, token: &str) -> Value {
    let resp = server.post("/ws/ticket").bearer(token).send();
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()
}

/// The HTTP status a refused upgrade answered. (tungstenite keeps only the body bytes that
/// came with the headers, so bodies are checked with [`upgrade`] instead.)
fn refused(c: Connected) -> u16 {
    match c {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    }
}

impl Client {
    fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).expect("send");
    }

    fn send_raw(&mut self, m: Message) {
        self.ws.send(m).expect("send");
    }

    fn set_timeout(&mut self, d: Duration) {
        if let MaybeTlsStream::Plain(s) = self.ws.get_mut() {
            s.set_read_timeout(Some(d)).unwrap();
        }
    }

    /// The next JSON frame, or `None` if none arrives within `within`.
    fn try_recv(&mut self, within: Duration) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.set_timeout(left);
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    return Some(serde_json::from_str(t.as_str()).expect("JSON frame"))
                }
                Ok(Message::Close(c)) => panic!("socket closed: {c:?}"),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return None
                }
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    fn recv(&mut self) -> Value {
        self.try_recv(WAIT)
            .unwrap_or_else(|| panic!("no frame within {WAIT:?}"))
    }

    fn assert_quiet(&mut self) {
        if let Some(v) = self.try_recv(QUIET) {
            panic!("unexpected frame: {v}");
        }
    }

    fn subscribe(&mut self, topic: &str) -> Value {
        self.send(json!({ "type": "subscribe", "topic": topic }));
        let ack = self.recv();
        assert_eq!(ack["type"], "subscribed", "{ack}");
        assert_eq!(ack["topic"], topic, "{ack}");
        ack
    }

    fn close(mut self) {
        let _ = self.ws.close(None);
        // Drain until the server's close frame, so the close is complete.
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            self.set_timeout(Duration::from_millis(500));
            match self.ws.read() {
                Ok(_) => continue,
                Err(_) => break,
            }
        }
    }
}

#[test]
fn connections_authenticate_by_subprotocol_or_single_use_ticket() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-auth"));

    // Subprotocol token: the answer names our protocol only, never the token.
    let (mut c, resp) = connect_with_token(&server, &s.access).expect("token connect");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some("twenty-edge")
    );
    c.send(json!({ "type": "ping" }));
    assert_eq!(c.recv(), json!({ "type": "pong" }));
    // Not the exact auto-answered frame: the actor itself answers.
    c.send_raw(Message::text("{ \"type\" : \"ping\" }"));
    assert_eq!(c.recv()["type"], "pong");
    c.close();

    // Ticket: single use.
    let t = ticket(&server, &s.access);
    let tk = t["ticket"].as_str().unwrap().to_string();
    assert!(t["expiresAt"].as_str().unwrap().ends_with('Z'), "{t}");
    let (mut c, _) = connect_with_ticket(&server, &tk).expect("ticket connect");
    c.send(json!({ "type": "ping" }));
    assert_eq!(c.recv()["type"], "pong");
    assert_eq!(
        refused(connect_with_ticket(&server, &tk)),
        401,
        "a ticket admits one connection"
    );
    upgrade(&server, &format!("/ws?ticket={tk}"))
        .send()
        .assert_error(401, "UNAUTHORIZED");
    c.close();

    // No credentials, a bad token, a forged ticket, a ticket without a token.
    assert_eq!(
        refused(open(ws_url(&server, "/ws").into_client_request().unwrap())),
        401
    );
    upgrade(&server, "/ws")
        .send()
        .assert_error(401, "UNAUTHORIZED");
    assert_eq!(refused(connect_with_token(&server, "not.a.jwt")), 401);
    upgrade(&server, "/ws")
        .header("sec-websocket-protocol", "twenty-edge, not.a.jwt")
        .send()
        .assert_error(401, "UNAUTHORIZED");
    let forged = format!(
        "{}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        s.workspace_id
    );
    assert_eq!(refused(connect_with_ticket(&server, &forged)), 401);
    assert_eq!(refused(connect_with_ticket(&server, "garbage")), 401);
    server
        .post("/ws/ticket")
        .send()
        .assert_error(401, "UNAUTHORIZED");
    // A plain GET (no upgrade) is a clear 400, not a hang.
    server
        .get("/ws")
        .bearer(&s.access)
        .send()
        .assert_error(400, "VALIDATION_ERROR");

    // Tickets and tokens never reach the logs (the request line has the path only).
    let secret = tk.split_once('.').unwrap().1;
    assert!(!server.logs().contains(secret), "ticket logged");
    assert!(!server.logs().contains(&s.access), "token logged");
}

#[test]
fn record_events_follow_commits_in_order() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-rec"));
    let (_, member_id) = server.me(&s);
    let person = server.object_id(&s, "person");
    let topic = format!("record:{}:{person}", s.workspace_id);
    let mut c = connect(&server, &s);
    c.subscribe(&topic);

    let created = server.graphql_ok(&s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "name": { "firstName": "Ada", "lastName": "L" }, "jobTitle": "Analyst" } }),
    );
    let id = created["createPerson"]["id"].as_str().unwrap().to_string();
    server.graphql_ok(&s.access,
        "mutation($id: UUID!, $data: PersonUpdateInput!) { updatePerson(id: $id, data: $data) { id } }",
        json!({ "id": id, "data": { "jobTitle": "Engineer" } }),
    );
    server.graphql_ok(
        &s.access,
        "mutation($id: UUID!) { deletePerson(id: $id) { id } }",
        json!({ "id": id }),
    );

    let e = c.recv();
    assert_eq!(e["type"], "subscription", "{e}");
    assert_eq!(e["topic"], topic, "{e}");
    let d = &e["data"];
    assert_eq!(d["action"], "created", "{e}");
    assert_eq!(d["objectNameSingular"], "person", "{e}");
    assert_eq!(d["recordId"], id.as_str(), "{e}");
    assert_eq!(d["workspaceMemberId"], member_id.as_str(), "{e}");
    assert!(d["properties"]["before"].is_null(), "{e}");
    assert_eq!(d["properties"]["after"]["jobTitle"], "Analyst", "{e}");

    let e = c.recv();
    let d = &e["data"];
    assert_eq!(d["action"], "updated", "{e}");
    assert_eq!(d["properties"]["before"]["jobTitle"], "Analyst", "{e}");
    assert_eq!(d["properties"]["after"]["jobTitle"], "Engineer", "{e}");
    let fields = d["properties"]["updatedFields"].as_array().unwrap();
    assert!(fields.contains(&json!("jobTitle")), "{e}");
    assert!(!fields.contains(&json!("name")), "{e}");

    let e = c.recv();
    assert_eq!(e["data"]["action"], "deleted", "{e}");
    assert_eq!(e["data"]["recordId"], id.as_str(), "{e}");
    assert!(
        e["data"]["properties"]["after"]["deletedAt"].is_string(),
        "{e}"
    );
    c.assert_quiet();

    for (verb, action) in [("restore", "restored"), ("destroy", "destroyed")] {
        server.graphql_ok(
            &s.access,
            &format!("mutation($id: UUID!) {{ {verb}Person(id: $id) {{ id }} }}"),
            json!({ "id": id }),
        );
        let e = c.recv();
        assert_eq!(e["data"]["action"], action, "{e}");
        assert_eq!(e["data"]["recordId"], id.as_str(), "{e}");
    }
    c.assert_quiet();

    // A batch that fails in storage (third item repeats a unique email) rolls back whole:
    // nothing is published, and the next committed change is the next event.
    server.rolled_back_batch(&s.access);
    c.assert_quiet();
    let created = server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "after the failure" } }),
    );
    let e = c.recv();
    assert_eq!(e["data"]["action"], "created", "{e}");
    assert_eq!(e["data"]["recordId"], created["createPerson"]["id"], "{e}");

    // REST writes are the same operations: one event per committed change, in order, and
    // nothing for a refused write.
    let rid = server.rest_write_sequence(&s.access, "via REST", "patched");
    for action in ["created", "updated", "destroyed"] {
        let e = c.recv();
        assert_eq!(e["data"]["action"], action, "{e}");
        assert_eq!(e["data"]["recordId"], rid.as_str(), "{e}");
        assert_eq!(e["data"]["workspaceMemberId"], member_id.as_str(), "{e}");
    }
    c.assert_quiet();

    // Other objects' changes are not on this topic.
    server.graphql_ok(
        &s.access,
        "mutation($input: CompanyCreateInput!) { createCompany(data: $input) { id } }",
        json!({ "input": { "name": "Acme" } }),
    );
    c.assert_quiet();

    // After unsubscribing, nothing more.
    c.send(json!({ "type": "unsubscribe", "topic": topic }));
    assert_eq!(c.recv()["type"], "unsubscribed");
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "unheard" } }),
    );
    c.assert_quiet();
}

#[test]
fn bad_frames_and_foreign_topics_get_error_frames() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-bad"));
    let other = server.new_workspace(&email("rt-other"));
    let (user_id, _) = server.me(&s);
    let (other_user, _) = server.me(&other);
    let other_person = server.object_id(&other, "person");
    let mut c = connect(&server, &s);

    let expect_error = |c: &mut Client, code: &str| {
        let e = c.recv();
        assert_eq!(e["type"], "error", "{e}");
        assert_eq!(e["data"]["code"], code, "{e}");
        assert!(e["data"]["message"].is_string(), "{e}");
        e
    };
    c.send_raw(Message::text("not json"));
    expect_error(&mut c, "BAD_REQUEST");
    c.send_raw(Message::binary(vec![1u8, 2, 3]));
    expect_error(&mut c, "BAD_REQUEST");
    c.send(json!({ "type": "dance" }));
    expect_error(&mut c, "BAD_REQUEST");
    c.send(json!({ "type": "subscribe" }));
    expect_error(&mut c, "BAD_REQUEST");
    c.send(json!({ "type": "subscribe", "topic": "record:nope" }));
    expect_error(&mut c, "BAD_REQUEST");
    c.send_raw(Message::text(format!(
        "{{\"type\":\"ping\",\"data\":\"{}\"}}",
        "x".repeat(20_000)
    )));
    expect_error(&mut c, "BAD_REQUEST");

    // Another workspace's records or presence, another user's notifications.
    let foreign = format!("record:{}:{other_person}", other.workspace_id);
    c.send(json!({ "type": "subscribe", "topic": foreign }));
    let e = expect_error(&mut c, "FORBIDDEN");
    assert_eq!(e["topic"], foreign.as_str(), "{e}");
    c.send(json!({ "type": "subscribe", "topic": format!("presence:{}", other.workspace_id) }));
    expect_error(&mut c, "FORBIDDEN");
    c.send(json!({ "type": "subscribe", "topic": format!("notification:{other_user}") }));
    expect_error(&mut c, "FORBIDDEN");
    c.send(json!({ "type": "subscribe", "topic": format!("record:{}:{}", s.workspace_id, uuid::Uuid::new_v4()) }));
    expect_error(&mut c, "NOT_FOUND");

    // The refused topic delivers nothing, even when the other workspace changes.
    server.gql(
        "/graphql",
        Some(&other.access),
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "elsewhere" } }),
    );
    c.assert_quiet();

    // The subscription limit is a clear error, with topics of the longest allowed length
    // (the subscriptions must fit the socket's attachment).
    let person = server.object_id(&s, "person");
    c.subscribe(&format!("record:{}:{person}", s.workspace_id));
    let mut subscribed = 1;
    let mut limited = false;
    let mut last = Value::Null;
    for i in 0..20 {
        let run = format!("{i:02}{}", "r".repeat(89));
        c.send(json!({ "type": "subscribe", "topic": format!("workflow:{run}") }));
        let r = c.recv();
        last = r.clone();
        if r["type"] == "subscribed" {
            subscribed += 1;
        } else {
            assert_eq!(r["data"]["code"], "LIMIT_EXCEEDED", "{r}");
            limited = true;
            break;
        }
    }
    assert!(
        limited && subscribed == 16,
        "subscribed {subscribed}: {last}"
    );

    // Own notifications are allowed, and the actor is still serving after all that.
    c.send(json!({ "type": "subscribe", "topic": format!("notification:{user_id}") }));
    // The subscription table is full: still a clear error, not a drop.
    expect_error(&mut c, "LIMIT_EXCEEDED");
    c.send(json!({ "type": "ping" }));
    assert_eq!(c.recv()["type"], "pong");

    // A flood is answered with RATE_LIMITED errors; the socket stays open. (`pong` frames
    // get no answer, and unlike the exact ping frame they reach the actor.)
    for _ in 0..130 {
        c.send(json!({ "type": "pong" }));
    }
    c.send(json!({ "type": "ping", "data": 1 }));
    let e = c.recv();
    assert_eq!(e["data"]["code"], "RATE_LIMITED", "{e}");
}

#[test]
fn presence_tracks_members_across_sockets() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-presence"));
    let (_, member_id) = server.me(&s);
    let topic = format!("presence:{}", s.workspace_id);
    // An API key is not a member: it watches without being present.
    let key = server.api_key_token(&s);
    let mut watcher = connect_with_token(&server, &key)
        .expect("api key connect")
        .0;
    let ack = watcher.subscribe(&topic);
    assert_eq!(ack["data"]["members"], json!([]), "{ack}");

    let mut a = connect(&server, &s);
    let join = watcher.recv();
    assert_eq!(join["type"], "subscription", "{join}");
    assert_eq!(join["topic"], topic.as_str(), "{join}");
    assert_eq!(join["data"]["action"], "join", "{join}");
    assert_eq!(
        join["data"]["workspaceMemberId"],
        member_id.as_str(),
        "{join}"
    );
    assert_eq!(join["data"]["connections"], 1, "{join}");
    let since = join["data"]["since"].as_str().unwrap().to_string();

    // A second socket of the same member: no join, two connections.
    let b = connect(&server, &s);
    watcher.assert_quiet();
    a.send(json!({ "type": "presence" }));
    let p = a.recv();
    assert_eq!(p["type"], "presence", "{p}");
    assert_eq!(
        p["data"]["members"],
        json!([{ "workspaceMemberId": member_id, "connections": 2, "since": since }]),
        "{p}"
    );

    // Closing one is not leaving; losing the last (abruptly, no close frame) is.
    a.close();
    watcher.assert_quiet();
    drop(b);
    let leave = watcher.recv();
    assert_eq!(leave["data"]["action"], "leave", "{leave}");
    assert_eq!(
        leave["data"]["workspaceMemberId"],
        member_id.as_str(),
        "{leave}"
    );
    assert_eq!(leave["data"]["connections"], 0, "{leave}");
    watcher.assert_quiet();
    watcher.send(json!({ "type": "presence" }));
    assert_eq!(watcher.recv()["data"]["members"], json!([]));
}

#[test]
fn notifications_persist_and_reconnects_resubscribe() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-notify"));
    let (user_id, member_id) = server.me(&s);
    let topic = format!("notification:{user_id}");
    let task = server.object_id(&s, "task");
    let tasks = format!("record:{}:{task}", s.workspace_id);

    let mut c = connect(&server, &s);
    c.subscribe(&topic);
    c.subscribe(&tasks);
    let created = server.graphql_ok(
        &s.access,
        "mutation($input: TaskCreateInput!) { createTask(data: $input) { id } }",
        json!({ "input": { "title": "Call Ada", "assigneeId": member_id } }),
    );
    let task_id = created["createTask"]["id"].as_str().unwrap().to_string();
    // The record event and the notification, in that order.
    let e = c.recv();
    assert_eq!(e["topic"], tasks.as_str(), "{e}");
    let n = c.recv();
    assert_eq!(n["topic"], topic.as_str(), "{n}");
    assert_eq!(n["data"]["action"], "created", "{n}");
    let note = &n["data"]["notification"];
    assert_eq!(note["kind"], "taskAssigned", "{n}");
    assert_eq!(note["data"]["taskId"], task_id.as_str(), "{n}");
    assert_eq!(note["data"]["title"], "Call Ada", "{n}");
    let first_id = note["id"].as_str().unwrap().to_string();
    c.close();

    // While offline: a second task assigned. Updating the first without changing the
    // assignee notifies nobody.
    server.graphql_ok(
        &s.access,
        "mutation($input: TaskCreateInput!) { createTask(data: $input) { id } }",
        json!({ "input": { "title": "Write report", "assigneeId": member_id } }),
    );
    server.graphql_ok(
        &s.access,
        "mutation($id: UUID!, $data: TaskUpdateInput!) { updateTask(id: $id, data: $data) { id } }",
        json!({ "id": task_id, "data": { "title": "Call Ada again" } }),
    );

    // Reconnect (with a ticket this time) and resubscribe: both unread are replayed.
    let t = ticket(&server, &s.access);
    let mut c = connect_with_ticket(&server, t["ticket"].as_str().unwrap())
        .expect("ticket connect")
        .0;
    c.subscribe(&topic);
    let r1 = c.recv();
    let r2 = c.recv();
    assert_eq!(r1["data"]["action"], "unread", "{r1}");
    assert_eq!(r1["data"]["notification"]["id"], first_id.as_str(), "{r1}");
    assert_eq!(
        r2["data"]["notification"]["data"]["title"], "Write report",
        "{r2}"
    );
    c.assert_quiet();
    let second_id = r2["data"]["notification"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    c.send(json!({ "type": "markRead", "data": { "ids": [first_id, uuid::Uuid::new_v4().to_string()] } }));
    let m = c.recv();
    assert_eq!(
        m,
        json!({ "type": "markedRead", "data": { "ids": [first_id] } })
    );
    c.send(json!({ "type": "markRead", "data": {} }));
    assert_eq!(c.recv()["type"], "error");

    // Record events work again on the new socket.
    c.subscribe(&tasks);
    server.graphql_ok(
        &s.access,
        "mutation($id: UUID!) { deleteTask(id: $id) { id } }",
        json!({ "id": task_id }),
    );
    let e = c.recv();
    assert_eq!(e["data"]["action"], "deleted", "{e}");
    c.close();

    // Only the unread one comes back next time.
    let mut c = connect(&server, &s);
    c.subscribe(&topic);
    let r = c.recv();
    assert_eq!(r["data"]["notification"]["id"], second_id.as_str(), "{r}");
    c.assert_quiet();
}

#[test]
fn subscriptions_survive_hibernation() {
    // workerd evicts an actor whose only activity is hibernatable sockets (after about 10 s
    // idle, locally as in production) and wakes a new instance for the next frame. The new
    // instance must rebuild subscriptions and presence from the sockets' attachments.
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-idle"));
    let (_, member_id) = server.me(&s);
    let person = server.object_id(&s, "person");
    let topic = format!("record:{}:{person}", s.workspace_id);
    let mut c = connect(&server, &s);
    c.subscribe(&topic);
    let before = server.inspect(&s.workspace_id);
    assert_eq!(before["webSockets"], 1, "{before}");
    std::thread::sleep(Duration::from_secs(15));
    c.send(json!({ "type": "presence" }));
    let p = c.recv();
    assert_eq!(
        p["data"]["members"][0]["workspaceMemberId"],
        member_id.as_str(),
        "{p}"
    );
    assert_eq!(p["data"]["members"][0]["connections"], 1, "{p}");
    let after = server.inspect(&s.workspace_id);
    assert_ne!(
        before["instanceStartedAt"], after["instanceStartedAt"],
        "the actor was not evicted while idle, so this test did not cover a wake"
    );
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "after sleep" } }),
    );
    assert_eq!(c.recv()["data"]["action"], "created");
}

#[test]
fn a_removed_member_is_disconnected() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rt-removed"));
    let (_, member_id) = server.me(&s);
    let person = server.object_id(&s, "person");
    let mut c = connect(&server, &s);
    c.subscribe(&format!("record:{}:{person}", s.workspace_id));
    let body = server.gql(
        "/graphql",
        Some(&s.access),
        "mutation($id: UUID!) { deleteWorkspaceMember(id: $id) { id } }",
        json!({ "id": member_id }),
    );
    assert!(body.get("errors").is_none(), "{body}");
    // The change that removed the member closes its socket (4403) instead of feeding it.
    c.set_timeout(WAIT);
    loop {
        match c.ws.read() {
            Ok(Message::Close(frame)) => {
                let code = frame.map(|f| u16::from(f.code));
                assert_eq!(code, Some(4403));
                break;
            }
            Ok(Message::Text(t)) => panic!("a removed member got {t}"),
            Ok(_) => continue,
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    }
}

#[test]
fn an_expired_ticket_is_refused() {
    let server = TestServer::start_with(common::Options {
        vars: vec![("WS_TICKET_TTL_SECS", "1".into())],
        ..Default::default()
    });
    let s = server.new_workspace(&email("rt-expired"));
    let t = ticket(&server, &s.access);
    std::thread::sleep(Duration::from_millis(2500));
    upgrade(
        &server,
        &format!("/ws?ticket={}", t["ticket"].as_str().unwrap()),
    )
    .send()
    .assert_error(401, "UNAUTHORIZED");
    // A fresh one still works.
    let t = ticket(&server, &s.access);
    let (mut c, _) = connect_with_ticket(&server, t["ticket"].as_str().unwrap()).expect("connect");
    c.send(json!({ "type": "ping" }));
    assert_eq!(c.recv()["type"], "pong");
}
