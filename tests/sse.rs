//! Twenty's graphql-sse event streams on `/metadata` (issue #6), black-box: a raw HTTP/1.1
//! client reads the event stream from a real `wrangler dev`, as graphql-sse's client does
//! in "distinct connections mode" (POST, `Accept: text/event-stream`).
//!
//! Every read has a timeout, so a missing event fails the test instead of hanging it.

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long a test waits for an event it expects.
const WAIT: Duration = Duration::from_secs(10);
/// How long a test listens to conclude nothing more is coming.
const QUIET: Duration = Duration::from_millis(1500);

const SUBSCRIPTION: &str = "subscription OnEventSubscription($eventStreamId: String!) {
  onEventSubscription(eventStreamId: $eventStreamId) {
    eventStreamId
    objectRecordEventsWithQueryIds {
      objectRecordEvent { action objectNameSingular recordId userId workspaceMemberId
        properties { updatedFields before after diff } }
      queryIds
    }
    metadataEvents { type metadataName recordId updatedCollectionHash }
  }
}";

/// What the reader thread saw.
#[derive(Debug)]
enum Msg {
    Head(u16, Vec<(String, String)>),
    Event { event: String, data: String },
    End,
}

/// One open event stream.
struct Sse {
    rx: mpsc::Receiver<Msg>,
    socket: TcpStream,
    status: u16,
    headers: Vec<(String, String)>,
    /// Keep-alive comment lines received so far.
    keepalives: Arc<AtomicUsize>,
}

impl Sse {
    /// POSTs `body` to `/metadata` asking for an event stream.
    fn post(server: &TestServer, token: Option<&str>, body: &Value) -> Sse {
        let url = server.url("/metadata");
        let host = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let mut socket = TcpStream::connect(&host).expect("connect");
        let body = body.to_string();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            socket,
            "POST /metadata HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\
             Content-Type: application/json; charset=utf-8\r\n{auth}Content-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let reader = socket.try_clone().unwrap();
        let (tx, rx) = mpsc::channel();
        let keepalives = Arc::new(AtomicUsize::new(0));
        let counter = keepalives.clone();
        std::thread::spawn(move || read_stream(reader, tx, counter));
        let (status, headers) = match rx.recv_timeout(WAIT) {
            Ok(Msg::Head(s, h)) => (s, h),
            other => panic!("no response head: {other:?}"),
        };
        Sse {
            rx,
            socket,
            status,
            headers,
            keepalives,
        }
    }

    fn subscribe(server: &TestServer, token: Option<&str>, stream_id: &str) -> Sse {
        Sse::post(
            server,
            token,
            &json!({
                "query": SUBSCRIPTION,
                "operationName": "OnEventSubscription",
                "variables": { "eventStreamId": stream_id },
            }),
        )
    }

    /// Opens a stream and checks its first event: Twenty's initial, empty value.
    fn open(server: &TestServer, s: &Session, stream_id: &str) -> Sse {
        Sse::open_with(server, &s.access, stream_id)
    }

