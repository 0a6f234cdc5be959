//! The black-box test fixture: a real `wrangler dev` (workerd with local D1, KV, R2, Queues
//! and Durable Objects) on a free port with its own state directory.
//!
//! `let server = TestServer::start();` is the whole set-up. The server and everything it
//! spawned are killed when `server` drops (also when the test panics), and by a watchdog if
//! the test process dies without unwinding.
#![allow(dead_code)]

use serde_json::Value;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// How long a server may take to answer its first request. A cold workerd start takes a
/// few seconds; CI machines are slower and run several servers at once.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// Starts of `wrangler dev` tried before a test fails.
const STARTUP_ATTEMPTS: u32 = 3;

static BUILD: Once = Once::new();

/// Builds the Worker once per test process (skipped when the caller already built it and
/// set `TWENTY_EDGE_PREBUILT=1`, as scripts/test.sh does).
fn ensure_built() {
    BUILD.call_once(|| {
        if std::env::var_os("TWENTY_EDGE_PREBUILT").is_some()
            && Path::new(ROOT).join("build/index.js").exists()
        {
            return;
        }
        // Test binaries run in parallel; the lock makes them build one after the other
        // (the second build is then a no-op for cargo).
        let lock = fs::File::create(Path::new(ROOT).join("target/.test-build.lock"))
            .expect("create build lock");
        lock.lock().expect("lock build");
        let status = Command::new("bash")
            .arg("scripts/build.sh")
            .current_dir(ROOT)
            .env_remove("TWENTY_EDGE_PREBUILT")
            .status()
            .expect("run scripts/build.sh");
        assert!(status.success(), "scripts/build.sh failed");
    });
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// What a test may change about the server it starts.
#[derive(Default, Clone)]
pub struct Options {
    /// Bindings to leave out of the config (e.g. `CACHE_STORE`), to see the server without
    /// them.
    pub without_bindings: Vec<&'static str>,
    /// `--var NAME:VALUE` overrides.
    pub vars: Vec<(&'static str, String)>,
}

pub struct TestServer {
    pub base: String,
    pub port: u16,
    child: Child,
    state: StateDir,
    log_path: PathBuf,
    config_path: Option<PathBuf>,
    options: Options,
    agent: ureq::Agent,
}

/// A temporary state directory, removed with the last server that uses it.
enum StateDir {
    Owned(tempfile::TempDir),
    Shared(PathBuf),
}

impl StateDir {
    fn path(&self) -> &Path {
        match self {
            StateDir::Owned(t) => t.path(),
            StateDir::Shared(p) => p,
        }
    }
}

// Starting servers one at a time keeps the (CPU-heavy) workerd start-ups from competing.
static STARTING: Mutex<()> = Mutex::new(());

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> TestServer {
        let state = StateDir::Owned(tempfile::tempdir().expect("tempdir"));
        Self::launch(state, options)
    }

    /// Stops this server and starts a new one on the same state directory.
    pub fn restart(self) -> TestServer {
        let options = self.options.clone();
        self.restart_with(options)
    }

    /// Like [`restart`](Self::restart), with other options (e.g. a rotated secret).
    pub fn restart_with(mut self, options: Options) -> TestServer {
        self.stop();
        let state = std::mem::replace(&mut self.state, StateDir::Shared(PathBuf::new()));
        drop(self);
        Self::launch(state, options)
    }

    fn launch(state: StateDir, options: Options) -> TestServer {
        ensure_built();
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        let port = free_port();
        let inspector = free_port();
        let persist = state.path().to_path_buf();

        // Local D1 migrations (the same command scripts/dev.sh runs).
        let out = wrangler()
            .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(&persist)
            .output()
            .expect("run wrangler d1 migrations apply");
        assert!(
            out.status.success(),
            "d1 migrations failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        // wrangler occasionally dies while starting (a port it picked for itself was taken
        // in the meantime): start again on fresh ports, a few times, before failing.
        let mut state = state;
        for attempt in 1..=STARTUP_ATTEMPTS {
            let port = if attempt == 1 { port } else { free_port() };
            let inspector = if attempt == 1 { inspector } else { free_port() };
            let mut server = Self::spawn(state, options.clone(), port, inspector);
            match server.wait_ready() {
                Ok(()) => return server,
                Err(why) if attempt < STARTUP_ATTEMPTS => {
                    eprintln!(
                        "wrangler dev attempt {attempt} failed ({why}), retrying:\n{}",
                        server.logs()
                    );
                    state = std::mem::replace(&mut server.state, StateDir::Shared(PathBuf::new()));
                }
                Err(why) => panic!("{why}:\n{}", server.logs()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn spawn(state: StateDir, options: Options, port: u16, inspector: u16) -> TestServer {
        let persist = state.path().to_path_buf();
        let log_path = persist.join(format!("wrangler-{port}.log"));
        let config_path = (!options.without_bindings.is_empty())
            .then(|| write_config_without(&options.without_bindings, port));

        let log = fs::File::create(&log_path).expect("log file");
        let mut cmd = wrangler();
        cmd.arg("dev");
        if let Some(config) = &config_path {
            cmd.arg("--config").arg(config);
        }
        cmd.args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &inspector.to_string()])
            .arg("--persist-to")
            .arg(&persist)
            .args([
                "--show-interactive-dev-session=false",
                "--live-reload=false",
            ]);
        for (name, value) in &options.vars {
            cmd.arg("--var").arg(format!("{name}:{value}"));
        }
        let child = watchdog(cmd)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn wrangler dev");

        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        TestServer {
            base: format!("http://127.0.0.1:{port}"),
            port,
            child,
            state,
            log_path,
            config_path,
            options,
            agent,
        }
    }

    /// Waits for the first HTTP answer; `Err` if wrangler exited or never answered.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            // Any HTTP answer means workerd serves the Worker (a server started without D1
            // answers /health with 503, and that is what such a test wants to see).
            if self.agent.get(self.url("/health")).call().is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("wrangler dev exited with {status}"));
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(format!("server not ready after {STARTUP_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Everything the server printed so far (wrangler's and the Worker's console).
    pub fn logs(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(&self.log_path) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// The Worker's JSON log lines so far.
    pub fn json_logs(&self) -> Vec<Value> {
        self.logs()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .filter(|v| v.is_object() && v.get("level").is_some())
            .collect()
    }

    /// Waits until a JSON log line satisfies `pred` (logs are written asynchronously).
    pub fn wait_for_log(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            if let Some(line) = self.json_logs().into_iter().find(|l| pred(l)) {
                return line;
            }
            if started.elapsed() > Duration::from_secs(15) {
                panic!("no log line {what}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A `createPeople` that fails in storage (the third person repeats the first one's
    /// unique email), so the whole batch rolls back: for tests that check a rolled-back
    /// write publishes nothing.
    pub fn rolled_back_batch(&self, token: &str) {
        let body = self.gql(
            "/graphql",
            Some(token),
            "mutation($data: [PersonCreateInput!]!) { createPeople(data: $data) { id } }",
            serde_json::json!({ "data": [
                { "emails": { "primaryEmail": "same@x.com" } },
                { "jobTitle": "ok 2" },
                { "emails": { "primaryEmail": "same@x.com" } }
            ] }),
        );
        assert!(body["errors"].is_array(), "{body}");
    }

    /// The same four REST writes, for tests that check what record writes publish: create a
    /// person with `title`, patch it to `patched_title`, a batch refused whole (a duplicate
    /// id, so nothing of it commits), then delete (REST's DELETE destroys). Returns the
    /// person's id.
    pub fn rest_write_sequence(&self, token: &str, title: &str, patched_title: &str) -> String {
        let rest = |method: &str, path: &str, body: Value| {
            self.request(method, &format!("/rest{path}"))
                .bearer(token)
                .json(&body)
                .send()
        };
        let r = rest("POST", "/people", serde_json::json!({ "jobTitle": title }));
        assert_eq!(r.status, 201, "{}", r.text);
        let rid = r.json()["data"]["createPerson"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = rest(
            "PATCH",
            &format!("/people/{rid}"),
            serde_json::json!({ "jobTitle": patched_title }),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let r = rest(
            "POST",
            "/batch/people",
            serde_json::json!([{ "jobTitle": "b1" }, { "id": rid }]),
        );
        assert_eq!(
            r.status, 400,
            "a duplicate id refuses the batch: {}",
            r.text
        );
        let r = rest("DELETE", &format!("/people/{rid}"), serde_json::json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
        rid
    }

    pub fn request(&self, method: &str, path: &str) -> Call<'_> {
        Call {
            server: self,
            method: method.to_string(),
            path: path.to_string(),
            headers: vec![],
            body: None,
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.request("GET", path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.request("POST", path)
    }

    /// The local `ADMIN_TOKEN` (from .dev.vars, written by scripts/setup.sh).
    pub fn admin_token(&self) -> String {
        dev_var("ADMIN_TOKEN")
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    fn stop(&mut self) {
        // The child leads its own process group: signal the group, so workerd goes too.
        let pgid = self.child.id() as i32;
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pgid}")])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status();
        let _ = self.child.wait();
        if let Some(config) = self.config_path.take() {
            let _ = fs::remove_file(config);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wrangler() -> Command {
    let mut cmd = Command::new(Path::new(ROOT).join("node_modules/.bin/wrangler"));
    cmd.current_dir(ROOT)
        // The first request must not wait on the Internet for Request.cf data.
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("TWENTY_EDGE_PREBUILT", "1")
        .env("CI", "1")
        .stdin(Stdio::null());
    cmd
}

/// Wraps `cmd` so that it runs in its own process group under a watchdog shell that kills
/// the group once this test process is gone.
fn watchdog(cmd: Command) -> Command {
    use std::os::unix::process::CommandExt;
    let mut program = vec![cmd.get_program().to_string_lossy().into_owned()];
    program.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    let parent = std::process::id();
    let script = format!(
        r#""$@" & child=$!
while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done
kill -TERM -- -$$ 2>/dev/null"#
    );
    let mut w = Command::new("bash");
    w.arg("-c").arg(script).arg("watchdog").args(program);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        w.current_dir(dir);
    }
    w.stdin(Stdio::null()).process_group(0);
    w
}

/// Writes a copy of wrangler.jsonc without the named bindings, next to it (so relative
/// paths and .dev.vars still resolve), and returns its path.
fn write_config_without(bindings: &[&str], port: u16) -> PathBuf {
    let raw = fs::read_to_string(Path::new(ROOT).join("wrangler.jsonc")).expect("wrangler.jsonc");
    let mut stripped = String::new();
    json_comments::StripComments::new(raw.as_bytes())
        .read_to_string(&mut stripped)
        .expect("strip comments");
    let mut config: Value = serde_json::from_str(&stripped).expect("wrangler.jsonc is JSON");
    let keep = |v: &Value| {
        let name = v
            .get("binding")
            .or_else(|| v.get("name"))
            .and_then(Value::as_str);
        !name.is_some_and(|n| bindings.contains(&n))
    };
    for key in ["d1_databases", "kv_namespaces", "r2_buckets"] {
        if let Some(list) = config[key].as_array_mut() {
            list.retain(keep);
        }
    }
    if let Some(list) = config["queues"]["producers"].as_array_mut() {
        list.retain(keep);
    }
    let path = Path::new(ROOT).join(format!(".test-wrangler-{port}.json"));
    let mut f = fs::File::create(&path).expect("test config");
    f.write_all(config.to_string().as_bytes())
        .expect("write config");
    path
}

/// A value from .dev.vars.
pub fn dev_var(name: &str) -> String {
    let vars = fs::read_to_string(Path::new(ROOT).join(".dev.vars"))
        .expect(".dev.vars (run scripts/setup.sh)");
    vars.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} missing from .dev.vars"))
        .trim()
        .to_string()
}

/// One HTTP request being built.
pub struct Call<'a> {
    server: &'a TestServer,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self.header("content-type", "application/json")
    }

    /// A JSON body given as text (for bodies a `Value` cannot hold, e.g. nested deeper
    /// than serde_json's recursion limit).
    pub fn json_text(mut self, body: &str) -> Self {
        self.body = Some(body.as_bytes().to_vec());
        self.header("content-type", "application/json")
    }

    pub fn send(self) -> Resp {
        let url = self.server.url(&self.path);
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(&url);
        // Uncompressed answers: what a test asserts is the body, not the transfer coding.
        builder = builder.header("accept-encoding", "identity");
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let request = builder
            .body(self.body.unwrap_or_default())
            .expect("request");
        let mut response = self
            .server
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{} {url}: {e}", self.method));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{} {url}: body: {e}", self.method));
        Resp {
            status,
            headers,
            text,
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the standard error envelope with `code` and returns it.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
        assert_eq!(
            body["error"]["requestId"].as_str(),
            self.header("x-request-id"),
            "{body}"
        );
        body
    }
}

/// GraphQL over HTTP, as Twenty's clients send it.
impl TestServer {
    /// POSTs `{query, variables}` to `path` (`/graphql` or `/metadata`) and returns the
    /// HTTP response.
    pub fn gql_call(&self, path: &str, token: Option<&str>, query: &str, variables: Value) -> Resp {
        let mut call = self
            .post(path)
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            call = call.bearer(t);
        }
        call.send()
    }

    /// Like [`gql_call`], returning the JSON body.
    pub fn gql(&self, path: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
        let resp = self.gql_call(path, token, query, variables);
        assert!(
            resp.status == 200,
            "{path} answered {}: {}",
            resp.status,
            resp.text
        );
        resp.json()
    }

    /// `/metadata`, asserting there are no errors; returns `data`.
    /// `data` of a `/graphql` request that must succeed.
    pub fn graphql_ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql("/graphql", Some(token), query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// `(userId, workspaceMemberId)` of the session's user.
    pub fn me(&self, s: &Session) -> (String, String) {
        let data = self.meta_ok(
            Some(&s.access),
            "{ currentUser { id workspaceMember { id } } }",
            serde_json::json!({}),
        );
        let id = |v: &Value| v.as_str().unwrap().to_string();
        (
            id(&data["currentUser"]["id"]),
            id(&data["currentUser"]["workspaceMember"]["id"]),
        )
    }

    pub fn meta_ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql("/metadata", token, query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The admin view of a workspace's actor (`GET /admin/actors/workspaces/{id}`).
    pub fn inspect(&self, workspace_id: &str) -> Value {
        let resp = self
            .get(&format!("/admin/actors/workspaces/{workspace_id}"))
            .bearer(&self.admin_token())
            .send();
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()
    }

    /// The id of the object named `singular` in the session's workspace.
    pub fn object_id(&self, s: &Session, singular: &str) -> String {
        let data = self.meta_ok(
            Some(&s.access),
            "{ objects(paging: {first: 1000}) { edges { node { id nameSingular } } } }",
            serde_json::json!({}),
        );
        data["objects"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["nameSingular"] == singular)
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no object {singular}"))
    }

    /// A token of a new API key (admin role) of the session's workspace.
    pub fn api_key_token(&self, s: &Session) -> String {
        let key = self.meta_ok(
            Some(&s.access),
            "mutation C($input: CreateApiKeyInput!) { createApiKey(input: $input) { id } }",
            serde_json::json!({ "input": { "name": "tests", "expiresAt": "2099-01-01T00:00:00Z", "roleId": "20202020-0000-4000-8000-00000000ad01" } }),
        )["createApiKey"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.meta_ok(
            Some(&s.access),
            "mutation G($apiKeyId: UUID!, $expiresAt: String!) { generateApiKeyToken(apiKeyId: $apiKeyId, expiresAt: $expiresAt) { token } }",
            serde_json::json!({ "apiKeyId": key, "expiresAt": "2099-01-01T00:00:00Z" }),
        )["generateApiKeyToken"]["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Signs up a new user with a new workspace and returns its session.
    pub fn new_workspace(&self, email: &str) -> Session {
        let password = "correct horse battery staple";
        let data = self.meta_ok(
            None,
            "mutation SignUp($email: String!, $password: String!) { signUp(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } refreshToken { token } } } }",
            serde_json::json!({ "email": email, "password": password }),
        );
        let agnostic = data["signUp"]["tokens"]["accessOrWorkspaceAgnosticToken"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        let data = self.meta_ok(
            Some(&agnostic),
            "mutation { signUpInNewWorkspace(input: {displayName: \"Acme\"}) { loginToken { token } workspace { id } } }",
            serde_json::json!({}),
        );
        let workspace_id = data["signUpInNewWorkspace"]["workspace"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let login = data["signUpInNewWorkspace"]["loginToken"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        let data = self.meta_ok(
            None,
            "mutation GetAuthTokensFromLoginToken($loginToken: String!, $origin: String!) { getAuthTokensFromLoginToken(loginToken: $loginToken, origin: $origin) { tokens { accessOrWorkspaceAgnosticToken { token expiresAt } refreshToken { token expiresAt } } } }",
            serde_json::json!({ "loginToken": login, "origin": "http://localhost:3001" }),
        );
        let tokens = &data["getAuthTokensFromLoginToken"]["tokens"];
        Session {
            email: email.to_string(),
            password: password.to_string(),
            workspace_id,
            access: tokens["accessOrWorkspaceAgnosticToken"]["token"]
                .as_str()
                .unwrap()
                .to_string(),
            refresh: tokens["refreshToken"]["token"]
                .as_str()
                .unwrap()
                .to_string(),
        }
    }
}

/// A signed-in user with a workspace token pair.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub password: String,
    pub workspace_id: String,
    pub access: String,
    pub refresh: String,
}

/// A unique email for a test.
pub fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}
