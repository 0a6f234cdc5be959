//! The web app's boot requests from a real browser (issue #12): headless Chromium (Debian's
//! `chromium`, installed by scripts/setup.sh) loads a page served on the `FRONTEND_URL`
//! origin, and the page, with `fetch` as twenty-front uses it, requests `/client-config` (a
//! simple CORS request), `FindMinimalMetadata` on `/metadata` (preflighted: JSON body and
//! `Authorization`; reads the exposed `X-Request-Id`), then opens a graphql-sse event stream
//! on `/metadata`, registers a query, creates a person through `/graphql` and reads the
//! event from the stream. The page posts what it saw back to its own origin; the test
//! asserts on it. Curl-style tests cannot catch a CORS or streaming mistake: the browser
//! refuses the response, so the page sees an error.

mod common;

use common::{email, TestServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the page may take for all of its requests (a cold workerd and Chromium start
/// on a busy 2-core machine take a while).
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);

/// Ports Chromium refuses to fetch from (its "unsafe ports" list, the ones an ephemeral
/// port can hit).
const CHROMIUM_BLOCKED_PORTS: &[u16] = &[6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697, 10080];

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>twenty-edge boot</title></head><body>
<script>
const BASE = "__BASE__";
const TOKEN = "__TOKEN__";
const out = { steps: [] };
const MINIMAL = "query FindMinimalMetadata { minimalMetadata { objectMetadataItems { id nameSingular } views { id type key objectMetadataId } collectionHashes { collectionName hash } } }";
const SUB = "subscription OnEventSubscription($eventStreamId: String!) { onEventSubscription(eventStreamId: $eventStreamId) { eventStreamId objectRecordEventsWithQueryIds { queryIds objectRecordEvent { action objectNameSingular recordId } } } }";
const ADD = "mutation AddQueryToEventStream($input: AddQuerySubscriptionInput!) { addQueryToEventStream(input: $input) }";
const CREATE = "mutation CreateOnePerson($input: PersonCreateInput!) { createPerson(data: $input) { id } }";

async function gql(path, query, variables) {
  const r = await fetch(BASE + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + TOKEN },
    body: JSON.stringify({ query, variables }),
  });
  return { status: r.status, requestId: r.headers.get("x-request-id"), body: await r.json() };
}

async function run() {
  out.steps.push("client-config");
  const cc = await fetch(BASE + "/client-config");
  const ccBody = await cc.json();
  out.clientConfig = { status: cc.status, password: ccBody.authProviders.password, multi: ccBody.isMultiWorkspaceEnabled };

  out.steps.push("minimalMetadata");
  const m = await gql("/metadata", MINIMAL, {});
  out.minimal = {
    status: m.status,
    requestId: m.requestId,
    errors: m.body.errors || null,
    views: m.body.data ? m.body.data.minimalMetadata.views.length : null,
    objects: m.body.data ? m.body.data.minimalMetadata.objectMetadataItems.length : null,
  };

  out.steps.push("event stream");
  const streamId = crypto.randomUUID();
  const ctrl = new AbortController();
  const sse = await fetch(BASE + "/metadata", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "Authorization": "Bearer " + TOKEN },
    body: JSON.stringify({ query: SUB, variables: { eventStreamId: streamId } }),
    signal: ctrl.signal,
  });
  out.sse = { status: sse.status, contentType: sse.headers.get("content-type"), events: [] };
  const reader = sse.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  async function nextEvent() {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = null, data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (event) return { event, data: data ? JSON.parse(data) : null };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return { event: "end", data: null };
      buffer += decoder.decode(value, { stream: true });
    }
  }
  out.sse.events.push(await nextEvent());

  out.steps.push("addQueryToEventStream");
  const added = await gql("/metadata", ADD, { input: { eventStreamId: streamId, queryId: "people", operationSignature: { objectNameSingular: "person", variables: {} } } });
  out.added = added.body;

  out.steps.push("createPerson");
  const created = await gql("/graphql", CREATE, { input: { name: { firstName: "Ada", lastName: "Lovelace" } } });
  out.created = created.body;

  out.steps.push("event");
  out.sse.events.push(await nextEvent());
  ctrl.abort();
  out.steps.push("done");
}

const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("page timed out")), 90000));
Promise.race([run(), timeout])
  .catch((e) => { out.error = String(e); })
  .finally(() => fetch("/result", { method: "POST", body: JSON.stringify(out) }));
</script></body></html>"#;

fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if !CHROMIUM_BLOCKED_PORTS.contains(&port) {
            return port;
        }
    }
}

/// Reads one HTTP/1.1 request: (method, path, body).
fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// Serves the page on the front's origin and forwards the page's report.
fn serve_page(listener: TcpListener, page: String, tx: mpsc::Sender<Value>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let Some((method, path, body)) = read_request(&mut stream) else {
            continue;
        };
        let (status, content_type, reply) = match (method.as_str(), path.as_str()) {
            ("GET", "/") => ("200 OK", "text/html; charset=utf-8", page.clone()),
            ("POST", "/result") => {
                let report = serde_json::from_slice(&body)
                    .unwrap_or_else(|e| json!({ "error": format!("bad report: {e}") }));
                let _ = tx.send(report);
                ("204 No Content", "text/plain", String::new())
            }
            _ => ("404 Not Found", "text/plain", String::new()),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
            reply.len()
        );
    }
}

/// Chromium in its own process group, killed with the group on drop.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium_binary() -> &'static str {
    for candidate in ["chromium", "chromium-browser"] {
        if Command::new(candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return candidate;
        }
    }
    panic!("chromium is not installed: run scripts/setup.sh");
}

#[test]
fn the_boot_requests_and_an_event_stream_work_from_a_browser_page() {
    use std::os::unix::process::CommandExt;

    let page_port = free_port();
    let origin = format!("http://127.0.0.1:{page_port}");
    let server = TestServer::start_with(common::Options {
        vars: vec![("FRONTEND_URL", origin.clone())],
        ..Default::default()
    });
    let s = server.new_workspace(&email("browser"));
    let page = PAGE
        .replace("__BASE__", server.base.trim_end_matches('/'))
        .replace("__TOKEN__", &s.access);

    let listener = TcpListener::bind(("127.0.0.1", page_port)).expect("bind the page's port");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve_page(listener, page, tx));

    let profile = tempfile::tempdir().expect("profile dir");
    let child = Command::new(chromium_binary())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{origin}/"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromium");
    let _browser = Browser(child);

    let report = rx
        .recv_timeout(PAGE_TIMEOUT)
        .expect("the page reported back in time");
    assert!(report.get("error").is_none(), "the page failed: {report:#}");
    assert_eq!(
        report["steps"].as_array().unwrap().last().unwrap(),
        "done",
        "{report:#}"
    );

    // /client-config: a simple request the browser let through.
    assert_eq!(report["clientConfig"]["status"], 200, "{report:#}");
    assert_eq!(report["clientConfig"]["password"], true);
    assert_eq!(report["clientConfig"]["multi"], false);

    // A preflighted /metadata call, with the exposed request id readable by the page.
    let m = &report["minimal"];
    assert_eq!(m["status"], 200, "{report:#}");
    assert_eq!(m["errors"], Value::Null, "{report:#}");
    assert!(
        m["requestId"].as_str().is_some_and(|r| !r.is_empty()),
        "X-Request-Id not exposed: {report:#}"
    );
    assert!(m["views"].as_u64().unwrap() >= m["objects"].as_u64().unwrap());

    // graphql-sse through fetch: the first (empty) value, then the person's creation.
    let sse = &report["sse"];
    assert_eq!(sse["status"], 200, "{report:#}");
    assert!(sse["contentType"]
        .as_str()
        .unwrap_or("")
        .starts_with("text/event-stream"));
    let first = &sse["events"][0];
    assert_eq!(first["event"], "next", "{report:#}");
    assert_eq!(
        first["data"]["data"]["onEventSubscription"]["objectRecordEventsWithQueryIds"],
        json!([])
    );
    assert_eq!(
        report["added"]["data"]["addQueryToEventStream"], true,
        "{report:#}"
    );
    let person_id = report["created"]["data"]["createPerson"]["id"].clone();
    assert!(person_id.is_string(), "{report:#}");
    let second = &sse["events"][1];
    assert_eq!(second["event"], "next", "{report:#}");
    let event = &second["data"]["data"]["onEventSubscription"]["objectRecordEventsWithQueryIds"][0];
    assert_eq!(event["queryIds"], json!(["people"]), "{report:#}");
    assert_eq!(event["objectRecordEvent"]["action"], "CREATED");
    assert_eq!(event["objectRecordEvent"]["objectNameSingular"], "person");
    assert_eq!(event["objectRecordEvent"]["recordId"], person_id);
}