    fn open_with(server: &TestServer, token: &str, stream_id: &str) -> Sse {
        let mut sse = Sse::subscribe(server, Some(token), stream_id);
        assert_eq!(sse.status, 200);
        let ct = sse.header("content-type").unwrap_or_default().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let first = sse.next();
        assert_eq!(
            first,
            json!({ "data": { "onEventSubscription": {
                "eventStreamId": stream_id,
                "objectRecordEventsWithQueryIds": [],
                "metadataEvents": [],
            } } }),
        );
        sse
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn try_recv(&mut self, within: Duration) -> Option<Msg> {
        self.rx.recv_timeout(within).ok()
    }

    /// The data of the next `next` event.
    fn next(&mut self) -> Value {
        match self.try_recv(WAIT) {
            Some(Msg::Event { event, data }) if event == "next" => serde_json::from_str(&data)
                .unwrap_or_else(|e| panic!("next data is not JSON ({e}): {data}")),
            other => panic!("expected a next event, got {other:?}"),
        }
    }

    /// The next record event: its `objectRecordEventsWithQueryIds`, checked to hold one.
    fn record_event(&mut self) -> Value {
        let v = self.next();
        let list = &v["data"]["onEventSubscription"]["objectRecordEventsWithQueryIds"];
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{v}");
        list[0].clone()
    }

    fn assert_complete(&mut self) {
        match self.try_recv(WAIT) {
            Some(Msg::Event { event, .. }) if event == "complete" => {}
            other => panic!("expected complete, got {other:?}"),
        }
        match self.try_recv(WAIT) {
            Some(Msg::End) => {}
            other => panic!("expected the end of the response, got {other:?}"),
        }
    }

    fn assert_quiet(&mut self) {
        if let Some(m) = self.try_recv(QUIET) {
            panic!("expected nothing, got {m:?}");
        }
    }

    /// Drops the connection without a word, as a closed browser tab does.
    fn disconnect(self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

/// Reads the HTTP response: the head, then the SSE events of its (chunked) body.
fn read_stream(socket: TcpStream, tx: mpsc::Sender<Msg>, keepalives: Arc<AtomicUsize>) {
    let mut r = BufReader::new(socket);
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        let _ = tx.send(Msg::End);
        return;
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = vec![];
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let _ = tx.send(Msg::Head(status, headers));
    // The body as lines, de-chunked.
    let mut pending = String::new();
    let (mut event, mut data) = (String::new(), None::<String>);
    let mut feed = |text: &str, tx: &mpsc::Sender<Msg>| {
        pending.push_str(text);
        while let Some(i) = pending.find('\n') {
            let l: String = pending.drain(..=i).collect();
            let l = l.trim_end_matches(['\n', '\r']);
            if l.is_empty() {
                if !event.is_empty() || data.is_some() {
                    let _ = tx.send(Msg::Event {
                        event: std::mem::take(&mut event),
                        data: data.take().unwrap_or_default(),
                    });
                }
            } else if l.starts_with(':') {
                keepalives.fetch_add(1, Ordering::Relaxed);
            } else if let Some((field, value)) = l.split_once(':') {
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => event = value.to_string(),
                    "data" => {
                        data = Some(match data.take() {
                            Some(d) => format!("{d}\n{value}"),
                            None => value.to_string(),
                        })
                    }
                    _ => {}
                }
            }
        }
    };
    if chunked {
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16);
            let Ok(size) = size else { break };
            if size == 0 {
                break;
            }
            let mut buf = vec![0u8; size + 2];
            if r.read_exact(&mut buf).is_err() {
                break;
            }
            feed(&String::from_utf8_lossy(&buf[..size]), &tx);
        }
    } else {
        let mut rest = String::new();
        let _ = r.read_to_string(&mut rest);
        feed(&rest, &tx);
    }
    let _ = tx.send(Msg::End);
}

fn add_query(server: &TestServer, token: &str, stream: &str, query_id: &str, sig: Value) -> Value {
    server.gql(
        "/metadata",
        Some(token),
        "mutation AddQueryToEventStream($input: AddQuerySubscriptionInput!) { addQueryToEventStream(input: $input) }",
        json!({ "input": { "eventStreamId": stream, "queryId": query_id, "operationSignature": sig } }),
    )
}

fn remove_query(server: &TestServer, token: &str, stream: &str, query_id: &str) -> Value {
    server.gql(
        "/metadata",
        Some(token),
        "mutation RemoveQueryFromEventStream($input: RemoveQueryFromEventStreamInput!) { removeQueryFromEventStream(input: $input) }",
        json!({ "input": { "eventStreamId": stream, "queryId": query_id } }),
    )
}

fn people(filter: Value) -> Value {
    json!({ "objectNameSingular": "person", "variables": { "filter": filter, "orderBy": [{ "position": "AscNullsFirst" }] }, "fields": { "id": true, "jobTitle": true } })
}

