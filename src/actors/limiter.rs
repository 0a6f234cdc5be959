//! `LimiterActor`: the single owner of one rate-limit key (`ip:<address>` for anonymous
//! traffic, `login:<email>` for sign-in attempts), so counts are exact.
//!
//! The window is kept in memory and written through to the actor's SQLite on every counted
//! hit, so an eviction (workerd evicts an idle actor after about 10 s) does not reopen a
//! sign-in lockout or a per-IP window: with a memory-only window, waiting 15 s bought 19
//! more password guesses. One small durable write per counted hit is cheap: these keys see
//! sign-in attempts and anonymous traffic, never a workspace's own requests.

use serde::Deserialize;
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

use crate::error::ApiError;
use crate::panic_boundary;
use crate::ratelimit::{self, Window};

#[durable_object]
pub struct LimiterActor {
    state: State,
    /// The stored window; `None` until read from SQLite on first use after a wake.
    window: AssertUnwindSafe<Cell<Option<Option<Window>>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HitRequest {
    pub limit: u32,
    pub window_ms: u64,
    /// Requests this hit stands for (the operations of a batch); 1 when absent.
    #[serde(default = "one")]
    pub cost: u32,
}

fn one() -> u32 {
    1
}

/// The one-row table of the window (created on first use; the schema never changes).
const WINDOW_DDL: &str = "CREATE TABLE IF NOT EXISTS _window \
     (id INTEGER PRIMARY KEY CHECK (id = 1), start_ms INTEGER NOT NULL, count INTEGER NOT NULL)";

fn load(sql: &SqlStorage) -> worker::Result<Option<Window>> {
    #[derive(Deserialize)]
    struct Row {
        start_ms: f64,
        count: f64,
    }
    super::sql::exec(sql, WINDOW_DDL, vec![])?;
    let rows: Vec<Row> = super::sql::rows(sql, "SELECT start_ms, count FROM _window", vec![])?;
    Ok(rows.first().map(|r| Window {
        start_ms: r.start_ms as u64,
        count: r.count as u32,
    }))
}

fn store(sql: &SqlStorage, w: &Window) -> worker::Result<()> {
    super::sql::exec(
        sql,
        "INSERT INTO _window (id, start_ms, count) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET start_ms = excluded.start_ms, count = excluded.count",
        vec![(w.start_ms as f64).into(), (w.count as f64).into()],
    )
    .map(|_| ())
}

impl DurableObject for LimiterActor {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            window: AssertUnwindSafe(Cell::new(None)),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let outcome = panic_boundary(async {
            let hit: HitRequest = req
                .json()
                .await
                .map_err(|e| ApiError::Internal(format!("limiter request: {e}")))?;
            let sql = self.state.storage().sql();
            let current = match self.window.get() {
                Some(w) => w,
                None => load(&sql)?,
            };
            let (next, decision) = ratelimit::hit_n(
                current,
                worker::Date::now().as_millis(),
                hit.limit,
                hit.window_ms,
                hit.cost,
            );
            if current != Some(next) {
                store(&sql, &next)?;
            }
            self.window.set(Some(Some(next)));
            Ok::<_, ApiError>(Response::from_json(&decision)?)
        })
        .await;
        Ok(match outcome {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => e.into_response(""),
            Err(panic) => ApiError::Internal(panic).into_response(""),
        })
    }
}

/// The namespace binding of limiter actors.
pub const LIMITER_BINDING: &str = "LIMITER";

/// Counts one hit against `key` (one `LimiterActor` per key) and returns the decision.
pub async fn hit(
    env: &worker::Env,
    key: &str,
    limit: u32,
    window_ms: u64,
) -> Result<ratelimit::Decision, String> {
    hit_n(env, key, limit, window_ms, 1).await
}

/// Counts `cost` hits at once (a batch of operations).
pub async fn hit_n(
    env: &worker::Env,
    key: &str,
    limit: u32,
    window_ms: u64,
    cost: u32,
) -> Result<ratelimit::Decision, String> {
    let ns = env
        .durable_object(LIMITER_BINDING)
        .map_err(|e| format!("limiter: {e}"))?;
    let stub = ns
        .id_from_name(key)
        .and_then(|id| id.get_stub())
        .map_err(|e| format!("limiter {key}: {e}"))?;
    let body =
        serde_json::json!({ "limit": limit, "windowMs": window_ms, "cost": cost }).to_string();
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(wasm_bindgen::JsValue::from_str(&body)));
    let req =
        Request::new_with_init("https://limiter.internal/hit", &init).map_err(|e| e.to_string())?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| format!("limiter {key}: {e}"))?;
    if resp.status_code() != 200 {
        return Err(format!("limiter {key} answered {}", resp.status_code()));
    }
    resp.json().await.map_err(|e| format!("limiter {key}: {e}"))
}
