//! `LimiterActor`: the single owner of one rate-limit key (`ip:<address>` for anonymous
//! traffic, `login:<email>` for sign-in attempts), so counts are exact.
//!
//! The window lives in memory on purpose: it lasts a minute (or fifteen), and persisting it
//! would hold every answer behind a durable write. An actor evicted while idle loses a
//! window that had nearly always closed already.

use serde::Deserialize;
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::error::ApiError;
use crate::panic_boundary;
use crate::ratelimit::{self, Window};

#[durable_object]
pub struct LimiterActor {
    window: AssertUnwindSafe<Cell<Option<Window>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HitRequest {
    pub limit: u32,
    pub window_ms: u64,
}

impl DurableObject for LimiterActor {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            window: AssertUnwindSafe(Cell::new(None)),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let outcome = panic_boundary(async {
            let hit: HitRequest = req
                .json()
                .await
                .map_err(|e| ApiError::Internal(format!("limiter request: {e}")))?;
            let (next, decision) = ratelimit::hit(
                self.window.get(),
                worker::Date::now().as_millis(),
                hit.limit,
                hit.window_ms,
            );
            self.window.set(Some(next));
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
