//! Hostile input (issue #19), black-box: requests shaped to crash an isolate, stall a
//! workspace or widen someone's rights, each answered with a clear error while another
//! workspace keeps being served and the isolate is not reset (the actor's
//! `instanceStartedAt` in the admin inspection does not change).

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;

/// How long a test waits for something it expects.
const WAIT: Duration = Duration::from_secs(10);
/// What any refused attack may cost at most, wall clock on a loaded CI machine (before
/// the fix, the fragment bomb alone took 4 s of CPU and the alias bomb 24 s).
const FAST: Duration = Duration::from_secs(3);

fn code(body: &Value) -> (String, String) {
    let e = &body["errors"][0];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (s(&e["extensions"]["code"]), s(&e["message"]))
}

/// Sends `query` (+ `variables`) and asserts a GraphQL error with `expected` code,
/// answered quickly.
fn refused(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    body: &Value,
    expected: &str,
) -> String {
    let started = Instant::now();
    let mut call = server.post(path).json(body);
    if let Some(t) = token {
        call = call.bearer(t);
    }
    let resp = call.send();
    let took = started.elapsed();
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    let (c, message) = code(&body);
    assert_eq!(c, expected, "{body}");
    assert!(took < FAST, "refusal took {took:?}: {message}");
    message
}

