//! `LimiterActor`: the single owner of one rate-limit key (`ip:<address>` for anonymous
//! traffic, `login:<email>` for sign-in attempts), so counts are exact.

use serde::Deserialize;
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use super::migrations::{self, Migration};
use super::sql::{self, DoMigrationStore};
use crate::error::ApiError;
use crate::panic_boundary;
use crate::ratelimit::{self, Window};

pub const LIMITER_MIGRATIONS: &[Migration] = &[Migration {
    id: 1,
    name: "init",
    sql: include_str!("../../migrations/limiter/0001_init.sql"),
}];

#[durable_object]
pub struct LimiterActor {
    state: State,
    migrated: AssertUnwindSafe<Cell<bool>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HitRequest {
    pub limit: u32,
    pub window_ms: u64,
}

impl DurableObject for LimiterActor {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            migrated: AssertUnwindSafe(Cell::new(false)),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let outcome = panic_boundary(async {
            let hit: HitRequest = req
                .json()
                .await
                .map_err(|e| ApiError::Internal(format!("limiter request: {e}")))?;
            self.hit(hit)
        })
        .await;
        Ok(match outcome {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => e.into_response(""),
            Err(panic) => ApiError::Internal(panic).into_response(""),
        })
    }
}

impl LimiterActor {
    fn hit(&self, hit: HitRequest) -> Result<Response, ApiError> {
        let storage = self.state.storage();
        if !self.migrated.get() {
            let now = chrono::Utc::now().to_rfc3339();
            migrations::migrate(
                &DoMigrationStore { storage: &storage },
                LIMITER_MIGRATIONS,
                &now,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            self.migrated.set(true);
        }
        let sql = storage.sql();
        let window = load_window(&sql, "default")?;
        let (next, decision) = ratelimit::hit(
            window,
            worker::Date::now().as_millis(),
            hit.limit,
            hit.window_ms,
        );
        store_window(&sql, "default", next)?;
        Ok(Response::from_json(&decision)?)
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
    let ns = env
        .durable_object(LIMITER_BINDING)
        .map_err(|e| format!("limiter: {e}"))?;
    let stub = ns
        .id_from_name(key)
        .and_then(|id| id.get_stub())
        .map_err(|e| format!("limiter {key}: {e}"))?;
    let body = serde_json::json!({ "limit": limit, "windowMs": window_ms }).to_string();
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

/// Reads a stored window (shared with the workspace actor's per-workspace limit).
pub fn load_window(sql: &worker::SqlStorage, key: &str) -> Result<Option<Window>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        start_ms: f64,
        count: f64,
    }
    let rows: Vec<Row> = sql::rows(
        sql,
        "SELECT start_ms, count FROM _rate_limit WHERE key = ?",
        vec![key.into()],
    )?;
    Ok(rows.first().map(|r| Window {
        start_ms: r.start_ms as u64,
        count: r.count as u32,
    }))
}

pub fn store_window(sql: &worker::SqlStorage, key: &str, w: Window) -> Result<(), ApiError> {
    sql::exec(
        sql,
        "INSERT INTO _rate_limit (key, start_ms, count) VALUES (?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET start_ms = excluded.start_ms, count = excluded.count",
        vec![
            key.into(),
            (w.start_ms as i64).into(),
            i64::from(w.count).into(),
        ],
    )?;
    Ok(())
}