fn stream_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[test]
fn events_follow_the_streams_queries_in_commit_order() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("sse-rec"));
    let (user_id, member_id) = server.me(&s);
    let id = stream_id();
    let mut sse = Sse::open(&server, &s, &id);

    let added = add_query(&server, &s.access, &id, "people", people(json!({})));
    assert_eq!(added, json!({ "data": { "addQueryToEventStream": true } }));
    let added = add_query(
        &server,
        &s.access,
        &id,
        "ceos",
        people(json!({ "jobTitle": { "eq": "CEO" } })),
    );
    assert_eq!(added["data"]["addQueryToEventStream"], true, "{added}");

    // GraphQL writes.
    let created = server.graphql_ok(&s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "name": { "firstName": "Ada", "lastName": "L" }, "jobTitle": "Analyst" } }),
    );
    let pid = created["createPerson"]["id"].as_str().unwrap().to_string();
    let update = |job: &str| {
        server.graphql_ok(&s.access,
            "mutation($id: UUID!, $data: PersonUpdateInput!) { updatePerson(id: $id, data: $data) { id } }",
            json!({ "id": pid, "data": { "jobTitle": job } }),
        )
    };
    update("Engineer");
    update("CEO");
    server.graphql_ok(
        &s.access,
        "mutation($id: UUID!) { deletePerson(id: $id) { id } }",
        json!({ "id": pid }),
    );

    let e = sse.record_event();
    assert_eq!(e["queryIds"], json!(["people"]), "{e}");
    let ev = &e["objectRecordEvent"];
    assert_eq!(ev["action"], "CREATED", "{e}");
    assert_eq!(ev["objectNameSingular"], "person", "{e}");
    assert_eq!(ev["recordId"], pid.as_str(), "{e}");
    assert_eq!(ev["userId"], user_id.as_str(), "{e}");
    assert_eq!(ev["workspaceMemberId"], member_id.as_str(), "{e}");
    assert!(ev["properties"]["before"].is_null(), "{e}");
    assert_eq!(ev["properties"]["after"]["jobTitle"], "Analyst", "{e}");
    assert_eq!(ev["properties"]["after"]["name"]["firstName"], "Ada", "{e}");

    let e = sse.record_event();
    assert_eq!(e["queryIds"], json!(["people"]), "{e}");
    let p = &e["objectRecordEvent"]["properties"];
    assert_eq!(e["objectRecordEvent"]["action"], "UPDATED", "{e}");
    assert_eq!(p["updatedFields"], json!(["jobTitle"]), "{e}");
    assert_eq!(
        p["diff"],
        json!({ "jobTitle": { "before": "Analyst", "after": "Engineer" } }),
        "{e}"
    );
    assert_eq!(p["before"]["jobTitle"], "Analyst", "{e}");
    assert_eq!(p["after"]["jobTitle"], "Engineer", "{e}");

    // Entering the filtered query: both match.
    let e = sse.record_event();
    assert_eq!(e["queryIds"], json!(["ceos", "people"]), "{e}");
    assert_eq!(e["objectRecordEvent"]["action"], "UPDATED", "{e}");

    // A soft delete still matches the filtered query (Twenty judges deletes whatever
    // deletedAt says).
    let e = sse.record_event();
    assert_eq!(e["queryIds"], json!(["ceos", "people"]), "{e}");
    assert_eq!(e["objectRecordEvent"]["action"], "DELETED", "{e}");
    assert!(
        e["objectRecordEvent"]["properties"]["after"]["deletedAt"].is_string(),
        "{e}"
    );
    sse.assert_quiet();

    // No query follows companies.
    server.graphql_ok(
        &s.access,
        "mutation($input: CompanyCreateInput!) { createCompany(data: $input) { id } }",
        json!({ "input": { "name": "Acme" } }),
    );
    sse.assert_quiet();

    // A batch that fails in storage (a unique email twice) rolls back whole: nothing.
    server.rolled_back_batch(&s.access);
    sse.assert_quiet();

    // REST writes reach the same streams.
    let rid = server.rest_write_sequence(&s.access, "CEO", "CTO");
    for (action, ids) in [
        ("CREATED", json!(["ceos", "people"])),
        // Leaving the filtered query still tells it.
        ("UPDATED", json!(["ceos", "people"])),
        // Destroyed while not a CEO: the filtered query is not told.
        ("DESTROYED", json!(["people"])),
    ] {
        let e = sse.record_event();
        assert_eq!(e["objectRecordEvent"]["action"], action, "{e}");
        assert_eq!(e["objectRecordEvent"]["recordId"], rid.as_str(), "{e}");
        assert_eq!(e["queryIds"], ids, "{e}");
    }
    sse.assert_quiet();

    // Removing the queries stops delivery.
    for q in ["people", "ceos"] {
        let removed = remove_query(&server, &s.access, &id, q);
        assert_eq!(
            removed["data"]["removeQueryFromEventStream"], true,
            "{removed}"
        );
    }
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "CEO" } }),
    );
    sse.assert_quiet();

    // Unknown streams answer false, as Twenty does; bad input is BAD_USER_INPUT.
    let unknown = add_query(
        &server,
        &s.access,
        &stream_id(),
        "people",
        people(json!({})),
    );
    assert_eq!(unknown["data"]["addQueryToEventStream"], false, "{unknown}");
    let unknown = remove_query(&server, &s.access, &stream_id(), "people");
    assert_eq!(
        unknown["data"]["removeQueryFromEventStream"], false,
        "{unknown}"
    );
    let bad = add_query(&server, &s.access, &id, "q", json!("person"));
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    let big = json!({ "objectNameSingular": "person", "fields": "x".repeat(20_000) });
    let bad = add_query(&server, &s.access, &id, "q", big);
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
}