fn nested_list(depth: usize) -> String {
    format!("{}\"a\"{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_filter(depth: usize) -> String {
    let mut f = String::from("{ jobTitle: { eq: \"x\" } }");
    for _ in 0..depth {
        f = format!("{{ and: [{f}] }}");
    }
    f
}

#[test]
fn hostile_documents_are_refused_without_resetting_the_isolate() {
    let server = TestServer::start_with(common::Options {
        // Small enough for the batch check below to reach it.
        vars: vec![("WORKSPACE_REQUESTS_PER_MINUTE", "120".into())],
        ..Default::default()
    });
    let a = server.new_workspace(&email("hostile-a"));
    let b = server.new_workspace(&email("hostile-b"));
    let before = server.inspect(&a.workspace_id)["instanceStartedAt"].clone();
    assert!(before.is_number(), "{before}");

    let stop = AtomicBool::new(false);
    let served = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // Another workspace keeps being served while the attacks run.
        let other = scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                server.graphql_ok(
                    &b.access,
                    "{ people(first: 1) { edges { node { id } } } }",
                    json!({}),
                );
                served.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        });

        // 1. A literal nested 2,000 deep, without signing in (crashed the parser's stack).
        let q = format!(
            "{{ checkUserExists(email: {}) {{ exists }} }}",
            nested_list(2000)
        );
        let m = refused(
            &server,
            "/metadata",
            None,
            &json!({ "query": q }),
            "GRAPHQL_VALIDATION_FAILED",
        );
        assert!(m.contains("nested more than"), "{m}");
        // The same as a workspace filter literal, 1,000 `and`s deep.
        let q = format!(
            "{{ people(filter: {}) {{ edges {{ node {{ id }} }} }} }}",
            nested_filter(1000)
        );
        refused(
            &server,
            "/graphql",
            Some(&a.access),
            &json!({ "query": q }),
            "GRAPHQL_VALIDATION_FAILED",
        );
        // And through variables (a JSON body nested 1,000 deep), sent as text: the test
        // itself must not recurse that deep either.
        let deep = format!(
            "{}{{\"jobTitle\":{{\"eq\":\"x\"}}}}{}",
            "{\"and\":[".repeat(1000),
            "]}".repeat(1000)
        );
        let resp = server
            .post("/graphql")
            .bearer(&a.access)
            .json_text(&format!(
                "{{\"query\":\"query Q($f: PersonFilterInput) {{ people(filter: $f) {{ edges {{ node {{ id }} }} }} }}\",\"variables\":{{\"f\":{deep}}}}}"
            ))
            .send();
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert_eq!(
            code(&resp.json()).0,
            "GRAPHQL_VALIDATION_FAILED",
            "{}",
            resp.text
        );
        // A filter that fits the body limits but not the filter's own: 45 `not`s.
        let mut f = json!({ "jobTitle": { "eq": "x" } });
        for _ in 0..45 {
            f = json!({ "not": f });
        }
        let body = server.gql(
            "/graphql",
            Some(&a.access),
            "query Q($f: PersonFilterInput) { people(filter: $f) { edges { node { id } } } }",
            json!({ "f": f }),
        );
        assert_eq!(code(&body).0, "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["subCode"], "TOO_COMPLEX_QUERY",
            "{body}"
        );
        // REST: a filter 2,000 parentheses deep, and a body nested 2,000 deep.
        let filter = format!(
            "{}name.firstName[eq]:a{}",
            "and(".repeat(2000),
            ")".repeat(2000)
        );
        let resp = server
            .get(&format!("/rest/people?filter={filter}"))
            .bearer(&a.access)
            .send();
        assert_eq!(resp.status, 400, "{}", resp.text);
        let resp = server
            .post("/rest/people")
            .bearer(&a.access)
            .json_text(&format!("{{\"name\":{}}}", nested_list(2000)))
            .send();
        assert_eq!(resp.status, 400, "{}", resp.text);

        // 2. Fragments spreading each other 10 times over 8 levels (10^8 fields), anonymous.
        let mut q = String::from("query { ...f0 }");
        for i in 0..8 {
            q.push_str(&format!(" fragment f{i} on Query {{"));
            for _ in 0..10 {
                q.push_str(&format!(" ...f{}", i + 1));
            }
            q.push_str(" }");
        }
        q.push_str(" fragment f8 on Query { checkUserExists(email: \"a@b.c\") { exists } }");
        let m = refused(
            &server,
            "/metadata",
            None,
            &json!({ "query": q }),
            "GRAPHQL_VALIDATION_FAILED",
        );
        assert!(m.contains("fragments are expanded"), "{m}");
        // Cycles too.
        refused(
            &server,
            "/metadata",
            None,
            &json!({ "query": "{ ...a } fragment a on Query { ...b } fragment b on Query { ...a }" }),
            "GRAPHQL_VALIDATION_FAILED",
        );
        // 200 aliases of people → company → people.
        let aliases: String = (0..200)
            .map(|i| format!("a{i}: people {{ edges {{ node {{ company {{ people {{ edges {{ node {{ id }} }} }} }} }} }} }} "))
            .collect();
        let m = refused(
            &server,
            "/graphql",
            Some(&a.access),
            &json!({ "query": format!("{{ {aliases} }}") }),
            "GRAPHQL_VALIDATION_FAILED",
        );
        assert!(m.contains("root fields"), "{m}");
        // 5,000 aliased searches.
        let searches: String = (0..5000)
            .map(|i| {
                format!("s{i}: search(searchInput: \"a\", limit: 1) {{ edges {{ cursor }} }} ")
            })
            .collect();
        refused(
            &server,
            "/graphql",
            Some(&a.access),
            &json!({ "query": format!("{{ {searches} }}") }),
            "GRAPHQL_VALIDATION_FAILED",
        );
        // A search input of 40,000 words.
        let words = "ada ".repeat(40_000);
        let body = server.gql(
            "/graphql",
            Some(&a.access),
            "query S($q: String!) { search(searchInput: $q, limit: 10) { edges { cursor } } }",
            json!({ "q": words }),
        );
        assert_eq!(code(&body).0, "BAD_USER_INPUT", "{body}");

        // 3. Batches: more than 50 operations is refused; each operation counts.
        let batch = |n: usize| {
            Value::Array(
                (0..n)
                    .map(|_| json!({ "query": "{ __typename }" }))
                    .collect(),
            )
        };
        refused(
            &server,
            "/graphql",
            Some(&a.access),
            &batch(51),
            "GRAPHQL_VALIDATION_FAILED",
        );
        let c = server.new_workspace(&email("hostile-c"));
        for _ in 0..2 {
            let resp = server
                .post("/graphql")
                .bearer(&c.access)
                .json(&batch(50))
                .send();
            assert_eq!(resp.status, 200, "{}", resp.text);
        }
        // 120 per minute: 100 counted, so a third batch of 50 does not fit.
        let resp = server
            .post("/graphql")
            .bearer(&c.access)
            .json(&batch(50))
            .send();
        assert_eq!(resp.status, 429, "{}", resp.text);
        assert_eq!(code(&resp.json()).0, "TOO_MANY_REQUESTS", "{}", resp.text);

        stop.store(true, Ordering::Relaxed);
        other
            .join()
            .expect("the other workspace's requests all succeeded");
    });
    assert!(served.load(Ordering::Relaxed) > 0);
    let after = server.inspect(&a.workspace_id)["instanceStartedAt"].clone();
    assert_eq!(before, after, "the isolate was reset");
}

