//! The gateway: a stateless Worker in front of the actors.
//!
//! For each request it assigns a request id, authenticates, picks the actor that owns the
//! data and forwards the request there, then logs one JSON line.
//!
//! **Architecture Invariant:** the gateway never touches workspace SQL. It reads D1 (the
//! directory of users and workspaces), KV and R2; workspace data only through the actor.

pub mod admin;
pub mod forward;
pub mod health;

use worker::{Context, Date, Env, Headers, Method, Request, Response};

use crate::error::ApiError;
use crate::observability;
use crate::panic_boundary;

/// What the request log line says about a request besides method, path and status.
#[derive(Debug, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub workspace_id: Option<String>,
    pub user_id: Option<String>,
}

pub async fn serve(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let log_level = env.var("LOG_LEVEL").ok().map(|v| v.to_string());
    observability::init(log_level.as_deref());
    let started = Date::now().as_millis();
    let mut rc = RequestContext {
        request_id: observability::request_id(req.headers().get("x-request-id").ok().flatten()),
        ..Default::default()
    };
    let method = req.method();
    let path = req.path();

    let outcome = panic_boundary(route(req, &env, &mut rc)).await;
    let (resp, error) = match outcome {
        Ok(Ok(resp)) => (resp, None),
        Ok(Err(e)) => {
            let logged = e.log_message();
            (e.into_response(&rc.request_id), Some(logged))
        }
        Err(panic) => (
            ApiError::Internal(format!("panic: {panic}")).into_response(&rc.request_id),
            Some(format!("panic: {panic}")),
        ),
    };
    let resp = with_header(resp, "x-request-id", &rc.request_id);
    log_request(&rc, &method, &path, resp.status_code(), started, error);
    Ok(resp)
}

async fn route(req: Request, env: &Env, rc: &mut RequestContext) -> Result<Response, ApiError> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["health"]) => {
            let health = health::check(env).await;
            Ok(Response::from_json(&health.body)?.with_status(health.http_status()))
        }
        (Method::Get, ["admin", "actors", "workspaces", workspace_id]) => {
            rc.workspace_id = Some(workspace_id.to_string());
            admin::inspect_workspace(&req, env, workspace_id, &rc.request_id).await
        }
        (Method::Post, ["admin", "debug", "panic"]) => {
            admin::debug_panic(&req, env, &rc.request_id).await
        }
        _ => Err(ApiError::NotFound(format!(
            "No route for {} {}",
            req.method(),
            path
        ))),
    }
}

fn log_request(
    rc: &RequestContext,
    method: &Method,
    path: &str,
    status: u16,
    started: u64,
    error: Option<String>,
) {
    let duration = Date::now().as_millis().saturating_sub(started);
    let method = method.to_string();
    // `None` fields are left out of the line.
    let workspace_id = rc.workspace_id.as_deref();
    let user_id = rc.user_id.as_deref();
    if status >= 500 {
        // An actor's own failure arrives as a 5xx response with no error here; the actor
        // logged the detail under the same request id.
        let error = error.unwrap_or_else(|| "upstream actor error".to_string());
        tracing::error!(
            requestId = %rc.request_id, method = %method, path = %path, status, duration,
            workspaceId = workspace_id, userId = user_id, error = %error, "request failed"
        );
    } else if let Some(error) = error {
        tracing::warn!(
            requestId = %rc.request_id, method = %method, path = %path, status, duration,
            workspaceId = workspace_id, userId = user_id, error = %error, "request refused"
        );
    } else {
        tracing::info!(
            requestId = %rc.request_id, method = %method, path = %path, status, duration,
            workspaceId = workspace_id, userId = user_id, "request"
        );
    }
}

/// Returns `resp` with `name: value` set. Responses that came from another fetch have
/// immutable headers, so the headers are copied into a fresh set.
pub fn with_header(resp: Response, name: &str, value: &str) -> Response {
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        let _ = headers.append(&k, &v);
    }
    let _ = headers.set(name, value);
    resp.with_headers(headers)
}
