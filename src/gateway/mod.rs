//! The gateway: a stateless Worker in front of the actors.
//!
//! For each request it assigns a request id, authenticates, picks the actor that owns the
//! data and forwards the request there, then logs one JSON line.
//!
//! **Architecture Invariant:** the gateway never touches workspace SQL. It reads D1 (the
//! directory of users and workspaces), KV and R2; workspace data only through the actor.

pub mod admin;
pub mod auth;
pub mod client_config;
pub mod cors;
pub mod event_stream;
pub mod forward;
pub mod graphql;
pub mod health;
pub mod metadata_cache;
pub mod openapi;
pub mod realtime;
pub mod rest;

use worker::{Context, Date, Env, Headers, Method, Request, Response};

use crate::actors::limiter;
use crate::encode::{self, Protocol};
use crate::error::ApiError;
use crate::identity::principal::Principal;
use crate::metadata::auth::token_error;
use crate::observability;
use crate::panic_boundary;
use crate::ratelimit::{self, Decision};
use crate::schema::error::{ErrorKind, QueryError};

/// What the request log line says about a request besides method, path and status.
#[derive(Debug, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub workspace_id: Option<String>,
    pub user_id: Option<String>,
    /// The anonymous (per-IP) limit decision, for the X-RateLimit-* headers.
    pub rate_limit: Option<Decision>,
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
    let origin = cors::allowed_origin(&req, &env);

    // The cheapest possible answer: the floor benchmarks measure against. No auth, no
    // limits, no I/O.
    if method == Method::Get && path == "/ping" {
        let resp = with_header(Response::ok("pong")?, "x-request-id", &rc.request_id);
        return Ok(resp);
    }

    if method == Method::Options {
        let resp = with_header(cors::preflight(&req, &env), "x-request-id", &rc.request_id);
        log_request(&rc, &method, &path, resp.status_code(), started, None);
        return Ok(resp);
    }

    let event_stream = event_stream::wants_event_stream(&req);
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
    // graphql-sse clients read every answer as an event stream (auth errors included).
    let resp = if event_stream {
        event_stream::as_event_stream(resp).await
    } else {
        resp
    };
    let resp = finish(resp, &rc, origin.as_deref());
    log_request(&rc, &method, &path, resp.status_code(), started, error);
    Ok(resp)
}

/// Adds the headers every response carries: request id, CORS, rate-limit state.
fn finish(resp: Response, rc: &RequestContext, origin: Option<&str>) -> Response {
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        let _ = headers.append(&k, &v);
    }
    let _ = headers.set("x-request-id", &rc.request_id);
    cors::decorate(&headers, origin);
    if let Some(d) = &rc.rate_limit {
        set_rate_limit_headers(&headers, d);
    }
    resp.with_headers(headers)
}

pub fn set_rate_limit_headers(headers: &Headers, d: &Decision) {
    let _ = headers.set("x-ratelimit-limit", &d.limit.to_string());
    let _ = headers.set("x-ratelimit-remaining", &d.remaining.to_string());
    let _ = headers.set("x-ratelimit-reset", &d.reset_at.to_string());
    if !d.allowed {
        let _ = headers.set("retry-after", &d.retry_after.to_string());
    }
}

async fn route(req: Request, env: &Env, rc: &mut RequestContext) -> Result<Response, ApiError> {
    let path = req.path();
    let protocol = Protocol::of(&path);
    // Operator endpoints carry ADMIN_TOKEN, not a JWT: they authorize themselves.
    let auth = if path.starts_with("/admin/") {
        Ok(Principal::Anonymous)
    } else {
        auth::authenticate(&req, env).await
    };

    // Anonymous traffic, traffic with a token that does not verify, and workspace-agnostic
    // tokens (anyone can get one by signing up) are limited per IP.
    if !matches!(auth, Ok(ref p) if p.workspace_id().is_some()) {
        let (decision, refusal) = count_per_ip(&req, env, &rc.request_id, 1, protocol).await;
        if decision.is_some() {
            rc.rate_limit = decision;
        }
        if let Some(refusal) = refusal {
            return Ok(refusal);
        }
    }

    let principal = match auth {
        Ok(p) => p,
        Err(e) => {
            let qe = token_error(&e);
            return Ok(match protocol {
                Protocol::Plain => {
                    ApiError::Unauthorized(qe.public_message()).into_response(&rc.request_id)
                }
                Protocol::Rest => encode::rest_auth_error(&qe),
                other => encode::error_for(other, &qe, &rc.request_id),
            });
        }
    };
    rc.user_id = principal.user_id().map(str::to_string);
    rc.workspace_id = principal.workspace_id().map(str::to_string);

    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["health"]) => {
            let health = health::check(env).await;
            Ok(Response::from_json(&health.body)?.with_status(health.http_status()))
        }
        (Method::Get, [".well-known", "jwks.json"]) => {
            let jwks = crate::identity::keyring::jwks(env)
                .await
                .map_err(ApiError::Internal)?;
            Ok(encode::json(200, &jwks))
        }
        (Method::Get, ["client-config"]) => Ok(encode::json(
            200,
            &client_config::body(&client_config::Settings::from_env(env)),
        )),
        (Method::Post, ["metadata"]) => graphql::metadata(req, env, rc, principal).await,
        (Method::Post, ["graphql"]) => graphql::workspace(req, env, rc, principal).await,
        (_, ["rest", ..]) => rest::forward(req, env, rc, principal).await,
        (Method::Get, ["open-api", which @ ("core" | "metadata")]) => {
            openapi::document(&req, env, rc, &principal, which).await
        }
        (Method::Get, ["ws"]) => realtime::connect(&req, env, rc, principal).await,
        (Method::Post, ["ws", "ticket"]) => realtime::ticket(env, rc, principal).await,
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

/// Counts `cost` requests against the caller's per-IP window; `Some(refusal)` when over.
pub(crate) async fn count_anonymous(
    req: &Request,
    env: &Env,
    rc: &RequestContext,
    cost: u32,
) -> Option<Response> {
    let protocol = Protocol::of(&req.path());
    count_per_ip(req, env, &rc.request_id, cost, protocol)
        .await
        .1
}

/// The per-IP decision (None when the limiter failed) and the refusal to send, if any.
async fn count_per_ip(
    req: &Request,
    env: &Env,
    request_id: &str,
    cost: u32,
    protocol: Protocol,
) -> (Option<Decision>, Option<Response>) {
    let ip = auth::client_ip(req);
    match limiter::hit_n(
        env,
        &format!("ip:{ip}"),
        ratelimit::ANONYMOUS_PER_MINUTE,
        ratelimit::MINUTE_MS,
        cost,
    )
    .await
    {
        Ok(decision) => {
            if decision.allowed {
                return (Some(decision), None);
            }
            let e = QueryError::new(
                ErrorKind::TooManyRequests,
                format!("Too many requests, retry in {} s", decision.retry_after),
            )
            .with_sub_code("TOO_MANY_REQUESTS");
            let resp = match protocol {
                Protocol::Plain => ApiError::RateLimited {
                    retry_after_secs: decision.retry_after,
                }
                .into_response(request_id),
                other => encode::error_for(other, &e, request_id),
            };
            (Some(decision), Some(resp))
        }
        // The limiter is a guard, not a dependency: if it fails, serve and log.
        Err(e) => {
            tracing::warn!(requestId = %request_id, error = %e, "anonymous rate limiter unavailable");
            (None, None)
        }
    }
}

/// Whether a principal may use workspace data.
pub fn has_workspace(p: &Principal) -> bool {
    p.workspace_id().is_some()
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
