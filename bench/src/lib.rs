//! Shared by the benchmarks (`src/main.rs`: request latency; `src/bin/realtime.rs`:
//! WebSocket fan-out): talking to a running twenty-edge server over HTTP.

use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// People per createPeople call when seeding.
pub const BATCH: usize = 60;

pub const CREATE_MANY: &str =
    "mutation($d: [PersonCreateInput!]!) { createPeople(data: $d) { id } }";

/// Aborts the run: a benchmark of failing requests would measure the wrong thing.
pub fn fail(msg: &str) -> ! {
    eprintln!("bench aborted: {msg}");
    std::process::exit(1)
}

/// Rate-limit waits, shared by all workers. A 429 is retried after its Retry-After, and
/// the time everyone spends waiting is subtracted from the scenario's wall time, so the
/// throughput is that of the server, not of the limiter.
#[derive(Default)]
pub struct Pause {
    state: Mutex<PauseState>,
}

#[derive(Default, Clone, Copy)]
pub struct PauseState {
    until: Option<Instant>,
    pub waited: Duration,
    pub hits: usize,
}

impl Pause {
    pub fn snapshot(&self) -> PauseState {
        *self.state.lock().unwrap()
    }

    pub fn hit(&self, retry_after: Duration) {
        let mut s = self.state.lock().unwrap();
        let now = Instant::now();
        // A small margin: Retry-After is rounded to seconds and clocks differ slightly.
        let until = now + retry_after + Duration::from_millis(250);
        let from = s.until.map_or(now, |u| u.max(now));
        if until > from {
            // Only the part not already covered by another worker's wait counts.
            s.waited += until - from;
            s.until = Some(until);
        }
        s.hits += 1;
    }

    /// Blocks while a wait is in force, so workers do not spend the next window's budget
    /// on requests that would be refused anyway.
    pub fn wait(&self) {
        let until = self.state.lock().unwrap().until;
        if let Some(u) = until {
            let now = Instant::now();
            if u > now {
                std::thread::sleep(u - now);
            }
        }
    }
}

pub struct Bench {
    pub base: String,
    pub pause: Pause,
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

impl Bench {
    /// Sends one request (retrying after any 429) and returns the status, the body, and the
    /// time from send to full body read of the attempt that was not refused.
    pub fn send(
        &self,
        agent: &ureq::Agent,
        token: Option<&str>,
        path: &str,
        body: Option<&str>,
    ) -> (u16, String, Duration) {
        let url = format!("{}{}", self.base, path);
        let auth = token.map(|t| format!("Bearer {t}"));
        loop {
            self.pause.wait();
            let started = Instant::now();
            let result = match body {
                None => {
                    let mut r = agent.get(&url);
                    if let Some(a) = &auth {
                        r = r.header("authorization", a);
                    }
                    r.call()
                }
                Some(b) => {
                    let mut r = agent.post(&url).header("content-type", "application/json");
                    if let Some(a) = &auth {
                        r = r.header("authorization", a);
                    }
                    r.send(b)
                }
            };
            let mut resp = result.unwrap_or_else(|e| fail(&format!("{url}: {e}")));
            let text = resp
                .body_mut()
                .read_to_string()
                .unwrap_or_else(|e| fail(&format!("{url}: reading the body: {e}")));
            let elapsed = started.elapsed();
            let status = resp.status().as_u16();
            if status == 429 {
                let secs = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                    .unwrap_or(60);
                self.pause.hit(Duration::from_secs(secs));
                continue;
            }
            return (status, text, elapsed);
        }
    }

    /// A setup GraphQL request (`path` is /graphql or /metadata) that must succeed; returns
    /// `data`.
    pub fn gql(
        &self,
        agent: &ureq::Agent,
        path: &str,
        token: Option<&str>,
        query: &str,
        vars: Value,
    ) -> Value {
        let body = json!({ "query": query, "variables": vars }).to_string();
        let (status, text, _) = self.send(agent, token, path, Some(&body));
        check_graphql(path, status, &text).unwrap_or_else(|e| fail(&e))["data"].clone()
    }