#[test]
fn streams_belong_to_their_owner_and_refusals_are_twentys_errors() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("sse-owner"));
    let id = stream_id();
    let mut sse = Sse::open(&server, &s, &id);
    add_query(&server, &s.access, &id, "people", people(json!({})));

    // Another principal of the same workspace (an API key) may not use the stream.
    let key = server.api_key_token(&s);
    let refused = add_query(&server, &key, &id, "mine", people(json!({})));
    let e = &refused["errors"][0];
    assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{refused}");
    assert_eq!(e["extensions"]["subCode"], "NOT_AUTHORIZED", "{refused}");
    assert!(refused["data"].is_null() || refused["data"]["addQueryToEventStream"].is_null());
    let refused = remove_query(&server, &key, &id, "people");
    assert_eq!(
        refused["errors"][0]["extensions"]["subCode"], "NOT_AUTHORIZED",
        "{refused}"
    );
    // ... nor take it over: an error event, then the end.
    let mut other = Sse::subscribe(&server, Some(&key), &id);
    assert_eq!(other.status, 200);
    let v = other.next();
    let e = &v["errors"][0];
    assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{v}");
    assert_eq!(
        e["extensions"]["subCode"], "EVENT_STREAM_ALREADY_EXISTS",
        "{v}"
    );
    assert_eq!(e["message"], "Event stream already exists", "{v}");
    other.assert_complete();

    // Another workspace's user: the id is unknown there (false), and subscribing with it
    // opens a separate stream of that workspace.
    let b = server.new_workspace(&email("sse-other"));
    let foreign = add_query(&server, &b.access, &id, "people", people(json!({})));
    assert_eq!(foreign["data"]["addQueryToEventStream"], false, "{foreign}");
    let mut theirs = Sse::open(&server, &b, &id);
    add_query(&server, &b.access, &id, "people", people(json!({})));
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "in A" } }),
    );
    assert_eq!(sse.record_event()["objectRecordEvent"]["action"], "CREATED");
    theirs.assert_quiet();

    // No credentials, or a bad token: an UNAUTHENTICATED error event, then the end.
    for token in [None, Some("not.a.jwt")] {
        let mut anon = Sse::subscribe(&server, token, &stream_id());
        assert_eq!(anon.status, 200);
        let v = anon.next();
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{token:?}: {v}"
        );
        anon.assert_complete();
    }
    let anon = server.gql(
        "/metadata",
        None,
        "mutation($input: AddQuerySubscriptionInput!) { addQueryToEventStream(input: $input) }",
        json!({ "input": { "eventStreamId": id, "queryId": "q", "operationSignature": {} } }),
    );
    assert_eq!(
        anon["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{anon}"
    );
    // A malformed subscription is a GraphQL validation error on the stream.
    let mut bad = Sse::post(
        &server,
        Some(&s.access),
        &json!({ "query": "subscription { onEventSubscription(eventStreamId: \"x\") { nope } }" }),
    );
    let v = bad.next();
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{v}"
    );
    bad.assert_complete();

    // Other operations over SSE: one result, then the end.
    let mut q = Sse::post(
        &server,
        Some(&s.access),
        &json!({ "query": "{ currentUser { email } }" }),
    );
    assert_eq!(q.next()["data"]["currentUser"]["email"], s.email.as_str());
    q.assert_complete();

    // The owner subscribing again with the same id replaces the stream: the old one
    // completes, the new one starts without queries.
    let mut again = Sse::open(&server, &s, &id);
    sse.assert_complete();
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "unheard" } }),
    );
    again.assert_quiet();
    add_query(&server, &s.access, &id, "people", people(json!({})));
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "heard" } }),
    );
    let e = again.record_event();
    assert_eq!(
        e["objectRecordEvent"]["properties"]["after"]["jobTitle"],
        "heard"
    );
}