// ---------------------------------------------------------------------------------------
// Rights and limits that must hold across revocation, removal and restarts.

fn create_api_key(server: &TestServer, s: &Session) -> (String, String) {
    let id = server.meta_ok(
        Some(&s.access),
        "mutation C($input: CreateApiKeyInput!) { createApiKey(input: $input) { id } }",
        json!({ "input": { "name": "hostile", "expiresAt": "2099-01-01T00:00:00Z", "roleId": "20202020-0000-4000-8000-00000000ad01" } }),
    )["createApiKey"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = server.meta_ok(
        Some(&s.access),
        "mutation G($apiKeyId: UUID!, $expiresAt: String!) { generateApiKeyToken(apiKeyId: $apiKeyId, expiresAt: $expiresAt) { token } }",
        json!({ "apiKeyId": id, "expiresAt": "2099-01-01T00:00:00Z" }),
    )["generateApiKeyToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    (id, token)
}

fn create_member(server: &TestServer, token: &str, first: &str) -> String {
    let data = server.graphql_ok(
        token,
        "mutation C($d: WorkspaceMemberCreateInput!) { createWorkspaceMember(data: $d) { id } }",
        json!({ "d": { "name": { "firstName": first, "lastName": "Test" }, "userEmail": format!("{first}@example.com"), "userId": uuid::Uuid::new_v4().to_string() } }),
    );
    data["createWorkspaceMember"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An open graphql-sse response, read raw by a thread.
struct Stream {
    rx: mpsc::Receiver<Option<String>>,
    _socket: TcpStream,
    seen: String,
}

impl Stream {
    fn open(server: &TestServer, token: &str) -> Stream {
        let host = server.base.trim_start_matches("http://").to_string();
        let mut socket = TcpStream::connect(&host).expect("connect");
        let body = json!({
            "query": "subscription S($id: String!) { onEventSubscription(eventStreamId: $id) { eventStreamId } }",
            "variables": { "id": uuid::Uuid::new_v4().to_string() },
        })
        .to_string();
        write!(
            socket,
            "POST /metadata HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\
             Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reader = socket.try_clone().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        return;
                    }
                    Ok(n) => {
                        let _ = tx.send(Some(String::from_utf8_lossy(&buf[..n]).into_owned()));
                    }
                }
            }
        });
        Stream {
            rx,
            _socket: socket,
            seen: String::new(),
        }
    }

    /// Waits until the response holds `what` (true) or ends (false).
    fn wait_for(&mut self, what: &str) -> bool {
        let deadline = Instant::now() + WAIT;
        while !self.seen.contains(what) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Some(text)) => self.seen.push_str(&text),
                Ok(None) => return self.seen.contains(what),
                Err(_) => panic!("timed out waiting for {what:?}; got {:?}", self.seen),
            }
        }
        true
    }
}