    /// Signs up a fresh user with a fresh workspace and returns its access token, the way
    /// tests/common/mod.rs `new_workspace` does (three anonymous-ish /metadata calls).
    pub fn new_workspace(&self, email: &str) -> String {
        let a = agent();
        let data = self.gql(&a, "/metadata", None,
            "mutation SignUp($email: String!, $password: String!) { signUp(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } } } }",
            json!({ "email": email, "password": "correct horse battery staple" }));
        let agnostic = str_at(&data, "/signUp/tokens/accessOrWorkspaceAgnosticToken/token");
        let data = self.gql(&a, "/metadata", Some(&agnostic),
            "mutation { signUpInNewWorkspace(input: {displayName: \"Bench\"}) { loginToken { token } workspace { id } } }",
            json!({}));
        let login = str_at(&data, "/signUpInNewWorkspace/loginToken/token");
        let data = self.gql(&a, "/metadata", None,
            "mutation GetAuthTokensFromLoginToken($loginToken: String!, $origin: String!) { getAuthTokensFromLoginToken(loginToken: $loginToken, origin: $origin) { tokens { accessOrWorkspaceAgnosticToken { token } } } }",
            json!({ "loginToken": login, "origin": "http://localhost:3001" }));
        str_at(
            &data,
            "/getAuthTokensFromLoginToken/tokens/accessOrWorkspaceAgnosticToken/token",
        )
    }

    /// Creates `count` people with `job_title` (createPeople in batches) and returns their ids.
    pub fn seed_people(
        &self,
        token: &str,
        count: usize,
        job_title: &str,
        tag: &str,
    ) -> Vec<String> {
        let a = agent();
        let mut ids = Vec::new();
        while ids.len() < count {
            let batch: Vec<Value> = (ids.len()..count.min(ids.len() + BATCH))
                .map(|i| json!({ "name": { "firstName": "Seed", "lastName": format!("{tag}-{i}") }, "jobTitle": job_title }))
                .collect();
            let data = self.gql(
                &a,
                "/graphql",
                Some(token),
                CREATE_MANY,
                json!({ "d": batch }),
            );
            let created = data["createPeople"].as_array().cloned().unwrap_or_default();
            if created.is_empty() {
                fail(&format!("createPeople created nothing: {data}"));
            }
            ids.extend(
                created
                    .iter()
                    .map(|p| p["id"].as_str().unwrap_or_default().to_string()),
            );
        }
        ids
    }
}

pub fn str_at(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| fail(&format!("no {pointer} in {v}")))
        .to_string()
}

/// A GraphQL answer counts only as HTTP 200 with JSON and no `errors`.
pub fn check_graphql(path: &str, status: u16, text: &str) -> Result<Value, String> {
    if status != 200 {
        return Err(format!("{path} answered HTTP {status}: {}", snippet(text)));
    }
    let body: Value = serde_json::from_str(text)
        .map_err(|e| format!("{path} answered non-JSON ({e}): {}", snippet(text)))?;
    if body.get("errors").is_some() {
        return Err(format!("{path} answered errors: {}", snippet(text)));
    }
    Ok(body)
}

pub fn snippet(text: &str) -> String {
    text.chars().take(500).collect()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples: the smallest sample with at least p% of
/// the samples at or below it.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    ms(sorted[rank.min(sorted.len()) - 1])
}

/// The `--flag value` pairs of the command line, in order. `-h`/`--help` prints `usage` and
/// exits; a flag not in `known` or without a value exits 2 with `usage`.
pub fn flags(usage: &str, known: &[&str]) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{usage}");
            std::process::exit(0);
        }
        if !known.contains(&flag.as_str()) {
            usage_error(usage, &format!("unknown option {flag}"));
        }
        let Some(value) = it.next() else {
            usage_error(usage, &format!("{flag} needs a value"))
        };
        out.push((flag, value));
    }
    out
}

/// A flag's value as a positive whole number, or exit 2 with `usage`.
pub fn positive(usage: &str, flag: &str, value: &str) -> usize {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ => usage_error(
            usage,
            &format!("{flag} needs a positive number, got {value:?}"),
        ),
    }
}

fn usage_error(usage: &str, msg: &str) -> ! {
    eprintln!("error: {msg}\n\n{usage}");
    std::process::exit(2)
}