#[test]
fn a_stream_survives_hibernation_and_ends_with_its_client() {
    // workerd evicts an actor whose only activity is hibernatable sockets (about 10 s
    // idle). The gateway holds the SSE response; the actor holds only the socket.
    let server = TestServer::start();
    let s = server.new_workspace(&email("sse-idle"));
    let id = stream_id();
    let mut sse = Sse::open(&server, &s, &id);
    add_query(&server, &s.access, &id, "people", people(json!({})));
    let before = server.inspect(&s.workspace_id);
    assert_eq!(before["webSockets"], 1, "{before}");
    std::thread::sleep(Duration::from_secs(15));
    let after = server.inspect(&s.workspace_id);
    assert_ne!(
        before["instanceStartedAt"], after["instanceStartedAt"],
        "the actor was not evicted while a stream was open"
    );
    assert_eq!(after["webSockets"], 1, "{after}");
    // An idle stream carries keep-alives (every 12 s): they are how the gateway notices a
    // client that went without a word.
    assert!(
        sse.keepalives.load(Ordering::Relaxed) >= 1,
        "no keep-alive in 15 s of an idle stream"
    );
    server.graphql_ok(
        &s.access,
        "mutation($input: PersonCreateInput!) { createPerson(data: $input) { id } }",
        json!({ "input": { "jobTitle": "after sleep" } }),
    );
    let e = sse.record_event();
    assert_eq!(e["objectRecordEvent"]["action"], "CREATED", "{e}");
    assert_eq!(e["queryIds"], json!(["people"]), "{e}");

    // The client goes: the gateway drops its socket and the actor forgets the stream. The
    // runtime notices a gone client when writing to it fails, i.e. at a keep-alive (every
    // 12 s) at the latest. (Polled gently: the admin endpoint counts as anonymous traffic.)
    sse.disconnect();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let v = server.inspect(&s.workspace_id);
        if v["webSockets"] == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stream's socket stayed open: {v}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let gone = add_query(&server, &s.access, &id, "people", people(json!({})));
    assert_eq!(gone["data"]["addQueryToEventStream"], false, "{gone}");
}

#[test]
fn a_member_removed_through_metadata_is_published_and_loses_its_stream() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("sse-removed"));
    let (_, member_id) = server.me(&s);
    let mut own = Sse::open(&server, &s, &stream_id());
    // An API key (not a member) watches the workspace's members.
    let key = server.api_key_token(&s);
    let watch = stream_id();
    let mut watcher = Sse::open_with(&server, &key, &watch);
    let sig = json!({ "objectNameSingular": "workspaceMember", "variables": {} });
    let added = add_query(&server, &key, &watch, "members", sig);
    assert_eq!(added["data"]["addQueryToEventStream"], true, "{added}");

    server.meta_ok(
        Some(&s.access),
        "mutation D($id: String!) { deleteUserFromWorkspace(workspaceMemberIdToDelete: $id) { id } }",
        json!({ "id": member_id }),
    );
    // The removal is a committed record change like any other...
    let e = watcher.record_event();
    assert_eq!(e["queryIds"], json!(["members"]), "{e}");
    assert_eq!(e["objectRecordEvent"]["action"], "DELETED", "{e}");
    assert_eq!(
        e["objectRecordEvent"]["objectNameSingular"], "workspaceMember",
        "{e}"
    );
    assert_eq!(
        e["objectRecordEvent"]["recordId"],
        member_id.as_str(),
        "{e}"
    );
    assert!(
        e["objectRecordEvent"]["properties"]["after"]["deletedAt"].is_string(),
        "{e}"
    );
    // ... and the removed member's own stream ends.
    own.assert_complete();
}