#[test]
fn rights_revocations_and_limits_hold() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rights"));
    let (_, member_id) = server.me(&s);
    let (key_id, key) = create_api_key(&server, &s);
    let (_, spare_key) = create_api_key(&server, &s);
    let bob = create_member(&server, &s.access, "bob");
    let carol = create_member(&server, &s.access, "carol");
    // An admin may remove another member through the record API.
    server.graphql_ok(
        &s.access,
        "mutation D($id: UUID!) { deleteWorkspaceMember(id: $id) { id } }",
        json!({ "id": bob }),
    );

    // A revoked API key loses its open socket and event stream at once.
    let mut req = server
        .url("/ws")
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("twenty-edge, {key}")).unwrap(),
    );
    let (mut ws, _) = tungstenite::connect(req).expect("an API key opens /ws");
    let mut stream = Stream::open(&server, &key);
    assert!(stream.wait_for("event: next"), "{}", stream.seen);
    server.meta_ok(
        Some(&s.access),
        "mutation R($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id } }",
        json!({ "input": { "id": key_id } }),
    );
    if let tungstenite::stream::MaybeTlsStream::Plain(t) = ws.get_mut() {
        t.set_read_timeout(Some(WAIT)).unwrap();
    }
    let closed = loop {
        match ws.read() {
            Ok(tungstenite::Message::Close(frame)) => break frame.map(|f| u16::from(f.code)),
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed) | Err(tungstenite::Error::AlreadyClosed) => {
                break None
            }
            Err(e) => panic!("the revoked key's socket stayed open: {e}"),
        }
    };
    assert_eq!(closed, Some(4403));
    assert!(
        stream.wait_for("event: complete"),
        "the revoked key's stream stayed open: {}",
        stream.seen
    );

    // Sign-in lockout: 20 attempts per email per 15 minutes.
    for _ in 0..20 {
        assert_eq!(
            code(&sign_in(&server, &s.email, "wrong password!")).0,
            "FORBIDDEN"
        );
    }
    let (c, m) = code(&sign_in(&server, &s.email, &s.password));
    assert_eq!(c, "TOO_MANY_REQUESTS", "{m}");

    // The admin becomes an ordinary member (D1 written directly, as an operator would).
    let out = std::process::Command::new(
        std::path::Path::new(common::ROOT).join("node_modules/.bin/wrangler"),
    )
    .current_dir(common::ROOT)
    .env("WRANGLER_SEND_METRICS", "false")
    .env("CI", "1")
    .args(["d1", "execute", "DB", "--local", "--persist-to"])
    .arg(server.state_dir())
    .args([
        "--command",
        &format!(
            "UPDATE user_workspace SET role = 'MEMBER' WHERE workspace_member_id = '{member_id}'"
        ),
    ])
    .output()
    .expect("wrangler d1 execute");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Everything below runs on a new process: nothing in memory survived.
    let server = server.restart();
    let (c, m) = code(&sign_in(&server, &s.email, &s.password));
    assert_eq!(
        c, "TOO_MANY_REQUESTS",
        "the lockout did not survive a restart: {m}"
    );
    assert!(m.contains("sign-in attempts"), "{m}");

    // An ordinary member cannot remove or restore other members through the record API.
    for (query, id) in [
        ("mutation D($id: UUID!) { deleteWorkspaceMember(id: $id) { id } }", &carol),
        ("mutation D($id: UUID!) { destroyWorkspaceMember(id: $id) { id } }", &carol),
        ("mutation R($id: UUID!) { restoreWorkspaceMember(id: $id) { id } }", &bob),
        ("mutation U($id: UUID!) { updateWorkspaceMember(id: $id, data: {locale: \"fr-FR\"}) { id } }", &carol),
    ] {
        let body = server.gql("/graphql", Some(&s.access), query, json!({ "id": id }));
        assert_eq!(code(&body).0, "FORBIDDEN", "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["subCode"], "PERMISSION_DENIED", "{body}");
    }
    let resp = server
        .request("DELETE", &format!("/rest/workspaceMembers/{carol}"))
        .bearer(&s.access)
        .send();
    assert_eq!(resp.status, 403, "{}", resp.text);
    // Their own record they may change.
    server.graphql_ok(
        &s.access,
        "mutation U($id: UUID!) { updateWorkspaceMember(id: $id, data: {locale: \"fr-FR\"}) { id } }",
        json!({ "id": member_id }),
    );

    // A membership restored never revives tokens issued before its removal.
    server.graphql_ok(
        &s.access,
        "mutation D($id: UUID!) { deleteWorkspaceMember(id: $id) { id } }",
        json!({ "id": member_id }),
    );
    let body = server.gql("/graphql", Some(&s.access), "{ __typename }", json!({}));
    assert_eq!(code(&body).0, "FORBIDDEN", "{body}");
    server.graphql_ok(
        &spare_key,
        "mutation R($id: UUID!) { restoreWorkspaceMember(id: $id) { id } }",
        json!({ "id": member_id }),
    );
    let body = server.gql("/graphql", Some(&s.access), "{ __typename }", json!({}));
    assert_eq!(
        code(&body).0,
        "FORBIDDEN",
        "a restored member's old token works again: {body}"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let renewed = server.meta_ok(
        None,
        "mutation R($t: String!) { renewToken(appToken: $t) { tokens { accessOrWorkspaceAgnosticToken { token } } } }",
        json!({ "t": s.refresh }),
    );
    let fresh = renewed["renewToken"]["tokens"]["accessOrWorkspaceAgnosticToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    server.graphql_ok(&fresh, "{ __typename }", json!({}));

    // A workspace-agnostic token is limited per IP like an anonymous caller.
    let agnostic = server.meta_ok(
        None,
        "mutation S($email: String!, $password: String!) { signUp(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } } } }",
        json!({ "email": email("agnostic"), "password": "correct horse battery staple" }),
    )["signUp"]["tokens"]["accessOrWorkspaceAgnosticToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let refusal = (1..=110)
        .map(|_| check_user(&server, &agnostic))
        .find(|r| r.status == 429)
        .expect("110 requests with a workspace-agnostic token were all served");
    let reset_at: u64 = refusal
        .header("x-ratelimit-reset")
        .and_then(|v| v.parse().ok())
        .expect("x-ratelimit-reset on a refusal");
    // And the window survives a restart (when the restart was quicker than the window).
    let server = server.restart();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now + 2 < reset_at {
        assert_eq!(
            check_user(&server, &agnostic).status,
            429,
            "the per-IP window was forgotten"
        );
    } else {
        eprintln!("restart outlasted the per-IP window; persistence checked by the lockout above");
    }
}

fn sign_in(server: &TestServer, email: &str, password: &str) -> Value {
    server.gql(
        "/metadata",
        None,
        "mutation S($email: String!, $password: String!) { getLoginTokenFromCredentials(email: $email, password: $password, origin: \"http://localhost:3001\") { loginToken { token } } }",
        json!({ "email": email, "password": password }),
    )
}

fn check_user(server: &TestServer, token: &str) -> common::Resp {
    server.gql_call(
        "/metadata",
        Some(token),
        "query C($email: String!) { checkUserExists(email: $email) { exists } }",
        json!({ "email": "nobody@example.com" }),
    )
}

#[test]
fn cors_answers_vary_on_origin() {
    let server = TestServer::start();
    for origin in [
        None,
        Some("http://localhost:3001"),
        Some("https://evil.example"),
    ] {
        let mut call = server
            .post("/metadata")
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(o) = origin {
            call = call.header("origin", o);
        }
        let resp = call.send();
        let vary = resp.header("vary").unwrap_or("");
        assert!(
            vary.to_ascii_lowercase().contains("origin"),
            "{origin:?}: vary {vary:?}"
        );
    }
}
